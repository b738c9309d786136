"""invoicing.services: issue an invoice from an approved contract, credit it, record payments.

Every test runs in one entity's schema inside the test's transaction and builds its data through
the services. Belgian figures: VAT 21 %, cooperative fee 6.5 % of the amount excl. VAT. The
default contract is 1,000.00 excl. VAT for a Belgian public body (30 days' terms).

The concurrency tests at the end run threads on their own connections, committed in ``at`` (see
``inv_committed_at``), with assertions relative to what they read before.

Ledger signs: a debit is positive, a credit negative. An invoice books receivables +gross,
vat_payable -VAT, fee_income -fee and the member's budget -(net - fee), all under the reference
``invoice:<id>`` (a credit note books the opposite under its invoice's reference).
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from stdnum import iso11649
from stdnum.be import ogm_vcs

from invoicing import services
from invoicing.models import Invoice, InvoiceLine, InvoiceTax, NumberSeries, Payment
from members import services as member_services
from members.models import Client, Contract
from members.services import ClientInput, ExpenseInput
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Entry, Transaction
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, ContractFactory, MemberFactory

if TYPE_CHECKING:
    from tests.invoicing.conftest import CommittedEntity

FRENCH_COMPANY_VAT = "FR40303265045"
ZERO = Decimal("0.00")


# --- helpers ---------------------------------------------------------------------------------


def ledger(invoice: Invoice) -> dict[str, Decimal]:
    """The balance of every account the invoice touches, for the invoice's reference."""
    reference = f"invoice:{invoice.credited_invoice_id or invoice.pk}"
    codes = ("receivables", "vat_payable", "fee_income", f"budget:{invoice.member_id}", "bank",
             "client_credit")  # fmt: skip
    return {code.split(":")[0]: balance_by_code(code, reference=reference) for code in codes}


def posted_entries(key: str) -> dict[str, Decimal]:
    entries = Entry.objects.filter(transaction__idempotency_key=key).select_related("account")
    return {entry.account.code.split(":")[0]: entry.amount for entry in entries}


def books_balance_is_zero() -> bool:
    return all(total == 0 for total in books_balance().values())


def series(kind: str, year: int) -> int:
    found = NumberSeries.objects.filter(kind=kind, year=year).first()
    return 0 if found is None else found.last_number


def written() -> tuple[int, ...]:
    """What a refused action must leave untouched."""
    return (
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
        InvoiceTax.objects.count(),
        Payment.objects.count(),
        Transaction.objects.count(),
        Entry.objects.count(),
        sum(NumberSeries.objects.values_list("last_number", flat=True)),
    )


def execute_in_savepoint(statement: str, params: dict[str, Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def lines_of(invoice: Invoice) -> list[tuple[Any, ...]]:
    return [
        (line.position, line.kind, line.description, line.quantity, line.unit_price,
         line.net_amount, line.vat_category, line.vat_rate)
        for line in InvoiceLine.objects.filter(invoice=invoice).order_by("position")
    ]  # fmt: skip


def taxes_of(invoice: Invoice) -> list[tuple[Any, ...]]:
    return [
        (tax.category, tax.rate, tax.taxable_amount, tax.tax_amount, tax.exemption_reason)
        for tax in InvoiceTax.objects.filter(invoice=invoice).order_by("category", "rate")
    ]


def totals_of(invoice: Invoice) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return invoice.net_total, invoice.vat_total, invoice.gross_total, invoice.fee_total


def reloaded(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def pay(invoice: Invoice | None, amount: str, actor: User, **kwargs: Any) -> Payment:
    return services.payment_record(
        invoice=invoice,
        amount=Decimal(amount),
        received_on=datetime.date(2026, 4, 1),
        actor=actor,
        **kwargs,
    )


def credit(invoice: Invoice, actor: User, amount: str | None = None) -> Invoice:
    return services.credit_note_issue(
        invoice=invoice,
        actor=actor,
        reason="price corrected",
        net_amount=None if amount is None else Decimal(amount),
    )


# --- issue: which contracts ------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "submitted", "cancelled"])
def test_only_an_approved_contract_is_invoiced(
    in_be: Entity, inv_advisor: Callable[[], User], state: str
) -> None:
    contract = ContractFactory()
    if state != "draft":
        contract = member_services.contract_submit(contract=contract, actor=contract.member.user)
    if state == "cancelled":
        contract = member_services.contract_withdraw(contract=contract, actor=contract.member.user)
        contract = member_services.contract_cancel(contract=contract, actor=contract.member.user)
    assert contract.state == state
    before = written()

    with pytest.raises(DomainError, match="Only an approved contract") as refused:
        services.invoice_issue(contract=contract, actor=inv_advisor())

    assert refused.value.field == "contract"
    assert written() == before
    assert not Invoice.objects.filter(contract=contract).exists()


def test_an_approved_contract_is_invoiced_once(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    before = written()

    again = services.invoice_issue(contract=inv_issued_invoice.contract, actor=inv_advisor())

    assert again.pk == inv_issued_invoice.pk
    assert again.number == inv_issued_invoice.number
    assert written() == before


# --- issue: lines, VAT, totals ---------------------------------------------------------------


def test_lines_are_the_work_then_each_expense_at_the_contract_rate(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    contract = inv_approved_contract(
        title="Concert at the Botanique",
        expenses=[
            ExpenseInput(kind="travel", amount=Decimal("120.00"), description="Train to Liège"),
            ExpenseInput(kind="meals", amount=Decimal("30.50")),
        ],
    )
    period = f"{contract.first_day:%d/%m/%Y} - {contract.last_day:%d/%m/%Y}"

    invoice = services.invoice_issue(contract=contract, actor=inv_advisor())

    rate = Decimal("21.0000")
    assert lines_of(invoice) == [
        (1, "work", f"Concert at the Botanique ({period})", Decimal("1.00"), Decimal("849.50"),
         Decimal("849.50"), "S", rate),
        (2, "expense", "Train to Liège", Decimal("1.00"), Decimal("120.00"), Decimal("120.00"),
         "S", rate),
        (3, "expense", "meals", Decimal("1.00"), Decimal("30.50"), Decimal("30.50"), "S", rate),
    ]  # fmt: skip
    assert taxes_of(invoice) == [("S", rate, Decimal("1000.00"), Decimal("210.00"), "")]
    assert totals_of(reloaded(invoice)) == (
        Decimal("1000.00"), Decimal("210.00"), Decimal("1210.00"), Decimal("65.00"),
    )  # fmt: skip
    assert invoice.state == "issued"
    assert (invoice.amount_paid, invoice.amount_credited) == (ZERO, ZERO)
    assert invoice.balance_due == Decimal("1210.00")


def test_a_reduced_rate_chosen_on_the_contract_is_invoiced(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    contract = inv_approved_contract(vat_rate=Decimal("6"))

    invoice = services.invoice_issue(contract=contract, actor=inv_advisor())

    assert taxes_of(invoice) == [("S", Decimal("6.0000"), Decimal("1000.00"), Decimal("60.00"), "")]
    assert invoice.gross_total == Decimal("1060.00")


def test_vat_is_rounded_once_per_rate_not_per_line(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    # Lines 1,000.00 + 0.02 + 0.02 at 21 %: per line 210.00 + 0.00 + 0.00 = 210.00; on the
    # breakdown 1,000.04 x 21 % = 210.0084 -> 210.01 (EN 16931 BR-CO-17).
    contract = inv_approved_contract(
        price=Decimal("1000.04"),
        expenses=[
            ExpenseInput(kind="travel", amount=Decimal("0.02")),
            ExpenseInput(kind="meals", amount=Decimal("0.02")),
        ],
    )

    invoice = reloaded(services.invoice_issue(contract=contract, actor=inv_advisor()))

    assert [line[5] for line in lines_of(invoice)] == [
        Decimal("1000.00"), Decimal("0.02"), Decimal("0.02"),
    ]  # fmt: skip
    assert taxes_of(invoice) == [
        ("S", Decimal("21.0000"), Decimal("1000.04"), Decimal("210.01"), "")
    ]
    # fee: 6.5 % of 1,000.04 = 65.0026 -> 65.00
    assert totals_of(invoice) == (
        Decimal("1000.04"), Decimal("210.01"), Decimal("1210.05"), Decimal("65.00"),
    )  # fmt: skip


def test_a_french_company_with_a_vat_number_is_reverse_charged(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    client = ClientFactory(
        kind=Client.Kind.COMPANY, country="FR", vat_number=FRENCH_COMPANY_VAT,
        street="1 rue de Rivoli", postal_code="75001", city="Paris",
    )  # fmt: skip
    contract = inv_approved_contract(client=client)

    invoice = reloaded(services.invoice_issue(contract=contract, actor=inv_advisor()))

    assert invoice.vat_treatment == "reverse_charge"
    assert {(line[6], line[7]) for line in lines_of(invoice)} == {("AE", Decimal("0.0000"))}
    assert taxes_of(invoice) == [
        ("AE", Decimal("0.0000"), Decimal("1000.00"), ZERO, "Reverse charge")
    ]
    assert totals_of(invoice) == (Decimal("1000.00"), ZERO, Decimal("1000.00"), Decimal("65.00"))
    assert invoice.buyer["vat_number"] == FRENCH_COMPANY_VAT
    # No VAT, so no VAT leg.
    assert posted_entries(f"invoice:{invoice.pk}:issue") == {
        "receivables": Decimal("1000.00"),
        "fee_income": Decimal("-65.00"),
        "budget": Decimal("-935.00"),
    }


def test_a_swiss_client_is_an_export(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    client = ClientFactory(
        kind=Client.Kind.COMPANY, country="CH", street="Bahnhofstrasse 1", postal_code="8001",
        city="Zürich",
    )  # fmt: skip
    contract = inv_approved_contract(client=client)

    invoice = reloaded(services.invoice_issue(contract=contract, actor=inv_advisor()))

    assert invoice.vat_treatment == "export"
    assert {(line[6], line[7]) for line in lines_of(invoice)} == {("G", Decimal("0.0000"))}
    assert taxes_of(invoice) == [
        ("G", Decimal("0.0000"), Decimal("1000.00"), ZERO, "Export outside the EU")
    ]
    assert totals_of(invoice) == (Decimal("1000.00"), ZERO, Decimal("1000.00"), Decimal("65.00"))


def test_the_due_date_is_the_issue_date_plus_the_clients_terms(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    contract = inv_approved_contract(client=ClientFactory(payment_terms_days=45))

    invoice = services.invoice_issue(
        contract=contract, actor=inv_advisor(), issue_date=datetime.date(2026, 5, 20)
    )

    assert invoice.issue_date == datetime.date(2026, 5, 20)
    assert invoice.due_date == datetime.date(2026, 7, 4)
    assert invoice.number.startswith("BE-2026-")


def test_the_issue_date_is_today_in_the_entity_by_default(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    today = member_services.entity_today(in_be)
    assert inv_issued_invoice.issue_date == today
    assert inv_issued_invoice.due_date == today + datetime.timedelta(days=30)
    assert inv_issued_invoice.issued_at is not None


def test_the_returned_invoice_reads_its_lines_like_a_loaded_one(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    loaded = reloaded(inv_issued_invoice)

    assert list(inv_issued_invoice.lines.order_by("position")) == list(
        loaded.lines.order_by("position")
    )
    assert inv_issued_invoice.taxes.filter(category="S").count() == 1


# --- issue: references and snapshots ---------------------------------------------------------


def test_a_belgian_invoice_carries_a_valid_ogm_built_from_its_number(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    number = inv_issued_invoice.number
    year, sequence = int(number[3:7]), int(number[-6:])
    assert number == f"BE-{year}-{sequence:06d}"
    base = f"{year % 100:02d}{sequence:08d}"
    check = int(base) % 97 or 97
    digits = f"{base}{check:02d}"

    assert inv_issued_invoice.payment_reference == (
        f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"
    )
    assert ogm_vcs.is_valid(digits)


def test_a_french_invoice_carries_a_valid_rf_reference(
    in_fr: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    invoice = services.invoice_issue(contract=inv_approved_contract(), actor=inv_advisor())

    compact = invoice.payment_reference.replace(" ", "")
    assert iso11649.is_valid(compact)
    assert compact[4:] == invoice.number.replace("-", "")
    assert invoice.number.startswith("FR-")
    # France: 20 %.
    assert totals_of(reloaded(invoice))[:3] == (
        Decimal("1000.00"), Decimal("200.00"), Decimal("1200.00"),
    )  # fmt: skip


def test_seller_and_buyer_stay_as_they_were_at_issue(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    invoice = reloaded(inv_issued_invoice)
    client = invoice.client
    seller_before, buyer_before = dict(invoice.seller), dict(invoice.buyer)
    assert buyer_before["name"] == client.name
    assert seller_before["name"] == "Smart Coop Belgium SC"
    assert seller_before["vat_number"] == "BE0765432146"

    member_services.client_update(
        client=client,
        data=ClientInput(
            name="Renamed SA", kind=client.kind, country=client.country,
            street="Rue Neuve 1", postal_code="4000", city="Liège",
            email="other@client.example", language="nl", payment_terms_days=60,
        ),
        actor=inv_advisor(),
    )  # fmt: skip
    Entity.objects.filter(pk=in_be.pk).update(legal_name="Another name", street="Elsewhere 9")

    invoice = reloaded(invoice)
    assert Client.objects.get(pk=client.pk).name == "Renamed SA"
    assert invoice.buyer == buyer_before
    assert invoice.seller == seller_before
    assert invoice.due_date == inv_issued_invoice.due_date


# --- issue: the ledger -----------------------------------------------------------------------


def test_issue_books_receivable_vat_fee_and_the_members_budget(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    contract = inv_approved_contract(price=Decimal("1234.56"))

    invoice = services.invoice_issue(contract=contract, actor=inv_advisor())

    # VAT 21 % of 1,234.56 = 259.2576 -> 259.26; fee 6.5 % = 80.2464 -> 80.25
    assert totals_of(reloaded(invoice)) == (
        Decimal("1234.56"), Decimal("259.26"), Decimal("1493.82"), Decimal("80.25"),
    )  # fmt: skip
    posted = Transaction.objects.get(idempotency_key=f"invoice:{invoice.pk}:issue")
    assert (posted.kind, posted.occurred_on) == ("invoice", invoice.issue_date)
    assert posted_entries(posted.idempotency_key) == {
        "receivables": Decimal("1493.82"),
        "vat_payable": Decimal("-259.26"),
        "fee_income": Decimal("-80.25"),
        "budget": Decimal("-1154.31"),
    }
    assert set(posted.entries.values_list("reference", flat=True)) == {f"invoice:{invoice.pk}"}
    assert posted.entries.get(account__code=f"budget:{contract.member_id}").account.member_id == (
        contract.member_id
    )
    assert books_balance_is_zero()


# --- numbers ---------------------------------------------------------------------------------


def test_credit_notes_have_their_own_sequence(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    year = inv_issued_invoice.issue_date.year
    invoices_before, notes_before = series("invoice", year), series("credit_note", year)

    note = credit(inv_issued_invoice, inv_advisor(), "100.00")

    assert note.number == f"BE-CN-{year}-{notes_before + 1:06d}"
    assert series("credit_note", year) == notes_before + 1
    assert series("invoice", year) == invoices_before


def test_a_new_year_starts_at_one(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    year = member_services.entity_today(in_be).year + 50
    assert series("invoice", year) == series("invoice", year + 1) == 0

    first = services.invoice_issue(
        contract=inv_approved_contract(), actor=inv_advisor(),
        issue_date=datetime.date(year, 12, 31),
    )  # fmt: skip
    next_year = services.invoice_issue(
        contract=inv_approved_contract(), actor=inv_advisor(),
        issue_date=datetime.date(year + 1, 1, 1),
    )  # fmt: skip
    second = services.invoice_issue(
        contract=inv_approved_contract(), actor=inv_advisor(),
        issue_date=datetime.date(year, 12, 31),
    )  # fmt: skip

    assert first.number == f"BE-{year}-000001"
    assert next_year.number == f"BE-{year + 1}-000001"
    assert second.number == f"BE-{year}-000002"
    assert len({first.payment_reference, next_year.payment_reference,
                second.payment_reference}) == 3  # fmt: skip


def test_an_invoice_and_a_credit_note_never_share_a_payment_reference(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    year = member_services.entity_today(in_be).year
    for kind in ("invoice", "credit_note"):
        NumberSeries.objects.update_or_create(kind=kind, year=year, defaults={"last_number": 41})
    invoice = services.invoice_issue(contract=inv_approved_contract(), actor=inv_advisor())
    note = credit(invoice, inv_advisor(), "10.00")
    assert (invoice.number[-6:], note.number[-6:]) == ("000042", "000042")

    assert invoice.payment_reference != note.payment_reference


def test_entities_number_and_book_apart(
    in_be: Entity,
    fr: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    year = member_services.entity_today(in_be).year
    with schema_context("fr"):
        fr_before = (series("invoice", year), written(), books_balance())

    invoice = services.invoice_issue(contract=inv_approved_contract(), actor=inv_advisor())

    with schema_context("fr"):
        assert (series("invoice", year), written(), books_balance()) == fr_before
        assert not Invoice.objects.filter(number=invoice.number).exists()


# --- credit notes ----------------------------------------------------------------------------


def test_a_full_credit_note_copies_the_invoice_and_cancels_its_booking(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    contract = inv_approved_contract(expenses=[ExpenseInput(kind="travel", amount=Decimal("40"))])
    invoice = services.invoice_issue(contract=contract, actor=inv_advisor())

    note = reloaded(credit(invoice, inv_advisor()))

    assert note.kind == "credit_note"
    assert note.credited_invoice_id == invoice.pk
    assert note.number.startswith("BE-CN-")
    assert note.state == "issued"
    assert note.due_date == note.issue_date
    assert note.note == "price corrected"
    assert (note.seller, note.buyer) == (invoice.seller, invoice.buyer)
    assert lines_of(note) == lines_of(invoice)
    assert taxes_of(note) == taxes_of(invoice)
    assert totals_of(note) == totals_of(reloaded(invoice))
    invoice = reloaded(invoice)
    assert invoice.state == "credited"
    assert (invoice.amount_credited, invoice.balance_due) == (Decimal("1210.00"), ZERO)
    assert posted_entries(f"credit_note:{note.pk}:issue") == {
        "receivables": Decimal("-1210.00"),
        "vat_payable": Decimal("210.00"),
        "fee_income": Decimal("65.00"),
        "budget": Decimal("935.00"),
    }
    assert ledger(invoice) == dict.fromkeys(
        ("receivables", "vat_payable", "fee_income", "budget", "bank", "client_credit"), ZERO
    )
    assert books_balance_is_zero()


def test_a_partial_credit_note_gives_the_fee_back_in_proportion(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    note = reloaded(credit(inv_issued_invoice, inv_advisor(), "100.00"))

    assert lines_of(note) == [
        (1, "work", f"Partial credit of {inv_issued_invoice.number}: price corrected",
         Decimal("1.00"), Decimal("100.00"), Decimal("100.00"), "S", Decimal("21.0000")),
    ]  # fmt: skip
    # fee back: 65.00 x 100 / 1,000 = 6.50
    assert totals_of(note) == (Decimal("100.00"), Decimal("21.00"), Decimal("121.00"),
                               Decimal("6.50"))  # fmt: skip
    invoice = reloaded(inv_issued_invoice)
    assert invoice.state == "issued"
    assert (invoice.amount_credited, invoice.balance_due) == (Decimal("121.00"), Decimal("1089.00"))
    assert ledger(invoice) == {
        "receivables": Decimal("1089.00"),
        "vat_payable": Decimal("-189.00"),
        "fee_income": Decimal("-58.50"),
        "budget": Decimal("-841.50"),
        "bank": ZERO,
        "client_credit": ZERO,
    }
    assert books_balance_is_zero()


def test_partial_credit_notes_up_to_the_whole_invoice_credit_it(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    credit(inv_issued_invoice, inv_advisor(), "100.00")
    credit(inv_issued_invoice, inv_advisor(), "900.00")

    invoice = reloaded(inv_issued_invoice)
    assert invoice.state == "credited"
    assert (invoice.amount_credited, invoice.balance_due) == (Decimal("1210.00"), ZERO)
    assert set(ledger(invoice).values()) == {ZERO}


@pytest.mark.parametrize(
    ("price", "half"),
    [
        # VAT 210.105 -> 210.11, each half 105.0525 -> 105.05: 0.01 of VAT never credited, the
        # invoice stays open with 0.01 due and nothing left to credit; fee 65.03 but 2 x 32.52
        # given back.
        pytest.param("1000.50", "500.25", id="vat-under-credited"),
        # VAT 210.0126 -> 210.01, each half 105.0063 -> 105.01: 0.01 more VAT credited than
        # charged; amount_credited 1,210.08 > gross 1,210.07.
        pytest.param("1000.06", "500.03", id="vat-over-credited"),
    ],
)
def test_partial_credit_notes_for_the_whole_net_credit_exactly_the_invoice(
    in_be: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
    price: str,
    half: str,
) -> None:
    invoice = services.invoice_issue(
        contract=inv_approved_contract(price=Decimal(price)), actor=inv_advisor()
    )
    credit(invoice, inv_advisor(), half)
    credit(invoice, inv_advisor(), half)

    invoice = reloaded(invoice)
    assert (invoice.state, invoice.amount_credited, invoice.balance_due) == (
        "credited", invoice.gross_total, ZERO,
    )  # fmt: skip
    assert set(ledger(invoice).values()) == {ZERO}


@pytest.mark.parametrize(
    "case",
    [
        # (credited first: "" nothing, "full", or an amount; then asked; the refusal says)
        pytest.param(("100.00", "900.01", "at most 900.00"), id="more-than-left"),
        pytest.param(("full", "0.01", "at most 0.00"), id="after-a-full-credit"),
        pytest.param(("100.00", None, "already credited"), id="full-after-partial"),
        pytest.param(("", "0", "more than 0"), id="zero"),
        pytest.param(("", "-10.00", "more than 0"), id="negative"),
    ],
)
def test_crediting_more_than_is_left_is_refused(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_advisor: Callable[[], User],
    case: tuple[str, str | None, str],
) -> None:
    first, then, message = case
    if first:
        credit(inv_issued_invoice, inv_advisor(), None if first == "full" else first)
    state_before = reloaded(inv_issued_invoice).state
    before = written()

    with pytest.raises(DomainError, match=message) as refused:
        credit(inv_issued_invoice, inv_advisor(), then)

    assert refused.value.field == "net_amount"
    assert written() == before
    assert reloaded(inv_issued_invoice).state == state_before


def issued_with_two_rates(actor: User) -> Invoice:
    """An issued invoice with lines at 21 % and 6 %, written with the ORM: invoice_issue gives
    every line the contract's one rate, and the database accepts an issued document inserted
    whole (its triggers guard updates and deletes)."""
    invoice = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE, state=Invoice.State.ISSUED, number="BE-TEST-000001",
        issue_date=datetime.date(2026, 3, 2), due_date=datetime.date(2026, 4, 1),
        client=ClientFactory(), member=MemberFactory(), currency="EUR", language="fr",
        vat_treatment="domestic", net_total=Decimal("150.00"), vat_total=Decimal("24.00"),
        gross_total=Decimal("174.00"), fee_total=Decimal("9.75"), created_by=actor,
    )  # fmt: skip
    for position, (description, net, rate, vat) in enumerate(
        [("Design", "100.00", "21", "21.00"), ("Books", "50.00", "6", "3.00")], start=1
    ):
        InvoiceLine.objects.create(
            invoice=invoice, position=position, kind="work", description=description,
            unit_price=Decimal(net), net_amount=Decimal(net), vat_category="S",
            vat_rate=Decimal(rate),
        )  # fmt: skip
        InvoiceTax.objects.create(
            invoice=invoice, category="S", rate=Decimal(rate), taxable_amount=Decimal(net),
            tax_amount=Decimal(vat),
        )  # fmt: skip
    return invoice


def test_a_partial_credit_of_an_invoice_with_several_vat_rates_is_refused(
    in_be: Entity, inv_advisor: Callable[[], User]
) -> None:
    invoice = issued_with_two_rates(inv_advisor())
    before = written()

    with pytest.raises(DomainError, match="several VAT rates is credited in full"):
        credit(invoice, inv_advisor(), "10.00")

    assert written() == before

    note = credit(invoice, inv_advisor())
    assert taxes_of(note) == taxes_of(invoice)
    assert reloaded(invoice).state == "credited"


def test_a_draft_cannot_be_credited(in_be: Entity, inv_advisor: Callable[[], User]) -> None:
    draft = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE, client=ClientFactory(), member=MemberFactory(),
        currency="EUR", language="fr", vat_treatment="domestic",
    )  # fmt: skip
    before = written()

    for amount in (None, "10.00"):
        with pytest.raises(DomainError, match="Only an issued invoice") as refused:
            credit(draft, inv_advisor(), amount)
        assert refused.value.field == "invoice"

    assert written() == before
    assert reloaded(draft).state == "draft"


def test_a_credit_note_cannot_be_credited(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    note = credit(inv_issued_invoice, inv_advisor(), "10.00")
    before = written()

    with pytest.raises(DomainError, match="Only an issued invoice"):
        credit(note, inv_advisor(), "1.00")

    assert written() == before


def test_a_credit_note_needs_a_reason(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    before = written()

    with pytest.raises(DomainError) as refused:
        services.credit_note_issue(invoice=inv_issued_invoice, actor=inv_advisor(), reason="  ")

    assert refused.value.field == "reason"
    assert written() == before


@pytest.mark.parametrize("amount", [None, "1000.00"], ids=["full", "partial-whole-net"])
def test_a_credit_after_a_payment_moves_what_was_overpaid_to_client_credit(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User], amount: str | None
) -> None:
    pay(inv_issued_invoice, "500.00", inv_advisor())

    credit(inv_issued_invoice, inv_advisor(), amount)

    invoice = reloaded(inv_issued_invoice)
    balances = ledger(invoice)
    assert balances["receivables"] == ZERO
    assert balances["client_credit"] == Decimal("-500.00")
    assert invoice.amount_paid + invoice.amount_credited <= invoice.gross_total
    assert books_balance_is_zero()


# --- payments --------------------------------------------------------------------------------


def test_a_partial_payment_then_the_rest(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    payment = pay(inv_issued_invoice, "500.00", inv_advisor())

    assert (payment.invoice_id, payment.amount, payment.currency, payment.source) == (
        inv_issued_invoice.pk, Decimal("500.00"), "EUR", "manual",
    )  # fmt: skip
    invoice = reloaded(inv_issued_invoice)
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "partially_paid", Decimal("500.00"), Decimal("710.00"),
    )  # fmt: skip
    assert ledger(invoice)["receivables"] == Decimal("710.00")
    assert ledger(invoice)["bank"] == Decimal("500.00")
    assert books_balance_is_zero()

    pay(invoice, "710.00", inv_advisor())

    invoice = reloaded(invoice)
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "paid", Decimal("1210.00"), ZERO,
    )  # fmt: skip
    assert ledger(invoice)["receivables"] == ZERO
    assert ledger(invoice)["bank"] == Decimal("1210.00")
    assert books_balance_is_zero()


def test_an_overpayment_becomes_the_clients_credit(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    payment = pay(inv_issued_invoice, "1300.00", inv_advisor())

    invoice = reloaded(inv_issued_invoice)
    assert payment.amount == Decimal("1300.00")
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "paid", Decimal("1210.00"), ZERO,
    )  # fmt: skip
    assert posted_entries(payment.ledger_transaction.idempotency_key) == {
        "bank": Decimal("1300.00"),
        "receivables": Decimal("-1210.00"),
        "client_credit": Decimal("-90.00"),
    }
    assert ledger(invoice)["receivables"] == ZERO
    assert books_balance_is_zero()


def test_an_overpayment_after_a_partial_credit_is_measured_against_what_is_left(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    credit(inv_issued_invoice, inv_advisor(), "100.00")  # 121.00 off: 1,089.00 left

    pay(inv_issued_invoice, "2000.00", inv_advisor())

    invoice = reloaded(inv_issued_invoice)
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "paid", Decimal("1089.00"), ZERO,
    )  # fmt: skip
    assert ledger(invoice)["receivables"] == ZERO
    assert ledger(invoice)["client_credit"] == Decimal("-911.00")
    assert books_balance_is_zero()


@pytest.mark.parametrize("how", ["paid", "credited"])
def test_a_payment_on_a_closed_invoice_is_refused(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User], how: str
) -> None:
    if how == "paid":
        pay(inv_issued_invoice, "1210.00", inv_advisor())
    else:
        credit(inv_issued_invoice, inv_advisor())
    invoice = reloaded(inv_issued_invoice)
    before = (written(), invoice.amount_paid, invoice.state)

    with pytest.raises(DomainError, match="is not waiting for a payment") as refused:
        pay(invoice, "10.00", inv_advisor())

    assert refused.value.field == "invoice"
    invoice = reloaded(invoice)
    assert (written(), invoice.amount_paid, invoice.state) == before


def test_a_payment_on_a_credit_note_is_refused(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    note = credit(inv_issued_invoice, inv_advisor(), "100.00")
    before = written()

    with pytest.raises(DomainError, match="is not waiting for a payment"):
        pay(note, "10.00", inv_advisor())

    assert written() == before


def test_an_unmatched_payment_waits_in_unallocated_receipts(
    in_be: Entity, inv_advisor: Callable[[], User]
) -> None:
    bank_before = balance_by_code("bank")
    unallocated_before = balance_by_code("unallocated_receipts")

    payment = pay(None, "250.00", inv_advisor(), note="no reference")

    assert (payment.invoice, payment.amount, payment.note) == (None, Decimal("250.00"),
                                                               "no reference")  # fmt: skip
    assert posted_entries(payment.ledger_transaction.idempotency_key) == {
        "bank": Decimal("250.00"),
        "unallocated_receipts": Decimal("-250.00"),
    }
    assert balance_by_code("bank") == bank_before + Decimal("250.00")
    assert balance_by_code("unallocated_receipts") == unallocated_before - Decimal("250.00")
    assert books_balance_is_zero()


def test_the_same_payment_key_records_once(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User]
) -> None:
    first = pay(inv_issued_invoice, "100.00", inv_advisor(), key="bank:line:abc")
    before = written()

    again = pay(inv_issued_invoice, "100.00", inv_advisor(), key="bank:line:abc")

    assert again.pk == first.pk
    assert written() == before
    assert reloaded(inv_issued_invoice).amount_paid == Decimal("100.00")


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.004"])
def test_a_payment_of_nothing_is_refused(
    in_be: Entity, inv_issued_invoice: Invoice, inv_advisor: Callable[[], User], amount: str
) -> None:
    before = written()

    with pytest.raises(DomainError, match="more than zero") as refused:
        pay(inv_issued_invoice, amount, inv_advisor())

    assert refused.value.field == "amount"
    assert written() == before


# --- issued documents are final in the database ----------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"number": "BE-2000-999999"}, id="number"),
        pytest.param({"issue_date": datetime.date(2000, 1, 1)}, id="issue_date"),
        pytest.param({"due_date": datetime.date(2000, 1, 1)}, id="due_date"),
        pytest.param({"net_total": Decimal("1.00")}, id="net_total"),
        pytest.param({"vat_total": Decimal("1.00")}, id="vat_total"),
        pytest.param({"gross_total": Decimal("1.00")}, id="gross_total"),
        pytest.param({"buyer": {"name": "someone else"}}, id="buyer"),
        pytest.param({"seller": {}}, id="seller"),
        pytest.param({"performer": "someone else"}, id="performer"),
        pytest.param({"payment_reference": ""}, id="payment_reference"),
        pytest.param({"currency": "SEK"}, id="currency"),
        pytest.param({"state": "draft", "number": None}, id="back-to-draft"),
    ],
)
def test_the_database_refuses_editing_an_issued_invoice(
    in_be: Entity, inv_issued_invoice: Invoice, change: dict[str, Any]
) -> None:
    before = reloaded(inv_issued_invoice)

    with pytest.raises(IntegrityError, match="cannot be edited"), transaction.atomic():
        Invoice.objects.filter(pk=before.pk).update(**change)

    after = reloaded(inv_issued_invoice)
    assert {name: getattr(after, name) for name in change} == {
        name: getattr(before, name) for name in change
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"fee_total": Decimal("0.00")}, id="fee_total"),
        pytest.param({"vat_treatment": "export"}, id="vat_treatment"),
        pytest.param({"contract": None}, id="contract"),
    ],
)
def test_the_database_refuses_editing_the_fee_and_vat_treatment_of_an_issued_invoice(
    in_be: Entity, inv_issued_invoice: Invoice, change: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=inv_issued_invoice.pk).update(**change)


def test_the_state_and_what_is_paid_still_move(in_be: Entity, inv_issued_invoice: Invoice) -> None:
    Invoice.objects.filter(pk=inv_issued_invoice.pk).update(
        state="in_collection", amount_paid=Decimal("1.00"), dunning_level=1
    )
    assert reloaded(inv_issued_invoice).state == "in_collection"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("DELETE FROM invoicing_invoice WHERE id = %(i)s",
                     id="invoice-delete"),
        pytest.param("UPDATE invoicing_invoiceline SET net_amount = 1 WHERE invoice_id = %(i)s",
                     id="line-update"),
        pytest.param("DELETE FROM invoicing_invoiceline WHERE invoice_id = %(i)s",
                     id="line-delete"),
        pytest.param("UPDATE invoicing_invoicetax SET tax_amount = 0 WHERE invoice_id = %(i)s",
                     id="tax-update"),
        pytest.param("DELETE FROM invoicing_invoicetax WHERE invoice_id = %(i)s",
                     id="tax-delete"),
    ],
)  # fmt: skip
def test_the_database_refuses_deleting_an_issued_invoice_or_changing_its_lines(
    in_be: Entity, inv_issued_invoice: Invoice, statement: str
) -> None:
    lines, taxes = lines_of(inv_issued_invoice), taxes_of(inv_issued_invoice)

    with pytest.raises(IntegrityError, match="cannot"):
        execute_in_savepoint(statement, {"i": inv_issued_invoice.pk})

    assert Invoice.objects.filter(pk=inv_issued_invoice.pk).exists()
    assert (lines_of(inv_issued_invoice), taxes_of(inv_issued_invoice)) == (lines, taxes)


def test_the_database_refuses_adding_a_line_to_an_issued_invoice(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    # An invoice issued by an earlier database transaction (the test runs in one, so the
    # earlier time is given explicitly; the database normally sets it at issue).
    earlier = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE, state=Invoice.State.ISSUED, number="BE-2000-000001",
        issue_date=datetime.date(2000, 1, 3), client=inv_issued_invoice.client,
        member=inv_issued_invoice.member, currency="EUR", language="fr",
        vat_treatment="domestic", issued_at=timezone.now() - datetime.timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=earlier, position=1, kind="work", description="added later",
            unit_price=Decimal("5.00"), net_amount=Decimal("5.00"), vat_category="S",
            vat_rate=Decimal("21"),
        )  # fmt: skip


def test_a_draft_can_be_edited_and_deleted(in_be: Entity) -> None:
    draft = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE, client=ClientFactory(), member=MemberFactory(),
        currency="EUR", language="fr", vat_treatment="domestic",
    )  # fmt: skip
    line = InvoiceLine.objects.create(
        invoice=draft, position=1, kind="work", description="draft", unit_price=Decimal("5.00"),
        net_amount=Decimal("5.00"), vat_category="S", vat_rate=Decimal("21"),
    )  # fmt: skip

    InvoiceLine.objects.filter(pk=line.pk).update(net_amount=Decimal("6.00"))
    Invoice.objects.filter(pk=draft.pk).update(net_total=Decimal("6.00"))
    InvoiceLine.objects.filter(pk=line.pk).delete()
    Invoice.objects.filter(pk=draft.pk).delete()

    assert not Invoice.objects.filter(pk=draft.pk).exists()


# --- concurrency: threads on their own connections, committed in ``at`` ----------------------


def at_once(
    run_threads: Callable[..., list[BaseException]], schema: str, *calls: Callable[[], Any]
) -> tuple[list[Any], list[BaseException]]:
    """Run ``calls`` at the same moment, each on its own connection; their results and errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []

    def target(call: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            with schema_context(schema):
                connection.ensure_connection()
                barrier.wait(60)
                results.append(call())

        return run

    errors = run_threads([target(call) for call in calls])
    return results, errors


def test_concurrent_partial_credits_cannot_credit_more_than_the_invoice(
    inv_committed_at: CommittedEntity, inv_run_threads: Callable[..., list[BaseException]]
) -> None:
    at = inv_committed_at
    invoice = services.invoice_issue(contract=at.approved_contracts(1)[0], actor=at.advisor)
    assert invoice.net_total == Decimal("1000.00")

    notes, errors = at_once(
        inv_run_threads, at.code,
        *[lambda: credit(invoice, at.advisor, "600.00")] * 3,
    )  # fmt: skip

    assert len(notes) == 1
    assert len(errors) == 2
    assert all("at most 400.00" in str(error) for error in errors)
    invoice = reloaded(invoice)
    assert invoice.amount_credited == notes[0].gross_total
    assert invoice.credit_notes.count() == 1
    assert ledger(invoice)["receivables"] == invoice.balance_due


def test_concurrent_payments_of_one_invoice_apply_what_is_due_once(
    inv_committed_at: CommittedEntity, inv_run_threads: Callable[..., list[BaseException]]
) -> None:
    at = inv_committed_at
    invoice = services.invoice_issue(contract=at.approved_contracts(1)[0], actor=at.advisor)
    assert invoice.gross_total == Decimal("1200.00")  # Austria: 20 %
    credit_before = balance_by_code("client_credit")

    # Each waits for the invoice's lock: 500 + 500 + (200 applied, 300 overpaid).
    payments, errors = at_once(
        inv_run_threads, at.code, *[lambda: pay(invoice, "500.00", at.advisor)] * 3
    )

    assert errors == []
    assert len(payments) == 3
    invoice = reloaded(invoice)
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "paid", Decimal("1200.00"), ZERO,
    )  # fmt: skip
    assert ledger(invoice)["receivables"] == ZERO
    assert ledger(invoice)["bank"] == Decimal("1500.00")
    assert ledger(invoice)["client_credit"] == Decimal("-300.00")
    assert balance_by_code("client_credit") == credit_before - Decimal("300.00")


def test_the_same_payment_recorded_twice_at_once_is_recorded_once(
    inv_committed_at: CommittedEntity, inv_run_threads: Callable[..., list[BaseException]]
) -> None:
    at = inv_committed_at
    invoice = services.invoice_issue(contract=at.approved_contracts(1)[0], actor=at.advisor)
    key = f"bank:line:{uuid.uuid4()}"

    payments, errors = at_once(
        inv_run_threads, at.code, *[lambda: pay(invoice, "100.00", at.advisor, key=key)] * 2
    )

    # Nothing is ever booked twice, whatever happens to the second call.
    assert reloaded(invoice).amount_paid == Decimal("100.00")
    assert Payment.objects.filter(ledger_transaction__idempotency_key=key).count() == 1
    assert errors == []
    assert [payment.pk for payment in payments] == [payments[0].pk] * 2
