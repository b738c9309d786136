"""The fund's coverage over time: a snapshot per day, and the alert below the floor.

A snapshot records the position at the end of a day (``fund_position(as_of=day)``: the ledger
read up to that day), so one taken late says the same as one taken on time. Below the entity's
coverage floor the entity admins get one email per episode: ``FundPolicy.floor_alerted_on`` is
set when the coverage falls below the floor and cleared when it is above again.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from guarantee_fund.models import CoverageSnapshot, FundPolicy
from guarantee_fund.selectors import fund_position

# How far back a late daily job fills the days it missed.
CATCH_UP_DAYS = 31


def coverage_snapshot_take(*, day: datetime.date) -> CoverageSnapshot:
    """The fund's position at the end of ``day``, recorded once.

    Effects, in order:
    1. if ``day`` already has a snapshot, return it unchanged (the job may run twice);
    2. read the position from the ledger as of the end of ``day``;
    3. insert the snapshot (a concurrent insert of the same day wins: its row is returned).
    """
    existing = CoverageSnapshot.objects.filter(day=day).first()
    if existing is not None:
        return existing
    position = fund_position(as_of=day)
    try:
        with transaction.atomic():
            return CoverageSnapshot.objects.create(
                day=day,
                contributions=position.contributions,
                losses=position.losses,
                reserve=position.reserve,
                open_advances=position.open_advances,
                overdue_advances=position.overdue_advances,
                currency=position.currency,
            )
    except IntegrityError:
        return CoverageSnapshot.objects.get(day=day)


def coverage_snapshots_catch_up(*, through: datetime.date) -> list[CoverageSnapshot]:
    """Snapshots of every day after the latest one up to ``through`` (at most
    ``CATCH_UP_DAYS`` days back; ``through`` alone when there is none yet), oldest first."""
    latest = CoverageSnapshot.objects.filter(day__lte=through).order_by("-day").first()
    first = through
    if latest is not None:
        first = max(
            latest.day + datetime.timedelta(days=1),
            through - datetime.timedelta(days=CATCH_UP_DAYS - 1),
        )
    days = [first + datetime.timedelta(days=n) for n in range((through - first).days + 1)]
    return [coverage_snapshot_take(day=day) for day in days]


def percent(ratio: Decimal | None) -> Decimal | None:
    """A ratio as a percentage with two decimals (0.1534 -> 15.34)."""
    return None if ratio is None else (ratio * 100).quantize(Decimal("0.01"))


def coverage_below_floor(coverage: Decimal | None, floor: Decimal) -> bool:
    """Whether a coverage is below the floor. With nothing advanced (None) the fund owes
    nothing: never below."""
    return coverage is not None and coverage < floor


def coverage_floor_check(*, coverage: Decimal | None, day: datetime.date) -> bool:
    """Alert the entity admins when the coverage is below the floor, once per episode.

    Effects, in order:
    1. below the floor and not alerted yet: ``floor_alerted_on = day`` by a conditional update
       (two jobs at once alert once), then, on commit, the email task is enqueued; returns True;
    2. below the floor and already alerted: nothing (returns False);
    3. at or above the floor (or nothing advanced): ``floor_alerted_on`` is cleared, so the
       next fall alerts again.
    """
    from guarantee_fund.tasks_coverage import coverage_floor_alert_task

    policy = FundPolicy.current()
    policies = FundPolicy.objects.filter(pk=policy.pk)
    if not coverage_below_floor(coverage, policy.coverage_floor):
        policies.filter(floor_alerted_on__isnull=False).update(
            floor_alerted_on=None, updated_at=timezone.now()
        )
        return False
    claimed = policies.filter(floor_alerted_on__isnull=True).update(
        floor_alerted_on=day, updated_at=timezone.now()
    )
    if not claimed:
        return False
    transaction.on_commit(functools.partial(coverage_floor_alert_task.delay, day=day.isoformat()))
    return True
