"""What a big default would do to an entity's guarantee fund: its position before and after.

    manage.py fund_stress --entity be --client 42
    manage.py fund_stress --entity be --members 400 --amount 875

``--client``: the client defaults now; every advance the fund has open on its invoices is lost
(charged to the fund's losses, as a write-off books it). ``--members N --amount X``: N
members were each paid an advance of X (excl. VAT) by the fund for a client that never pays
(a client not in the books, as the 2016 delivery platform's bankruptcy): the reserve bears
N x X.

Nothing is written: the figures are read from the ledger in one READ ONLY transaction (the
database refuses any write in it) and the default is applied in memory.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django_tenants.utils import schema_context

from guarantee_fund.calendar import entity_today
from guarantee_fund.coverage import coverage_below_floor, percent
from guarantee_fund.models import FundPolicy, Payout
from guarantee_fund.selectors import FundPosition, fund_position, open_advances_by_invoice
from invoicing.models import Invoice
from members.models import Client
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

ZERO = Decimal(0)


@dataclass(frozen=True)
class Stress:
    scenario: str
    before: FundPosition
    after: FundPosition
    floor: Decimal
    members: int  # members whose salary the lost advances paid
    contracts: int
    # The client's payouts the fund has not paid yet, which it would still advance (their
    # invoices were guaranteed when issued): (count, amount).
    still_scheduled: tuple[int, Decimal] = (0, ZERO)


def _coverage(reserve: Decimal, advances: Decimal) -> Decimal | None:
    return (reserve / advances).quantize(Decimal("0.0001")) if advances else None


def _after_loss(
    position: FundPosition, *, lost: Decimal, overdue_lost: Decimal, opened: bool
) -> FundPosition:
    """The position once ``lost`` is charged to the fund's losses. ``opened``: the lost
    advances are among the open ones (a real client), which they leave."""
    advances = position.open_advances - lost if opened else position.open_advances
    overdue = position.overdue_advances - overdue_lost if opened else position.overdue_advances
    reserve = position.reserve - lost
    return replace(
        position,
        losses=position.losses + lost,
        reserve=reserve,
        open_advances=advances,
        overdue_advances=overdue,
        coverage=_coverage(reserve, advances),
    )


def _policy() -> FundPolicy:
    # FundPolicy.current() creates the row when missing: a write. The defaults stand for it.
    return FundPolicy.objects.filter(pk=1).first() or FundPolicy()


def client_default(*, client: Client) -> Stress:
    """The client defaults: every open advance on its invoices is lost."""
    from guarantee_fund.services import open_claim

    before = fund_position()
    advances = open_advances_by_invoice()
    paid = list(
        Payout.objects.filter(
            client=client, state=Payout.State.PAID, invoice_id__in=list(advances)
        ).values_list("invoice_id", "member_id")
    )
    invoice_ids = [invoice_id for invoice_id, _member in paid]
    late_ids = set(
        Invoice.objects.filter(pk__in=invoice_ids, due_date__lt=today()).values_list(
            "pk", flat=True
        )
    )
    lost = sum((advances[pk] for pk in invoice_ids), ZERO)
    overdue_lost = sum((advances[pk] for pk in invoice_ids if pk in late_ids), ZERO)
    pending = [
        open_claim(payout.invoice)
        for payout in Payout.objects.filter(
            client=client,
            state__in=[Payout.State.SCHEDULED, Payout.State.AWAITING_APPROVAL],
        ).select_related("invoice")
    ]
    return Stress(
        scenario=f"client {client.pk} {client.name!r} defaults: its open advances are lost",
        before=before,
        after=_after_loss(before, lost=lost, overdue_lost=overdue_lost, opened=True),
        floor=_policy().coverage_floor,
        members=len({member for _invoice, member in paid}),
        contracts=len(paid),
        still_scheduled=(len(pending), sum(pending, ZERO)),
    )


def members_default(*, members: int, amount: Decimal) -> Stress:
    """``members`` advances of ``amount`` each, paid by the fund and never repaid."""
    before = fund_position()
    lost = amount * members
    return Stress(
        scenario=(
            f"{members} members were each advanced {amount} {before.currency} for a client "
            "that never pays"
        ),
        before=before,
        after=_after_loss(before, lost=lost, overdue_lost=ZERO, opened=False),
        floor=_policy().coverage_floor,
        members=members,
        contracts=members,
    )


def today() -> datetime.date:
    return entity_today(current_entity())


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency):,}"


def _ratio(position: FundPosition) -> str:
    value = percent(position.coverage)
    return "n/a (nothing advanced)" if value is None else f"{value} %"


def report(stress: Stress, entity: Entity) -> list[str]:
    currency = stress.before.currency
    rows = [
        ("reserve", "reserve"),
        ("open advances", "open_advances"),
        ("  of which overdue", "overdue_advances"),
        ("losses", "losses"),
    ]
    lines = [
        f"Guarantee fund stress test: {entity.code} {entity.legal_name} ({currency}), "
        f"as of {today().isoformat()}. Nothing is written.",
        f"Scenario: {stress.scenario}.",
        f"{'':20} {'before':>18} {'after':>18}",
    ]
    for label, name in rows:
        lines.append(
            f"{label:20} {_money(getattr(stress.before, name), currency):>18} "
            f"{_money(getattr(stress.after, name), currency):>18}"
        )
    lines.append(f"{'coverage':20} {_ratio(stress.before):>18} {_ratio(stress.after):>18}")

    def breached(position: FundPosition) -> str:
        return "BREACHED" if coverage_below_floor(position.coverage, stress.floor) else "held"

    lines.append(
        f"{'floor ' + str(percent(stress.floor)) + ' %':20} {breached(stress.before):>18} "
        f"{breached(stress.after):>18}"
    )
    lines.append(
        f"Members affected: {stress.members} ({stress.contracts} contracts); they keep their "
        "salaries: the fund bears the loss."
    )
    if stress.after.reserve < 0:
        lines.append(
            f"The reserve would be negative by {_money(-stress.after.reserve, currency)} "
            f"{currency}: more than the fund holds."
        )
    count, amount = stress.still_scheduled
    if count:
        lines.append(
            f"Still to advance for this client's contracts already invoiced: {count} "
            f"payout{'s' if count > 1 else ''}, "
            f"{_money(amount, currency)} {currency}."
        )
    return lines


class Command(BaseCommand):
    help = (
        "Simulate the default of a big client (--client ID) or of N members' advances of X "
        "each (--members N --amount X) and print the fund's position before and after; "
        "nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code, e.g. be")
        parser.add_argument("--client", type=int, help="the id of the client that defaults")
        parser.add_argument("--members", type=int, help="how many members' advances are lost")
        parser.add_argument("--amount", help="each advance, excl. VAT, e.g. 875.00")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = Entity.objects.filter(code=options["entity"]).first()
        if entity is None or entity.is_public:
            raise CommandError(f"no entity {options['entity']!r}")
        by_client = options["client"] is not None
        by_members = options["members"] is not None or options["amount"] is not None
        if by_client == by_members:
            raise CommandError("give either --client ID, or --members N and --amount X")
        amount = ZERO
        if by_members:
            if options["members"] is None or options["amount"] is None:
                raise CommandError("--members and --amount go together")
            if options["members"] <= 0:
                raise CommandError("--members must be at least 1")
            try:
                amount = quantize(Decimal(options["amount"]), entity.currency)
            except (InvalidOperation, ValueError) as error:
                raise CommandError(f"--amount: not an amount: {options['amount']!r}") from error
            if amount <= 0:
                raise CommandError("--amount must be more than zero")
        with schema_context(entity.schema_name), transaction.atomic():
            # Any write in here, by mistake, is refused by the database itself; and whatever
            # happens, the transaction is rolled back.
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION READ ONLY")
                lines = self._simulate(entity, options, amount)
            finally:
                transaction.set_rollback(True)
        self.stdout.write("\n".join(lines))

    def _simulate(self, entity: Entity, options: dict[str, Any], amount: Decimal) -> list[str]:
        if options["client"] is not None:
            client = Client.objects.filter(pk=options["client"]).first()
            if client is None:
                raise CommandError(f"no client {options['client']} in {entity.code}")
            stress = client_default(client=client)
        else:
            stress = members_default(members=options["members"], amount=amount)
        return report(stress, entity)
