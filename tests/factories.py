"""Factories that build data through the services, as the application does.

They work in the current schema: wrap them in ``schema_context("be")`` (or use the ``in_be``
fixture). National numbers are generated valid for Belgium and France, the test entities.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory
from stdnum.fr import nir

from members import services
from members.models import Client, Contract, Member, Partner
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.accounts.services import user_create
from smart_coop.tenancy.current import current_entity

PASSWORD = "correct-horse-battery-staple"


def national_id_for(country: str, n: int) -> str:
    """A valid national number for the n-th test person."""
    if country == "BE":
        base = f"850730{n % 998 + 1:03d}"
        return f"{base}{97 - int(base) % 97:02d}"
    if country == "FR":
        base = f"18507751230{n % 89 + 10:02d}"
        return f"{base}{nir.calc_check_digits(base)}"
    raise ValueError(f"no test national number for {country}")


class UserFactory(factory.Factory):  # type: ignore[misc]
    """Creates a user in the current schema with one role (member by default)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = PASSWORD
    role = Role.MEMBER

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return user_create(**kwargs)


class MemberFactory(factory.Factory):  # type: ignore[misc]
    """An active member (user + member file) of the current entity."""

    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    national_id = factory.Sequence(lambda n: national_id_for(current_entity().country, n))
    date_of_birth = datetime.date(1985, 7, 30)
    street = "Rue de la Loi 16"
    postal_code = "1000"
    city = "Bruxelles"
    country = factory.LazyFunction(lambda: current_entity().country)
    iban = "BE68539007547034"
    sector = "consultant"
    state = Member.State.ACTIVE
    advisor = None

    @classmethod
    def _create(cls, model_class: type[Member], *args: Any, **kwargs: Any) -> Member:
        user, state, advisor = kwargs.pop("user"), kwargs.pop("state"), kwargs.pop("advisor")
        member = services.member_onboard(
            user=user, data=services.MemberInput(**kwargs), advisor=advisor
        )
        if state != Member.State.APPLICANT:
            member = services.member_state_change(
                member=member, to_state=Member.State.ACTIVE, actor=user, reason="test set-up"
            )
        if state in {Member.State.SUSPENDED, Member.State.LEFT}:
            member = services.member_state_change(
                member=member, to_state=state, actor=user, reason="test set-up"
            )
        return member


class ClientFactory(factory.Factory):  # type: ignore[misc]
    """A client in the entity's own country, without VAT number unless given."""

    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    kind = Client.Kind.PUBLIC_BODY
    country = factory.LazyFunction(lambda: current_entity().country)
    street = "Avenue du Port 86"
    postal_code = "1000"
    city = "Bruxelles"
    email = factory.Sequence(lambda n: f"billing{n}@client.example")
    vat_number = ""
    language = "fr"
    payment_terms_days = 30
    actor = None
    status = Client.Status.OK

    @classmethod
    def _create(cls, model_class: type[Client], *args: Any, **kwargs: Any) -> Client:
        actor = kwargs.pop("actor") or UserFactory(role=Role.ADVISOR)
        status = kwargs.pop("status")
        client = services.client_create(data=services.ClientInput(**kwargs), actor=actor)
        if status != Client.Status.OK:
            client = services.client_status_set(
                client=client, status=status, actor=actor, reason="test set-up"
            )
        return client


def work_days(first: datetime.date, count: int, hours: str = "8") -> list[services.WorkDayInput]:
    return [
        services.WorkDayInput(day=first + datetime.timedelta(days=i), hours=Decimal(hours))
        for i in range(count)
    ]


class ContractFactory(factory.Factory):  # type: ignore[misc]
    """A draft contract starting in 10 days, 2 work days of 8 h, 1,000.00 excl. VAT."""

    class Meta:
        model = Contract

    member = factory.SubFactory(MemberFactory)
    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Concert {n}")
    place = "Bruxelles"
    first_day = factory.LazyFunction(
        lambda: services.entity_today(current_entity()) + datetime.timedelta(days=10)
    )
    days = 2
    price = Decimal("1000.00")
    description = ""
    expenses: list[services.ExpenseInput] = []

    @classmethod
    def _create(cls, model_class: type[Contract], *args: Any, **kwargs: Any) -> Contract:
        member, days = kwargs.pop("member"), kwargs.pop("days")
        first_day = kwargs["first_day"]
        data = services.ContractInput(
            last_day=first_day + datetime.timedelta(days=days - 1),
            work_days=work_days(first_day, days),
            **kwargs,
        )
        return services.contract_save_draft(member=member, data=data, actor=member.user)


class PartnerFactory(factory.Factory):  # type: ignore[misc]
    """A delivery platform with the agreement: shifts of 3 h at least, 10 net per hour."""

    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Delivery platform {n}")
    client = factory.SubFactory(ClientFactory, kind=Client.Kind.COMPANY, vat_number="BE0403019261")
    api_user = factory.SubFactory(UserFactory, role=Role.MEMBER)
    min_shift_hours = Decimal("3")
    min_hourly_net = Decimal("10")
    sector = "rider"

    @classmethod
    def _create(cls, model_class: type[Partner], *args: Any, **kwargs: Any) -> Partner:
        return Partner.objects.create(**kwargs)
