"""Identifiers of members and clients: national numbers, IBAN/BIC, VAT numbers, Peppol ids."""

from __future__ import annotations

import pytest

from members.validators import (
    bic_clean,
    client_vat_clean,
    iban_clean,
    national_id_clean,
    peppol_id_derive,
)
from smart_coop.errors import DomainError

# 850730001 + check digits 97 - 850730001 % 97 = 60
BE_NATIONAL_ID = "85073000160"
# 1 85 07 75 123 010 + key 66 (97 - n % 97)
FR_NIR = "185077512301066"


# --- national numbers ------------------------------------------------------------------------


def test_a_belgian_national_number_is_kept_compact() -> None:
    assert national_id_clean("85.07.30-001.60", country="BE") == BE_NATIONAL_ID


def test_a_belgian_national_number_with_a_wrong_check_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        national_id_clean("85073003329", country="BE")

    assert refused.value.field == "national_id"
    assert refused.value.message.startswith("Invalid national identification number")


def test_a_french_nir_is_validated() -> None:
    assert national_id_clean(FR_NIR, country="FR") == FR_NIR


def test_a_belgian_number_is_not_a_french_nir() -> None:
    with pytest.raises(DomainError) as refused:
        national_id_clean(BE_NATIONAL_ID, country="FR")

    assert refused.value.field == "national_id"


def test_a_hungarian_taj_number_is_checked_for_its_nine_digits() -> None:
    assert national_id_clean("123 456 789", country="HU") == "123456789"
    with pytest.raises(DomainError) as refused:
        national_id_clean("12345678", country="HU")

    assert refused.value.field == "national_id"


def test_an_empty_number_is_refused_where_no_format_is_known() -> None:
    with pytest.raises(DomainError) as refused:
        national_id_clean(" - ", country="PT")

    assert refused.value.field == "national_id"
    assert refused.value.message == "The national identification number is required."


def test_a_belgian_bis_number_is_accepted_as_the_workers_social_security_number() -> None:
    # BIS number of a man born 1985-07-30 (month + 40), serial 001, check 97 - n % 97 = 49
    assert national_id_clean("85473000149", country="BE") == "85473000149"


# --- IBAN and BIC ----------------------------------------------------------------------------


def test_an_iban_is_kept_compact() -> None:
    assert iban_clean("BE71 0961 2345 6769") == "BE71096123456769"


def test_an_iban_with_a_wrong_checksum_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        iban_clean("BE71096123456768")

    assert refused.value.field == "iban"
    assert refused.value.message.startswith("Invalid IBAN")


def test_a_blank_bic_is_found_from_the_iban() -> None:
    assert bic_clean("", iban="BE71096123456769") == "GKCCBEBB"


def test_a_blank_bic_stays_blank_when_the_bank_is_unknown() -> None:
    assert bic_clean("", iban="BE68539007547034") == ""


def test_a_given_bic_is_checked() -> None:
    assert bic_clean("GEBABEBB", iban="BE71096123456769") == "GEBABEBB"
    with pytest.raises(DomainError) as refused:
        bic_clean("GEBA", iban="BE71096123456769")

    assert refused.value.field == "bic"


# --- VAT numbers -----------------------------------------------------------------------------


def test_a_vat_number_is_kept_compact() -> None:
    assert client_vat_clean("BE 0403.019.261", country="BE") == "BE0403019261"


def test_no_vat_number_is_allowed_here() -> None:
    assert client_vat_clean("", country="BE") == ""


def test_a_vat_number_with_a_wrong_check_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        client_vat_clean("BE0403019262", country="BE")

    assert refused.value.field == "vat_number"
    assert refused.value.message.startswith("Invalid VAT number")


def test_a_vat_number_of_another_country_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        client_vat_clean("BE0403019261", country="FR")

    assert refused.value.field == "vat_number"
    assert refused.value.message == "This VAT number is not from FR: it must start with FR."


def test_a_greek_vat_number_starts_with_el() -> None:
    assert client_vat_clean("EL094259216", country="GR") == "EL094259216"


# --- Peppol ids ------------------------------------------------------------------------------


def test_the_peppol_id_of_a_belgian_company_is_0208_and_its_enterprise_number() -> None:
    derived = peppol_id_derive(country="BE", vat_number="BE0403019261", company_number="")

    assert derived == "0208:0403019261"


def test_the_peppol_id_prefers_the_company_number() -> None:
    derived = peppol_id_derive(country="BE", vat_number="", company_number="0403.019.261")

    assert derived == "0208:0403019261"


def test_no_peppol_id_is_derived_outside_belgium() -> None:
    assert peppol_id_derive(country="FR", vat_number="FR40303265045", company_number="") == ""


def test_no_peppol_id_is_derived_without_a_number() -> None:
    assert peppol_id_derive(country="BE", vat_number="", company_number="") == ""
