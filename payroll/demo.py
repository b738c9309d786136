"""Demo payroll for ``make run``: the past months' runs approved and paid, this month's run
calculated, and a permanent contract with salary smoothing from next month."""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, Decimal

from members.models import Member
from payroll.models import SalaryRun
from payroll.parameters import parameters_in_force, payroll_category
from payroll.services import (
    next_month,
    salary_run_approve,
    salary_run_calculate,
    salary_run_mark_paid,
    salary_run_open,
)
from payroll.smoothing import permanent_contract_agree
from smart_coop.accounts.models import User
from smart_coop.tenancy.models import Entity


def demo_payroll(entity: Entity, *, member: Member, advisor: User, today: datetime.date) -> None:
    """Runs from three months back to this month; the member smoothed from next month on."""
    period = (today.replace(day=1) - datetime.timedelta(days=80)).replace(day=1)
    this_month = today.replace(day=1)
    while period <= this_month:
        run = salary_run_open(period=period, actor=None)
        if run.state in (SalaryRun.State.DRAFT, SalaryRun.State.CALCULATED):
            run = salary_run_calculate(run=run, actor=None)
        if period < this_month and run.state == SalaryRun.State.CALCULATED:
            run = salary_run_approve(run=run, actor=None)
            salary_run_mark_paid(run=run, actor=None, paid_on=next_month(period))
        period = next_month(period)
    # A monthly gross at the minimum for 164.67 hours, rounded up to the next hundred.
    params = parameters_in_force(entity=entity, category=payroll_category(member), on=today)
    minimum = params.minimum_hourly_gross * Decimal("164.67")
    gross = (minimum / 100).to_integral_value(rounding=ROUND_CEILING) * 100
    permanent_contract_agree(
        member=member,
        monthly_gross=gross,
        first_month=next_month(this_month),
        actor=advisor,
        note="Demo: salary smoothing agreed with the advisor.",
    )
