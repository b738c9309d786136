"""Money invariants of invoicing under random sequences of operations (hypothesis).

Each example runs in ``be`` inside its own savepoint, rolled back at the end, so examples do not
see each other: it issues invoices for contracts with random prices (0.01 to 50,000.00) and
expenses, at random VAT treatments and rates, then pays, overpays and credits them at random,
and records receipts it cannot match. After every step:

* the books balance per currency;
* what the ledger says each invoice is owed equals its balance due, and the receivables moved by
  exactly what the open invoices are owed; bank, client credit and unallocated receipts moved by
  what was received;
* no invoice is paid and credited for more than its gross total; an invoice is open exactly
  while something is due, and one whose whole net is credited has nothing left due;
* invoice and credit note numbers increase by one, without gap, within the example.

Approval rules (minimum pay per hour) would refuse most small prices, and they are not what is
under test here: contracts are saved through the service, then marked approved directly.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from invoicing import services
from invoicing.models import Invoice, NumberSeries, Payment
from members.models import Client, Contract, Member
from members.services import ExpenseInput
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Entry
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.money import percent_of, quantize
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, ContractFactory, MemberFactory, UserFactory

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FEE_PERCENT = Decimal("6.5")
OPEN = Invoice.OPEN_STATES


# --- operations --------------------------------------------------------------------------------

# (price, expenses as ten-thousandths of the price, VAT treatment, rate for domestic VAT)
ContractSpec = tuple[Decimal, tuple[int, ...], str, Decimal]

prices = st.decimals(min_value=CENT, max_value=Decimal("50000.00"), places=2)
share = st.integers(min_value=1, max_value=10_000)  # ten-thousandths
contract_specs = st.tuples(
    prices,
    st.lists(st.integers(min_value=1, max_value=3_000), max_size=3).map(tuple),
    st.sampled_from(["domestic", "domestic", "reverse_charge", "export"]),
    st.sampled_from([Decimal("21"), Decimal("12"), Decimal("6")]),
)
invoice_index = st.integers(min_value=0, max_value=20)
issue = st.tuples(st.just("issue"), contract_specs)
operation = st.one_of(
    issue,
    st.tuples(st.just("pay"), invoice_index, share),
    st.tuples(st.just("overpay"), invoice_index, st.decimals(CENT, Decimal("1000"), places=2)),
    st.tuples(st.just("credit"), invoice_index, share),
    st.tuples(st.just("credit_full"), invoice_index),
    st.tuples(st.just("unmatched"), st.decimals(CENT, Decimal("5000"), places=2)),
)
operations = st.tuples(issue, st.lists(operation, max_size=10)).map(lambda t: [t[0], *t[1]])


def spec(price: str, rate: str = "21", treatment: str = "domestic") -> tuple[str, ContractSpec]:
    return ("issue", (Decimal(price), (), treatment, Decimal(rate)))


class _RollbackError(Exception):
    """Raised at the end of each example to roll its savepoint back."""


# --- the world of one example ----------------------------------------------------------------


@dataclass
class World:
    bounded: bool
    advisor: User = field(init=False)
    member: Member = field(init=False)
    clients: dict[str, Client] = field(default_factory=dict)
    invoices: list[int] = field(default_factory=list)
    numbers: dict[str, list[int]] = field(
        default_factory=lambda: {"invoice": [], "credit_note": []}
    )
    received: Decimal = ZERO
    unmatched: Decimal = ZERO
    overpaid: Decimal = ZERO
    baseline: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.advisor = UserFactory(role=Role.ADVISOR)
        self.member = MemberFactory()
        self.baseline = self.balances()

    @staticmethod
    def balances() -> dict[str, Decimal]:
        return {
            code: balance_by_code(code)
            for code in ("receivables", "bank", "client_credit", "unallocated_receipts")
        }

    def client(self, treatment: str) -> Client:
        if treatment not in self.clients:
            self.clients[treatment] = {
                "domestic": lambda: ClientFactory(actor=self.advisor),
                "reverse_charge": lambda: ClientFactory(
                    kind=Client.Kind.COMPANY, country="FR", vat_number="FR40303265045",
                    actor=self.advisor,
                ),
                "export": lambda: ClientFactory(
                    kind=Client.Kind.COMPANY, country="CH", actor=self.advisor
                ),
            }[treatment]()  # fmt: skip
        return self.clients[treatment]

    def invoice(self, index: int) -> Invoice | None:
        if not self.invoices:
            return None
        return Invoice.objects.get(pk=self.invoices[index % len(self.invoices)])

    def record_number(self, document: Invoice) -> None:
        self.numbers[document.kind].append(int(document.number[-6:]))

    # -- operations --

    def apply(self, op: tuple[Any, ...]) -> None:
        getattr(self, f"op_{op[0]}")(*op[1:])

    def op_issue(self, contract_spec: ContractSpec) -> None:
        price, expense_shares, treatment, rate = contract_spec
        expenses = [quantize(price * s / 10_000, "EUR") for s in expense_shares]
        expenses = [amount for amount in expenses if amount > 0]
        contract = ContractFactory(
            member=self.member,
            client=self.client(treatment),
            price=price,
            expenses=[ExpenseInput(kind="travel", amount=amount) for amount in expenses],
            vat_rate=rate if treatment == "domestic" else None,
        )
        Contract.objects.filter(pk=contract.pk).update(state=Contract.State.APPROVED)

        invoice = services.invoice_issue(contract=contract, actor=self.advisor)

        invoice = Invoice.objects.get(pk=invoice.pk)
        rate_applied = rate if treatment == "domestic" else ZERO
        assert invoice.net_total == price
        assert invoice.vat_total == percent_of(price, rate_applied, "EUR")
        assert invoice.gross_total == invoice.net_total + invoice.vat_total
        assert invoice.fee_total == percent_of(price, FEE_PERCENT, "EUR")
        assert invoice.lines.count() == 1 + len(expenses)
        self.invoices.append(invoice.pk)
        self.record_number(invoice)

    def _refused(self, call: Any, invoice: Invoice | None) -> None:
        """``call`` must raise DomainError and change nothing."""
        before = what_is_written(invoice)
        with pytest.raises(DomainError):
            call()
        assert what_is_written(invoice) == before

    def _pay(self, invoice: Invoice, amount: Decimal) -> None:
        if invoice.state not in OPEN:
            self._refused(lambda: self.pay(invoice, amount), invoice)
            return
        self.overpaid += max(ZERO, amount - invoice.balance_due)
        self.pay(invoice, amount)
        self.received += amount

    def pay(self, invoice: Invoice | None, amount: Decimal) -> Payment:
        return services.payment_record(
            invoice=invoice, amount=amount, received_on=datetime.date(2026, 4, 1),
            actor=self.advisor,
        )  # fmt: skip

    def op_pay(self, index: int, part: int) -> None:
        invoice = self.invoice(index)
        if invoice is not None:
            amount = max(CENT, quantize(invoice.balance_due * part / 10_000, "EUR"))
            self._pay(invoice, amount)

    def op_overpay(self, index: int, extra: Decimal) -> None:
        invoice = self.invoice(index)
        if invoice is not None:
            self._pay(invoice, max(invoice.balance_due, ZERO) + extra)

    def op_unmatched(self, amount: Decimal) -> None:
        self.pay(None, amount)
        self.received += amount
        self.unmatched += amount

    def credit(self, invoice: Invoice, amount: Decimal | None) -> Invoice:
        due = max(Invoice.objects.get(pk=invoice.pk).balance_due, ZERO)
        note = services.credit_note_issue(
            invoice=invoice, actor=self.advisor, reason="property", net_amount=amount
        )
        # What the client had already paid of the credited amount is owed back to them.
        self.overpaid += note.gross_total - min(note.gross_total, due)
        return note

    def op_credit(self, index: int, part: int) -> None:
        invoice = self.invoice(index)
        if invoice is None:
            return
        left = invoice.net_total - sum(
            (note.net_total for note in invoice.credit_notes.all()), ZERO
        )
        amount = quantize(left * part / 10_000, "EUR")
        if self.bounded:
            # Never more than what is still due (VAT included), never the whole net: the two
            # known bugs (see test_services.py) stay out of this run.
            rate = invoice.lines.first().vat_rate  # type: ignore[union-attr]
            most = ((invoice.balance_due - CENT) * 100 / (100 + rate)).quantize(
                CENT, rounding=ROUND_DOWN
            )
            amount = min(amount, most, left - CENT)
            if amount < CENT:
                self._refused(lambda: self.credit(invoice, left + CENT), invoice)
                return
        if amount <= ZERO:
            self._refused(lambda: self.credit(invoice, amount), invoice)
            return
        self.record_number(self.credit(invoice, amount))

    def op_credit_full(self, index: int) -> None:
        invoice = self.invoice(index)
        if invoice is None:
            return
        if invoice.credit_notes.exists():
            self._refused(lambda: self.credit(invoice, None), invoice)
            return
        if self.bounded and invoice.amount_paid > 0:
            return  # the credit-after-payment bug (see test_services.py)
        self.record_number(self.credit(invoice, None))

    # -- invariants --

    def check(self) -> None:
        assert set(books_balance().values()) <= {ZERO}, books_balance()
        due_on_open = ZERO
        for pk in self.invoices:
            invoice = Invoice.objects.get(pk=pk)
            reference = f"invoice:{pk}"
            paid, credited = invoice.amount_paid, invoice.amount_credited
            assert paid >= 0
            assert credited >= 0
            assert paid + credited <= invoice.gross_total, (invoice.number, paid, credited)
            assert balance_by_code("receivables", reference=reference) == invoice.balance_due
            assert (invoice.state in OPEN) == (invoice.balance_due > 0), (
                invoice.number, invoice.state, invoice.balance_due,
            )  # fmt: skip
            credited_net = sum((note.net_total for note in invoice.credit_notes.all()), ZERO)
            if credited_net == invoice.net_total:
                assert invoice.balance_due == ZERO, (invoice.number, invoice.balance_due)
            if invoice.state in OPEN:
                due_on_open += invoice.balance_due
        moved = {code: value - self.baseline[code] for code, value in self.balances().items()}
        assert moved == {
            "receivables": due_on_open,
            "bank": self.received,
            "client_credit": -self.overpaid,
            "unallocated_receipts": -self.unmatched,
        }
        for sequence in self.numbers.values():
            if sequence:
                assert sequence == list(range(sequence[0], sequence[0] + len(sequence))), sequence


def what_is_written(invoice: Invoice | None) -> tuple[Any, ...]:
    row = None
    if invoice is not None:
        row = Invoice.objects.filter(pk=invoice.pk).values(
            "state", "amount_paid", "amount_credited"
        )[0]
    return (
        row,
        Invoice.objects.count(),
        Payment.objects.count(),
        Entry.objects.count(),
        sum(NumberSeries.objects.values_list("last_number", flat=True)),
    )


def run(ops: list[tuple[Any, ...]], *, bounded: bool) -> None:
    try:
        with transaction.atomic():
            world = World(bounded=bounded)
            for op in ops:
                world.apply(op)
                world.check()
            raise _RollbackError
    except _RollbackError:
        pass


PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(ops=operations)
@example(ops=[spec("0.01"), ("pay", 0, 10_000), ("pay", 0, 1), ("credit", 0, 10_000)])
@example(ops=[spec("50000.00", "6"), ("overpay", 0, Decimal("0.01")), ("unmatched", Decimal("1"))])
@example(ops=[spec("1000.06"), ("credit", 0, 5_000), ("credit", 0, 5_000), ("credit_full", 0)])
def test_money_invariants_hold_within_the_known_limits(in_be: Entity, ops: list[Any]) -> None:
    """Credits bounded by what is still due (the unbounded run is the next test)."""
    run(ops, bounded=True)


@PROPERTY_SETTINGS
@given(ops=operations)
@example(ops=[spec("1000.00"), ("pay", 0, 5_000), ("credit_full", 0)])
@example(ops=[spec("1000.06"), ("credit", 0, 5_000), ("credit", 0, 10_000)])
@example(ops=[spec("1000.50"), ("credit", 0, 5_000), ("credit", 0, 10_000)])
def test_money_invariants_hold_for_any_sequence(in_be: Entity, ops: list[Any]) -> None:
    run(ops, bounded=False)
