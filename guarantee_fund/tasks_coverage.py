"""The fund's daily coverage snapshot and the floor alert's email (tasks.py holds the payouts').

Each runs in the schema of the entity that enqueued it (beat dispatches one per entity).
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(name="guarantee_fund.coverage_snapshot")
def coverage_snapshot_task(*, day: str | None = None) -> str:
    """Snapshot the days that ended since the last snapshot (yesterday, normally, in the
    entity's time zone), then alert the entity admins if the latest is below the floor.
    Returns the day of the latest snapshot."""
    from guarantee_fund.calendar import entity_today
    from guarantee_fund.coverage import (
        coverage_floor_check,
        coverage_snapshot_take,
        coverage_snapshots_catch_up,
    )
    from smart_coop.tenancy.current import current_entity

    through = (
        datetime.date.fromisoformat(day)
        if day
        else entity_today(current_entity()) - datetime.timedelta(days=1)
    )
    coverage_snapshots_catch_up(through=through)
    latest = coverage_snapshot_take(day=through)  # taken above, or earlier
    coverage_floor_check(coverage=latest.coverage, day=latest.day)
    return latest.day.isoformat()


@shared_task(
    name="guarantee_fund.coverage_floor_alert",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def coverage_floor_alert_task(*, day: str) -> list[str]:
    """Email every entity admin, in their language, that the fund's coverage is below the
    floor. Nothing when the episode is over by then (the coverage is above again).
    Returns the addresses written to."""
    from guarantee_fund.coverage import percent
    from guarantee_fund.models import CoverageSnapshot, FundPolicy
    from guarantee_fund.selectors import fund_position
    from smart_coop.accounts.models import User
    from smart_coop.accounts.roles import Role
    from smart_coop.tenancy.current import current_entity

    policy = FundPolicy.current()
    if policy.floor_alerted_on is None:
        return []
    entity = current_entity()
    snapshot = CoverageSnapshot.objects.filter(day=datetime.date.fromisoformat(day)).first()
    position = snapshot if snapshot is not None else fund_position()
    admins = (
        User.objects.filter(groups__name=Role.ENTITY_ADMIN.value, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    sent = []
    for user in admins:
        language = user.language or entity.default_language
        with translation.override(language):
            context = {
                "user": user,
                "entity": entity,
                "day": datetime.date.fromisoformat(day),
                "position": position,
                "coverage": percent(position.coverage),
                "floor": percent(policy.coverage_floor),
            }
            subject = render_to_string("guarantee_fund/email/floor_subject.txt", context).strip()
            body = render_to_string("guarantee_fund/email/floor_body.txt", context)
        EmailMessage(subject, body, to=[user.email], headers={"Content-Language": language}).send()
        sent.append(user.email)
    return sent
