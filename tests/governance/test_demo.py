"""The governance demo of `make run`: an open assembly a demo member can vote at."""

from __future__ import annotations

from typing import Any

from governance.models import Assembly, Candidacy, Participation, RollEntry, ShareOrder
from smart_coop.demo import demo_populate
from smart_coop.tenancy.models import Entity


def test_the_demo_opens_a_vote_once(in_be: Entity, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        demo_populate(in_be)
        demo_populate(in_be)  # a second run adds nothing

    assembly = Assembly.objects.get()
    assert assembly.state == Assembly.State.OPEN
    assert RollEntry.objects.filter(assembly=assembly).count() == 21
    assert Participation.objects.filter(assembly=assembly).count() == 8
    assert Candidacy.objects.filter(state=Candidacy.State.ELIGIBLE).count() == 3
    assert ShareOrder.objects.filter(state=ShareOrder.State.PENDING).count() == 1
    member_entry = RollEntry.objects.get(
        assembly=assembly, shareholder__user__email="member@be.demo.coop"
    )
    assert not Participation.objects.filter(voter=member_entry).exists()
