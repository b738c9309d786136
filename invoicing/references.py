"""Structured payment references, validated with python-stdnum.

Belgium uses the OGM/VCS ``+++123/4567/89002+++`` (10 digits and a mod 97 check); the other
entities the ISO 11649 creditor reference ``RF..``. Both are built from the document number, so
a bank line that carries one names exactly one invoice.
"""

from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.be import ogm_vcs
from stdnum.iso7064 import mod_97_10


def ogm_from_number(*, year: int, sequence: int, credit_note: bool = False) -> str:
    """Year (2 digits), kind (0 invoice, 9 credit note), sequence (7 digits), mod 97."""
    if not 0 < sequence < 10_000_000:
        raise ValueError(f"sequence {sequence} does not fit a Belgian structured reference")
    base = f"{year % 100:02d}{9 if credit_note else 0}{sequence:07d}"
    return f"+++{ogm_vcs.format(base + ogm_vcs.calc_check_digits(base))}+++"


def rf_from_number(number: str) -> str:
    reference = re.sub(r"[^0-9A-Z]", "", number.upper())[:21]
    check = mod_97_10.calc_check_digits(reference + "RF")
    return iso11649.format(f"RF{check}{reference}")


def reference_for(*, country: str, number: str, year: int, sequence: int) -> str:
    if country == "BE":
        return ogm_from_number(year=year, sequence=sequence, credit_note="-CN-" in number)
    return rf_from_number(number)


def reference_compact(text: str) -> str:
    """The reference as banks and statements may write it, reduced to comparable characters."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def reference_is_valid(reference: str) -> bool:
    compact = reference_compact(reference)
    if compact.startswith("RF"):
        return bool(iso11649.is_valid(compact))
    return bool(ogm_vcs.is_valid(compact))
