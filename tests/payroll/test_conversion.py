"""payroll.conversion: worked examples computed by hand, the reverse question, invariants.

BE and FR read the parameters loaded in their schemas by entity_create; IT, SE and HU (no test
schema) pass the rows their country data builds, on an unsaved entity of their currency.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payroll.conversion import Salary, invoice_for_net, salary_from_invoice
from payroll.country_parameters import parameters_data
from payroll.models import PayrollParameters
from payroll.parameters import parameters_build, parameters_in_force, parameters_load
from smart_coop.money import minor_unit
from smart_coop.tenancy.models import Entity

ON = datetime.date(2026, 6, 1)
ZERO = Decimal("0")


def unsaved(code: str, currency: str) -> tuple[Entity, PayrollParameters]:
    return Entity(code=code, schema_name=code, currency=currency), parameters_build(
        parameters_data(code)[0]
    )


def amounts(salary: Salary) -> list[Decimal]:
    return [
        salary.invoiced, salary.fee, salary.guarantee_contribution, salary.expenses,
        salary.budget, salary.gross, salary.contribution_base, salary.employer_contributions,
        salary.budget_remainder, salary.employee_contributions, salary.taxable,
        salary.withholding, salary.net,
    ]  # fmt: skip


def assert_reverse(entity: Entity, salary: Salary, least: str, **kwargs: object) -> None:
    """invoice_for_net answers ``least``: at most the amount invoiced, earning the net, and one
    minor unit less earns less."""
    found = invoice_for_net(
        entity=entity,
        net=salary.net,
        expenses=salary.expenses,
        on=ON,
        **kwargs,  # type: ignore[arg-type]
    )
    assert found == Decimal(least)
    assert found <= salary.invoiced
    earned = salary_from_invoice(
        entity=entity,
        invoiced=found,
        expenses=salary.expenses,
        on=ON,
        **kwargs,  # type: ignore[arg-type]
    )
    assert earned.net == salary.net
    less = salary_from_invoice(
        entity=entity, invoiced=found - minor_unit(entity.currency), expenses=salary.expenses,
        on=ON, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    assert less.net < salary.net


# --- Belgium ---------------------------------------------------------------------------------


def test_be_standard_thousand(be: Entity) -> None:
    salary = salary_from_invoice(entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    # fee 6.5 % of 1000.00 = 65.00; the 2 % guarantee (20.00) is part of the fee
    assert (salary.fee, salary.guarantee_contribution) == (Decimal("65.00"), Decimal("20.00"))
    assert salary.guarantee_on_top is False
    # budget 1000.00 - 65.00 = 935.00; gross 935.00 / 1.25 = 748.00; employer 25 % = 187.00
    assert salary.budget == Decimal("935.00")
    assert salary.gross == Decimal("748.00")
    assert salary.employer_contributions == Decimal("187.00")
    assert salary.budget_remainder == Decimal("0.00")
    # employee 13.07 % of 748.00 = 97.7636 -> 97.76; taxable 748.00 - 97.76 = 650.24
    assert salary.employee_contributions == Decimal("97.76")
    assert salary.taxable == Decimal("650.24")
    # key formula: 650.24 x 12 = 7802.88; expenses 30 % = 2340.864 -> 2340.86; 5462.02
    # x 26.75 % = 1461.09 < the 2830.15 exemption reduction: no withholding
    assert salary.withholding == Decimal("0.00")
    assert salary.net == Decimal("650.24")
    assert salary.withholding_method == "be_key_formula"
    assert salary.is_estimate is True  # the key formula's scale is not verified
    assert salary.parameters_id == parameters_in_force(entity=be, category="standard", on=ON).pk
    # reverse: 999.99 -> budget 934.99, gross 747.99, employee 97.76, net 650.23 < 650.24
    assert_reverse(be, salary, "1000.00")


def test_be_standard_thousand_with_fifty_of_expenses(be: Entity) -> None:
    salary = salary_from_invoice(
        entity=be, invoiced=Decimal("1000.00"), expenses=Decimal("50.00"), on=ON
    )

    # budget 1000.00 - 65.00 - 50.00 = 885.00; gross 885.00 / 1.25 = 708.00; employer 177.00
    assert salary.budget == Decimal("885.00")
    assert salary.gross == Decimal("708.00")
    assert salary.employer_contributions == Decimal("177.00")
    # employee 13.07 % of 708.00 = 92.5356 -> 92.54; taxable 615.46
    assert salary.employee_contributions == Decimal("92.54")
    assert salary.taxable == Decimal("615.46")
    # 615.46 x 12 = 7385.52; - 30 % (2215.66) = 5169.86; x 26.75 % = 1382.94 < 2830.15
    assert salary.withholding == Decimal("0.00")
    assert salary.net == Decimal("615.46")
    # reverse: 999.99 (fee 64.99935 -> 65.00) -> budget 884.99, gross 707.99, employer
    # 176.9975 -> 177.00, employee 92.534 -> 92.53, net 615.46 again; 999.98 -> budget 884.98,
    # gross 707.98, employee 92.532986 -> 92.53, net 615.45
    assert_reverse(be, salary, "999.99")


def test_be_artist_at_the_108_percent_base(be: Entity) -> None:
    salary = salary_from_invoice(
        entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON, category="artist_manual"
    )

    # budget 935.00 = gross + 25 % of (1.08 x gross): 935.00 / 1.27 = 736.2204 -> 736.22
    assert salary.gross == Decimal("736.22")
    # base 736.22 x 1.08 = 795.1176 -> 795.12; employer 25 % = 198.78; 736.22 + 198.78 = 935.00
    # (736.23: base 795.13, employer 198.78, 935.01 > 935.00)
    assert salary.contribution_base == Decimal("795.12")
    assert salary.employer_contributions == Decimal("198.78")
    assert salary.budget_remainder == Decimal("0.00")
    # employee 13.07 % of 795.12 = 103.922184 -> 103.92; taxable 736.22 - 103.92 = 632.30
    assert salary.employee_contributions == Decimal("103.92")
    assert salary.taxable == Decimal("632.30")
    # Annex III point 80: 11.11 % of 632.30 = 70.24853 -> 70.25; net 562.05
    assert salary.withholding == Decimal("70.25")
    assert salary.net == Decimal("562.05")
    # reverse: 999.99 -> budget 934.99, gross 736.21, base 795.11, employee 103.92,
    # taxable 632.29, 11.11 % = 70.25, net 562.04 < 562.05
    assert_reverse(be, salary, "1000.00", category="artist_manual")


def test_be_standard_five_thousand_reaches_the_brackets(be: Entity) -> None:
    salary = salary_from_invoice(entity=be, invoiced=Decimal("5000.00"), expenses=ZERO, on=ON)

    # fee 325.00; budget 4675.00; gross 4675.00 / 1.25 = 3740.00; employer 935.00
    assert (salary.budget, salary.gross) == (Decimal("4675.00"), Decimal("3740.00"))
    assert salary.employer_contributions == Decimal("935.00")
    # employee 13.07 % of 3740.00 = 488.818 -> 488.82; taxable 3251.18
    assert salary.taxable == Decimal("3251.18")
    # 3251.18 x 12 = 39014.16; expenses 30 % capped at 5930.00 -> 33084.16
    # 15830.00 x 26.75 % = 4234.525 + 12110.00 x 42.80 % = 5183.08
    # + 5144.16 x 48.15 % = 2476.91304 -> 11894.51804 -> 11894.52 - 2830.15 = 9064.37
    # / 12 = 755.3641... -> 755.36; net 3251.18 - 755.36 = 2495.82
    assert salary.withholding == Decimal("755.36")
    assert salary.net == Decimal("2495.82")
    # reverse: 4999.99 -> budget 4674.99, gross 3739.99, taxable 3251.17, withholding
    # (33084.04: 11894.46026 -> 11894.46 - 2830.15) / 12 = 755.36, net 2495.81 < 2495.82
    assert_reverse(be, salary, "5000.00")


# --- France, Italy, Sweden, Hungary (flat withholding: documented approximations) -------------


def test_fr_thousand(fr: Entity) -> None:
    salary = salary_from_invoice(entity=fr, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    # budget 935.00; 935.00 / 1.42 = 658.4507 -> 658.45; employer 42 % = 276.549 -> 276.55
    assert salary.gross == Decimal("658.45")
    assert salary.employer_contributions == Decimal("276.55")
    assert salary.budget_remainder == Decimal("0.00")
    # employee 22 % = 144.859 -> 144.86; taxable 513.59; 7.5 % = 38.51925 -> 38.52; net 475.07
    assert salary.taxable == Decimal("513.59")
    assert salary.withholding == Decimal("38.52")
    assert salary.net == Decimal("475.07")
    assert salary.is_estimate is True
    # reverse: 999.99 -> budget 934.99, gross 658.44, employer 276.54 (remainder 0.01),
    # employee 144.86, taxable 513.58, 7.5 % = 38.52, net 475.06 < 475.07
    assert_reverse(fr, salary, "1000.00")


def test_it_thousand_leaves_a_cent_of_remainder() -> None:
    it, params = unsaved("it", "EUR")
    salary = salary_from_invoice(
        entity=it, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON, parameters=params
    )

    # fee 8.5 % = 85.00; budget 915.00; 915.00 / 1.30 = 703.846 -> 703.84
    # employer 30 % = 211.152 -> 211.15; 703.84 + 211.15 = 914.99
    # (703.85: employer 211.155 -> 211.16, 915.01 > 915.00): remainder 0.01
    assert (salary.fee, salary.budget) == (Decimal("85.00"), Decimal("915.00"))
    assert salary.gross == Decimal("703.84")
    assert salary.employer_contributions == Decimal("211.15")
    assert salary.budget_remainder == Decimal("0.01")
    # employee 9.19 % = 64.682896 -> 64.68; taxable 639.16; 23 % = 147.0068 -> 147.01
    assert salary.taxable == Decimal("639.16")
    assert salary.withholding == Decimal("147.01")
    assert salary.net == Decimal("492.15")
    # reverse: 999.99 -> budget 914.99, gross 703.84 (914.99 fits), net 492.15;
    # 999.98 -> budget 914.98, gross 703.83, employee 64.68, taxable 639.15, 23 % = 147.00,
    # net 492.15; 999.97 -> gross 703.82, taxable 639.14, net 492.14
    assert_reverse(it, salary, "999.98", parameters=params)


def test_se_ten_thousand_kronor() -> None:
    se, params = unsaved("se", "SEK")
    salary = salary_from_invoice(
        entity=se, invoiced=Decimal("10000.00"), expenses=ZERO, on=ON, parameters=params
    )

    # fee 650.00; budget 9350.00; 9350.00 / 1.3142 = 7114.5944 -> 7114.59
    # employer 31.42 % = 2235.404178 -> 2235.40; 9349.99 (7114.60 gives 9350.01): remainder 0.01
    assert salary.currency == "SEK"
    assert salary.gross == Decimal("7114.59")
    assert salary.employer_contributions == Decimal("2235.40")
    assert salary.budget_remainder == Decimal("0.01")
    # employee 7 % = 498.0213 -> 498.02; taxable 6616.57; 30 % = 1984.971 -> 1984.97
    assert salary.taxable == Decimal("6616.57")
    assert salary.withholding == Decimal("1984.97")
    assert salary.net == Decimal("4631.60")
    # reverse: 9999.99 -> budget 9349.99, gross 7114.59 again, net 4631.60; 9999.98 ->
    # budget 9349.98, gross 7114.58, employee 498.02, taxable 6616.56, 30 % = 1984.97,
    # net 4631.59
    assert_reverse(se, salary, "9999.99", parameters=params)


def test_hu_three_hundred_thousand_forints_in_whole_units() -> None:
    hu, params = unsaved("hu", "HUF")
    salary = salary_from_invoice(
        entity=hu, invoiced=Decimal("300000"), expenses=ZERO, on=ON, parameters=params
    )

    # fee 6.5 % = 19500; budget 280500; 280500 / 1.13 = 248230.09 -> 248230
    # employer 13 % = 32269.9 -> 32270; 248230 + 32270 = 280500
    assert (salary.fee, salary.budget) == (Decimal("19500"), Decimal("280500"))
    assert salary.gross == Decimal("248230")
    assert salary.employer_contributions == Decimal("32270")
    assert salary.budget_remainder == Decimal("0")
    # employee 18.5 % = 45922.55 -> 45923; taxable 202307; 15 % = 30346.05 -> 30346
    assert salary.employee_contributions == Decimal("45923")
    assert salary.taxable == Decimal("202307")
    assert salary.withholding == Decimal("30346")
    assert str(salary.net) == "171961"
    # reverse: 299999 -> budget 280499, gross 248229, employee 45922.365 -> 45922, taxable
    # 202307, net 171961 again; 299998 -> gross 248228, employee 45922, taxable 202306,
    # withholding 30345.9 -> 30346, net 171960
    assert_reverse(hu, salary, "299999", parameters=params)


# --- versions ---------------------------------------------------------------------------------


def test_a_new_version_is_a_new_row_and_the_old_salary_keeps_its_row(be: Entity) -> None:
    before = salary_from_invoice(entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)
    with schema_context("be"):
        old = PayrollParameters.objects.get(pk=before.parameters_id)
        new = PayrollParameters.objects.create(
            **{
                **{f.name: getattr(old, f.name) for f in old._meta.concrete_fields},
                "id": None,
                "valid_from": datetime.date(2026, 3, 1),
                "guarantee_on_top": True,
            }
        )
    after = salary_from_invoice(entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON)

    # on top: budget 1000.00 - 65.00 - 20.00 = 915.00; gross 915.00 / 1.25 = 732.00
    assert after.parameters_id == new.pk
    assert (after.budget, after.gross) == (Decimal("915.00"), Decimal("732.00"))
    again = salary_from_invoice(
        entity=be, invoiced=Decimal("1000.00"), expenses=ZERO, on=ON, parameters=old
    )
    assert again == before
    assert parameters_load(be)[0].pk == old.pk  # loading again adds nothing


# --- invariants --------------------------------------------------------------------------------

money = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("200000.00"), places=2,
    allow_nan=False, allow_infinity=False,
)  # fmt: skip
expense_amounts = st.decimals(
    min_value=Decimal("0.00"), max_value=Decimal("2000.00"), places=2,
    allow_nan=False, allow_infinity=False,
)  # fmt: skip


@pytest.mark.parametrize(
    ("code", "category"), [("be", "standard"), ("be", "artist_manual"), ("fr", "standard")]
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(invoiced=money, expenses=expense_amounts)
def test_every_amount_is_accounted_for(
    db: None, code: str, category: str, invoiced: Decimal, expenses: Decimal
) -> None:
    entity = Entity.objects.get(schema_name=code)

    salary = salary_from_invoice(
        entity=entity, invoiced=invoiced, expenses=expenses, on=ON, category=category
    )

    assert all(amount.as_tuple().exponent == -2 for amount in amounts(salary))
    assert salary.fee + salary.expenses + salary.budget == invoiced
    if salary.budget > ZERO:
        assert (
            salary.budget == salary.gross + salary.employer_contributions + salary.budget_remainder
        )
        assert ZERO <= salary.budget_remainder < Decimal("0.05")
        assert salary.net + salary.employee_contributions + salary.withholding == salary.gross
        assert ZERO <= salary.net <= salary.gross
        found = invoice_for_net(
            entity=entity, net=salary.net, expenses=expenses, on=ON, category=category
        )
        assert found <= invoiced
        assert (
            salary_from_invoice(
                entity=entity, invoiced=found, expenses=expenses, on=ON, category=category
            ).net
            >= salary.net
        )
    else:
        assert salary.gross == salary.net == salary.budget_remainder == ZERO


@settings(max_examples=60, deadline=None)
@given(invoiced=st.integers(min_value=1, max_value=50_000_000))
def test_forints_stay_whole(invoiced: int) -> None:
    hu, params = unsaved("hu", "HUF")

    salary = salary_from_invoice(
        entity=hu, invoiced=Decimal(invoiced), expenses=ZERO, on=ON, parameters=params
    )

    assert all(amount.as_tuple().exponent == 0 for amount in amounts(salary))
    assert salary.budget == salary.gross + salary.employer_contributions + salary.budget_remainder
    assert invoice_for_net(
        entity=hu, net=salary.net, expenses=ZERO, on=ON, parameters=params
    ) <= Decimal(invoiced)
