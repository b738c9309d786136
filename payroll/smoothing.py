"""The permanent contract with salary smoothing: agreeing it, ending it, and watching the budget.

A member under a permanent contract is paid the same gross every month (``services``), from
their activity budget account, which each invoice fills when it is issued. The advisor needs
to know in time when the budget will not carry the salary: ``budget_projection`` adds to the
balance the budgets of the contracts declared but not invoiced yet, and takes off each coming
month's salary cost; ``smoothing_check`` (daily) alerts the member's advisor once when the
projection turns negative within six months, and again only after it was positive in between.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils.translation import gettext as _

from invoicing.models import Invoice
from members.models import Contract, Member
from members.services import entity_today
from payroll.conversion import salary_from_gross, salary_from_invoice
from payroll.models import Payslip, PermanentContract, ReimbursedInvoice, SalaryRun
from payroll.parameters import parameters_in_force, payroll_category
from payroll.services import (
    OPEN_STATES,
    _expenses_total,
    _issued_invoices_until,
    _under_permanent_contract,
    next_month,
)
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Account
from smart_coop.ledger.selectors import account_balance
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity

ZERO = Decimal(0)
PROJECTION_MONTHS = 6
# A payslip's amounts have 12 digits before the point: the budget (gross + employer
# contributions on up to 9.99 x the gross) of a smaller gross always fits.
MAX_MONTHLY_GROSS = Decimal("10000000000")
# Contracts that will be invoiced unless something goes wrong: what the projection counts on.
_PIPELINE_STATES = (Contract.State.SUBMITTED, Contract.State.APPROVED)


@dataclass(frozen=True)
class ProjectedMonth:
    month: datetime.date
    inflow: Decimal
    outflow: Decimal
    balance: Decimal

    @property
    def negative(self) -> bool:
        return self.balance < ZERO


@dataclass(frozen=True)
class Projection:
    contract: PermanentContract | None
    currency: str
    # Available in the activity budget today (what the invoices brought, less what was paid).
    balance: Decimal
    months: list[ProjectedMonth]

    @property
    def first_negative(self) -> datetime.date | None:
        return next((month.month for month in self.months if month.negative), None)


def _today() -> datetime.date:
    return entity_today(current_entity())


def _expenses_to_reimburse(member: Member, end: datetime.date) -> Decimal:
    """The expenses of the member's issued invoices of a permanent contract's months that no
    monthly payslip reimbursed yet: in the balance now, out of it with the next payslip."""
    total = (
        _issued_invoices_until(end)
        .filter(member=member)
        .filter(_under_permanent_contract())
        .exclude(Exists(ReimbursedInvoice.objects.filter(invoice=OuterRef("pk"))))
        .annotate(expenses_total=_expenses_total())
        .aggregate(total=Sum("expenses_total"))["total"]
    )
    return total or ZERO


def budget_available(*, member: Member) -> Decimal:
    """What the member's activity budget account holds (credits are money in)."""
    account = Account.objects.filter(code=f"budget:{member.pk}").first()
    return ZERO if account is None else -account_balance(account)


def _pipeline(
    member: Member, start: datetime.date, end: datetime.date
) -> dict[datetime.date, Decimal]:
    """Per month, the salary budget of the member's contracts not invoiced yet, in the month
    they will be invoiced (the day after the work ends; the current month when overdue)."""
    entity = current_entity()
    category = payroll_category(member)
    contracts = (
        Contract.objects.filter(member=member, state__in=_PIPELINE_STATES, last_day__lt=end)
        .exclude(
            Exists(
                Invoice.objects.filter(
                    contract=OuterRef("pk"), kind=Invoice.Kind.INVOICE, number__isnull=False
                )
            )
        )
        .annotate(expenses_total=Sum("expenses__amount"))
        .order_by("last_day")
    )
    inflows: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    for contract in contracts:
        invoiced_on = contract.last_day + datetime.timedelta(days=1)
        month = max(invoiced_on.replace(day=1), start)
        salary = salary_from_invoice(
            entity=entity,
            invoiced=contract.price,
            expenses=contract.expenses_total or ZERO,
            on=contract.last_day,
            category=category,
        )
        # What stays in the budget account for salaries: the expenses leave it again.
        inflows[month] += max(salary.budget, ZERO)
    return inflows


def monthly_cost(*, contract: PermanentContract, month: datetime.date) -> Decimal:
    """What one month of the contract takes from the budget: gross + employer contributions."""
    params = parameters_in_force(
        entity=current_entity(),
        category=contract.category,
        on=next_month(month) - datetime.timedelta(days=1),
    )
    salary = salary_from_gross(
        currency=contract.currency, gross=contract.monthly_gross, expenses=ZERO, parameters=params
    )
    return salary.budget


def _booked_months(contract: PermanentContract) -> set[datetime.date]:
    """The months whose salary is already out of the budget (its run was approved)."""
    return set(
        Payslip.objects.filter(permanent_contract=contract, kind=Payslip.Kind.MONTHLY)
        .exclude(run__state__in=OPEN_STATES)
        .values_list("run__period", flat=True)
    )


def _covers(contract: PermanentContract, month: datetime.date) -> bool:
    return contract.first_month <= month and (
        contract.last_month is None or contract.last_month >= month
    )


def member_permanent_contract(*, member: Member, month: datetime.date) -> PermanentContract | None:
    """The member's permanent contract covering ``month`` (or starting after it), if any."""
    return (
        PermanentContract.objects.filter(member=member)
        .filter(Q(last_month__isnull=True) | Q(last_month__gte=month.replace(day=1)))
        .order_by("first_month")
        .first()
    )


def budget_projection(
    *, member: Member, today: datetime.date | None = None, months: int = PROJECTION_MONTHS
) -> Projection:
    """The budget account's balance now and at the end of each of the next ``months`` months
    (the current one first): plus the budgets of contracts declared but not invoiced, less
    each month's salary cost not yet booked (a past month's, and the expenses still to
    reimburse, in the current month)."""
    today = today or _today()
    start = today.replace(day=1)
    horizon = [start]
    for _month in range(months - 1):
        horizon.append(next_month(horizon[-1]))
    end = next_month(horizon[-1])
    entity = current_entity()
    # Also the contracts ended before this month: a past month's salary whose run is not
    # approved yet is not out of the balance, and leaves it this month.
    contracts = list(PermanentContract.objects.filter(member=member, first_month__lt=end))
    booked = {contract.pk: _booked_months(contract) for contract in contracts}
    overdue = ZERO
    for contract in contracts:
        past = contract.first_month
        while past < start and _covers(contract, past):
            if past not in booked[contract.pk]:
                overdue += monthly_cost(contract=contract, month=past)
            past = next_month(past)
    overdue += _expenses_to_reimburse(member, end)
    inflows = _pipeline(member, start, end)
    balance = budget_available(member=member)
    running = balance
    projected = []
    for month in horizon:
        outflow = overdue if month == start else ZERO
        for contract in contracts:
            if _covers(contract, month) and month not in booked[contract.pk]:
                outflow += monthly_cost(contract=contract, month=month)
        running = running + inflows[month] - outflow
        projected.append(ProjectedMonth(month, inflows[month], outflow, running))
    return Projection(
        contract=member_permanent_contract(member=member, month=start),
        currency=entity.currency,
        balance=balance,
        months=projected,
    )


def _check_actor(actor: User, permission: str) -> None:
    if not actor.has_perm(permission):
        raise DomainError(
            _("Only an advisor may agree or end a permanent contract."), code="permission_denied"
        )


def _month(value: datetime.date, field: str) -> datetime.date:
    month = value.replace(day=1)
    run = SalaryRun.objects.filter(period=month).first()
    if run is not None and run.state not in OPEN_STATES:
        raise DomainError(
            _("The salaries of %(month)s are approved already: choose a later month.")
            % {"month": f"{month:%Y-%m}"},
            field=field,
        )
    return month


def _last_paid_month(contract: PermanentContract) -> datetime.date | None:
    """The latest month a payslip of the contract pays (its run open or not)."""
    return (
        Payslip.objects.filter(permanent_contract=contract, kind=Payslip.Kind.MONTHLY)
        .order_by("-run__period")
        .values_list("run__period", flat=True)
        .first()
    )


@transaction.atomic
def permanent_contract_agree(
    *,
    member: Member,
    monthly_gross: Decimal,
    first_month: datetime.date,
    actor: User,
    hours_per_month: Decimal | None = None,
    note: str = "",
) -> PermanentContract:
    """Agree a permanent contract paying ``monthly_gross`` from ``first_month`` on.

    Effects, in order: checks the permission (``payroll.add_permanentcontract``); locks the
    member; checks the member is active, the month is not paid yet, and the gross is at least
    the minimum pay for the hours (the parameters of the member's category); ends the member's
    open contract the month before when it started earlier (a new gross is a new contract;
    refused when that contract has a payslip for the new first month or later), refuses an
    overlap otherwise; creates the contract in the member's payroll category.
    """
    _check_actor(actor, "payroll.add_permanentcontract")
    entity = current_entity()
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state != Member.State.ACTIVE:
        raise DomainError(_("The member file is not active."), field="member")
    first = _month(first_month, "first_month")
    gross = quantize(monthly_gross, entity.currency)
    if gross <= ZERO:
        raise DomainError(_("The monthly gross must be more than zero."), field="monthly_gross")
    if gross >= MAX_MONTHLY_GROSS:
        raise DomainError(_("The monthly gross is too large for a payslip."), field="monthly_gross")
    hours = hours_per_month if hours_per_month is not None else Decimal("164.67")
    if hours <= ZERO or hours > Decimal(744):
        raise DomainError(_("Give the hours worked per month."), field="hours_per_month")
    category = payroll_category(member)
    params = parameters_in_force(entity=entity, category=category, on=first)
    minimum = quantize(params.minimum_hourly_gross * hours, entity.currency)
    if gross < minimum:
        raise DomainError(
            _("%(gross)s is under the minimum pay for %(hours)s hours: %(minimum)s.")
            % {"gross": gross, "hours": hours, "minimum": minimum},
            field="monthly_gross",
        )
    later = PermanentContract.objects.filter(member=member).filter(
        Q(first_month__gte=first) | Q(last_month__gte=first)
    )
    current = (
        PermanentContract.objects.filter(member=member, last_month__isnull=True)
        .exclude(first_month__gte=first)
        .first()
    )
    if current is not None:
        later = later.exclude(pk=current.pk)
    if later.exists():
        raise DomainError(
            _("The member already has a permanent contract for these months."),
            field="first_month",
        )
    if current is not None:
        # Its month would be paid twice: by the payslip it has and by the new contract's.
        paid = _last_paid_month(current)
        if paid is not None and paid >= first:
            raise DomainError(
                _("%(month)s is paid already: the new contract starts after it.")
                % {"month": f"{paid:%Y-%m}"},
                field="first_month",
            )
        previous = (first - datetime.timedelta(days=1)).replace(day=1)
        current.last_month = previous
        current.save(update_fields=["last_month"])
    return PermanentContract.objects.create(
        member=member,
        category=category,
        monthly_gross=gross,
        hours_per_month=hours,
        currency=entity.currency,
        first_month=first,
        agreed_by=actor,
        note=note,
    )


@transaction.atomic
def permanent_contract_end(
    *, contract: PermanentContract, last_month: datetime.date, actor: User
) -> PermanentContract:
    """End a permanent contract after ``last_month`` (its last paid month).

    Effects: checks the permission (``payroll.change_permanentcontract``); locks the contract;
    refuses a last month before its first month or before a month already paid; sets it.
    """
    _check_actor(actor, "payroll.change_permanentcontract")
    contract = PermanentContract.objects.select_for_update().get(pk=contract.pk)
    last = last_month.replace(day=1)
    if last < contract.first_month:
        raise DomainError(_("The last month comes after the first month."), field="last_month")
    paid = _last_paid_month(contract)
    if paid is not None and last < paid:
        raise DomainError(
            _("%(month)s is paid already: the contract ends with it or later.")
            % {"month": f"{paid:%Y-%m}"},
            field="last_month",
        )
    contract.last_month = last
    contract.save(update_fields=["last_month"])
    return contract


def smoothing_check(*, today: datetime.date | None = None) -> list[PermanentContract]:
    """Alert advisors whose members' budget projection turns negative; return those alerted.

    Effects, per member with a permanent contract covering the current month or starting
    within the projection (the contract the member's budget page shows): computes the
    projection; when it turns negative and the advisor was not alerted in this episode, marks
    the contract alerted today and emails the advisor (on commit, by the worker); when it is
    positive again, clears the mark so that the next episode alerts again.
    """
    from payroll.tasks import smoothing_alert_task  # the task module imports this one

    today = today or _today()
    start = today.replace(day=1)
    end = start
    for _month in range(PROJECTION_MONTHS):
        end = next_month(end)
    members = Member.objects.filter(
        Exists(
            PermanentContract.objects.filter(member=OuterRef("pk"), first_month__lt=end).filter(
                Q(last_month__isnull=True) | Q(last_month__gte=start)
            )
        )
    ).order_by("pk")
    alerted = []
    for member in members:
        projection = budget_projection(member=member, today=today)
        contract = projection.contract
        if contract is None:
            continue
        negative = projection.first_negative is not None
        with transaction.atomic():
            locked = PermanentContract.objects.select_for_update().get(pk=contract.pk)
            if negative and locked.alerted_on is None:
                locked.alerted_on = today
                locked.save(update_fields=["alerted_on"])
                transaction.on_commit(
                    partial(smoothing_alert_task.delay, permanent_contract_id=locked.pk)
                )
                alerted.append(locked)
            elif not negative and locked.alerted_on is not None:
                locked.alerted_on = None
                locked.save(update_fields=["alerted_on"])
    return alerted
