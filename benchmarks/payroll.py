"""A month-end salary run: 100,000 fixed-term contracts of 20,000 members in one entity.

Set-up (not measured): 20,000 members (one in four in the artist sector, paid in the Belgian
artist category), 100,000 approved contracts whose work ended in the run's month, one in seven
with an expense, and their invoices, inserted as issued by SQL in one transaction with their
lines and VAT rows (the services would take minutes; the payroll only reads issued invoices).
The members' activity budget accounts are not created: the approval creates them.

Measured, in the ``be`` entity:

* calculate: ``salary_run_calculate`` through the service (finding the invoices due, the
  conversion of each, the COPY of the payslips and their lines, the commit);
* approve: ``salary_run_approve`` (one ledger transaction, a leg per member's budget account);
* baseline: the same payslip rows (every column, the same values) and their lines written with
  one COPY each into tables made by ``CREATE TABLE ... (LIKE payroll_payslip INCLUDING ALL)``
  (same columns, defaults, checks and indexes; no foreign keys or triggers), then the commit.

``copy_ratio`` = calculate seconds / baseline seconds; ``seconds`` is the calculation alone.
Last line: RESULT payroll contracts=N members=N seconds=N copy_ratio=N
"""

from __future__ import annotations

import datetime
import os
import time

import _harness

_harness.setup("be")

from django.db import connection, transaction  # noqa: E402

from payroll.models import Payslip, PayslipLine  # noqa: E402
from payroll.services import (  # noqa: E402
    _LINE_COLUMNS,
    _PAYSLIP_COLUMNS,
    salary_run_approve,
    salary_run_calculate,
    salary_run_open,
)
from smart_coop.tenancy.models import Entity  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "100000"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "20000"))
PERIOD = datetime.date(2026, 10, 1)

# Every row in one transaction: an issued invoice's lines must come with it (migration 0005).
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
    """
    INSERT INTO members_client (name, kind, country, vat_number, company_number, peppol_id,
                                street, postal_code, city, email, language, payment_terms_days,
                                status, status_reason, created_at)
    VALUES ('Bench client', 'public_body', 'BE', '', '', '', 'Rue 2', '1000', 'Bruxelles',
            'billing@bench.example', 'fr', 30, 'ok', '', now())
    """,
    # Contract i belongs to the (i mod members)-th member; its one work day is in the period.
    """
    INSERT INTO members_contract (member_id, client_id, title, description, place, first_day,
                                  last_day, price, currency, vat_treatment, vat_rate, state,
                                  source, partner_shift_id, late_reason, "overlaps", review_note,
                                  created_at, updated_at)
    SELECT m.ids[1 + i %% %(members)s], (SELECT max(id) FROM members_client),
           'Bench work ' || i, '', 'Bruxelles', %(period)s::date + i %% 28,
           %(period)s::date + i %% 28, 250 + (i * 7919) %% 475000 / 100.0, 'EUR', 'domestic',
           21, 'approved', 'portal', '', '', false, '', now(), now()
    FROM generate_series(1, %(contracts)s) AS i,
         (SELECT array_agg(id ORDER BY id) AS ids FROM members_member) AS m
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
    SELECT 'invoice', 'BENCH-' || c.id, 'issued', c.id, c.client_id, c.member_id, c.last_day,
           c.last_day + 30, 'EUR', 'fr', 'domestic', '{}', '{}', '', '', c.price,
           round(c.price * 0.21, 2), c.price + round(c.price * 0.21, 2),
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
]


def prepare() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in SETUP_SQL:
            cursor.execute(
                statement, {"members": MEMBERS, "contracts": CONTRACTS, "period": PERIOD}
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def copy_baseline(run_id: int) -> tuple[float, int, int]:
    """Seconds to COPY the run's payslips and lines (as read back) into look-alike tables."""
    # Table and column names come from the models, never from input.
    slips, lines = Payslip._meta.db_table, PayslipLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_PAYSLIP_COLUMNS)} FROM {slips} WHERE run_id = %s",  # noqa: S608
            [run_id],
        )
        slip_rows = cursor.fetchall()
        cursor.execute(
            f"SELECT {', '.join('l.' + c for c in _LINE_COLUMNS)} FROM {lines} l "  # noqa: S608
            f"JOIN {slips} p ON p.id = l.payslip_id WHERE p.run_id = %s",
            [run_id],
        )
        line_rows = cursor.fetchall()
        cursor.execute(f"CREATE TABLE bench_payslip (LIKE {slips} INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE bench_payslipline (LIKE {lines} INCLUDING ALL)")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, rows in (
            ("bench_payslip", _PAYSLIP_COLUMNS, slip_rows),
            ("bench_payslipline", _LINE_COLUMNS, line_rows),
        ):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return time.perf_counter() - start, len(slip_rows), len(line_rows)


def main() -> None:
    connection.set_tenant(Entity.objects.get(schema_name="be"))
    start = time.perf_counter()
    prepare()
    setup = time.perf_counter() - start
    print(f"set-up: {MEMBERS} members, {CONTRACTS} issued invoices in {setup:.1f} s")

    run = salary_run_open(period=PERIOD, actor=None)
    start = time.perf_counter()
    run = salary_run_calculate(run=run, actor=None)
    calculate = time.perf_counter() - start
    payslips = run.payslips.count()
    assert payslips == CONTRACTS, f"{payslips} payslips for {CONTRACTS} contracts"
    print(f"calculate: {payslips} payslips in {calculate:.2f} s ({payslips / calculate:.0f}/s)")

    copy, slip_rows, line_rows = copy_baseline(run.pk)
    print(
        f"baseline: COPY of the same {slip_rows} payslips and {line_rows} lines into tables "
        f"LIKE theirs INCLUDING ALL, with the commit: {copy:.2f} s"
    )

    start = time.perf_counter()
    salary_run_approve(run=run, actor=None)
    approve = time.perf_counter() - start
    print(f"approve: one booking of {MEMBERS} budget accounts (created) in {approve:.2f} s")
    print(f"calculate / COPY: {calculate / copy:.2f}")
    _harness.result(
        "payroll",
        contracts=CONTRACTS,
        members=MEMBERS,
        seconds=calculate,
        copy_ratio=calculate / copy,
    )


if __name__ == "__main__":
    main()
