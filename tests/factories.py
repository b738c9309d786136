"""Factories that build data through the services, as the application does."""

from __future__ import annotations

from typing import Any

import factory

from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.accounts.services import user_create

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.Factory):  # type: ignore[misc]
    """Creates a user in the current schema with one role (member by default)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = PASSWORD
    role = Role.MEMBER

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return user_create(**kwargs)
