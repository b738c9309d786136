"""The member portal as a browser uses it: forms posted, pages read, other data refused."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from members.models import Client, Contract, Member
from members.services import entity_today
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ClientFactory, ContractFactory, MemberFactory, UserFactory


def log_in(client: HttpClient, email: str) -> None:
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302


def contract_post(client_id: int, first: datetime.date, **overrides: str) -> dict[str, str]:
    data = {
        "client": str(client_id),
        "title": "Stage lighting",
        "description": "Two evenings",
        "place": "Liège",
        "first_day": first.isoformat(),
        "last_day": (first + datetime.timedelta(days=1)).isoformat(),
        "price": "1000.00",
        "vat_rate": "21.0000",
        "days-TOTAL_FORMS": "2",
        "days-INITIAL_FORMS": "0",
        "days-0-day": first.isoformat(),
        "days-0-hours": "8",
        "days-1-day": (first + datetime.timedelta(days=1)).isoformat(),
        "days-1-hours": "8",
        "expenses-TOTAL_FORMS": "1",
        "expenses-INITIAL_FORMS": "0",
        "expenses-0-kind": "travel",
        "expenses-0-amount": "50.00",
        "expenses-0-description": "Train",
    }
    data.update(overrides)
    return data


@pytest.fixture
def member_client(be: Entity, be_client: HttpClient) -> tuple[HttpClient, Member, Client]:
    with schema_context("be"):
        member = MemberFactory()
        client = ClientFactory()
        email = member.user.email
    log_in(be_client, email)
    return be_client, member, client


def test_declare_save_draft_then_submit(
    member_client: tuple[HttpClient, Member, Client], be: Entity
) -> None:
    http, member, client = member_client
    first = entity_today(be) + datetime.timedelta(days=5)
    page = http.get("/contracts/new/")
    assert page.status_code == 200
    assert "What you will earn" in page.content.decode()

    response = http.post("/contracts/new/", contract_post(client.pk, first, save="1"))
    assert response.status_code == 302
    with schema_context("be"):
        contract = Contract.objects.get(member=member)
        assert contract.state == "draft"
        assert contract.expenses.get().amount == Decimal("50.00")
        assert contract.work_days.count() == 2
    detail = http.get(f"/contracts/{contract.pk}/")
    assert "885.00" in detail.content.decode()  # budget: 1000 - 65 fee - 50 expenses

    response = http.post(f"/contracts/{contract.pk}/submit/")
    assert response.status_code == 302
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == "submitted"


def test_the_estimate_panel_follows_the_price(
    member_client: tuple[HttpClient, Member, Client],
) -> None:
    http, _, _ = member_client
    response = http.post(
        "/contracts/estimate/",
        {"price": "1000.00", "expenses-TOTAL_FORMS": "1", "expenses-0-amount": "50.00"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "65.00" in body  # 6.5 % fee
    assert "885.00" in body
    assert "estimate" in body
    garbage = http.post("/contracts/estimate/", {"price": "abc", "expenses-TOTAL_FORMS": "x"})
    assert garbage.status_code == 200


def test_reversed_dates_show_a_field_error_and_save_nothing(
    member_client: tuple[HttpClient, Member, Client], be: Entity
) -> None:
    http, member, client = member_client
    first = entity_today(be) + datetime.timedelta(days=5)
    data = contract_post(
        client.pk, first, last_day=(first - datetime.timedelta(days=3)).isoformat()
    )
    response = http.post("/contracts/new/", data)
    assert response.status_code == 200
    assert "The last day cannot be before the first day." in response.content.decode()
    with schema_context("be"):
        assert not Contract.objects.filter(member=member).exists()


def test_a_late_submission_is_saved_as_draft_and_refused(
    member_client: tuple[HttpClient, Member, Client], be: Entity
) -> None:
    http, member, client = member_client
    first = entity_today(be) - datetime.timedelta(days=2)
    response = http.post(
        "/contracts/new/", contract_post(client.pk, first, submit="1"), follow=True
    )
    assert "The work has already started" in response.content.decode()
    with schema_context("be"):
        assert Contract.objects.get(member=member).state == "draft"


def test_another_members_contract_is_a_404(
    member_client: tuple[HttpClient, Member, Client],
) -> None:
    http, _, _ = member_client
    with schema_context("be"):
        theirs = ContractFactory()
    for url in (f"/contracts/{theirs.pk}/", f"/contracts/{theirs.pk}/edit/"):
        assert http.get(url).status_code == 404
    assert http.post(f"/contracts/{theirs.pk}/submit/").status_code == 404
    with schema_context("be"):
        theirs.refresh_from_db()
        assert theirs.state == "draft"


def test_another_entitys_contract_is_a_404(be: Entity, fr: Entity, be_client: HttpClient) -> None:
    with schema_context("fr"):
        in_fr = ContractFactory()
    with schema_context("be"):
        email = MemberFactory().user.email
    log_in(be_client, email)
    assert be_client.get(f"/contracts/{in_fr.pk}/").status_code == 404


def test_member_file_refuses_a_bad_iban_and_national_number(
    be: Entity, be_client: HttpClient
) -> None:
    with schema_context("be"):
        user = UserFactory()
    log_in(be_client, user.email)
    response = be_client.post(
        "/me/",
        {
            "national_id": "85073003329",
            "date_of_birth": "1985-07-30",
            "street": "Rue Haute 1",
            "postal_code": "1000",
            "city": "Bruxelles",
            "country": "BE",
            "iban": "BE68539007547035",
            "sector": "artist",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Invalid national identification number" in body
    assert "Invalid IBAN" in body
    with schema_context("be"):
        assert not Member.objects.filter(user=user).exists()


def test_a_duplicate_vat_number_offers_the_existing_client(
    member_client: tuple[HttpClient, Member, Client],
) -> None:
    http, _, _ = member_client
    with schema_context("be"):
        existing = ClientFactory(kind="company", vat_number="BE0403019261", name="Acme Events")
    response = http.post(
        "/clients/new/",
        {
            "name": "ACME",
            "kind": "company",
            "country": "BE",
            "vat_number": "BE 0403.019.261",
            "street": "Rue 1",
            "postal_code": "1000",
            "city": "Bruxelles",
            "email": "a@b.example",
            "language": "fr",
            "payment_terms_days": "30",
        },
    )
    body = response.content.decode()
    assert "Acme Events is already a client" in body
    assert f"?client={existing.pk}" in body


def test_the_dashboard_shows_what_to_do_and_the_insurance(
    member_client: tuple[HttpClient, Member, Client],
) -> None:
    http, member, client = member_client
    with schema_context("be"):
        ContractFactory(member=member, client=client, title="Festival set")
    page = http.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Submit your draft" in page
    assert "Festival set" in page
    assert "You are not covered in" in page


def test_a_receipt_is_served_to_its_member_only(
    member_client: tuple[HttpClient, Member, Client], be: Entity
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    http, member, client = member_client
    first = entity_today(be) + datetime.timedelta(days=5)
    data = contract_post(client.pk, first, save="1")
    data["expenses-0-receipt"] = SimpleUploadedFile("ticket.pdf", b"%PDF-1.4 train ticket")
    assert http.post("/contracts/new/", data).status_code == 302
    with schema_context("be"):
        contract = Contract.objects.get(member=member)
        expense = contract.expenses.get()
        assert expense.receipt.name.startswith(f"contracts/{contract.pk}/")
        stranger_email = MemberFactory().user.email
    url = f"/contracts/{contract.pk}/files/receipt/{expense.pk}/"
    response = http.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 train ticket"

    stranger = HttpClient(headers={"host": "be.testserver.local"})
    log_in(stranger, stranger_email)
    assert stranger.get(url).status_code == 404
