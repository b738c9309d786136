from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from smart_coop.accounts.roles import ROLE_PERMISSIONS, Role
from smart_coop.accounts.services import user_roles
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, UserFactory


def log_in(client: Client, email: str) -> None:
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def test_every_entity_has_the_four_role_groups_with_their_permissions(be: Entity) -> None:
    for schema in ("be", "fr"):
        with schema_context(schema):
            for role, expected in ROLE_PERMISSIONS.items():
                group = Group.objects.get(name=role.value)
                granted = {
                    f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
                }
                assert granted == set(expected)


def test_staff_roles_open_the_admin_and_member_does_not(in_be: Entity) -> None:
    member = UserFactory(role=Role.MEMBER)
    advisor = UserFactory(role=Role.ADVISOR)
    assert not member.is_staff
    assert advisor.is_staff
    assert user_roles(member) == [Role.MEMBER]
    assert user_roles(advisor) == [Role.ADVISOR]


def test_emails_are_unique_whatever_their_case(in_be: Entity) -> None:
    UserFactory(email="Claire@Example.org")
    with pytest.raises(DomainError, match="already exists"):
        UserFactory(email="claire@example.ORG")


def test_login_ignores_the_case_of_the_email(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="dora@example.org")
    log_in(be_client, "DORA@example.org")


def test_a_member_is_refused_the_admin(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="member@example.org", role=Role.MEMBER)
    log_in(be_client, "member@example.org")
    response = be_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_advisor_sees_users_but_cannot_create_them(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="advisor@example.org", role=Role.ADVISOR)
    log_in(be_client, "advisor@example.org")
    assert be_client.get("/admin/").status_code == 200
    assert be_client.get("/admin/accounts/user/").status_code == 200
    assert be_client.get("/admin/accounts/user/add/").status_code == 403
    assert be_client.get("/admin/auth/group/").status_code == 403


def test_an_entity_admin_creates_users_in_their_entity_only(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="boss@example.org", role=Role.ENTITY_ADMIN)
    log_in(be_client, "boss@example.org")
    response = be_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new.member@example.org",
            "first_name": "New",
            "last_name": "Member",
            "language": "fr",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content
    from smart_coop.accounts.models import User

    with schema_context("be"):
        assert User.objects.filter(email="new.member@example.org").exists()
    with schema_context("fr"):
        assert not User.objects.filter(email="new.member@example.org").exists()


def test_shared_tables_are_not_in_an_entity_admin(be_client: Client) -> None:
    with schema_context("be"):
        superuser = UserFactory(email="root@example.org", role=Role.ENTITY_ADMIN)
        superuser.is_superuser = True
        superuser.save(update_fields=["is_superuser"])
    log_in(be_client, "root@example.org")
    assert be_client.get("/admin/tenancy/entity/").status_code == 404
    assert be_client.get("/admin/django_celery_beat/periodictask/").status_code == 404
    index = be_client.get("/admin/").content.decode()
    assert "/admin/tenancy/" not in index
