"""The governance admin: organisers, advisors and accountants call the same services."""

from __future__ import annotations

from typing import cast

import pytest
from django.test import Client as HttpClient

from governance import services
from governance.models import Assembly, Candidacy, ShareMovement
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, UserFactory
from tests.governance.helpers import DAY, assembly, share_class, shareholder, today


def staff(http: HttpClient, role: Role) -> HttpClient:
    user = cast(User, UserFactory(role=role))
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return http


@pytest.mark.parametrize(
    "page",
    [
        "statutes", "shareclass", "shareholder", "shareorder", "sharemovement", "assembly",
        "candidacy", "proxy",
    ],
)  # fmt: skip
def test_the_organiser_reads_every_governance_page(
    in_be: Entity, be_client: HttpClient, page: str
) -> None:
    shareholder(shares=2)
    assembly()
    http = staff(be_client, Role.ENTITY_ADMIN)
    assert http.get(f"/admin/governance/{page}/").status_code == 200


def test_ballots_and_participations_have_no_admin(in_be: Entity, be_client: HttpClient) -> None:
    http = staff(be_client, Role.ENTITY_ADMIN)
    assert http.get("/admin/governance/ballot/").status_code == 404
    assert http.get("/admin/governance/participation/").status_code == 404


def test_an_accountant_records_a_transfer_in_the_admin(
    in_be: Entity, be_client: HttpClient
) -> None:
    order = services.share_order_place(
        shareholder=shareholder(shares=0), share_class=share_class(), quantity=2, actor=None
    )
    http = staff(be_client, Role.ACCOUNTANT)
    url = "/admin/governance/shareorder/"
    ask = http.post(url, {"action": "record_payment", "_selected_action": [order.pk]})
    assert ask.status_code == 200
    assert order.payment_reference in ask.content.decode()
    day = (today() - DAY).isoformat()

    http.post(url, {"action": "record_payment", "_selected_action": [order.pk], "paid_on": day})

    order.refresh_from_db()
    assert (order.state, order.paid_on.isoformat() if order.paid_on else None) == ("paid", day)
    assert ShareMovement.objects.filter(order=order).count() == 1


def test_an_advisor_checks_eligibility_and_a_refusal_needs_a_reason(
    in_be: Entity, be_client: HttpClient
) -> None:
    meeting = assembly(open_vote=False)
    election = services.election_create(
        assembly=meeting, title="Board", seats=1, candidacies_close_on=today() + DAY, actor=None
    )
    yes, no = (
        services.candidacy_submit(
            election=election, shareholder=shareholder(), statement="Me", actor=None
        )
        for _ in range(2)
    )
    http = staff(be_client, Role.ADVISOR)
    url = "/admin/governance/candidacy/"

    http.post(url, {"action": "mark_eligible", "_selected_action": [yes.pk]})
    http.post(url, {"action": "mark_ineligible", "_selected_action": [no.pk]})  # asks the reason
    assert Candidacy.objects.get(pk=no.pk).state == Candidacy.State.SUBMITTED
    http.post(url, {"action": "mark_ineligible", "_selected_action": [no.pk],
                    "reason": "Not a member using the services"})  # fmt: skip

    states = dict(Candidacy.objects.values_list("pk", "state"))
    assert states == {yes.pk: "eligible", no.pk: "ineligible"}


def test_the_organiser_convenes_opens_and_closes_from_the_admin(
    in_be: Entity, be_client: HttpClient
) -> None:
    shareholder()
    meeting = assembly(convene=False)
    http = staff(be_client, Role.ENTITY_ADMIN)
    url = "/admin/governance/assembly/"

    for action in ("convene", "open_vote", "close_vote"):
        http.post(url, {"action": action, "_selected_action": [meeting.pk]})

    meeting.refresh_from_db()
    assert meeting.state == Assembly.State.CLOSED
    assert meeting.receipts_digest
    assert meeting.roll.count() == 1
    assert [r.votes_for for r in meeting.resolutions.order_by("position")] == [0, 0]
