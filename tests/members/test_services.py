"""members.services: member files, the client registry, contracts and their review, partner shifts.

Every test builds its data through the services (via tests.factories) inside one entity's schema;
the isolation tests at the end use both ``be`` and ``fr``. Belgian figures: fee 6.5 %, employer
25 %, employee 13.07 %, withholding by the key formula, minimum 12.83 EUR gross per hour, price
ceiling 100,000 EUR.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from members.models import (
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Member,
    MemberStateChange,
    VatTreatment,
    WorkDay,
)
from members.services import (
    ClientExistsError,
    ClientInput,
    ContractInput,
    ExpenseInput,
    MemberInput,
    ShiftInput,
    WorkDayInput,
    client_create,
    client_status_set,
    contract_approve,
    contract_cancel,
    contract_reject,
    contract_request_changes,
    contract_save_draft,
    contract_submit,
    contract_withdraw,
    entity_today,
    member_onboard,
    member_state_change,
    partner_shift_open,
    vat_treatment_for,
)
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity, Rate
from tests.factories import (
    ClientFactory,
    ContractFactory,
    MemberFactory,
    PartnerFactory,
    UserFactory,
    national_id_for,
    work_days,
)

DAY = datetime.timedelta(days=1)
BELGIAN_COMPANY_VAT = "BE0403019261"
FRENCH_COMPANY_VAT = "FR40303265045"


# --- helpers ---------------------------------------------------------------------------------


def today() -> datetime.date:
    return entity_today(current_entity())


def next_monday() -> datetime.date:
    """A Monday at least a week ahead, so Monday..Friday is all in the future."""
    start = today() + 7 * DAY
    return start + (7 - start.weekday()) % 7 * DAY


def advisor_create() -> User:
    return UserFactory(role=Role.ADVISOR)


def member_input(**overrides: Any) -> MemberInput:
    values: dict[str, Any] = {
        "national_id": national_id_for("BE", 700),
        "date_of_birth": datetime.date(1985, 7, 30),
        "street": "Rue Haute 12",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "be",
        "iban": "BE71096123456769",
        "sector": "artist",
    }
    return MemberInput(**{**values, **overrides})


def client_input(**overrides: Any) -> ClientInput:
    values: dict[str, Any] = {
        "name": "Théâtre National",
        "kind": Client.Kind.COMPANY,
        "country": "BE",
        "street": "Boulevard Émile Jacqmain 111",
        "postal_code": "1000",
        "city": "Bruxelles",
        "email": "factures@theatre.example",
        "vat_number": BELGIAN_COMPANY_VAT,
    }
    return ClientInput(**{**values, **overrides})


def contract_input(
    client: Client,
    *,
    first_day: datetime.date | None = None,
    days: int = 2,
    hours: str = "8",
    price: str = "1000.00",
    **overrides: Any,
) -> ContractInput:
    """Work on ``days`` consecutive days of ``hours`` each, starting in 10 days by default."""
    first = first_day or today() + 10 * DAY
    values: dict[str, Any] = {
        "client": client,
        "title": "Concert at the Botanique",
        "place": "Bruxelles",
        "first_day": first,
        "last_day": first + (days - 1) * DAY,
        "price": Decimal(price),
        "work_days": work_days(first, days, hours),
    }
    return ContractInput(**{**values, **overrides})


def input_from(contract: Contract, **overrides: Any) -> ContractInput:
    """The contract as it is, with ``overrides``: what an edit form posts back."""
    values: dict[str, Any] = {
        "client": contract.client,
        "title": contract.title,
        "description": contract.description,
        "place": contract.place,
        "first_day": contract.first_day,
        "last_day": contract.last_day,
        "price": contract.price,
        "work_days": [WorkDayInput(day=d.day, hours=d.hours) for d in contract.work_days.all()],
    }
    return ContractInput(**{**values, **overrides})


def move_to_past(contract: Contract, *, started_days_ago: int = 3) -> Contract:
    """Time passes: the contract's work started ``started_days_ago`` days ago."""
    shift = contract.first_day - (today() - started_days_ago * DAY)
    Contract.objects.filter(pk=contract.pk).update(
        first_day=contract.first_day - shift, last_day=contract.last_day - shift
    )
    # Oldest day first: the shift is longer than the contract, so no two days ever collide.
    for work_day in WorkDay.objects.filter(contract=contract).order_by("day"):
        WorkDay.objects.filter(pk=work_day.pk).update(day=work_day.day - shift)
    contract.refresh_from_db()
    return contract


def submitted_contract(**factory_kwargs: Any) -> Contract:
    contract = ContractFactory(**factory_kwargs)
    return contract_submit(contract=contract, actor=contract.member.user)


def standard_vat_rate_changes(entity: Entity, *, on: datetime.date, percent: str) -> None:
    """The entity's standard VAT rate changes on ``on``, recorded as the admin does: a new row."""
    Rate.objects.filter(
        entity=entity, kind=Rate.Kind.VAT_STANDARD, valid_until__isnull=True
    ).update(valid_until=on)
    Rate.objects.create(
        entity=entity,
        kind=Rate.Kind.VAT_STANDARD,
        percent=Decimal(percent),
        valid_from=on,
        source="test: a new rate voted",
        verified=True,
    )


def refusal_fields(error: DomainError) -> list[str]:
    return [problem.field for problem in error.problems]


def actions(contract: Contract) -> list[str]:
    return list(contract.events.order_by("id").values_list("action", flat=True))


# --- member file -----------------------------------------------------------------------------


def test_onboarding_opens_an_applicant_file_with_the_bic_found_from_the_iban(
    in_be: Entity,
) -> None:
    user = UserFactory()

    member = member_onboard(user=user, data=member_input(iban="BE71 0961 2345 6769"))

    member.refresh_from_db()
    assert member.user == user
    assert member.state == Member.State.APPLICANT
    assert member.national_id == national_id_for("BE", 700)
    assert member.iban == "BE71096123456769"
    assert member.bic == "GKCCBEBB"
    assert member.country == "BE"
    assert member.languages == ["fr"]


def test_onboarding_keeps_a_bic_given_by_the_member(in_be: Entity) -> None:
    member = member_onboard(user=UserFactory(), data=member_input(bic="GEBABEBB"))

    assert member.bic == "GEBABEBB"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"iban": "BE71096123456768"}, "iban"),
        ({"national_id": "85073003329"}, "national_id"),
        ({"bic": "GEBA"}, "bic"),
        ({"date_of_birth": datetime.date(2999, 1, 1)}, "date_of_birth"),
    ],
    ids=["iban-checksum", "belgian-national-number", "bic", "date-of-birth-in-the-future"],
)
def test_onboarding_refuses_a_bad_identifier_and_opens_no_file(
    in_be: Entity, overrides: dict[str, Any], field: str
) -> None:
    user = UserFactory()

    with pytest.raises(DomainError) as refused:
        member_onboard(user=user, data=member_input(**overrides))

    assert refusal_fields(refused.value) == [field]
    assert not Member.objects.filter(user=user).exists()


def test_onboarding_refuses_a_date_of_birth_of_today(in_be: Entity) -> None:
    user = UserFactory()

    with pytest.raises(DomainError) as refused:
        member_onboard(user=user, data=member_input(date_of_birth=today()))

    assert refused.value.field == "date_of_birth"
    assert not Member.objects.filter(user=user).exists()


def test_onboarding_reports_every_problem_at_once(in_be: Entity) -> None:
    user = UserFactory()
    data = member_input(
        national_id="85073003329",
        iban="BE71096123456768",
        date_of_birth=today() + 30 * DAY,
    )

    with pytest.raises(DomainError) as refused:
        member_onboard(user=user, data=data)

    assert refusal_fields(refused.value) == ["national_id", "iban", "date_of_birth"]
    assert set(refused.value.as_dict()) == {"national_id", "iban", "date_of_birth"}
    assert not Member.objects.filter(user=user).exists()


def test_onboarding_refuses_a_national_number_another_member_has(in_be: Entity) -> None:
    MemberFactory(national_id=national_id_for("BE", 700))
    user = UserFactory()

    with pytest.raises(DomainError) as refused:
        # the same number, written the way it is printed on the identity card
        member_onboard(user=user, data=member_input(national_id="85.07.30-701.39"))

    assert refused.value.field == "national_id"
    assert Member.objects.filter(national_id=national_id_for("BE", 700)).count() == 1
    assert not Member.objects.filter(user=user).exists()


def test_onboarding_refuses_a_second_file_for_the_same_user(in_be: Entity) -> None:
    member = MemberFactory()

    with pytest.raises(DomainError) as refused:
        member_onboard(user=member.user, data=member_input())

    assert refused.value.field == "user"
    assert Member.objects.filter(user=member.user).count() == 1


def test_a_member_moves_through_every_state_with_who_and_why(in_be: Entity) -> None:
    member = MemberFactory(state=Member.State.APPLICANT)
    advisor = advisor_create()

    for to_state, reason in [
        (Member.State.ACTIVE, "Documents checked."),
        (Member.State.SUSPENDED, "Share not paid."),
        (Member.State.ACTIVE, "Share paid."),
        (Member.State.LEFT, "Resigned."),
    ]:
        member = member_state_change(member=member, to_state=to_state, actor=advisor, reason=reason)

    member.refresh_from_db()
    assert member.state == Member.State.LEFT
    changes = MemberStateChange.objects.filter(member=member).order_by("id")
    assert [(c.from_state, c.to_state, c.actor, c.reason) for c in changes] == [
        ("applicant", "active", advisor, "Documents checked."),
        ("active", "suspended", advisor, "Share not paid."),
        ("suspended", "active", advisor, "Share paid."),
        ("active", "left", advisor, "Resigned."),
    ]


def test_a_member_who_left_cannot_come_back_and_nothing_is_recorded(in_be: Entity) -> None:
    member = MemberFactory(state=Member.State.LEFT)
    recorded = MemberStateChange.objects.filter(member=member).count()

    with pytest.raises(DomainError) as refused:
        member_state_change(
            member=member, to_state=Member.State.ACTIVE, actor=advisor_create(), reason="Back."
        )

    assert refused.value.field == "state"
    member.refresh_from_db()
    assert member.state == Member.State.LEFT
    assert MemberStateChange.objects.filter(member=member).count() == recorded


def test_a_state_change_without_a_reason_is_refused_and_nothing_is_recorded(
    in_be: Entity,
) -> None:
    member = MemberFactory()
    recorded = MemberStateChange.objects.filter(member=member).count()

    with pytest.raises(DomainError) as refused:
        member_state_change(
            member=member, to_state=Member.State.SUSPENDED, actor=advisor_create(), reason="  "
        )

    assert refused.value.field == "reason"
    member.refresh_from_db()
    assert member.state == Member.State.ACTIVE
    assert MemberStateChange.objects.filter(member=member).count() == recorded


def test_changing_to_the_current_state_records_nothing(in_be: Entity) -> None:
    member = MemberFactory()
    recorded = MemberStateChange.objects.filter(member=member).count()

    member_state_change(
        member=member, to_state=Member.State.ACTIVE, actor=advisor_create(), reason="Again."
    )

    assert MemberStateChange.objects.filter(member=member).count() == recorded


# --- clients ---------------------------------------------------------------------------------


def test_a_belgian_company_gets_its_peppol_id_from_its_vat_number(in_be: Entity) -> None:
    actor = advisor_create()

    client = client_create(data=client_input(vat_number="BE 0403.019.261"), actor=actor)

    client.refresh_from_db()
    assert client.vat_number == "BE0403019261"
    assert client.peppol_id == "0208:0403019261"
    assert client.created_by == actor
    assert client.status == Client.Status.OK


@pytest.mark.parametrize(
    ("overrides", "message_start"),
    [
        ({"vat_number": "BE0403019262"}, "Invalid VAT number"),
        ({"country": "FR"}, "This VAT number is not from FR"),
        ({"vat_number": ""}, "A company in the EU needs its VAT number."),
    ],
    ids=["bad-check-digits", "vat-of-another-country", "eu-company-without-vat"],
)
def test_a_client_with_an_unusable_vat_number_is_refused(
    in_be: Entity, overrides: dict[str, Any], message_start: str
) -> None:
    with pytest.raises(DomainError) as refused:
        client_create(data=client_input(**overrides), actor=advisor_create())

    assert refused.value.field == "vat_number"
    assert refused.value.message.startswith(message_start)
    assert not Client.objects.filter(name="Théâtre National").exists()


def test_a_duplicate_vat_number_points_to_the_existing_client(in_be: Entity) -> None:
    existing = client_create(data=client_input(), actor=advisor_create())

    with pytest.raises(ClientExistsError) as refused:
        client_create(
            data=client_input(name="Theatre National SA", vat_number="be 0403 019 261"),
            actor=advisor_create(),
        )

    assert refused.value.existing == existing
    assert refused.value.field == "vat_number"
    assert refused.value.code == "client_exists"
    assert Client.objects.filter(vat_number=BELGIAN_COMPANY_VAT).count() == 1
    assert not Client.objects.filter(name="Theatre National SA").exists()


def test_payment_terms_above_120_days_are_refused(in_be: Entity) -> None:
    with pytest.raises(DomainError) as refused:
        client_create(data=client_input(payment_terms_days=121), actor=advisor_create())

    assert refused.value.field == "payment_terms_days"
    assert not Client.objects.exists()


def test_a_company_outside_the_eu_needs_no_vat_number(in_be: Entity) -> None:
    client = client_create(
        data=client_input(country="US", vat_number="", name="Carnegie Hall"),
        actor=advisor_create(),
    )

    assert client.vat_number == ""
    assert client.peppol_id == ""


@pytest.mark.parametrize(
    ("client_kwargs", "treatment"),
    [
        ({"kind": Client.Kind.PUBLIC_BODY, "country": "BE"}, VatTreatment.DOMESTIC),
        (
            {"kind": Client.Kind.COMPANY, "country": "BE", "vat_number": BELGIAN_COMPANY_VAT},
            VatTreatment.DOMESTIC,
        ),
        (
            {"kind": Client.Kind.COMPANY, "country": "FR", "vat_number": FRENCH_COMPANY_VAT},
            VatTreatment.REVERSE_CHARGE,
        ),
        ({"kind": Client.Kind.PERSON, "country": "FR"}, VatTreatment.DOMESTIC),
        ({"kind": Client.Kind.COMPANY, "country": "US"}, VatTreatment.EXPORT),
        ({"kind": Client.Kind.COMPANY, "country": "CH"}, VatTreatment.EXPORT),
        ({"kind": Client.Kind.PERSON, "country": "US"}, VatTreatment.EXPORT),
    ],
    ids=[
        "be-public-body",
        "be-company",
        "fr-company-with-vat",
        "fr-private-person",
        "us-company",
        "swiss-company",
        "us-private-person",
    ],
)
def test_the_vat_treatment_follows_the_client_country_and_kind(
    in_be: Entity, client_kwargs: dict[str, Any], treatment: VatTreatment
) -> None:
    client = ClientFactory(**client_kwargs)

    assert vat_treatment_for(entity=in_be, client=client) == treatment


# --- contracts: the draft --------------------------------------------------------------------


def test_a_draft_for_a_belgian_client_carries_the_standard_rate(in_be: Entity) -> None:
    member = MemberFactory()
    client = ClientFactory()
    first = today() + 10 * DAY

    contract = contract_save_draft(
        member=member, data=contract_input(client, first_day=first), actor=member.user
    )

    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT
    assert contract.source == Contract.Source.PORTAL
    assert contract.member == member
    assert contract.vat_treatment == VatTreatment.DOMESTIC
    assert contract.vat_rate == Decimal("21")
    assert contract.price == Decimal("1000.00")
    assert contract.currency == "EUR"
    assert list(contract.work_days.values_list("day", "hours")) == [
        (first, Decimal("8.00")),
        (first + DAY, Decimal("8.00")),
    ]
    assert contract.total_hours == Decimal("16.00")


def test_a_draft_may_use_a_reduced_rate_of_the_entity(in_be: Entity) -> None:
    member = MemberFactory()

    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), vat_rate=Decimal("6")),
        actor=member.user,
    )

    contract.refresh_from_db()
    assert contract.vat_rate == Decimal("6")


def test_a_draft_after_a_vat_rate_change_gets_the_new_standard_rate(in_be: Entity) -> None:
    standard_vat_rate_changes(in_be, on=today() + 5 * DAY, percent="22")
    member = MemberFactory()

    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), first_day=today() + 10 * DAY),
        actor=member.user,
    )

    contract.refresh_from_db()
    assert contract.vat_rate == Decimal("22")


def test_the_rate_in_force_on_the_first_day_may_be_chosen_after_a_rate_change(
    in_be: Entity,
) -> None:
    standard_vat_rate_changes(in_be, on=today() + 5 * DAY, percent="22")
    member = MemberFactory()

    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), first_day=today() + 10 * DAY, vat_rate=Decimal("22")),
        actor=member.user,
    )

    contract.refresh_from_db()
    assert contract.vat_rate == Decimal("22")


def test_a_draft_for_a_french_business_is_reverse_charged_at_zero(in_be: Entity) -> None:
    member = MemberFactory()
    client = ClientFactory(kind=Client.Kind.COMPANY, country="FR", vat_number=FRENCH_COMPANY_VAT)

    contract = contract_save_draft(member=member, data=contract_input(client), actor=member.user)

    contract.refresh_from_db()
    assert contract.vat_treatment == VatTreatment.REVERSE_CHARGE
    assert contract.vat_rate == Decimal("0")


def test_a_draft_with_expenses_keeps_them_rounded_to_the_cent(in_be: Entity) -> None:
    member = MemberFactory()
    data = contract_input(
        ClientFactory(),
        expenses=[ExpenseInput(kind="travel", amount=Decimal("42.505"), description="Train")],
    )

    contract = contract_save_draft(member=member, data=data, actor=member.user)

    assert list(contract.expenses.values_list("kind", "amount", "description")) == [
        ("travel", Decimal("42.51"), "Train")
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"last_day": datetime.date(2000, 1, 1), "work_days": []}, "last_day"),
        ({"price": Decimal("0.00")}, "price"),
        ({"price": Decimal("-10.00")}, "price"),
        ({"price": Decimal("100000.01")}, "price"),
        ({"vat_rate": Decimal("19")}, "vat_rate"),
        ({"expenses": [ExpenseInput(kind="travel", amount=Decimal("0"))]}, "expenses"),
    ],
    ids=[
        "last-day-before-first-day",
        "price-zero",
        "price-negative",
        "price-above-ceiling",
        "vat-rate-not-the-entitys",
        "expense-zero",
    ],
)
def test_a_draft_breaking_a_content_rule_is_refused_and_not_saved(
    in_be: Entity, overrides: dict[str, Any], field: str
) -> None:
    member = MemberFactory()

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=member, data=contract_input(ClientFactory(), **overrides), actor=member.user
        )

    assert refusal_fields(refused.value) == [field]
    assert not Contract.objects.exists()
    assert not WorkDay.objects.exists()


def test_the_price_ceiling_is_named_in_the_refusal(in_be: Entity) -> None:
    member = MemberFactory()

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=member,
            data=contract_input(ClientFactory(), price="100000.01"),
            actor=member.user,
        )

    assert "ceiling of 100000.00 EUR" in refused.value.message


def test_a_price_at_the_ceiling_is_accepted(in_be: Entity) -> None:
    member = MemberFactory()

    contract = contract_save_draft(
        member=member, data=contract_input(ClientFactory(), price="100000.00"), actor=member.user
    )

    assert contract.price == Decimal("100000.00")


def test_a_draft_for_a_blocked_client_is_refused_and_not_saved(in_be: Entity) -> None:
    member = MemberFactory()
    client = ClientFactory(status=Client.Status.BLOCKED)

    with pytest.raises(DomainError) as refused:
        contract_save_draft(member=member, data=contract_input(client), actor=member.user)

    assert refused.value.field == "client"
    assert refused.value.code == "client_blocked"
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    "work_day_inputs",
    [
        # outside the period: the day after the last day
        lambda first: [WorkDayInput(first, Decimal(8)), WorkDayInput(first + 2 * DAY, Decimal(8))],
        # the same day twice
        lambda first: [WorkDayInput(first, Decimal(4)), WorkDayInput(first, Decimal(4))],
        lambda first: [WorkDayInput(first, Decimal(0))],
        lambda first: [WorkDayInput(first, Decimal(25))],
    ],
    ids=["day-outside-the-period", "day-twice", "zero-hours", "25-hours"],
)
def test_work_days_breaking_a_rule_are_refused_and_not_saved(
    in_be: Entity, work_day_inputs: Any
) -> None:
    member = MemberFactory()
    first = today() + 10 * DAY
    data = contract_input(ClientFactory(), first_day=first, work_days=work_day_inputs(first))

    with pytest.raises(DomainError) as refused:
        contract_save_draft(member=member, data=data, actor=member.user)

    assert refusal_fields(refused.value) == ["work_days"]
    assert not Contract.objects.exists()
    assert not WorkDay.objects.exists()


def test_every_content_problem_is_reported_at_once(in_be: Entity) -> None:
    member = MemberFactory()
    first = today() + 10 * DAY
    data = contract_input(
        ClientFactory(status=Client.Status.BLOCKED),
        first_day=first,
        last_day=first - DAY,
        price="0",
        work_days=[WorkDayInput(first, Decimal(30))],
    )

    with pytest.raises(DomainError) as refused:
        contract_save_draft(member=member, data=data, actor=member.user)

    assert refusal_fields(refused.value) == [
        "last_day",
        "price",
        "client",
        "work_days",
        "work_days",
    ]
    assert not Contract.objects.exists()


def test_a_price_that_rounds_to_zero_is_refused_as_a_price_problem(in_be: Entity) -> None:
    member = MemberFactory()

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=member, data=contract_input(ClientFactory(), price="0.004"), actor=member.user
        )

    assert refused.value.field == "price"


def test_an_expense_that_rounds_to_zero_is_refused_as_an_expense_problem(in_be: Entity) -> None:
    member = MemberFactory()
    data = contract_input(
        ClientFactory(), expenses=[ExpenseInput(kind="travel", amount=Decimal("0.004"))]
    )

    with pytest.raises(DomainError) as refused:
        contract_save_draft(member=member, data=data, actor=member.user)

    assert refused.value.field == "expenses"


def test_hours_that_round_to_zero_are_refused_as_a_work_day_problem(in_be: Entity) -> None:
    member = MemberFactory()

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=member, data=contract_input(ClientFactory(), hours="0.004"), actor=member.user
        )

    assert refused.value.field == "work_days"


# --- contracts: editing ----------------------------------------------------------------------


def test_a_draft_can_be_edited_and_the_history_keeps_the_old_and_new_price(
    in_be: Entity,
) -> None:
    contract = ContractFactory()
    member = contract.member

    edited = contract_save_draft(
        member=member,
        data=input_from(contract, price=Decimal("1200.00")),
        actor=member.user,
        contract=contract,
    )

    edited.refresh_from_db()
    assert edited.pk == contract.pk
    assert edited.price == Decimal("1200.00")
    assert Contract.objects.count() == 1
    event = ContractEvent.objects.get(contract=contract, action="edited")
    assert event.actor == member.user
    assert event.changes == {"price": ["1000.00", "1200.00"]}


def test_an_edit_replaces_the_work_days(in_be: Entity) -> None:
    contract = ContractFactory(days=2)
    first = contract.first_day

    contract_save_draft(
        member=contract.member,
        data=input_from(contract, work_days=[WorkDayInput(first + DAY, Decimal("6.5"))]),
        actor=contract.member.user,
        contract=contract,
    )

    assert list(contract.work_days.values_list("day", "hours")) == [(first + DAY, Decimal("6.50"))]
    event = ContractEvent.objects.get(contract=contract, action="edited")
    assert event.changes == {
        "work_days": [[f"{first} 8.00h", f"{first + DAY} 8.00h"], [f"{first + DAY} 6.50h"]]
    }


def test_editing_a_reverse_charged_contract_records_only_what_changed(in_be: Entity) -> None:
    client = ClientFactory(kind=Client.Kind.COMPANY, country="FR", vat_number=FRENCH_COMPANY_VAT)
    contract = ContractFactory(client=client)

    contract_save_draft(
        member=contract.member,
        data=input_from(contract, price=Decimal("1100.00")),
        actor=contract.member.user,
        contract=contract,
    )

    event = ContractEvent.objects.get(contract=contract, action="edited")
    assert event.changes == {"price": ["1000.00", "1100.00"]}


def test_a_contract_sent_back_for_changes_can_be_edited(in_be: Entity) -> None:
    contract = submitted_contract()
    contract_request_changes(contract=contract, actor=advisor_create(), note="Lower the price.")

    edited = contract_save_draft(
        member=contract.member,
        data=input_from(contract, price=Decimal("900.00")),
        actor=contract.member.user,
        contract=contract,
    )

    edited.refresh_from_db()
    assert edited.price == Decimal("900.00")
    assert edited.state == Contract.State.CHANGES_REQUESTED


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_a_contract_under_review_or_approved_cannot_be_edited(in_be: Entity, state: str) -> None:
    contract = submitted_contract()
    if state == "approved":
        contract_approve(contract=contract, actor=advisor_create())

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=contract.member,
            data=input_from(contract, price=Decimal("5000.00")),
            actor=contract.member.user,
            contract=contract,
        )

    assert refused.value.field == "state"
    contract.refresh_from_db()
    assert contract.price == Decimal("1000.00")
    assert "edited" not in actions(contract)


def test_another_member_cannot_edit_a_contract(in_be: Entity) -> None:
    contract = ContractFactory()
    stranger = MemberFactory()

    with pytest.raises(DomainError) as refused:
        contract_save_draft(
            member=stranger,
            data=input_from(contract, price=Decimal("1.00")),
            actor=stranger.user,
            contract=contract,
        )

    assert refused.value.code == "not_found"
    contract.refresh_from_db()
    assert contract.member != stranger
    assert contract.price == Decimal("1000.00")
    assert actions(contract) == ["created"]


# --- contracts: submission -------------------------------------------------------------------


def test_submitting_a_draft_sends_it_to_review(in_be: Entity) -> None:
    contract = ContractFactory()

    submitted = contract_submit(contract=contract, actor=contract.member.user)

    submitted.refresh_from_db()
    assert submitted.state == Contract.State.SUBMITTED
    assert submitted.submitted_at is not None
    assert submitted.overlaps is False
    event = submitted.events.get(action="submitted")
    assert event.actor == contract.member.user
    assert event.changes == {"state": ["draft", "submitted"]}


@pytest.mark.parametrize("member_state", [Member.State.SUSPENDED, Member.State.LEFT])
def test_a_member_suspended_or_gone_cannot_submit(in_be: Entity, member_state: str) -> None:
    contract = ContractFactory()
    member_state_change(
        member=contract.member, to_state=member_state, actor=advisor_create(), reason="Unpaid."
    )

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=contract.member.user)

    assert refused.value.code == "member_suspended"
    assert refused.value.field == "member"
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT
    assert contract.submitted_at is None
    assert actions(contract) == ["created"]


def test_a_contract_whose_work_has_started_cannot_be_submitted(in_be: Entity) -> None:
    contract = move_to_past(ContractFactory())

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=contract.member.user)

    assert refused.value.code == "late_declaration"
    assert refused.value.field == "first_day"
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT
    assert actions(contract) == ["created"]


def test_a_contract_starting_today_can_still_be_submitted(in_be: Entity) -> None:
    contract = ContractFactory(first_day=today())

    assert contract_submit(contract=contract, actor=contract.member.user).state == "submitted"


def test_a_price_under_the_minimum_hourly_pay_is_refused_with_the_figure(in_be: Entity) -> None:
    # 100.00 - fee 6.50 = 93.50; gross 93.50 / 1.25 = 74.80; 74.80 / 16 h = 4.675 -> 4.68
    contract = ContractFactory(price=Decimal("100.00"), days=2)

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=contract.member.user)

    assert refused.value.code == "below_minimum_pay"
    assert refused.value.field == "price"
    assert refused.value.message == (
        "This price pays 4.68 EUR gross per hour, below the minimum of 12.83 EUR: "
        "raise the price or reduce the hours."
    )
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_a_price_paying_exactly_the_minimum_is_accepted(in_be: Entity) -> None:
    # 17.15 - fee 1.11 (1.11475) = 16.04; gross 16.04 / 1.25 = 12.832 -> 12.83 for 1 h
    member = MemberFactory()
    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), days=1, hours="1", price="17.15"),
        actor=member.user,
    )

    assert contract_submit(contract=contract, actor=member.user).state == "submitted"


def test_a_price_paying_a_cent_under_the_minimum_is_refused(in_be: Entity) -> None:
    # 17.14 - fee 1.11 (1.1141) = 16.03; gross 16.03 / 1.25 = 12.824 -> 12.82 for 1 h
    member = MemberFactory()
    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), days=1, hours="1", price="17.14"),
        actor=member.user,
    )

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=member.user)

    assert refused.value.code == "below_minimum_pay"
    assert "12.82 EUR gross per hour" in refused.value.message


def test_a_gross_under_the_minimum_for_the_hours_is_refused_even_by_half_a_cent(
    in_be: Entity,
) -> None:
    # 34.29 - fee 2.23 (2.22885) = 32.06; gross 32.06 / 1.25 = 25.648 -> 25.65 for 2 h,
    # under the 2 x 12.83 = 25.66 the law requires.
    member = MemberFactory()
    contract = contract_save_draft(
        member=member,
        data=contract_input(ClientFactory(), days=1, hours="2", price="34.29"),
        actor=member.user,
    )

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=member.user)

    assert refused.value.code == "below_minimum_pay"


def test_expenses_eating_the_whole_salary_budget_are_refused(in_be: Entity) -> None:
    # 1000.00 - fee 65.00 - expenses 950.00 = -15.00: no salary at all
    contract = ContractFactory(expenses=[ExpenseInput(kind="material", amount=Decimal("950"))])

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=contract.member.user)

    assert refusal_fields(refused.value) == ["expenses", "price"]
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_a_contract_without_work_days_cannot_be_submitted(in_be: Entity) -> None:
    member = MemberFactory()
    contract = contract_save_draft(
        member=member, data=contract_input(ClientFactory(), work_days=[]), actor=member.user
    )

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=member.user)

    assert refusal_fields(refused.value) == ["work_days"]
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_a_contract_for_a_client_blocked_since_the_draft_cannot_be_submitted(
    in_be: Entity,
) -> None:
    contract = ContractFactory()
    client_status_set(
        client=contract.client,
        status=Client.Status.BLOCKED,
        actor=advisor_create(),
        reason="Unpaid invoices.",
    )

    with pytest.raises(DomainError) as refused:
        contract_submit(contract=contract, actor=contract.member.user)

    assert refused.value.code == "client_blocked"
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_an_overlap_with_another_submitted_contract_is_allowed_and_flagged(
    in_be: Entity,
) -> None:
    first = submitted_contract()
    second = ContractFactory(member=first.member, first_day=first.first_day + DAY)

    submitted = contract_submit(contract=second, actor=second.member.user)

    submitted.refresh_from_db()
    assert submitted.state == Contract.State.SUBMITTED
    assert submitted.overlaps is True
    assert submitted.events.get(action="submitted").note == (
        "Overlaps another contract of the member."
    )


def test_a_contract_of_another_member_on_the_same_days_is_no_overlap(in_be: Entity) -> None:
    first = submitted_contract()
    second = ContractFactory(first_day=first.first_day)

    assert contract_submit(contract=second, actor=second.member.user).overlaps is False


def test_submitting_twice_changes_nothing_the_second_time(in_be: Entity) -> None:
    contract = submitted_contract()
    submitted_at = Contract.objects.get(pk=contract.pk).submitted_at

    again = contract_submit(contract=contract, actor=contract.member.user)

    assert again.state == Contract.State.SUBMITTED
    assert Contract.objects.get(pk=contract.pk).submitted_at == submitted_at
    assert actions(contract) == ["created", "submitted"]


def test_withdrawing_makes_the_contract_a_draft_again(in_be: Entity) -> None:
    contract = submitted_contract()

    withdrawn = contract_withdraw(contract=contract, actor=contract.member.user)

    withdrawn.refresh_from_db()
    assert withdrawn.state == Contract.State.DRAFT
    assert withdrawn.submitted_at is None
    assert actions(contract) == ["created", "submitted", "withdrawn"]
    assert withdrawn.events.get(action="withdrawn").changes == {"state": ["submitted", "draft"]}


# --- contracts: review -----------------------------------------------------------------------


def test_approving_declares_each_run_of_consecutive_work_days(in_be: Entity) -> None:
    monday = next_monday()
    member = MemberFactory()
    days = [monday, monday + DAY, monday + 2 * DAY, monday + 4 * DAY]
    contract = contract_save_draft(
        member=member,
        data=contract_input(
            ClientFactory(),
            first_day=monday,
            last_day=monday + 4 * DAY,
            work_days=[WorkDayInput(day, Decimal(8)) for day in days],
        ),
        actor=member.user,
    )
    contract_submit(contract=contract, actor=member.user)
    advisor = advisor_create()

    approved = contract_approve(contract=contract, actor=advisor, note="Fine.")

    approved.refresh_from_db()
    assert approved.state == Contract.State.APPROVED
    assert approved.reviewed_by == advisor
    assert approved.reviewed_at is not None
    assert approved.review_note == "Fine."
    declarations = list(EmploymentDeclaration.objects.filter(contract=contract))
    assert [(d.kind, d.period_start, d.period_end, d.state) for d in declarations] == [
        ("dimona", monday, monday + 2 * DAY, EmploymentDeclaration.State.TO_SEND),
        ("dimona", monday + 4 * DAY, monday + 4 * DAY, EmploymentDeclaration.State.TO_SEND),
    ]
    assert in_be.company_number == "0765432146"
    assert declarations[0].payload == {
        "employer": {"enterpriseNumber": "0765432146"},
        "worker": {"ssin": member.national_id},
        "dimonaIn": {
            "startDate": monday.isoformat(),
            "endDate": (monday + 2 * DAY).isoformat(),
            "features": {"jointCommissionNumber": "322", "workerType": "OTH"},
        },
    }
    assert declarations[1].payload["dimonaIn"]["startDate"] == (monday + 4 * DAY).isoformat()
    assert declarations[1].payload["dimonaIn"]["endDate"] == (monday + 4 * DAY).isoformat()


def test_approving_schedules_one_email_after_commit(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    contract = submitted_contract()
    advisor = advisor_create()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contract_approve(contract=contract, actor=advisor)

    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"contract_id": contract.pk, "event": "approved"}


def test_a_refused_approval_schedules_no_email(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    contract = move_to_past(submitted_contract())
    advisor = advisor_create()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(DomainError),
    ):
        contract_approve(contract=contract, actor=advisor)

    assert callbacks == []


def test_approving_after_the_work_started_needs_a_reason(in_be: Entity) -> None:
    contract = move_to_past(submitted_contract())
    advisor = advisor_create()

    with pytest.raises(DomainError) as refused:
        contract_approve(contract=contract, actor=advisor, late_reason="  ")

    assert refused.value.code == "late_declaration"
    contract.refresh_from_db()
    assert contract.state == Contract.State.SUBMITTED
    assert contract.reviewed_by is None
    assert not EmploymentDeclaration.objects.filter(contract=contract).exists()
    assert "approved" not in actions(contract)


def test_approving_after_the_work_started_with_a_reason_is_recorded(in_be: Entity) -> None:
    contract = move_to_past(submitted_contract())

    approved = contract_approve(
        contract=contract, actor=advisor_create(), late_reason="Replacement called on the day."
    )

    approved.refresh_from_db()
    assert approved.state == Contract.State.APPROVED
    assert approved.late_reason == "Replacement called on the day."
    assert EmploymentDeclaration.objects.filter(contract=contract).count() == 1
    assert approved.events.get(action="approved").note == "Replacement called on the day."


def test_approving_twice_declares_once(in_be: Entity) -> None:
    contract = submitted_contract()
    advisor = advisor_create()
    contract_approve(contract=contract, actor=advisor)

    again = contract_approve(contract=contract, actor=advisor)

    assert again.state == Contract.State.APPROVED
    assert EmploymentDeclaration.objects.filter(contract=contract).count() == 1
    assert actions(contract) == ["created", "submitted", "approved"]


def test_approval_rechecks_the_member_state(in_be: Entity) -> None:
    contract = submitted_contract()
    member_state_change(
        member=contract.member,
        to_state=Member.State.SUSPENDED,
        actor=advisor_create(),
        reason="Unpaid.",
    )

    with pytest.raises(DomainError) as refused:
        contract_approve(contract=contract, actor=advisor_create())

    assert refused.value.code == "member_suspended"
    assert not EmploymentDeclaration.objects.filter(contract=contract).exists()


def test_rejecting_needs_a_reason(in_be: Entity) -> None:
    contract = submitted_contract()

    with pytest.raises(DomainError) as refused:
        contract_reject(contract=contract, actor=advisor_create(), reason=" ")

    assert refused.value.field == "reason"
    contract.refresh_from_db()
    assert contract.state == Contract.State.SUBMITTED
    assert "rejected" not in actions(contract)


def test_rejecting_records_the_reason_for_the_member(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    contract = submitted_contract()
    advisor = advisor_create()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contract_reject(contract=contract, actor=advisor, reason="Not an artistic activity.")

    contract.refresh_from_db()
    assert contract.state == Contract.State.REJECTED
    assert contract.reviewed_by == advisor
    assert contract.review_note == "Not an artistic activity."
    event = contract.events.get(action="rejected")
    assert (event.actor, event.note) == (advisor, "Not an artistic activity.")
    assert [callback.keywords["event"] for callback in callbacks] == ["rejected"]
    assert not EmploymentDeclaration.objects.filter(contract=contract).exists()


def test_requesting_changes_needs_a_note(in_be: Entity) -> None:
    contract = submitted_contract()

    with pytest.raises(DomainError) as refused:
        contract_request_changes(contract=contract, actor=advisor_create(), note="")

    assert refused.value.field == "note"
    contract.refresh_from_db()
    assert contract.state == Contract.State.SUBMITTED


def test_a_contract_sent_back_for_changes_can_be_submitted_again(in_be: Entity) -> None:
    contract = submitted_contract()
    contract_request_changes(contract=contract, actor=advisor_create(), note="Add the place.")

    again = contract_submit(contract=contract, actor=contract.member.user)

    assert again.state == Contract.State.SUBMITTED
    assert actions(contract) == ["created", "submitted", "changes_requested", "submitted"]


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", lambda c, a: contract_approve(contract=c, actor=a)),
        ("draft", lambda c, a: contract_reject(contract=c, actor=a, reason="No.")),
        ("draft", lambda c, a: contract_request_changes(contract=c, actor=a, note="Fix.")),
        ("submitted", lambda c, a: contract_cancel(contract=c, actor=a)),
        ("approved", lambda c, a: contract_withdraw(contract=c, actor=a)),
        ("approved", lambda c, a: contract_reject(contract=c, actor=a, reason="No.")),
        ("rejected", lambda c, a: contract_submit(contract=c, actor=a)),
    ],
    ids=[
        "approve-a-draft",
        "reject-a-draft",
        "request-changes-on-a-draft",
        "cancel-a-submitted-contract",
        "withdraw-an-approved-contract",
        "reject-an-approved-contract",
        "submit-a-rejected-contract",
    ],
)
def test_an_illegal_move_is_refused_and_leaves_the_contract_as_it_was(
    in_be: Entity, state: str, action: Any
) -> None:
    advisor = advisor_create()
    contract = ContractFactory()
    if state != "draft":
        contract_submit(contract=contract, actor=contract.member.user)
    if state == "approved":
        contract_approve(contract=contract, actor=advisor)
    if state == "rejected":
        contract_reject(contract=contract, actor=advisor, reason="Out of scope.")
    history = actions(contract)

    with pytest.raises(DomainError) as refused:
        action(contract, advisor)

    assert refused.value.code == "illegal_transition"
    assert refused.value.field == "state"
    contract.refresh_from_db()
    assert contract.state == state
    assert actions(contract) == history


def test_an_approved_contract_can_be_cancelled_before_the_work_starts(in_be: Entity) -> None:
    contract = submitted_contract()
    advisor = advisor_create()
    contract_approve(contract=contract, actor=advisor)

    cancelled = contract_cancel(contract=contract, actor=advisor, reason="Concert cancelled.")

    cancelled.refresh_from_db()
    assert cancelled.state == Contract.State.CANCELLED
    assert cancelled.events.get(action="cancelled").note == "Concert cancelled."


def test_an_approved_contract_cannot_be_cancelled_once_the_work_started(in_be: Entity) -> None:
    contract = submitted_contract()
    advisor = advisor_create()
    contract_approve(contract=contract, actor=advisor)
    move_to_past(contract)

    with pytest.raises(DomainError) as refused:
        contract_cancel(contract=contract, actor=advisor)

    assert refused.value.field == "state"
    contract.refresh_from_db()
    assert contract.state == Contract.State.APPROVED


def test_the_history_tells_who_did_what_in_order(in_be: Entity) -> None:
    contract = ContractFactory()
    member_user = contract.member.user
    advisor = advisor_create()

    contract_submit(contract=contract, actor=member_user)
    contract_request_changes(contract=contract, actor=advisor, note="Raise the price.")
    contract_save_draft(
        member=contract.member,
        data=input_from(contract, price=Decimal("1200.00")),
        actor=member_user,
        contract=contract,
    )
    contract_submit(contract=contract, actor=member_user)
    contract_approve(contract=contract, actor=advisor, note="Good.")

    events = list(contract.events.order_by("id"))
    assert [(e.action, e.actor, e.note) for e in events] == [
        ("created", member_user, ""),
        ("submitted", member_user, ""),
        ("changes_requested", advisor, "Raise the price."),
        ("edited", member_user, ""),
        ("submitted", member_user, ""),
        ("approved", advisor, "Good."),
    ]
    assert events[0].changes["price"] == [None, "1000.00"]
    assert events[2].changes == {"state": ["submitted", "changes_requested"]}
    assert events[3].changes == {"price": ["1000.00", "1200.00"]}
    assert events[4].changes == {"state": ["changes_requested", "submitted"]}
    assert events[5].changes == {"state": ["submitted", "approved"]}


# --- partner shifts --------------------------------------------------------------------------


def shift_input(**overrides: Any) -> ShiftInput:
    values: dict[str, Any] = {
        "shift_id": "shift-0001",
        "member_email": "rider@example.org",
        "day": today() + DAY,
        "hours": Decimal("4"),
        "price": Decimal("120.00"),
        "title": "Evening deliveries",
        "place": "Ixelles",
    }
    return ShiftInput(**{**values, **overrides})


def test_a_valid_shift_becomes_an_approved_partner_contract(in_be: Entity) -> None:
    # 120.00 - fee 7.80 = 112.20; gross 89.76; employee 11.73; taxable 78.03;
    # withholding 14.05; net 63.98, i.e. 16.00 net per hour (agreed minimum 10)
    partner = PartnerFactory()
    member = MemberFactory(user__email="rider@example.org")
    data = shift_input()

    contract, created = partner_shift_open(partner=partner, data=data)

    contract.refresh_from_db()
    assert created is True
    assert contract.member == member
    assert contract.client == partner.client
    assert contract.state == Contract.State.APPROVED
    assert contract.source == Contract.Source.PARTNER
    assert contract.partner == partner
    assert contract.partner_shift_id == "shift-0001"
    assert (contract.first_day, contract.last_day) == (data.day, data.day)
    assert contract.price == Decimal("120.00")
    assert contract.total_hours == Decimal("4.00")
    assert contract.reviewed_by == partner.api_user
    assert actions(contract) == ["created", "submitted", "approved"]
    assert set(contract.events.values_list("actor", flat=True)) == {partner.api_user.pk}
    assert EmploymentDeclaration.objects.filter(contract=contract).count() == 1


def test_the_same_shift_opened_twice_is_one_contract(in_be: Entity) -> None:
    partner = PartnerFactory()
    MemberFactory(user__email="rider@example.org")
    first, _ = partner_shift_open(partner=partner, data=shift_input())

    again, created = partner_shift_open(partner=partner, data=shift_input())

    assert created is False
    assert again.pk == first.pk
    assert Contract.objects.filter(partner=partner).count() == 1
    assert EmploymentDeclaration.objects.filter(contract=first).count() == 1


def test_a_shift_shorter_than_the_agreement_is_refused(in_be: Entity) -> None:
    partner = PartnerFactory()
    MemberFactory(user__email="rider@example.org")

    with pytest.raises(DomainError) as refused:
        partner_shift_open(partner=partner, data=shift_input(hours=Decimal("2")))

    assert [problem.code for problem in refused.value.problems] == ["shift_too_short"]
    assert refused.value.field == "hours"
    assert not Contract.objects.exists()


def test_a_shift_paying_under_the_agreed_net_per_hour_is_refused(in_be: Entity) -> None:
    # 60.00 - fee 3.90 = 56.10; gross 44.88; employee 5.87; taxable 39.01; the key formula
    # withholds nothing (39.01 x 12 is far below the exemption); net 39.01 / 4 h = 9.7525
    # -> 9.75 net per hour, under the agreed 10
    partner = PartnerFactory()
    MemberFactory(user__email="rider@example.org")

    with pytest.raises(DomainError) as refused:
        partner_shift_open(partner=partner, data=shift_input(price=Decimal("60.00")))

    assert [problem.code for problem in refused.value.problems] == ["below_partner_minimum"]
    assert refused.value.field == "price"
    assert "9.75 EUR net per hour" in refused.value.message
    assert not Contract.objects.exists()


def test_a_shift_for_an_unknown_email_is_refused(in_be: Entity) -> None:
    partner = PartnerFactory()
    MemberFactory(user__email="rider@example.org")

    with pytest.raises(DomainError) as refused:
        partner_shift_open(partner=partner, data=shift_input(member_email="nobody@example.org"))

    assert refused.value.field == "member_email"
    assert not Contract.objects.exists()


def test_a_shift_for_a_suspended_member_leaves_no_contract_behind(in_be: Entity) -> None:
    partner = PartnerFactory()
    MemberFactory(user__email="rider@example.org", state=Member.State.SUSPENDED)

    with pytest.raises(DomainError) as refused:
        partner_shift_open(partner=partner, data=shift_input())

    assert refused.value.code == "member_suspended"
    assert not Contract.objects.exists()
    assert not ContractEvent.objects.exists()


def test_an_inactive_partner_cannot_open_a_shift(in_be: Entity) -> None:
    partner = PartnerFactory(is_active=False)
    MemberFactory(user__email="rider@example.org")

    with pytest.raises(DomainError):
        partner_shift_open(partner=partner, data=shift_input())

    assert not Contract.objects.exists()


# --- isolation between entities --------------------------------------------------------------


def test_a_client_created_in_be_is_not_visible_in_fr(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        client_create(data=client_input(), actor=advisor_create())
        assert Client.objects.filter(vat_number=BELGIAN_COMPANY_VAT).count() == 1
    with schema_context("fr"):
        assert not Client.objects.filter(vat_number=BELGIAN_COMPANY_VAT).exists()
        assert not Client.objects.filter(name="Théâtre National").exists()


def test_the_same_vat_number_can_be_a_client_of_both_entities(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        in_be = client_create(data=client_input(), actor=advisor_create())
    with schema_context("fr"):
        in_fr = client_create(data=client_input(), actor=advisor_create())
        assert Client.objects.filter(vat_number=BELGIAN_COMPANY_VAT).count() == 1
        # the Peppol id follows the client's country, not the entity's
        assert in_fr.peppol_id == in_be.peppol_id == "0208:0403019261"


def test_a_contract_in_be_is_not_in_fr(be: Entity, fr: Entity) -> None:
    with schema_context("be"):
        contract = ContractFactory(title="Only in Brussels")
        assert Contract.objects.filter(title="Only in Brussels").count() == 1
        assert WorkDay.objects.filter(contract__title="Only in Brussels").count() == 2
    with schema_context("fr"):
        assert not Contract.objects.filter(title="Only in Brussels").exists()
        assert not Member.objects.filter(national_id=contract.member.national_id).exists()
