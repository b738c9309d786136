"""Whether the fund guarantees an invoice, and if not, why, in the member's language.

Two rules always hold (issue 6): the contract was approved before its first work day (in the
entity's time zone: approved on the eve of the work counts, on the first day does not), and
the client is not blocked. An entity may add, in its ``FundPolicy``:

- ``require_eu_client``: the client's country (``Client.country``) is an EU member state;
- ``require_confirmed_order``: the contract carries a signed order (an ``Attachment`` of kind
  ``signed_order``). Contracts have no "confirmed" field: the signed order the client returned
  is the only evidence of a confirmed order the platform holds, so that is what is checked.

A member paid monthly under a permanent contract is not paid per invoice at all (the invoice
feeds their activity budget, which pays the agreed monthly salary): the fund has nothing to
advance, and says so.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from members.models import Attachment, Client, Contract, Member
from members.validators import EU_COUNTRIES
from smart_coop.tenancy.models import Entity

from .models import FundPolicy


@dataclass(frozen=True)
class Eligibility:
    guaranteed: bool
    # Empty when guaranteed; otherwise every reason, in the member's language.
    reason: str


def member_language(member: Member, entity: Entity) -> str:
    """The language the member reads the platform in (as payslips do): their user's, else
    the first they speak, else the entity's default."""
    return member.user.language or (
        member.languages[0] if member.languages else entity.default_language
    )


def approved_before_work(contract: Contract, entity: Entity) -> bool:
    if contract.reviewed_at is None or contract.state != Contract.State.APPROVED:
        return False
    approved_on = contract.reviewed_at.astimezone(zoneinfo.ZoneInfo(entity.time_zone)).date()
    return approved_on < contract.first_day


def contracts_with_signed_order(contract_ids: Iterable[int]) -> set[int]:
    return set(
        Attachment.objects.filter(
            contract_id__in=list(contract_ids), kind=Attachment.Kind.SIGNED_ORDER
        ).values_list("contract_id", flat=True)
    )


def members_under_permanent_contract(pairs: Iterable[tuple[int, datetime.date]]) -> set[int]:
    """Of these (member id, last work day), the members with a permanent contract covering
    the month of that day."""
    from payroll.models import PermanentContract

    wanted = list(pairs)
    if not wanted:
        return set()
    covering: set[int] = set()
    contracts = PermanentContract.objects.filter(
        member_id__in={member_id for member_id, _day in wanted}
    ).values_list("member_id", "first_month", "last_month")
    spans: dict[int, list[tuple[datetime.date, datetime.date | None]]] = {}
    for member_id, first, last in contracts:
        spans.setdefault(member_id, []).append((first, last))
    for member_id, day in wanted:
        month = day.replace(day=1)
        for first, last in spans.get(member_id, []):
            if first <= month and (last is None or last >= month):
                covering.add(member_id)
    return covering


def eligibility(
    *,
    contract: Contract,
    client: Client,
    member: Member,
    entity: Entity,
    policy: FundPolicy,
    has_signed_order: bool,
    under_permanent_contract: bool,
) -> Eligibility:
    """The fund's answer for the invoice of ``contract``, with every reason that applies."""
    late = not approved_before_work(contract, entity)
    blocked = client.status == Client.Status.BLOCKED
    outside_eu = policy.require_eu_client and client.country.upper() not in EU_COUNTRIES
    no_order = policy.require_confirmed_order and not has_signed_order
    if not (under_permanent_contract or late or blocked or outside_eu or no_order):
        return Eligibility(guaranteed=True, reason="")
    reasons: list[str] = []
    with translation.override(member_language(member, entity)):
        if under_permanent_contract:
            reasons.append(
                _(
                    "You are paid a monthly salary under your permanent contract: this invoice "
                    "feeds your activity budget instead of being paid on its own."
                )
            )
        if late:
            reasons.append(
                _(
                    "The contract was approved on or after its first work day (%(first_day)s): "
                    "the fund guarantees only work approved before it starts."
                )
                % {"first_day": contract.first_day.isoformat()}
            )
        if blocked:
            reasons.append(
                _("The client %(client)s is blocked by the cooperative.") % {"client": client.name}
            )
        if outside_eu:
            reasons.append(
                _("The client %(client)s is not established in the European Union.")
                % {"client": client.name}
            )
        if no_order:
            reasons.append(
                _("The contract has no order signed by the client (attach the signed order).")
            )
        reasons.append(_("Your salary is paid once the client has paid the invoice."))
    return Eligibility(guaranteed=not reasons, reason=" ".join(reasons))


def contract_eligibility(*, contract: Contract) -> Eligibility:
    """The fund's answer for one contract, read from the database (e.g. for a page)."""
    from smart_coop.tenancy.current import current_entity

    entity = current_entity()
    policy = FundPolicy.current()
    return eligibility(
        contract=contract,
        client=contract.client,
        member=contract.member,
        entity=entity,
        policy=policy,
        has_signed_order=bool(contracts_with_signed_order([contract.pk])),
        under_permanent_contract=bool(
            members_under_permanent_contract([(contract.member_id, contract.last_day)])
        ),
    )
