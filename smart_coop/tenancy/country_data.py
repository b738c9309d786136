"""The project's own data for the cooperative's nine country entities.

Every rate carries the public source it was read from (see shared/domain/README.md) and whether
that source was confirmed; a rate marked ``verified=False`` is a working value that an entity
admin must confirm before go-live. Identifiers (VAT and company numbers, IBANs) are demo values
that pass python-stdnum and schwifty; a real entity sets its own with ``create_entity --vat-number``
and in the admin.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

# Sources, named once.
SRC_VAT_STANDARD = (
    "https://www.vat-solutions.com/blog/european-union-3/vat-rates-2025-in-the-european-union-46"
)
SRC_VAT_REDUCED = "https://taxation-customs.ec.europa.eu/taxation/vat/vat-directive/vat-rates_en"
SRC_FEE_BE = "https://smartbe.be/fr/nos-services/financement/"
SRC_FEE_IT = "http://smart-it.org/smart-faq/"
SRC_PAYOUT_BE = "https://info.hub.brussels/en/node/17304"
SRC_GUARANTEE = "shared/domain/README.md section 7: the 2 % guarantee contribution is not verified"
SRC_PLACEHOLDER = "working value pending the entity's own decision (not verified)"
SRC_SOCIAL = "shared/domain/README.md section 2 (country parameters), ballpark; not verified"
SRC_BE_SOCIAL = (
    "https://www.socialsecurity.be/site_fr/employer/infos/employers_nsso/which-contributions.htm"
)
SRC_WITHHOLDING = "flat approximation for the contract estimate only (not verified)"
SRC_BE_MINIMUM = (
    "https://acerta.be/fr/inspiration/augmentation-revenu-minimum-mensuel-moyen-garanti-en-fevrier-2025"
    " : RMMMG 2111.89 EUR / (38 h x 52 / 12)"
)
SRC_BE_LATE_2024 = (
    "Law of 2 August 2002 art. 5 (ECB rate + 8 points, rounded up to the next half point): "
    "https://leuropeinfo.eu/?p=1197 ; https://www.medenam.be/?p=182"
)
SRC_BE_LATE_2026 = (
    "Law of 2 August 2002 art. 5: https://embuild.be/fr/actualit%C3%A9s/"
    "le-retard-de-paiement-le-taux-dint%C3%A9r%C3%AAt-applicable-en-2026"
)
SRC_LATE_INTEREST_ECB = (
    "Directive 2011/7/EU art. 2(6): ECB rate + 8 points; ECB rate not verified here"
)
SRC_LATE_INTEREST_NON_EURO = (
    "Directive 2011/7/EU art. 2(6)-(7): the national central bank's rate + 8 points; "
    "ECB rate used as a placeholder, not verified here"
)
SRC_COMPENSATION = (
    "Directive 2011/7/EU art. 6: EUR 40; "
    "https://eur-lex.europa.eu/legal-content/EN/ALL/?uri=LEGISSUM:mi0074"
)
SRC_COMPENSATION_NON_EURO = (
    "Directive 2011/7/EU art. 6: EUR 40 or its national-currency equivalent set by national "
    "law; amount not verified"
)


@dataclass(frozen=True)
class RateData:
    kind: str
    percent: Decimal
    source: str
    verified: bool = True
    # When the rate takes effect; None: services.RATES_VALID_FROM.
    valid_from: datetime.date | None = None


@dataclass(frozen=True)
class AmountData:
    kind: str
    amount: Decimal
    source: str
    verified: bool = False


@dataclass(frozen=True)
class EntityData:
    code: str
    country: str
    legal_name: str
    currency: str
    languages: tuple[str, ...]
    time_zone: str
    vat_number: str
    company_number: str
    # Peppol participant identifier as "<EAS scheme>:<identifier>".
    peppol_id: str
    iban: str
    bic: str
    payout_delay_days: int
    payout_delay_unit: str  # "calendar" or "working"
    rates: tuple[RateData, ...]
    # The registered office (demo addresses), printed on invoices as the seller's address.
    street: str = ""
    postal_code: str = ""
    city: str = ""
    # The authority's declaration of employment made before the work starts (see
    # shared/domain/README.md, key take-away 3); "" where none is required before the start.
    hiring_declaration: str = ""
    amounts: tuple[AmountData, ...] = ()
    payout_delay_source: str = SRC_PLACEHOLDER


def _vat(standard: str, *reduced: str, super_reduced: str = "") -> tuple[RateData, ...]:
    rates = [RateData("vat_standard", Decimal(standard), SRC_VAT_STANDARD)]
    rates += [RateData("vat_reduced", Decimal(r), SRC_VAT_REDUCED, verified=False) for r in reduced]
    if super_reduced:
        rates.append(
            RateData("vat_super_reduced", Decimal(super_reduced), SRC_VAT_REDUCED, verified=False)
        )
    return tuple(rates)


def _payroll(
    employer: str, employee: str, withholding: str, *, source: str = SRC_SOCIAL
) -> tuple[RateData, ...]:
    """The rates the contract estimate uses until the dated payroll parameters replace them."""
    verified = source != SRC_SOCIAL
    return (
        RateData("employer_contribution", Decimal(employer), source, verified),
        RateData("employee_contribution", Decimal(employee), source, verified),
        RateData("withholding_estimate", Decimal(withholding), SRC_WITHHOLDING, verified=False),
    )


def _amounts(
    minimum_hourly: str, ceiling: str, source: str = SRC_PLACEHOLDER
) -> tuple[AmountData, ...]:
    return (
        AmountData(
            "minimum_hourly_gross", Decimal(minimum_hourly), source, source == SRC_BE_MINIMUM
        ),
        AmountData("contract_price_ceiling", Decimal(ceiling), SRC_PLACEHOLDER),
    )


def _fee(percent: str = "6.5", source: str = SRC_PLACEHOLDER) -> tuple[RateData, ...]:
    return (
        RateData("fee", Decimal(percent), source, verified=source != SRC_PLACEHOLDER),
        RateData("guarantee_contribution", Decimal("2.0"), SRC_GUARANTEE, verified=False),
    )


# Late payment interest in B2B transactions: one rate per half-year, the reference rate on
# 1 January / 1 July applying to the whole half-year (Directive 2011/7/EU art. 2(6)-(7)).
H2024_1, H2024_2 = datetime.date(2024, 1, 1), datetime.date(2024, 7, 1)
H2025_1, H2025_2 = datetime.date(2025, 1, 1), datetime.date(2025, 7, 1)
H2026_1 = datetime.date(2026, 1, 1)
LATE_INTEREST = "late_interest_b2b"

# The published Belgian rates (shared/domain/README.md section 6.2).
LATE_INTEREST_BE = (
    RateData(LATE_INTEREST, Decimal("12.5"), SRC_BE_LATE_2024, valid_from=H2024_1),
    RateData(LATE_INTEREST, Decimal("12.5"), SRC_BE_LATE_2024, valid_from=H2024_2),
    RateData(LATE_INTEREST, Decimal("11.5"), SRC_BE_LATE_2024, valid_from=H2025_1),
    RateData(LATE_INTEREST, Decimal("10.5"), SRC_BE_LATE_2026, valid_from=H2025_2),
    RateData(LATE_INTEREST, Decimal("10.5"), SRC_BE_LATE_2026, valid_from=H2026_1),
)


def _late_interest(source: str = SRC_LATE_INTEREST_ECB) -> tuple[RateData, ...]:
    """The Directive's floor as a working value: the ECB main refinancing rate on each
    1 January / 1 July (4.50, 4.25, 3.15, 2.15, 2.15 %) + 8 points. Not verified."""
    return tuple(
        RateData(LATE_INTEREST, Decimal(percent), source, verified=False, valid_from=day)
        for percent, day in (
            ("12.5", H2024_1),
            ("12.25", H2024_2),
            ("11.15", H2025_1),
            ("10.15", H2025_2),
            ("10.15", H2026_1),
        )
    )


def _compensation(currency: str) -> AmountData:
    """The fixed compensation for recovery costs owed by a late business client (art. 6)."""
    if currency == "EUR":
        return AmountData("late_payment_compensation", Decimal(40), SRC_COMPENSATION, verified=True)
    equivalent = {"SEK": "450", "HUF": "15000"}[currency]
    return AmountData("late_payment_compensation", Decimal(equivalent), SRC_COMPENSATION_NON_EURO)


ENTITIES: dict[str, EntityData] = {
    data.code: data
    for data in (
        EntityData(
            code="be",
            street="Rue Coenraets 72",
            postal_code="1060",
            city="Bruxelles",
            country="BE",
            legal_name="Smart Coop Belgium SC",
            currency="EUR",
            languages=("fr", "nl", "en"),
            time_zone="Europe/Brussels",
            vat_number="BE0765432146",
            company_number="0765432146",
            peppol_id="0208:0765432146",
            iban="BE48001123456727",
            bic="GEBABEBB",
            payout_delay_days=7,
            payout_delay_unit="working",
            rates=(
                *_vat("21", "12", "6"),
                *_fee("6.5", SRC_FEE_BE),
                *_payroll("25", "13.07", "18", source=SRC_BE_SOCIAL),
                *LATE_INTEREST_BE,
            ),
            amounts=(*_amounts("12.83", "100000", SRC_BE_MINIMUM), _compensation("EUR")),
            hiring_declaration="dimona",
            payout_delay_source=SRC_PAYOUT_BE,
        ),
        EntityData(
            code="fr",
            street="10 rue de la Coopération",
            postal_code="75011",
            city="Paris",
            country="FR",
            legal_name="Smart Coop France SCIC",
            currency="EUR",
            languages=("fr", "en"),
            time_zone="Europe/Paris",
            vat_number="FR44732829320",
            company_number="732829320",
            peppol_id="9957:FR44732829320",
            iban="FR7630004000031234567890143",
            bic="BNPAFRPP",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("20", "10", "5.5", super_reduced="2.1"),
                *_fee(),
                *_payroll("42", "22", "7.5"),
                *_late_interest(),
            ),
            amounts=(*_amounts("11.88", "100000"), _compensation("EUR")),
            hiring_declaration="dpae",
        ),
        EntityData(
            code="it",
            street="Via della Cooperazione 5",
            postal_code="20121",
            city="Milano",
            country="IT",
            legal_name="Smart Coop Italia",
            currency="EUR",
            languages=("it", "en"),
            time_zone="Europe/Rome",
            vat_number="IT12345670124",
            company_number="12345670124",
            peppol_id="0211:IT12345670124",
            iban="IT25O0306909606100000012345",
            bic="BCITITMM",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("22", "10", "5", super_reduced="4"),
                *_fee("8.5", SRC_FEE_IT),
                *_payroll("30", "9.19", "23"),
                *_late_interest(),
            ),
            amounts=(*_amounts("9.00", "100000"), _compensation("EUR")),
            hiring_declaration="unilav",
        ),
        EntityData(
            code="de",
            street="Genossenschaftsstraße 3",
            postal_code="10115",
            city="Berlin",
            country="DE",
            legal_name="Smart Coop Deutschland eG",
            currency="EUR",
            languages=("de", "en"),
            time_zone="Europe/Berlin",
            vat_number="DE136824191",
            company_number="GnR 1234",
            peppol_id="9930:DE136824191",
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("19", "7"),
                *_fee(),
                *_payroll("21", "21", "14"),
                *_late_interest(),
            ),
            amounts=(*_amounts("12.82", "100000"), _compensation("EUR")),
            hiring_declaration="deuev",
        ),
        EntityData(
            code="es",
            street="Calle de la Cooperativa 7",
            postal_code="28004",
            city="Madrid",
            country="ES",
            legal_name="Smart Coop Iberica S.Coop.",
            currency="EUR",
            languages=("es", "en"),
            time_zone="Europe/Madrid",
            vat_number="ESB65432106",
            company_number="B65432106",
            peppol_id="9920:ESB65432106",
            iban="ES9121000418450200051332",
            bic="CAIXESBB",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("21", "10", super_reduced="4"),
                *_fee(),
                *_payroll("30.5", "6.47", "15"),
                *_late_interest(),
            ),
            amounts=(*_amounts("8.87", "100000"), _compensation("EUR")),
            hiring_declaration="alta",
        ),
        EntityData(
            code="se",
            street="Kooperativsgatan 2",
            postal_code="111 22",
            city="Stockholm",
            country="SE",
            legal_name="Smart Coop Sverige ek. for.",
            currency="SEK",
            languages=("sv", "en"),
            time_zone="Europe/Stockholm",
            vat_number="SE556123456701",
            company_number="5561234567",
            peppol_id="0007:5561234567",
            iban="SE7450000000583982574660",
            bic="ESSESESS",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("25", "12", "6"),
                *_fee(),
                *_payroll("31.42", "7", "30"),
                *_late_interest(SRC_LATE_INTEREST_NON_EURO),
            ),
            amounts=(*_amounts("150", "1000000"), _compensation("SEK")),
        ),
        EntityData(
            code="nl",
            street="Coöperatiestraat 9",
            postal_code="1011 AB",
            city="Amsterdam",
            country="NL",
            legal_name="Smart Coop Nederland U.A.",
            currency="EUR",
            languages=("nl", "en"),
            time_zone="Europe/Amsterdam",
            vat_number="NL812345678B01",
            company_number="81234567",
            peppol_id="9944:NL812345678B01",
            iban="NL91ABNA0417164300",
            bic="ABNANL2A",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("21", "9"),
                *_fee(),
                *_payroll("20", "0", "37"),
                *_late_interest(),
            ),
            amounts=(*_amounts("14.06", "100000"), _compensation("EUR")),
        ),
        EntityData(
            code="at",
            street="Genossenschaftsgasse 4",
            postal_code="1010",
            city="Wien",
            country="AT",
            legal_name="Smart Coop Austria eGen",
            currency="EUR",
            languages=("de", "en"),
            time_zone="Europe/Vienna",
            vat_number="ATU12345675",
            company_number="FN 123456a",
            peppol_id="9914:ATU12345675",
            iban="AT242011182221219800",
            bic="GIBAATWWXXX",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("20", "13", "10"),
                *_fee(),
                *_payroll("22.73", "18.12", "20"),
                *_late_interest(),
            ),
            amounts=(*_amounts("12.00", "100000"), _compensation("EUR")),
            hiring_declaration="elda",
        ),
        EntityData(
            code="hu",
            street="Szövetkezet utca 6",
            postal_code="1051",
            city="Budapest",
            country="HU",
            legal_name="Smart Coop Hungary Szövetkezet",
            currency="HUF",
            languages=("hu", "en"),
            time_zone="Europe/Budapest",
            vat_number="HU12345676",
            company_number="01-02-123456",
            peppol_id="9910:HU12345676",
            iban="HU42117730161111101800000000",
            bic="OTPVHUHB",
            payout_delay_days=7,
            payout_delay_unit="calendar",
            rates=(
                *_vat("27", "18", "5"),
                *_fee(),
                *_payroll("13", "18.5", "15"),
                *_late_interest(SRC_LATE_INTEREST_NON_EURO),
            ),
            amounts=(*_amounts("1671", "40000000"), _compensation("HUF")),
            hiring_declaration="t1041",
        ),
    )
}

# The entities `make run` creates with demo users.
DEMO_ENTITY_CODES = ("be", "fr", "it", "se", "hu")
