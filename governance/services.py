"""Writes of the governance app: the share register, assemblies, proxies, ballots, elections.

Every function is one business action in one database transaction. What it decides on is
locked first (no check-then-act); a repeated call in the target state returns quietly; a
refusal is a DomainError naming the field it concerns.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Min, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.be import ogm_vcs

from governance.models import (
    Assembly,
    Ballot,
    Candidacy,
    Choice,
    Election,
    ElectionBallot,
    Participation,
    Proxy,
    Resolution,
    RollEntry,
    ShareClass,
    Shareholder,
    ShareMovement,
    ShareOrder,
    Statutes,
    TieRule,
    VotingRule,
)
from invoicing.references import rf_from_number
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.services import Leg, accounts_get, transaction_post
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity

# Nominal value of one share per country, as the entities publish it (shared/domain 1.9):
# data, read when an entity's default classes are created; organisers change it in the admin.
DEFAULT_SHARE_VALUES: dict[str, str] = {"BE": "30.00", "FR": "30.00", "IT": "50.00"}
DEFAULT_CLASSES = (
    ("A", "Members using the services"),
    ("B", "Permanent staff"),
    ("C", "Clients and partners"),
    ("D", "Supporters"),
)
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed back


def _transition(obj: ShareOrder | Assembly | Candidacy, to_state: str) -> None:
    if to_state not in type(obj).TRANSITIONS[obj.state]:
        # The states' labels, translated: the values are the database's words.
        labels = dict(type(obj).State.choices)
        raise DomainError(
            _("This cannot go from %(from)s to %(to)s.")
            % {"from": labels[obj.state], "to": labels[to_state]},
            field="state",
            code="illegal_transition",
        )


# --- statutes and share classes -----------------------------------------------------------


def statutes_get() -> Statutes:
    """The entity's statutes' rules (created with the defaults on first use)."""
    statutes, _created = Statutes.objects.get_or_create(pk=1)
    return statutes


def share_classes_default_create(*, unverified_value: Decimal | None = None) -> list[ShareClass]:
    """Classes A to D at the entity's published share value; existing classes are kept.

    An entity whose share value is not in ``DEFAULT_SHARE_VALUES`` gets ``unverified_value``
    (or nothing when it is None): the organiser must confirm it in the admin.
    """
    entity = current_entity()
    published = DEFAULT_SHARE_VALUES.get(entity.country)
    value = Decimal(published) if published else unverified_value
    if value is None:
        return []
    created = []
    for code, name in DEFAULT_CLASSES:
        share_class, _was_new = ShareClass.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "nominal_value": quantize(value, entity.currency),
                "currency": entity.currency,
            },
        )
        created.append(share_class)
    return created


# --- shareholders and the register -------------------------------------------------------


@dataclass(frozen=True)
class ShareholderInput:
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    kind: str = Shareholder.Kind.PERSON
    company_number: str = ""
    email: str = ""
    language: str = ""


@transaction.atomic
def shareholder_register(
    *, data: ShareholderInput, user: User | None, actor: User | None
) -> Shareholder:
    """Enter a holder in the register (they hold shares once a purchase is paid).

    A user is registered once: registering them again returns their entry.
    """
    if user is not None:
        existing = Shareholder.objects.filter(user=user).first()
        if existing is not None:
            return existing
    problems = []
    for field in ("name", "street", "postal_code", "city", "country"):
        if not str(getattr(data, field)).strip():
            problems.append((field, _("This field is required.")))
    if data.kind == Shareholder.Kind.LEGAL and not data.company_number.strip():
        problems.append(
            ("company_number", _("A legal person is registered with its enterprise number."))
        )
    if problems:
        field, message = problems[0]
        raise DomainError(message, field=field, code="required")
    return Shareholder.objects.create(
        user=user,
        kind=data.kind,
        name=data.name.strip(),
        street=data.street.strip(),
        postal_code=data.postal_code.strip(),
        city=data.city.strip(),
        country=data.country.strip().upper(),
        company_number=data.company_number.strip(),
        email=(data.email or (user.email if user else "")).strip().lower(),
        language=data.language or (user.language if user else ""),
    )


def share_order_reference(*, country: str, year: int, order_id: int) -> str:
    """The structured reference of a share purchase, distinct from every invoice's.

    Belgium: an OGM whose third digit is 5 (invoices use 0, credit notes 9); elsewhere an
    ISO 11649 RF reference built from ``SHARES<year><id>`` (invoice numbers carry no letters).
    """
    if country == "BE":
        if not 0 < order_id < 10_000_000:
            raise ValueError(f"order {order_id} does not fit a Belgian structured reference")
        base = f"{year % 100:02d}5{order_id:07d}"
        return f"+++{ogm_vcs.format(base + ogm_vcs.calc_check_digits(base))}+++"
    return rf_from_number(f"SHARES{year}{order_id}")


@transaction.atomic
def share_order_place(
    *, shareholder: Shareholder, share_class: ShareClass, quantity: int, actor: User | None
) -> ShareOrder:
    """Order shares: pending until the transfer with the order's structured reference is in.

    Effects: checks the class is on sale and the quantity; creates the order at the class's
    nominal value (quantized to the currency) with its payment reference.
    """
    if not isinstance(quantity, int) or quantity < 1:
        raise DomainError(_("Buy at least one share."), field="quantity", code="quantity")
    if quantity > 10_000:
        raise DomainError(
            _("At most 10,000 shares in one purchase."), field="quantity", code="quantity"
        )
    if not share_class.on_sale:
        raise DomainError(
            _("Shares of class %(code)s are not on sale.") % {"code": share_class.code},
            field="share_class",
            code="not_on_sale",
        )
    entity = current_entity()
    amount = quantize(share_class.nominal_value * quantity, share_class.currency)
    order = ShareOrder.objects.create(
        shareholder=shareholder,
        share_class=share_class,
        quantity=quantity,
        unit_value=share_class.nominal_value,
        amount=amount,
        currency=share_class.currency,
        payment_reference=f"new:{secrets.token_hex(8)}",
        created_by=actor,
    )
    order.payment_reference = share_order_reference(
        country=entity.country, year=entity_today(entity).year, order_id=order.pk
    )
    order.save(update_fields=["payment_reference"])
    return order


@transaction.atomic
def share_order_pay(*, order: ShareOrder, paid_on: datetime.date, actor: User | None) -> ShareOrder:
    """The transfer for a share purchase is in: the shares are issued and booked.

    Effects, in order: locks the order (already paid: returns it); refuses a payment day after
    today; pending -> paid, dated;
    appends the purchase to the register, dated the payment day; posts bank / share capital
    (key ``share_order:<id>``, balanced, once).
    """
    locked = ShareOrder.objects.select_for_update().select_related("shareholder").get(pk=order.pk)
    if locked.state == ShareOrder.State.PAID:
        return locked
    if paid_on > entity_today(current_entity()):
        raise DomainError(
            _("A transfer cannot be received after today."), field="paid_on", code="future"
        )
    _transition(locked, ShareOrder.State.PAID)
    locked.state = ShareOrder.State.PAID
    locked.paid_on = paid_on
    locked.save(update_fields=["state", "paid_on"])
    ShareMovement.objects.create(
        shareholder=locked.shareholder,
        share_class_id=locked.share_class_id,
        kind=ShareMovement.Kind.PURCHASE,
        quantity=locked.quantity,
        unit_value=locked.unit_value,
        amount=locked.amount,
        currency=locked.currency,
        occurred_on=paid_on,
        order=locked,
        recorded_by=actor,
    )
    accounts = accounts_get(["bank", "share_capital"], currency=locked.currency)
    transaction_post(
        key=f"share_order:{locked.pk}",
        kind="share_purchase",
        description=f"Shares {locked.payment_reference} {locked.shareholder.name}",
        occurred_on=paid_on,
        legs=[
            Leg(accounts["bank"], locked.amount, locked.payment_reference),
            Leg(accounts["share_capital"], -locked.amount, locked.payment_reference),
        ],
        actor=actor,
    )
    return locked


@transaction.atomic
def share_order_cancel(*, order: ShareOrder, actor: User | None) -> ShareOrder:
    """Cancel a purchase that was never paid (already cancelled: returns it)."""
    locked = ShareOrder.objects.select_for_update().get(pk=order.pk)
    if locked.state == ShareOrder.State.CANCELLED:
        return locked
    _transition(locked, ShareOrder.State.CANCELLED)
    locked.state = ShareOrder.State.CANCELLED
    locked.save(update_fields=["state"])
    return locked


def redemption_window(
    *, statutes: Statutes, on: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the window around ``on``'s financial year (CSA 6:120)."""
    start_month = statutes.financial_year_start_month
    year = on.year if on.month >= start_month else on.year - 1
    start = datetime.date(year, start_month, 1)
    months = start_month - 1 + statutes.redemption_window_months
    end_first = datetime.date(year + months // 12, months % 12 + 1, 1)
    return start, end_first - datetime.timedelta(days=1)


@transaction.atomic
def shares_redeem(
    *,
    shareholder: Shareholder,
    share_class: ShareClass,
    quantity: int,
    on: datetime.date,
    actor: User | None,
) -> ShareMovement:
    """A shareholder withdraws shares at their nominal value, within the statutes' window.

    Effects, in order: locks the shareholder (two withdrawals never both pass the holding
    check); refuses outside the window of the statutes (default: the first six months of the
    financial year, CSA 6:120) or above the holding (on ``on`` and every later day); appends
    the redemption to the register; posts share capital / bank (key
    ``share_redemption:<movement id>``).
    """
    statutes = statutes_get()
    start, end = redemption_window(statutes=statutes, on=on)
    if not start <= on <= end:
        raise DomainError(
            _("Shares can be redeemed from %(start)s to %(end)s only (statutes).")
            % {"start": start.isoformat(), "end": end.isoformat()},
            field="on",
            code="outside_window",
        )
    if not isinstance(quantity, int) or quantity < 1:
        raise DomainError(_("Redeem at least one share."), field="quantity", code="quantity")
    Shareholder.objects.select_for_update().get(pk=shareholder.pk)
    held = holding_free_from(shareholder=shareholder, share_class=share_class, on=on)
    if quantity > held:
        raise DomainError(
            _("You hold %(held)d shares of class %(code)s.")
            % {"held": held, "code": share_class.code},
            field="quantity",
            code="above_holding",
        )
    amount = quantize(share_class.nominal_value * quantity, share_class.currency)
    movement = ShareMovement.objects.create(
        shareholder=shareholder,
        share_class=share_class,
        kind=ShareMovement.Kind.REDEMPTION,
        quantity=-quantity,
        unit_value=share_class.nominal_value,
        amount=amount,
        currency=share_class.currency,
        occurred_on=on,
        recorded_by=actor,
    )
    accounts = accounts_get(["bank", "share_capital"], currency=share_class.currency)
    transaction_post(
        key=f"share_redemption:{movement.pk}",
        kind="share_redemption",
        description=f"Shares redeemed {shareholder.name}",
        occurred_on=on,
        legs=[
            Leg(accounts["share_capital"], amount, f"redemption {movement.pk}"),
            Leg(accounts["bank"], -amount, f"redemption {movement.pk}"),
        ],
        actor=actor,
    )
    return movement


@transaction.atomic
def shares_transfer(
    *,
    transferor: Shareholder,
    transferee: Shareholder,
    share_class: ShareClass,
    quantity: int,
    on: datetime.date,
    actor: User | None,
    note: str = "",
) -> tuple[ShareMovement, ShareMovement]:
    """Shares pass from one holder to another, as both signed it (CSA 6:52).

    Effects, in order: locks both holders in id order (two crossing transfers never
    deadlock, two transfers of one holder never both pass the holding check); refuses a
    transfer to oneself, above the transferor's holding (on ``on`` and every later day), or
    to someone holding no share when the statutes transfer to shareholders only; appends the
    two dated lines, each naming the other holder. The share capital does not change:
    nothing is booked.
    """
    if transferor.pk == transferee.pk:
        raise DomainError(_("Shares are transferred to someone else."), field="transferee")
    if not isinstance(quantity, int) or quantity < 1:
        raise DomainError(_("Transfer at least one share."), field="quantity", code="quantity")
    list(
        Shareholder.objects.select_for_update()
        .filter(pk__in=[transferor.pk, transferee.pk])
        .order_by("pk")
    )
    held = holding_free_from(shareholder=transferor, share_class=share_class, on=on)
    if quantity > held:
        raise DomainError(
            _("The transferor holds %(held)d shares of class %(code)s.")
            % {"held": held, "code": share_class.code},
            field="quantity",
            code="above_holding",
        )
    if (
        statutes_get().transfers_to_shareholders_only
        and holding_on(shareholder=transferee, on=on) < 1
    ):
        raise DomainError(
            _("The statutes allow transfers to shareholders only."),
            field="transferee",
            code="not_holder",
        )
    amount = quantize(share_class.nominal_value * quantity, share_class.currency)
    common = {
        "share_class": share_class, "unit_value": share_class.nominal_value, "amount": amount,
        "currency": share_class.currency, "occurred_on": on, "recorded_by": actor,
        "note": note.strip()[:300],
    }  # fmt: skip
    given = ShareMovement.objects.create(
        shareholder=transferor, counterparty=transferee, kind=ShareMovement.Kind.TRANSFER_OUT,
        quantity=-quantity, **common,
    )  # fmt: skip
    received = ShareMovement.objects.create(
        shareholder=transferee, counterparty=transferor, kind=ShareMovement.Kind.TRANSFER_IN,
        quantity=quantity, **common,
    )  # fmt: skip
    return given, received


def holding_free_from(
    *, shareholder: Shareholder, share_class: ShareClass, on: datetime.date
) -> int:
    """The fewest shares of the class held at the end of any day from ``on`` on.

    What may still leave the holding on ``on``: a back-dated transfer or redemption must not
    take a later day of the register below zero.
    """
    held = lowest = holding_on(shareholder=shareholder, share_class=share_class, on=on)
    later = (
        ShareMovement.objects.filter(
            shareholder=shareholder, share_class=share_class, occurred_on__gt=on
        )
        .values_list("occurred_on")
        .annotate(total=Sum("quantity"))
        .order_by("occurred_on")
        .values_list("total", flat=True)
    )
    for quantity in later:
        held += int(quantity)
        lowest = min(lowest, held)
    return lowest


def holding_on(
    *, shareholder: Shareholder, on: datetime.date, share_class: ShareClass | None = None
) -> int:
    """Shares held at the end of ``on`` (of one class, or all)."""
    movements = ShareMovement.objects.filter(shareholder=shareholder, occurred_on__lte=on)
    if share_class is not None:
        movements = movements.filter(share_class=share_class)
    return int(movements.aggregate(total=Sum("quantity"))["total"] or 0)


# --- assemblies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionInput:
    title: str
    text: str
    majority: str = Resolution.Majority.SIMPLE
    quorum_percent: Decimal = Decimal(0)
    count_abstentions: bool | None = None  # None: as the statutes say


@transaction.atomic
def assembly_create(
    *,
    title: str,
    starts_at: datetime.datetime,
    record_date: datetime.date,
    agenda: str,
    mode: str = Assembly.Mode.HYBRID,
    place: str = "",
    resolutions: Sequence[ResolutionInput] = (),
    actor: User | None,
) -> Assembly:
    """A draft assembly with the statutes' voting rules copied in, and its resolutions."""
    statutes = statutes_get()
    if record_date > starts_at.date():
        raise DomainError(_("The record date cannot be after the assembly."), field="record_date")
    assembly = Assembly.objects.create(
        title=title,
        starts_at=starts_at,
        record_date=record_date,
        agenda=agenda,
        mode=mode,
        place=place,
        voting_rule=statutes.voting_rule,
        vote_cap_percent=statutes.vote_cap_percent,
        proxies_per_holder=statutes.proxies_per_holder,
        allow_vote_change=statutes.allow_vote_change,
        created_by=actor,
    )
    for data in resolutions:
        resolution_add(assembly=assembly, data=data)
    return assembly


def resolution_add(*, assembly: Assembly, data: ResolutionInput) -> Resolution:
    """A resolution at the end of the agenda of a draft assembly."""
    if assembly.state != Assembly.State.DRAFT:
        raise DomainError(_("The agenda is fixed once the assembly is convened."), field="state")
    if not Decimal(0) <= data.quorum_percent <= Decimal(100):
        raise DomainError(_("A quorum is between 0 and 100 %."), field="quorum_percent")
    last = assembly.resolutions.order_by("-position").values_list("position", flat=True).first()
    count_abstentions = data.count_abstentions
    if count_abstentions is None:
        count_abstentions = statutes_get().count_abstentions
    return Resolution.objects.create(
        assembly=assembly,
        position=(last or 0) + 1,
        title=data.title,
        text=data.text,
        majority=data.majority,
        quorum_percent=data.quorum_percent,
        count_abstentions=count_abstentions,
    )


def _locked_assembly(assembly: Assembly) -> Assembly:
    return Assembly.objects.select_for_update().get(pk=assembly.pk)


def roll_weights(shares: Mapping[int, int], *, rule: str, cap_percent: Decimal) -> dict[int, int]:
    """Votes per shareholder from the shares they hold (shareholder id -> shares).

    One member one vote: 1 each. One share one vote: the shares (CSA 6:41). Capped: the shares,
    at most ``cap_percent`` of all the shares on the roll (rounded down, at least 1): no voter
    carries more than that share of the votes (CNC accreditation, "10 % rule").
    """
    if rule == VotingRule.ONE_MEMBER_ONE_VOTE:
        return dict.fromkeys(shares, 1)
    if rule == VotingRule.ONE_SHARE_ONE_VOTE:
        return dict(shares)
    total = sum(shares.values())
    cap = max(1, int((Decimal(total) * cap_percent / 100).to_integral_value(ROUND_FLOOR)))
    return {holder: min(count, cap) for holder, count in shares.items()}


@transaction.atomic
def assembly_convene(
    *, assembly: Assembly, actor: User | None, today: datetime.date | None = None
) -> Assembly:
    """Convene the assembly: the notice is checked, the roll frozen, convocations sent.

    Effects, in order: locks the assembly (convened already: returns it); refuses a notice
    shorter than the statutes', an agenda without resolutions; freezes the roll: every holder
    of at least one share at the end of the record date, with their votes under the assembly's
    voting rule; marks it convened; after the commit, the convocation task sends the emails.
    """
    from governance.tasks import convocations_send_task

    locked = _locked_assembly(assembly)
    if locked.state == Assembly.State.CONVENED:
        return locked
    _transition(locked, Assembly.State.CONVENED)
    entity = current_entity()
    today = today or entity_today(entity)
    notice = statutes_get().notice_days
    meeting_day = timezone.localtime(locked.starts_at, _zone(entity.time_zone)).date()
    if (meeting_day - today).days < notice:
        raise DomainError(
            _(
                "The statutes require %(days)d days' notice: the assembly must be on %(day)s "
                "or later."
            )
            % {"days": notice, "day": (today + datetime.timedelta(days=notice)).isoformat()},
            field="starts_at",
            code="notice",
        )
    # The roll is the register at the end of the record date: that day must be over, or a
    # purchase paid later that day (or after it, up to the record date) would be left out.
    if locked.record_date >= today:
        raise DomainError(
            _("The roll is frozen at the end of the record date: convene after %(day)s.")
            % {"day": locked.record_date.isoformat()},
            field="record_date",
            code="record_date",
        )
    if not locked.resolutions.exists():
        raise DomainError(_("Put at least one resolution on the agenda."), field="resolutions")
    shares = dict(
        ShareMovement.objects.filter(occurred_on__lte=locked.record_date)
        .values_list("shareholder")
        .annotate(total=Sum("quantity"))
        .filter(total__gt=0)
        .values_list("shareholder", "total")
    )
    weights = roll_weights(shares, rule=locked.voting_rule, cap_percent=locked.vote_cap_percent)
    RollEntry.objects.bulk_create(
        (
            RollEntry(assembly=locked, shareholder_id=holder, shares=shares[holder], weight=weight)
            for holder, weight in weights.items()
        ),
        batch_size=5000,
    )
    locked.state = Assembly.State.CONVENED
    locked.convened_at = timezone.now()
    locked.convocations_total = (
        RollEntry.objects.filter(assembly=locked).exclude(shareholder__email="").count()
    )
    locked.save(update_fields=["state", "convened_at", "convocations_total"])
    transaction.on_commit(lambda: convocations_send_task.delay(assembly_id=locked.pk))
    return locked


def _zone(name: str) -> datetime.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@transaction.atomic
def assembly_open(*, assembly: Assembly, actor: User | None) -> Assembly:
    """Open the online vote of a convened assembly (open already: returns it)."""
    locked = _locked_assembly(assembly)
    if locked.state == Assembly.State.OPEN:
        return locked
    _transition(locked, Assembly.State.OPEN)
    locked.state = Assembly.State.OPEN
    locked.opened_at = timezone.now()
    locked.save(update_fields=["state", "opened_at"])
    return locked


# --- proxies ------------------------------------------------------------------------------


def _roll_entry(assembly: Assembly, shareholder: Shareholder | None, field: str) -> RollEntry:
    entry = (
        RollEntry.objects.filter(assembly=assembly, shareholder=shareholder).first()
        if shareholder is not None
        else None
    )
    if entry is None:
        raise _not_on_roll(assembly, field)
    return entry


def _not_on_roll(assembly: Assembly, field: str) -> DomainError:
    return DomainError(
        _("Only shareholders on the roll of this assembly (record date %(day)s) can vote.")
        % {"day": assembly.record_date.isoformat()},
        field=field,
        code="not_on_roll",
    )


@transaction.atomic
def proxy_grant(
    *, assembly: Assembly, grantor: Shareholder, holder: Shareholder, actor: User | None
) -> Proxy:
    """``grantor`` lets ``holder`` vote in their name at this assembly (CSA 6:80).

    Effects: both must be on the roll, the assembly convened or open, the grantor not have
    voted nor already given a proxy, the holder not have given theirs; locks the holder's roll
    entry so that two grants never both pass the limit of proxies per holder; creates it.
    """
    if assembly.state not in (Assembly.State.CONVENED, Assembly.State.OPEN):
        raise DomainError(_("Proxies are given while the assembly is convened."), field="state")
    grantor_entry = _roll_entry(assembly, grantor, "grantor")
    holder_entry = _roll_entry(assembly, holder, "holder")
    if grantor_entry.pk == holder_entry.pk:
        raise DomainError(_("A proxy is given to someone else."), field="holder", code="self")
    # Always lock in id order: two crossing grants cannot deadlock.
    locked = {
        entry.pk: entry
        for entry in RollEntry.objects.select_for_update()
        .filter(pk__in=[grantor_entry.pk, holder_entry.pk])
        .order_by("pk")
    }
    if Participation.objects.filter(voter_id=grantor_entry.pk).exists():
        raise DomainError(_("You have already voted."), field="grantor", code="voted")
    if Proxy.objects.filter(grantor_id=grantor_entry.pk).exists():
        raise DomainError(
            _("You have already given a proxy for this assembly."), field="grantor", code="given"
        )
    if Proxy.objects.filter(grantor_id=holder_entry.pk).exists():
        raise DomainError(
            _("This shareholder has given their own proxy to someone else."),
            field="holder",
            code="holder_represented",
        )
    held = Proxy.objects.filter(holder_id=holder_entry.pk).count()
    if held >= assembly.proxies_per_holder:
        raise DomainError(
            _("A shareholder may carry at most %(count)d proxies.")
            % {"count": assembly.proxies_per_holder},
            field="holder",
            code="proxy_limit",
        )
    return Proxy.objects.create(
        assembly=assembly, grantor=locked[grantor_entry.pk], holder=locked[holder_entry.pk]
    )


@transaction.atomic
def proxy_revoke(*, assembly: Assembly, grantor: Shareholder, actor: User | None) -> None:
    """Take back a proxy that has not been used, while the assembly is convened or open (no
    proxy: nothing happens). Once the vote is closed the proxies given are part of its record.
    """
    if _state_for_share(assembly) not in (Assembly.State.CONVENED, Assembly.State.OPEN):
        raise DomainError(_("Proxies are withdrawn while the assembly is convened."), field="state")
    entry = _roll_entry(assembly, grantor, "grantor")
    RollEntry.objects.select_for_update().get(pk=entry.pk)
    if Participation.objects.filter(voter_id=entry.pk).exists():
        raise DomainError(_("The proxy has been used: the vote is cast."), field="grantor")
    Proxy.objects.filter(grantor_id=entry.pk).delete()


# --- ballots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What a voter takes away: the public code (published after the close) and the secret
    that alone lets them change the vote (the database keeps only its hash)."""

    code: str
    secret: str
    changed: bool = False


def _random_code(length: int) -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(length))


def _receipt_new() -> Receipt:
    raw = _random_code(16)
    return Receipt(code="-".join(raw[i : i + 4] for i in range(0, 16, 4)), secret=_random_code(20))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


def _state_for_share(assembly: Assembly) -> str | None:
    """The assembly's state, its row locked FOR SHARE: writes under way side by side, while
    the close (FOR UPDATE) waits for them and every later one sees it closed."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state FROM {Assembly._meta.db_table} WHERE id = %s FOR SHARE",  # noqa: S608
            [assembly.pk],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _lock_open_assembly(assembly: Assembly) -> None:
    """FOR SHARE on the assembly row: casts run side by side, while the close (FOR UPDATE)
    waits for the casts under way and every later cast sees it closed."""
    if _state_for_share(assembly) != Assembly.State.OPEN:
        raise DomainError(_("The vote is not open."), field="state", code="not_open")


@transaction.atomic
def ballot_cast(
    *,
    assembly: Assembly,
    voter: Shareholder,
    choices: Mapping[int, str],
    approvals: Mapping[int, Sequence[int]] | None = None,
    cast_by: Shareholder | None = None,
    receipt: Receipt | None = None,
    actor: User | None,
) -> Receipt:
    """Cast (or change) ``voter``'s vote on every resolution and election of the assembly.

    ``choices``: resolution id -> for/against/abstain, one per resolution; ``approvals``:
    election id -> the candidacy ids approved (at most one per seat). ``cast_by``: the proxy
    holder casting in the voter's name (None: the voter). ``receipt``: the receipt of the vote
    to change.

    Effects, in order: checks the ballot paper; FOR SHARE on the assembly (must be open);
    locks the voter's roll entry, so that concurrent submissions of one voter run one after
    the other; refuses a voter not on the roll, a proxy not held, a voter represented by a
    proxy; first vote: records the participation (who) and the ballots (what) under a new
    random receipt, unlinked; later vote: refused unless the assembly allows changes and the
    receipt's secret matches, then the ballots of that receipt are replaced in place. Returns
    the receipt (its secret is never stored).
    """
    resolutions = list(
        Resolution.objects.filter(assembly_id=assembly.pk).values_list("pk", flat=True)
    )
    elections = {election.pk: election for election in Election.objects.filter(assembly=assembly)}
    _check_paper(resolutions, elections, choices, approvals or {})
    _lock_open_assembly(assembly)
    found = (
        RollEntry.objects.select_for_update().filter(assembly=assembly, shareholder=voter).first()
    )
    if found is None:
        raise _not_on_roll(assembly, "voter")
    entry: RollEntry = found
    # After the lock, in a statement of its own: under READ COMMITTED a new statement sees what
    # a concurrent submission committed while we waited (the locking one's subqueries would
    # still read the snapshot taken before the wait).
    state = (
        RollEntry.objects.filter(pk=entry.pk)
        .annotate(
            voted=Exists(Participation.objects.filter(voter=OuterRef("pk"))),
            proxy_holder=Subquery(
                Proxy.objects.filter(grantor=OuterRef("pk")).values("holder__shareholder_id")[:1]
            ),
        )
        .values("voted", "proxy_holder")
        .get()
    )
    by_proxy = cast_by is not None and cast_by.pk != voter.pk
    proxy_holder = state["proxy_holder"]
    if by_proxy:
        if proxy_holder is None or proxy_holder != cast_by.pk:  # type: ignore[union-attr]
            raise DomainError(
                _("You do not hold this shareholder's proxy."), field="voter", code="no_proxy"
            )
    elif proxy_holder is not None:
        raise DomainError(
            _("You gave your proxy for this assembly: your proxy holder votes for you."),
            field="voter",
            code="represented",
        )
    if state["voted"]:
        return _ballot_change(
            assembly, entry=entry, choices=choices, approvals=approvals or {},
            elections=elections, receipt=receipt,
        )  # fmt: skip
    new = _receipt_new()
    hashed = secret_hash(new.secret)
    Participation.objects.create(
        assembly=assembly,
        voter=entry,
        by_proxy=by_proxy,
        hour=timezone.now().replace(minute=0, second=0, microsecond=0),
    )
    Ballot.objects.bulk_create(
        Ballot(
            resolution_id=resolution,
            receipt=new.code,
            secret_hash=hashed,
            choice=choices[resolution],
            weight=entry.weight,
        )
        for resolution in resolutions
    )
    ElectionBallot.objects.bulk_create(
        ElectionBallot(
            election_id=election,
            receipt=new.code,
            secret_hash=hashed,
            approvals=sorted(set((approvals or {}).get(election, ()))),
            weight=entry.weight,
        )
        for election in elections
    )
    return new


def _check_paper(
    resolutions: Sequence[int],
    elections: Mapping[int, Election],
    choices: Mapping[int, str],
    approvals: Mapping[int, Sequence[int]],
) -> None:
    for resolution in resolutions:
        if choices.get(resolution) not in Choice.values:
            raise DomainError(
                _("Choose for, against or abstain on every resolution."),
                field=f"resolution_{resolution}",
                code="choice",
            )
    if set(choices) - set(resolutions):
        raise DomainError(_("This resolution is not on the agenda."), field="choices")
    if set(approvals) - set(elections):
        raise DomainError(_("This election is not held at this assembly."), field="approvals")
    eligible: dict[int, set[int]] = defaultdict(set)
    for election_id, candidacy_id in Candidacy.objects.filter(
        election_id__in=list(elections), state=Candidacy.State.ELIGIBLE
    ).values_list("election_id", "pk"):
        eligible[election_id].add(candidacy_id)
    for election_id, chosen in approvals.items():
        field = f"election_{election_id}"
        if len(set(chosen)) > elections[election_id].seats:
            raise DomainError(
                _("Approve at most %(seats)d candidates.")
                % {"seats": elections[election_id].seats},
                field=field,
                code="too_many",
            )
        if set(chosen) - eligible[election_id]:
            raise DomainError(_("This candidate is not standing."), field=field, code="candidate")


def _ballot_change(
    assembly: Assembly,
    *,
    entry: RollEntry,
    choices: Mapping[int, str],
    approvals: Mapping[int, Sequence[int]],
    elections: Mapping[int, Election],
    receipt: Receipt | None,
) -> Receipt:
    if not assembly.allow_vote_change:
        raise DomainError(_("You have already voted."), field="voter", code="voted")
    if receipt is None:
        raise DomainError(
            _("You have already voted. To change your vote, give the receipt of your vote."),
            field="receipt",
            code="voted",
        )
    hashed = secret_hash(receipt.secret)
    code = receipt.code.strip().upper()
    ballots = Ballot.objects.filter(resolution__assembly=assembly, receipt=code, secret_hash=hashed)
    if not ballots.exists():
        raise DomainError(
            _("This receipt does not match a vote of this assembly."),
            field="receipt",
            code="receipt",
        )
    for ballot in ballots:
        ballot.choice = choices[ballot.resolution_id]
        ballot.save(update_fields=["choice"])
    for ballot_row in ElectionBallot.objects.filter(
        election_id__in=list(elections), receipt=code, secret_hash=hashed
    ):
        ballot_row.approvals = sorted(set(approvals.get(ballot_row.election_id, ())))
        ballot_row.save(update_fields=["approvals"])
    return Receipt(code=code, secret=receipt.secret, changed=True)


# --- the close: tally, results, publication -----------------------------------------------


@dataclass(frozen=True)
class Outcome:
    votes_for: int
    votes_against: int
    votes_abstain: int
    cast: int  # what the majority is measured against
    quorum_met: bool
    adopted: bool


def resolution_outcome(
    resolution: Resolution, *, votes: Mapping[str, int], roll_weight: int
) -> Outcome:
    """Quorum and majority of one resolution from its votes per choice."""
    for_, against, abstain = (votes.get(c, 0) for c in (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN))
    cast = for_ + against + (abstain if resolution.count_abstentions else 0)
    present = for_ + against + abstain  # a voter who abstains is present for the quorum
    quorum_met = present * 100 >= resolution.quorum_percent * roll_weight
    if resolution.majority == Resolution.Majority.SIMPLE:
        majority = for_ * 2 > cast
    else:
        numerator, denominator = Resolution.THRESHOLDS[resolution.majority]
        majority = cast > 0 and for_ * denominator >= numerator * cast
    return Outcome(for_, against, abstain, cast, bool(quorum_met), bool(quorum_met and majority))


def assembly_tally(*, assembly: Assembly) -> dict[int, dict[str, int]]:
    """Votes per resolution and choice: one aggregate query on the tally index."""
    tally: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Ballot.objects.filter(resolution__assembly_id=assembly.pk)
        .values_list("resolution_id", "choice")
        .annotate(votes=Sum("weight"))
        .order_by()
    )
    for resolution_id, choice, votes in rows:
        tally[resolution_id][choice] = int(votes)
    return tally


def election_tally(*, election: Election) -> dict[int, int]:
    """Votes per candidacy (approval voting): one aggregate query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT candidacy, SUM(weight) FROM {ElectionBallot._meta.db_table},"  # noqa: S608
            " unnest(approvals) AS candidacy WHERE election_id = %s GROUP BY candidacy",
            [election.pk],
        )
        return {int(candidacy): int(votes) for candidacy, votes in cursor.fetchall()}


def receipts_published(*, assembly: Assembly) -> list[tuple[str, list[str]]]:
    """The published list: each receipt code with its choices, in code order (after close)."""
    resolutions = list(assembly.resolutions.order_by("position").values_list("pk", flat=True))
    by_receipt: dict[str, dict[int, str]] = defaultdict(dict)
    for receipt, resolution_id, choice in Ballot.objects.filter(
        resolution_id__in=resolutions
    ).values_list("receipt", "resolution_id", "choice"):
        by_receipt[receipt][resolution_id] = choice
    return [
        (code, [by_receipt[code].get(pk, "") for pk in resolutions]) for code in sorted(by_receipt)
    ]


def receipts_digest(published: Sequence[tuple[str, Sequence[str]]]) -> str:
    """SHA-256 of the published list, one ``code;choice;choice...`` line each: anyone can
    recompute it from the list, and no one could know it before the close."""
    text = "\n".join(";".join([code, *choices]) for code, choices in published)
    return hashlib.sha256(text.encode()).hexdigest()


def lot_order(*, seed: str, candidacy_id: int) -> str:
    """A candidacy's draw in a lot: sha256(seed:id); the lowest wins (reproducible)."""
    return hashlib.sha256(f"{seed}:{candidacy_id}".encode()).hexdigest()


@transaction.atomic
def assembly_close(*, assembly: Assembly, actor: User | None) -> Assembly:
    """Close the vote, count it and publish the results.

    Effects, in order: locks the assembly (waits for casts under way; closed already: returns
    it); open -> closed; counts every resolution in one query and stores its votes, quorum and
    outcome; publishes the digest of the receipts list, which seeds any lot; counts and ranks
    each election; after the commit, rewrites the ballots so nothing ties them to the moment
    they were cast (see PRIVACY.md).
    """
    locked = _locked_assembly(assembly)
    if locked.state == Assembly.State.CLOSED:
        return locked
    _transition(locked, Assembly.State.CLOSED)
    roll_weight = int(
        RollEntry.objects.filter(assembly=locked).aggregate(total=Sum("weight"))["total"] or 0
    )
    tally = assembly_tally(assembly=locked)
    for resolution in locked.resolutions.all():
        outcome = resolution_outcome(
            resolution, votes=tally.get(resolution.pk, {}), roll_weight=roll_weight
        )
        resolution.votes_for = outcome.votes_for
        resolution.votes_against = outcome.votes_against
        resolution.votes_abstain = outcome.votes_abstain
        resolution.quorum_met = outcome.quorum_met
        resolution.adopted = outcome.adopted
        resolution.save(
            update_fields=["votes_for", "votes_against", "votes_abstain", "quorum_met", "adopted"]
        )
    digest = receipts_digest(receipts_published(assembly=locked))
    for election in locked.elections.all():
        _election_results(election, seed=digest)
    locked.state = Assembly.State.CLOSED
    locked.closed_at = timezone.now()
    locked.receipts_digest = digest
    locked.save(update_fields=["state", "closed_at", "receipts_digest"])
    _ballots_rewrite(locked)
    transaction.on_commit(_ballots_compact)
    return locked


def _election_results(election: Election, *, seed: str) -> None:
    votes = election_tally(election=election)
    candidacies = list(Candidacy.objects.filter(election=election, state=Candidacy.State.ELIGIBLE))
    seniority = dict(
        ShareMovement.objects.filter(
            shareholder_id__in=[c.shareholder_id for c in candidacies], quantity__gt=0
        )
        .values_list("shareholder")
        .annotate(first=Min("occurred_on"))
        .values_list("shareholder", "first")
    )

    def key(candidacy: Candidacy) -> tuple[int, str]:
        if election.tie_rule == TieRule.LOT:
            tie = lot_order(seed=seed, candidacy_id=candidacy.pk)
        else:
            first = seniority.get(candidacy.shareholder_id, datetime.date.max)
            tie = f"{first.isoformat()}:{candidacy.shareholder_id:012d}"
        return (-votes.get(candidacy.pk, 0), tie)

    election.lot_seed = seed if election.tie_rule == TieRule.LOT else ""
    election.save(update_fields=["lot_seed"])
    for rank, candidacy in enumerate(sorted(candidacies, key=key), start=1):
        candidacy.votes = votes.get(candidacy.pk, 0)
        candidacy.rank = rank
        candidacy.elected = rank <= election.seats
        candidacy.save(update_fields=["votes", "rank", "elected"])


def _ballots_rewrite(assembly: Assembly) -> None:
    """Every ballot of the assembly gets a new row version written by the close's transaction:
    the versions written by the casts (whose transaction ids and places in the table file
    match the participations written with them) become dead, and ``_ballots_compact`` removes
    them after the commit."""
    Ballot.objects.filter(resolution__assembly=assembly).update(weight=F("weight"))
    ElectionBallot.objects.filter(election__assembly=assembly).update(weight=F("weight"))


def _ballots_compact() -> None:
    """Rewrite the ballot tables in receipt order (random), dropping dead row versions."""
    with connection.cursor() as cursor:
        cursor.execute(f"CLUSTER {Ballot._meta.db_table} USING ballot_unique_receipt")
        cursor.execute(
            f"CLUSTER {ElectionBallot._meta.db_table} USING electionballot_unique_receipt"
        )


# --- elections ----------------------------------------------------------------------------


@transaction.atomic
def election_create(
    *,
    assembly: Assembly,
    title: str,
    seats: int,
    candidacies_close_on: datetime.date,
    tie_rule: str | None = None,
    actor: User | None,
) -> Election:
    """A call for candidates for ``seats`` seats, voted on at ``assembly``."""
    if assembly.state in (Assembly.State.OPEN, Assembly.State.CLOSED):
        raise DomainError(_("The vote of this assembly has started."), field="assembly")
    if seats < 1:
        raise DomainError(_("At least one seat."), field="seats")
    if candidacies_close_on > assembly.starts_at.date():
        raise DomainError(
            _("Candidacies must close before the assembly."), field="candidacies_close_on"
        )
    return Election.objects.create(
        assembly=assembly,
        title=title,
        seats=seats,
        candidacies_close_on=candidacies_close_on,
        tie_rule=tie_rule or statutes_get().election_tie_rule,
    )


@transaction.atomic
def candidacy_submit(
    *, election: Election, shareholder: Shareholder, statement: str, actor: User | None
) -> Candidacy:
    """A shareholder stands for the board with a project statement, before the call closes."""
    today = entity_today(current_entity())
    started = Assembly.objects.filter(
        pk=election.assembly_id, state__in=[Assembly.State.OPEN, Assembly.State.CLOSED]
    ).exists()
    if today > election.candidacies_close_on or started:
        raise DomainError(_("The call for candidates is closed."), field="election")
    if not statement.strip():
        raise DomainError(_("Write your project statement."), field="statement")
    if holding_on(shareholder=shareholder, on=today) < 1:
        raise DomainError(_("Only shareholders can stand."), field="election", code="not_holder")
    try:
        with transaction.atomic():
            return Candidacy.objects.create(
                election=election, shareholder=shareholder, statement=statement.strip()
            )
    except IntegrityError:
        raise DomainError(
            _("You already stand in this election."), field="election", code="duplicate"
        ) from None


@transaction.atomic
def candidacy_review(
    *, candidacy: Candidacy, eligible: bool, reason: str, actor: User
) -> Candidacy:
    """An advisor checks a candidate's eligibility (a refusal needs a reason)."""
    locked = Candidacy.objects.select_for_update().get(pk=candidacy.pk)
    target = Candidacy.State.ELIGIBLE if eligible else Candidacy.State.INELIGIBLE
    if locked.state == target:
        return locked
    if Assembly.objects.filter(
        pk=locked.election.assembly_id, state__in=[Assembly.State.OPEN, Assembly.State.CLOSED]
    ).exists():
        raise DomainError(_("The vote has started: candidacies are fixed."), field="state")
    if not eligible and not reason.strip():
        raise DomainError(_("Give the reason."), field="reason")
    _transition(locked, target)
    locked.state = target
    locked.reason = reason.strip()
    locked.reviewed_by = actor
    locked.save(update_fields=["state", "reason", "reviewed_by"])
    return locked
