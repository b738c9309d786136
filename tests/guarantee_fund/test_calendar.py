"""Due dates in the entity's calendar: a month end, a weekend, public holidays, DST changes.

The entities are built in memory (the calendar reads only their settings): Belgium counts the
delay in working days, France in calendar days (their country data).
"""

from __future__ import annotations

import datetime

import pytest

from guarantee_fund.calendar import entity_today, is_due, is_working_day, payout_due_on
from smart_coop.tenancy.models import Entity, PayoutDelayUnit

UTC = datetime.UTC


def entity(unit: str, *, country: str = "BE", time_zone: str = "Europe/Brussels") -> Entity:
    return Entity(
        code=country.lower(),
        country=country,
        time_zone=time_zone,
        payout_delay_days=7,
        payout_delay_unit=unit,
    )


CALENDAR = entity(PayoutDelayUnit.CALENDAR)
WORKING = entity(PayoutDelayUnit.WORKING)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("last_day", "due_on"),
    [
        ("2026-01-28", "2026-02-04"),  # across a month end
        ("2026-02-25", "2026-03-04"),  # across February's end (28 days)
        ("2026-12-28", "2027-01-04"),  # across a year end
        ("2026-03-01", "2026-03-08"),  # due on a Sunday: still due that day
        ("2026-04-30", "2026-05-07"),  # over a public holiday (1 May): counted
    ],
)
def test_calendar_days_count_every_day(last_day: str, due_on: str) -> None:
    assert payout_due_on(entity=CALENDAR, last_day=d(last_day)) == d(due_on)


def test_in_calendar_days_a_payout_due_on_a_holiday_is_due_that_day() -> None:
    # 2026-12-25 is Christmas, a Friday: the promise is "at the latest seven days after".
    assert payout_due_on(entity=CALENDAR, last_day=d("2026-12-18")) == d("2026-12-25")
    assert not is_working_day(CALENDAR, d("2026-12-25"))


@pytest.mark.parametrize(
    ("last_day", "due_on"),
    [
        # Friday -> Mon 9 .. Fri 13 (5), Mon 16, Tue 17: over one weekend.
        ("2026-03-06", "2026-03-17"),
        # Across a month end: Thu 2026-04-30 -> Fri 1 May is Labour Day, Mon 4 .. Tue 12.
        ("2026-04-30", "2026-05-12"),
        # Easter Monday (2026-04-06) is skipped: Fri 3, Tue 7 .. Fri 10, Mon 13, Tue 14.
        ("2026-04-02", "2026-04-14"),
        # Christmas and New Year's Day, across the year end.
        ("2026-12-23", "2027-01-05"),
        # Work ending on a Saturday: the count starts on Monday.
        ("2026-03-07", "2026-03-17"),
    ],
)
def test_working_days_skip_weekends_and_the_countrys_public_holidays(
    last_day: str, due_on: str
) -> None:
    due = payout_due_on(entity=WORKING, last_day=d(last_day))

    assert due == d(due_on)
    assert is_working_day(WORKING, due)


def test_the_holidays_are_the_entitys_countrys() -> None:
    # 11 November: Armistice Day in France and in Belgium; 14 July only in France.
    france = entity(PayoutDelayUnit.WORKING, country="FR", time_zone="Europe/Paris")
    assert not is_working_day(france, d("2026-07-14"))
    assert is_working_day(WORKING, d("2026-07-14"))
    # Thu 2026-07-09: Fri 10, Mon 13, [14 July], Wed 15 .. Fri 17, Mon 20, Tue 21.
    assert payout_due_on(entity=france, last_day=d("2026-07-09")) == d("2026-07-21")
    assert payout_due_on(entity=WORKING, last_day=d("2026-07-09")) == d("2026-07-20")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_due_means_the_entitys_local_date_has_reached_it_across_the_spring_dst_change() -> None:
    # Brussels moves from UTC+1 to UTC+2 at 01:00 UTC on 2026-03-29.
    due_on = d("2026-03-29")
    assert not is_due(entity=CALENDAR, due_on=due_on, at=at("2026-03-28T22:59:59"))
    assert is_due(entity=CALENDAR, due_on=due_on, at=at("2026-03-28T23:00:00"))  # 00:00 CET
    # The next midnight is an hour earlier in UTC.
    assert entity_today(CALENDAR, at=at("2026-03-29T21:59:59")) == d("2026-03-29")
    assert entity_today(CALENDAR, at=at("2026-03-29T22:00:00")) == d("2026-03-30")


def test_due_across_the_autumn_dst_change() -> None:
    # Back to UTC+1 at 01:00 UTC on 2026-10-25: that local day lasts 25 hours.
    due_on = d("2026-10-25")
    assert not is_due(entity=CALENDAR, due_on=due_on, at=at("2026-10-24T21:59:59"))
    assert is_due(entity=CALENDAR, due_on=due_on, at=at("2026-10-24T22:00:00"))  # 00:00 CEST
    assert entity_today(CALENDAR, at=at("2026-10-25T22:59:59")) == d("2026-10-25")
    assert entity_today(CALENDAR, at=at("2026-10-25T23:00:00")) == d("2026-10-26")
    # The due date itself does not move with the clock change.
    assert payout_due_on(entity=CALENDAR, last_day=d("2026-10-18")) == due_on


def test_a_job_running_at_utc_midnight_is_already_late_in_the_day_elsewhere() -> None:
    stockholm = entity(PayoutDelayUnit.CALENDAR, country="SE", time_zone="Europe/Stockholm")
    utc = entity(PayoutDelayUnit.CALENDAR, country="", time_zone="UTC")
    instant = at("2026-06-30T22:30:00")
    assert entity_today(stockholm, at=instant) == d("2026-07-01")
    assert entity_today(utc, at=instant) == d("2026-06-30")
    assert is_due(entity=stockholm, due_on=d("2026-07-01"), at=instant)
    assert not is_due(entity=utc, due_on=d("2026-07-01"), at=instant)
