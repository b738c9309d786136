"""What a member will earn from a price: the estimate shown by the contract form.

It is ``payroll.conversion.salary_from_invoice`` (the one conversion, with its rounding rule)
in the member's payroll category, in the shape the portal, the API and the contract checks
read. It is an estimate: the contract is not signed yet, and some parameters are documented
approximations.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from payroll.conversion import salary_from_invoice
from payroll.models import Category
from smart_coop.tenancy.models import Entity

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
    guarantee_contribution: Decimal = ZERO
    budget_remainder: Decimal = ZERO

    def as_dict(self) -> dict[str, str | bool]:
        return {
            key: (str(value) if isinstance(value, Decimal) else value)
            for key, value in self.__dict__.items()
        }


def salary_estimate(
    *,
    entity: Entity,
    invoiced: Decimal,
    expenses: Decimal,
    on: datetime.date,
    category: str = Category.STANDARD,
) -> SalaryEstimate:
    """The estimated salary for ``invoiced`` (excl. VAT) with ``expenses`` reimbursed, in the
    payroll ``category`` of the member (``payroll.parameters.payroll_category``)."""
    salary = salary_from_invoice(
        entity=entity, invoiced=invoiced, expenses=expenses, on=on, category=category
    )
    return SalaryEstimate(
        currency=salary.currency,
        invoiced=salary.invoiced,
        fee=salary.fee,
        expenses=salary.expenses,
        budget=salary.budget,
        employer_contributions=salary.employer_contributions,
        gross=salary.gross,
        employee_contributions=salary.employee_contributions,
        taxable=salary.taxable,
        withholding=salary.withholding,
        net=salary.net,
        fee_percent=salary.fee_percent,
        guarantee_contribution=salary.guarantee_contribution,
        budget_remainder=salary.budget_remainder,
    )
