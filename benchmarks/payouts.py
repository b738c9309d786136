"""A month-end payout run of the guarantee fund: 20,000 due contracts in one entity.

Set-up (not measured): 5,000 members (one in four in the artist sector) with their activity
budget accounts, 2,000 clients (ten contracts each: under the default exposure limit, so that
no advance waits for an advisor), 20,000 approved contracts whose work ended in October, one in
seven with an expense, their invoices inserted as issued by SQL in one transaction with their
lines and VAT rows (as benchmarks/payroll.py does: the database's issuing triggers want the
lines in the invoice's transaction), their bookings (the issue and the fund's contribution:
40,000 ledger transactions, 120,000 entries, so that the run meets the books at their usual
size), and each contract's Payout, scheduled and due by the run's day (what
``invoices_issued`` creates at issue).

Measured, in the ``be`` entity:

* payouts: ``payouts_run`` through the service, as the hourly job calls it: the payslips
  (``payslips_for_invoices``, paid out), one ledger transaction per contract
  (``payout:<contract id>``: the salary out of the budget and the advance), the payouts
  marked paid, the day's batch and its pain.001 rendered;
* baseline: the same ledger rows (the payouts' transactions and their entries, every column,
  the same values) written with one COPY each into tables made by ``CREATE TABLE ... (LIKE
  ledger_transaction INCLUDING ALL)`` (same columns, defaults, checks and indexes; no foreign
  keys or triggers), then the commit; the median of three.

``copy_ratio`` = payouts seconds / baseline seconds.
Last line: RESULT payouts contracts=N seconds=N copy_ratio=N
"""

from __future__ import annotations

import cProfile
import datetime
import os
import pstats
import statistics
import time

import _harness

_harness.setup("be")

from django.db import connection, transaction  # noqa: E402

from guarantee_fund.models import Payout, PayoutBatch  # noqa: E402
from guarantee_fund.services import payouts_run  # noqa: E402
from smart_coop.ledger.models import Entry, Transaction  # noqa: E402
from smart_coop.ledger.services import account_get  # noqa: E402
from smart_coop.tenancy.models import Entity  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "20000"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", str(max(CONTRACTS // 4, 1))))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", str(max(CONTRACTS // 10, 1))))
PERIOD = datetime.date(2026, 10, 1)  # the work ended in October
AS_OF = datetime.date(2026, 11, 7)  # every payout is due by then (the last ends Oct 28 + 7)
DELAY = 7
COPY_RUNS = 3

# Every row in one transaction: an issued invoice's lines must come with it (invoicing 0005).
SETUP_SQL = [
    """
    INSERT INTO accounts_user (password, is_superuser, email, first_name, last_name, language,
                               is_staff, is_active, date_joined)
    SELECT '!', false, 'member' || i || '@bench.example', 'First' || i, 'Member' || i, 'fr',
           false, true, now()
    FROM generate_series(1, %(members)s) AS i
    """,
    """
    INSERT INTO members_member (user_id, state, national_id, date_of_birth, street, postal_code,
                                city, country, iban, bic, sector, languages, created_at,
                                updated_at)
    SELECT u.id, 'active', 'BENCH' || u.id, DATE '1985-07-30', 'Rue ' || u.id, '1000',
           'Bruxelles', 'BE', 'BE68539007547034', '',
           CASE WHEN u.id %% 4 = 0 THEN 'artist' ELSE 'consultant' END, ARRAY['fr'], now(), now()
    FROM accounts_user u WHERE u.email LIKE '%%@bench.example'
    """,
    # The activity budget of each member exists: its first invoice opened it.
    """
    INSERT INTO ledger_account (code, name, kind, currency, member_id, created_at)
    SELECT 'budget:' || m.id, 'Activity budget of ' || m.id, 'liability', 'EUR', m.id, now()
    FROM members_member m
    """,
    """
    INSERT INTO members_client (name, kind, country, vat_number, company_number, peppol_id,
                                street, postal_code, city, email, language, payment_terms_days,
                                status, status_reason, created_at)
    SELECT 'Bench client ' || i, 'public_body', 'BE', '', '', '', 'Rue 2', '1000', 'Bruxelles',
           'billing' || i || '@bench.example', 'fr', 30, 'ok', '', now()
    FROM generate_series(1, %(clients)s) AS i
    """,
    # Contract i: the (i mod members)-th member, the (i mod clients)-th client; its one work day
    # is in October.
    """
    INSERT INTO members_contract (member_id, client_id, title, description, place, first_day,
                                  last_day, price, currency, vat_treatment, vat_rate, state,
                                  source, partner_shift_id, late_reason, "overlaps", review_note,
                                  created_at, updated_at)
    SELECT m.ids[1 + i %% %(members)s], c.ids[1 + i %% %(clients)s],
           'Bench work ' || i, '', 'Bruxelles', %(period)s::date + i %% 28,
           %(period)s::date + i %% 28, 250 + (i * 7919) %% 475000 / 100.0, 'EUR', 'domestic',
           21, 'approved', 'portal', '', '', false, '', now(), now()
    FROM generate_series(1, %(contracts)s) AS i,
         (SELECT array_agg(id ORDER BY id) AS ids FROM members_member) AS m,
         (SELECT array_agg(id ORDER BY id) AS ids FROM members_client) AS c
    """,
    """
    INSERT INTO members_workday (contract_id, day, hours)
    SELECT id, last_day, 8 FROM members_contract
    """,
    """
    INSERT INTO members_expense (contract_id, kind, amount, description, receipt)
    SELECT id, 'travel', 20 + id %% 60, 'Train', '' FROM members_contract WHERE id %% 7 = 0
    """,
    """
    INSERT INTO invoicing_invoice (kind, number, state, contract_id, client_id, member_id,
                                   issue_date, due_date, currency, language, vat_treatment,
                                   seller, buyer, performer, payment_reference, net_total,
                                   vat_total, gross_total, fee_total, amount_paid,
                                   amount_credited, note, dunning_level, pdf, ubl, created_at)
    SELECT 'invoice', 'BENCH-' || c.id, 'issued', c.id, c.client_id, c.member_id,
           c.last_day + 1, c.last_day + 31, 'EUR', 'fr', 'domestic', '{}', '{}', '', '',
           c.price, round(c.price * 0.21, 2), c.price + round(c.price * 0.21, 2),
           round(c.price * 0.065, 2), 0, 0, '', 0, '', '', now()
    FROM members_contract c
    """,
    """
    INSERT INTO invoicing_invoiceline (invoice_id, position, kind, description, quantity,
                                       unit_price, net_amount, vat_category, vat_rate)
    SELECT id, 1, 'work', 'Bench work', 1, net_total, net_total, 'S', 21
    FROM invoicing_invoice
    """,
    """
    INSERT INTO invoicing_invoicetax (invoice_id, category, rate, taxable_amount, tax_amount,
                                      exemption_reason)
    SELECT id, 'S', 21, net_total, vat_total, '' FROM invoicing_invoice
    """,
    # The books as issuing wrote them (invoicing.services._book and the fund's contribution),
    # so that the payouts run against a ledger of the usual size: per invoice, the issue (the
    # receivable, VAT, the fee and the member's budget, referenced "invoice:<id>") and the
    # contribution of 2 % to the fund's reserve.
    """
    INSERT INTO ledger_transaction (idempotency_key, kind, description, occurred_on)
    SELECT 'invoice:' || id || ':issue', 'invoice', 'Invoice ' || number, issue_date
    FROM invoicing_invoice
    UNION ALL
    SELECT 'fund_contribution:' || id, 'fund_contribution', number || ' contribution', issue_date
    FROM invoicing_invoice
    """,
    """
    INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, reference)
    SELECT t.id, a.id, x.amount, 'EUR', 'invoice:' || i.id
    FROM invoicing_invoice i
    JOIN ledger_transaction t ON t.idempotency_key = 'invoice:' || i.id || ':issue'
    CROSS JOIN LATERAL (VALUES ('receivables', i.gross_total), ('vat_payable', -i.vat_total),
                               ('fee_income', -i.fee_total),
                               ('budget:' || i.member_id, i.fee_total - i.net_total))
         AS x(code, amount)
    JOIN ledger_account a ON a.code = x.code
    UNION ALL
    SELECT t.id, a.id, x.amount, 'EUR', 'fund_contribution:invoice:' || i.id
    FROM invoicing_invoice i
    JOIN ledger_transaction t ON t.idempotency_key = 'fund_contribution:' || i.id
    CROSS JOIN LATERAL (VALUES ('fee_income', round(i.net_total * 0.02, 2)),
                               ('fund_reserve', -round(i.net_total * 0.02, 2)))
         AS x(code, amount)
    JOIN ledger_account a ON a.code = x.code
    """,
    # What the fund scheduled at issue: one payout per contract, guaranteed, due 7 days after.
    """
    INSERT INTO guarantee_fund_payout (contract_id, invoice_id, member_id, client_id, state,
                                       due_on, guaranteed, not_guaranteed_reason, advance,
                                       currency, created_at, updated_at)
    SELECT i.contract_id, i.id, i.member_id, i.client_id, 'scheduled',
           c.last_day + %(delay)s, true, '', 0, 'EUR', now(), now()
    FROM invoicing_invoice i JOIN members_contract c ON c.id = i.contract_id
    """,
]

TRANSACTION_COLUMNS = [
    "id",
    "idempotency_key",
    "kind",
    "description",
    "occurred_on",
    "reverses_id",
    "created_by_id",
    "created_at",
]
ENTRY_COLUMNS = ["id", "transaction_id", "account_id", "amount", "currency", "reference"]


def prepare() -> None:
    params = {
        "members": MEMBERS,
        "clients": CLIENTS,
        "contracts": CONTRACTS,
        "period": PERIOD,
        "delay": DELAY,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for code in ("receivables", "vat_payable", "fee_income", "fund_reserve"):
            account_get(code, currency="EUR")
        for statement in SETUP_SQL:
            cursor.execute(statement, params)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def copy_baseline() -> tuple[float, int, int]:
    """Seconds to COPY the payouts' transactions and entries (as read back) into look-alike
    tables, with the commit: the median of ``COPY_RUNS`` (the server is shared: one COPY's
    commit may wait on someone else's)."""
    # Table and column names come from the models, never from input.
    transactions, entries = Transaction._meta.db_table, Entry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(TRANSACTION_COLUMNS)} FROM {transactions} "  # noqa: S608
            "WHERE kind = 'fund_payout'"
        )
        transaction_rows = cursor.fetchall()
        cursor.execute(
            f"SELECT {', '.join('e.' + c for c in ENTRY_COLUMNS)} FROM {entries} e "  # noqa: S608
            f"JOIN {transactions} t ON t.id = e.transaction_id WHERE t.kind = 'fund_payout'"
        )
        entry_rows = cursor.fetchall()
        cursor.execute(f"CREATE TABLE bench_transaction (LIKE {transactions} INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE bench_entry (LIKE {entries} INCLUDING ALL)")
    times = []
    for _attempt in range(COPY_RUNS):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_transaction, bench_entry")
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, rows in (
                ("bench_transaction", TRANSACTION_COLUMNS, transaction_rows),
                ("bench_entry", ENTRY_COLUMNS, entry_rows),
            ):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(transaction_rows), len(entry_rows)


def main() -> None:
    connection.set_tenant(Entity.objects.get(schema_name="be"))
    start = time.perf_counter()
    prepare()
    setup = time.perf_counter() - start
    print(
        f"set-up: {MEMBERS} members, {CLIENTS} clients, {CONTRACTS} issued invoices, their "
        f"{Entry.objects.count()} ledger entries and scheduled payouts in {setup:.1f} s"
    )

    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    result = payouts_run(as_of=AS_OF)
    seconds = time.perf_counter() - start
    if profile is not None:  # where the time goes: BENCH_PROFILE=1
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    paid = Payout.objects.filter(state=Payout.State.PAID).count()
    assert len(result.paid) == paid == CONTRACTS, (
        f"{paid} paid of {CONTRACTS}; waiting {len(result.awaiting_approval)}, cancelled "
        f"{len(result.cancelled)}, failed {len(result.failed)}"
    )
    batch = PayoutBatch.objects.get(execution_date=AS_OF)
    assert batch.transfers == batch.file_transfers == CONTRACTS
    print(
        f"payouts: {paid} contracts paid in {seconds:.2f} s ({paid / seconds:.0f}/s); "
        f"one pain.001 of {batch.transfers} transfers, {batch.total} EUR"
    )

    copy, transaction_rows, entry_rows = copy_baseline()
    assert transaction_rows == CONTRACTS
    print(
        f"baseline: COPY of the same {transaction_rows} transactions and {entry_rows} entries "
        f"into tables LIKE theirs INCLUDING ALL, with the commit (median of {COPY_RUNS}): "
        f"{copy:.2f} s"
    )
    print(f"payouts / COPY: {seconds / copy:.2f}")
    _harness.result(
        "payouts",
        contracts=CONTRACTS,
        seconds=seconds,
        copy_ratio=seconds / copy,
    )


if __name__ == "__main__":
    main()
