"""Defects found in review, each pinned by the test that showed it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

import pytest
from django.test import Client as HttpClient

from governance import services
from governance.models import (
    Assembly,
    Ballot,
    Convocation,
    ElectionBallot,
    Proxy,
    Resolution,
    ShareClass,
    ShareMovement,
    Statutes,
)
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, UserFactory
from tests.governance.helpers import DAY, assembly, choices, share_class, shareholder, today


def staff(http: HttpClient, role: Role) -> HttpClient:
    user = cast(User, UserFactory(role=role))
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return http


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.ACCOUNTANT])
@pytest.mark.parametrize(
    "case",
    [
        ("convene", Assembly.State.DRAFT, False, False),
        ("open_vote", Assembly.State.CONVENED, True, False),
        ("close_vote", Assembly.State.OPEN, True, True),
    ],
)
def test_only_organisers_convene_open_or_close_in_the_admin(
    in_be: Entity, be_client: HttpClient, role: Role, case: tuple[str, str, bool, bool]
) -> None:
    action, state, convened, opened = case
    shareholder()
    meeting = assembly(convene=convened, open_vote=opened)
    http = staff(be_client, role)

    http.post("/admin/governance/assembly/", {"action": action, "_selected_action": [meeting.pk]})

    meeting.refresh_from_db()
    assert meeting.state == state
    assert meeting.receipts_digest == ""


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.ACCOUNTANT])
def test_the_organisers_actions_are_not_offered_to_others(
    in_be: Entity, be_client: HttpClient, role: Role
) -> None:
    assembly()
    http = staff(be_client, role)

    page = http.get("/admin/governance/assembly/")

    assert page.status_code == 200
    form = page.context["action_form"]  # None: no action at all
    offered = {name for name, _label in form.fields["action"].choices} if form else set()
    assert offered & {
        "convene", "open_vote", "close_vote", "send_convocations"
    } == set()  # fmt: skip


def test_the_organiser_is_offered_the_actions(in_be: Entity, be_client: HttpClient) -> None:
    assembly()
    page = staff(be_client, Role.ENTITY_ADMIN).get("/admin/governance/assembly/")

    offered = {name for name, _label in page.context["action_form"].fields["action"].choices}
    assert {"convene", "open_vote", "close_vote", "send_convocations"} <= offered


def test_the_roll_is_not_frozen_before_the_record_date_has_passed(in_be: Entity) -> None:
    shareholder()
    for record_date in (today(), today() + 5 * DAY):
        meeting = assembly(record_date=record_date, convene=False)

        with pytest.raises(DomainError) as refused:
            services.assembly_convene(assembly=meeting, actor=None)

        assert refused.value.field == "record_date"
        meeting.refresh_from_db()
        assert (meeting.state, meeting.roll.count()) == (Assembly.State.DRAFT, 0)


def test_a_vote_change_with_a_receipt_typed_in_lower_case_changes_the_election_too(
    in_be: Entity,
) -> None:
    voter = shareholder()
    candidates = [shareholder() for _ in range(2)]
    meeting = assembly(open_vote=False)
    election = services.election_create(
        assembly=meeting, title="Board", seats=1, candidacies_close_on=today(), actor=None
    )
    first, second = (
        services.candidacy_review(
            candidacy=services.candidacy_submit(
                election=election, shareholder=c, statement="Me", actor=None
            ),
            eligible=True,
            reason="",
            actor=cast(User, UserFactory()),
        )
        for c in candidates
    )
    meeting = services.assembly_open(assembly=meeting, actor=None)
    receipt = services.ballot_cast(
        assembly=meeting, voter=voter, choices=choices(meeting, "for"),
        approvals={election.pk: [first.pk]}, actor=None,
    )  # fmt: skip

    typed = services.Receipt(code=f" {receipt.code.lower()} ", secret=receipt.secret.lower())
    services.ballot_cast(
        assembly=meeting, voter=voter, choices=choices(meeting, "against"),
        approvals={election.pk: [second.pk]}, receipt=typed, actor=None,
    )  # fmt: skip

    assert set(Ballot.objects.values_list("choice", flat=True)) == {"against"}
    assert list(ElectionBallot.objects.values_list("approvals", flat=True)) == [[second.pk]]


def test_a_class_whose_shares_are_issued_keeps_its_value_and_currency(
    in_be: Entity, be_client: HttpClient
) -> None:
    holder = shareholder(shares=2)
    issued, unsold = share_class("A"), share_class("B")
    http = staff(be_client, Role.ENTITY_ADMIN)

    for share in (issued, unsold):
        http.post(
            f"/admin/governance/shareclass/{share.pk}/change/",
            {"code": share.code, "name": "Renamed", "nominal_value": "50.00",
             "currency": "SEK", "description": "", "on_sale": "on"},
        )  # fmt: skip

    values = {
        c.code: (c.name, c.nominal_value, c.currency)
        for c in ShareClass.objects.filter(pk__in=[issued.pk, unsold.pk])
    }
    assert values == {
        "A": ("Renamed", Decimal("30.00"), "EUR"),
        "B": ("Renamed", Decimal("50.00"), "SEK"),
    }
    # Redeemed at what was paid in, not at a value set since.
    Statutes.objects.update_or_create(pk=1, defaults={"financial_year_start_month": today().month})
    movement = services.shares_redeem(
        shareholder=holder, share_class=issued, quantity=1, on=today(), actor=None
    )
    assert (movement.amount, movement.currency) == (Decimal("30.00"), "EUR")


def test_a_resolution_added_in_the_admin_counts_abstentions_as_the_statutes_say(
    in_be: Entity, be_client: HttpClient
) -> None:
    Statutes.objects.update_or_create(pk=1, defaults={"count_abstentions": True})
    meeting = assembly(convene=False)
    http = staff(be_client, Role.ENTITY_ADMIN)

    page = http.get(f"/admin/governance/assembly/{meeting.pk}/change/")

    resolutions = next(
        inline.formset
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is Resolution
    )
    assert resolutions.empty_form["count_abstentions"].value() is True


def test_the_turnout_page_reloads_itself_only_when_the_organiser_asks(
    in_be: Entity, be_client: HttpClient
) -> None:
    shareholder()
    meeting = assembly()
    http = staff(be_client, Role.ENTITY_ADMIN)
    url = f"/governance/assemblies/{meeting.pk}/turnout/"

    still = http.get(url).content.decode()
    live = http.get(f"{url}?live=1").content.decode()

    assert 'http-equiv="refresh"' not in still
    assert f'href="{url}?live=1"' in still
    assert 'http-equiv="refresh"' in live
    assert f'href="{url}">' in live  # the way to stop


def test_a_back_dated_transfer_never_takes_a_holding_below_zero_later(in_be: Entity) -> None:
    giver = shareholder(shares=2, on=today() - 30 * DAY)
    first, second = shareholder(), shareholder()
    services.shares_transfer(
        transferor=giver, transferee=first, share_class=share_class(), quantity=2,
        on=today() - DAY, actor=None,
    )  # fmt: skip

    with pytest.raises(DomainError) as refused:
        services.shares_transfer(
            transferor=giver, transferee=second, share_class=share_class(), quantity=1,
            on=today() - 10 * DAY, actor=None,
        )  # fmt: skip

    assert refused.value.field == "quantity"
    assert services.holding_on(shareholder=giver, on=today()) == 0
    assert services.holding_on(shareholder=second, on=today()) == 1


def test_a_back_dated_redemption_never_takes_a_holding_below_zero_later(in_be: Entity) -> None:
    Statutes.objects.update_or_create(
        pk=1, defaults={"financial_year_start_month": 1, "redemption_window_months": 12}
    )
    holder = shareholder(shares=1, on=today() - 30 * DAY)
    services.shares_transfer(
        transferor=holder, transferee=shareholder(), share_class=share_class(), quantity=1,
        on=today() - DAY, actor=None,
    )  # fmt: skip

    with pytest.raises(DomainError) as refused:
        services.shares_redeem(
            shareholder=holder, share_class=share_class(), quantity=1, on=today() - 10 * DAY,
            actor=None,
        )  # fmt: skip

    assert refused.value.field == "quantity"
    assert services.holding_on(shareholder=holder, on=today()) == 0


def test_a_payment_is_not_received_in_the_future(in_be: Entity) -> None:
    order = services.share_order_place(
        shareholder=shareholder(shares=0), share_class=share_class(), quantity=1, actor=None
    )

    with pytest.raises(DomainError) as refused:
        services.share_order_pay(order=order, paid_on=today() + DAY, actor=None)

    assert refused.value.field == "paid_on"
    order.refresh_from_db()
    assert (order.state, ShareMovement.objects.filter(order=order).count()) == ("pending", 0)


def test_the_convocation_counts_seats_in_the_singular_and_plural(in_be: Entity) -> None:
    from governance.convocations import convocation_message

    shareholder()
    meeting = assembly(convene=False)
    for seats in (1, 3):
        services.election_create(
            assembly=meeting, title=f"Board {seats}", seats=seats,
            candidacies_close_on=today(), actor=None,
        )  # fmt: skip
    meeting = services.assembly_convene(assembly=meeting, actor=None)
    entry = meeting.roll.get()

    body = str(convocation_message(assembly=meeting, entry=entry, language="en").body)

    assert "Election: Board 1, 1 seat\n" in body
    assert "Election: Board 3, 3 seats\n" in body


def test_an_unused_proxy_stays_on_record_once_the_vote_is_closed(in_be: Entity) -> None:
    grantor, holder = shareholder(), shareholder()
    meeting = assembly()
    services.proxy_grant(assembly=meeting, grantor=grantor, holder=holder, actor=None)
    meeting = services.assembly_close(assembly=meeting, actor=None)

    with pytest.raises(DomainError) as refused:
        services.proxy_revoke(assembly=meeting, grantor=grantor, actor=None)

    assert refused.value.field == "state"
    assert Proxy.objects.filter(assembly=meeting).count() == 1


def test_a_second_sending_run_waits_for_none_and_sends_nothing_twice(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail
    from django.db import connections

    from governance.convocations import convocation_lock_key, convocations_send

    shareholder(user=False)
    meeting = assembly(convene=False)
    with django_capture_on_commit_callbacks(execute=False):
        meeting = services.assembly_convene(assembly=meeting, actor=None)
    first_run = connections.create_connection("default")
    try:
        with first_run.cursor() as cursor:  # the first run is sending
            cursor.execute(
                "SELECT pg_advisory_lock(hashtext(%s), %s)", convocation_lock_key(meeting)
            )

        assert convocations_send(assembly=meeting) == 0
        assert (len(mail.outbox), Convocation.objects.count()) == (0, 0)
    finally:
        first_run.close()

    assert convocations_send(assembly=meeting) == 1
    assert (len(mail.outbox), Convocation.objects.count()) == (1, 1)


def test_an_illegal_move_is_told_with_the_states_translated(in_be: Entity) -> None:
    from django.utils import translation

    meeting = assembly(convene=False)

    with translation.override("fr"), pytest.raises(DomainError) as refused:
        services.assembly_open(assembly=meeting, actor=None)

    with translation.override("fr"):
        draft, open_ = str(Assembly.State.DRAFT.label), str(Assembly.State.OPEN.label)
    assert (draft, open_) != ("draft", "open")
    assert draft in refused.value.message
    assert open_ in refused.value.message


@pytest.mark.parametrize(
    ("currency", "value", "field"),
    [("USD", "30.00", "currency"), ("eur", "30.00", "currency"), ("HUF", "30.50", "nominal_value")],
)
def test_a_share_class_in_a_currency_the_platform_cannot_book_is_refused_on_its_field(
    in_be: Entity, be_client: HttpClient, currency: str, value: str, field: str
) -> None:
    http = staff(be_client, Role.ENTITY_ADMIN)

    response = http.post(
        "/admin/governance/shareclass/add/",
        {"code": "E", "name": "Euro", "nominal_value": value, "currency": currency,
         "description": "", "on_sale": "on"},
    )  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field)
    assert not ShareClass.objects.filter(code="E").exists()


def test_the_admin_confirmation_pages_keep_their_lists_valid(
    in_be: Entity, be_client: HttpClient
) -> None:
    order = services.share_order_place(
        shareholder=shareholder(shares=0), share_class=share_class(), quantity=1, actor=None
    )
    http = staff(be_client, Role.ENTITY_ADMIN)

    page = http.post(
        "/admin/governance/shareorder/",
        {"action": "record_payment", "_selected_action": [order.pk]},
    ).content.decode()

    # A list holds list items only: the selected rows' hidden fields go inside them.
    assert re.search(r"</li>\s*<input", page) is None
    assert f'name="_selected_action" value="{order.pk}"></li>' in page


def test_a_proxy_in_the_portal_goes_to_the_holder_on_the_roll_with_that_email(
    in_be: Entity, be_client: HttpClient
) -> None:
    from governance.models import Shareholder

    grantor, holder = shareholder(), shareholder(user=False)
    late = shareholder(user=False, on=today())  # registered after the record date
    Shareholder.objects.filter(pk=holder.pk).update(email="Anna.Peeters@Example.org", name="Zoe")
    Shareholder.objects.filter(pk=late.pk).update(email="anna.peeters@example.org", name="Anna")
    meeting = assembly()
    assert grantor.user is not None
    http = be_client
    http.post("/accounts/login/", {"username": grantor.user.email, "password": PASSWORD})

    http.post(
        f"/governance/assemblies/{meeting.pk}/proxy/", {"holder_email": "anna.peeters@example.org"}
    )

    assert list(Proxy.objects.values_list("holder__shareholder_id", flat=True)) == [holder.pk]
