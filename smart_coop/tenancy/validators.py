"""Validation of the coop's own identifiers, with python-stdnum and schwifty."""

from __future__ import annotations

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from smart_coop.errors import DomainError


def vat_number_clean(number: str, *, country: str) -> str:
    """Return the VAT number in its compact form, or raise DomainError saying what is wrong."""
    try:
        compact: str = eu_vat.validate(number)
    except StdnumError as error:
        raise DomainError(
            f"Invalid VAT number {number!r}: {error}", field="vat_number", code="vat_invalid"
        ) from error
    prefix = "EL" if country == "GR" else country
    if not compact.startswith(prefix):
        raise DomainError(
            f"VAT number {number!r} is not a {country} VAT number (it must start with {prefix}).",
            field="vat_number",
            code="vat_country",
        )
    return compact


def iban_clean(number: str, *, country: str) -> str:
    try:
        iban = IBAN(number)
    except SchwiftyException as error:
        raise DomainError(f"Invalid IBAN {number!r}: {error}", field="iban") from error
    if iban.country_code != country:
        raise DomainError(f"IBAN {number!r} is not a {country} account.", field="iban")
    return str(iban.compact)
