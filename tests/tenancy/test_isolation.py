"""What happens in one entity stays there: rows, logins, sessions, cache, files, unknown hosts."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django_tenants.utils import schema_context

from smart_coop.accounts.models import User
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import PASSWORD, UserFactory


def test_a_row_created_in_be_is_invisible_from_fr(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        UserFactory(email="only-in-be@example.org")
        assert User.objects.filter(email="only-in-be@example.org").count() == 1
    with schema_context("fr"):
        assert not User.objects.filter(email="only-in-be@example.org").exists()
        assert User.objects.count() == 0


def test_the_same_email_is_two_users_in_two_entities(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        UserFactory(email="twice@example.org", password="be-password-1")
    with schema_context("fr"):
        UserFactory(email="twice@example.org", password="fr-password-2")
        in_fr = User.objects.get(email="twice@example.org")
        assert in_fr.check_password("fr-password-2")
        assert not in_fr.check_password("be-password-1")


def test_a_be_user_cannot_log_in_at_fr(be_client: Client, fr_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="anne@example.org")
    credentials = {"username": "anne@example.org", "password": PASSWORD}

    refused = fr_client.post("/accounts/login/", credentials)
    assert refused.status_code == 200
    assert refused.context["form"].errors["__all__"]
    assert "_auth_user_id" not in fr_client.session

    accepted = be_client.post("/accounts/login/", credentials)
    assert accepted.status_code == 302
    assert be_client.get("/").status_code == 200


def test_a_be_session_cookie_means_nothing_at_fr(be_client: Client, fr: Entity) -> None:
    with schema_context("be"):
        UserFactory(email="bob@example.org")
    be_client.post("/accounts/login/", {"username": "bob@example.org", "password": PASSWORD})
    session_cookie = be_client.cookies[settings.SESSION_COOKIE_NAME].value

    stranger = Client(headers={"host": entity_host("fr")})
    stranger.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    response = stranger.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("host", ["zz.testserver.local", "testserver.local.evil.example"])
def test_an_unknown_host_gets_a_404_not_another_entity(db: None, host: str) -> None:
    response = Client(headers={"host": host}).get("/accounts/login/")
    assert response.status_code in {400, 404}
    body = response.content.decode()
    assert "Smart Coop" not in body
    assert "csrfmiddlewaretoken" not in body


def test_an_unknown_subdomain_of_the_base_host_is_a_404(db: None) -> None:
    response = Client(headers={"host": f"zz.{settings.BASE_HOST}"}).get("/")
    assert response.status_code == 404


def test_cache_entries_are_per_entity(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        cache.set("dashboard", "belgian figures", 30)
    with schema_context("fr"):
        assert cache.get("dashboard") is None
        cache.set("dashboard", "french figures", 30)
    with schema_context("be"):
        assert cache.get("dashboard") == "belgian figures"
        cache.delete("dashboard")
    with schema_context("fr"):
        cache.delete("dashboard")


def test_files_are_stored_under_the_entity(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        name = default_storage.save("receipts/r.txt", ContentFile(b"be"))
        path = default_storage.path(name)
        try:
            assert f"{settings.MEDIA_ROOT}/be/" in path
        finally:
            default_storage.delete(name)
    with schema_context("fr"):
        assert not default_storage.exists(name)
