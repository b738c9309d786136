"""The pain.001.001.09 net-pay file: schema-valid, sums right, refusals, deterministic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from payroll.sepa import Transfer, pain001_render
from smart_coop.tenancy.models import Entity

XSD = Path(__file__).resolve().parents[2] / "payroll" / "xsd" / "pain.001.001.09.xsd"
NS = {"n": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
RUN_DAY = date(2026, 11, 30)
MESSAGE_ID = "BE-SALARY-RUN-2026-11"

TRANSFERS = [
    Transfer(
        name="Zoë Dupont",
        iban="BE68 5390 0754 7034",
        bic="",
        amount=Decimal("1234.565"),
        end_to_end_id="BE-PAYSLIP-2026-11-0001",
        remittance="Salaire net novembre 2026",
    ),
    Transfer(
        name="Jean Martin",
        iban="FR14 2004 1010 0505 0001 3M02 606",
        bic="BNPAFRPP",
        amount=Decimal("10.10"),
        end_to_end_id="BE-PAYSLIP-2026-11-0002",
        remittance="Net pay November 2026",
    ),
    Transfer(
        name="Anna Schmidt",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        amount=Decimal("0.01"),
        end_to_end_id="BE-PAYSLIP-2026-11-0003",
        remittance="Nettolohn November 2026",
    ),
]


def _entity(**overrides: str) -> Entity:
    # Only the fields the file reads; nothing is saved.
    fields = {
        "code": "be",
        "legal_name": "SMart Coop SC",
        "currency": "EUR",
        "iban": "BE71 0961 2345 6769",
        "bic": "GKCCBEBB",
    }
    return Entity(**{**fields, **overrides})


def _render(entity: Entity | None = None, transfers: list[Transfer] | None = None) -> bytes:
    return pain001_render(
        entity=entity or _entity(),
        transfers=TRANSFERS if transfers is None else transfers,
        execution_date=RUN_DAY,
        message_id=MESSAGE_ID,
    )


def _texts(document: etree._Element, path: str) -> list[str]:
    return [node.text for node in document.xpath(path, namespaces=NS)]


def test_three_transfers_validate_against_the_xsd() -> None:
    document = etree.fromstring(_render())

    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(document), schema.error_log


def test_control_sum_and_number_of_transactions() -> None:
    document = etree.fromstring(_render())

    # 1234.565 rounds half-up to 1234.57; 1234.57 + 10.10 + 0.01
    for header in ("n:CstmrCdtTrfInitn/n:GrpHdr", "n:CstmrCdtTrfInitn/n:PmtInf"):
        assert _texts(document, f"{header}/n:NbOfTxs") == ["3"]
        assert _texts(document, f"{header}/n:CtrlSum") == ["1244.68"]
    assert _texts(document, "//n:CdtTrfTxInf/n:Amt/n:InstdAmt") == ["1234.57", "10.10", "0.01"]
    assert document.xpath("//n:InstdAmt/@Ccy", namespaces=NS) == ["EUR", "EUR", "EUR"]


def test_creditors_and_debtor() -> None:
    document = etree.fromstring(_render())

    assert _texts(document, "//n:CdtTrfTxInf/n:CdtrAcct/n:Id/n:IBAN") == [
        "BE68539007547034",
        "FR1420041010050500013M02606",
        "DE89370400440532013000",
    ]
    assert _texts(document, "//n:CdtTrfTxInf/n:PmtId/n:EndToEndId") == [
        "BE-PAYSLIP-2026-11-0001",
        "BE-PAYSLIP-2026-11-0002",
        "BE-PAYSLIP-2026-11-0003",
    ]
    assert _texts(document, "//n:CdtTrfTxInf/n:Cdtr/n:Nm")[0] == "Zoe Dupont"
    # An IBAN-only transfer carries no creditor agent; the others their BIC.
    assert _texts(document, "//n:CdtrAgt/n:FinInstnId/n:BICFI") == ["BNPAFRPP", "COBADEFFXXX"]

    payment = "n:CstmrCdtTrfInitn/n:PmtInf"
    assert _texts(document, f"{payment}/n:PmtInfId") == [MESSAGE_ID]
    assert _texts(document, "n:CstmrCdtTrfInitn/n:GrpHdr/n:MsgId") == [MESSAGE_ID]
    assert _texts(document, f"{payment}/n:BtchBookg") == ["true"]
    assert _texts(document, f"{payment}/n:PmtMtd") == ["TRF"]
    assert _texts(document, f"{payment}/n:ChrgBr") == ["SLEV"]
    assert _texts(document, f"{payment}/n:PmtTpInf/n:SvcLvl/n:Cd") == ["SEPA"]
    assert _texts(document, f"{payment}/n:ReqdExctnDt/n:Dt") == ["2026-11-30"]
    assert _texts(document, f"{payment}/n:Dbtr/n:Nm") == ["SMart Coop SC"]
    assert _texts(document, f"{payment}/n:DbtrAcct/n:Id/n:IBAN") == ["BE71096123456769"]
    assert _texts(document, f"{payment}/n:DbtrAgt/n:FinInstnId/n:BICFI") == ["GKCCBEBB"]


@pytest.mark.parametrize("currency", ["SEK", "HUF"])
def test_non_euro_entity_is_refused(currency: str) -> None:
    with pytest.raises(ValueError, match=f"EUR only.*'{currency}'"):
        _render(entity=_entity(code="se", currency=currency))


def test_invalid_creditor_iban_is_refused() -> None:
    bad = Transfer(
        name="Jean Martin",
        iban="BE68 5390 0754 7035",  # check digits do not match
        bic="",
        amount=Decimal("100.00"),
        end_to_end_id="BE-PAYSLIP-2026-11-0009",
        remittance="Net pay",
    )

    with pytest.raises(ValueError, match=r"Invalid IBAN for transfer 'BE-PAYSLIP-2026-11-0009'"):
        _render(transfers=[*TRANSFERS, bad])


def test_invalid_entity_iban_and_bic_are_refused() -> None:
    with pytest.raises(ValueError, match="Invalid IBAN for entity 'be'"):
        _render(entity=_entity(iban="BE71 0961 2345 6760"))
    with pytest.raises(ValueError, match="Invalid BIC for entity 'be'"):
        _render(entity=_entity(bic="GKCCQQBB"))
    with pytest.raises(ValueError, match="has no IBAN"):
        _render(entity=_entity(iban=""))


def test_other_refusals() -> None:
    first = TRANSFERS[0]
    with pytest.raises(ValueError, match="at least one transfer"):
        _render(transfers=[])
    with pytest.raises(ValueError, match="appears twice"):
        _render(transfers=[first, first])
    with pytest.raises(ValueError, match=r"outside 0\.01"):
        _render(transfers=[Transfer(**{**vars(first), "amount": Decimal("0.004")})])
    with pytest.raises(ValueError, match="Invalid end-to-end id"):
        _render(transfers=[Transfer(**{**vars(first), "end_to_end_id": "x" * 36})])
    with pytest.raises(ValueError, match="outside the SEPA zone"):
        _render(transfers=[Transfer(**{**vars(first), "iban": "BR1500000000000010932840814P2"})])
    with pytest.raises(TypeError, match="Decimal"):
        _render(transfers=[Transfer(**{**vars(first), "amount": 1.5})])


def _without_creation_time(xml: bytes) -> bytes:
    # sepaxml stamps GrpHdr/CreDtTm with the rendering time; everything else is the input's.
    document = etree.fromstring(xml)
    (created,) = document.xpath("//n:GrpHdr/n:CreDtTm", namespaces=NS)
    created.getparent().remove(created)
    return bytes(etree.tostring(document))


def test_same_input_same_bytes() -> None:
    first, second = _render(), _render()

    assert _without_creation_time(first) == _without_creation_time(second)
    assert first.count(b"<CreDtTm>") == 1
