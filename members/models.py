"""Members, their clients and the contracts they declare, with the review trail.

Models hold data and invariants only; every write goes through ``members.services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    ARTIST = "artist", _("artist")
    TECHNICIAN = "technician", _("technician")
    RIDER = "rider", _("rider")
    TRAINER = "trainer", _("trainer")
    CONSULTANT = "consultant", _("consultant")
    CARE = "care", _("care")
    OTHER = "other", _("other")


class Member(models.Model):
    """A person working through the cooperative in this entity: their file."""

    class State(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        LEFT = "left", _("left")

    # from -> allowed targets; every move is recorded in MemberStateChange.
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.APPLICANT: frozenset({State.ACTIVE, State.LEFT}),
        State.ACTIVE: frozenset({State.SUSPENDED, State.LEFT}),
        State.SUSPENDED: frozenset({State.ACTIVE, State.LEFT}),
        State.LEFT: frozenset(),
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="member",
        verbose_name=_("user"),
    )
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.APPLICANT)
    national_id = models.CharField(
        _("national identification number"),
        max_length=30,
        help_text=_("Belgian national register number, French NIR, Italian codice fiscale..."),
    )
    date_of_birth = models.DateField(_("date of birth"))
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    sector = models.CharField(_("activity sector"), max_length=12, choices=Sector)
    languages = ArrayField(
        models.CharField(max_length=8), verbose_name=_("languages"), default=list
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_members",
        verbose_name=_("advisor"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["national_id"], name="member_national_id_unique"),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name()


class MemberStateChange(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(_("from"), max_length=12, choices=Member.State)
    to_state = models.CharField(_("to"), max_length=12, choices=Member.State)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member state change")
        verbose_name_plural = _("member state changes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_state} -> {self.to_state}"


class Client(models.Model):
    """A client of the entity's members: one registry per entity, shared by its members."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("company")
        PUBLIC_BODY = "public_body", _("public body")
        PERSON = "person", _("private person")

    class Status(models.TextChoices):
        OK = "ok", _("ok")
        WATCH = "watch", _("watch")
        BLOCKED = "blocked", _("blocked")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    country = models.CharField(_("country"), max_length=2)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    company_number = models.CharField(_("company number"), max_length=30, blank=True)
    peppol_id = models.CharField(_("Peppol participant id"), max_length=60, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    email = models.EmailField(_("billing email"))
    language = models.CharField(_("language"), max_length=8, default="en")
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.OK)
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vat_number"], condition=~Q(vat_number=""), name="client_vat_unique"
            ),
            # EU Directive 2011/7: B2B terms above 60 days need express agreement; 120 is a
            # hard ceiling here.
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=120), name="client_payment_terms_max"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VatTreatment(models.TextChoices):
    DOMESTIC = "domestic", _("domestic VAT")
    REVERSE_CHARGE = "reverse_charge", _("intra-EU reverse charge")
    EXPORT = "export", _("export outside the EU")


class Partner(models.Model):
    """A platform (e.g. food delivery) that opens shifts for its workers through the API.

    It is invoiced as ``client``; its API user authenticates with a token. The agreement's rules
    decide whether a shift becomes an approved contract on its own.
    """

    name = models.CharField(_("name"), max_length=200)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="partners", verbose_name=_("client")
    )
    api_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner",
        verbose_name=_("API user"),
    )
    min_shift_hours = models.DecimalField(
        _("minimum shift length (hours)"), max_digits=4, decimal_places=2, default=3
    )
    min_hourly_net = models.DecimalField(
        _("minimum net pay per hour"), max_digits=10, decimal_places=2, default=10
    )
    sector = models.CharField(_("sector of its workers"), max_length=12, choices=Sector)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner platform")
        verbose_name_plural = _("partner platforms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """Work a member declares before doing it: the client, the days, the price."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        CHANGES_REQUESTED = "changes_requested", _("changes requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        CANCELLED = "cancelled", _("cancelled")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.DRAFT: frozenset({State.SUBMITTED, State.CANCELLED}),
        # back to draft = withdrawn by the member before review
        State.SUBMITTED: frozenset(
            {State.APPROVED, State.REJECTED, State.CHANGES_REQUESTED, State.DRAFT}
        ),
        State.CHANGES_REQUESTED: frozenset({State.SUBMITTED, State.CANCELLED}),
        State.APPROVED: frozenset({State.CANCELLED}),
        State.REJECTED: frozenset(),
        State.CANCELLED: frozenset(),
    }
    EDITABLE_STATES = frozenset({State.DRAFT, State.CHANGES_REQUESTED})

    class Source(models.TextChoices):
        PORTAL = "portal", _("declared by the member")
        PARTNER = "partner", _("opened by a partner platform")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("member")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("client")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description of the work"), blank=True)
    place = models.CharField(_("place of work"), max_length=200)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    price = models.DecimalField(_("price excl. VAT"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    vat_treatment = models.CharField(_("VAT treatment"), max_length=16, choices=VatTreatment)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=7, decimal_places=4)
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.DRAFT)
    source = models.CharField(_("source"), max_length=8, choices=Source, default=Source.PORTAL)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    partner_shift_id = models.CharField(_("partner's shift id"), max_length=100, blank=True)
    late_reason = models.CharField(
        _("reason for a declaration after the work started"), max_length=300, blank=True
    )
    overlaps = models.BooleanField(
        _("overlaps another contract"),
        default=False,
        help_text=_("Allowed, but the advisor checks it."),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-first_day", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="contract_days_in_order"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="contract_price_positive"),
            models.UniqueConstraint(
                fields=["partner", "partner_shift_id"],
                condition=Q(partner__isnull=False),
                name="contract_partner_shift_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "first_day"]),
            models.Index(fields=["member", "first_day", "last_day"]),
        ]
        permissions = [("review_contract", _("Can review contracts"))]

    def __str__(self) -> str:
        return f"{self.title} ({self.first_day:%Y-%m-%d})"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES

    @property
    def total_hours(self) -> Decimal:
        return sum((day.hours for day in self.work_days.all()), Decimal(0))


class WorkDay(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="work_days")
    day = models.DateField(_("day"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=2)

    class Meta:
        verbose_name = _("work day")
        verbose_name_plural = _("work days")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "day"], name="workday_unique_day"),
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="workday_hours_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hours} h"


def _contract_file_path(instance: Expense | Attachment, filename: str) -> str:
    # The storage already puts files under the entity's schema folder.
    return f"contracts/{instance.contract_id}/{filename}"


class Expense(models.Model):
    """A reimbursable expense budgeted on a contract (paid back untaxed, not salary)."""

    class Kind(models.TextChoices):
        TRAVEL = "travel", _("travel")
        ACCOMMODATION = "accommodation", _("accommodation")
        MEALS = "meals", _("meals")
        MATERIAL = "material", _("material and equipment")
        OTHER = "other", _("other")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="expenses")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    description = models.CharField(_("description"), max_length=200, blank=True)
    receipt = models.FileField(_("receipt"), upload_to=_contract_file_path, blank=True)

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        QUOTE = "quote", _("quote")
        SIGNED_ORDER = "signed_order", _("signed order")
        OTHER = "other", _("other")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    file = models.FileField(_("file"), upload_to=_contract_file_path)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file.name}"


class ContractEvent(models.Model):
    """The history of a contract: who did what, when, and which fields changed (old, new)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    action = models.CharField(_("action"), max_length=30)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract event")
        verbose_name_plural = _("contract history")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"


class EmploymentDeclaration(models.Model):
    """The declaration of employment made to the authority for one work period of a contract.

    The payload is stored in the shape the authority's interface expects. Its state moves only
    when an operator records what happened or an integration reports it: nothing here pretends a
    declaration was accepted.
    """

    class State(models.TextChoices):
        TO_SEND = "to_send", _("to send")
        SENT = "sent", _("sent")
        ACCEPTED = "accepted", _("accepted")
        ERROR = "error", _("error")
        CANCELLED = "cancelled", _("cancelled before sending")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.TO_SEND: frozenset({State.SENT, State.ERROR, State.CANCELLED}),
        State.SENT: frozenset({State.ACCEPTED, State.ERROR}),
        State.ERROR: frozenset({State.TO_SEND}),
        State.ACCEPTED: frozenset(),
        State.CANCELLED: frozenset(),
    }

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("contract")
    )
    kind = models.CharField(_("kind"), max_length=10)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    payload = models.JSONField(_("payload"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.TO_SEND)
    reference = models.CharField(_("authority's reference"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("employment declaration")
        verbose_name_plural = _("employment declarations")
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "period_start"], name="declaration_unique_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}..{self.period_end} ({self.get_state_display()})"
