"""Reads of the governance app: holdings, the register, assemblies a voter sees, turnout."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from governance.models import (
    Assembly,
    Participation,
    Proxy,
    RollEntry,
    ShareClass,
    Shareholder,
    ShareMovement,
    ShareOrder,
)
from smart_coop.accounts.models import User


def shareholder_for_user(user: User) -> Shareholder | None:
    return Shareholder.objects.filter(user=user).first()


@dataclass(frozen=True)
class Holding:
    share_class: ShareClass
    shares: int
    value: Decimal  # at the class's nominal value


def holdings(*, shareholder: Shareholder, on: datetime.date | None = None) -> list[Holding]:
    """Shares held per class (on a day, or today), classes held only."""
    movements = ShareMovement.objects.filter(shareholder=shareholder)
    if on is not None:
        movements = movements.filter(occurred_on__lte=on)
    totals = dict(
        movements.values_list("share_class")
        .annotate(total=Sum("quantity"))
        .values_list("share_class", "total")
    )
    classes = ShareClass.objects.filter(pk__in=[pk for pk, total in totals.items() if total > 0])
    return [
        Holding(share_class=c, shares=totals[c.pk], value=c.nominal_value * totals[c.pk])
        for c in classes
    ]


def movements_of(*, shareholder: Shareholder) -> QuerySet[ShareMovement]:
    return ShareMovement.objects.filter(shareholder=shareholder).select_related(
        "share_class", "counterparty"
    )


def orders_pending(*, shareholder: Shareholder) -> QuerySet[ShareOrder]:
    return ShareOrder.objects.filter(
        shareholder=shareholder, state=ShareOrder.State.PENDING
    ).select_related("share_class")


def register_movements() -> QuerySet[ShareMovement]:
    """The whole register, in date order, with what its export needs."""
    return ShareMovement.objects.select_related(
        "shareholder", "share_class", "counterparty"
    ).order_by("occurred_on", "pk")


def assemblies_visible() -> QuerySet[Assembly]:
    """Assemblies a shareholder sees: convened and later (drafts are the organisers')."""
    return Assembly.objects.exclude(state=Assembly.State.DRAFT).order_by("-starts_at")


@dataclass(frozen=True)
class Voting:
    """One voice a user may cast at an assembly: their own, or one they carry by proxy."""

    entry: RollEntry
    by_proxy: bool
    voted: bool
    represented_by: str  # the proxy holder's name when the voter gave a proxy


def votings_for(*, assembly: Assembly, shareholder: Shareholder | None) -> list[Voting]:
    """The user's own place on the roll and the proxies they carry, with who has voted."""
    if shareholder is None:
        return []
    own = RollEntry.objects.filter(assembly=assembly, shareholder=shareholder).first()
    if own is None:
        return []
    carried = [
        proxy.grantor
        for proxy in Proxy.objects.filter(holder=own).select_related("grantor__shareholder")
    ]
    entries = [own, *carried]
    voted = set(Participation.objects.filter(voter__in=entries).values_list("voter_id", flat=True))
    given = Proxy.objects.filter(grantor=own).select_related("holder__shareholder").first()
    return [
        Voting(
            entry=entry,
            by_proxy=entry.pk != own.pk,
            voted=entry.pk in voted,
            represented_by=given.holder.shareholder.name if given and entry.pk == own.pk else "",
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class Turnout:
    voters: int
    votes: int  # the roll's weight
    voted: int
    voted_weight: int
    by_proxy: int
    proxies: int
    without_email: int
    per_hour: list[tuple[datetime.datetime, int]]

    @property
    def percent(self) -> Decimal:
        if not self.voters:
            return Decimal(0)
        return (Decimal(self.voted) * 100 / self.voters).quantize(Decimal("0.1"))


def turnout(*, assembly: Assembly) -> Turnout:
    """Who has voted so far (counts only: never who voted what)."""
    roll = RollEntry.objects.filter(assembly=assembly).aggregate(
        voters=Count("pk"), votes=Sum("weight")
    )
    cast = Participation.objects.filter(assembly=assembly)
    voted = cast.aggregate(voted=Count("pk"), weight=Sum("voter__weight"))
    per_hour = list(
        cast.values_list("hour").annotate(n=Count("pk")).order_by("hour").values_list("hour", "n")
    )
    return Turnout(
        voters=roll["voters"] or 0,
        votes=roll["votes"] or 0,
        voted=voted["voted"] or 0,
        voted_weight=voted["weight"] or 0,
        by_proxy=cast.filter(by_proxy=True).count(),
        proxies=Proxy.objects.filter(assembly=assembly).count(),
        without_email=RollEntry.objects.filter(assembly=assembly, shareholder__email="").count(),
        per_hour=per_hour,
    )
