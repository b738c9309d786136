"""Writes on users and their roles."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from smart_coop.accounts.models import User
from smart_coop.accounts.roles import STAFF_ROLES, Role
from smart_coop.errors import DomainError


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> User:
    """Create a user of the current entity with one role.

    Effects: the user row (email lower-cased, password hashed, or unusable if None); staff status
    for advisors, accountants and entity admins; membership of the role's group.
    """
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            _("A user with the email %(email)s already exists.") % {"email": email}, field="email"
        )
    user = User.objects.create_user(
        email,
        password,
        first_name=first_name,
        last_name=last_name,
        language=language,
        is_staff=role in STAFF_ROLES,
    )
    user_role_grant(user=user, role=role)
    return user


def user_role_grant(*, user: User, role: Role) -> None:
    """Add ``role`` to the user; staff roles also open the admin site. Granting twice is a no-op."""
    user.groups.add(Group.objects.get(name=role.value))
    if role in STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def user_roles(user: User) -> list[Role]:
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in Role if role.value in names]
