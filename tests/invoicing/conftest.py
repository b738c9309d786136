"""Fixtures shared by the invoicing tests (prefixed ``inv_``; several files use them).

They build data through the services, in the schema that is current when they are called: ask
for ``in_be`` (or ``in_fr``) first, or call them inside ``schema_context``. The exception is
``inv_committed_at``, for tests whose work other connections must see (threads).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django_tenants.utils import schema_context

from invoicing import services
from invoicing.models import Invoice
from members import services as member_services
from members.models import Client, Contract, Member
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.current import current_schema
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, ContractFactory, MemberFactory, UserFactory

# An entity no other test file counts on (tests/tenancy uses hu and nl for refusals); it exists
# only while a module using it runs (tests/test_worker*.py expect the entities be and fr only).
COMMITTED_ENTITY = "at"
AT_NATIONAL_ID = "1237010180"  # a valid Austrian Versicherungsnummer (born 01.01.1980)


@pytest.fixture
def inv_advisor() -> Callable[[], User]:
    """The advisor of the current schema (one per schema and test), who reviews and issues."""
    advisors: dict[str, User] = {}

    def advisor() -> User:
        schema = current_schema()
        if schema not in advisors:
            advisors[schema] = UserFactory(role=Role.ADVISOR)
        return advisors[schema]

    return advisor


@pytest.fixture
def inv_approve(inv_advisor: Callable[[], User]) -> Callable[[Contract], Contract]:
    """Submit a draft contract (as its member) and approve it (as the advisor)."""

    def approve(contract: Contract) -> Contract:
        contract = member_services.contract_submit(contract=contract, actor=contract.member.user)
        return member_services.contract_approve(contract=contract, actor=inv_advisor())

    return approve


@pytest.fixture
def inv_approved_contract(
    inv_approve: Callable[[Contract], Contract],
) -> Callable[..., Contract]:
    """An approved contract of the current entity; keyword arguments go to ContractFactory."""

    def make(**kwargs: Any) -> Contract:
        return inv_approve(ContractFactory(**kwargs))

    return make


@pytest.fixture
def inv_issued_invoice(
    in_be: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> Invoice:
    """An issued Belgian invoice: 1,000.00 excl. VAT at 21 % (gross 1,210.00, fee 65.00)."""
    return services.invoice_issue(contract=inv_approved_contract(), actor=inv_advisor())


class CommittedEntity:
    """The ``at`` entity, committed, with a member, a client and an advisor to issue.

    Created for a test module and dropped after it; within the module, issued invoices and the
    books cannot be deleted (the database refuses it), so tests assert relative to what they
    read before.
    """

    code = COMMITTED_ENTITY

    def __init__(self) -> None:
        self.advisor: User = UserFactory(role=Role.ADVISOR)
        member = Member.objects.filter(national_id=AT_NATIONAL_ID).first()
        self.member: Member = member or MemberFactory(
            national_id=AT_NATIONAL_ID, date_of_birth=datetime.date(1980, 1, 1),
            street="Stephansplatz 1", postal_code="1010", city="Wien",
            iban="AT611904300234573201",
        )  # fmt: skip
        self.client: Client = ClientFactory(
            street="Ringstrasse 1", postal_code="1010", city="Wien", actor=self.advisor
        )

    def approved_contracts(self, count: int) -> list[Contract]:
        contracts = []
        for _ in range(count):
            contract = ContractFactory(member=self.member, client=self.client)
            contract = member_services.contract_submit(contract=contract, actor=self.member.user)
            contracts.append(
                member_services.contract_approve(contract=contract, actor=self.advisor)
            )
        return contracts


def committed_entity_create(code: str) -> None:
    from smart_coop.tenancy.services import entity_create

    # committed_db alone does not make pytest-django create the test database (it only counts
    # tests asking for db/transactional_db): refuse to commit into the developer's database.
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("no test database in this run: select at least one test using `db` too")
    entity_create(code=code, base_host=settings.BASE_HOST)


def committed_entity_drop(code: str) -> None:
    """Drop the entity's schema and rows: its books and invoices refuse row deletes, not DROP
    SCHEMA. Later tests (the worker's dispatcher) expect the entities to be be and fr only."""
    connection.set_schema_to_public()
    entity = Entity.objects.get(schema_name=code)
    entity.rates.all().delete()
    entity.amounts.all().delete()
    entity.domains.all().delete()
    entity.delete(force_drop=True)


@pytest.fixture(scope="module")
def inv_committed_entity(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The ``at`` entity, committed, for one test module; dropped at the end of the module."""
    with django_db_blocker.unblock():
        committed_entity_create(COMMITTED_ENTITY)
    yield COMMITTED_ENTITY
    with django_db_blocker.unblock():
        committed_entity_drop(COMMITTED_ENTITY)


@pytest.fixture
def inv_committed_at(
    inv_committed_entity: str, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CommittedEntity]:
    """Work committed in ``at`` (the test runs in its schema); documents are not enqueued."""
    # Rendering and sending are enqueued on commit: keep the test's invoices off the queue.
    monkeypatch.setattr(services, "_after_issue", lambda invoice: None)
    with schema_context(inv_committed_entity):
        yield CommittedEntity()


@pytest.fixture
def inv_run_threads() -> Callable[..., list[BaseException]]:
    """Run callables at once, each in its own thread (its own database connection, closed at
    the end); return the errors they raised."""

    def run(targets: list[Callable[[], None]], timeout: float = 120) -> list[BaseException]:
        errors: list[BaseException] = []

        def wrapped(target: Callable[[], None]) -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - returned to the test
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
        return errors

    return run
