"""Tasks of the accounts app. Each runs in the schema of the entity that enqueued it."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from smart_coop.accounts.models import User
from smart_coop.tenancy.current import current_entity


@shared_task(
    name="accounts.password_reset_email_send",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def password_reset_email_send_task(*, user_id: int, domain: str, use_https: bool) -> str | None:
    """Email a password reset link to a user of the current entity; returns the address used.

    The user is looked up in the schema the task carries: an id means nothing across entities.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return None
    language = user.language or current_entity().default_language
    with translation.override(language):
        PasswordResetForm().send_mail(
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
            context={
                "email": user.email,
                "domain": domain,
                "site_name": current_entity().legal_name,
                "uid": urlsafe_base64_encode(force_bytes(user.pk)),
                "user": user,
                "token": default_token_generator.make_token(user),
                "protocol": "https" if use_https else "http",
            },
            from_email=None,
            to_email=user.email,
        )
    return user.email


@shared_task(name="accounts.sessions_clear")
def sessions_clear_task() -> int:
    """Delete the expired sessions of the current entity; returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
