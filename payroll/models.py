"""Dated payroll parameters of the entity (this schema): one row per category and version.

A new rate is a new row with a later ``valid_from``; rows are never edited, so a salary keeps
the id of the row it was computed with and is never recomputed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


class Category(models.TextChoices):
    STANDARD = "standard", _("standard")
    # Belgium: contributions on 108 % of the gross for artists and manual workers.
    ARTIST_MANUAL = "artist_manual", _("artist or manual worker")


class WithholdingMethod(models.TextChoices):
    BE_KEY_FORMULA = "be_key_formula", _("Belgian key formula (Annex III AR/CIR 92)")
    FLAT = "flat", _("flat rate")
    NONE = "none", _("none")


def _percent(label: StrOrPromise) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(label, max_digits=7, decimal_places=4)


def _source() -> models.TextField[str, str]:
    return models.TextField(_("source"))


def _verified() -> models.BooleanField[bool, bool]:
    return models.BooleanField(_("source verified"), default=False)


class PayrollParameters(models.Model):
    """What turns an invoiced amount into a salary, for one category, from ``valid_from``.

    Each value carries its source and whether the source was confirmed; an unverified value is a
    documented approximation and makes the salaries computed with it estimates.
    """

    category = models.CharField(_("category"), max_length=20, choices=Category)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    fee_percent = _percent(_("cooperative fee (% of the amount invoiced excl. VAT)"))
    fee_source = _source()
    fee_verified = _verified()

    guarantee_percent = _percent(_("guarantee fund contribution (% of the amount invoiced)"))
    guarantee_on_top = models.BooleanField(
        _("guarantee contribution on top of the fee"),
        default=False,
        help_text=_("Off: the contribution is the part of the fee that funds the guarantee."),
    )
    guarantee_source = _source()
    guarantee_verified = _verified()

    employer_percent = _percent(_("employer contributions (% of the contribution base)"))
    base_factor = models.DecimalField(
        _("contribution base (x gross)"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    employer_source = _source()
    employer_verified = _verified()

    employee_percent = _percent(_("employee contributions (% of the contribution base)"))
    employee_source = _source()
    employee_verified = _verified()

    withholding_method = models.CharField(
        _("withholding tax method"), max_length=20, choices=WithholdingMethod
    )
    withholding_percent = models.DecimalField(
        _("flat withholding rate"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    # The key formula's scale: professional expenses, brackets, exemption reduction (strings).
    withholding_scale = models.JSONField(_("withholding scale"), default=dict, blank=True)
    withholding_source = _source()
    withholding_verified = _verified()

    expenses_untaxed = models.BooleanField(_("expenses reimbursed untaxed"), default=True)
    expenses_max_per_day = models.DecimalField(
        _("reimbursable expenses, maximum per day"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    expenses_source = _source()
    expenses_verified = _verified()

    minimum_hourly_gross = models.DecimalField(
        _("minimum gross pay per hour"), max_digits=14, decimal_places=2
    )
    minimum_source = _source()
    minimum_verified = _verified()

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payroll parameters")
        verbose_name_plural = _("payroll parameters")
        ordering = ["category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "valid_from"], name="payroll_parameters_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="payroll_parameters_valid_period",
            ),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lte=100)
                & Q(guarantee_percent__gte=0, guarantee_percent__lte=100)
                & Q(employer_percent__gte=0, employer_percent__lte=100)
                & Q(employee_percent__gte=0, employee_percent__lte=100),
                name="payroll_parameters_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(base_factor__gte=1), name="payroll_parameters_base_factor"
            ),
            models.CheckConstraint(
                condition=~Q(withholding_method="flat") | Q(withholding_percent__isnull=False),
                name="payroll_parameters_flat_rate_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} from {self.valid_from.isoformat()}"

    @property
    def verified(self) -> bool:
        """Every value the conversion uses comes from a confirmed source."""
        return all(
            (
                self.fee_verified,
                self.guarantee_verified,
                self.employer_verified,
                self.employee_verified,
                self.withholding_verified,
            )
        )


class PermanentContract(models.Model):
    """Form (b): an open-ended employment with salary smoothing.

    The member's invoices fill their activity budget account (booked at issue); each month's
    run pays the agreed ``monthly_gross`` from it, whatever was invoiced that month. It covers
    whole months, from ``first_month`` to ``last_month`` (open while ``last_month`` is empty);
    a new gross is a new contract starting the month after the previous one ends. While a
    member has one, their invoices get no payslip of their own: only their expenses are
    reimbursed on the monthly payslip.
    """

    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="permanent_contracts",
        verbose_name=_("member"),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category)
    monthly_gross = models.DecimalField(_("monthly gross salary"), max_digits=14, decimal_places=2)
    hours_per_month = models.DecimalField(
        _("hours per month"), max_digits=6, decimal_places=2, default=Decimal("164.67")
    )
    currency = models.CharField(_("currency"), max_length=3)
    first_month = models.DateField(_("first month"))
    last_month = models.DateField(_("last month"), null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agreed by"),
    )
    agreed_at = models.DateTimeField(_("agreed at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    # The day the advisor was last told the 6-month projection turns negative; cleared when it
    # is positive again, so that an advisor is told once per episode.
    alerted_on = models.DateField(_("advisor alerted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("permanent contract")
        verbose_name_plural = _("permanent contracts")
        ordering = ["member", "-first_month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_month__day=1), name="permanentcontract_first_month_day"
            ),
            models.CheckConstraint(
                condition=Q(last_month__isnull=True)
                | (Q(last_month__day=1) & Q(last_month__gte=models.F("first_month"))),
                name="permanentcontract_last_month",
            ),
            models.CheckConstraint(
                condition=Q(monthly_gross__gt=0) & Q(hours_per_month__gt=0),
                name="permanentcontract_positive",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(last_month__isnull=True),
                name="permanentcontract_one_open_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.monthly_gross} {self.currency}/month"


class SalaryRun(models.Model):
    """The salaries of one period of the entity: every payslip due once the work is done.

    A payslip is never recomputed or edited: a recalculation only adds what is missing, and a
    correction is a new payslip (or line) in a later run.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        CALCULATED = "calculated", _("calculated")
        APPROVED = "approved", _("approved")
        PAID = "paid", _("paid")
        EXPORTED = "exported", _("exported")

    TRANSITIONS: dict[str, frozenset[str]] = {
        # calculated -> calculated: a recalculation adds the salaries due since.
        State.DRAFT: frozenset({State.CALCULATED}),
        State.CALCULATED: frozenset({State.CALCULATED, State.APPROVED}),
        State.APPROVED: frozenset({State.PAID}),
        State.PAID: frozenset({State.EXPORTED}),
        State.EXPORTED: frozenset(),
    }

    period = models.DateField(_("period (first day of the month)"), unique=True)
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    calculated_at = models.DateTimeField(_("calculated at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("salary run")
        verbose_name_plural = _("salary runs")
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(condition=Q(period__day=1), name="salaryrun_period_first_day"),
        ]
        permissions = [
            ("approve_salaryrun", _("Can approve salary runs")),
            ("export_salaryrun", _("Can export salary runs")),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} ({self.state})"


def _money(label: StrOrPromise) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(label, max_digits=14, decimal_places=2)


class Payslip(models.Model):
    """One salary, with the parameters version it was computed with; never edited.

    A fixed-term payslip pays one invoice's contract; a monthly payslip pays a permanent
    contract's month; a correction adds, in a later run, what a payslip should have had.
    """

    class Kind(models.TextChoices):
        FIXED_TERM = "fixed_term", _("fixed-term contract")
        MONTHLY = "monthly", _("permanent contract, monthly salary")
        CORRECTION = "correction", _("correction")

    run = models.ForeignKey(SalaryRun, on_delete=models.PROTECT, related_name="payslips")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="payslips")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.FIXED_TERM)
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        related_name="payslips",
        null=True,
        blank=True,
    )
    permanent_contract = models.ForeignKey(
        PermanentContract,
        on_delete=models.PROTECT,
        related_name="payslips",
        null=True,
        blank=True,
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="corrections",
        null=True,
        blank=True,
        verbose_name=_("corrects"),
    )
    reason = models.TextField(_("reason"), blank=True)
    # Paid out on its own by the guarantee fund within days of the work's end: its booking and
    # bank transfer were made then, so the run's approval and payment leave it out.
    paid_out = models.BooleanField(_("paid out on its own"), default=False)
    parameters = models.ForeignKey(
        PayrollParameters, on_delete=models.PROTECT, related_name="payslips"
    )
    budget = _money(_("salary budget"))
    gross = _money(_("gross salary"))
    employer_contributions = _money(_("employer contributions"))
    employee_contributions = _money(_("employee contributions"))
    taxable = _money(_("taxable"))
    withholding = _money(_("withholding tax"))
    net = _money(_("net salary"))
    expenses = _money(_("expenses reimbursed"))
    budget_remainder = _money(_("budget remainder"))
    currency = models.CharField(_("currency"), max_length=3)
    # Some parameter used is a documented approximation (unverified source).
    is_estimate = models.BooleanField(_("estimate"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payslip")
        verbose_name_plural = _("payslips")
        ordering = ["run", "member", "pk"]
        permissions = [("correct_payslip", _("Can correct payslips"))]
        constraints = [
            # One salary per invoice, whatever the run: a payslip is never computed twice.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(kind="fixed_term"),
                name="payslip_one_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["permanent_contract", "run"],
                condition=Q(kind="monthly"),
                name="payslip_one_month_per_permanent_contract",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="fixed_term",
                        invoice__isnull=False,
                        permanent_contract__isnull=True,
                        corrects__isnull=True,
                    )
                    | Q(
                        kind="monthly",
                        invoice__isnull=True,
                        permanent_contract__isnull=False,
                        corrects__isnull=True,
                    )
                    | Q(kind="correction", corrects__isnull=False)
                ),
                name="payslip_kind_source",
            ),
            models.CheckConstraint(
                condition=Q(net=models.F("taxable") - models.F("withholding")),
                name="payslip_net_is_taxable_less_withholding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.net} {self.currency}"

    @property
    def to_pay(self) -> Decimal:
        """What the member receives for this payslip: net salary and expenses."""
        return self.net + self.expenses


class PayslipLine(models.Model):
    class Code(models.TextChoices):
        INVOICED = "invoiced", _("amount invoiced excl. VAT")
        FEE = "fee", _("cooperative fee")
        GUARANTEE = "guarantee", _("guarantee fund contribution")
        EXPENSES = "expenses", _("expenses reimbursed")
        BUDGET = "budget", _("salary budget")
        GROSS = "gross", _("gross salary")
        EMPLOYER = "employer", _("employer contributions")
        EMPLOYEE = "employee", _("employee contributions")
        TAXABLE = "taxable", _("taxable")
        WITHHOLDING = "withholding", _("withholding tax")
        NET = "net", _("net salary")
        REMAINDER = "remainder", _("budget remainder")

    payslip = models.ForeignKey(Payslip, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    code = models.CharField(_("code"), max_length=12, choices=Code)
    label = models.CharField(_("label"), max_length=100)
    base = models.DecimalField(_("base"), max_digits=14, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True)
    amount = _money(_("amount"))

    class Meta:
        verbose_name = _("payslip line")
        verbose_name_plural = _("payslip lines")
        ordering = ["payslip", "position"]
        constraints = [
            models.UniqueConstraint(fields=["payslip", "position"], name="payslipline_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}: {self.amount}"


class ReimbursedInvoice(models.Model):
    """An invoice of a member under a permanent contract, taken up by a monthly payslip.

    Its budget went to the activity budget account when it was issued; the monthly payslip
    reimburses its expenses, once: the invoice is unique here.
    """

    payslip = models.ForeignKey(
        Payslip, on_delete=models.PROTECT, related_name="reimbursed_invoices"
    )
    invoice = models.OneToOneField(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="reimbursed_by"
    )
    expenses = _money(_("expenses reimbursed"))

    class Meta:
        verbose_name = _("invoice taken up by a monthly payslip")
        verbose_name_plural = _("invoices taken up by monthly payslips")

    def __str__(self) -> str:
        return f"{self.invoice_id} -> {self.payslip_id}"
