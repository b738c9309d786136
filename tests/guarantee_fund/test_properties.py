"""Property-based sequences of invoices, payments (partial or whole), write-offs and payout runs
(duplicated, retried, early or late), with repayments sometimes lost after the payment's commit
(the receiver not run): after each sequence, once the job has run,

- the books balance;
- each contract is paid exactly once (one ``payout:<contract>`` transaction and one payslip
  per paid payout, none for the others);
- the fund's figures are what a plain model of the rules says: contributions = 2 % of each
  invoice, losses = the open advances of the written-off invoices, reserve = contributions -
  losses, open advances = what the clients still owe (excl. VAT) of the paid-out invoices.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guarantee_fund.models import Payout
from guarantee_fund.selectors import fund_position
from guarantee_fund.services import excl_vat_share, payouts_run
from invoicing import services as invoicing
from invoicing.dunning import dunning_run, invoice_write_off
from invoicing.models import Invoice
from payroll.models import Payslip
from smart_coop.ledger.models import Transaction
from smart_coop.money import quantize
from smart_coop.tenancy.models import Entity
from tests.guarantee_fund.conftest import accountant, books_balanced

PRICES = ("1000.00", "1234.56", "2000.00")
LATE = datetime.timedelta(days=60)

operation = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(PRICES)),
    st.tuples(st.just("pay"), st.integers(0, 3), st.sampled_from(("0.25", "0.5", "1"))),
    st.tuples(st.just("run"), st.sampled_from((-1, 0, 0, 3))),  # early, on time (twice), late
    st.tuples(st.just("write_off"), st.integers(0, 3)),
    st.tuples(st.just("lose_receivers"), st.booleans()),
)


class RollbackError(Exception):
    pass


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.tuples(
        st.tuples(st.just("issue"), st.sampled_from(PRICES)),
        st.lists(operation, min_size=1, max_size=10),
    ).map(lambda first_and_rest: [first_and_rest[0], *first_and_rest[1]])
)
def test_any_sequence_balances_pays_each_contract_once_and_keeps_the_reserve(
    in_be: Entity,
    fund_invoice: Callable[..., Invoice],
    django_capture_on_commit_callbacks: Any,
    operations: list[tuple[Any, ...]],
) -> None:
    try:
        with transaction.atomic():
            _play(operations, fund_invoice, django_capture_on_commit_callbacks)
            raise RollbackError
    except RollbackError:
        pass


def open_advance(invoice: Invoice, payout: Payout) -> Decimal:
    if payout.state != Payout.State.PAID or invoice.state == Invoice.State.WRITTEN_OFF:
        return Decimal(0)
    return min(payout.advance, excl_vat_share(invoice, invoice.balance_due))


def _write_off(
    invoice: Invoice, written_off: dict[int, Decimal], writer: Any, capture: Any, lose: bool
) -> None:
    """Dunning up to collection, then the write-off; the model notes the advance lost."""
    invoice.refresh_from_db()
    if invoice.state not in Invoice.OPEN_STATES:
        return
    assert invoice.due_date is not None
    for offset in (7, 21, 35, 50):
        dunning_run(as_of=invoice.due_date + datetime.timedelta(days=offset))
    invoice.refresh_from_db()
    if invoice.state != Invoice.State.IN_COLLECTION:
        return
    written_off[invoice.pk] = open_advance(invoice, Payout.objects.get(invoice=invoice))
    with capture(execute=not lose):
        invoice_write_off(invoice=invoice, actor=writer, reason="bankrupt")


def _play(
    operations: list[tuple[Any, ...]],
    fund_invoice: Callable[..., Invoice],
    capture: Any,
) -> None:
    invoices: list[Invoice] = []
    written_off: dict[int, Decimal] = {}  # invoice id -> the advance lost
    lose = False
    writer = accountant()

    def due_on() -> datetime.date:
        return max(p.due_on for p in Payout.objects.all())

    for op in operations:
        kind = op[0]
        if kind == "issue":
            invoices.append(fund_invoice(price=Decimal(op[1])))
        elif kind == "lose_receivers":
            lose = op[1]
        elif not invoices:
            continue
        elif kind == "run":
            payouts_run(as_of=due_on() + datetime.timedelta(days=op[1]))
        elif kind == "pay":
            invoice = invoices[op[1] % len(invoices)]
            invoice.refresh_from_db()
            if invoice.state not in Invoice.OPEN_STATES:
                continue
            amount = max(quantize(invoice.balance_due * Decimal(op[2]), "EUR"), Decimal("0.01"))
            with capture(execute=not lose):
                invoicing.payment_record(
                    invoice=invoice, amount=amount, received_on=due_on(), actor=None
                )
        elif kind == "write_off":
            _write_off(invoices[op[1] % len(invoices)], written_off, writer, capture, lose)
        assert books_balanced()

    if not invoices:
        return
    # The job runs (again) late: whatever was lost is caught up; nothing is paid twice.
    payouts_run(as_of=due_on() + LATE)
    payouts_run(as_of=due_on() + LATE)

    assert books_balanced()
    payouts = {p.invoice_id: p for p in Payout.objects.all()}
    for invoice in invoices:
        invoice.refresh_from_db()
        payout = payouts[invoice.pk]
        keys = Transaction.objects.filter(idempotency_key=f"payout:{payout.contract_id}").count()
        slips = Payslip.objects.filter(invoice=invoice).count()
        assert (keys, slips) == ((1, 1) if payout.state == Payout.State.PAID else (0, 0))
        # Guaranteed and due long ago: paid unless credited or written off before.
        assert payout.state == Payout.State.PAID or invoice.pk in written_off
    contributions = sum(
        (quantize(invoice.net_total * Decimal("0.02"), "EUR") for invoice in invoices), Decimal(0)
    )
    losses = sum(written_off.values(), Decimal(0))
    opened = sum((open_advance(invoice, payouts[invoice.pk]) for invoice in invoices), Decimal(0))
    position = fund_position()
    assert position.contributions == contributions
    assert position.losses == losses
    assert position.reserve == contributions - losses
    assert position.open_advances == opened
