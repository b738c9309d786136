"""Board elections: candidacies, eligibility, approval voting, ties by seniority or lot."""

from __future__ import annotations

from typing import cast

import pytest

from governance import services
from governance.models import Candidacy, Election, ElectionBallot, Statutes, TieRule
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import UserFactory
from tests.governance.helpers import DAY, assembly, choices, shareholder, today


def _advisor() -> User:
    return cast(User, UserFactory(role=Role.ADVISOR))


def _election(meeting, seats: int = 2, tie_rule: str | None = None) -> Election:  # type: ignore[no-untyped-def]
    return services.election_create(
        assembly=meeting, title="Board renewal", seats=seats,
        candidacies_close_on=today() + 10 * DAY, tie_rule=tie_rule, actor=None,
    )  # fmt: skip


def _stand(election: Election, holder, eligible: bool = True) -> Candidacy:  # type: ignore[no-untyped-def]
    candidacy = services.candidacy_submit(
        election=election, shareholder=holder, statement="A fairer coop.", actor=None
    )
    return services.candidacy_review(
        candidacy=candidacy, eligible=eligible, reason="" if eligible else "Staff member",
        actor=_advisor(),
    )  # fmt: skip


def test_approval_voting_elects_the_most_approved_up_to_the_seats(in_be: Entity) -> None:
    people = [shareholder() for _ in range(6)]
    meeting = assembly(convene=True, open_vote=False)
    election = _election(meeting, seats=2)
    ann, bob, cas = (_stand(election, person) for person in people[:3])
    services.assembly_open(assembly=meeting, actor=None)
    votes = [[ann.pk, bob.pk], [ann.pk], [ann.pk, cas.pk], [bob.pk], [bob.pk, cas.pk], []]
    for person, approved in zip(people, votes, strict=True):
        services.ballot_cast(
            assembly=meeting, voter=person, choices=choices(meeting, "for"),
            approvals={election.pk: approved}, actor=None,
        )  # fmt: skip

    services.assembly_close(assembly=meeting, actor=None)

    results = {c.pk: (c.votes, c.rank, c.elected) for c in Candidacy.objects.all()}
    assert results == {ann.pk: (3, 1, True), bob.pk: (3, 2, True), cas.pk: (2, 3, False)}
    assert ElectionBallot.objects.count() == 6  # the blank ballot is there too


def test_too_many_approvals_or_an_ineligible_candidate_are_refused(in_be: Entity) -> None:
    people = [shareholder() for _ in range(4)]
    meeting = assembly(convene=True, open_vote=False)
    election = _election(meeting, seats=1)
    ann = _stand(election, people[0])
    bob = _stand(election, people[1])
    refused_one = _stand(election, people[2], eligible=False)
    services.assembly_open(assembly=meeting, actor=None)

    for approved in ([ann.pk, bob.pk], [refused_one.pk]):
        with pytest.raises(DomainError) as refused:
            services.ballot_cast(
                assembly=meeting, voter=people[3], choices=choices(meeting, "for"),
                approvals={election.pk: approved}, actor=None,
            )  # fmt: skip
        assert refused.value.field == f"election_{election.pk}"
    assert not ElectionBallot.objects.exists()


def test_a_tie_goes_to_the_earliest_shareholder_by_seniority(in_be: Entity) -> None:
    junior = shareholder(on=today() - 20 * DAY)
    senior = shareholder(on=today() - 400 * DAY)
    voters = [shareholder(), shareholder()]
    meeting = assembly(convene=True, open_vote=False)
    election = _election(meeting, seats=1, tie_rule=TieRule.SENIORITY)
    young, old = _stand(election, junior), _stand(election, senior)
    services.assembly_open(assembly=meeting, actor=None)
    for voter, approved in zip(voters, (young, old), strict=True):
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "for"),
            approvals={election.pk: [approved.pk]}, actor=None,
        )  # fmt: skip

    services.assembly_close(assembly=meeting, actor=None)

    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.votes, old.elected, young.votes, young.elected) == (1, True, 1, False)


def test_a_lot_is_drawn_from_the_published_digest_and_can_be_redrawn(in_be: Entity) -> None:
    people = [shareholder() for _ in range(2)]
    meeting = assembly(convene=True, open_vote=False)
    election = _election(meeting, seats=1, tie_rule=TieRule.LOT)
    first, second = _stand(election, people[0]), _stand(election, people[1])
    services.assembly_open(assembly=meeting, actor=None)
    for voter, approved in zip(people, (second, first), strict=True):
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "for"),
            approvals={election.pk: [approved.pk]}, actor=None,
        )  # fmt: skip

    closed = services.assembly_close(assembly=meeting, actor=None)

    election.refresh_from_db()
    assert election.lot_seed == closed.receipts_digest
    assert closed.receipts_digest == services.receipts_digest(
        services.receipts_published(assembly=closed)
    )
    # Anyone can redraw: the lowest sha256(seed:id) wins.
    expected = min(
        (first, second),
        key=lambda c: services.lot_order(seed=election.lot_seed, candidacy_id=c.pk),
    )
    assert Candidacy.objects.get(elected=True).pk == expected.pk


def test_only_shareholders_stand_and_only_once_before_the_call_closes(in_be: Entity) -> None:
    meeting = assembly(convene=True, open_vote=False)
    election = _election(meeting)
    holder = shareholder()
    services.candidacy_submit(election=election, shareholder=holder, statement="Yes", actor=None)

    with pytest.raises(DomainError) as twice:
        services.candidacy_submit(election=election, shareholder=holder, statement="Yes",
                                  actor=None)  # fmt: skip
    assert twice.value.code == "duplicate"
    with pytest.raises(DomainError) as outsider:
        services.candidacy_submit(
            election=election, shareholder=shareholder(shares=0), statement="Me", actor=None
        )
    assert outsider.value.code == "not_holder"
    services.assembly_open(assembly=meeting, actor=None)
    with pytest.raises(DomainError):  # the vote has started
        services.candidacy_submit(
            election=election, shareholder=shareholder(), statement="Now", actor=None
        )
    Election.objects.filter(pk=election.pk).update(candidacies_close_on=today() - DAY)
    election.refresh_from_db()
    with pytest.raises(DomainError):
        services.candidacy_submit(
            election=election, shareholder=shareholder(), statement="Late", actor=None
        )
    assert Candidacy.objects.count() == 1


def test_refusing_a_candidate_needs_a_reason(in_be: Entity) -> None:
    meeting = assembly(convene=True, open_vote=False)
    candidacy = services.candidacy_submit(
        election=_election(meeting), shareholder=shareholder(), statement="Yes", actor=None
    )
    with pytest.raises(DomainError) as refused:
        services.candidacy_review(candidacy=candidacy, eligible=False, reason=" ",
                                  actor=_advisor())  # fmt: skip
    assert refused.value.field == "reason"
    candidacy.refresh_from_db()
    assert candidacy.state == Candidacy.State.SUBMITTED


def test_the_statutes_tie_rule_is_the_default(in_be: Entity) -> None:
    Statutes.objects.update_or_create(pk=1, defaults={"election_tie_rule": TieRule.LOT})
    meeting = assembly(convene=True, open_vote=False)
    assert _election(meeting).tie_rule == TieRule.LOT
