"""From the amount invoiced excl. VAT to the net salary, and back: the one conversion.

invoiced -> fee -> guarantee contribution (inside the fee, or on top) -> expenses (reimbursed
untaxed) -> salary budget -> gross + employer contributions (on base_factor x gross) -> employee
contributions (on the same base) -> taxable -> withholding tax -> net.

Rounding rule: every computed line is rounded half-up to the currency's minor unit
(``smart_coop.money.quantize``: cent, whole forint), once; totals are differences or sums of
rounded lines, never rounded again. The gross is the largest amount in minor units whose gross
+ employer contributions (the rounded base_factor x gross, then the rounded rate of it) fit in
the budget; what the budget leaves after that rounding (zero or a few minor units) is
``budget_remainder``, booked to the activity's budget account, never lost:
budget == gross + employer_contributions + budget_remainder.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from payroll.models import Category, PayrollParameters, WithholdingMethod
from payroll.parameters import parameters_in_force
from smart_coop.money import minor_unit, percent_of, quantize
from smart_coop.tenancy.models import Entity

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Salary:
    currency: str
    category: str
    # The parameters row used: a salary is never recomputed with a later version.
    parameters_id: int | None
    invoiced: Decimal
    fee_percent: Decimal
    fee: Decimal
    guarantee_contribution: Decimal
    guarantee_on_top: bool
    expenses: Decimal
    budget: Decimal
    gross: Decimal
    contribution_base: Decimal
    employer_contributions: Decimal
    budget_remainder: Decimal
    employee_contributions: Decimal
    taxable: Decimal
    withholding: Decimal
    net: Decimal
    withholding_method: str
    # Some value used is a documented approximation (unverified source).
    is_estimate: bool


def _withholding(params: PayrollParameters, taxable: Decimal, currency: str) -> Decimal:
    if params.withholding_method == WithholdingMethod.NONE:
        return ZERO
    if params.withholding_method == WithholdingMethod.FLAT:
        assert params.withholding_percent is not None
        return percent_of(taxable, params.withholding_percent, currency)
    return _be_key_formula(params.withholding_scale, taxable, currency)


@dataclass(frozen=True)
class _KeyScale:
    """A key formula scale (strings in the parameters' JSON) read as Decimals."""

    periods: int
    expenses_percent: Decimal
    expenses_max: Decimal
    # (upper bound or None for the last bracket, rate in %)
    brackets: tuple[tuple[Decimal | None, Decimal], ...]
    exemption_reduction: Decimal


# Scales already read, by the id of their JSON dict (checked by identity, so a reused id is
# read again): a month-end run converts 100,000 salaries with a handful of parameter rows.
_SCALES: dict[int, tuple[dict[str, object], _KeyScale]] = {}


def _key_scale(scale: dict[str, object]) -> _KeyScale:
    known = _SCALES.get(id(scale))
    if known is not None and known[0] is scale:
        return known[1]
    brackets = scale["brackets"]
    assert isinstance(brackets, list)
    read = _KeyScale(
        periods=int(str(scale["periods_per_year"])),
        expenses_percent=Decimal(str(scale["expenses_percent"])),
        expenses_max=Decimal(str(scale["expenses_max"])),
        brackets=tuple(
            (None if upper is None else Decimal(upper), Decimal(rate)) for upper, rate in brackets
        ),
        exemption_reduction=Decimal(str(scale["exemption_reduction"])),
    )
    if len(_SCALES) >= 64:  # parameters read afresh by each run: keep the memory bounded
        _SCALES.clear()
    _SCALES[id(scale)] = (scale, read)
    return read


def _be_key_formula(scale: dict[str, object], taxable: Decimal, currency: str) -> Decimal:
    """Annex III AR/CIR 92, single resident without dependants (source in the parameters):
    annual taxable pay -> minus the professional expenses lump sum (capped) -> tax by brackets
    -> minus the reduction for the tax-exempt amount (not below zero) -> divided back by the
    periods. Each step rounded to the cent (Annex III point 12)."""
    read = _key_scale(scale)
    periods = read.periods
    annual = taxable * periods
    expenses = min(percent_of(annual, read.expenses_percent, currency), read.expenses_max)
    net_annual = annual - expenses
    tax, lower = ZERO, ZERO
    for upper, rate in read.brackets:
        top = net_annual if upper is None else min(net_annual, upper)
        if top > lower:
            tax += (top - lower) * rate / 100
        if upper is None or net_annual <= upper:
            break
        lower = upper
    tax = quantize(tax, currency) - read.exemption_reduction
    return quantize(max(tax, ZERO) / periods, currency)


def _employer(params: PayrollParameters, gross: Decimal, currency: str) -> tuple[Decimal, Decimal]:
    base = quantize(gross * params.base_factor, currency)
    return base, percent_of(base, params.employer_percent, currency)


def _convert(
    params: PayrollParameters, currency: str, invoiced: Decimal, expenses: Decimal
) -> Salary:
    # smart_coop.money.quantize and percent_of written out with the unit looked up once: this
    # runs 100,000 times at month end. Same expressions, same rounding (half-up, once a line).
    unit = minor_unit(currency)
    invoiced, expenses = quantize(invoiced, currency), quantize(expenses, currency)
    fee = (invoiced * params.fee_percent / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)
    guarantee = (invoiced * params.guarantee_percent / HUNDRED).quantize(
        unit, rounding=ROUND_HALF_UP
    )
    budget = invoiced - fee - (guarantee if params.guarantee_on_top else ZERO) - expenses
    zero = ZERO.quantize(unit)
    gross = base = employer = employee = withholding = zero
    if budget > ZERO:
        base_factor, employer_percent = params.base_factor, params.employer_percent

        def employer_of(gross: Decimal) -> tuple[Decimal, Decimal]:  # _employer
            base = (gross * base_factor).quantize(unit, rounding=ROUND_HALF_UP)
            return base, (base * employer_percent / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)

        rate = employer_percent * base_factor / 100
        gross = (budget / (1 + rate)).quantize(unit, rounding=ROUND_DOWN)
        base, employer = employer_of(gross)
        # Half-up rounding of the contributions can move the fit by a minor unit either way.
        while gross + unit + employer_of(gross + unit)[1] <= budget:
            gross += unit
            base, employer = employer_of(gross)
        while gross > zero and gross + employer > budget:
            gross -= unit
            base, employer = employer_of(gross)
        employee = (base * params.employee_percent / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)
    taxable = gross - employee
    if taxable > ZERO:
        withholding = _withholding(params, taxable, currency)
    return Salary(
        currency=currency,
        category=params.category,
        parameters_id=params.pk,
        invoiced=invoiced,
        fee_percent=params.fee_percent,
        fee=fee,
        guarantee_contribution=guarantee,
        guarantee_on_top=params.guarantee_on_top,
        expenses=expenses,
        budget=budget,
        gross=gross,
        contribution_base=base,
        employer_contributions=employer,
        budget_remainder=budget - gross - employer if budget > ZERO else zero,
        employee_contributions=employee,
        taxable=taxable,
        withholding=withholding,
        net=taxable - withholding,
        withholding_method=params.withholding_method,
        is_estimate=not params.verified,
    )


def _sign_symmetric_withholding(
    params: PayrollParameters, taxable: Decimal, currency: str
) -> Decimal:
    """The withholding of ``taxable``; a negative taxable (a correction) gives back the tax."""
    if taxable > ZERO:
        return _withholding(params, taxable, currency)
    if taxable < ZERO:
        return -_withholding(params, -taxable, currency)
    return ZERO.quantize(minor_unit(currency))


def salary_from_gross(
    *,
    currency: str,
    gross: Decimal,
    expenses: Decimal,
    parameters: PayrollParameters,
) -> Salary:
    """The salary of an agreed ``gross`` (a permanent contract's month, or a correction).

    Nothing is invoiced: the cost (``budget``) is gross + employer contributions, taken from the
    member's activity budget; ``expenses`` are reimbursed beside it, untaxed. A negative gross (a
    correction taking back too much pay) gives negative contributions and tax, each rounded
    with the same rule as a positive one.
    """
    params, unit = parameters, minor_unit(currency)
    gross, expenses = quantize(gross, currency), quantize(expenses, currency)
    sign = Decimal(-1) if gross < ZERO else Decimal(1)
    base, employer = _employer(params, abs(gross), currency)
    base, employer = sign * base, sign * employer
    employee = sign * percent_of(abs(base), params.employee_percent, currency)
    taxable = gross - employee
    withholding = _sign_symmetric_withholding(params, taxable, currency)
    zero = ZERO.quantize(unit)
    return Salary(
        currency=currency,
        category=params.category,
        parameters_id=params.pk,
        invoiced=zero,
        fee_percent=params.fee_percent,
        fee=zero,
        guarantee_contribution=zero,
        guarantee_on_top=params.guarantee_on_top,
        expenses=expenses,
        budget=gross + employer,
        gross=gross,
        contribution_base=base,
        employer_contributions=employer,
        budget_remainder=zero,
        employee_contributions=employee,
        taxable=taxable,
        withholding=withholding,
        net=taxable - withholding,
        withholding_method=params.withholding_method,
        is_estimate=not params.verified,
    )


def salary_from_invoice(
    *,
    entity: Entity,
    invoiced: Decimal,
    expenses: Decimal,
    on: datetime.date,
    category: str = Category.STANDARD,
    parameters: PayrollParameters | None = None,
) -> Salary:
    """The salary paid for ``invoiced`` (excl. VAT) with ``expenses`` reimbursed untaxed.

    Uses the entity's parameters of ``category`` in force ``on`` (or ``parameters`` when given:
    the row a stored salary was computed with). When the expenses leave no budget, every salary
    amount is zero and ``budget`` shows by how much they exceed what the fee leaves.
    """
    params = parameters or parameters_in_force(entity=entity, category=category, on=on)
    return _convert(params, entity.currency, invoiced, expenses)


def invoice_for_net(
    *,
    entity: Entity,
    net: Decimal,
    expenses: Decimal,
    on: datetime.date,
    category: str = Category.STANDARD,
    parameters: PayrollParameters | None = None,
) -> Decimal:
    """The least amount excl. VAT to invoice so that the net salary is at least ``net``.

    Exact to the minor unit: ``salary_from_invoice(result).net >= net`` and one minor unit less
    gives less. Starts from the analytic ratio net / invoiced, searches upward until the net is
    reached, then bisects down to the least amount (the net never falls when the invoice grows).
    """
    params = parameters or parameters_in_force(entity=entity, category=category, on=on)
    currency, unit = entity.currency, minor_unit(entity.currency)
    net, expenses = quantize(net, currency), quantize(expenses, currency)

    def net_of(invoiced: Decimal) -> Decimal:
        return _convert(params, currency, invoiced, expenses).net

    if net <= ZERO:
        return ZERO.quantize(unit)
    probe = _convert(params, currency, Decimal(100000), ZERO)
    ratio = probe.net / probe.invoiced if probe.net > ZERO else Decimal("0.5")
    low = ZERO.quantize(unit)
    high = max(quantize(net / ratio + expenses, currency), unit)
    while net_of(high) < net:
        low, high = high, high * 2
    # Invariant: net_of(low) < net <= net_of(high) (low = 0 earns nothing).
    while high - low > unit:
        middle = quantize((low + high) / 2, currency)
        if middle in (low, high):
            break
        if net_of(middle) >= net:
            high = middle
        else:
            low = middle
    return high
