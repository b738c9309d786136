"""The SEPA credit transfer file (pain.001.001.09) that pays the net salaries of a salary run.

The file is built by ``sepaxml`` and then checked against the ISO 20022 schema before it leaves
this module. SEPA transfers are in euro only: the EUR entities pay net pay with this file, the
SEK and HUF entities pay by other means (their domestic bank formats) and are refused here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from lxml import etree
from schwifty import BIC, IBAN
from sepaxml import SepaTransfer

from smart_coop.money import quantize

if TYPE_CHECKING:
    from smart_coop.tenancy.models import Entity

SCHEMA = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
CURRENCY = "EUR"
# SEPA SCT rulebook: one transfer is between 0.01 and 999 999 999.99 EUR.
MAX_AMOUNT = Decimal("999999999.99")
# Identifiers (MsgId, PmtInfId, EndToEndId) are Max35Text in the schema; the EPC implementation
# guidelines (EPC132-08) restrict them to the SEPA Latin character set, without a leading or
# trailing "/" and without "//".
_IDENTIFIER = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]{1,35}")
REMITTANCE_MAX = 140  # Ustrd is Max140Text


@dataclass(frozen=True)
class Transfer:
    """One net-pay transfer to a member. ``bic`` may be empty (IBAN-only SEPA)."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    end_to_end_id: str
    remittance: str


def pain001_render(
    *,
    entity: Entity,
    transfers: Sequence[Transfer],
    execution_date: date,
    message_id: str,
) -> bytes:
    """The pain.001.001.09 document paying ``transfers`` from ``entity``'s account.

    Refuses (``ValueError``, nothing written) an entity whose currency is not EUR: SEPA credit
    transfers exist only in euro, so the SEK and HUF entities pay net pay by other means. Also
    refuses an invalid or non-SEPA IBAN, an invalid BIC, a non-positive amount, a malformed or
    repeated identifier, a remittance over 140 characters and an empty list.

    One payment information block, batch booked, with the entity (legal name, IBAN, BIC) as
    debtor and charges shared (SLEV); transfers keep the caller's order; amounts are rounded
    half-up to the cent. Names and remittance are transliterated to ASCII by sepaxml (names cut
    at 70 characters). ``message_id`` is both MsgId and PmtInfId, so the same input gives the
    same bytes except ``GrpHdr/CreDtTm``, which sepaxml sets to the local time of rendering.
    """
    if entity.currency != CURRENCY:
        raise ValueError(
            f"SEPA credit transfers are in EUR only; entity {entity.code!r} pays in "
            f"{entity.currency!r}"
        )
    if not transfers:
        raise ValueError("A SEPA credit transfer file needs at least one transfer")
    _check_identifier("message id", message_id)
    if not entity.iban:
        raise ValueError(f"Entity {entity.code!r} has no IBAN to pay from")

    config: dict[str, object] = {
        "name": entity.legal_name,
        "IBAN": _sepa_iban(entity.iban, f"entity {entity.code!r}"),
        "batch": True,
        "currency": CURRENCY,
    }
    if entity.bic:
        config["BIC"] = _bic(entity.bic, f"entity {entity.code!r}")

    payments = []
    seen: set[str] = set()
    for transfer in transfers:
        _check_identifier("end-to-end id", transfer.end_to_end_id)
        if transfer.end_to_end_id in seen:
            raise ValueError(f"End-to-end id {transfer.end_to_end_id!r} appears twice")
        seen.add(transfer.end_to_end_id)
        payments.append(_payment(transfer, execution_date))

    sepa = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payment in payments:
        sepa.add_payment(payment)
    # Validated below, once the random identifiers sepaxml draws are replaced.
    document = etree.fromstring(sepa.export(validate=False))
    _set_text(document, "n:CstmrCdtTrfInitn/n:GrpHdr/n:MsgId", message_id)
    _set_text(document, "n:CstmrCdtTrfInitn/n:PmtInf/n:PmtInfId", message_id)
    schema = _schema()
    if not schema.validate(document):
        raise ValueError(f"The {SCHEMA} file does not validate: {schema.error_log.last_error}")
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


def _payment(transfer: Transfer, execution_date: date) -> dict[str, object]:
    if not isinstance(transfer.amount, Decimal):
        raise TypeError(f"Amount must be Decimal, not {type(transfer.amount).__name__}")
    amount = quantize(transfer.amount, CURRENCY)
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise ValueError(
            f"Amount {amount} EUR for {transfer.end_to_end_id!r} is outside 0.01-{MAX_AMOUNT}"
        )
    if not transfer.name.strip():
        raise ValueError(f"Transfer {transfer.end_to_end_id!r} has no creditor name")
    if len(transfer.remittance) > REMITTANCE_MAX:
        raise ValueError(
            f"Remittance of {transfer.end_to_end_id!r} is longer than {REMITTANCE_MAX} characters"
        )
    label = f"transfer {transfer.end_to_end_id!r}"
    payment: dict[str, object] = {
        "name": transfer.name,
        "IBAN": _sepa_iban(transfer.iban, label),
        "amount": int(amount.scaleb(2)),  # sepaxml takes integer cents
        "execution_date": execution_date,
        "description": transfer.remittance,
        "endtoend_id": transfer.end_to_end_id,
    }
    if transfer.bic:
        payment["BIC"] = _bic(transfer.bic, label)
    return payment


def _sepa_iban(value: str, label: str) -> str:
    try:
        iban = IBAN(value)
    except ValueError as error:  # schwifty's errors are ValueErrors
        raise ValueError(f"Invalid IBAN for {label}: {error}") from None
    if not iban.in_sepa_zone:
        raise ValueError(f"IBAN of {label} is outside the SEPA zone ({iban.country_code})")
    return str(iban.compact)


def _bic(value: str, label: str) -> str:
    try:
        return str(BIC(value).compact)
    except ValueError as error:
        raise ValueError(f"Invalid BIC for {label}: {error}") from None


def _check_identifier(label: str, value: str) -> None:
    if not _IDENTIFIER.fullmatch(value) or value.startswith("/") or value.endswith("/"):
        raise ValueError(f"Invalid {label} {value!r}: 1-35 SEPA characters, no leading/trailing /")
    if "//" in value:
        raise ValueError(f"Invalid {label} {value!r}: '//' is not allowed")


def _set_text(document: etree._Element, path: str, text: str) -> None:
    nodes = document.xpath(path, namespaces={"n": NAMESPACE})
    if len(nodes) != 1:
        raise RuntimeError(f"Expected one {path} in the sepaxml output, found {len(nodes)}")
    nodes[0].text = text


@cache
def _schema() -> etree.XMLSchema:
    # The XSD bundled with sepaxml is installed wherever this code runs (a copy with its source
    # is in payroll/xsd/ for the tests).
    xsd = files("sepaxml").joinpath("schemas", f"{SCHEMA}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd))
