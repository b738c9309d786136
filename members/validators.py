"""Identifiers of members and clients, validated with python-stdnum and schwifty."""

from __future__ import annotations

import re
from types import ModuleType

from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.at import vnr as at_vnr
from stdnum.be import bis as be_bis
from stdnum.be import nn as be_nn
from stdnum.be import vat as be_vat
from stdnum.de import idnr as de_idnr
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.se import personnummer as se_personnummer

from smart_coop.errors import DomainError
from smart_coop.identifiers import reason_for

# The number the authority uses to identify a worker, per entity country.
NATIONAL_ID_MODULES: dict[str, tuple[ModuleType, ...]] = {
    # national register number, or the BIS number of workers not in the register (Dimona
    # accepts both)
    "BE": (be_nn, be_bis),
    "FR": (fr_nir,),  # numéro de sécurité sociale
    "IT": (it_codicefiscale,),
    "DE": (de_idnr,),  # steuerliche Identifikationsnummer
    "ES": (es_nif,),  # DNI / NIE
    "SE": (se_personnummer,),
    "NL": (nl_bsn,),
    "AT": (at_vnr,),  # Versicherungsnummer
}
# Hungary's TAJ number has no python-stdnum module: its format (9 digits) is checked only.
NATIONAL_ID_FORMATS = {"HU": re.compile(r"^\d{9}$")}

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


def national_id_clean(number: str, *, country: str) -> str:
    modules = NATIONAL_ID_MODULES.get(country)
    if modules:
        errors: list[StdnumError] = []
        for module in modules:
            try:
                return str(module.validate(number))
            except StdnumError as error:
                errors.append(error)
        raise DomainError(
            _("Invalid national identification number: %(reason)s.")
            % {"reason": reason_for(errors[0])},
            field="national_id",
        ) from errors[0]
    compact = re.sub(r"[\s.\-/]", "", number)
    pattern = NATIONAL_ID_FORMATS.get(country)
    if pattern is not None and not pattern.match(compact):
        raise DomainError(
            _("Invalid national identification number: %(reason)s.")
            % {"reason": _("the format is not valid")},
            field="national_id",
        )
    if not compact:
        raise DomainError(_("The national identification number is required."), field="national_id")
    return compact


def iban_clean(number: str) -> str:
    try:
        return str(IBAN(number).compact)
    except SchwiftyException as error:
        raise DomainError(
            _("Invalid IBAN: %(reason)s.") % {"reason": reason_for(error)}, field="iban"
        ) from error


def bic_clean(code: str, *, iban: str) -> str:
    """The BIC given, checked; or the one the IBAN's bank registry knows."""
    if not code:
        try:
            found = IBAN(iban).bic
        except SchwiftyException:
            found = None
        return str(found) if found is not None else ""
    try:
        return str(BIC(code))
    except SchwiftyException as error:
        raise DomainError(
            _("Invalid BIC: %(reason)s.") % {"reason": reason_for(error)}, field="bic"
        ) from error


def client_vat_clean(number: str, *, country: str) -> str:
    if not number:
        return ""
    try:
        compact = str(eu_vat.validate(number))
    except StdnumError as error:
        raise DomainError(
            _("Invalid VAT number: %(reason)s.") % {"reason": reason_for(error)},
            field="vat_number",
        ) from error
    prefix = "EL" if country == "GR" else country
    if not compact.startswith(prefix):
        raise DomainError(
            _("This VAT number is not from %(country)s: it must start with %(prefix)s.")
            % {"country": country, "prefix": prefix},
            field="vat_number",
        )
    return compact


def peppol_id_derive(*, country: str, vat_number: str, company_number: str) -> str:
    """The Peppol participant id of a Belgian company: 0208 and its enterprise number."""
    if country == "BE" and (company_number or vat_number):
        try:
            enterprise = be_vat.compact(company_number or vat_number)
        except StdnumError:
            return ""
        if be_vat.is_valid(enterprise):
            return f"0208:{enterprise}"
    return ""
