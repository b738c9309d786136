"""Reads for the member portal and the API."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from members.models import Client, Contract, ContractEvent, Member
from smart_coop.accounts.models import User


def member_for_user(user: User) -> Member | None:
    return Member.objects.select_related("user", "advisor").filter(user=user).first()


def contracts_for_member(member: Member) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(member=member)
        .select_related("client")
        .prefetch_related("work_days")
        .order_by("-first_day", "-id")
    )


def contracts_by_state(member: Member) -> dict[str, list[Contract]]:
    grouped: dict[str, list[Contract]] = {state: [] for state in Contract.State.values}
    for contract in contracts_for_member(member):
        grouped[contract.state].append(contract)
    return grouped


def reviews_for_member(member: Member, *, limit: int = 10) -> QuerySet[ContractEvent]:
    """What advisors decided on the member's contracts, newest first (the dashboard's news)."""
    return (
        ContractEvent.objects.filter(
            contract__member=member, action__in=["approved", "rejected", "changes_requested"]
        )
        .select_related("contract", "actor")
        .order_by("-at")[:limit]
    )


def insurance_covered(member: Member, year: int) -> bool:
    """A member with at least one approved contract in a calendar year is covered all that year."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return Contract.objects.filter(
        member=member,
        state=Contract.State.APPROVED,
        work_days__day__gte=start,
        work_days__day__lte=end,
    ).exists()


def clients_selectable() -> QuerySet[Client]:
    """Clients a member may pick for a new contract (blocked ones are shown but refused)."""
    return Client.objects.order_by("name")
