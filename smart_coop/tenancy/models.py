from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from smart_coop.errors import DomainError


class RateNotFoundError(DomainError, LookupError):
    """The entity has no rate or amount of this kind for the day asked: the day is out of range.

    Every caller asks about the first day of the work, hence the field.
    """

    def __init__(self, entity: Entity, kind: str, on: datetime.date) -> None:
        super().__init__(
            gettext("%(entity)s has no %(kind)s for %(day)s: choose a later date.")
            % {"entity": entity.legal_name, "kind": kind.replace("_", " "), "day": on.isoformat()},
            field="first_day",
            code="no_rate",
        )


def dunning_days_default() -> list[int]:
    return [7, 21, 35]


class PayoutDelayUnit(models.TextChoices):
    CALENDAR = "calendar", _("calendar days")
    WORKING = "working", _("working days")


class HiringDeclaration(models.TextChoices):
    DIMONA = "dimona", "Dimona (BE)"
    DPAE = "dpae", "DPAE (FR)"
    UNILAV = "unilav", "UNILAV (IT)"
    DEUEV = "deuev", "DEÜV Anmeldung (DE)"
    ALTA = "alta", "Alta Seguridad Social (ES)"
    ELDA = "elda", "ÖGK Anmeldung ELDA (AT)"
    T1041 = "t1041", "T1041 (HU)"


class Entity(TenantMixin):
    """A country entity of the cooperative: one PostgreSQL schema, its own members and books.

    The public schema has a row too (``schema_name == "public"``): it routes the public site.
    """

    code = models.SlugField(_("code"), max_length=16, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    company_number = models.CharField(_("company number"), max_length=30, blank=True)
    peppol_id = models.CharField(_("Peppol participant id"), max_length=60, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    languages = ArrayField(
        models.CharField(max_length=8),
        verbose_name=_("languages"),
        default=list,
        help_text=_("The first is the entity's default language."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    payout_delay_days = models.PositiveSmallIntegerField(_("payout delay (days)"), default=7)
    payout_delay_unit = models.CharField(
        _("payout delay counted in"),
        max_length=10,
        choices=PayoutDelayUnit,
        default=PayoutDelayUnit.CALENDAR,
    )
    payout_delay_source = models.CharField(_("payout delay source"), max_length=300, blank=True)
    hiring_declaration = models.CharField(
        _("declaration of employment"),
        max_length=10,
        choices=HiringDeclaration,
        blank=True,
        help_text=_("Made to the authority before the work starts."),
    )
    # Days after the due date: first reminder, second reminder, formal notice (invoicing.dunning).
    dunning_days = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("reminders after the due date (days)"),
        default=dunning_days_default,
        help_text=_("First reminder, second reminder, formal notice."),
    )
    collection_days = models.PositiveSmallIntegerField(
        _("collection after the due date (days)"),
        default=50,
        help_text=_("After the formal notice, an unpaid invoice goes to collection on this day."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("entity")
        verbose_name_plural = _("entities")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code.upper()} {self.legal_name}"

    @property
    def is_public(self) -> bool:
        return bool(self.schema_name == get_public_schema_name())

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    def rate(self, kind: str, on: datetime.date) -> Decimal:
        """The percentage of ``kind`` valid on ``on``: the latest version in force (a new
        version supersedes an older one without closing it)."""
        found = (
            self.rates.filter(kind=kind, valid_from__lte=on)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))
            .order_by("-valid_from", "-percent")
            .first()
        )
        if found is None:
            raise RateNotFoundError(self, kind, on)
        return found.percent

    def amount(self, kind: str, on: datetime.date) -> Decimal:
        """The amount of ``kind`` valid on ``on``, in the entity's currency."""
        found = (
            self.amounts.filter(kind=kind, valid_from__lte=on)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))
            .order_by("-valid_from")
            .first()
        )
        if found is None:
            raise RateNotFoundError(self, kind, on)
        return found.amount

    def rates_in_force(self, kind: str, on: datetime.date) -> list[Decimal]:
        """The percentages of ``kind`` valid on ``on``, highest first."""
        return [
            rate.percent
            for rate in self.rates.filter(kind=kind, valid_from__lte=on)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))
            .order_by("-percent")
        ]


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return str(self.domain)


class Rate(models.Model):
    """A dated percentage of an entity (VAT, the coop's fee...), with the source it comes from.

    A new rate is a new row with a later ``valid_from``; rows are never edited, so what was
    computed with an old rate can always be explained.
    """

    class Kind(models.TextChoices):
        VAT_STANDARD = "vat_standard", _("VAT, standard rate")
        VAT_REDUCED = "vat_reduced", _("VAT, reduced rate")
        VAT_SUPER_REDUCED = "vat_super_reduced", _("VAT, super-reduced rate")
        FEE = "fee", _("cooperative fee on the amount invoiced excl. VAT")
        GUARANTEE_CONTRIBUTION = "guarantee_contribution", _("guarantee fund contribution")
        EMPLOYER_CONTRIBUTION = "employer_contribution", _("employer social contributions")
        EMPLOYEE_CONTRIBUTION = "employee_contribution", _("employee social contributions")
        WITHHOLDING_ESTIMATE = "withholding_estimate", _("withholding tax (estimate)")
        LATE_INTEREST_B2B = "late_interest_b2b", _("late payment interest, business clients")

    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="rates", verbose_name=_("entity")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    percent = models.DecimalField(_("percent"), max_digits=7, decimal_places=4)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(
        _("source verified"),
        default=False,
        help_text=_("Unverified rates are working values to be confirmed by the entity admin."),
    )

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["entity", "kind", "-valid_from", "-percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "percent", "valid_from"], name="rate_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="rate_percent_range"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="rate_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity.code} {self.get_kind_display()} {self.percent} %"


class Amount(models.Model):
    """A dated amount of an entity, in its currency (minimum pay, ceilings), with its source."""

    class Kind(models.TextChoices):
        MINIMUM_HOURLY_GROSS = "minimum_hourly_gross", _("minimum gross pay per hour")
        CONTRACT_PRICE_CEILING = "contract_price_ceiling", _("highest price of one contract")
        LATE_PAYMENT_COMPENSATION = (
            "late_payment_compensation",
            _("fixed compensation for recovery costs"),
        )

    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="amounts", verbose_name=_("entity")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(_("source verified"), default=False)

    class Meta:
        verbose_name = _("amount")
        verbose_name_plural = _("amounts")
        ordering = ["entity", "kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "valid_from"], name="amount_unique_version"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="amount_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="amount_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity.code} {self.get_kind_display()} {self.amount} {self.entity.currency}"
