"""The mutual guarantee fund of the entity (this schema): its policy, payouts and history.

The money itself is in the ledger (accounts ``fund_reserve``, ``fund_advances``,
``fund_losses``); these tables say which contract is paid when, why a contract is not
guaranteed, which advance waits for an advisor, and how the fund's position moved over time.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


def _money(label: StrOrPromise, **kwargs: object) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(label, max_digits=14, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class FundPolicy(models.Model):
    """The entity's rules for the fund: one row per schema (``FundPolicy.current()``).

    The contribution rate and whether it is inside the fee or on top are payroll parameters
    (dated); the payout delay and how it is counted are on the entity.
    """

    # Eligibility rules an entity may add to the two that always hold (contract approved
    # before the work, client not blocked).
    require_eu_client = models.BooleanField(_("only clients established in the EU"), default=False)
    require_confirmed_order = models.BooleanField(
        _("only contracts with an order confirmed by the client"), default=False
    )
    client_exposure_limit = _money(
        _("open advances per client before an advisor must approve"),
        default=Decimal("50000.00"),
    )
    coverage_floor = models.DecimalField(
        _("coverage floor (reserve / open advances)"),
        max_digits=7,
        decimal_places=4,
        default=Decimal("0.2000"),
        help_text=_("Below it, the entity admins are alerted."),
    )
    # The day the entity admins were last alerted; cleared when coverage is above the floor.
    floor_alerted_on = models.DateField(_("floor alert sent on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("fund policy")
        verbose_name_plural = _("fund policy")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="fundpolicy_single_row"),
            models.CheckConstraint(
                condition=Q(client_exposure_limit__gte=0) & Q(coverage_floor__gte=0),
                name="fundpolicy_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return str(_("fund policy"))

    @classmethod
    def current(cls) -> FundPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Payout(models.Model):
    """The salary of one contract, paid by the fund at the latest on ``due_on``: never twice.

    One row per contract (the idempotency key ``payout:<contract id>`` in the ledger says the
    same): created when the invoice is issued, paid by the payout job once due.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        # Above the client's exposure limit: waits for an advisor, still due on time.
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting an advisor's approval")
        PAID = "paid", _("paid")
        # Not guaranteed: the salary comes with the salary run once the client has paid.
        NOT_GUARANTEED = "not_guaranteed", _("not guaranteed")
        CANCELLED = "cancelled", _("cancelled")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.SCHEDULED: frozenset({State.AWAITING_APPROVAL, State.PAID, State.CANCELLED}),
        State.AWAITING_APPROVAL: frozenset({State.SCHEDULED, State.PAID, State.CANCELLED}),
        State.NOT_GUARANTEED: frozenset({State.CANCELLED}),
        State.PAID: frozenset(),
        State.CANCELLED: frozenset(),
    }

    contract = models.OneToOneField(
        "members.Contract", on_delete=models.PROTECT, related_name="payout"
    )
    invoice = models.OneToOneField(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="payout"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="payouts")
    client = models.ForeignKey("members.Client", on_delete=models.PROTECT, related_name="payouts")
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.SCHEDULED)
    due_on = models.DateField(_("due on"))
    guaranteed = models.BooleanField(_("guaranteed"))
    # Why the fund does not guarantee it, in words the member reads (empty when guaranteed).
    not_guaranteed_reason = models.TextField(_("why it is not guaranteed"), blank=True)
    # The invoice's amount excl. VAT the fund advances, and what the client still owes of it.
    advance = _money(_("advance"), default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3)
    payslip = models.OneToOneField(
        "payroll.Payslip",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payout",
    )
    paid_amount = _money(_("paid to the member"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    batch = models.ForeignKey(
        "PayoutBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payouts",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["state", "due_on"], name="payout_state_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="paid") | (Q(payslip__isnull=False) & Q(paid_at__isnull=False)),
                name="payout_paid_has_payslip",
            ),
            models.CheckConstraint(
                condition=Q(guaranteed=True) | ~Q(not_guaranteed_reason=""),
                name="payout_not_guaranteed_has_reason",
            ),
            models.CheckConstraint(condition=Q(advance__gte=0), name="payout_advance_positive"),
        ]
        permissions = [("approve_payout", _("Can approve advances above a client's limit"))]

    def __str__(self) -> str:
        return f"payout {self.contract_id} {self.state} {self.due_on.isoformat()}"


class PayoutBatch(models.Model):
    """The SEPA credit transfer file (pain.001) of one day's payouts."""

    execution_date = models.DateField(_("execution date"), unique=True)
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    file = models.FileField(_("file"), upload_to="payouts/", blank=True)
    total = _money(_("total"), default=Decimal(0))
    transfers = models.PositiveIntegerField(_("transfers"), default=0)
    # How many transfers the stored file holds: behind ``transfers`` until it is rendered again
    # (after the payouts' transactions commit; a crash in between is caught up by the next run).
    file_transfers = models.PositiveIntegerField(_("transfers in the file"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-execution_date"]

    def __str__(self) -> str:
        return f"{self.execution_date.isoformat()} ({self.transfers})"


class CoverageSnapshot(models.Model):
    """The fund's position at the end of a day, for the coverage chart and the owners."""

    day = models.DateField(_("day"), unique=True)
    contributions = _money(_("contributions"))
    losses = _money(_("losses"))
    reserve = _money(_("reserve"))
    open_advances = _money(_("open advances"))
    overdue_advances = _money(_("overdue advances"))
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day.isoformat()}: {self.reserve} / {self.open_advances}"

    @property
    def coverage(self) -> Decimal | None:
        """Reserve / open advances; None when nothing is advanced."""
        if not self.open_advances:
            return None
        return (self.reserve / self.open_advances).quantize(Decimal("0.0001"))
