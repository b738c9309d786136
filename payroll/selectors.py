"""Reads for the member's payroll pages: their payslips, yearly totals, activity budget account.

A member sees a payslip once an accountant approved its run (from then on it is final and
booked), or as soon as the guarantee fund paid it out on its own. Everything here is read
from the stored payslips and the books; nothing is computed again.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, ExtractYear
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from invoicing.models import Invoice
from members.models import Member
from payroll.models import Payslip, SalaryRun
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Account, Entry
from smart_coop.tenancy.current import current_entity

ZERO = Decimal("0.00")
# The runs whose payslips are final and shown to their members.
SHOWN_STATES = (SalaryRun.State.APPROVED, SalaryRun.State.PAID, SalaryRun.State.EXPORTED)


def payslips_of(*, member: Member) -> QuerySet[Payslip]:
    """The member's payslips they may see, newest period first, with their run and source."""
    return (
        Payslip.objects.filter(member=member)
        .filter(Q(run__state__in=SHOWN_STATES) | Q(paid_out=True))
        .select_related("run", "invoice", "invoice__contract", "corrects", "corrects__run")
        .order_by("-run__period", "-pk")
    )


def payslip_of(*, member: Member, pk: int) -> Payslip:
    """One of the member's payslips, with its lines; Http404 for any other payslip."""
    return get_object_or_404(payslips_of(member=member).prefetch_related("lines"), pk=pk)


def payslip_last(*, member: Member) -> Payslip | None:
    """The member's latest payslip (the dashboard's)."""
    return payslips_of(member=member).first()


def years_with_payslips(*, member: Member) -> list[int]:
    """The calendar years of the member's payslips' periods, newest first."""
    return list(
        payslips_of(member=member)
        .annotate(year=ExtractYear("run__period"))
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class YearTotals:
    year: int
    currency: str
    count: int
    gross: Decimal
    employee_contributions: Decimal
    taxable: Decimal
    withholding: Decimal
    net: Decimal
    expenses: Decimal

    @property
    def to_pay(self) -> Decimal:
        return self.net + self.expenses


def yearly_totals(*, member: Member, year: int) -> YearTotals:
    """The sums of the member's payslips whose run period falls in ``year`` (the figures of
    the tax return, by the payslips' periods, not by the day the money was paid).

    Corrections count in the year of their own run, with their sign.
    """
    zero = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
    rows = list(
        payslips_of(member=member)
        .filter(run__period__year=year)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("pk"),
            gross=Coalesce(Sum("gross"), zero),
            employee_contributions=Coalesce(Sum("employee_contributions"), zero),
            taxable=Coalesce(Sum("taxable"), zero),
            withholding=Coalesce(Sum("withholding"), zero),
            net=Coalesce(Sum("net"), zero),
            expenses=Coalesce(Sum("expenses"), zero),
        )
    )
    if len(rows) > 1:
        raise DomainError(
            _("Payslips in several currencies cannot be added up."), code="mixed_currencies"
        )
    if not rows:
        return YearTotals(year, current_entity().currency, 0, *(ZERO,) * 6)
    row = rows[0]
    return YearTotals(
        year=year,
        currency=row["currency"],
        count=row["count"],
        gross=row["gross"],
        employee_contributions=row["employee_contributions"],
        taxable=row["taxable"],
        withholding=row["withholding"],
        net=row["net"],
        expenses=row["expenses"],
    )


def budget_account_of(*, member: Member) -> Account | None:
    """The member's activity budget account, if their invoices opened one."""
    return Account.objects.filter(code=f"budget:{member.pk}").first()


# The transactions that move a budget account, as the member reads them.
_KIND_LABELS: dict[str, StrOrPromise] = {
    "invoice": gettext_lazy("Invoice"),
    "credit_note": gettext_lazy("Credit note"),
    "salary_run": gettext_lazy("Salary run"),
    "fund_contribution": gettext_lazy("Guarantee fund contribution"),
    "fund_contribution_reversal": gettext_lazy("Guarantee fund contribution credited back"),
    "fund_payout": gettext_lazy("Salary paid out by the guarantee fund"),
}
# Kinds whose stored description is the document's number and the client's name (no words to
# translate): shown after the label. Others name the run's period or the invoice's number.
_NUMBERED = frozenset({"invoice", "credit_note"})


def _referenced(entries: Sequence[Entry]) -> dict[str, str]:
    """What each entry's reference names, in the member's words: "invoice:12" -> its number,
    "salary_run:3" -> its period (YYYY-MM)."""
    ids: dict[str, set[int]] = {"invoice": set(), "salary_run": set()}
    for entry in entries:
        prefix, _sep, pk = entry.reference.partition(":")
        if prefix in ids and pk.isdigit():
            ids[prefix].add(int(pk))
    names = {
        f"invoice:{pk}": str(number)
        for pk, number in Invoice.objects.filter(pk__in=ids["invoice"]).values_list("pk", "number")
    }
    names.update(
        (f"salary_run:{pk}", f"{period:%Y-%m}")
        for pk, period in SalaryRun.objects.filter(pk__in=ids["salary_run"]).values_list(
            "pk", "period"
        )
    )
    return names


@dataclass(frozen=True)
class Movement:
    date: datetime.date
    description: str
    money_in: Decimal | None
    money_out: Decimal | None
    balance: Decimal
    reference: str


def budget_movements(*, member: Member, limit: int = 50) -> list[Movement]:
    """The latest ``limit`` entries of the member's activity budget account, newest first,
    each with the balance after it. A credit (the budget of an invoice) is money in, a debit
    (salaries paid from it) money out; the balance counts every entry, also older ones."""
    account = budget_account_of(member=member)
    if account is None:
        return []
    order = (F("transaction__occurred_on").asc(), F("transaction_id").asc(), F("pk").asc())
    entries = (
        Entry.objects.filter(account=account)
        .select_related("transaction")
        .annotate(running=Window(Sum("amount"), order_by=order))
        .order_by("-transaction__occurred_on", "-transaction_id", "-pk")[:limit]
    )
    rows = list(entries)
    names = _referenced(rows)
    movements = []
    for entry in rows:
        kind = entry.transaction.kind
        label = _KIND_LABELS.get(kind)
        if label is None:
            description = entry.transaction.description
        elif kind in _NUMBERED:
            description = f"{label} {entry.transaction.description}"
        else:
            description = f"{label} {names.get(entry.reference, '')}".strip()
        movements.append(
            Movement(
                date=entry.transaction.occurred_on,
                description=description,
                money_in=-entry.amount if entry.amount < 0 else None,
                money_out=entry.amount if entry.amount > 0 else None,
                balance=-entry.running,
                reference=entry.reference,
            )
        )
    return movements
