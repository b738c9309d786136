"""Governance demo data for `make run`: shareholders, one open assembly with an election.

Made through the services, as organisers and members would; running it again adds nothing.
The demo member holds two shares and has one more awaiting payment; twenty other holders
(no login) hold one to ten shares; the assembly is convened, its vote open, a few have voted,
and the demo member can vote, give a proxy or read the candidates' statements.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from governance import services
from governance.models import Assembly, ShareClass, Shareholder
from smart_coop.accounts.models import User
from smart_coop.tenancy.models import Entity

ASSEMBLY_TITLE = "Ordinary general assembly"


def demo_governance(
    entity: Entity, *, member_user: User, organiser: User, advisor: User, today: datetime.date
) -> None:
    if Assembly.objects.filter(title=ASSEMBLY_TITLE).exists():
        return
    scale = 400 if entity.currency == "HUF" else 10 if entity.currency == "SEK" else 1
    services.share_classes_default_create(unverified_value=Decimal(30) * scale)
    class_a, class_d = ShareClass.objects.get(code="A"), ShareClass.objects.get(code="D")

    def holder(name: str, user: User | None, shares: int, days_ago: int) -> Shareholder:
        registered = services.shareholder_register(
            data=services.ShareholderInput(
                name=name, street="Rue de la Coopérative 1", postal_code="1000", city="Capital",
                country=entity.country,
                email="" if user else f"{name.lower().replace(' ', '.')}@{entity.code}.demo.coop",
                language=entity.default_language,
            ),
            user=user, actor=organiser,
        )  # fmt: skip
        order = services.share_order_place(
            shareholder=registered,
            share_class=class_a if shares < 10 else class_d,
            quantity=shares,
            actor=user or organiser,
        )
        services.share_order_pay(
            order=order, paid_on=today - datetime.timedelta(days=days_ago), actor=organiser
        )
        return registered

    me = holder(member_user.get_full_name(), member_user, 2, 400)
    # One more share ordered in the portal, awaiting the transfer.
    services.share_order_place(shareholder=me, share_class=class_a, quantity=1, actor=member_user)
    others = [
        holder(f"Demo shareholder {i}", None, 10 if i % 7 == 0 else 1 + i % 3, 30 + 20 * i)
        for i in range(1, 21)
    ]

    assembly = services.assembly_create(
        title=ASSEMBLY_TITLE,
        starts_at=timezone.now().replace(minute=0, second=0, microsecond=0)
        + datetime.timedelta(days=30),
        record_date=today - datetime.timedelta(days=1),
        agenda=(
            "1. Annual report and accounts\n2. Discharge of the directors\n"
            "3. Amendment of the statutes: one member, one vote\n4. Board renewal"
        ),
        mode=Assembly.Mode.HYBRID,
        place="Capital, Coop House",
        resolutions=[
            services.ResolutionInput(
                title="Approval of the annual accounts",
                text="The assembly approves the annual accounts of the last financial year.",
            ),
            services.ResolutionInput(
                title="Discharge of the directors",
                text="The assembly discharges the directors for their mandate.",
            ),
            services.ResolutionInput(
                title="Amendment of the statutes",
                text="Each shareholder has one vote, whatever the number of shares held.",
                majority="three_quarters",
                quorum_percent=Decimal(50),
            ),
        ],
        actor=organiser,
    )
    election = services.election_create(
        assembly=assembly,
        title="Board renewal",
        seats=2,
        candidacies_close_on=today + datetime.timedelta(days=10),
        actor=organiser,
    )
    statements = (
        "Open books and a yearly members' day in every region.",
        "Faster payouts and a stronger guarantee fund.",
        "More trainings, fewer forms.",
    )
    for candidate, statement in zip(others[:3], statements, strict=True):
        candidacy = services.candidacy_submit(
            election=election, shareholder=candidate, statement=statement, actor=organiser
        )
        services.candidacy_review(candidacy=candidacy, eligible=True, reason="", actor=advisor)
    services.assembly_convene(assembly=assembly, actor=organiser)
    services.assembly_open(assembly=assembly, actor=organiser)
    resolutions = list(assembly.resolutions.order_by("position").values_list("pk", flat=True))
    candidacies = list(election.candidacies.values_list("pk", flat=True))
    for i, voter in enumerate(others[:8]):
        services.ballot_cast(
            assembly=assembly,
            voter=voter,
            choices={pk: ("for", "for", "against", "abstain")[(i + j) % 4]
                     for j, pk in enumerate(resolutions)},
            approvals={election.pk: candidacies[i % 3 : i % 3 + 2]},
            actor=None,
        )  # fmt: skip
