"""The fund's admin: the approval queue and its action (and who is refused it), payouts and
batches read-only, the batch's pain.001 download, the single fund policy, the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from guarantee_fund.models import FundPolicy, Payout, PayoutBatch
from guarantee_fund.services import payouts_run
from invoicing.models import Invoice
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import PASSWORD, ClientFactory, UserFactory
from tests.guarantee_fund.conftest import payout_of

PAYOUTS = "/admin/guarantee_fund/payout/"
BATCHES = "/admin/guarantee_fund/payoutbatch/"
POLICY = "/admin/guarantee_fund/fundpolicy/"
DASHBOARD = "/admin/guarantee_fund/coveragesnapshot/"


def logged_in(http: HttpClient, user: User) -> HttpClient:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return http


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def staff(role: Role) -> User:
    return UserFactory(role=role, language="en")


@pytest.fixture
def waiting(in_be: Entity, fund_invoice: Callable[..., Invoice]) -> Payout:
    """A payout held for an advisor: its 1,000.00 advance is above the client's 500.00 limit."""
    FundPolicy.objects.filter(pk=FundPolicy.current().pk).update(
        client_exposure_limit=Decimal("500.00")
    )
    invoice = fund_invoice(client=ClientFactory(name="Zeppelin Logistics SA"))
    result = payouts_run(as_of=payout_of(invoice).due_on)
    payout = payout_of(invoice)
    assert result.awaiting_approval == [payout.contract_id]
    assert payout.state == Payout.State.AWAITING_APPROVAL
    return payout


# --- the approval queue ----------------------------------------------------------------------


def test_an_advisor_approves_an_advance_from_the_queue(
    waiting: Payout, be_client: HttpClient
) -> None:
    advisor = staff(Role.ADVISOR)
    http = logged_in(be_client, advisor)

    queue = http.get(PAYOUTS)
    assert queue.status_code == 200
    page = queue.content.decode()
    assert "One advance waits for an advisor's approval." in page
    assert "waiting for approval (1)" in page
    assert '<option value="approve_advance">' in page
    only = http.get(PAYOUTS, {"queue": "waiting"})
    assert [row.pk for row in only.context["cl"].result_list] == [waiting.pk]
    # Due in more than a week (in the entity's calendar): not late yet.
    assert http.get(PAYOUTS, {"due": "late"}).context["cl"].result_count == 0
    assert [row.pk for row in http.get(PAYOUTS, {"due": "later"}).context["cl"].result_list] == [
        waiting.pk
    ]

    action = {"action": "approve_advance", "_selected_action": [str(waiting.pk)]}
    asked = http.post(PAYOUTS, action)
    assert asked.status_code == 200
    asked_page = asked.content.decode()
    assert "Zeppelin Logistics SA: advance 1000.00 EUR" in asked_page
    assert "(limit 500.00)" in asked_page
    waiting.refresh_from_db()
    assert waiting.state == Payout.State.AWAITING_APPROVAL  # nothing before the confirmation

    done = http.post(PAYOUTS, {**action, "apply": "1"}, follow=True)

    assert any("the advance is approved" in message for message in messages_of(done))
    waiting.refresh_from_db()
    assert waiting.state == Payout.State.SCHEDULED
    assert waiting.approved_by == advisor
    assert waiting.approved_at is not None
    # Approved, it is paid by the job although still above the limit.
    assert payouts_run(as_of=waiting.due_on).paid == [waiting.contract_id]


def test_the_approve_button_on_the_payout_page(waiting: Payout, be_client: HttpClient) -> None:
    http = logged_in(be_client, staff(Role.ADVISOR))
    button = f"{PAYOUTS}{waiting.pk}/do/approve_advance/"

    page = http.get(f"{PAYOUTS}{waiting.pk}/change/").content.decode()
    assert f'href="{button}"' in page
    assert "Zeppelin" in page
    assert "1000.00 / 500.00 EUR" not in page  # nothing advanced yet to the client
    assert "0 / 500.00 EUR" in page

    http.post(button, {"apply": "1"})

    waiting.refresh_from_db()
    assert waiting.state == Payout.State.SCHEDULED


def test_who_may_not_approve_is_refused_and_nothing_changes(
    waiting: Payout, be_client: HttpClient
) -> None:
    accountant = staff(Role.ACCOUNTANT)  # reads payouts, does not approve advances
    http = logged_in(be_client, accountant)

    page = http.get(PAYOUTS).content.decode()
    assert "Zeppelin" in page
    assert "approve_advance" not in page
    # No action for them: the list is shown again and nothing runs.
    refused = http.post(
        PAYOUTS,
        {"action": "approve_advance", "_selected_action": [str(waiting.pk)], "apply": "1"},
    )
    assert refused.status_code == 200
    assert refused.context["action_form"] is None
    assert (
        http.post(f"{PAYOUTS}{waiting.pk}/do/approve_advance/", {"apply": "1"}).status_code == 403
    )
    page = http.get(f"{PAYOUTS}{waiting.pk}/change/").content.decode()
    assert "/do/approve_advance/" not in page

    waiting.refresh_from_db()
    assert waiting.state == Payout.State.AWAITING_APPROVAL
    assert waiting.approved_by is None


def test_a_refused_approval_is_a_message(
    waiting: Payout, fund_invoice: Callable[..., Invoice], be_client: HttpClient
) -> None:
    other = payout_of(fund_invoice())
    assert other.state == Payout.State.SCHEDULED
    Payout.objects.filter(pk=other.pk).update(state=Payout.State.CANCELLED)
    http = logged_in(be_client, staff(Role.ADVISOR))

    done = http.post(
        PAYOUTS,
        {
            "action": "approve_advance",
            "_selected_action": [str(waiting.pk), str(other.pk)],
            "apply": "1",
        },
        follow=True,
    )

    shown = messages_of(done)
    assert any("Only an advance waiting for approval can be approved." in m for m in shown)
    assert any("the advance is approved" in m for m in shown)
    waiting.refresh_from_db()
    assert waiting.state == Payout.State.SCHEDULED
    assert Payout.objects.get(pk=other.pk).state == Payout.State.CANCELLED


def test_payouts_are_read_only(waiting: Payout, be_client: HttpClient) -> None:
    http = logged_in(be_client, staff(Role.ENTITY_ADMIN))

    page = http.get(f"{PAYOUTS}{waiting.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert http.post(f"{PAYOUTS}{waiting.pk}/change/", {"advance": "1.00"}).status_code == 403
    assert http.get(f"{PAYOUTS}add/").status_code == 403
    assert http.post(f"{PAYOUTS}{waiting.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Payout.objects.get(pk=waiting.pk).advance == waiting.advance


def test_a_member_is_refused_the_fund_admin(waiting: Payout, be_client: HttpClient) -> None:
    http = logged_in(be_client, waiting.member.user)
    for url in (PAYOUTS, f"{PAYOUTS}{waiting.pk}/do/approve_advance/", POLICY, DASHBOARD):
        response = http.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_another_entitys_payout_is_unknown(
    waiting: Payout, fr: Entity, fr_client: HttpClient
) -> None:
    with schema_context("fr"):
        assert not Payout.objects.filter(pk=waiting.pk).exists()
        http = logged_in(fr_client, staff(Role.ADVISOR))
    assert http.get(f"{PAYOUTS}{waiting.pk}/change/").status_code == 404
    assert (
        http.post(f"{PAYOUTS}{waiting.pk}/do/approve_advance/", {"apply": "1"}).status_code == 404
    )
    assert http.get(PAYOUTS).context["cl"].result_count == 0
    with schema_context("be"):
        assert Payout.objects.get(pk=waiting.pk).state == Payout.State.AWAITING_APPROVAL


# --- batches ---------------------------------------------------------------------------------


def test_the_days_pain001_is_downloaded_by_staff_only(
    in_be: Entity, fund_invoice: Callable[..., Invoice], be_client: HttpClient,
    fr_client: HttpClient,
) -> None:  # fmt: skip
    invoice = fund_invoice()
    payouts_run(as_of=payout_of(invoice).due_on)
    batch = PayoutBatch.objects.get()
    http = logged_in(be_client, staff(Role.ACCOUNTANT))

    listed = http.get(BATCHES).content.decode()
    assert f'href="{BATCHES}{batch.pk}/file/"' in listed
    response = http.get(f"{BATCHES}{batch.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    content = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert f"<EndToEndId>PAYOUT-{invoice.contract_id}</EndToEndId>" in content
    assert http.post(f"{BATCHES}{batch.pk}/change/", {}).status_code == 403

    anonymous = HttpClient(headers={"host": entity_host("be")})
    assert anonymous.get(f"{BATCHES}{batch.pk}/file/")["Location"].startswith("/admin/login/")
    member = logged_in(HttpClient(headers={"host": entity_host("be")}), invoice.member.user)
    assert member.get(f"{BATCHES}{batch.pk}/file/")["Location"].startswith("/admin/login/")
    with schema_context("fr"):
        french = logged_in(fr_client, staff(Role.ACCOUNTANT))
    assert french.get(f"{BATCHES}{batch.pk}/file/").status_code == 404


# --- the fund policy -------------------------------------------------------------------------


def test_the_entity_admin_changes_the_single_fund_policy(
    in_be: Entity, be_client: HttpClient
) -> None:
    admin = staff(Role.ENTITY_ADMIN)
    http = logged_in(be_client, admin)
    policy = FundPolicy.current()

    listed = http.get(POLICY)
    assert listed.status_code == 302
    assert listed["Location"] == f"{POLICY}{policy.pk}/change/"
    assert http.get(f"{POLICY}add/").status_code == 403
    changed = http.post(
        f"{POLICY}{policy.pk}/change/",
        {
            "require_eu_client": "on",
            "client_exposure_limit": "25000.00",
            "coverage_floor": "0.3500",
            "floor_alerted_on": "2020-01-01",  # read-only: ignored
        },
    )
    assert changed.status_code == 302
    policy.refresh_from_db()
    assert (policy.require_eu_client, policy.require_confirmed_order) == (True, False)
    assert (policy.client_exposure_limit, policy.coverage_floor) == (
        Decimal("25000.00"), Decimal("0.3500")
    )  # fmt: skip
    assert policy.floor_alerted_on is None
    assert FundPolicy.objects.count() == 1
    with schema_context("fr"):
        assert FundPolicy.current().coverage_floor == Decimal("0.2000")


def test_an_advisor_reads_the_fund_policy_but_cannot_change_it(
    in_be: Entity, be_client: HttpClient
) -> None:
    http = logged_in(be_client, staff(Role.ADVISOR))
    policy = FundPolicy.current()
    assert http.get(f"{POLICY}{policy.pk}/change/").status_code == 200
    refused = http.post(
        f"{POLICY}{policy.pk}/change/",
        {"client_exposure_limit": "1.00", "coverage_floor": "0.0000"},
    )
    assert refused.status_code == 403
    policy.refresh_from_db()
    assert policy.client_exposure_limit == Decimal("50000.00")


# --- the dashboard ---------------------------------------------------------------------------


def test_the_admin_dashboard_shows_the_position_and_each_clients_advances(
    in_be: Entity, fund_invoice: Callable[..., Invoice], be_client: HttpClient
) -> None:
    invoice = fund_invoice(client=ClientFactory(name="Zeppelin Logistics SA"))
    payouts_run(as_of=payout_of(invoice).due_on)
    http = logged_in(be_client, staff(Role.ACCOUNTANT))

    page = http.get(DASHBOARD).content.decode()

    assert "<h1>The guarantee fund</h1>" in page
    assert "Open advances per client" in page
    assert "Zeppelin Logistics SA" in page
    assert "1,000.00" in page
    assert "2.00 %" in page  # 20.00 / 1,000.00
    assert "Daily snapshots" in page


def test_permissions_are_given_by_the_roles(in_be: Entity) -> None:
    def may(role: Role, permission: str) -> bool:
        user = UserFactory(role=role)
        return User.objects.get(pk=user.pk).has_perm(permission)

    assert may(Role.ADVISOR, "guarantee_fund.approve_payout")
    assert not may(Role.ACCOUNTANT, "guarantee_fund.approve_payout")
    assert not may(Role.MEMBER, "guarantee_fund.view_payout")
    assert not may(Role.ADVISOR, "guarantee_fund.change_fundpolicy")
    assert Permission.objects.filter(codename="approve_payout").exists()
