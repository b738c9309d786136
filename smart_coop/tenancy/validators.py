"""Validation of the coop's own identifiers, with python-stdnum and schwifty."""

from __future__ import annotations

from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from smart_coop.errors import DomainError
from smart_coop.identifiers import reason_for


def vat_number_clean(number: str, *, country: str) -> str:
    """Return the VAT number in its compact form, or raise DomainError saying what is wrong."""
    try:
        compact: str = eu_vat.validate(number)
    except StdnumError as error:
        raise DomainError(
            _("Invalid VAT number %(number)s: %(reason)s.")
            % {"number": repr(number), "reason": reason_for(error)},
            field="vat_number",
            code="vat_invalid",
        ) from error
    prefix = "EL" if country == "GR" else country
    if not compact.startswith(prefix):
        raise DomainError(
            _(
                "VAT number %(number)s is not a %(country)s VAT number "
                "(it must start with %(prefix)s)."
            )
            % {"number": repr(number), "country": country, "prefix": prefix},
            field="vat_number",
            code="vat_country",
        )
    return compact


def iban_clean(number: str, *, country: str) -> str:
    try:
        iban = IBAN(number)
    except SchwiftyException as error:
        raise DomainError(
            _("Invalid IBAN %(number)s: %(reason)s.")
            % {"number": repr(number), "reason": reason_for(error)},
            field="iban",
        ) from error
    if iban.country_code != country:
        raise DomainError(
            _("IBAN %(number)s is not a %(country)s account.")
            % {"number": repr(number), "country": country},
            field="iban",
        )
    return str(iban.compact)
