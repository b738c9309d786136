from __future__ import annotations

from django.conf import settings
from django.test import Client


def test_the_public_site_lists_the_entities_with_links(public_client: Client) -> None:
    response = public_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="http://be.{settings.BASE_HOST}/"' in body
    assert f'href="http://fr.{settings.BASE_HOST}/"' in body
    assert "Smart Coop Belgium SC" in body


def test_the_public_admin_asks_for_a_login(public_client: Client) -> None:
    response = public_client.get("/admin/tenancy/entity/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_health_reports_database_and_redis(public_client: Client, be_client: Client) -> None:
    for client in (public_client, be_client):
        response = client.get("/health/")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
