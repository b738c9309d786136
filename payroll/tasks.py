"""Payroll's background work: the daily smoothing check and the advisor's alert."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from payroll.models import PermanentContract
from payroll.smoothing import Projection, budget_projection, smoothing_check
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.money import MINOR_UNITS
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity


@shared_task(name="payroll.smoothing_check")
def smoothing_check_task() -> int:
    """The entity's daily look at every smoothed salary (run per entity by the dispatcher)."""
    return len(smoothing_check())


@shared_task(
    name="payroll.smoothing_alert",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def smoothing_alert_task(*, permanent_contract_id: int) -> str | None:
    """Email the member's advisor (else every advisor of the entity) that the budget runs out;
    nothing when the projection is positive again by the time the worker runs."""
    contract = (
        PermanentContract.objects.select_related("member__user", "member__advisor")
        .filter(pk=permanent_contract_id)
        .first()
    )
    if contract is None:
        return None
    member = contract.member
    entity = current_entity()
    projection = budget_projection(member=member)
    if projection.first_negative is None:
        return None
    advisors = (
        [member.advisor]
        if member.advisor is not None
        else list(User.objects.filter(groups__name=Role.ADVISOR, is_active=True))
    )
    for advisor in advisors:
        _alert(advisor, contract, projection, entity)
    return ",".join(advisor.email for advisor in advisors) or None


def _alert(
    advisor: User, contract: PermanentContract, projection: Projection, entity: Entity
) -> None:
    member = contract.member
    with translation.override(advisor.language or entity.default_language):
        context = {
            "entity": entity,
            "member_name": member.user.get_full_name() or member.user.email,
            "gross": contract.monthly_gross,
            # floatformat's argument: the currency's decimals (whole forints).
            "digits": str(MINOR_UNITS.get(contract.currency, 2)),
            "currency": contract.currency,
            "balance": projection.balance,
            "months": projection.months,
            "first_negative": projection.first_negative,
        }
        subject = render_to_string("payroll/email/budget_alert_subject.txt", context).strip()
        body = render_to_string("payroll/email/budget_alert_body.txt", context)
    send_mail(subject, body, None, [advisor.email])
