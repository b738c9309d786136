"""Writes on invoices: issue, credit, pay. Each one a transaction, each booked in the ledger.

The coop invoices the member's client in its own name: the seller is the entity, the member is
named as the performer. Issued documents are never edited: corrections are credit notes.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from invoicing import numbering, references, signals
from invoicing.models import (
    Invoice,
    InvoiceLine,
    InvoiceTax,
    Payment,
    StatementLine,
    VatCategory,
)
from members.models import Contract, Expense, VatTreatment
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Account
from smart_coop.ledger.services import (
    Leg,
    Post,
    account_get,
    accounts_get,
    budget_accounts_get,
    transaction_post,
    transactions_post_new,
)
from smart_coop.money import percent_of, quantize
from smart_coop.tenancy.current import current_entity, current_schema
from smart_coop.tenancy.models import Entity, Rate

ZERO = Decimal(0)

# EN 16931 exemption reason codes (VATEX) and texts for the categories without VAT.
EXEMPTIONS = {
    VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    VatCategory.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
}
CATEGORY_FOR = {
    VatTreatment.DOMESTIC: VatCategory.STANDARD,
    VatTreatment.REVERSE_CHARGE: VatCategory.REVERSE_CHARGE,
    VatTreatment.EXPORT: VatCategory.EXPORT,
}


def _seller(entity: Entity) -> dict[str, str]:
    return {
        "name": entity.legal_name,
        "vat_number": entity.vat_number,
        "company_number": entity.company_number,
        "peppol_id": entity.peppol_id,
        "street": entity.street,
        "postal_code": entity.postal_code,
        "city": entity.city,
        "country": entity.country,
        "iban": entity.iban,
        "bic": entity.bic,
        "code": entity.code,
    }


def _buyer(contract: Contract) -> dict[str, str]:
    client = contract.client
    return {
        "name": client.name,
        "kind": client.kind,
        "vat_number": client.vat_number,
        "company_number": client.company_number,
        "peppol_id": client.peppol_id,
        "street": client.street,
        "postal_code": client.postal_code,
        "city": client.city,
        "country": client.country,
        "email": client.email,
        "language": client.language,
    }


def _taxes(lines: list[InvoiceLine], currency: str) -> list[InvoiceTax]:
    """One row per VAT category and rate: VAT computed once on the row's taxable total."""
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        taxable[(line.vat_category, line.vat_rate)] += line.net_amount
    return [
        InvoiceTax(
            category=category,
            rate=rate,
            taxable_amount=amount,
            tax_amount=percent_of(amount, rate, currency),
            exemption_reason=EXEMPTIONS.get(category, ("", ""))[1],  # type: ignore[call-overload]
        )
        for (category, rate), amount in sorted(taxable.items())
    ]


def _finalize(
    invoice: Invoice,
    lines: list[InvoiceLine],
    entity: Entity,
    issue_date: datetime.date,
    *,
    sequence: int,
    number: str,
    fee_total: Callable[[Decimal], Decimal],
) -> list[InvoiceTax]:
    """Number, reference, VAT breakdown, totals and fee of a document being issued (no I/O).

    ``fee_total`` gives the coop's fee for the net total. Returns the breakdown rows.
    """
    invoice.number = number
    invoice.issue_date = issue_date
    invoice.payment_reference = references.reference_for(
        country=entity.country, number=number, year=issue_date.year, sequence=sequence
    )
    taxes = _taxes(lines, invoice.currency)
    invoice.net_total = sum((line.net_amount for line in lines), ZERO)
    invoice.vat_total = sum((tax.tax_amount for tax in taxes), ZERO)
    invoice.gross_total = invoice.net_total + invoice.vat_total
    invoice.fee_total = fee_total(invoice.net_total)
    invoice.state = Invoice.State.ISSUED
    return taxes


def _cached(queryset: QuerySet[Any], rows: list[Any]) -> QuerySet[Any]:
    queryset._result_cache = rows
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    return queryset


def _save_parts(issued: list[tuple[Invoice, list[InvoiceLine], list[InvoiceTax]]]) -> None:
    """Insert the lines and breakdowns of documents already saved, in two statements."""
    all_lines, all_taxes = [], []
    for invoice, lines, taxes in issued:
        for position, line in enumerate(lines, start=1):
            line.invoice, line.position = invoice, position
        for tax in taxes:
            tax.invoice = invoice
        all_lines += lines
        all_taxes += taxes
        # The documents are rendered from these same rows: spare re-reading them (as
        # prefetch_related stores them).
        invoice._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "lines": _cached(InvoiceLine.objects.filter(invoice=invoice), lines),
            "taxes": _cached(InvoiceTax.objects.filter(invoice=invoice), taxes),
        }
    InvoiceLine.objects.bulk_create(all_lines)
    InvoiceTax.objects.bulk_create(all_taxes)


def _issue(
    invoice: Invoice,
    lines: list[InvoiceLine],
    entity: Entity,
    issue_date: datetime.date,
    *,
    fee_total: Callable[[Decimal], Decimal],
) -> None:
    """Issue one document in the caller's transaction: its number, then its rows."""
    sequence, number = numbering.number_next(
        kind=invoice.kind, year=issue_date.year, entity_code=entity.code
    )
    taxes = _finalize(
        invoice, lines, entity, issue_date, sequence=sequence, number=number, fee_total=fee_total
    )
    invoice.save()
    _save_parts([(invoice, lines, taxes)])


def _after_issue(invoice: Invoice) -> None:
    from invoicing.tasks import invoice_documents_task

    transaction.on_commit(partial(invoice_documents_task.delay, invoice_id=invoice.pk, send=True))


def _draft_for(
    contract: Contract,
    entity: Entity,
    issue_date: datetime.date,
    expenses: list[Expense],
    actor: User | None,
) -> tuple[Invoice, list[InvoiceLine]]:
    """The invoice of an approved contract, not yet numbered: the work, then each expense
    included in the price, at the contract's VAT treatment."""
    category = CATEGORY_FOR[VatTreatment(contract.vat_treatment)]
    rate = contract.vat_rate if category == VatCategory.STANDARD else ZERO
    expense_total = sum((expense.amount for expense in expenses), ZERO)
    period = f"{contract.first_day:%d/%m/%Y} - {contract.last_day:%d/%m/%Y}"
    lines = [
        InvoiceLine(
            kind=InvoiceLine.Kind.WORK,
            description=f"{contract.title} ({period})"[:300],
            unit_price=contract.price - expense_total,
            net_amount=contract.price - expense_total,
            vat_category=category,
            vat_rate=rate,
        ),
        *(
            InvoiceLine(
                kind=InvoiceLine.Kind.EXPENSE,
                description=(expense.description or expense.get_kind_display())[:300],
                unit_price=expense.amount,
                net_amount=expense.amount,
                vat_category=category,
                vat_rate=rate,
            )
            for expense in expenses
        ),
    ]
    member = contract.member
    invoice = Invoice(
        kind=Invoice.Kind.INVOICE,
        contract=contract,
        client=contract.client,
        member=member,
        currency=entity.currency,
        language=contract.client.language,
        vat_treatment=contract.vat_treatment,
        seller=_seller(entity),
        buyer=_buyer(contract),
        performer=member.user.get_full_name(),
        due_date=issue_date + datetime.timedelta(days=contract.client.payment_terms_days),
        created_by=actor,
    )
    return invoice, lines


@transaction.atomic
def invoice_issue(
    *, contract: Contract, actor: User | None, issue_date: datetime.date | None = None
) -> Invoice:
    """Invoice the client of an approved contract, in the entity's name.

    Effects, in order: locks the contract (one invoice per contract: a second call returns the
    first); builds the lines (the work, and each reimbursable expense included in the price);
    gives the number and the structured reference; computes the VAT breakdown and totals; books
    receivable / VAT payable / fee income / the member's activity budget in the ledger;
    schedules the PDF, the UBL and the sending on commit.
    """
    entity = current_entity()
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("client", "member__user")
        .get(pk=contract.pk)
    )
    existing = Invoice.objects.filter(contract=contract, kind=Invoice.Kind.INVOICE).first()
    if existing is not None:
        return existing
    if contract.state != Contract.State.APPROVED:
        raise DomainError(_("Only an approved contract is invoiced."), field="contract")
    issue_date = issue_date or entity_today(entity)
    invoice, lines = _draft_for(
        contract, entity, issue_date, list(contract.expenses.order_by("pk")), actor
    )
    fee_percent = entity.rate(Rate.Kind.FEE, issue_date)
    _issue(
        invoice,
        lines,
        entity,
        issue_date,
        fee_total=lambda net: percent_of(net, fee_percent, invoice.currency),
    )
    # The contract's row lock and the check above make this key new: no need to look it up.
    _book(invoice, sign=Decimal(1), key=f"invoice:{invoice.pk}:issue", actor=actor, new=True)
    signals.invoice_issued.send(sender=Invoice, invoices=[invoice], actor=actor)
    _after_issue(invoice)
    return invoice


@transaction.atomic
def invoices_issue_batch(
    *, contract_ids: list[int], issue_date: datetime.date, actor: User | None = None
) -> list[Invoice]:
    """Issue the invoices of many approved contracts at once: the daily job's path.

    The same documents and bookings as ``invoice_issue``, in a handful of statements for the
    whole batch: the contracts are locked together (those already invoiced or no longer
    approved are left out), a block of consecutive numbers is taken in one statement, and the
    invoices, lines, breakdowns and ledger transactions are inserted in bulk.
    """
    entity = current_entity()
    contracts = list(
        Contract.objects.select_for_update(of=("self",))
        .select_related("client", "member__user")
        .filter(pk__in=contract_ids, state=Contract.State.APPROVED)
        .exclude(invoices__kind=Invoice.Kind.INVOICE)
        .order_by("last_day", "pk")
    )
    if not contracts:
        return []
    expenses: dict[int, list[Expense]] = defaultdict(list)
    for expense in Expense.objects.filter(contract__in=contracts).order_by("pk"):
        expenses[expense.contract_id].append(expense)
    fee_percent = entity.rate(Rate.Kind.FEE, issue_date)
    first, numbers = numbering.number_block(
        kind=Invoice.Kind.INVOICE,
        year=issue_date.year,
        entity_code=entity.code,
        count=len(contracts),
    )
    issued = []
    for offset, contract in enumerate(contracts):
        invoice, lines = _draft_for(contract, entity, issue_date, expenses[contract.pk], actor)
        taxes = _finalize(
            invoice,
            lines,
            entity,
            issue_date,
            sequence=first + offset,
            number=numbers[offset],
            fee_total=lambda net: percent_of(net, fee_percent, entity.currency),
        )
        issued.append((invoice, lines, taxes))
    invoices = Invoice.objects.bulk_create([invoice for invoice, _, _ in issued])
    _save_parts(issued)
    _book_many(invoices, actor=actor)
    signals.invoice_issued.send(sender=Invoice, invoices=invoices, actor=actor)
    for invoice in invoices:
        _after_issue(invoice)
    return invoices


def _book(
    invoice: Invoice,
    *,
    sign: Decimal,
    key: str,
    actor: User | None,
    new: bool = False,
    refund: Decimal = ZERO,
) -> None:
    """Book one document: its legs (see ``_legs``), under ``key``.

    ``refund``: the part of a credit note that the client had already paid; it is not taken
    off the receivable (nothing is due) but owed back to the client (client credit).
    """
    accounts = accounts_get(
        ["receivables", "vat_payable", "fee_income", "client_credit"],
        currency=invoice.currency,
        member_budget=(invoice.member_id, invoice.performer),
    )
    legs = _legs(invoice, sign, accounts)
    if refund:
        receivable = legs[0]
        legs[0] = Leg(receivable.account, receivable.amount + refund, receivable.reference)
        legs.append(Leg(accounts["client_credit"], -refund, receivable.reference))
    transaction_post(
        key=key,
        kind="invoice" if sign > 0 else "credit_note",
        known_new=new,
        description=f"{invoice.number} {invoice.buyer.get('name', '')}",
        occurred_on=invoice.issue_date,  # type: ignore[arg-type]
        actor=actor,
        legs=legs,
    )


def _legs(invoice: Invoice, sign: Decimal, accounts: dict[str, Account]) -> list[Leg]:
    """Receivable = VAT payable + the coop's fee + the member's activity budget."""
    reference = f"invoice:{invoice.credited_invoice_id or invoice.pk}"
    return [
        Leg(accounts["receivables"], sign * invoice.gross_total, reference),
        Leg(accounts["vat_payable"], -sign * invoice.vat_total, reference),
        Leg(accounts["fee_income"], -sign * invoice.fee_total, reference),
        Leg(accounts["budget"], -sign * (invoice.net_total - invoice.fee_total), reference),
    ]


def _book_many(invoices: list[Invoice], *, actor: User | None) -> None:
    """Book new invoices (keys known to be new: their contracts are locked) in two statements."""
    currency = invoices[0].currency
    accounts = accounts_get(["receivables", "vat_payable", "fee_income"], currency=currency)
    budgets = budget_accounts_get(
        {invoice.member_id: invoice.performer for invoice in invoices}, currency=currency
    )
    transactions_post_new(
        [
            Post(
                key=f"invoice:{invoice.pk}:issue",
                kind="invoice",
                description=f"{invoice.number} {invoice.buyer.get('name', '')}",
                occurred_on=invoice.issue_date,  # type: ignore[arg-type]
                legs=_legs(invoice, Decimal(1), {**accounts, "budget": budgets[invoice.member_id]}),
            )
            for invoice in invoices
        ],
        actor=actor,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, actor: User | None, reason: str, net_amount: Decimal | None = None
) -> Invoice:
    """Credit an issued invoice in full, or in part (``net_amount`` excl. VAT).

    Effects: locks the invoice; refuses more than what is left to credit; a full credit copies
    the lines, a partial one is a single line at the invoice's VAT rate; gives the credit note
    its own number (gapless sequence); reverses the ledger booking in proportion; lowers what
    the client owes; schedules the documents on commit.
    """
    entity = current_entity()
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state == Invoice.State.DRAFT:
        raise DomainError(_("Only an issued invoice can be credited."), field="invoice")
    if not reason.strip():
        raise DomainError(_("Say why the invoice is credited."), field="reason")
    earlier = list(invoice.credit_notes.all())
    credited_net = sum((note.net_total for note in earlier), ZERO)
    left = invoice.net_total - credited_net
    lines_source = list(invoice.lines.all())
    if net_amount is None:
        if credited_net:
            raise DomainError(
                _("Part of this invoice is already credited: credit the rest as an amount."),
                field="net_amount",
            )
        lines = [
            InvoiceLine(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                net_amount=line.net_amount,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
            )
            for line in lines_source
        ]
    else:
        net_amount = quantize(net_amount, invoice.currency)
        if not ZERO < net_amount <= left:
            raise DomainError(
                _("The amount to credit must be more than 0 and at most %(left)s.")
                % {"left": left},
                field="net_amount",
            )
        rates = {(line.vat_category, line.vat_rate) for line in lines_source}
        if len(rates) != 1:
            raise DomainError(
                _("An invoice with several VAT rates is credited in full."), field="net_amount"
            )
        ((category, rate),) = rates
        lines = [
            InvoiceLine(
                kind=InvoiceLine.Kind.WORK,
                description=(
                    _("Partial credit of %(number)s: %(reason)s")
                    % {"number": invoice.number, "reason": reason}
                )[:300],
                unit_price=net_amount,
                net_amount=net_amount,
                vat_category=category,
                vat_rate=rate,
            )
        ]
    note = Invoice(
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=invoice,
        contract=invoice.contract,
        client=invoice.client,
        member=invoice.member,
        currency=invoice.currency,
        language=invoice.language,
        vat_treatment=invoice.vat_treatment,
        seller=invoice.seller,
        buyer=invoice.buyer,
        performer=invoice.performer,
        note=reason,
        created_by=actor,
    )
    issue_date = entity_today(entity)
    note.due_date = issue_date
    # The note that credits what is left takes exactly what is left of the VAT and of the fee,
    # so that partial notes add up to the invoice to the cent; others take their share.
    closing = net_amount is None or net_amount == left
    fee_left = invoice.fee_total - sum((n.fee_total for n in earlier), ZERO)
    sequence, number = numbering.number_next(
        kind=note.kind, year=issue_date.year, entity_code=entity.code
    )
    taxes = _finalize(
        note,
        lines,
        entity,
        issue_date,
        sequence=sequence,
        number=number,
        fee_total=lambda net: (
            fee_left
            if closing
            else quantize(invoice.fee_total * net / invoice.net_total, invoice.currency)
        ),
    )
    if closing and len(taxes) == 1:
        taxes[0].tax_amount = invoice.vat_total - sum((n.vat_total for n in earlier), ZERO)
        note.vat_total = taxes[0].tax_amount
        note.gross_total = note.net_total + note.vat_total
    note.save()
    _save_parts([(note, lines, taxes)])
    # What the client still owed is cancelled; what they had already paid is owed back.
    cancelled = min(note.gross_total, max(invoice.balance_due, ZERO))
    _book(
        note,
        sign=Decimal(-1),
        key=f"credit_note:{note.pk}:issue",
        actor=actor,
        new=True,
        refund=note.gross_total - cancelled,
    )
    invoice.amount_credited += cancelled
    if invoice.balance_due <= ZERO:
        invoice.state = (
            Invoice.State.CREDITED if invoice.amount_paid == ZERO else Invoice.State.PAID
        )
    invoice.save(update_fields=["amount_credited", "state"])
    signals.credit_note_issued.send(sender=Invoice, credit_note=note, invoice=invoice, actor=actor)
    _after_issue(note)
    return note


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice | None,
    amount: Decimal,
    received_on: datetime.date,
    actor: User | None,
    source: str = Payment.Source.MANUAL,
    statement_line: StatementLine | None = None,
    note: str = "",
    key: str | None = None,
) -> Payment:
    """Record money received: for ``invoice``, or, with no invoice, waiting to be matched.

    Effects: locks the invoice; applies at most what it still owes (the rest is the client's
    credit, an overpayment); books bank / receivable (/ client credit, or unallocated receipts)
    under an idempotency key (the statement line's, when it comes from the bank); updates what
    is paid and the state; tells the guarantee fund on commit (``signals.payment_applied``).
    """
    entity = current_entity()
    currency = entity.currency
    amount = quantize(amount, currency)
    if amount <= ZERO:
        raise DomainError(_("A payment is more than zero."), field="amount")
    key = key or (
        f"payment:line:{statement_line.pk}"
        if statement_line is not None
        else f"payment:{uuid.uuid4()}"
    )
    if invoice is not None:
        # Under the invoice's lock, so that the same payment recorded twice at once is
        # recorded once.
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    existing = Payment.objects.filter(ledger_transaction__idempotency_key=key).first()
    if existing is not None:
        return existing
    bank = account_get("bank", currency=currency)
    if invoice is None:
        posted, _created = transaction_post(
            key=key, kind="receipt_unallocated", description=note or _("Payment to match"),
            occurred_on=received_on, actor=actor,
            legs=[
                Leg(bank, amount),
                Leg(account_get("unallocated_receipts", currency=currency), -amount),
            ],
        )  # fmt: skip
        return Payment.objects.create(
            invoice=None, amount=amount, currency=currency, received_on=received_on,
            source=source, statement_line=statement_line, note=note,
            ledger_transaction=posted, created_by=actor,
        )  # fmt: skip
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state not in Invoice.OPEN_STATES:
        raise DomainError(
            _("Invoice %(number)s is not waiting for a payment.") % {"number": invoice.number},
            field="invoice",
        )
    applied = min(amount, invoice.balance_due)
    excess = amount - applied
    reference = f"invoice:{invoice.pk}"
    posted, _created = transaction_post(
        key=key,
        kind="payment",
        description=f"{invoice.number} {note}".strip(),
        occurred_on=received_on,
        actor=actor,
        legs=[
            Leg(bank, amount, reference),
            Leg(account_get("receivables", currency=currency), -applied, reference),
            Leg(account_get("client_credit", currency=currency), -excess, reference),
        ],
    )
    payment = Payment.objects.create(
        invoice=invoice, amount=amount, currency=currency, received_on=received_on, source=source,
        statement_line=statement_line, note=note, ledger_transaction=posted, created_by=actor,
    )  # fmt: skip
    payment_apply(invoice=invoice, amount=amount)
    return payment


def payment_apply(*, invoice: Invoice, amount: Decimal) -> tuple[Decimal, Decimal]:
    """Apply money received (already booked) to the locked ``invoice``: (applied, excess).

    What is applied is at most what the invoice still owes; the invoice's paid amount and
    state follow; the guarantee fund is told on commit (``signals.payment_applied``). The
    caller holds the invoice's row lock and has booked the money.
    """
    applied = min(amount, invoice.balance_due)
    invoice.amount_paid += applied
    invoice.state = (
        Invoice.State.PAID if invoice.balance_due <= ZERO else Invoice.State.PARTIALLY_PAID
    )
    invoice.save(update_fields=["amount_paid", "state"])
    transaction.on_commit(
        partial(
            signals.payment_applied.send,
            sender=Payment,
            invoice_id=invoice.pk,
            amount=applied,
            schema=current_schema(),
        )
    )
    return applied, amount - applied


def invoices_issue_due(
    *, as_of: datetime.date, actor: User | None = None, batch: int = 200
) -> list[Invoice]:
    """Invoice every approved contract whose work ended before ``as_of`` and has no invoice.

    Oldest first, ``batch`` contracts per database transaction (``invoices_issue_batch``: one
    durable commit for many invoices). If a batch fails, its contracts are issued one by one
    so that one refusal (logged, left to be invoiced by hand) does not hold the others back.
    """
    log = logging.getLogger(__name__)
    issued: list[Invoice] = []
    contracts = list(
        Contract.objects.filter(state=Contract.State.APPROVED, last_day__lt=as_of)
        .exclude(invoices__kind=Invoice.Kind.INVOICE)
        .order_by("last_day", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(contracts), batch):
        chunk = contracts[start : start + batch]
        try:
            issued += invoices_issue_batch(contract_ids=chunk, issue_date=as_of, actor=actor)
        except DomainError:
            for contract_id in chunk:
                try:
                    issued.append(
                        invoice_issue(
                            contract=Contract(pk=contract_id), actor=actor, issue_date=as_of
                        )
                    )
                except DomainError as error:
                    log.warning("contract %s not invoiced: %s", contract_id, error)
    return issued
