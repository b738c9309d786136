"""What a member will earn from a price: the one estimator used by the contract form.

The conversion runs: amount invoiced excl. VAT -> the coop's fee -> reimbursable expenses (paid
back untaxed) -> salary budget (= gross + employer contributions) -> gross -> employee
contributions -> taxable -> withholding tax -> net. Each step is rounded half-up to the
currency's minor unit (``smart_coop.money.quantize``); the employer contributions are the
budget minus the gross, so the budget is used to the cent.

Until the payroll parameters (dated, per employment form) refine it, it reads the entity's
rates, and the withholding tax is a flat approximation: the result says it is an estimate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from smart_coop.money import percent_of, quantize
from smart_coop.tenancy.models import Entity, Rate

ZERO = Decimal(0)


@dataclass(frozen=True)
class SalaryEstimate:
    currency: str
    invoiced: Decimal
    fee: Decimal
    expenses: Decimal
    budget: Decimal
    employer_contributions: Decimal
    gross: Decimal
    employee_contributions: Decimal
    taxable: Decimal
    withholding: Decimal
    net: Decimal
    fee_percent: Decimal
    is_estimate: bool = True

    def as_dict(self) -> dict[str, str | bool]:
        return {
            key: (str(value) if isinstance(value, Decimal) else value)
            for key, value in self.__dict__.items()
        }


def salary_estimate(
    *, entity: Entity, invoiced: Decimal, expenses: Decimal, on: datetime.date
) -> SalaryEstimate:
    """The estimated salary for ``invoiced`` (excl. VAT) with ``expenses`` reimbursed."""
    currency = entity.currency
    invoiced = quantize(invoiced, currency)
    expenses = quantize(expenses, currency)
    fee_percent = entity.rate(Rate.Kind.FEE, on)
    fee = percent_of(invoiced, fee_percent, currency)
    budget = invoiced - fee - expenses
    if budget <= ZERO:
        return SalaryEstimate(
            currency, invoiced, fee, expenses, budget, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO,
            fee_percent,
        )  # fmt: skip
    employer_percent = entity.rate(Rate.Kind.EMPLOYER_CONTRIBUTION, on)
    gross = quantize(budget * 100 / (100 + employer_percent), currency)
    employer = budget - gross
    employee = percent_of(gross, entity.rate(Rate.Kind.EMPLOYEE_CONTRIBUTION, on), currency)
    taxable = gross - employee
    withholding = percent_of(taxable, entity.rate(Rate.Kind.WITHHOLDING_ESTIMATE, on), currency)
    return SalaryEstimate(
        currency=currency,
        invoiced=invoiced,
        fee=fee,
        expenses=expenses,
        budget=budget,
        employer_contributions=employer,
        gross=gross,
        employee_contributions=employee,
        taxable=taxable,
        withholding=withholding,
        net=taxable - withholding,
        fee_percent=fee_percent,
    )
