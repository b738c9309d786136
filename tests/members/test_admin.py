"""The entity's admin as advisors, accountants and entity admins use it: pages, forms, actions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from members import services
from members.models import (
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Member,
    MemberStateChange,
)
from members.tasks import contract_review_notify_task
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ContractFactory,
    MemberFactory,
    PartnerFactory,
    UserFactory,
    national_id_for,
)

QUEUE = "/admin/members/contract/"


def log_in(http: HttpClient, user: User) -> None:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def submitted_contract(**kwargs: Any) -> Contract:
    contract = ContractFactory(**kwargs)
    return services.contract_submit(contract=contract, actor=contract.member.user)


def make_late(contract: Contract, days: int = 2) -> Contract:
    """The work started ``days`` ago (a declaration made after the fact)."""
    today = services.entity_today(current_entity())
    Contract.objects.filter(pk=contract.pk).update(first_day=today - datetime.timedelta(days=days))
    contract.refresh_from_db()
    return contract


def action_post(action: str, *contracts: Contract, **fields: str) -> dict[str, Any]:
    return {
        "action": action,
        "_selected_action": [str(contract.pk) for contract in contracts],
        **fields,
    }


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def advisor(be: Entity) -> User:
    with schema_context("be"):
        return UserFactory(role=Role.ADVISOR, first_name="Ada", last_name="Visor")


@pytest.fixture
def advisor_http(advisor: User, be_client: HttpClient) -> HttpClient:
    log_in(be_client, advisor)
    return be_client


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_shows_submitted_contracts_first_with_the_overlap_flag(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        member = MemberFactory(advisor=advisor)
        draft = ContractFactory(member=member, title="Still a draft")
        first = submitted_contract(member=member, title="Concert A")
        # Same days as the first one: flagged when submitted.
        second = submitted_contract(member=member, title="Concert B")

    response = advisor_http.get(QUEUE)

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [row.pk for row in rows] == [first.pk, second.pk, draft.pk]
    page = response.content.decode()
    assert page.count('class="overlaps"') == 1
    assert "approve" in page  # the actions are offered to an advisor


def test_the_queue_filters_by_state_advisor_sector_first_day_and_client_status(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        other_advisor = UserFactory(role=Role.ADVISOR)
        mine = submitted_contract(member=MemberFactory(advisor=advisor, sector="artist"))
        theirs = submitted_contract(
            member=MemberFactory(advisor=other_advisor, sector="rider"),
            client=ClientFactory(status=Client.Status.WATCH),
        )
        draft = ContractFactory(member=MemberFactory(advisor=advisor))
        late = make_late(submitted_contract(member=MemberFactory()))

    def listed(query: str) -> set[int]:
        response = advisor_http.get(f"{QUEUE}?{query}")
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert listed("state__exact=submitted") == {mine.pk, theirs.pk, late.pk}
    assert listed("state__exact=draft") == {draft.pk}
    assert listed("advisor=mine") == {mine.pk, draft.pk}
    assert listed(f"advisor={other_advisor.pk}") == {theirs.pk}
    assert listed("advisor=none") == {late.pk}
    assert listed("member__sector__exact=rider") == {theirs.pk}
    assert listed("client_status=watch") == {theirs.pk}
    assert listed("starts=started") == {late.pk}
    assert listed("starts=month") == {mine.pk, theirs.pk, draft.pk}


def test_the_queue_searches_title_member_and_client(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        user = UserFactory(last_name="Zyxwvut", email="zora@example.org")
        by_member = submitted_contract(member=MemberFactory(user=user), title="Tour")
        by_client = submitted_contract(client=ClientFactory(name="Théâtre Quokka"))
        by_title = submitted_contract(title="Festival Okapi")

    def found(term: str) -> set[int]:
        response = advisor_http.get(QUEUE, {"q": term})
        return {row.pk for row in response.context["cl"].result_list}

    assert found("zyxwvut") == {by_member.pk}
    assert found("zora@example") == {by_member.pk}
    assert found("quokka") == {by_client.pk}
    assert found("okapi") == {by_title.pk}


def test_the_change_page_is_read_only_with_history_and_review_buttons(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        contract = submitted_contract(title="Read me")

    response = advisor_http.get(f"{QUEUE}{contract.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="title"' not in page  # no input: the advisor does not edit the content
    assert f"{QUEUE}{contract.pk}/do/approve/" in page
    assert f"{QUEUE}{contract.pk}/do/reject/" in page
    assert "submitted" in page  # the history row of the submission
    assert "state: draft → submitted" in page


# --- decisions -----------------------------------------------------------------------------


def test_approve_through_the_intermediate_page(
    advisor: User,
    advisor_http: HttpClient,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    with schema_context("be"):
        contract = submitted_contract(title="Jazz night")

    page = advisor_http.post(QUEUE, action_post("approve", contract))
    assert page.status_code == 200
    assert "Jazz night" in page.content.decode()
    with schema_context("be"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.SUBMITTED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = advisor_http.post(
            QUEUE, action_post("approve", contract, apply="1", note="Fine", late_reason="")
        )

    assert response.status_code == 302
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == Contract.State.APPROVED
        assert contract.reviewed_by == advisor
        assert contract.review_note == "Fine"
        assert contract.late_reason == ""
        declaration = EmploymentDeclaration.objects.get(contract=contract)
        assert declaration.kind == "dimona"
        assert declaration.state == EmploymentDeclaration.State.TO_SEND
        event = contract.events.get(action="approved")
        assert event.actor == advisor
        assert event.note == "Fine"
        assert event.changes["state"] == ["submitted", "approved"]
    # The member's email is sent by a task enqueued once the decision is committed.
    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"contract_id": contract.pk, "event": "approved"}
    with schema_context("be"):
        contract_review_notify_task.run(**callbacks[0].keywords)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [contract.member.user.email]
    assert "Jazz night" in mailoutbox[0].subject
    assert "approved" in messages_of(advisor_http.get(QUEUE))[0]


def test_approve_from_the_change_page_button(advisor: User, advisor_http: HttpClient) -> None:
    with schema_context("be"):
        contract = submitted_contract()
    url = f"{QUEUE}{contract.pk}/do/approve/"

    assert advisor_http.get(url).status_code == 200
    response = advisor_http.post(url, {"apply": "1", "note": "", "late_reason": ""})

    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}{contract.pk}/change/"
    with schema_context("be"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.APPROVED


def test_reject_without_a_reason_is_refused_and_with_one_works(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        contract = submitted_contract()

    refused = advisor_http.post(QUEUE, action_post("reject", contract, apply="1", reason="  "))

    assert refused.status_code == 200
    assert "reason" in refused.context["form"].errors
    with schema_context("be"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.SUBMITTED
        assert not contract.events.filter(action="rejected").exists()

    response = advisor_http.post(
        QUEUE, action_post("reject", contract, apply="1", reason="The client is not real.")
    )

    assert response.status_code == 302
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == Contract.State.REJECTED
        assert contract.review_note == "The client is not real."
        event = contract.events.get(action="rejected")
        assert (event.actor, event.note) == (advisor, "The client is not real.")


def test_request_changes_needs_a_note(advisor: User, advisor_http: HttpClient) -> None:
    with schema_context("be"):
        contract = submitted_contract()

    refused = advisor_http.post(QUEUE, action_post("request_changes", contract, apply="1"))
    assert "note" in refused.context["form"].errors

    response = advisor_http.post(
        QUEUE, action_post("request_changes", contract, apply="1", note="Add the quote.")
    )

    assert response.status_code == 302
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == Contract.State.CHANGES_REQUESTED
        assert contract.events.get(action="changes_requested").note == "Add the quote."


def test_one_refusal_does_not_stop_the_other_contracts(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        draft = ContractFactory(title="Not submitted")
        submitted = submitted_contract(title="Submitted")

    response = advisor_http.post(
        QUEUE, action_post("reject", draft, submitted, apply="1", reason="No."), follow=True
    )

    texts = messages_of(response)
    assert any("Not submitted" in text and "cannot become" in text for text in texts)
    assert any("Submitted" in text and "rejected" in text for text in texts)
    with schema_context("be"):
        assert Contract.objects.get(pk=draft.pk).state == Contract.State.DRAFT
        assert Contract.objects.get(pk=submitted.pk).state == Contract.State.REJECTED


def test_a_late_contract_is_approved_only_with_a_late_reason(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        contract = make_late(submitted_contract(title="Started already"))

    page = advisor_http.post(QUEUE, action_post("approve", contract))
    assert "late: the work started on" in page.content.decode()
    refused = advisor_http.post(
        QUEUE, action_post("approve", contract, apply="1", note="", late_reason="")
    )

    assert refused.status_code == 200
    assert "late_reason" in refused.context["form"].errors
    with schema_context("be"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.SUBMITTED

    response = advisor_http.post(
        QUEUE,
        action_post("approve", contract, apply="1", note="", late_reason="Urgent replacement"),
    )

    assert response.status_code == 302
    with schema_context("be"):
        contract.refresh_from_db()
        assert contract.state == Contract.State.APPROVED
        assert contract.late_reason == "Urgent replacement"
        assert contract.events.get(action="approved").note == "Urgent replacement"


# --- who may do what -----------------------------------------------------------------------


def test_a_member_is_refused_the_admin(be: Entity, be_client: HttpClient) -> None:
    with schema_context("be"):
        user = MemberFactory().user
    log_in(be_client, user)

    for url in ("/admin/", QUEUE):
        response = be_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_an_accountant_sees_the_queue_but_cannot_decide(be: Entity, be_client: HttpClient) -> None:
    with schema_context("be"):
        accountant = UserFactory(role=Role.ACCOUNTANT)
        contract = submitted_contract()
    log_in(be_client, accountant)

    queue = be_client.get(QUEUE)
    assert queue.status_code == 200
    assert [row.pk for row in queue.context["cl"].result_list] == [contract.pk]
    assert queue.context["action_form"] is None
    change = be_client.get(f"{QUEUE}{contract.pk}/change/")
    assert change.status_code == 200
    assert "/do/approve/" not in change.content.decode()

    be_client.post(QUEUE, action_post("approve", contract, apply="1", note="", late_reason=""))
    button = be_client.post(f"{QUEUE}{contract.pk}/do/approve/", {"apply": "1"})

    assert button.status_code == 403
    with schema_context("be"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.SUBMITTED
        assert not ContractEvent.objects.filter(contract=contract, action="approved").exists()


def test_nobody_adds_or_deletes_contracts_in_the_admin(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        contract = submitted_contract()

    assert advisor_http.get(f"{QUEUE}add/").status_code == 403
    assert advisor_http.get(f"{QUEUE}{contract.pk}/delete/").status_code == 403
    assert "delete_selected" not in advisor_http.get(QUEUE).content.decode()


def test_a_contract_of_another_entity_is_a_404(
    be: Entity, fr: Entity, advisor_http: HttpClient
) -> None:
    with schema_context("fr"):
        contract = submitted_contract()
    with schema_context("be"):
        assert not Contract.objects.filter(pk=contract.pk).exists()

    assert advisor_http.get(f"{QUEUE}{contract.pk}/change/").status_code == 404
    assert advisor_http.get(f"{QUEUE}{contract.pk}/do/approve/").status_code == 404
    with schema_context("fr"):
        assert Contract.objects.get(pk=contract.pk).state == Contract.State.SUBMITTED


# --- member files --------------------------------------------------------------------------


def test_a_member_state_change_records_who_and_why(advisor: User, advisor_http: HttpClient) -> None:
    with schema_context("be"):
        member = MemberFactory()

    refused = advisor_http.post(
        "/admin/members/member/",
        {
            "action": "change_state",
            "_selected_action": [str(member.pk)],
            "apply": "1",
            "to_state": "suspended",
            "reason": "",
        },
    )
    assert "reason" in refused.context["form"].errors
    response = advisor_http.post(
        f"/admin/members/member/{member.pk}/do/change_state/",
        {"apply": "1", "to_state": "suspended", "reason": "Unpaid share"},
    )

    assert response.status_code == 302
    with schema_context("be"):
        member.refresh_from_db()
        assert member.state == Member.State.SUSPENDED
        change = MemberStateChange.objects.filter(member=member).first()
        assert change is not None
        assert (change.from_state, change.to_state) == ("active", "suspended")
        assert (change.actor, change.reason) == (advisor, "Unpaid share")
    page = advisor_http.get(f"/admin/members/member/{member.pk}/change/").content.decode()
    assert "Unpaid share" in page


def test_an_illegal_member_state_change_is_reported(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        member = MemberFactory(state=Member.State.APPLICANT)

    response = advisor_http.post(
        f"/admin/members/member/{member.pk}/do/change_state/",
        {"apply": "1", "to_state": "suspended", "reason": "Why not"},
        follow=True,
    )

    assert any("cannot go from" in text for text in messages_of(response))
    with schema_context("be"):
        assert Member.objects.get(pk=member.pk).state == Member.State.APPLICANT
        assert not MemberStateChange.objects.filter(member=member).exists()


def member_post(member: Member, **overrides: str) -> dict[str, str]:
    data = {
        "national_id": member.national_id,
        "date_of_birth": "1985-07-30",
        "languages": "fr,nl",
        "sector": "technician",
        "street": "Rue Neuve 1",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "be",
        "iban": "BE68 5390 0754 7034",
        "bic": "",
        "state_changes-TOTAL_FORMS": "0",
        "state_changes-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_editing_a_member_file_goes_through_the_service(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        member = MemberFactory()
    url = f"/admin/members/member/{member.pk}/change/"

    response = advisor_http.post(url, member_post(member, street="Rue Neuve 1"))

    assert response.status_code == 302
    with schema_context("be"):
        member.refresh_from_db()
        assert (member.street, member.sector, member.country) == ("Rue Neuve 1", "technician", "BE")
        assert member.iban == "BE68539007547034"
        assert member.languages == ["fr", "nl"]


def test_an_entity_admin_opens_a_member_file_through_the_service(
    be: Entity, be_client: HttpClient
) -> None:
    with schema_context("be"):
        admin_user = UserFactory(role=Role.ENTITY_ADMIN)
        person = UserFactory()
        advisor = UserFactory(role=Role.ADVISOR)
    log_in(be_client, admin_user)
    data = member_post(
        Member(national_id=national_id_for("BE", 700)), user=str(person.pk), advisor=str(advisor.pk)
    )

    response = be_client.post("/admin/members/member/add/", data)

    assert response.status_code == 302
    with schema_context("be"):
        member = Member.objects.get(user=person)
        assert (member.state, member.advisor) == (Member.State.APPLICANT, advisor)
        assert member.iban == "BE68539007547034"


def test_a_bad_iban_or_national_number_is_a_field_error(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        member = MemberFactory()
        other = MemberFactory()
    url = f"/admin/members/member/{member.pk}/change/"

    response = advisor_http.post(
        url, member_post(member, iban="BE00 0000 0000 0000", national_id="12345678901")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"iban", "national_id"}
    duplicate = advisor_http.post(url, member_post(member, national_id=other.national_id))
    assert "national_id" in duplicate.context["adminform"].form.errors
    with schema_context("be"):
        assert Member.objects.get(pk=member.pk).iban == "BE68539007547034"


def test_a_refusal_only_the_service_knows_is_shown_on_the_form(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        member = MemberFactory()
    url = f"/admin/members/member/{member.pk}/change/"

    response = advisor_http.post(url, member_post(member, date_of_birth="2999-01-01"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["date_of_birth"] == ["The date of birth must be in the past."]
    with schema_context("be"):
        assert Member.objects.get(pk=member.pk).date_of_birth == datetime.date(1985, 7, 30)


# --- clients -------------------------------------------------------------------------------


def client_post(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Opéra de Wallonie",
        "kind": "company",
        "email": "factures@opera.example",
        "language": "fr",
        "payment_terms_days": "30",
        "country": "BE",
        "vat_number": "BE 0403.019.261",
        "company_number": "",
        "street": "Rue des Dominicains 1",
        "postal_code": "4000",
        "city": "Liège",
    }
    data.update(overrides)
    return data


def test_a_client_is_created_through_the_service(advisor: User, advisor_http: HttpClient) -> None:
    response = advisor_http.post("/admin/members/client/add/", client_post())

    assert response.status_code == 302
    with schema_context("be"):
        client = Client.objects.get(name="Opéra de Wallonie")
        assert client.vat_number == "BE0403019261"
        assert client.peppol_id == "0208:0403019261"
        assert client.created_by == advisor


def test_a_duplicate_client_shows_the_existing_one(advisor: User, advisor_http: HttpClient) -> None:
    with schema_context("be"):
        existing = ClientFactory(name="Already here", kind="company", vat_number="BE0403019261")

    response = advisor_http.post("/admin/members/client/add/", client_post(name="Again"))

    assert response.status_code == 200
    error = response.context["adminform"].form.errors["vat_number"][0]
    assert "Already here" in error
    assert f"/admin/members/client/{existing.pk}/change/" in error
    with schema_context("be"):
        assert not Client.objects.filter(name="Again").exists()


def test_a_company_without_vat_number_is_refused_by_the_service(
    advisor: User, advisor_http: HttpClient
) -> None:
    response = advisor_http.post("/admin/members/client/add/", client_post(vat_number=""))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["vat_number"] == [
        "A company in the EU needs its VAT number."
    ]


def test_a_client_status_change_needs_a_reason(advisor: User, advisor_http: HttpClient) -> None:
    with schema_context("be"):
        client = ClientFactory()
    url = f"/admin/members/client/{client.pk}/do/set_status/"

    refused = advisor_http.post(url, {"apply": "1", "status": "blocked", "reason": ""})
    assert "reason" in refused.context["form"].errors
    response = advisor_http.post(url, {"apply": "1", "status": "blocked", "reason": "Unpaid"})

    assert response.status_code == 302
    with schema_context("be"):
        client.refresh_from_db()
        assert (client.status, client.status_reason) == ("blocked", "Unpaid")


# --- declarations and partners -------------------------------------------------------------


def test_declarations_are_recorded_sent_then_accepted_with_a_reference(
    advisor: User, advisor_http: HttpClient
) -> None:
    with schema_context("be"):
        contract = services.contract_approve(contract=submitted_contract(), actor=advisor)
        declaration = EmploymentDeclaration.objects.get(contract=contract)
    base = f"/admin/members/employmentdeclaration/{declaration.pk}"

    page = advisor_http.get(f"{base}/change/").content.decode()
    assert "<pre>" in page
    assert "&quot;dimonaIn&quot;" in page
    assert 'name="payload"' not in page
    assert advisor_http.post(f"{base}/do/mark_sent/", {"apply": "1"}).status_code == 302
    refused = advisor_http.post(f"{base}/do/mark_accepted/", {"apply": "1", "reference": ""})
    assert "reference" in refused.context["form"].errors
    response = advisor_http.post(
        f"{base}/do/mark_accepted/", {"apply": "1", "reference": "DIMONA-123"}
    )

    assert response.status_code == 302
    with schema_context("be"):
        declaration.refresh_from_db()
        assert (declaration.state, declaration.reference) == ("accepted", "DIMONA-123")
        assert contract.events.filter(action="declaration_accepted", actor=advisor).exists()


def test_an_entity_admin_issues_a_partner_api_token_shown_once(
    be: Entity, be_client: HttpClient
) -> None:
    with schema_context("be"):
        admin_user = UserFactory(role=Role.ENTITY_ADMIN)
        partner = PartnerFactory()
    log_in(be_client, admin_user)
    url = f"/admin/members/partner/{partner.pk}/do/issue_token/"

    response = be_client.post(url, {"apply": "1"})

    assert response.status_code == 200
    with schema_context("be"):
        token = Token.objects.get(user=partner.api_user)
    assert token.key in response.content.decode()
    assert (
        token.key
        not in be_client.get(f"/admin/members/partner/{partner.pk}/change/").content.decode()
    )
    again = be_client.post(url, {"apply": "1"})
    with schema_context("be"):
        assert Token.objects.get(user=partner.api_user).key != token.key
    assert again.status_code == 200


def test_an_advisor_does_not_see_partners(advisor: User, advisor_http: HttpClient) -> None:
    assert advisor_http.get("/admin/members/partner/").status_code == 403
