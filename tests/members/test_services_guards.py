"""Guards added after review: who may act, conflicting shifts, withdrawn declarations, dates
without rates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from members import services
from members.models import Contract, EmploymentDeclaration, Member
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import (
    ClientFactory,
    ContractFactory,
    MemberFactory,
    PartnerFactory,
    UserFactory,
)


def test_another_member_cannot_submit_or_cancel_my_contract(in_be: Entity) -> None:
    contract = ContractFactory()
    stranger = MemberFactory()
    for action in (services.contract_submit, services.contract_cancel):
        with pytest.raises(DomainError) as refused:
            action(contract=contract, actor=stranger.user)
        assert refused.value.code == "not_found"
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_a_member_cannot_approve_even_their_own_contract(in_be: Entity) -> None:
    contract = ContractFactory()
    services.contract_submit(contract=contract, actor=contract.member.user)
    with pytest.raises(DomainError, match="No such contract"):
        services.contract_approve(contract=contract, actor=contract.member.user)
    contract.refresh_from_db()
    assert contract.state == Contract.State.SUBMITTED


def test_an_applicant_may_submit_but_is_approved_only_once_active(in_be: Entity) -> None:
    applicant = MemberFactory(state=Member.State.APPLICANT)
    contract = ContractFactory(member=applicant)
    services.contract_submit(contract=contract, actor=applicant.user)
    advisor = UserFactory(role=Role.ADVISOR)
    with pytest.raises(DomainError) as refused:
        services.contract_approve(contract=contract, actor=advisor)
    assert refused.value.code == "member_not_active"
    assert not EmploymentDeclaration.objects.filter(contract=contract).exists()
    services.member_state_change(
        member=applicant, to_state=Member.State.ACTIVE, actor=advisor, reason="file checked"
    )
    assert services.contract_approve(contract=contract, actor=advisor).state == "approved"


def test_cancelling_an_approved_contract_withdraws_its_unsent_declarations(in_be: Entity) -> None:
    contract = ContractFactory()
    advisor = UserFactory(role=Role.ADVISOR)
    services.contract_submit(contract=contract, actor=contract.member.user)
    services.contract_approve(contract=contract, actor=advisor)
    services.contract_cancel(contract=contract, actor=advisor, reason="client cancelled")
    assert set(contract.declarations.values_list("state", flat=True)) == {"cancelled"}


def test_a_shift_id_reused_with_other_details_is_a_conflict(in_be: Entity) -> None:
    partner = PartnerFactory()
    member = MemberFactory()
    day = services.entity_today(in_be) + datetime.timedelta(days=3)
    shift = services.ShiftInput(
        shift_id="S-1", member_email=member.user.email, day=day, hours=Decimal(4),
        price=Decimal("120.00"), title="Deliveries", place="Gent",
    )  # fmt: skip
    services.partner_shift_open(partner=partner, data=shift)
    changed = services.ShiftInput(**{**shift.__dict__, "price": Decimal("150.00")})
    with pytest.raises(DomainError) as refused:
        services.partner_shift_open(partner=partner, data=changed)
    assert refused.value.code == "shift_conflict"
    assert Contract.objects.filter(partner=partner).count() == 1


def test_a_day_before_the_entity_has_rates_is_a_clear_refusal(in_be: Entity) -> None:
    member = MemberFactory()
    first = datetime.date(2024, 6, 3)
    data = services.ContractInput(
        client=ClientFactory(), title="Old gig", place="Gent", first_day=first, last_day=first,
        price=Decimal("500"), work_days=[services.WorkDayInput(day=first, hours=Decimal(4))],
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        services.contract_save_draft(member=member, data=data, actor=member.user)
    assert refused.value.field == "first_day"
    assert refused.value.code == "no_rate"
    assert not Contract.objects.filter(member=member).exists()


def test_a_client_status_change_needs_a_known_status_and_a_reason(in_be: Entity) -> None:
    client = ClientFactory()
    advisor = UserFactory(role=Role.ADVISOR)
    with pytest.raises(DomainError, match="Unknown client status"):
        services.client_status_set(client=client, status="gone", actor=advisor, reason="x")
    with pytest.raises(DomainError, match="Say why"):
        services.client_status_set(client=client, status="blocked", actor=advisor, reason=" ")
    client.refresh_from_db()
    assert client.status == "ok"


def test_schemas_do_not_share_contracts(be: Entity, fr: Entity) -> None:
    with schema_context("fr"):
        ContractFactory()
    with schema_context("be"):
        assert Contract.objects.count() == 0


def test_only_an_advisor_can_follow_a_member(in_be: Entity) -> None:
    member = MemberFactory()
    admin = UserFactory(role=Role.ENTITY_ADMIN)
    advisor = UserFactory(role=Role.ADVISOR)
    with pytest.raises(DomainError, match="not an advisor"):
        services.member_advisor_set(member=member, advisor=member.user, actor=admin)
    assert (
        services.member_advisor_set(member=member, advisor=advisor, actor=admin).advisor == advisor
    )


def test_a_client_is_corrected_with_the_same_checks(in_be: Entity) -> None:
    taken = ClientFactory(kind="company", vat_number="BE0403019261")
    client = ClientFactory(name="Old name")
    actor = UserFactory(role=Role.ADVISOR)
    data = services.ClientInput(
        name="New name", kind="company", country="BE", street="Rue 2", postal_code="4000",
        city="Liège", email="new@client.example", vat_number="BE 0403 019 261",
    )  # fmt: skip
    with pytest.raises(services.ClientExistsError) as refused:
        services.client_update(client=client, data=data, actor=actor)
    assert refused.value.existing == taken
    client.refresh_from_db()
    assert client.name == "Old name"
    data.vat_number = ""
    data.kind = "public_body"
    assert services.client_update(client=client, data=data, actor=actor).city == "Liège"


def test_an_advisor_may_declare_late_with_a_reason_a_member_may_not(in_be: Entity) -> None:
    contract = ContractFactory()
    start = services.entity_today(in_be) - datetime.timedelta(days=3)
    Contract.objects.filter(pk=contract.pk).update(first_day=start, last_day=start)
    contract.work_days.all().delete()
    contract.work_days.create(day=start, hours=Decimal(8))
    with pytest.raises(DomainError) as refused:
        services.contract_submit(contract=contract, actor=contract.member.user, late_reason="sorry")
    assert refused.value.code == "late_declaration"
    advisor = UserFactory(role=Role.ADVISOR)
    submitted = services.contract_submit(contract=contract, actor=advisor, late_reason="phone call")
    assert submitted.state == "submitted"
    assert submitted.late_reason == "phone call"
