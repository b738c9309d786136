"""Salary runs for fixed-term contracts: open, calculate, approve (booked), mark paid.

A salary is due once the contract's work is done: a run for a month gathers every issued
invoice whose contract's last work day falls in that month or earlier and that has no payslip
yet. A payslip is computed once, with the parameters version in force on the last work day,
and never recomputed: a recalculation only adds the salaries still missing, and a correction
is a new payslip in a later run.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, Exists, OuterRef, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from invoicing.models import Invoice
from payroll.conversion import Salary, salary_from_invoice
from payroll.models import Category, PayrollParameters, Payslip, PayslipLine, SalaryRun
from payroll.parameters import parameters_in_force
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.services import Leg, accounts_get, budget_accounts_get, transaction_post
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

ZERO = Decimal(0)
# Invoices whose salary is not (or no longer) due: not issued, or cancelled by a credit note.
_NOT_DUE = (Invoice.State.DRAFT, Invoice.State.CREDITED, Invoice.State.WRITTEN_OFF)


def _next_month(period: datetime.date) -> datetime.date:
    return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _transition(run: SalaryRun, to_state: str) -> None:
    if to_state not in SalaryRun.TRANSITIONS[run.state]:
        raise DomainError(
            _("A salary run cannot go from %(from)s to %(to)s.")
            % {"from": run.state, "to": to_state},
            field="state",
            code="illegal_transition",
        )


def _locked(run: SalaryRun) -> SalaryRun:
    return SalaryRun.objects.select_for_update().get(pk=run.pk)


@transaction.atomic
def salary_run_open(*, period: datetime.date, actor: User | None) -> SalaryRun:
    """The run of the month of ``period`` (any day of it), created as a draft if there is none.

    Idempotent: a second call returns the first run, whatever its state.
    """
    run, _created = SalaryRun.objects.get_or_create(
        period=period.replace(day=1), defaults={"created_by": actor}
    )
    return run


@dataclass(frozen=True)
class _Due:
    invoice: Invoice
    last_day: datetime.date
    expenses: Decimal


def _due(run: SalaryRun) -> list[_Due]:
    invoices = (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            contract__isnull=False,
            contract__last_day__lt=_next_month(run.period),
        )
        .exclude(state__in=_NOT_DUE)
        .exclude(Exists(Payslip.objects.filter(invoice=OuterRef("pk"))))
        .annotate(
            expenses_total=Coalesce(
                Sum("contract__expenses__amount"),
                Value(ZERO),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .select_related("contract")
        .order_by("pk")
    )
    return [
        _Due(invoice, invoice.contract.last_day, invoice.expenses_total)  # type: ignore[union-attr]
        for invoice in invoices
    ]


def _lines(
    salary: Salary, params: PayrollParameters
) -> list[tuple[str, Decimal | None, Decimal | None, Decimal]]:
    """(code, base, rate, amount) for every step of the conversion, in its order."""
    code = PayslipLine.Code
    return [
        (code.INVOICED, None, None, salary.invoiced),
        (code.FEE, salary.invoiced, params.fee_percent, salary.fee),
        (code.GUARANTEE, salary.invoiced, params.guarantee_percent, salary.guarantee_contribution),
        (code.EXPENSES, None, None, salary.expenses),
        (code.BUDGET, None, None, salary.budget),
        (code.GROSS, None, None, salary.gross),
        (
            code.EMPLOYER,
            salary.contribution_base,
            params.employer_percent,
            salary.employer_contributions,
        ),
        (
            code.EMPLOYEE,
            salary.contribution_base,
            params.employee_percent,
            salary.employee_contributions,
        ),
        (code.TAXABLE, None, None, salary.taxable),
        (code.WITHHOLDING, salary.taxable, params.withholding_percent, salary.withholding),
        (code.NET, None, None, salary.net),
        (code.REMAINDER, None, None, salary.budget_remainder),
    ]


@transaction.atomic
def salary_run_calculate(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Compute the payslips due in the run's period that no run holds yet.

    Effects, in order: locks the run (draft or calculated, else DomainError); finds the issued
    invoices due (contract's last work day in the period or earlier, no payslip); converts each
    with the parameters in force on its last work day; creates the payslips and their lines in
    bulk; marks the run calculated. Existing payslips are never touched; calling it again adds
    only what became due since (the unique invoice constraint guards against a concurrent run).
    """
    run = _locked(run)
    _transition(run, SalaryRun.State.CALCULATED)
    entity = current_entity()
    params_on: dict[datetime.date, PayrollParameters] = {}
    computed: list[tuple[_Due, Salary, PayrollParameters]] = []
    for due in _due(run):
        if due.last_day not in params_on:
            params_on[due.last_day] = parameters_in_force(
                entity=entity, category=Category.STANDARD, on=due.last_day
            )
        params = params_on[due.last_day]
        salary = salary_from_invoice(
            entity=entity,
            invoiced=due.invoice.net_total,
            expenses=due.expenses,
            on=due.last_day,
            parameters=params,
        )
        computed.append((due, salary, params))
    payslips = Payslip.objects.bulk_create(
        Payslip(
            run=run,
            member_id=due.invoice.member_id,
            invoice=due.invoice,
            parameters=params,
            budget=salary.budget,
            gross=salary.gross,
            employer_contributions=salary.employer_contributions,
            employee_contributions=salary.employee_contributions,
            taxable=salary.taxable,
            withholding=salary.withholding,
            net=salary.net,
            expenses=salary.expenses,
            budget_remainder=salary.budget_remainder,
            currency=salary.currency,
            is_estimate=salary.is_estimate,
        )
        for due, salary, params in computed
    )
    labels = dict(PayslipLine.Code.choices)
    PayslipLine.objects.bulk_create(
        PayslipLine(
            payslip=payslip,
            position=position,
            code=code,
            label=str(labels[code]),
            base=base,
            rate=rate,
            amount=amount,
        )
        for payslip, (_due_row, salary, params) in zip(payslips, computed, strict=True)
        for position, (code, base, rate, amount) in enumerate(_lines(salary, params), start=1)
    )
    run.state = SalaryRun.State.CALCULATED
    run.calculated_at = timezone.now()
    run.save(update_fields=["state", "calculated_at", "updated_at"])
    return run


@dataclass(frozen=True)
class RunTotals:
    payslips: int
    budget: Decimal
    gross: Decimal
    employer: Decimal
    employee: Decimal
    withholding: Decimal
    net: Decimal
    remainder: Decimal


def salary_run_totals(*, run: SalaryRun) -> RunTotals:
    zero = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
    sums = run.payslips.aggregate(
        **{
            name: Coalesce(Sum(field), zero)
            for name, field in (
                ("gross", "gross"),
                ("employer", "employer_contributions"),
                ("employee", "employee_contributions"),
                ("withholding", "withholding"),
                ("net", "net"),
                ("remainder", "budget_remainder"),
            )
        }
    )
    return RunTotals(
        payslips=run.payslips.count(),
        # What leaves the members' budgets (the conversion's budget when it is positive).
        budget=sums["gross"] + sums["employer"] + sums["remainder"],
        **sums,
    )


def _legs(run: SalaryRun, entity: Entity) -> list[Leg]:
    currency = entity.currency
    payslips = list(run.payslips.select_related("member__user"))
    accounts = accounts_get(
        ["salaries_payable", "social_payable", "withholding_payable", "budget_remainders"],
        currency=currency,
    )
    budgets = budget_accounts_get(
        {p.member_id: p.member.user.get_full_name() or str(p.member_id) for p in payslips},
        currency=currency,
    )
    per_member: dict[int, Decimal] = defaultdict(lambda: ZERO)
    net = social = withholding = remainder = ZERO
    for payslip in payslips:
        per_member[payslip.member_id] += (
            payslip.gross + payslip.employer_contributions + payslip.budget_remainder
        )
        net += payslip.net
        social += payslip.employee_contributions + payslip.employer_contributions
        withholding += payslip.withholding
        remainder += payslip.budget_remainder
    reference = f"salary_run:{run.pk}"
    return [
        *(Leg(budgets[member_id], amount, reference) for member_id, amount in per_member.items()),
        Leg(accounts["salaries_payable"], -net, reference),
        Leg(accounts["social_payable"], -social, reference),
        Leg(accounts["withholding_payable"], -withholding, reference),
        Leg(accounts["budget_remainders"], -remainder, reference),
    ]


@transaction.atomic
def salary_run_approve(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Approve a calculated run and book it: one ledger transaction for the whole run.

    ``actor`` None is the system (the ``run_payroll`` command, run by an operator); a user
    needs ``payroll.approve_salaryrun``. Effects, in order: checks the permission; locks the
    run (calculated, else DomainError; already approved: returned as is); books, under the key
    ``salary_run:<id>:approve``, each member's budget account debited by its payslips' gross +
    employer contributions + remainder, against salaries payable (net), social contributions
    payable (employee + employer), withholding tax payable and budget remainders; marks the run
    approved by ``actor``.
    """
    if actor is not None and not actor.has_perm("payroll.approve_salaryrun"):
        raise DomainError(_("You may not approve salary runs."), code="permission_denied")
    run = _locked(run)
    if run.state == SalaryRun.State.APPROVED:
        return run
    if run.state != SalaryRun.State.CALCULATED:
        _transition(run, SalaryRun.State.APPROVED)
    entity = current_entity()
    transaction_post(
        key=f"salary_run:{run.pk}:approve",
        kind="salary_run",
        description=f"Salary run {run.period:%Y-%m}",
        occurred_on=_next_month(run.period) - datetime.timedelta(days=1),
        legs=_legs(run, entity),
        actor=actor,
    )
    run.state = SalaryRun.State.APPROVED
    run.approved_by = actor
    run.approved_at = timezone.now()
    run.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    return run


@transaction.atomic
def salary_run_mark_paid(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Record that the net salaries of an approved run were paid.

    Effects: locks the run (approved, else DomainError; already paid: returned as is); marks
    it paid. The bank side is booked where the payment is made (the SEPA transfer's step).
    """
    if actor is not None and not actor.has_perm("payroll.approve_salaryrun"):
        raise DomainError(_("You may not pay salary runs."), code="permission_denied")
    run = _locked(run)
    if run.state == SalaryRun.State.PAID:
        return run
    _transition(run, SalaryRun.State.PAID)
    run.state = SalaryRun.State.PAID
    run.paid_at = timezone.now()
    run.save(update_fields=["state", "paid_at", "updated_at"])
    return run
