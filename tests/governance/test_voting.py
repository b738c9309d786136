"""Assemblies and the secret ballot: the roll, one member one vote, proxies, receipts, tally."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from governance import services
from governance.models import (
    Assembly,
    Ballot,
    Convocation,
    Participation,
    Proxy,
    Resolution,
    RollEntry,
    Statutes,
    VotingRule,
)
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.governance.helpers import DAY, assembly, choices, shareholder, today


def test_a_member_with_ten_shares_has_one_vote(in_be: Entity) -> None:
    rich, modest = shareholder(shares=10), shareholder(shares=1)
    meeting = assembly()

    weights = dict(RollEntry.objects.filter(assembly=meeting).values_list("shareholder", "weight"))
    assert weights == {rich.pk: 1, modest.pk: 1}
    services.ballot_cast(assembly=meeting, voter=rich, choices=choices(meeting, "for"), actor=None)
    assert sorted(Ballot.objects.values_list("weight", flat=True)) == [1, 1]


def test_the_capped_rule_limits_a_voter_to_a_tenth_of_the_votes() -> None:
    weights = services.roll_weights(
        {1: 50, 2: 30, 3: 15, 4: 5}, rule=VotingRule.CAPPED, cap_percent=Decimal(10)
    )
    assert weights == {1: 10, 2: 10, 3: 10, 4: 5}
    assert services.roll_weights(
        {1: 50, 2: 3}, rule=VotingRule.ONE_SHARE_ONE_VOTE, cap_percent=Decimal(10)
    ) == {1: 50, 2: 3}


def test_the_capped_rule_from_the_statutes_weights_the_roll(in_be: Entity) -> None:
    Statutes.objects.update_or_create(pk=1, defaults={"voting_rule": VotingRule.CAPPED})
    big = shareholder(shares=40)
    others = [shareholder(shares=10) for _ in range(6)]
    meeting = assembly()

    weights = dict(RollEntry.objects.filter(assembly=meeting).values_list("shareholder", "weight"))
    assert weights[big.pk] == 10  # 10 % of the 100 shares on the roll
    assert {weights[o.pk] for o in others} == {10}


def test_a_non_shareholder_and_a_holder_registered_after_the_record_date_cannot_vote(
    in_be: Entity,
) -> None:
    shareholder(shares=1)
    meeting = assembly(record_date=today() - 5 * DAY)
    late = shareholder(shares=3, on=today() - 2 * DAY)
    never = shareholder(shares=0)

    for outsider in (late, never):
        with pytest.raises(DomainError) as refused:
            services.ballot_cast(
                assembly=meeting, voter=outsider, choices=choices(meeting, "for"), actor=None
            )
        assert refused.value.code == "not_on_roll"
    assert not Ballot.objects.exists()
    assert not Participation.objects.exists()


def test_a_second_submission_is_refused_and_counts_once(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly()
    services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None)

    with pytest.raises(DomainError) as refused:
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "against"), actor=None
        )

    assert refused.value.code == "voted"
    assert list(Ballot.objects.values_list("choice", flat=True)) == ["for", "for"]
    assert Participation.objects.count() == 1


def test_the_receipt_lets_its_voter_change_the_vote_until_the_close(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly()
    receipt = services.ballot_cast(
        assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None
    )

    wrong = services.Receipt(code=receipt.code, secret="A" * 20)
    with pytest.raises(DomainError) as refused:
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "against"), receipt=wrong,
            actor=None,
        )  # fmt: skip
    assert refused.value.code == "receipt"

    changed = services.ballot_cast(
        assembly=meeting, voter=voter, choices=choices(meeting, "against", "abstain"),
        receipt=receipt, actor=None,
    )  # fmt: skip

    assert changed.changed
    assert changed.code == receipt.code
    assert sorted(Ballot.objects.values_list("choice", flat=True)) == ["abstain", "against"]
    assert Participation.objects.count() == 1
    services.assembly_close(assembly=meeting, actor=None)
    with pytest.raises(DomainError) as closed:
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "for"), receipt=receipt,
            actor=None,
        )  # fmt: skip
    assert closed.value.code == "not_open"


def test_no_change_when_the_assembly_forbids_it(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly()
    Assembly.objects.filter(pk=meeting.pk).update(allow_vote_change=False)
    meeting.refresh_from_db()
    receipt = services.ballot_cast(
        assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None
    )

    with pytest.raises(DomainError) as refused:
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "against"), receipt=receipt,
            actor=None,
        )  # fmt: skip
    assert refused.value.code == "voted"
    assert set(Ballot.objects.values_list("choice", flat=True)) == {"for"}


def test_a_ballot_paper_must_answer_every_resolution(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly()
    partial = dict(list(choices(meeting, "for").items())[:1])

    with pytest.raises(DomainError) as refused:
        services.ballot_cast(assembly=meeting, voter=voter, choices=partial, actor=None)

    assert str(refused.value.field).startswith("resolution_")
    assert not Participation.objects.exists()


def test_no_vote_before_the_opening(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly(open_vote=False)

    with pytest.raises(DomainError) as refused:
        services.ballot_cast(
            assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None
        )
    assert refused.value.code == "not_open"


def test_proxies_are_counted_and_limited(in_be: Entity) -> None:
    holder, first, second, other = (shareholder() for _ in range(4))
    meeting = assembly()
    services.proxy_grant(assembly=meeting, grantor=first, holder=holder, actor=None)

    with pytest.raises(DomainError) as limit:
        services.proxy_grant(assembly=meeting, grantor=second, holder=holder, actor=None)
    assert limit.value.code == "proxy_limit"

    with pytest.raises(DomainError) as represented:
        services.ballot_cast(
            assembly=meeting, voter=first, choices=choices(meeting, "for"), actor=None
        )
    assert represented.value.code == "represented"
    with pytest.raises(DomainError) as not_held:
        services.ballot_cast(
            assembly=meeting, voter=second, cast_by=holder, choices=choices(meeting, "for"),
            actor=None,
        )  # fmt: skip
    assert not_held.value.code == "no_proxy"

    own = services.ballot_cast(
        assembly=meeting, voter=holder, choices=choices(meeting, "for"), actor=None
    )
    carried = services.ballot_cast(
        assembly=meeting, voter=first, cast_by=holder, choices=choices(meeting, "against"),
        actor=None,
    )  # fmt: skip
    services.ballot_cast(assembly=meeting, voter=other, choices=choices(meeting, "for"), actor=None)
    closed = services.assembly_close(assembly=meeting, actor=None)

    assert own.code != carried.code
    assert Participation.objects.filter(by_proxy=True).count() == 1
    first_resolution = closed.resolutions.order_by("position").first()
    assert first_resolution is not None
    assert (first_resolution.votes_for, first_resolution.votes_against) == (2, 1)


def test_a_proxy_limit_of_two_from_the_statutes(in_be: Entity) -> None:
    Statutes.objects.update_or_create(pk=1, defaults={"proxies_per_holder": 2})
    holder, a, b, c = (shareholder() for _ in range(4))
    meeting = assembly()

    services.proxy_grant(assembly=meeting, grantor=a, holder=holder, actor=None)
    services.proxy_grant(assembly=meeting, grantor=b, holder=holder, actor=None)
    with pytest.raises(DomainError):
        services.proxy_grant(assembly=meeting, grantor=c, holder=holder, actor=None)
    assert Proxy.objects.filter(holder__shareholder=holder).count() == 2


def test_the_tally_equals_an_independent_count_of_the_published_receipts(in_be: Entity) -> None:
    voters = [shareholder() for _ in range(12)]
    meeting = assembly(resolutions=[("A", "simple"), ("B", "two_thirds"), ("C", "three_quarters")])
    picks = ["for", "against", "abstain"]
    for i, voter in enumerate(voters[:10]):
        services.ballot_cast(
            assembly=meeting, voter=voter,
            choices=choices(meeting, picks[i % 3], picks[(i + 1) % 3], "for"), actor=None,
        )  # fmt: skip

    closed = services.assembly_close(assembly=meeting, actor=None)
    published = services.receipts_published(assembly=closed)

    assert len(published) == 10
    for position, resolution in enumerate(closed.resolutions.order_by("position")):
        counted = Counter(row[1][position] for row in published)
        assert (resolution.votes_for, resolution.votes_against, resolution.votes_abstain) == (
            counted["for"], counted["against"], counted["abstain"],
        )  # fmt: skip
    assert closed.receipts_digest == services.receipts_digest(published)


def test_quorum_and_majorities_decide_the_outcome(in_be: Entity) -> None:
    voters = [shareholder() for _ in range(10)]
    meeting = assembly(
        resolutions=[("Simple", "simple"), ("Two thirds", "two_thirds"), ("Quorum", "simple")],
    )
    Resolution.objects.filter(assembly=meeting, title="Quorum").update(quorum_percent=80)
    # 7 for, 3 against on the first two; the quorum resolution gets the same 10 voters.
    for i, voter in enumerate(voters[:7]):
        services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "for"),
                             actor=None)  # fmt: skip
        del i
    for voter in voters[7:9]:
        services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "against"),
                             actor=None)  # fmt: skip
    services.ballot_cast(assembly=meeting, voter=voters[9],
                         choices=choices(meeting, "abstain"), actor=None)  # fmt: skip

    closed = services.assembly_close(assembly=meeting, actor=None)
    outcome = {r.title: (r.quorum_met, r.adopted) for r in closed.resolutions.all()}

    # 7 for / 2 against: simple yes, two thirds yes (7*3 >= 2*9); quorum 10 of 10 >= 80 %.
    assert outcome == {"Simple": (True, True), "Two thirds": (True, True), "Quorum": (True, True)}


def test_a_quorum_not_met_rejects_the_resolution(in_be: Entity) -> None:
    voters = [shareholder() for _ in range(5)]
    meeting = assembly(resolutions=[("Statutes", "three_quarters")], quorum=Decimal(50))
    for voter in voters[:2]:
        services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "for"),
                             actor=None)  # fmt: skip

    closed = services.assembly_close(assembly=meeting, actor=None)
    resolution = closed.resolutions.get()

    assert (resolution.votes_for, resolution.quorum_met, resolution.adopted) == (2, False, False)


@given(
    for_=st.integers(0, 500), against=st.integers(0, 500), abstain=st.integers(0, 500),
    count_abstentions=st.booleans(),
    majority=st.sampled_from(["simple", "two_thirds", "three_quarters"]),
)  # fmt: skip
def test_a_resolution_is_adopted_exactly_when_its_majority_is_reached(
    for_: int, against: int, abstain: int, count_abstentions: bool, majority: str
) -> None:
    resolution = Resolution(majority=majority, quorum_percent=Decimal(0),
                            count_abstentions=count_abstentions)  # fmt: skip
    outcome = services.resolution_outcome(
        resolution, votes={"for": for_, "against": against, "abstain": abstain}, roll_weight=1500
    )
    cast = for_ + against + (abstain if count_abstentions else 0)
    share = Decimal(for_) / cast if cast else Decimal(0)
    expected = {
        "simple": share > Decimal("0.5"),
        "two_thirds": cast > 0 and share >= Decimal(2) / 3,
        "three_quarters": cast > 0 and share >= Decimal("0.75"),
    }[majority]
    if majority == "two_thirds" and cast:  # exact rational comparison, no rounding
        expected = for_ * 3 >= cast * 2
    assert outcome.adopted == expected
    assert outcome.cast == cast


def test_convening_checks_the_notice_and_freezes_the_roll(in_be: Entity) -> None:
    shareholder(shares=2)
    too_soon = assembly(days_ahead=5, convene=False)

    with pytest.raises(DomainError) as refused:
        services.assembly_convene(assembly=too_soon, actor=None)
    assert refused.value.code == "notice"
    assert not RollEntry.objects.filter(assembly=too_soon).exists()

    meeting = assembly(days_ahead=20, convene=False)
    convened = services.assembly_convene(assembly=meeting, actor=None)
    assert convened.state == Assembly.State.CONVENED
    assert RollEntry.objects.filter(assembly=meeting).count() == 1


def test_convocations_go_to_every_voter_in_their_language(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    from governance.convocations import convocations_send

    shareholder(language="fr"), shareholder(language="nl"), shareholder(user=False)
    meeting = assembly(convene=False)
    with django_capture_on_commit_callbacks(execute=False):
        meeting = services.assembly_convene(assembly=meeting, actor=None)

    assert convocations_send(assembly=meeting) == 3
    assert convocations_send(assembly=meeting) == 0  # a second run sends nothing again
    meeting.refresh_from_db()
    assert (meeting.convocations_total, meeting.convocations_sent) == (3, 3)
    assert meeting.convocations_finished_at is not None
    assert len(mail.outbox) == 3
    # Each in the holder's language; the holder without a login gets the entity's default.
    languages = dict(Convocation.objects.values_list("voter__shareholder__email", "language"))
    assert sorted(languages.values()) == sorted(["fr", "nl", in_be.default_language])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(languages)
    subjects = {languages[m.to[0]]: m.subject for m in mail.outbox}
    assert subjects["nl"].startswith("Oproeping: Ordinary general assembly")
    assert subjects["fr"].startswith("Convocation : Ordinary general assembly")


def test_the_ballot_table_has_no_column_or_index_that_links_to_a_voter(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET search_path TO be")
        for table in ("governance_ballot", "governance_electionballot"):
            cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'be' AND table_name = %s ORDER BY column_name",
                [table],
            )
            columns = dict(cursor.fetchall())
            cursor.execute(
                "SELECT ccu.table_name FROM information_schema.table_constraints tc"
                " JOIN information_schema.constraint_column_usage ccu"
                "   ON tc.constraint_name = ccu.constraint_name"
                "  AND tc.constraint_schema = ccu.constraint_schema"
                " WHERE tc.table_schema = 'be' AND tc.table_name = %s"
                "   AND tc.constraint_type = 'FOREIGN KEY'",
                [table],
            )
            referenced = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'be' AND tablename = %s",
                [table],
            )
            indexes = [row[0] for row in cursor.fetchall()]
            # Only the question asked may be referenced: never a person, a roll entry, a
            # participation, nor a time or a serial number that would order the ballots.
            assert referenced <= {"governance_resolution", "governance_election"}, referenced
            assert columns["id"] == "uuid"
            assert not {
                name for name in columns
                if any(word in name for word in ("voter", "user", "shareholder", "member",
                                                 "roll", "participation", "created", "_at", "time"))
            }  # fmt: skip
            for definition in indexes:
                assert not any(word in definition for word in ("voter", "user", "shareholder"))
        cursor.execute("SET search_path TO public")
    # And the participation table knows nothing of a ballot.
    participation_fields = {f.name for f in Participation._meta.get_fields()}
    assert participation_fields == {"id", "assembly", "voter", "by_proxy", "hour"}


def test_a_vote_in_one_entity_never_reaches_the_other(in_be: Entity) -> None:
    from django_tenants.utils import schema_context

    voter = shareholder()
    meeting = assembly()
    services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None)
    with schema_context("fr"):
        assert not Ballot.objects.exists()
        assert not Assembly.objects.filter(pk=meeting.pk).exists()


def test_participation_only_keeps_the_hour(in_be: Entity) -> None:
    voter = shareholder()
    meeting = assembly()
    services.ballot_cast(assembly=meeting, voter=voter, choices=choices(meeting, "for"), actor=None)
    hour = Participation.objects.get().hour
    assert (hour.minute, hour.second, hour.microsecond) == (0, 0, 0)
    assert timezone.now() - hour < datetime.timedelta(hours=1, minutes=1)


@given(
    shares=st.dictionaries(st.integers(1, 10_000), st.integers(1, 1_000), min_size=1, max_size=60),
    cap=st.decimals(min_value=1, max_value=100, places=2),
)
def test_no_voter_carries_more_than_the_cap(shares: dict[int, int], cap: Decimal) -> None:
    weights = services.roll_weights(shares, rule=VotingRule.CAPPED, cap_percent=cap)
    limit = max(1, int(sum(shares.values()) * cap / 100))
    assert set(weights) == set(shares)
    assert all(1 <= weights[h] <= min(shares[h], limit) for h in shares)
    assert all(weights[h] == shares[h] for h in shares if shares[h] <= limit)
