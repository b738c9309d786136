"""Reading the guarantee fund of the current entity: its position, advances and payouts.

The money is read from the ledger only (the agreed design):

- contributions = what ``fund_reserve`` was credited (less the credit notes' share);
- losses = the balance of ``fund_losses``;
- reserve = contributions - losses;
- open advances = the balance of ``fund_advances``, per invoice by the entries' reference
  ``invoice:<id>``; overdue when that invoice is past its due date;
- coverage = reserve / open advances (None when nothing is advanced).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from members.models import Client, Member
from smart_coop.ledger.models import Entry
from smart_coop.tenancy.current import current_entity

from .models import Payout

ZERO = Decimal(0)
INVOICE_PREFIX = "invoice:"


@dataclass(frozen=True)
class FundPosition:
    currency: str
    contributions: Decimal
    losses: Decimal
    reserve: Decimal
    open_advances: Decimal
    overdue_advances: Decimal
    coverage: Decimal | None


def _entries(code: str, as_of: datetime.date | None) -> QuerySet[Entry]:
    entries = Entry.objects.filter(account__code=code)
    if as_of is not None:
        entries = entries.filter(transaction__occurred_on__lte=as_of)
    return entries


def _total(entries: QuerySet[Entry]) -> Decimal:
    return entries.aggregate(total=Sum("amount"))["total"] or ZERO


def open_advances_by_invoice(*, as_of: datetime.date | None = None) -> dict[int, Decimal]:
    """Invoice id -> the fund's open advance on it (only invoices with one open)."""
    rows = (
        _entries("fund_advances", as_of)
        .filter(reference__startswith=INVOICE_PREFIX)
        .values("reference")
        .annotate(total=Sum("amount"))
    )
    return {
        int(row["reference"].removeprefix(INVOICE_PREFIX)): row["total"]
        for row in rows
        if row["total"]
    }


def invoice_open_advance(*, invoice_id: int) -> Decimal:
    """What the fund advanced on this invoice and has not been repaid or lost yet."""
    return _total(
        Entry.objects.filter(
            account__code="fund_advances", reference=f"{INVOICE_PREFIX}{invoice_id}"
        )
    )


def _overdue(advances: dict[int, Decimal], as_of: datetime.date) -> dict[int, Decimal]:
    from invoicing.models import Invoice

    late = set(
        Invoice.objects.filter(pk__in=list(advances), due_date__lt=as_of).values_list(
            "pk", flat=True
        )
    )
    return {pk: amount for pk, amount in advances.items() if pk in late}


def fund_position(*, as_of: datetime.date | None = None) -> FundPosition:
    """The fund's position from the ledger, at the end of ``as_of`` (default: now)."""
    from guarantee_fund.calendar import entity_today

    entity = current_entity()
    today = as_of or entity_today(entity)
    contributions = -_total(_entries("fund_reserve", as_of))
    losses = _total(_entries("fund_losses", as_of))
    reserve = contributions - losses
    advances = open_advances_by_invoice(as_of=as_of)
    open_total = sum(advances.values(), ZERO)
    overdue_total = sum(_overdue(advances, today).values(), ZERO)
    coverage = (reserve / open_total).quantize(Decimal("0.0001")) if open_total else None
    return FundPosition(
        currency=entity.currency,
        contributions=contributions,
        losses=losses,
        reserve=reserve,
        open_advances=open_total,
        overdue_advances=overdue_total,
        coverage=coverage,
    )


def client_open_advances(*, client: Client) -> Decimal:
    """The fund's open advances on the client's invoices."""
    from invoicing.models import Invoice

    advances = open_advances_by_invoice()
    if not advances:
        return ZERO
    ids = Invoice.objects.filter(client=client, pk__in=list(advances)).values_list("pk", flat=True)
    return sum((advances[pk] for pk in ids), ZERO)


def open_advances_by_client(
    *, as_of: datetime.date | None = None
) -> list[tuple[Client, Decimal, Decimal]]:
    """(client, open advances, of which overdue) for every client with an advance open,
    largest first."""
    from guarantee_fund.calendar import entity_today
    from invoicing.models import Invoice

    advances = open_advances_by_invoice()
    if not advances:
        return []
    today = as_of or entity_today(current_entity())
    overdue = _overdue(advances, today)
    per_client: dict[int, list[Decimal]] = {}
    for pk, client_id in Invoice.objects.filter(pk__in=list(advances)).values_list(
        "pk", "client_id"
    ):
        totals = per_client.setdefault(client_id, [ZERO, ZERO])
        totals[0] += advances[pk]
        totals[1] += overdue.get(pk, ZERO)
    clients = Client.objects.in_bulk(list(per_client))
    rows = [(clients[pk], totals[0], totals[1]) for pk, totals in per_client.items()]
    rows.sort(key=lambda row: (-row[1], row[0].pk))
    return rows


def payouts_of(*, member: Member) -> QuerySet[Payout]:
    """The member's payouts, latest due first, with what they show: the invoice, the
    contract, the payslip, and ``not_guaranteed_reason`` (in the member's language) when the
    fund does not guarantee it."""
    return (
        Payout.objects.filter(member=member)
        .select_related("invoice", "contract", "payslip", "client")
        .order_by("-due_on", "-pk")
    )


def payouts_awaiting_approval() -> QuerySet[Payout]:
    """Advances above their client's exposure limit, waiting for an advisor: oldest due first."""
    return (
        Payout.objects.filter(state=Payout.State.AWAITING_APPROVAL)
        .select_related("invoice", "contract", "member", "client")
        .order_by("due_on", "pk")
    )
