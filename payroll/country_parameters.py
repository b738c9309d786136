"""The payroll parameters of each country entity, loaded as dated data (``parameters.py``).

The fee, guarantee, contribution, flat withholding and minimum pay values are the entity's
own rates in ``smart_coop.tenancy.country_data`` (each with its source and ``verified`` flag),
so a value is written once. Belgium adds what shared/domain/README.md sections 1.1-1.2 source:
the 108 % contribution base of artists and manual workers, the key formula for the standard
category and the 11.11 % flat rate of Annex III point 80 for artists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from smart_coop.tenancy.country_data import ENTITIES, SRC_BE_SOCIAL, EntityData

VALID_FROM = datetime.date(2025, 1, 1)

SRC_BE_BASE_108 = (
    SRC_BE_SOCIAL + " ; https://www.socialsecurity.be/employer/instructions/dmfappl/fr/2017-4/"
    "instructions/nssolpa_contributions/generalsocialsecuritycontributions/general/general.html"
)
SRC_BE_ARTIST_PP = (
    "Annex III AR/CIR 92 point 80 (11.11 %, no reductions): https://securex.be/fr/lex4you/"
    "employeur/themes/remunerer/charges-salariales-le-precompte-professionel/"
    "artistes-et-musiciens-(point-80)"
)
# Brackets and professional expenses as published by a payroll provider, the exemption
# reduction (tax on the 10,580.00 exempt amount) by Securex: not read from SPF Finances' own
# Annex III text, and the two may be of different income years, hence not verified.
SRC_BE_KEY_FORMULA = (
    "Annex III AR/CIR 92 (formule-clé), single resident without dependants: brackets and "
    "professional expenses from https://refli.be/fr/documentation/computation/tax ; exemption "
    "reduction 2,830.15 from https://securex.be/fr/lex4you/employeur/themes/remunerer/"
    "charges-salariales-le-precompte-professionel/remunerations-mensuelles-(et-revenus-y-"
    "assimiles,-a-l-exception-des-revenus-de-remplacement) ; not verified against SPF Finances"
)
SRC_EXPENSES = (
    "shared/domain/README.md section 1.8: professional expenses reimbursed untaxed; "
    "no daily maximum sourced"
)
SRC_GUARANTEE_INSIDE = (
    "shared/domain/README.md sections 0.2 and 7: the 2 % guarantee contribution is not verified; "
    "taken as the part of the fee that funds the guarantee fund"
)
SRC_NOT_BE_ARTIST = "no 108 % base outside Belgium: same values as the standard category"

# Annex III: annual taxable pay -> professional expenses -> brackets -> exemption reduction.
BE_KEY_FORMULA_SCALE = {
    "expenses_percent": "30",
    "expenses_max": "5930.00",
    "brackets": [
        ["15830.00", "26.75"],
        ["27940.00", "42.80"],
        ["48350.00", "48.15"],
        [None, "53.50"],
    ],
    "exemption_reduction": "2830.15",
    "periods_per_year": 12,
}


@dataclass(frozen=True)
class ParametersData:
    category: str
    fee_percent: Decimal
    fee_source: str
    fee_verified: bool
    guarantee_percent: Decimal
    guarantee_source: str
    guarantee_verified: bool
    employer_percent: Decimal
    employer_source: str
    employer_verified: bool
    employee_percent: Decimal
    employee_source: str
    employee_verified: bool
    withholding_method: str
    withholding_percent: Decimal | None
    withholding_source: str
    withholding_verified: bool
    minimum_hourly_gross: Decimal
    minimum_source: str
    minimum_verified: bool
    base_factor: Decimal = Decimal("1.00")
    guarantee_on_top: bool = False
    withholding_scale: dict[str, object] = field(default_factory=dict)
    expenses_untaxed: bool = True
    expenses_max_per_day: Decimal | None = None
    expenses_source: str = SRC_EXPENSES
    expenses_verified: bool = False
    valid_from: datetime.date = VALID_FROM


def _standard(data: EntityData) -> ParametersData:
    rates = {rate.kind: rate for rate in data.rates}
    minimum = next(a for a in data.amounts if a.kind == "minimum_hourly_gross")
    fee, employer, employee = (
        rates["fee"],
        rates["employer_contribution"],
        rates["employee_contribution"],
    )
    withholding = rates["withholding_estimate"]
    return ParametersData(
        category="standard",
        fee_percent=fee.percent,
        fee_source=fee.source,
        fee_verified=fee.verified,
        guarantee_percent=rates["guarantee_contribution"].percent,
        guarantee_source=SRC_GUARANTEE_INSIDE,
        guarantee_verified=False,
        employer_percent=employer.percent,
        employer_source=employer.source,
        employer_verified=employer.verified,
        employee_percent=employee.percent,
        employee_source=employee.source,
        employee_verified=employee.verified,
        withholding_method="flat",
        withholding_percent=withholding.percent,
        withholding_source=withholding.source,
        withholding_verified=False,
        minimum_hourly_gross=minimum.amount,
        minimum_source=minimum.source,
        minimum_verified=minimum.verified,
    )


def parameters_data(code: str) -> tuple[ParametersData, ...]:
    """The parameter rows of entity ``code``: one per category."""
    standard = _standard(ENTITIES[code])
    if code == "be":
        return (
            ParametersData(
                **{
                    **standard.__dict__,
                    "withholding_method": "be_key_formula",
                    "withholding_percent": None,
                    "withholding_scale": BE_KEY_FORMULA_SCALE,
                    "withholding_source": SRC_BE_KEY_FORMULA,
                    "withholding_verified": False,
                }
            ),
            ParametersData(
                **{
                    **standard.__dict__,
                    "category": "artist_manual",
                    "base_factor": Decimal("1.08"),
                    "employer_source": SRC_BE_BASE_108,
                    "employee_source": SRC_BE_BASE_108,
                    "withholding_method": "flat",
                    "withholding_percent": Decimal("11.11"),
                    "withholding_source": SRC_BE_ARTIST_PP,
                    "withholding_verified": True,
                }
            ),
        )
    artist = ParametersData(
        **{**standard.__dict__, "category": "artist_manual", "expenses_source": SRC_NOT_BE_ARTIST}
    )
    return (standard, artist)
