"""Invoices and credit notes issued in the entity's name, their payments and bank statements.

An issued document is never edited or deleted (the database refuses it, see migration 0002):
the seller, the buyer and every figure are snapshotted at issue; a mistake is corrected by a
credit note. Drafts carry no number; numbers come from ``numbering`` at issue time.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smart_coop.db import TransactionNow


class VatCategory(models.TextChoices):
    """UNCL5305 codes used by EN 16931."""

    STANDARD = "S", _("standard rate")
    REVERSE_CHARGE = "AE", _("reverse charge")
    EXPORT = "G", _("export outside the EU")
    INTRA_EU = "K", _("intra-community supply")
    EXEMPT = "E", _("exempt")
    ZERO = "Z", _("zero rated")


def _document_path(instance: Invoice, filename: str) -> str:
    # Under the entity's folder (the storage adds the schema); named by number.
    return f"invoices/{instance.issue_date:%Y}/{filename}"


class Invoice(models.Model):
    """An invoice or a credit note: ``kind`` tells which; both share the same shape."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("invoice")
        CREDIT_NOTE = "credit_note", _("credit note")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")
        PARTIALLY_PAID = "partially_paid", _("partially paid")
        PAID = "paid", _("paid")
        IN_COLLECTION = "in_collection", _("in collection")
        WRITTEN_OFF = "written_off", _("written off")
        CREDITED = "credited", _("credited")

    OPEN_STATES = frozenset({State.ISSUED, State.PARTIALLY_PAID, State.IN_COLLECTION})

    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.INVOICE)
    number = models.CharField(_("number"), max_length=30, null=True, blank=True, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.DRAFT)
    contract = models.ForeignKey(
        "members.Contract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("contract"),
    )
    client = models.ForeignKey(
        "members.Client",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("client"),
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("member (performer)"),
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits the invoice"),
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=8)
    vat_treatment = models.CharField(_("VAT treatment"), max_length=16)
    # Who sells and who buys, as they were at issue (never read from live rows afterwards).
    seller = models.JSONField(_("seller"), default=dict)
    buyer = models.JSONField(_("buyer"), default=dict)
    performer = models.CharField(_("work performed by"), max_length=200, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=40, blank=True)
    net_total = models.DecimalField(
        _("total excl. VAT"), max_digits=14, decimal_places=2, default=0
    )
    vat_total = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, default=0)
    gross_total = models.DecimalField(
        _("total incl. VAT"), max_digits=14, decimal_places=2, default=0
    )
    fee_total = models.DecimalField(
        _("cooperative fee"), max_digits=14, decimal_places=2, default=0
    )
    # Paid and credited so far: kept by the services under the invoice's row lock.
    amount_paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=0)
    amount_credited = models.DecimalField(_("credited"), max_digits=14, decimal_places=2, default=0)
    note = models.TextField(_("note"), blank=True)
    dunning_level = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    pdf = models.FileField(_("PDF"), upload_to=_document_path, blank=True)
    ubl = models.FileField(_("UBL XML"), upload_to=_document_path, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set by the database when the row is written (documents are written at issue): the
    # triggers of migration 0004 accept lines only from the transaction that issues.
    issued_at = models.DateTimeField(
        _("issued at"), null=True, blank=True, db_default=TransactionNow()
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="draft", number__isnull=True)
                | (~Q(state="draft") & Q(number__isnull=False) & Q(issue_date__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_references_invoice",
            ),
            # One invoice per approved contract.
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(kind="invoice"),
                name="invoice_one_per_contract",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"])]
        permissions = [
            ("issue_invoice", _("Can issue invoices and credit notes")),
            ("record_payment", _("Can record payments and import bank statements")),
            ("write_off_invoice", _("Can write off an invoice")),
        ]

    def __str__(self) -> str:
        return self.number or _("draft %(id)s") % {"id": self.pk}

    @property
    def balance_due(self) -> Decimal:
        return self.gross_total - self.amount_paid - self.amount_credited

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        WORK = "work", _("work")
        EXPENSE = "expense", _("reimbursable expense")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    net_amount = models.DecimalField(_("amount excl. VAT"), max_digits=14, decimal_places=2)
    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=7, decimal_places=4)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"


class InvoiceTax(models.Model):
    """The VAT breakdown: one row per category and rate, VAT rounded once per row (BR-CO-17)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="taxes")
    category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4)
    taxable_amount = models.DecimalField(_("taxable amount"), max_digits=14, decimal_places=2)
    tax_amount = models.DecimalField(_("VAT amount"), max_digits=14, decimal_places=2)
    exemption_reason = models.CharField(_("exemption reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("VAT breakdown")
        verbose_name_plural = _("VAT breakdown")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "category", "rate"], name="invoicetax_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.rate} %: {self.tax_amount}"


class NumberSeries(models.Model):
    """The last number given per kind and year: the one place numbers come from (gapless)."""

    kind = models.CharField(_("kind"), max_length=12, choices=Invoice.Kind)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="numberseries_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class BankStatement(models.Model):
    """An imported bank statement file (CAMT.053); the same file twice is one statement."""

    file_hash = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    statement_id = models.CharField(_("statement id"), max_length=100)
    account_iban = models.CharField(_("account"), max_length=34)
    format = models.CharField(_("format"), max_length=10, default="camt.053")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.statement_id} ({self.account_iban})"


class StatementLine(models.Model):
    class Status(models.TextChoices):
        MATCHED = "matched", _("matched")
        PARTIAL = "partial", _("partly paid an invoice")
        OVERPAID = "overpaid", _("paid more than due")
        UNMATCHED = "unmatched", _("waiting for an accountant")
        IGNORED = "ignored", _("not a client payment")

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    # The bank's own reference of the entry: the same line in two statements is one payment.
    bank_reference = models.CharField(_("bank reference"), max_length=120, unique=True)
    booking_date = models.DateField(_("booking date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    counterparty_name = models.CharField(_("from"), max_length=200, blank=True)
    counterparty_iban = models.CharField(_("from account"), max_length=34, blank=True)
    structured_reference = models.CharField(_("structured reference"), max_length=40, blank=True)
    remittance_text = models.CharField(_("message"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_lines"
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["booking_date", "id"]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.currency} {self.counterparty_name}"


class Payment(models.Model):
    """Money received for an invoice (or not yet matched to one), booked in the ledger."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("recorded by hand")
        BANK = "bank", _("bank statement")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    source = models.CharField(_("source"), max_length=8, choices=Source)
    statement_line = models.ForeignKey(
        StatementLine, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    ledger_transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="payment"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    def __str__(self) -> str:
        return f"{self.received_on} {self.amount} {self.currency}"


class Delivery(models.Model):
    """A sending of a document to the client: when, to whom, what happened."""

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, default="email")
    recipient = models.CharField(_("to"), max_length=200)
    status = models.CharField(_("status"), max_length=8, choices=Status)
    error = models.TextField(_("error"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.invoice} -> {self.recipient} ({self.status})"


class DunningStep(models.Model):
    """A reminder or formal notice sent for an overdue invoice, with what it claimed."""

    class Level(models.IntegerChoices):
        REMINDER_1 = 1, _("first reminder")
        REMINDER_2 = 2, _("second reminder")
        FORMAL_NOTICE = 3, _("formal notice")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="dunning_steps")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level)
    sent_on = models.DateField(_("sent on"))
    days_late = models.PositiveIntegerField(_("days late"))
    interest_rate = models.DecimalField(
        _("interest rate (%)"), max_digits=7, decimal_places=4, default=0
    )
    interest = models.DecimalField(
        _("late payment interest"), max_digits=14, decimal_places=2, default=0
    )
    compensation = models.DecimalField(
        _("fixed compensation"), max_digits=14, decimal_places=2, default=0
    )
    balance_due = models.DecimalField(_("balance due"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("dunning step")
        verbose_name_plural = _("dunning steps")
        ordering = ["invoice", "level"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="dunning_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.get_level_display()}"
