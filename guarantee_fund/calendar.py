"""When a payout is due: the last work day + the entity's payout delay, in its own calendar.

- The delay is counted in the entity's time zone: "today" for the payout job is the entity's
  local date at the instant the job runs (a job at 23:30 UTC is already tomorrow in Brussels
  in summer), and a payout is due once that local date is on or after ``due_on``.
- ``calendar`` days: ``due_on = last_day + delay``, whatever day that is. A payout due on a
  Sunday or a public holiday is due that very day (the member is promised "at the latest seven
  days after"; moving the date later would break the promise, and the job runs every day).
- ``working`` days: the delay counts only Monday to Friday that are not public holidays of
  the entity's country (the ``holidays`` library), so ``due_on`` is itself a working day.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo

import holidays

from smart_coop.tenancy.models import Entity, PayoutDelayUnit


def entity_today(entity: Entity, *, at: datetime.datetime | None = None) -> datetime.date:
    """The entity's local date at the instant ``at`` (default: now)."""
    from django.utils import timezone

    instant = at or timezone.now()
    return instant.astimezone(zoneinfo.ZoneInfo(entity.time_zone)).date()


@functools.lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[datetime.date]:
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(entity: Entity, day: datetime.date) -> bool:
    """Monday to Friday and not a public holiday of the entity's country."""
    return day.weekday() < 5 and day not in _public_holidays(entity.country.upper(), day.year)


def payout_due_on(*, entity: Entity, last_day: datetime.date) -> datetime.date:
    """The day the fund pays the salary of work that ended on ``last_day`` at the latest."""
    delay = entity.payout_delay_days
    if entity.payout_delay_unit != PayoutDelayUnit.WORKING:
        return last_day + datetime.timedelta(days=delay)
    day = last_day
    counted = 0
    while counted < delay:
        day += datetime.timedelta(days=1)
        if is_working_day(entity, day):
            counted += 1
    return day


def is_due(*, entity: Entity, due_on: datetime.date, at: datetime.datetime | None = None) -> bool:
    """Whether a payout due on ``due_on`` is due at the instant ``at`` (default: now)."""
    return entity_today(entity, at=at) >= due_on
