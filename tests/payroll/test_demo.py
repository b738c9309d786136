"""The demo data of ``make run`` includes a payroll: paid runs, this month's, smoothing."""

from __future__ import annotations

from decimal import Decimal

from members.services import entity_today
from payroll.models import PermanentContract, SalaryRun
from smart_coop.demo import demo_populate
from smart_coop.ledger.selectors import books_balance
from smart_coop.tenancy.models import Entity


def test_the_demo_pays_past_months_and_smooths_from_next_month(in_be: Entity) -> None:
    demo_populate(in_be)

    this_month = entity_today(in_be).replace(day=1)
    runs = {run.period: run for run in SalaryRun.objects.all()}
    assert runs[this_month].state == SalaryRun.State.CALCULATED
    past = [run for period, run in runs.items() if period < this_month]
    assert len(past) >= 3
    assert {run.state for run in past} == {SalaryRun.State.PAID}
    # The demo's past work was declared late, so the fund did not guarantee it: the run pays
    # the one invoice its client paid in full; the others wait for their clients.
    assert sum(run.payslips.count() for run in runs.values()) == 1
    (smoothed,) = PermanentContract.objects.all()
    assert smoothed.first_month > this_month
    # 12.83 x 164.67 = 2112.72, rounded up to the next hundred
    assert smoothed.monthly_gross == Decimal("2200.00")
    assert set(books_balance().values()) == {Decimal("0.00")}
