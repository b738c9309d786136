"""Building governance data through the services, as the application does (current schema)."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from django.utils import timezone

from governance import services
from governance.models import Assembly, Resolution, ShareClass, Shareholder
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.tenancy.current import current_entity
from tests.factories import UserFactory

_numbers = itertools.count(1)
DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return entity_today(current_entity())


def share_class(code: str = "A") -> ShareClass:
    services.share_classes_default_create(unverified_value=Decimal("30.00"))
    return ShareClass.objects.get(code=code)


def shareholder(
    *,
    shares: int = 1,
    on: datetime.date | None = None,
    code: str = "A",
    user: User | bool | None = True,
    language: str = "",
) -> Shareholder:
    """A registered holder (with a login unless ``user=False``) holding ``shares`` paid on
    ``on`` (default: 30 days ago)."""
    n = next(_numbers)
    login = cast(User, UserFactory(language=language)) if user is True else (user or None)
    holder = services.shareholder_register(
        data=services.ShareholderInput(
            name=f"Holder {n}", street="Rue Haute 1", postal_code="1000", city="Bruxelles",
            country=current_entity().country, language=language,
            email="" if login else f"holder{n}@example.org",
        ),
        user=login, actor=None,
    )  # fmt: skip
    if shares:
        order = services.share_order_place(
            shareholder=holder, share_class=share_class(code), quantity=shares, actor=None
        )
        services.share_order_pay(order=order, paid_on=on or today() - 30 * DAY, actor=None)
    return holder


def assembly(
    *,
    resolutions: Sequence[tuple[str, str]] = (("Accounts", "simple"), ("Statutes", "two_thirds")),
    record_date: datetime.date | None = None,
    days_ahead: int = 30,
    convene: bool = True,
    open_vote: bool = True,
    quorum: Decimal = Decimal(0),
) -> Assembly:
    starts = timezone.now() + days_ahead * DAY
    created = services.assembly_create(
        title="Ordinary general assembly",
        starts_at=starts,
        record_date=record_date or today() - DAY,
        agenda="1. Accounts\n2. Statutes",
        resolutions=[
            services.ResolutionInput(
                title=title, text=f"The assembly approves: {title}.", majority=majority,
                quorum_percent=quorum,
            )
            for title, majority in resolutions
        ],
        actor=None,
    )  # fmt: skip
    if convene:
        created = services.assembly_convene(assembly=created, actor=None)
    if convene and open_vote:
        created = services.assembly_open(assembly=created, actor=None)
    return created


def choices(assembly: Assembly, *picks: str) -> dict[int, str]:
    """Resolution id -> choice, in agenda order (the last pick repeats)."""
    ids = list(
        Resolution.objects.filter(assembly=assembly)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    return {pk: picks[min(i, len(picks) - 1)] for i, pk in enumerate(ids)}
