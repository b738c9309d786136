from __future__ import annotations

from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from smart_coop.accounts.models import User
from tests.factories import PASSWORD, UserFactory


def test_the_login_page_is_served_in_the_entity_language(fr_client: Client) -> None:
    # A browser asking for Dutch at the French entity gets French: Dutch is not fr's language.
    response = fr_client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "fr"
    assert "Se connecter" in response.content.decode() or "Connexion" in response.content.decode()


def test_the_login_page_follows_the_browser_within_the_entity_languages(be_client: Client) -> None:
    response = be_client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.headers["Content-Language"] == "nl"
    response = be_client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()


def test_wrong_password_shows_an_error_and_logs_nobody_in(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="eve@example.org")
    response = be_client.post(
        "/accounts/login/", {"username": "eve@example.org", "password": "wrong"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in be_client.session


def test_home_needs_a_login(be_client: Client) -> None:
    response = be_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_log_in_see_home_and_log_out(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="fred@example.org", first_name="Fred")
    be_client.post("/accounts/login/", {"username": "fred@example.org", "password": PASSWORD})
    home = be_client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert home.status_code == 200
    assert "Welcome, Fred" in home.content.decode()
    assert "BE0765432146" in home.content.decode()
    logout = be_client.post("/accounts/logout/")
    assert logout.status_code == 302
    assert logout["Location"] == "/accounts/login/"
    assert be_client.get("/").status_code == 302


def test_change_password(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="gina@example.org")
    be_client.post("/accounts/login/", {"username": "gina@example.org", "password": PASSWORD})
    assert be_client.get("/accounts/password_change/").status_code == 200
    response = be_client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    with schema_context("be"):
        assert User.objects.get(email="gina@example.org").check_password("another-long-passphrase")


def test_change_password_refuses_a_wrong_old_password(be_client: Client) -> None:
    with schema_context("be"):
        UserFactory(email="hugo@example.org")
    be_client.post("/accounts/login/", {"username": "hugo@example.org", "password": PASSWORD})
    response = be_client.post(
        "/accounts/password_change/",
        {"old_password": "nope", "new_password1": "x-y-z-w-1234", "new_password2": "x-y-z-w-1234"},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    with schema_context("be"):
        assert User.objects.get(email="hugo@example.org").check_password(PASSWORD)


def test_password_reset_enqueues_one_email_task_after_commit(
    be_client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    with schema_context("be"):
        UserFactory(email="ines@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = be_client.post("/accounts/password_reset/", {"email": "ines@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(callbacks) == 1


def test_password_reset_for_an_unknown_address_enqueues_nothing_and_says_the_same(
    be_client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = be_client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert callbacks == []


def test_the_password_reset_confirm_page_sets_a_new_password(be_client: Client) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    with schema_context("be"):
        user = UserFactory(email="jan@example.org")
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
    response = be_client.get(f"/accounts/reset/{uid}/{token}/", follow=True)
    assert response.context["validlink"]
    form_url = response.redirect_chain[-1][0]
    response = be_client.post(
        form_url, {"new_password1": "fresh-passphrase-99", "new_password2": "fresh-passphrase-99"}
    )
    assert response.status_code == 302
    with schema_context("be"):
        assert User.objects.get(email="jan@example.org").check_password("fresh-passphrase-99")
    assert settings.LOGIN_URL == "login"


def test_pages_show_times_in_the_entity_time_zone_and_european_dates(be_client: Client) -> None:
    from django.utils import timezone

    with schema_context("be"):
        UserFactory(email="tz@example.org")
    be_client.post("/accounts/login/", {"username": "tz@example.org", "password": PASSWORD})
    response = be_client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE  # reset after the request
    from django.template import Context, Template
    from django.utils import translation

    with translation.override("en"):
        rendered = Template('{{ day|date:"SHORT_DATE_FORMAT" }}').render(
            Context({"day": __import__("datetime").date(2026, 12, 2)})
        )
    assert rendered == "02/12/2026"
