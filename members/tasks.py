from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from members.models import Contract
from smart_coop.tenancy.current import current_entity


@shared_task(
    name="members.contract_review_notify",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def contract_review_notify_task(*, contract_id: int, event: str) -> str | None:
    """Email the member what the advisor decided on their contract, in the member's language."""
    contract = Contract.objects.select_related("member__user").filter(pk=contract_id).first()
    if contract is None:
        return None
    user = contract.member.user
    entity = current_entity()
    with translation.override(user.language or entity.default_language):
        context = {"contract": contract, "user": user, "entity": entity, "event": event}
        subject = render_to_string("members/email/review_subject.txt", context).strip()
        body = render_to_string("members/email/review_body.txt", context)
    send_mail(subject, body, None, [user.email])
    return user.email
