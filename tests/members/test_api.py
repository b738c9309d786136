"""The members API: who sees what, what is refused and why, and that entities stay apart.

Requests go through the whole stack (tenant middleware, authentication, views, services) on the
entity's host; users authenticate with a DRF token, or with the session of a login.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members import services
from members.models import Client, Contract, ContractEvent, EmploymentDeclaration, Member
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ContractFactory,
    MemberFactory,
    PartnerFactory,
    UserFactory,
)


def api(code: str, user: User | None = None) -> APIClient:
    """A client of the entity ``code``'s API, with the token of ``user`` (made in that entity)."""
    client = APIClient(headers={"host": entity_host(code), "accept-language": "en"})
    if user is not None:
        with schema_context(code):
            key = Token.objects.get_or_create(user=user)[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def today(code: str = "be") -> datetime.date:
    with schema_context(code):
        return services.entity_today(Entity.objects.get(schema_name=code))


def days_from_now(n: int, code: str = "be") -> str:
    return (today(code) + datetime.timedelta(days=n)).isoformat()


def contract_body(client_id: int, **changes: Any) -> dict[str, Any]:
    """A valid draft: two days of 8 h in ten days, 1,000.00 excl. VAT."""
    body: dict[str, Any] = {
        "client": client_id,
        "title": "Sound engineering",
        "description": "Two concerts",
        "place": "Bruxelles",
        "first_day": days_from_now(10),
        "last_day": days_from_now(11),
        "price": "1000.00",
        "work_days": [
            {"day": days_from_now(10), "hours": "8.00"},
            {"day": days_from_now(11), "hours": "8.00"},
        ],
        "expenses": [{"kind": "travel", "amount": "40.00", "description": "Train"}],
    }
    body.update(changes)
    return body


def new_member(code: str, email: str, **kwargs: Any) -> Member:
    """A member of entity ``code``, its user loaded (a lazy load outside the schema fails)."""
    with schema_context(code):
        member = MemberFactory(user__email=email, **kwargs)
        return Member.objects.select_related("user").get(pk=member.pk)


@pytest.fixture
def member(be: Entity) -> Member:
    return new_member("be", "ana@example.org")


@pytest.fixture
def other_member(be: Entity) -> Member:
    return new_member("be", "ben@example.org")


@pytest.fixture
def advisor(be: Entity) -> User:
    with schema_context("be"):
        return UserFactory(email="advisor@example.org", role=Role.ADVISOR)


@pytest.fixture
def client_ok(be: Entity) -> Client:
    with schema_context("be"):
        return ClientFactory(name="Théâtre National")


def submitted(member: Member, **kwargs: Any) -> Contract:
    with schema_context("be"):
        contract = ContractFactory(member=member, **kwargs)
        return services.contract_submit(contract=contract, actor=member.user)


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/me/"),
        ("get", "/api/clients/"),
        ("post", "/api/clients/"),
        ("get", "/api/clients/1/"),
        ("get", "/api/contracts/"),
        ("post", "/api/contracts/"),
        ("get", "/api/contracts/1/"),
        ("put", "/api/contracts/1/"),
        ("patch", "/api/contracts/1/"),
        ("post", "/api/contracts/1/submit/"),
        ("post", "/api/contracts/1/withdraw/"),
        ("post", "/api/contracts/1/cancel/"),
        ("post", "/api/contracts/1/approve/"),
        ("post", "/api/contracts/1/reject/"),
        ("post", "/api/contracts/1/request-changes/"),
        ("get", "/api/contracts/1/history/"),
        ("post", "/api/estimate/"),
        ("post", "/api/partner/shifts/"),
    ],
)
def test_every_endpoint_needs_credentials(be: Entity, method: str, path: str) -> None:
    response = getattr(api("be"), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(be: Entity) -> None:
    client = api("be")
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/contracts/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_be_token_is_unknown_at_fr(member: Member, fr: Entity) -> None:
    with schema_context("be"):
        key = Token.objects.create(user=member.user).key
    be_api = api("be")
    be_api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert be_api.get("/api/me/").status_code == 200
    # The same token sent to the French entity's host.
    fr_api = api("fr")
    fr_api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = fr_api.get("/api/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_session_from_the_login_page_works_on_the_api(member: Member) -> None:
    browser = DjangoClient(headers={"host": entity_host("be"), "accept-language": "en"})
    login = browser.post("/accounts/login/", {"username": "ana@example.org", "password": PASSWORD})
    assert login.status_code == 302
    response = browser.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["email"] == "ana@example.org"


def test_a_session_post_needs_the_csrf_token(member: Member, client_ok: Client) -> None:
    browser = APIClient(
        enforce_csrf_checks=True, headers={"host": entity_host("be"), "accept-language": "en"}
    )
    browser.get("/accounts/login/")
    csrf = browser.cookies["csrftoken"].value
    login = browser.post(
        "/accounts/login/",
        {"username": "ana@example.org", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    assert login.status_code == 302
    body = contract_body(client_ok.pk)

    forged = browser.post("/api/contracts/", body, format="json")
    assert forged.status_code == 403
    assert forged.json() == {"detail": "CSRF Failed: CSRF token missing."}
    with schema_context("be"):
        assert not Contract.objects.exists()
    csrf = browser.cookies["csrftoken"].value  # rotated at login
    from_the_page = browser.post("/api/contracts/", body, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert from_the_page.status_code == 201


def test_the_schema_and_the_docs_are_served_to_a_logged_in_user(member: Member) -> None:
    client = api("be", member.user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/contracts/{contract_id}/approve/" in paths
    assert "/api/partner/shifts/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200


# --- member file -----------------------------------------------------------------------------


def test_me_is_the_users_member_file(member: Member) -> None:
    response = api("be", member.user).get("/api/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == member.pk
    assert body["email"] == "ana@example.org"
    assert body["state"] == "active"
    assert body["national_id"] == member.national_id
    assert body["iban"] == "BE68539007547034"
    assert body["advisor"] is None


def test_me_is_404_for_a_user_without_member_file(advisor: User) -> None:
    response = api("be", advisor).get("/api/me/")
    assert response.status_code == 404
    assert response.json() == {"detail": "You have no member file in this entity."}


# --- clients ---------------------------------------------------------------------------------


def test_a_member_adds_a_client_to_the_registry(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/clients/",
        {
            "name": "Brasserie Cantillon",
            "kind": "company",
            "country": "be",
            "street": "Rue Gheude 56",
            "postal_code": "1070",
            "city": "Anderlecht",
            "email": "billing@cantillon.example",
            "vat_number": "BE 0403.019.261",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["vat_number"] == "BE0403019261"
    assert body["country"] == "BE"
    assert body["peppol_id"] == "0208:0403019261"
    assert body["payment_terms_days"] == 30
    assert body["status"] == "ok"
    with schema_context("be"):
        created = Client.objects.get(pk=body["id"])
        assert created.created_by == member.user


def test_a_bad_vat_number_is_refused_with_the_reason(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/clients/",
        {
            "name": "Wrong Number SRL",
            "kind": "company",
            "country": "BE",
            "street": "Rue Neuve 1",
            "postal_code": "1000",
            "city": "Bruxelles",
            "email": "billing@wrong.example",
            "vat_number": "BE0403019260",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"vat_number": ["Invalid VAT number: the check digits are wrong."]}
    with schema_context("be"):
        assert not Client.objects.filter(name="Wrong Number SRL").exists()


def test_a_duplicate_vat_number_points_to_the_existing_client(member: Member) -> None:
    with schema_context("be"):
        existing = ClientFactory(name="Cantillon", kind="company", vat_number="BE0403019261")
    response = api("be", member.user).post(
        "/api/clients/",
        {
            "name": "Cantillon again",
            "kind": "company",
            "country": "BE",
            "street": "Rue Gheude 56",
            "postal_code": "1070",
            "city": "Anderlecht",
            "email": "other@cantillon.example",
            "vat_number": "BE0403019261",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "vat_number": ["Cantillon already has this VAT number: choose it instead."],
        "existing_client": {"id": existing.pk, "name": "Cantillon"},
    }
    with schema_context("be"):
        assert Client.objects.filter(vat_number="BE0403019261").count() == 1


def test_a_client_body_is_checked_field_by_field(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/clients/",
        {"name": "", "kind": "giant", "country": "Belgium", "email": "not-an-email"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "name": ["This field may not be blank."],
        "kind": ['"giant" is not a valid choice.'],
        "country": ["This value does not match the required pattern."],
        "street": ["This field is required."],
        "postal_code": ["This field is required."],
        "city": ["This field is required."],
        "email": ["Enter a valid email address."],
    }


def test_clients_are_searched_by_name_or_vat_and_filtered(member: Member) -> None:
    with schema_context("be"):
        cantillon = ClientFactory(name="Cantillon", kind="company", vat_number="BE0403019261")
        theatre = ClientFactory(name="Théâtre National")
        blocked = ClientFactory(name="Mauvais Payeur", status="blocked")
        ClientFactory(name="Opéra de Lyon", country="FR")
    client = api("be", member.user)

    def names(**query: str) -> list[str]:
        response = client.get("/api/clients/", query)
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names(search="théâtre") == ["Théâtre National"]
    assert names(search="be 0403.019") == ["Cantillon"]
    assert names(search="payeur", status="blocked") == ["Mauvais Payeur"]
    assert names(search="payeur", status="ok") == []
    assert names(kind="company") == ["Cantillon"]
    assert names(country="fr") == ["Opéra de Lyon"]
    assert names() == ["Cantillon", "Mauvais Payeur", "Opéra de Lyon", "Théâtre National"]
    page = client.get("/api/clients/").json()
    assert page["count"] == 4
    assert page["next"] is None
    assert page["previous"] is None
    detail = client.get(f"/api/clients/{theatre.pk}/")
    assert detail.status_code == 200
    assert detail.json()["name"] == "Théâtre National"
    assert client.get(f"/api/clients/{blocked.pk}/").json()["status"] == "blocked"
    assert client.get("/api/clients/?status=bogus").status_code == 400
    assert cantillon.pk != theatre.pk


def test_clients_are_paginated(member: Member) -> None:
    with schema_context("be"):
        for n in range(51):
            ClientFactory(name=f"Client {n:02d}")
    client = api("be", member.user)
    first = client.get("/api/clients/").json()
    assert first["count"] == 51
    assert len(first["results"]) == 50
    assert first["next"] == "http://be.testserver.local/api/clients/?page=2"
    second = client.get("/api/clients/?page=2").json()
    assert [row["name"] for row in second["results"]] == ["Client 50"]


def test_the_client_registry_is_for_members_and_staff(advisor: User, be: Entity) -> None:
    with schema_context("be"):
        stranger = UserFactory(email="no-file@example.org", role=Role.MEMBER)
    assert api("be", stranger).get("/api/clients/").status_code == 403
    assert api("be", advisor).get("/api/clients/").status_code == 200


def test_a_be_client_does_not_exist_at_fr(client_ok: Client, fr: Entity) -> None:
    french = new_member("fr", "chloe@example.org")
    fr_api = api("fr", french.user)
    assert fr_api.get(f"/api/clients/{client_ok.pk}/").status_code == 404
    assert fr_api.get("/api/clients/").json()["count"] == 0


# --- contracts: declaring and editing ------------------------------------------------------


def test_a_member_declares_a_draft(member: Member, client_ok: Client) -> None:
    response = api("be", member.user).post(
        "/api/contracts/", contract_body(client_ok.pk), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "draft"
    assert body["member"] == {"id": member.user.pk, "name": member.user.get_full_name()}
    assert body["client"] == {"id": client_ok.pk, "name": "Théâtre National"}
    assert body["price"] == "1000.00"
    assert body["currency"] == "EUR"
    assert body["vat_treatment"] == "domestic"
    assert body["vat_rate"] == "21.0000"
    assert body["source"] == "portal"
    assert body["work_days"] == [
        {"day": days_from_now(10), "hours": "8.00"},
        {"day": days_from_now(11), "hours": "8.00"},
    ]
    assert [(e["kind"], e["amount"], e["description"]) for e in body["expenses"]] == [
        ("travel", "40.00", "Train")
    ]
    assert body["declarations"] == []
    with schema_context("be"):
        contract = Contract.objects.get(pk=body["id"])
        assert contract.member == member
        assert contract.price == Decimal("1000.00")
        assert list(contract.events.values_list("action", flat=True)) == ["created"]


def test_declaring_needs_a_member_file(advisor: User, client_ok: Client) -> None:
    response = api("be", advisor).post(
        "/api/contracts/", contract_body(client_ok.pk), format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You have no member file in this entity."}


def test_reversed_dates_are_refused(member: Member, client_ok: Client) -> None:
    body = contract_body(
        client_ok.pk, first_day=days_from_now(11), last_day=days_from_now(10), work_days=[]
    )
    response = api("be", member.user).post("/api/contracts/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"last_day": ["The last day cannot be before the first day."]}
    with schema_context("be"):
        assert not Contract.objects.exists()


def test_a_negative_price_is_refused(member: Member, client_ok: Client) -> None:
    body = contract_body(client_ok.pk, price="-100.00")
    response = api("be", member.user).post("/api/contracts/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"price": ["The price must be more than zero."]}
    with schema_context("be"):
        assert not Contract.objects.exists()


def test_a_blocked_client_gets_no_contract(member: Member) -> None:
    with schema_context("be"):
        blocked = ClientFactory(name="Mauvais Payeur", status="blocked")
    response = api("be", member.user).post(
        "/api/contracts/", contract_body(blocked.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "client": ["Mauvais Payeur is blocked after a payment default: no new contract."]
    }
    with schema_context("be"):
        assert not Contract.objects.exists()


def test_a_contract_body_is_checked_field_by_field(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/contracts/",
        {
            "client": 999999,
            "title": "x",
            "place": "y",
            "first_day": "tomorrow",
            "last_day": "2026-02-30",
            "price": "12.345",
            "work_days": [{"day": "2026-12-01"}],
            "expenses": [{"kind": "champagne", "amount": "1"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "client": ['Invalid pk "999999" - object does not exist.'],
        "first_day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "last_day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "price": ["Ensure that there are no more than 2 decimal places."],
        "work_days": {"0": {"hours": ["This field is required."]}},
        "expenses": {"0": {"kind": ['"champagne" is not a valid choice.']}},
    }


def test_a_body_that_is_not_an_object_is_400(member: Member) -> None:
    client = api("be", member.user)
    response = client.post("/api/contracts/", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    broken = client.post("/api/contracts/", "{not json", content_type="application/json")
    assert broken.status_code == 400


def test_bodies_the_api_cannot_read_are_400(member: Member) -> None:
    client = api("be", member.user)
    surrogate = client.post("/api/clients/", '{"kind": "\\ud800"}', content_type="application/json")
    assert surrogate.status_code == 400
    assert surrogate.json() == {"detail": "JSON parse error - a string holds a lone surrogate."}
    deep = client.post(
        "/api/estimate/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert deep.status_code == 400
    assert deep.json() == {"detail": "JSON parse error - the body is nested too deep."}
    form = client.post("/api/estimate/", {"price": "10"})  # multipart: the API speaks JSON
    assert form.status_code == 415


def test_a_member_updates_a_draft_with_put_and_patch(member: Member, client_ok: Client) -> None:
    client = api("be", member.user)
    contract_id = client.post("/api/contracts/", contract_body(client_ok.pk), format="json").json()[
        "id"
    ]

    put = client.put(
        f"/api/contracts/{contract_id}/",
        contract_body(client_ok.pk, price="1200.00", expenses=[]),
        format="json",
    )
    assert put.status_code == 200
    assert put.json()["price"] == "1200.00"
    assert put.json()["expenses"] == []

    patch = client.patch(f"/api/contracts/{contract_id}/", {"title": "Mixing desk"}, format="json")
    assert patch.status_code == 200
    body = patch.json()
    assert body["title"] == "Mixing desk"
    assert body["price"] == "1200.00"  # what the PATCH left out stays
    assert len(body["work_days"]) == 2
    with schema_context("be"):
        edited = ContractEvent.objects.filter(contract_id=contract_id, action="edited").first()
        assert edited is not None
        assert edited.changes == {"title": ["Sound engineering", "Mixing desk"]}


def test_a_patch_keeps_the_expenses_it_does_not_mention(member: Member, client_ok: Client) -> None:
    client = api("be", member.user)
    created = client.post("/api/contracts/", contract_body(client_ok.pk), format="json").json()
    patch = client.patch(f"/api/contracts/{created['id']}/", {"place": "Liège"}, format="json")
    assert patch.status_code == 200
    assert patch.json()["expenses"] == created["expenses"]  # same row, same id


def test_a_submitted_contract_cannot_be_edited(member: Member) -> None:
    contract = submitted(member)
    response = api("be", member.user).patch(
        f"/api/contracts/{contract.pk}/", {"title": "Changed"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"state": ["A submitted contract cannot be edited."]}


# --- contracts: who sees what --------------------------------------------------------------


def test_a_member_never_sees_another_members_contract(member: Member, other_member: Member) -> None:
    with schema_context("be"):
        theirs = ContractFactory(member=other_member, title="Not yours")
        mine = ContractFactory(member=member, title="Mine")
    client = api("be", member.user)

    listed = client.get("/api/contracts/").json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert client.get(f"/api/contracts/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/contracts/{theirs.pk}/history/").status_code == 404
    assert (
        client.put(f"/api/contracts/{theirs.pk}/", {"title": "x"}, format="json").status_code == 404
    )
    assert (
        client.patch(f"/api/contracts/{theirs.pk}/", {"title": "x"}, format="json").status_code
        == 404
    )
    for action in ("submit", "withdraw", "cancel"):
        response = client.post(f"/api/contracts/{theirs.pk}/{action}/", {}, format="json")
        assert response.status_code == 404, action
        assert response.json() == {"detail": "No Contract matches the given query."}
    with schema_context("be"):
        theirs.refresh_from_db()
        assert theirs.title == "Not yours"
        assert theirs.state == "draft"
        assert list(theirs.events.values_list("action", flat=True)) == ["created"]


def test_a_reviewer_sees_every_contract_and_filters_them(
    member: Member, other_member: Member, advisor: User
) -> None:
    with schema_context("be"):
        other_client = ClientFactory(name="Other client")
        late = ContractFactory(member=other_member, first_day=today() + datetime.timedelta(days=40))
        soon = ContractFactory(member=member, client=other_client)
    first_submitted = submitted(member)
    client = api("be", advisor)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/contracts/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert sorted(ids("")) == sorted([late.pk, soon.pk, first_submitted.pk])
    assert ids("?state=submitted") == [first_submitted.pk]
    assert sorted(ids("?state=submitted&state=draft")) == sorted(
        [late.pk, soon.pk, first_submitted.pk]
    )
    assert ids(f"?first_day_after={days_from_now(30)}") == [late.pk]
    assert sorted(ids(f"?first_day_before={days_from_now(10)}")) == sorted(
        [soon.pk, first_submitted.pk]
    )
    assert ids(f"?client={other_client.pk}") == [soon.pk]
    assert client.get("/api/contracts/?client=999999").status_code == 400
    assert client.get("/api/contracts/?first_day_after=someday").status_code == 400
    assert client.get(f"/api/contracts/{late.pk}/").status_code == 200


def test_a_be_contract_is_404_at_fr(member: Member, fr: Entity) -> None:
    with schema_context("be"):
        contract = ContractFactory(member=member)
    french = new_member("fr", "chloe@example.org")
    with schema_context("fr"):
        french_advisor = UserFactory(email="conseil@example.org", role=Role.ADVISOR)
    assert api("fr", french.user).get(f"/api/contracts/{contract.pk}/").status_code == 404
    reviewer = api("fr", french_advisor)
    assert reviewer.get(f"/api/contracts/{contract.pk}/").status_code == 404
    assert reviewer.get("/api/contracts/").json()["count"] == 0
    response = reviewer.post(f"/api/contracts/{contract.pk}/approve/", {}, format="json")
    assert response.status_code == 404


# --- contracts: the review -------------------------------------------------------------------


def test_submit_withdraw_and_cancel(member: Member, client_ok: Client) -> None:
    client = api("be", member.user)
    contract_id = client.post("/api/contracts/", contract_body(client_ok.pk), format="json").json()[
        "id"
    ]

    submit = client.post(f"/api/contracts/{contract_id}/submit/")
    assert submit.status_code == 200
    assert submit.json()["state"] == "submitted"
    assert submit.json()["submitted_at"] is not None
    withdraw = client.post(f"/api/contracts/{contract_id}/withdraw/")
    assert withdraw.status_code == 200
    assert withdraw.json()["state"] == "draft"
    cancel = client.post(
        f"/api/contracts/{contract_id}/cancel/", {"reason": "Concert moved"}, format="json"
    )
    assert cancel.status_code == 200
    assert cancel.json()["state"] == "cancelled"
    again = client.post(f"/api/contracts/{contract_id}/submit/")
    assert again.status_code == 400
    assert again.json() == {"state": ["A cancelled contract cannot become submitted."]}

    history = client.get(f"/api/contracts/{contract_id}/history/")
    assert history.status_code == 200
    events = history.json()["results"]
    assert [event["action"] for event in events] == [
        "cancelled",
        "withdrawn",
        "submitted",
        "created",
    ]
    assert events[0]["note"] == "Concert moved"
    assert events[0]["actor"] == {"id": member.user.pk, "name": member.user.get_full_name()}
    assert events[0]["changes"]["state"] == ["draft", "cancelled"]


def test_a_late_declaration_is_refused_at_submission(member: Member, client_ok: Client) -> None:
    client = api("be", member.user)
    body = contract_body(
        client_ok.pk,
        first_day=days_from_now(-2),
        last_day=days_from_now(-1),
        work_days=[
            {"day": days_from_now(-2), "hours": "8"},
            {"day": days_from_now(-1), "hours": "8"},
        ],
    )
    created = client.post("/api/contracts/", body, format="json")
    assert created.status_code == 201  # a draft may describe past work; submitting it may not
    contract_id = created.json()["id"]

    response = client.post(f"/api/contracts/{contract_id}/submit/")
    assert response.status_code == 400
    assert response.json() == {
        "first_day": [
            "The work has already started: a contract is declared before the work. "
            "Ask your advisor."
        ]
    }
    with schema_context("be"):
        contract = Contract.objects.get(pk=contract_id)
        assert contract.state == "draft"
        assert contract.submitted_at is None
        assert list(contract.events.values_list("action", flat=True)) == ["created"]


def test_a_member_cannot_approve(member: Member) -> None:
    contract = submitted(member)
    client = api("be", member.user)
    for action in ("approve", "reject", "request-changes"):
        response = client.post(
            f"/api/contracts/{contract.pk}/{action}/", {"reason": "x", "note": "x"}, format="json"
        )
        assert response.status_code == 403, action
        assert response.json() == {"detail": "Only advisors and entity admins review contracts."}
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == "submitted"
        assert not EmploymentDeclaration.objects.filter(contract=contract).exists()


def test_a_reviewer_approves_and_the_dimona_is_prepared(member: Member, advisor: User) -> None:
    contract = submitted(member)
    response = api("be", advisor).post(
        f"/api/contracts/{contract.pk}/approve/", {"note": "All good"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "approved"
    assert body["review_note"] == "All good"
    assert [(d["kind"], d["state"]) for d in body["declarations"]] == [("dimona", "to_send")]
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == "approved"
        assert contract.reviewed_by == advisor
        declaration = EmploymentDeclaration.objects.get(contract=contract)
        assert declaration.kind == "dimona"
        assert declaration.period_start == contract.first_day
        assert declaration.period_end == contract.last_day
        assert declaration.payload["worker"] == {"ssin": member.national_id}


def test_reject_and_request_changes_need_a_reason(member: Member, advisor: User) -> None:
    first, second = submitted(member), submitted(member, first_day=today() + datetime.timedelta(20))
    reviewer = api("be", advisor)

    blank = reviewer.post(f"/api/contracts/{first.pk}/reject/", {"reason": " "}, format="json")
    assert blank.status_code == 400
    assert blank.json() == {"reason": ["Give the member the reason of the refusal."]}
    missing = reviewer.post(f"/api/contracts/{first.pk}/reject/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"reason": ["This field is required."]}
    rejected = reviewer.post(
        f"/api/contracts/{first.pk}/reject/", {"reason": "Not our sector"}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected"

    changes = reviewer.post(
        f"/api/contracts/{second.pk}/request-changes/",
        {"note": "Add the rehearsal day"},
        format="json",
    )
    assert changes.status_code == 200
    assert changes.json()["state"] == "changes_requested"
    assert changes.json()["review_note"] == "Add the rehearsal day"


def test_a_reviewer_acts_on_a_members_contract_on_their_behalf(
    member: Member, advisor: User
) -> None:
    with schema_context("be"):
        contract = ContractFactory(member=member)
    reviewer = api("be", advisor)
    patch = reviewer.patch(f"/api/contracts/{contract.pk}/", {"place": "Namur"}, format="json")
    assert patch.status_code == 200
    assert patch.json()["place"] == "Namur"
    assert patch.json()["member"]["id"] == member.user.pk  # still the member's contract
    submit = reviewer.post(f"/api/contracts/{contract.pk}/submit/")
    assert submit.status_code == 200
    assert submit.json()["state"] == "submitted"
    with schema_context("be"):
        assert [(e.action, e.actor_id) for e in contract.events.order_by("id")] == [
            ("created", member.user.pk),
            ("edited", advisor.pk),
            ("submitted", advisor.pk),
        ]


# --- salary estimate -------------------------------------------------------------------------


def test_the_estimate_uses_the_entitys_rates(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/estimate/",
        {"price": "1000.00", "expenses": "0", "first_day": days_from_now(10)},
        format="json",
    )
    assert response.status_code == 200
    # BE: fee 6.5 %, employer 25 %, employee 13.07 %; the key formula withholds nothing on
    # 650.24 a month (tests/members/test_estimates.py shows the arithmetic).
    assert response.json() == {
        "currency": "EUR",
        "invoiced": "1000.00",
        "fee": "65.00",
        "expenses": "0.00",
        "budget": "935.00",
        "employer_contributions": "187.00",
        "gross": "748.00",
        "employee_contributions": "97.76",
        "taxable": "650.24",
        "withholding": "0.00",
        "net": "650.24",
        "fee_percent": "6.5000",
        "is_estimate": True,
        "guarantee_contribution": "20.00",
        "budget_remainder": "0.00",
    }


def test_the_estimate_at_fr_uses_frs_rates(fr: Entity) -> None:
    french = new_member("fr", "chloe@example.org")
    response = api("fr", french.user).post("/api/estimate/", {"price": "1000"}, format="json")
    assert response.status_code == 200
    body = response.json()
    # FR: employer 42 %: 935.00 * 100 / 142 = 658.45
    assert (body["budget"], body["gross"]) == ("935.00", "658.45")


def test_the_estimate_refuses_a_negative_price(member: Member) -> None:
    response = api("be", member.user).post("/api/estimate/", {"price": "-1"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"price": ["Ensure this value is greater than or equal to 0."]}


# --- partner platforms -----------------------------------------------------------------------


@pytest.fixture
def rider(be: Entity) -> Member:
    return new_member("be", "rider@example.org", sector="rider")


def shift(**changes: Any) -> dict[str, Any]:
    body = {
        "shift_id": "shift-001",
        "member_email": "rider@example.org",
        "day": days_from_now(1),
        "hours": "4.00",
        "price": "200.00",
        "title": "Evening deliveries",
        "place": "Ixelles",
    }
    body.update(changes)
    return body


def test_a_partner_opens_a_shift_once(rider: Member) -> None:
    with schema_context("be"):
        partner = PartnerFactory(name="Fast Food Riders")
    client = api("be", partner.api_user)

    first = client.post("/api/partner/shifts/", shift(), format="json")
    assert first.status_code == 201
    body = first.json()
    assert body["state"] == "approved"
    assert body["source"] == "partner"
    assert body["member"]["id"] == rider.user.pk
    assert body["client"] == {"id": partner.client_id, "name": partner.client.name}
    assert body["work_days"] == [{"day": days_from_now(1), "hours": "4.00"}]
    assert [d["kind"] for d in body["declarations"]] == ["dimona"]

    again = client.post("/api/partner/shifts/", shift(), format="json")
    assert again.status_code == 200
    assert again.json() == body

    conflict = client.post("/api/partner/shifts/", shift(hours="5.00"), format="json")
    assert conflict.status_code == 400
    assert conflict.json() == {
        "shift_id": ["Shift shift-001 was already opened with other details."]
    }
    with schema_context("be"):
        assert Contract.objects.filter(partner=partner).count() == 1
        contract = Contract.objects.get(partner=partner)
        assert contract.partner_shift_id == "shift-001"


def test_a_shift_under_the_minimum_length_is_refused(rider: Member) -> None:
    with schema_context("be"):
        partner = PartnerFactory(name="Fast Food Riders")
    response = api("be", partner.api_user).post(
        "/api/partner/shifts/", shift(hours="2.00"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "hours": ["A shift lasts at least 3.00 hours under the agreement with Fast Food Riders."]
    }
    with schema_context("be"):
        assert not Contract.objects.exists()


def test_a_shift_for_an_unknown_member_is_refused(rider: Member) -> None:
    with schema_context("be"):
        partner = PartnerFactory()
    response = api("be", partner.api_user).post(
        "/api/partner/shifts/", shift(member_email="nobody@example.org"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"member_email": ["No member of this entity has this email."]}


def test_only_an_active_partner_opens_shifts(rider: Member) -> None:
    with schema_context("be"):
        partner = PartnerFactory()
        inactive = PartnerFactory(is_active=False, client=partner.client)
    response = api("be", rider.user).post("/api/partner/shifts/", shift(), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a partner platform's API user opens shifts."}
    assert (
        api("be", inactive.api_user)
        .post("/api/partner/shifts/", shift(), format="json")
        .status_code
        == 403
    )
    with schema_context("be"):
        assert not Contract.objects.filter(partner=partner).exists()


# --- a day before the entity's first rates ----------------------------------------------------
# The entities' rates start on 2025-01-01: an earlier day has no fee, VAT or payroll rate, and
# is refused by the services (RateNotFoundError) instead of being a 500.


def test_an_estimate_for_a_day_without_rates_is_400(member: Member) -> None:
    response = api("be", member.user).post(
        "/api/estimate/", {"price": "1000.00", "first_day": "2024-12-31"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["first_day"]


def test_a_draft_for_a_day_without_rates_is_400(member: Member, client_ok: Client) -> None:
    body = contract_body(client_ok.pk, first_day="2024-12-30", last_day="2024-12-31", work_days=[])
    response = api("be", member.user).post("/api/contracts/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["first_day"]
    with schema_context("be"):
        assert not Contract.objects.exists()


def test_a_shift_on_a_day_without_rates_is_400(rider: Member) -> None:
    with schema_context("be"):
        partner = PartnerFactory()
    response = api("be", partner.api_user).post(
        "/api/partner/shifts/", shift(day="2024-12-31"), format="json"
    )
    assert response.status_code == 400
    # The service names the contract's field; the shift's body calls it "day".
    assert list(response.json()) == ["first_day"]
    with schema_context("be"):
        assert not Contract.objects.exists()
