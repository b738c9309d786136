"""The SEPA credit transfer file (pain.001.001.09) that pays the net salaries of a salary run.

The file is built with lxml in the layout ``sepaxml`` writes (its cleaning and amount format) and
then checked against the ISO 20022 schema before it leaves this module: one tree, serialised
once (a month-end payout file holds 20,000 transfers). SEPA transfers are in euro only: the EUR
entities pay net pay with this file, the SEK and HUF entities pay by other means (their domestic
bank formats) and are refused here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from lxml import etree
from schwifty import BIC, IBAN
from sepaxml.utils import int_to_decimal_str
from text_unidecode import unidecode  # sepaxml's own cleaning

from smart_coop.money import quantize

if TYPE_CHECKING:
    from smart_coop.tenancy.models import Entity

SCHEMA = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
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
    half-up to the cent. Names and remittance are transliterated to ASCII as sepaxml does (names
    cut at 70 characters, remittance at 140). ``message_id`` is both MsgId and PmtInfId, so the
    same input gives the same bytes except ``GrpHdr/CreDtTm``, the local time of rendering.
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

    debtor_iban = _sepa_iban(entity.iban, f"entity {entity.code!r}")
    debtor_bic = _bic(entity.bic, f"entity {entity.code!r}") if entity.bic else ""

    payments = []
    seen: set[str] = set()
    ibans: dict[str, str] = {}  # a member paid for several contracts: one IBAN check
    for transfer in transfers:
        _check_identifier("end-to-end id", transfer.end_to_end_id)
        if transfer.end_to_end_id in seen:
            raise ValueError(f"End-to-end id {transfer.end_to_end_id!r} appears twice")
        seen.add(transfer.end_to_end_id)
        payments.append(_payment(transfer, ibans))

    document = _document(
        message_id=message_id,
        name=unidecode(entity.legal_name)[:70],
        iban=debtor_iban,
        bic=debtor_bic,
        execution_date=execution_date,
        payments=payments,
    )
    schema = _schema()
    if not schema.validate(document):
        raise ValueError(f"The {SCHEMA} file does not validate: {schema.error_log.last_error}")
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class _Payment:
    name: str  # cleaned
    iban: str
    bic: str
    cents: int
    end_to_end_id: str
    remittance: str  # cleaned


def _document(
    *,
    message_id: str,
    name: str,
    iban: str,
    bic: str,
    execution_date: date,
    payments: list[_Payment],
) -> etree._Element:
    """The document, element for element as sepaxml lays out a batch-booked transfer file."""
    ns = f"{{{NAMESPACE}}}"
    sub = etree.SubElement

    def leaf(parent: etree._Element, tag: str, text: str) -> etree._Element:
        node = sub(parent, ns + tag)
        node.text = text
        return node

    total = int_to_decimal_str(sum(payment.cents for payment in payments))
    count = str(len(payments))
    document = etree.Element(ns + "Document", nsmap={None: NAMESPACE, "xsi": XSI})
    initiation = sub(document, ns + "CstmrCdtTrfInitn")
    header = sub(initiation, ns + "GrpHdr")
    leaf(header, "MsgId", message_id)
    leaf(header, "CreDtTm", datetime.now().strftime("%Y-%m-%dT%H:%M:%S"))  # noqa: DTZ005 - local time, as sepaxml
    leaf(header, "NbOfTxs", count)
    leaf(header, "CtrlSum", total)
    leaf(sub(header, ns + "InitgPty"), "Nm", name)
    info = sub(initiation, ns + "PmtInf")
    leaf(info, "PmtInfId", message_id)
    leaf(info, "PmtMtd", "TRF")
    leaf(info, "BtchBookg", "true")
    leaf(info, "NbOfTxs", count)
    leaf(info, "CtrlSum", total)
    leaf(sub(sub(info, ns + "PmtTpInf"), ns + "SvcLvl"), "Cd", "SEPA")
    leaf(sub(info, ns + "ReqdExctnDt"), "Dt", execution_date.isoformat())
    leaf(sub(info, ns + "Dbtr"), "Nm", name)
    leaf(sub(sub(info, ns + "DbtrAcct"), ns + "Id"), "IBAN", iban)
    institution = sub(sub(info, ns + "DbtrAgt"), ns + "FinInstnId")
    if bic:
        leaf(institution, "BICFI", bic)
    leaf(info, "ChrgBr", "SLEV")
    for payment in payments:
        node = sub(info, ns + "CdtTrfTxInf")
        leaf(sub(node, ns + "PmtId"), "EndToEndId", payment.end_to_end_id)
        leaf(sub(node, ns + "Amt"), "InstdAmt", int_to_decimal_str(payment.cents)).set(
            "Ccy", CURRENCY
        )
        if payment.bic:
            leaf(sub(sub(node, ns + "CdtrAgt"), ns + "FinInstnId"), "BICFI", payment.bic)
        leaf(sub(node, ns + "Cdtr"), "Nm", payment.name)
        leaf(sub(sub(node, ns + "CdtrAcct"), ns + "Id"), "IBAN", payment.iban)
        leaf(sub(node, ns + "RmtInf"), "Ustrd", payment.remittance)
    return document


def _payment(transfer: Transfer, ibans: dict[str, str]) -> _Payment:
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
    iban = ibans.get(transfer.iban)
    if iban is None:
        iban = ibans[transfer.iban] = _sepa_iban(transfer.iban, label)
    return _Payment(
        name=unidecode(transfer.name)[:70],
        iban=iban,
        bic=_bic(transfer.bic, label) if transfer.bic else "",
        cents=int(amount.scaleb(2)),
        end_to_end_id=transfer.end_to_end_id,
        remittance=unidecode(transfer.remittance)[:140],
    )


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


@cache
def _schema() -> etree.XMLSchema:
    # The XSD bundled with sepaxml is installed wherever this code runs (a copy with its source
    # is in payroll/xsd/ for the tests).
    xsd = files("sepaxml").joinpath("schemas", f"{SCHEMA}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd))
