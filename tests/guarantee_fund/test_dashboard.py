"""The fund's dashboard: published to the members (aggregates, and each member's own payouts),
with the open advances per client for staff only; its charts drawn on the server."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from guarantee_fund.coverage import coverage_snapshot_take
from guarantee_fund.models import CoverageSnapshot, FundPolicy, Payout
from guarantee_fund.services import payouts_run
from guarantee_fund.views import coverage_chart
from invoicing.models import Invoice
from members.models import Member
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ClientFactory, MemberFactory, UserFactory
from tests.guarantee_fund.conftest import payout_of


def log_in(http: HttpClient, user: User) -> None:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def html(http: HttpClient, url: str) -> str:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def english(member: Member) -> Member:
    member.user.language = "en"
    member.user.save(update_fields=["language"])
    return member


def paid(invoice: Invoice) -> Payout:
    payouts_run(as_of=payout_of(invoice).due_on)
    return payout_of(invoice)


def snapshot(day: datetime.date, reserve: str, advances: str) -> CoverageSnapshot:
    return CoverageSnapshot(
        day=day, contributions=Decimal(reserve), losses=Decimal(0), reserve=Decimal(reserve),
        open_advances=Decimal(advances), overdue_advances=Decimal(0), currency="EUR",
    )  # fmt: skip


# --- the charts ----------------------------------------------------------------------------


def test_the_coverage_chart_draws_each_day_against_the_floor() -> None:
    d = datetime.date(2026, 3, 1)
    chart = coverage_chart(
        [
            snapshot(d, "100.00", "1000.00"),  # 10 %: below the 20 % floor
            snapshot(d + datetime.timedelta(days=1), "500.00", "1000.00"),  # 50 %
            snapshot(d + datetime.timedelta(days=2), "500.00", "0.00"),  # nothing advanced
        ],
        Decimal("0.2000"),
    )
    assert chart is not None
    # 0 % at the bottom (y = 200), 100 % at the top (the scale's least top): floor at y = 160.
    assert (chart.coverage_top, chart.floor, chart.floor_y) == (Decimal(100), Decimal("20.00"), 160)
    first, second, third = chart.days
    assert (first.coverage, first.below_floor, first.bar_y, first.bar_height) == (
        Decimal("10.00"), True, 180, 20
    )  # fmt: skip
    assert (second.coverage, second.below_floor, second.bar_y, second.bar_height) == (
        Decimal("50.00"), False, 100, 100
    )  # fmt: skip
    assert (third.coverage, third.below_floor) == (None, False)
    assert [day.x for day in chart.days] == [0, 200, 400]
    # Amounts from 0 to 1,000.00: reserve 100 -> y 180, 500 -> y 100.
    assert chart.reserve_points == "0.0,180.0 300.0,100.0 600.0,100.0"
    assert chart.advances_points == "0.0,0.0 300.0,0.0 600.0,200.0"
    assert coverage_chart([], Decimal("0.2000")) is None


def test_a_coverage_above_the_scale_is_drawn_to_it() -> None:
    chart = coverage_chart(
        [snapshot(datetime.date(2026, 3, 1), "3000.00", "1000.00")], Decimal("0.2")
    )
    assert chart is not None
    assert chart.coverage_top == Decimal("300.00")
    assert (chart.days[0].bar_y, chart.days[0].bar_height) == (0, 200)
    # One day: the lines go flat across.
    assert chart.reserve_points == "0,0.0 600,0.0"


# --- the members' page ---------------------------------------------------------------------


def test_a_member_reads_the_fund_and_their_own_payouts_never_names(
    in_be: Entity, fund_invoice: Callable[..., Invoice], be_client: HttpClient
) -> None:
    me = english(MemberFactory())
    other = MemberFactory()
    client = ClientFactory(name="Zeppelin Logistics SA")
    mine = fund_invoice(member=me, client=client, title="Stage lighting")
    theirs = fund_invoice(member=other, client=client, title="Secret gig")
    payout = paid(mine)
    paid(theirs)
    coverage_snapshot_take(day=payout.due_on)
    log_in(be_client, me.user)

    page = html(be_client, "/fund/")

    # Two invoices of 1,000.00: contributions 2 x 20.00, both advanced: coverage 40 / 2,000 = 2 %.
    assert "40.00 EUR" in page
    assert "2,000.00 EUR" in page
    assert "2.00 %" in page
    assert "Below the floor:" in page  # the default floor is 20 %
    assert "Share of the largest client" in page
    assert "100.00 %" in page
    assert '<svg role="img"' in page
    assert "<table>" in page
    # My payout: its contract, state, and the payslip it paid.
    assert "Stage lighting" in page
    assert f'href="/payslips/{payout.payslip_id}/"' in page
    assert f"{payout.paid_amount:,} EUR" in page
    # Aggregates only: no client's name, no other member's contract.
    assert "Zeppelin" not in page
    assert "Secret gig" not in page
    assert "Open advances per client" not in page


def test_a_member_sees_why_a_contract_is_not_guaranteed(
    in_be: Entity, fund_invoice: Callable[..., Invoice], be_client: HttpClient
) -> None:
    me = english(MemberFactory())
    FundPolicy.objects.filter(pk=FundPolicy.current().pk).update(require_confirmed_order=True)
    invoice = fund_invoice(member=me, title="Unconfirmed order")
    payout = payout_of(invoice)
    assert payout.state == Payout.State.NOT_GUARANTEED
    log_in(be_client, me.user)

    page = html(be_client, "/fund/")

    assert "Unconfirmed order" in page
    assert "Why the fund does not guarantee it:" in page
    assert payout.not_guaranteed_reason in page
    assert "once the client has paid" in page


def test_staff_see_the_open_advances_per_client(
    in_be: Entity, fund_invoice: Callable[..., Invoice], be_client: HttpClient
) -> None:
    client = ClientFactory(name="Zeppelin Logistics SA")
    paid(fund_invoice(client=client))
    advisor = UserFactory(role=Role.ADVISOR, language="en")
    log_in(be_client, advisor)

    page = html(be_client, "/fund/")

    assert "Open advances per client" in page
    assert "Zeppelin Logistics SA" in page
    assert "My payouts" not in page  # no member file: no payouts of their own


def test_the_page_is_refused_to_strangers(
    in_be: Entity, be_client: HttpClient, fr_client: HttpClient
) -> None:
    response = be_client.get("/fund/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/fund/"
    # A user without a member file nor a staff role is sent to open one.
    applicant = UserFactory(role=Role.MEMBER)
    log_in(be_client, applicant)
    response = be_client.get("/fund/")
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    # A Belgian member cannot log in to the French entity's site.
    member = MemberFactory()
    response = fr_client.post(
        "/accounts/login/", {"username": member.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert fr_client.get("/fund/").status_code == 302


def test_each_entity_publishes_its_own_fund(
    in_be: Entity, fund_invoice: Callable[..., Invoice], fr_client: HttpClient
) -> None:
    paid(fund_invoice(price=Decimal("5000.00")))  # Belgium: 100.00 contributed, 5,000.00 advanced
    with schema_context("fr"):
        member = english(MemberFactory(iban="FR1420041010050500013M02606"))
    log_in(fr_client, member.user)

    page = html(fr_client, "/fund/")

    assert "5,000.00" not in page
    assert "100.00 EUR" not in page
    assert "nothing advanced" in page
    assert "No payout yet" in page
