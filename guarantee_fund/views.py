"""The fund's dashboard, published to the cooperative's owners, and each member's payouts.

Every member of the entity reads the fund's position (reserve, open advances, overdue,
losses, coverage over time): aggregates only, never a client's or another member's name.
Staff who may read payouts also see the open advances per client; the admin shows the same
dashboard (``admin.CoverageSnapshotAdmin``). Charts are drawn here, on the server, as inline
SVG and CSS bars, each with its figures in a table for whoever does not see the drawing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from guarantee_fund.calendar import entity_today
from guarantee_fund.coverage import coverage_below_floor, percent
from guarantee_fund.models import CoverageSnapshot, FundPolicy
from guarantee_fund.selectors import (
    FundPosition,
    fund_position,
    open_advances_by_client,
    payouts_of,
)
from members.selectors import member_for_user
from smart_coop.accounts.models import User
from smart_coop.money import MINOR_UNITS
from smart_coop.tenancy.current import current_entity

ZERO = Decimal(0)
CHART_DAYS = 90  # the coverage over time: the last three months of snapshots
# The drawing's own coordinates (the SVG scales to the page's width).
WIDTH, HEIGHT = 600, 200
# Who may see the open advances per client (names of clients): staff who read payouts.
PER_CLIENT_PERMISSION = "guarantee_fund.view_payout"


@dataclass(frozen=True)
class Bar:
    """One figure of the position drawn as a bar: ``width`` in % of the largest."""

    label: str
    amount: Decimal
    width: int
    tone: str


@dataclass(frozen=True)
class ChartDay:
    day: datetime.date
    reserve: Decimal
    open_advances: Decimal
    overdue_advances: Decimal
    coverage: Decimal | None  # percent
    below_floor: bool
    # Coverage bar in the SVG's coordinates (no bar when nothing was advanced).
    x: float
    bar_y: float
    bar_height: float


@dataclass(frozen=True)
class Chart:
    days: list[ChartDay]
    bar_width: float
    floor: Decimal  # percent
    floor_y: float
    coverage_top: Decimal  # percent at the top of the coverage chart
    amount_top: Decimal
    amount_bottom: Decimal
    zero_y: float
    reserve_points: str
    advances_points: str

    @property
    def first(self) -> ChartDay:
        return self.days[0]

    @property
    def last(self) -> ChartDay:
        return self.days[-1]


def _y(value: Decimal, bottom: Decimal, top: Decimal) -> float:
    span = top - bottom
    return round(HEIGHT - float((value - bottom) / span) * HEIGHT, 2) if span else float(HEIGHT)


def coverage_chart(snapshots: list[CoverageSnapshot], floor: Decimal) -> Chart | None:
    """The snapshots (oldest first) as two drawings: coverage per day as bars against the floor,
    and the reserve and the open advances as lines. None without any snapshot."""
    if not snapshots:
        return None
    floor_percent = percent(floor) or ZERO
    coverages = [percent(snapshot.coverage) for snapshot in snapshots]
    coverage_top = max([c for c in coverages if c is not None] + [floor_percent * 2, Decimal(100)])
    amounts = [s.reserve for s in snapshots] + [s.open_advances for s in snapshots]
    amount_top, amount_bottom = max([*amounts, ZERO]), min([*amounts, ZERO])
    if amount_top == amount_bottom:
        amount_top = amount_bottom + 1
    step = WIDTH / len(snapshots)
    days = []
    for index, (snapshot, coverage) in enumerate(zip(snapshots, coverages, strict=True)):
        top = _y(min(coverage, coverage_top), ZERO, coverage_top) if coverage is not None else 0
        bar_y = max(min(top, HEIGHT), 0.0) if coverage is not None else float(HEIGHT)
        days.append(
            ChartDay(
                day=snapshot.day,
                reserve=snapshot.reserve,
                open_advances=snapshot.open_advances,
                overdue_advances=snapshot.overdue_advances,
                coverage=coverage,
                below_floor=coverage_below_floor(snapshot.coverage, floor),
                x=round(index * step, 2),
                bar_y=bar_y,
                bar_height=round(HEIGHT - bar_y, 2),
            )
        )

    def points(values: list[Decimal]) -> str:
        if len(values) == 1:  # one day: a flat line across
            y = _y(values[0], amount_bottom, amount_top)
            return f"0,{y} {WIDTH},{y}"
        return " ".join(
            f"{round(i * WIDTH / (len(values) - 1), 2)},{_y(v, amount_bottom, amount_top)}"
            for i, v in enumerate(values)
        )

    return Chart(
        days=days,
        bar_width=round(max(step - 1, 1), 2),
        floor=floor_percent,
        floor_y=_y(min(floor_percent, coverage_top), ZERO, coverage_top),
        coverage_top=coverage_top,
        amount_top=amount_top,
        amount_bottom=amount_bottom,
        zero_y=_y(ZERO, amount_bottom, amount_top),
        reserve_points=points([s.reserve for s in snapshots]),
        advances_points=points([s.open_advances for s in snapshots]),
    )


def position_bars(position: FundPosition) -> list[Bar]:
    """Reserve, open advances, overdue and losses as bars on one scale."""
    figures = [
        (_("Reserve"), position.reserve, "accent"),
        (_("Open advances"), position.open_advances, "ink"),
        (_("Of which overdue"), position.overdue_advances, "warning"),
        (_("Losses"), position.losses, "error"),
    ]
    scale = max(abs(amount) for _label, amount, _tone in figures)
    return [
        Bar(label, amount, int(abs(amount) * 100 / scale) if scale else 0, tone)
        for label, amount, tone in figures
    ]


def digits(currency: str) -> str:
    """floatformat's argument: the currency's decimals, thousands grouped."""
    return f"{MINOR_UNITS.get(currency, 2)}g"


def dashboard_context(*, per_client: bool, days: int = CHART_DAYS) -> dict[str, Any]:
    """What the dashboard shows, for the member page and the admin alike. ``per_client``:
    the open advances per client too (staff only)."""
    today = entity_today(current_entity())
    position = fund_position()
    policy = FundPolicy.current()
    snapshots = list(
        CoverageSnapshot.objects.filter(day__gt=today - datetime.timedelta(days=days)).order_by(
            "day"
        )
    )
    clients = open_advances_by_client()
    largest = clients[0][1] if clients else ZERO
    context: dict[str, Any] = {
        "today": today,
        "position": position,
        "coverage": percent(position.coverage),
        "floor": percent(policy.coverage_floor),
        "below_floor": coverage_below_floor(position.coverage, policy.coverage_floor),
        "bars": position_bars(position),
        "chart": coverage_chart(snapshots, policy.coverage_floor),
        "chart_days": days,
        "clients_count": len(clients),
        # How much rests on one client, without saying which: the owners' measure of risk.
        "largest_share": (
            percent(largest / position.open_advances) if position.open_advances else None
        ),
        "digits": digits(position.currency),
        "width": WIDTH,
        "height": HEIGHT,
        "per_client": per_client,
        "clients": clients if per_client else [],
        "exposure_limit": policy.client_exposure_limit,
    }
    return context


@login_required
def fund(request: HttpRequest) -> HttpResponse:
    """The fund's position for the owners, and my payouts: when each contract is paid and,
    when the fund does not guarantee it, why."""
    user = request.user
    assert isinstance(user, User)
    member = member_for_user(user)
    if member is None and not user.is_staff:
        messages.info(
            request, _("Open your member file first: the fund's dashboard is for members.")
        )
        return redirect("members:member-file")
    context = dashboard_context(per_client=user.has_perm(PER_CLIENT_PERMISSION))
    context["member"] = member
    context["payouts"] = list(payouts_of(member=member)[:100]) if member is not None else []
    return render(request, "guarantee_fund/fund.html", context)
