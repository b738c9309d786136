from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.db import transaction
from django.http import HttpRequest

from smart_coop.accounts.models import User
from smart_coop.accounts.tasks import password_reset_email_send_task


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Sends the reset email from the Celery worker, never inside the request."""

    def save(  # type: ignore[override]
        self,
        domain_override: str | None = None,
        use_https: bool = False,
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        domain = domain_override or (request.get_host() if request is not None else "")
        for user in self.get_users(self.cleaned_data["email"]):
            transaction.on_commit(
                partial(
                    password_reset_email_send_task.delay,
                    user_id=user.pk,
                    domain=domain,
                    use_https=use_https,
                )
            )


class UserCreationForm(auth_forms.BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "language"]


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, type[forms.Field]] = {}
