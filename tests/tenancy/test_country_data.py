from __future__ import annotations

import zoneinfo
from decimal import Decimal

import pytest
from schwifty import IBAN
from stdnum.eu import vat

from smart_coop.tenancy.country_data import ENTITIES

EXPECTED_CURRENCY = {
    "be": "EUR", "fr": "EUR", "it": "EUR", "de": "EUR", "es": "EUR",
    "se": "SEK", "nl": "EUR", "at": "EUR", "hu": "HUF",
}  # fmt: skip
EXPECTED_STANDARD_VAT = {
    "be": "21", "fr": "20", "it": "22", "de": "19", "es": "21",
    "se": "25", "nl": "21", "at": "20", "hu": "27",
}  # fmt: skip


def test_the_nine_entities_are_there() -> None:
    assert sorted(ENTITIES) == sorted(EXPECTED_CURRENCY)


@pytest.mark.parametrize("code", sorted(EXPECTED_CURRENCY))
def test_country_data_is_valid(code: str) -> None:
    data = ENTITIES[code]
    assert data.currency == EXPECTED_CURRENCY[code]
    assert vat.is_valid(data.vat_number)
    assert data.vat_number.startswith(data.country)
    iban = IBAN(data.iban)
    assert iban.country_code == data.country
    zoneinfo.ZoneInfo(data.time_zone)
    assert data.languages[-1] == "en"
    scheme, identifier = data.peppol_id.split(":")
    assert len(scheme) == 4
    assert scheme.isdigit()
    assert identifier
    standard = [r for r in data.rates if r.kind == "vat_standard"]
    assert [r.percent for r in standard] == [Decimal(EXPECTED_STANDARD_VAT[code])]
    assert all(r.source for r in data.rates)
    assert data.payout_delay_days == 7


def test_belgium_fee_is_sourced() -> None:
    fee = next(r for r in ENTITIES["be"].rates if r.kind == "fee")
    assert fee.percent == Decimal("6.5")
    assert fee.verified
    assert "smartbe.be" in fee.source
    assert ENTITIES["be"].peppol_id == "0208:0765432146"
