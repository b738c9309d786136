"""Share register, general assemblies, secret ballots and board elections of one entity.

Models hold data and invariants only; every write goes through ``governance.services``.

The secret ballot rests on two tables that share nothing a voter can be found by:

* ``Participation`` says *who* voted (one row per voter on the roll, unique): it carries no
  receipt, no choice and no reference to a ballot.
* ``Ballot`` and ``ElectionBallot`` say *what* was voted: keyed by a random id, grouped by a
  random receipt code, with no column (no voter, no timestamp, no serial number) and no index
  that points back to a voter. A voter may change their vote only by presenting the receipt's
  secret, of which the database keeps a SHA-256 hash.

See ``governance/PRIVACY.md`` for the argument and its limits.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from smart_coop.money import MINOR_UNITS, quantize


class VotingRule(models.TextChoices):
    # CNC accreditation: one member one vote, or no member above 10 % of the votes.
    ONE_MEMBER_ONE_VOTE = "one_member", _("one member, one vote")
    CAPPED = "capped", _("one vote per share, capped at a share of all votes")
    ONE_SHARE_ONE_VOTE = "one_share", _("one vote per share")  # CSA 6:41 default


class TieRule(models.TextChoices):
    SENIORITY = "seniority", _("seniority (earliest shareholder first)")
    LOT = "lot", _("lot drawn from the published seed")


class Statutes(models.Model):
    """The statutes' rules the platform applies, one row per entity (this schema).

    Defaults are the Belgian Code of companies and associations' defaults, adapted as statutes
    usually do (one member one vote); every value is data an organiser may change.
    """

    voting_rule = models.CharField(
        _("voting rule"), max_length=12, choices=VotingRule, default=VotingRule.ONE_MEMBER_ONE_VOTE
    )
    vote_cap_percent = models.DecimalField(
        # xgettext:no-python-format
        _("cap on one voter's votes (% of the votes on the roll)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
    )
    proxies_per_holder = models.PositiveSmallIntegerField(
        _("proxies one holder may carry"), default=1
    )
    notice_days = models.PositiveSmallIntegerField(
        _("notice period of a general assembly (days)"), default=15
    )
    financial_year_start_month = models.PositiveSmallIntegerField(
        _("first month of the financial year"), default=1
    )
    # CSA 6:120: withdrawal only during the first six months of the financial year.
    redemption_window_months = models.PositiveSmallIntegerField(
        _("months of the financial year in which shares may be redeemed"), default=6
    )
    # CSA 6:52: shares are transferable to shareholders, under the statutes' conditions.
    transfers_to_shareholders_only = models.BooleanField(
        _("shares are transferred to shareholders only"), default=True
    )
    count_abstentions = models.BooleanField(_("abstentions count as votes cast"), default=False)
    allow_vote_change = models.BooleanField(
        _("voters may change their vote until the close"), default=True
    )
    election_tie_rule = models.CharField(
        _("tie rule of board elections"), max_length=10, choices=TieRule, default=TieRule.SENIORITY
    )

    class Meta:
        verbose_name = _("statutes")
        verbose_name_plural = _("statutes")
        constraints = [
            models.CheckConstraint(
                condition=Q(financial_year_start_month__gte=1, financial_year_start_month__lte=12)
                & Q(redemption_window_months__gte=0, redemption_window_months__lte=12)
                & Q(vote_cap_percent__gt=0, vote_cap_percent__lte=100),
                name="statutes_ranges",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Statutes"))


class ShareClass(models.Model):
    """A class of shares (A: members using the services, B: staff, C: partners, D: supporters)."""

    code = models.CharField(_("code"), max_length=4, unique=True)
    name = models.CharField(_("name"), max_length=100)
    nominal_value = models.DecimalField(_("nominal value"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    description = models.TextField(_("description"), blank=True)
    on_sale = models.BooleanField(_("on sale in the portal"), default=True)

    class Meta:
        verbose_name = _("share class")
        verbose_name_plural = _("share classes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nominal_value__gt=0), name="shareclass_nominal_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    def clean(self) -> None:
        # Purchases and redemptions are quantized and booked in this currency: one the
        # platform does not know would fail at the first purchase.
        if self.currency not in MINOR_UNITS:
            raise ValidationError(
                {"currency": _("Use one of: %(codes)s.") % {"codes": ", ".join(MINOR_UNITS)}}
            )
        if self.nominal_value is not None and self.nominal_value != quantize(
            self.nominal_value, self.currency
        ):
            raise ValidationError(
                {"nominal_value": _("This amount has more decimals than the currency has.")}
            )


class Shareholder(models.Model):
    """A holder in the register: a person or a legal person, with a login to vote online."""

    class Kind(models.TextChoices):
        PERSON = "person", _("natural person")
        LEGAL = "legal", _("legal person")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shareholder",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    # Register contents: domicile of a person, seat and enterprise number of a legal person.
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2)
    company_number = models.CharField(_("enterprise number"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shareholder")
        verbose_name_plural = _("shareholders")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ShareOrder(models.Model):
    """A purchase of shares, pending until the transfer with its structured reference is in."""

    class State(models.TextChoices):
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.PENDING: frozenset({State.PAID, State.CANCELLED}),
        State.PAID: frozenset(),
        State.CANCELLED: frozenset(),
    }

    shareholder = models.ForeignKey(
        Shareholder, on_delete=models.PROTECT, related_name="orders", verbose_name=_("shareholder")
    )
    share_class = models.ForeignKey(
        ShareClass, on_delete=models.PROTECT, related_name="+", verbose_name=_("class")
    )
    quantity = models.PositiveIntegerField(_("number of shares"))
    unit_value = models.DecimalField(_("nominal value"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    payment_reference = models.CharField(_("payment reference"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        verbose_name = _("share purchase")
        verbose_name_plural = _("share purchases")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shareorder_quantity"),
            models.CheckConstraint(
                condition=Q(state="paid", paid_on__isnull=False) | ~Q(state="paid"),
                name="shareorder_paid_dated",
            ),
        ]
        permissions = [("record_share_payment", _("Can record the payment of shares"))]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.share_class.code} ({self.payment_reference})"


class ShareMovement(models.Model):
    """One dated line of the register: append-only (never edited, never deleted).

    ``quantity`` is signed: positive for shares acquired, negative for shares given up, so a
    holding on a date is one sum.
    """

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("purchase")
        REDEMPTION = "redemption", _("redemption")
        TRANSFER_IN = "transfer_in", _("transfer received")
        TRANSFER_OUT = "transfer_out", _("transfer given")

    shareholder = models.ForeignKey(
        Shareholder,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("shareholder"),
    )
    share_class = models.ForeignKey(
        ShareClass, on_delete=models.PROTECT, related_name="movements", verbose_name=_("class")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    quantity = models.IntegerField(_("number of shares"))
    unit_value = models.DecimalField(_("nominal value"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount paid or repaid"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    occurred_on = models.DateField(_("date"))
    order = models.OneToOneField(
        ShareOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movement",
        verbose_name=_("purchase"),
    )
    counterparty = models.ForeignKey(
        Shareholder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transferred to or from"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("share movement")
        verbose_name_plural = _("share register")
        ordering = ["occurred_on", "pk"]
        indexes = [models.Index(fields=["shareholder", "occurred_on"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["purchase", "transfer_in"]) & Q(quantity__gt=0))
                | (Q(kind__in=["redemption", "transfer_out"]) & Q(quantity__lt=0)),
                name="sharemovement_signed_quantity",
            ),
            # The two lines of a transfer name each other's holder.
            models.CheckConstraint(
                condition=Q(kind__in=["purchase", "redemption"], counterparty__isnull=True)
                | Q(kind__in=["transfer_in", "transfer_out"], counterparty__isnull=False),
                name="sharemovement_transfer_counterparty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.shareholder} {self.quantity:+d} {self.share_class.code}"

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The share register is append-only.")


class Assembly(models.Model):
    """A general assembly: convened with a notice, its roll frozen at the record date."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("in person")
        ONLINE = "online", _("online")
        HYBRID = "hybrid", _("hybrid")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        CONVENED = "convened", _("convened")
        OPEN = "open", _("vote open")
        CLOSED = "closed", _("closed, results published")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.DRAFT: frozenset({State.CONVENED}),
        State.CONVENED: frozenset({State.OPEN}),
        State.OPEN: frozenset({State.CLOSED}),
        State.CLOSED: frozenset(),
    }

    title = models.CharField(_("title"), max_length=200)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode, default=Mode.HYBRID)
    starts_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"))
    record_date = models.DateField(
        _("record date"), help_text=_("Shareholders holding shares on this day make the roll.")
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.DRAFT)
    # The statutes' rules, copied when the assembly is created, so a later change of the
    # statutes never changes an assembly already under way.
    voting_rule = models.CharField(_("voting rule"), max_length=12, choices=VotingRule)
    vote_cap_percent = models.DecimalField(
        _("cap on one voter's votes (%)"), max_digits=5, decimal_places=2
    )
    proxies_per_holder = models.PositiveSmallIntegerField(_("proxies one holder may carry"))
    allow_vote_change = models.BooleanField(_("voters may change their vote until the close"))
    convened_at = models.DateTimeField(_("convened at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("vote opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("vote closed at"), null=True, blank=True)
    # Convocation progress, written by the sending task, read by the organiser's page.
    convocations_total = models.PositiveIntegerField(_("convocations to send"), default=0)
    convocations_sent = models.PositiveIntegerField(_("convocations sent"), default=0)
    convocations_finished_at = models.DateTimeField(
        _("convocations finished at"), null=True, blank=True
    )
    # Published at the close: the digest of the receipts list, the seed of any lot.
    receipts_digest = models.CharField(
        _("digest of the published receipts"), max_length=64, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("general assembly")
        verbose_name_plural = _("general assemblies")
        ordering = ["-starts_at"]
        permissions = [("organise_assembly", _("Can organise general assemblies"))]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


def _document_path(document: AssemblyDocument, filename: str) -> str:
    from smart_coop.tenancy.current import current_entity

    return f"{current_entity().code}/governance/{document.assembly_id}/{filename}"


class AssemblyDocument(models.Model):
    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=_document_path)

    class Meta:
        verbose_name = _("assembly document")
        verbose_name_plural = _("assembly documents")

    def __str__(self) -> str:
        return self.title


class Resolution(models.Model):
    """A question put to the vote, with its majority and quorum rules."""

    class Majority(models.TextChoices):
        SIMPLE = "simple", _("simple majority")
        TWO_THIRDS = "two_thirds", _("two thirds of the votes cast")
        THREE_QUARTERS = "three_quarters", _("three quarters of the votes cast")

    # Majority -> (numerator, denominator): adopted when for x d >= n x cast (simple: for >
    # against, which is for x 2 > cast).
    THRESHOLDS: dict[str, tuple[int, int]] = {
        Majority.TWO_THIRDS: (2, 3),
        Majority.THREE_QUARTERS: (3, 4),
    }

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="resolutions")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    majority = models.CharField(
        _("majority"), max_length=16, choices=Majority, default=Majority.SIMPLE
    )
    quorum_percent = models.DecimalField(
        # xgettext:no-python-format
        _("quorum (% of the votes on the roll)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
    )
    count_abstentions = models.BooleanField(_("abstentions count as votes cast"), default=False)
    # Filled in at the close, from the one tally query.
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    quorum_met = models.BooleanField(_("quorum met"), null=True, blank=True)
    adopted = models.BooleanField(_("adopted"), null=True, blank=True)

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["assembly", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "position"], name="resolution_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=0, quorum_percent__lte=100),
                name="resolution_quorum_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class RollEntry(models.Model):
    """A voter on an assembly's roll: a shareholder holding shares on the record date."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="roll")
    shareholder = models.ForeignKey(Shareholder, on_delete=models.PROTECT, related_name="+")
    shares = models.PositiveIntegerField(_("shares held on the record date"))
    weight = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("voter on the roll")
        verbose_name_plural = _("roll of voters")
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "shareholder"], name="rollentry_unique_voter"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="rollentry_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.shareholder} ({self.weight})"


class Proxy(models.Model):
    """A voter on the roll lets another voter on the roll vote in their name (CSA 6:80)."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="proxies")
    grantor = models.OneToOneField(
        RollEntry, on_delete=models.CASCADE, related_name="proxy_given", verbose_name=_("grantor")
    )
    holder = models.ForeignKey(
        RollEntry, on_delete=models.CASCADE, related_name="proxies_held", verbose_name=_("holder")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("proxy")
        verbose_name_plural = _("proxies")
        constraints = [
            models.CheckConstraint(condition=~Q(grantor=F("holder")), name="proxy_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.grantor} -> {self.holder}"


class Participation(models.Model):
    """Who has voted: one row per voter, never a link to what they voted."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="+")
    voter = models.OneToOneField(RollEntry, on_delete=models.CASCADE, related_name="participation")
    by_proxy = models.BooleanField(_("cast by a proxy"), default=False)
    # The hour only: enough for the turnout curve, too coarse to line up with anything.
    hour = models.DateTimeField(_("hour"))

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        indexes = [models.Index(fields=["assembly", "hour"])]

    def __str__(self) -> str:
        return str(self.voter)


class Choice(models.TextChoices):
    FOR = "for", _("for")
    AGAINST = "against", _("against")
    ABSTAIN = "abstain", _("abstain")


class Ballot(models.Model):
    """A vote on one resolution. No voter, no time, no serial number: see the module doc."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="+")
    receipt = models.CharField(_("receipt code"), max_length=24)
    secret_hash = models.CharField(max_length=64)
    choice = models.CharField(_("choice"), max_length=8, choices=Choice)
    weight = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            # One ballot per receipt and resolution: a second cast with a receipt replaces it.
            models.UniqueConstraint(fields=["receipt", "resolution"], name="ballot_unique_receipt"),
        ]
        indexes = [
            # The tally reads this index only (count and sum per resolution and choice).
            models.Index(fields=["resolution", "choice", "weight"], name="ballot_tally"),
        ]

    def __str__(self) -> str:
        return self.receipt


class Election(models.Model):
    """A board election held with an assembly: a call for candidates, then approval voting."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="elections")
    title = models.CharField(_("title"), max_length=200)
    seats = models.PositiveSmallIntegerField(_("seats"))
    candidacies_close_on = models.DateField(_("candidacies close on"))
    tie_rule = models.CharField(_("tie rule"), max_length=10, choices=TieRule)
    # Published at the close: sha256 of the published receipts list (anyone can recompute it).
    lot_seed = models.CharField(_("seed of the lot"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("board election")
        verbose_name_plural = _("board elections")
        constraints = [models.CheckConstraint(condition=Q(seats__gt=0), name="election_seats")]

    def __str__(self) -> str:
        return self.title


class Candidacy(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ELIGIBLE = "eligible", _("eligible")
        INELIGIBLE = "ineligible", _("not eligible")

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.SUBMITTED: frozenset({State.ELIGIBLE, State.INELIGIBLE}),
        State.ELIGIBLE: frozenset({State.INELIGIBLE}),
        State.INELIGIBLE: frozenset({State.ELIGIBLE}),
    }

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="candidacies")
    shareholder = models.ForeignKey(
        Shareholder, on_delete=models.PROTECT, related_name="+", verbose_name=_("candidate")
    )
    statement = models.TextField(_("project statement"))
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.SUBMITTED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    # Filled in at the close.
    votes = models.PositiveIntegerField(_("votes"), null=True, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    elected = models.BooleanField(_("elected"), null=True, blank=True)

    class Meta:
        verbose_name = _("candidacy")
        verbose_name_plural = _("candidacies")
        ordering = ["election", "rank", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "shareholder"], name="candidacy_unique_candidate"
            ),
        ]
        permissions = [("review_candidacy", _("Can check the eligibility of candidates"))]

    def __str__(self) -> str:
        return f"{self.shareholder} ({self.election})"


class ElectionBallot(models.Model):
    """The candidates one receipt approves in one election (approval voting)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    receipt = models.CharField(_("receipt code"), max_length=24)
    secret_hash = models.CharField(max_length=64)
    approvals = ArrayField(models.IntegerField(), verbose_name=_("approved candidacies"))
    weight = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("election ballot")
        verbose_name_plural = _("election ballots")
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "election"], name="electionballot_unique_receipt"
            ),
        ]

    def __str__(self) -> str:
        return self.receipt


class Convocation(models.Model):
    """A convocation sent to a voter on the roll (one per voter: a resend never repeats)."""

    voter = models.OneToOneField(RollEntry, on_delete=models.CASCADE, related_name="convocation")
    sent_at = models.DateTimeField(_("sent at"))
    language = models.CharField(_("language"), max_length=8)

    class Meta:
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")

    def __str__(self) -> str:
        return str(self.voter)
