"""Declarations of employment: built on approval per run of work days, then moved by an operator.

Belgium declares through Dimona, France through the DPAE; the state of a declaration only moves
when someone records what the authority answered.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from members.declarations import work_periods
from members.models import Contract, ContractEvent, EmploymentDeclaration, VatTreatment
from members.services import contract_approve, contract_submit, declaration_state_set
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import ContractFactory, MemberFactory, UserFactory

DAY = datetime.timedelta(days=1)
State = EmploymentDeclaration.State


def approved_contract(**factory_kwargs: Any) -> tuple[Contract, User]:
    contract = ContractFactory(**factory_kwargs)
    contract_submit(contract=contract, actor=contract.member.user)
    advisor = UserFactory(role=Role.ADVISOR)
    return contract_approve(contract=contract, actor=advisor), advisor


def declaration_of(contract: Contract) -> EmploymentDeclaration:
    return EmploymentDeclaration.objects.get(contract=contract)


def declaration_actions(contract: Contract) -> list[str]:
    return list(
        ContractEvent.objects.filter(contract=contract, action__startswith="declaration_")
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- work periods ----------------------------------------------------------------------------


def test_consecutive_days_make_one_period_and_a_gap_starts_another() -> None:
    monday = datetime.date(2026, 12, 7)
    days = [monday + 4 * DAY, monday, monday + DAY, monday + 2 * DAY, monday + DAY]

    assert work_periods(days) == [(monday, monday + 2 * DAY), (monday + 4 * DAY, monday + 4 * DAY)]


def test_a_period_runs_across_the_end_of_a_month() -> None:
    days = [datetime.date(2026, 12, 31), datetime.date(2027, 1, 1)]

    assert work_periods(days) == [(datetime.date(2026, 12, 31), datetime.date(2027, 1, 1))]


def test_no_days_make_no_period() -> None:
    assert work_periods([]) == []


# --- state of a declaration ------------------------------------------------------------------


def test_a_declaration_goes_from_to_send_to_sent_to_accepted_with_a_reference(
    in_be: Entity,
) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_of(contract)
    assert declaration.state == State.TO_SEND

    declaration_state_set(declaration=declaration, to_state=State.SENT, actor=advisor)
    accepted = declaration_state_set(
        declaration=declaration, to_state=State.ACCEPTED, actor=advisor, reference="DIM-0042"
    )

    accepted.refresh_from_db()
    assert accepted.state == State.ACCEPTED
    assert accepted.reference == "DIM-0042"
    assert accepted.error_message == ""
    events = ContractEvent.objects.filter(
        contract=contract, action__startswith="declaration_"
    ).order_by("id")
    assert [(e.action, e.actor, e.note) for e in events] == [
        ("declaration_sent", advisor, ""),
        ("declaration_accepted", advisor, "DIM-0042"),
    ]
    assert events[1].changes == {"state": ["sent", "accepted"]}


def test_an_acceptance_without_the_authoritys_reference_is_refused(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_state_set(
        declaration=declaration_of(contract), to_state=State.SENT, actor=advisor
    )

    with pytest.raises(DomainError) as refused:
        declaration_state_set(
            declaration=declaration, to_state=State.ACCEPTED, actor=advisor, reference=" "
        )

    assert refused.value.field == "reference"
    declaration.refresh_from_db()
    assert declaration.state == State.SENT
    assert declaration_actions(contract) == ["declaration_sent"]


def test_an_error_needs_the_message_the_authority_returned(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_of(contract)

    with pytest.raises(DomainError) as refused:
        declaration_state_set(declaration=declaration, to_state=State.ERROR, actor=advisor)

    assert refused.value.field == "error_message"
    declaration.refresh_from_db()
    assert declaration.state == State.TO_SEND
    assert declaration_actions(contract) == []


def test_a_declaration_in_error_is_sent_again_without_its_old_error(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_state_set(
        declaration=declaration_of(contract),
        to_state=State.ERROR,
        actor=advisor,
        error="00913: unknown INSS",
    )
    assert declaration.error_message == "00913: unknown INSS"

    again = declaration_state_set(declaration=declaration, to_state=State.TO_SEND, actor=advisor)

    again.refresh_from_db()
    assert again.state == State.TO_SEND
    assert again.error_message == ""
    assert declaration_actions(contract) == ["declaration_error", "declaration_to_send"]


@pytest.mark.parametrize("to_state", [State.TO_SEND, State.SENT, State.ERROR])
def test_an_accepted_declaration_is_final(in_be: Entity, to_state: str) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_state_set(
        declaration=declaration_of(contract), to_state=State.SENT, actor=advisor
    )
    declaration = declaration_state_set(
        declaration=declaration, to_state=State.ACCEPTED, actor=advisor, reference="DIM-7"
    )

    with pytest.raises(DomainError) as refused:
        declaration_state_set(
            declaration=declaration, to_state=to_state, actor=advisor, error="Late answer."
        )

    assert refused.value.field == "state"
    declaration.refresh_from_db()
    assert (declaration.state, declaration.reference) == (State.ACCEPTED, "DIM-7")
    assert declaration_actions(contract) == ["declaration_sent", "declaration_accepted"]


def test_a_declaration_not_sent_cannot_be_accepted(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_of(contract)

    with pytest.raises(DomainError) as refused:
        declaration_state_set(
            declaration=declaration, to_state=State.ACCEPTED, actor=advisor, reference="DIM-1"
        )

    assert refused.value.field == "state"
    declaration.refresh_from_db()
    assert declaration.state == State.TO_SEND
    assert declaration.reference == ""


def test_recording_the_current_state_again_records_nothing(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    declaration = declaration_state_set(
        declaration=declaration_of(contract), to_state=State.SENT, actor=advisor
    )

    declaration_state_set(declaration=declaration, to_state=State.SENT, actor=advisor)

    assert declaration_actions(contract) == ["declaration_sent"]


# --- France: the DPAE ------------------------------------------------------------------------


def test_an_approval_in_france_makes_a_dpae_with_the_workers_nir(in_fr: Entity) -> None:
    member = MemberFactory(user__first_name="Camille", user__last_name="Martin")
    contract, _ = approved_contract(member=member, days=3)

    declaration = declaration_of(contract)
    assert declaration.kind == "dpae"
    assert declaration.state == State.TO_SEND
    assert (declaration.period_start, declaration.period_end) == (
        contract.first_day,
        contract.first_day + 2 * DAY,
    )
    assert in_fr.company_number == "732829320"
    assert declaration.payload == {
        "employeur": {"siren": "732829320", "raisonSociale": "Smart Coop France SCIC"},
        "salarie": {
            "nir": member.national_id,
            "nom": "Martin",
            "prenoms": "Camille",
            "dateNaissance": "1985-07-30",
        },
        "contrat": {
            "dateEmbauche": contract.first_day.isoformat(),
            "natureContrat": "CDD",
            "dateFinCDD": (contract.first_day + 2 * DAY).isoformat(),
        },
    }
    assert len(member.national_id) == 15


def test_a_french_contract_for_a_french_client_carries_the_french_standard_rate(
    in_fr: Entity,
) -> None:
    contract = ContractFactory()

    contract.refresh_from_db()
    assert contract.vat_treatment == VatTreatment.DOMESTIC
    assert contract.vat_rate == Decimal("20")
    assert contract.currency == "EUR"


def test_declarations_of_be_are_not_seen_from_fr(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        contract, _ = approved_contract(title="Declared in Brussels")
        assert EmploymentDeclaration.objects.filter(contract=contract).count() == 1
    with schema_context("fr"):
        assert not EmploymentDeclaration.objects.filter(
            contract__title="Declared in Brussels"
        ).exists()
        assert not EmploymentDeclaration.objects.filter(kind="dimona").exists()
