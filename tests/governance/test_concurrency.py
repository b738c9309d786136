"""Concurrent submissions on real PostgreSQL: 100 members, each submitting twice at once.

The data is committed (other connections must see it) and removed in a ``finally``. Holdings
are written as register lines directly: the ledger is append-only (database triggers), so a
committed test must not book share payments it cannot remove; the booking is tested in
test_shares.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django_tenants.utils import schema_context

from governance import services
from governance.models import (
    Assembly,
    Ballot,
    Participation,
    Resolution,
    Shareholder,
    ShareMovement,
)
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.governance.helpers import DAY, choices, share_class, today

MEMBERS = 100


def _holders(count: int) -> list[Shareholder]:
    a = share_class("A")
    holders = [
        services.shareholder_register(
            data=services.ShareholderInput(
                name=f"Concurrent {i}",
                street="Rue 1",
                postal_code="1000",
                city="Bruxelles",
                country="BE",
                email=f"concurrent{i}@governance.test",
            ),
            user=None,
            actor=None,
        )
        for i in range(count)
    ]
    ShareMovement.objects.bulk_create(
        ShareMovement(
            shareholder=h, share_class=a, kind="purchase", quantity=10 if i == 0 else 1,
            unit_value=a.nominal_value, amount=a.nominal_value * (10 if i == 0 else 1),
            currency=a.currency, occurred_on=today() - 30 * DAY,
        )
        for i, h in enumerate(holders)
    )  # fmt: skip
    return holders


@pytest.fixture(autouse=True)
def db(committed_db: None) -> None:
    """Committed database access (overrides pytest-django's ``db``, as tests/e2e does): the
    name makes pytest-django create the test database when only this module is run."""


def _cleanup() -> None:
    with schema_context("be"):
        Assembly.objects.filter(title="Concurrent assembly").delete()
        holders = Shareholder.objects.filter(name__startswith="Concurrent ")
        ShareMovement.objects.filter(shareholder__in=holders).delete()
        holders.delete()


@pytest.fixture
def committed_be(committed_db: None) -> Iterator[Entity]:
    _cleanup()
    try:
        with schema_context("be"):
            yield Entity.objects.get(schema_name="be")
    finally:
        _cleanup()


def _submit(assembly_id: int, shareholder_id: int, pick: str) -> str:
    """One submission, on its own connection, as a web worker would run it."""
    try:
        with schema_context("be"):
            meeting = Assembly.objects.get(pk=assembly_id)
            voter = Shareholder.objects.get(pk=shareholder_id)
            try:
                services.ballot_cast(
                    assembly=meeting, voter=voter, choices=choices(meeting, pick), actor=None
                )
            except DomainError as error:
                return error.code
            return "cast"
    finally:
        connections.close_all()


def test_200_concurrent_submissions_from_100_members_count_100_votes(
    committed_be: Entity,
) -> None:
    holders = _holders(MEMBERS)
    meeting = services.assembly_create(
        title="Concurrent assembly",
        starts_at=datetime.datetime.now(tz=datetime.UTC) + 30 * DAY,
        record_date=today() - DAY, agenda="Vote",
        resolutions=[services.ResolutionInput(title="One", text="One"),
                     services.ResolutionInput(title="Two", text="Two")],
        actor=None,
    )  # fmt: skip
    services.assembly_convene(assembly=meeting, actor=None)
    services.assembly_open(assembly=meeting, actor=None)
    # Both submissions of a member side by side: they reach the pool's threads together.
    jobs = [(h.pk, pick) for h in holders for pick in ("for", "against")]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda job: _submit(meeting.pk, *job), jobs))

    assert outcomes.count("cast") == MEMBERS
    assert outcomes.count("voted") == MEMBERS
    assert Participation.objects.filter(assembly=meeting).count() == MEMBERS
    resolutions = Resolution.objects.filter(assembly=meeting)
    assert Ballot.objects.filter(resolution__in=resolutions).count() == 2 * MEMBERS
    # The holder of 10 shares carries one vote like everyone else.
    assert (
        Ballot.objects.filter(resolution__in=resolutions).aggregate(total=Sum("weight"))["total"]
        == 2 * MEMBERS
    )

    closed = services.assembly_close(assembly=meeting, actor=None)  # commits: autocommit here

    for resolution in closed.resolutions.all():
        assert (resolution.votes_for or 0) + (resolution.votes_against or 0) == MEMBERS
        assert resolution.votes_abstain == 0
    # After the close the ballots were rewritten by the close's transaction: none shares the
    # transaction id (xmin) of the participation written with it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT b.xmin::text), count(*) FILTER (WHERE b.xmin::text IN"
            " (SELECT p.xmin::text FROM governance_participation p WHERE p.assembly_id = %s))"
            " FROM governance_ballot b JOIN governance_resolution r ON r.id = b.resolution_id"
            " WHERE r.assembly_id = %s",
            [meeting.pk, meeting.pk],
        )
        distinct_versions, shared_with_participation = cursor.fetchone()
    assert (distinct_versions, shared_with_participation) == (1, 0)
