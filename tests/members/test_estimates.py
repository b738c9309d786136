"""The salary estimator (payroll.estimates) and the money kernel it stands on (smart_coop.money).

The estimate is payroll.conversion.salary_from_invoice for the standard category (worked
examples of every category and country in tests/payroll/test_conversion.py). BE: fee 6.5 %,
employer 25 %, employee 13.07 %, withholding by the key formula; FR: fee 6.5 %, employer 42 %,
employee 22 %, withholding 7.5 % (flat approximation).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payroll.estimates import SalaryEstimate, salary_estimate
from smart_coop.money import minor_unit, percent_of, quantize
from smart_coop.tenancy.models import Entity

ON = datetime.date(2026, 6, 1)
ZERO = Decimal("0")

money = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("100000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
expense_amounts = st.decimals(
    min_value=Decimal("0.00"),
    max_value=Decimal("100000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def salary_amounts(estimate: SalaryEstimate) -> list[Decimal]:
    return [
        estimate.employer_contributions,
        estimate.gross,
        estimate.employee_contributions,
        estimate.taxable,
        estimate.withholding,
        estimate.net,
    ]


# --- smart_coop.money ------------------------------------------------------------------------


def test_quantize_rounds_half_up_to_the_cent_in_euro() -> None:
    assert quantize(Decimal("0.125"), "EUR") == Decimal("0.13")
    assert quantize(Decimal("0.124"), "EUR") == Decimal("0.12")
    assert quantize(Decimal("2.675"), "EUR") == Decimal("2.68")


def test_quantize_rounds_a_negative_half_away_from_zero() -> None:
    assert quantize(Decimal("-0.125"), "EUR") == Decimal("-0.13")


def test_quantize_gives_two_decimal_places_even_to_a_whole_amount() -> None:
    result = quantize(Decimal("1000"), "EUR")

    assert str(result) == "1000.00"


def test_quantize_rounds_forints_to_whole_units() -> None:
    assert quantize(Decimal("100.5"), "HUF") == Decimal("101")
    assert str(quantize(Decimal("100.49"), "HUF")) == "100"


def test_quantize_refuses_a_float() -> None:
    with pytest.raises(TypeError, match="Money must be Decimal, not float"):
        quantize(0.125, "EUR")  # type: ignore[arg-type]


def test_quantize_refuses_an_unknown_currency() -> None:
    with pytest.raises(ValueError, match="Unsupported currency 'XYZ'"):
        quantize(Decimal("1.00"), "XYZ")


@given(
    amount=st.decimals(
        min_value=Decimal("-1000000000"),
        max_value=Decimal("1000000000"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_quantize_moves_an_amount_by_at_most_half_a_cent(amount: Decimal) -> None:
    rounded = quantize(amount, "EUR")

    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - amount) <= Decimal("0.005")
    # half-up: an exact half cent is rounded away from zero
    if abs(rounded - amount) == Decimal("0.005"):
        assert abs(rounded) > abs(amount)


def test_minor_units_are_the_cent_and_the_forint() -> None:
    assert minor_unit("EUR") == Decimal("0.01")
    assert minor_unit("SEK") == Decimal("0.01")
    assert minor_unit("HUF") == Decimal("1")


def test_percent_of_rounds_the_result_half_up() -> None:
    # 13.07 % of 748.00 = 97.7636
    assert percent_of(Decimal("748.00"), Decimal("13.07"), "EUR") == Decimal("97.76")
    # 6.5 % of 17.00 = 1.105
    assert percent_of(Decimal("17.00"), Decimal("6.5"), "EUR") == Decimal("1.11")


# --- salary_estimate: exact figures ----------------------------------------------------------


def test_be_estimate_of_a_thousand_without_expenses(be: Entity) -> None:
    estimate = salary_estimate(entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    assert estimate.currency == "EUR"
    assert estimate.invoiced == Decimal("1000.00")
    assert estimate.fee_percent == Decimal("6.5")
    assert estimate.fee == Decimal("65.00")
    assert estimate.expenses == Decimal("0.00")
    assert estimate.budget == Decimal("935.00")
    # 935.00 * 100 / 125
    assert estimate.gross == Decimal("748.00")
    assert estimate.employer_contributions == Decimal("187.00")
    # 13.07 % of 748.00 = 97.7636
    assert estimate.employee_contributions == Decimal("97.76")
    assert estimate.taxable == Decimal("650.24")
    # key formula: 650.24 x 12 = 7802.88 - 30 % expenses 2340.86 = 5462.02; x 26.75 % = 1461.09
    # is less than the 2830.15 exemption reduction: nothing withheld
    assert estimate.withholding == Decimal("0.00")
    assert estimate.net == Decimal("650.24")
    assert estimate.budget_remainder == Decimal("0.00")
    assert estimate.is_estimate is True


def test_be_estimate_of_a_thousand_with_fifty_of_expenses(be: Entity) -> None:
    estimate = salary_estimate(
        entity=be, invoiced=Decimal("1000.00"), expenses=Decimal("50.00"), on=ON
    )

    # fee 6.5 % of 1000.00 = 65.00; budget 1000.00 - 65.00 - 50.00 = 885.00
    assert estimate.fee == Decimal("65.00")
    assert estimate.expenses == Decimal("50.00")
    assert estimate.budget == Decimal("885.00")
    # gross 885.00 * 100 / 125 = 708.00; employer 885.00 - 708.00 = 177.00
    assert estimate.gross == Decimal("708.00")
    assert estimate.employer_contributions == Decimal("177.00")
    # employee 13.07 % of 708.00 = 92.5356 -> 92.54; taxable 708.00 - 92.54 = 615.46
    assert estimate.employee_contributions == Decimal("92.54")
    assert estimate.taxable == Decimal("615.46")
    # key formula: 615.46 x 12 = 7385.52 - 30 % (2215.66) = 5169.86; x 26.75 % = 1382.94
    # < 2830.15: nothing withheld; net 615.46
    assert estimate.withholding == Decimal("0.00")
    assert estimate.net == Decimal("615.46")


def test_fr_estimate_of_a_thousand_without_expenses(fr: Entity) -> None:
    estimate = salary_estimate(entity=fr, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    # fee 6.5 % = 65.00; budget 935.00
    assert estimate.fee == Decimal("65.00")
    assert estimate.budget == Decimal("935.00")
    # gross 935.00 * 100 / 142 = 658.4507... -> 658.45; employer 935.00 - 658.45 = 276.55
    assert estimate.gross == Decimal("658.45")
    assert estimate.employer_contributions == Decimal("276.55")
    # employee 22 % of 658.45 = 144.859 -> 144.86; taxable 513.59
    assert estimate.employee_contributions == Decimal("144.86")
    assert estimate.taxable == Decimal("513.59")
    # withholding 7.5 % of 513.59 = 38.51925 -> 38.52; net 475.07
    assert estimate.withholding == Decimal("38.52")
    assert estimate.net == Decimal("475.07")


def test_an_unrounded_price_is_rounded_to_the_cent_before_anything_else(be: Entity) -> None:
    estimate = salary_estimate(entity=be, invoiced=Decimal("999.995"), expenses=ZERO, on=ON)

    assert estimate.invoiced == Decimal("1000.00")
    assert estimate.net == Decimal("650.24")


def test_expenses_larger_than_what_the_fee_leaves_give_no_salary(be: Entity) -> None:
    # fee 65.00; budget 1000.00 - 65.00 - 950.00 = -15.00
    estimate = salary_estimate(
        entity=be, invoiced=Decimal("1000.00"), expenses=Decimal("950.00"), on=ON
    )

    assert estimate.fee == Decimal("65.00")
    assert estimate.budget == Decimal("-15.00")
    assert salary_amounts(estimate) == [ZERO] * 6


def test_expenses_taking_exactly_what_the_fee_leaves_give_no_salary(be: Entity) -> None:
    estimate = salary_estimate(
        entity=be, invoiced=Decimal("1000.00"), expenses=Decimal("935.00"), on=ON
    )

    assert estimate.budget == Decimal("0.00")
    assert salary_amounts(estimate) == [ZERO] * 6


def test_the_estimate_reads_as_strings(be: Entity) -> None:
    estimate = salary_estimate(entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    as_dict = estimate.as_dict()

    assert as_dict["net"] == "650.24"
    assert as_dict["gross"] == "748.00"
    assert as_dict["is_estimate"] is True


# --- salary_estimate: invariants ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["be", "fr"])
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(price=money, expenses=expense_amounts)
def test_the_salary_budget_is_used_to_the_cent(
    db: None, code: str, price: Decimal, expenses: Decimal
) -> None:
    entity = Entity.objects.get(schema_name=code)

    estimate = salary_estimate(entity=entity, invoiced=price, expenses=expenses, on=ON)

    every_amount = [
        estimate.invoiced,
        estimate.fee,
        estimate.expenses,
        estimate.budget,
        *salary_amounts(estimate),
    ]
    assert all(amount.as_tuple().exponent >= -2 for amount in every_amount)  # type: ignore[operator]
    assert estimate.fee + estimate.expenses + estimate.budget == price
    if estimate.budget > ZERO:
        assert (
            estimate.fee
            + estimate.expenses
            + estimate.employer_contributions
            + estimate.gross
            + estimate.budget_remainder
            == price
        )
        assert ZERO <= estimate.net <= estimate.gross <= estimate.budget
        assert estimate.employer_contributions >= ZERO
        assert estimate.taxable == estimate.gross - estimate.employee_contributions
        assert estimate.net == estimate.taxable - estimate.withholding
    else:
        assert salary_amounts(estimate) == [ZERO] * 6
