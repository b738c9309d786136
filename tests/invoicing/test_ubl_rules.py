"""Every e-invoice we produce passes the UBL 2.1 XSD and the official EN 16931 and Peppol BIS
Billing 3.0 rules with no fatal assertion; the validator itself is checked on the official
examples first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree

from invoicing.documents import ubl_render
from invoicing.documents.ubl import CAC, CBC
from invoicing.models import Invoice
from smart_coop.tenancy.models import Entity
from tests.invoicing import scenarios
from tests.invoicing.validation import (
    FILES,
    assert_valid,
    describe,
    fatal_failures,
    rule_failures,
)

EXAMPLES = (
    "example-base-example.xml",
    "example-base-creditnote-correction.xml",
    "example-Vat-category-S.xml",
)


def text(xml: bytes, path: str) -> list[str]:
    return [
        str(found)
        for found in etree.fromstring(xml).xpath(
            f"{path}/text()", namespaces={"cac": CAC, "cbc": CBC}
        )
    ]


def attr(xml: bytes, path: str) -> list[str]:
    return [
        str(found)
        for found in etree.fromstring(xml).xpath(path, namespaces={"cac": CAC, "cbc": CBC})
    ]


# --- the validator ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_official_examples_pass(name: str) -> None:
    xml = (FILES / name).read_bytes()

    assert fatal_failures(xml) == [], describe(fatal_failures(xml))


def test_an_empty_invoice_number_fails_both_rule_sets() -> None:
    document = etree.fromstring((FILES / "example-base-example.xml").read_bytes())
    document.find(f"{{{CBC}}}ID").text = ""
    xml = etree.tostring(document)

    fatal = {failure.rule for failure in rule_failures(xml) if failure.flag == "fatal"}

    assert {"BR-02", "PEPPOL-EN16931-R008"} <= fatal, describe(rule_failures(xml))


# --- our documents ---------------------------------------------------------------------------

BE_CASES: dict[str, Callable[[], Invoice]] = {
    "domestic 21 %": scenarios.be_domestic,
    "with expenses": scenarios.be_with_expenses,
    "reverse charge to a French company": lambda: scenarios.invoice_issue(**scenarios.FR_COMPANY),
    "export to a US company": lambda: scenarios.invoice_issue(**scenarios.US_COMPANY),
    "export to a Swiss company": lambda: scenarios.invoice_issue(**scenarios.CH_COMPANY),
    "full credit note": lambda: scenarios.credit_note(scenarios.be_domestic()),
    "partial credit note": lambda: scenarios.credit_note(
        scenarios.be_domestic(), net_amount="250.00"
    ),
    "SE entity in SEK": lambda: scenarios.foreign_invoice(
        "se", prices=("12500.00", "3000.00"), rate="25"
    ),
    "HU entity in HUF": lambda: scenarios.foreign_invoice(
        "hu", prices=("123457", "45000"), rate="27"
    ),
}


@pytest.mark.parametrize("case", BE_CASES)
def test_each_document_is_a_valid_peppol_e_invoice(in_be: Entity, case: str) -> None:
    xml = ubl_render(BE_CASES[case]())

    assert_valid(xml)


def test_a_french_entity_invoice_is_valid(in_fr: Entity) -> None:
    xml = ubl_render(scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR))

    assert_valid(xml)
    assert text(xml, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == ["20.00"]
    assert attr(xml, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID") == ["9957"]


# --- what the documents say ------------------------------------------------------------------

BUYER_ENDPOINT = "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"


def test_a_belgian_invoice_carries_the_peppol_identifiers_and_payment(in_be: Entity) -> None:
    invoice = scenarios.be_domestic()

    xml = ubl_render(invoice)

    assert text(xml, "cbc:CustomizationID") == [
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    ]
    assert text(xml, "cbc:ProfileID") == ["urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"]
    assert text(xml, "cbc:InvoiceTypeCode") == ["380"]
    assert attr(xml, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID") == ["0208"]
    assert text(xml, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID") == ["0765432146"]
    assert attr(xml, f"{BUYER_ENDPOINT}/@schemeID") == ["0208"]
    assert text(xml, BUYER_ENDPOINT) == ["0403019261"]
    assert text(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["58"]
    assert text(xml, "cac:PaymentMeans/cbc:PaymentID") == [invoice.payment_reference]
    assert text(xml, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == ["BE48001123456727"]
    assert text(xml, "cbc:Note") == [
        # The buyer's language is French: the note is written in it.
        f"Travail effectué par {invoice.performer}, membre de Smart Coop Belgium SC."
    ]
    assert text(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["1210.00"]
    assert attr(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID") == ["EUR"]
    assert text(xml, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == ["21.00"]


@pytest.mark.parametrize(
    ("client", "category", "reason_code"),
    [
        (scenarios.FR_COMPANY, "AE", "VATEX-EU-AE"),
        (scenarios.US_COMPANY, "G", "VATEX-EU-G"),
    ],
)
def test_zero_rated_subtotals_give_the_exemption_reason(
    in_be: Entity, client: dict[str, str], category: str, reason_code: str
) -> None:
    xml = ubl_render(scenarios.invoice_issue(**client))

    subtotal = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert text(xml, f"{subtotal}/cbc:ID") == [category]
    assert text(xml, f"{subtotal}/cbc:Percent") == ["0.00"]
    assert text(xml, f"{subtotal}/cbc:TaxExemptionReasonCode") == [reason_code]
    assert text(xml, "cac:TaxTotal/cbc:TaxAmount") == ["0.00"]
    assert text(xml, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID") == [category]


@pytest.mark.parametrize(
    ("client", "scheme", "identifier"),
    [
        (scenarios.FR_COMPANY, "9957", "FR96552100554"),  # a VAT number, by its country
        (scenarios.US_COMPANY, "9959", "123456789"),  # the US employer id
        (scenarios.CH_COMPANY, "0183", "CHE123456788"),  # the Swiss company id
    ],
)
def test_the_buyer_address_comes_from_its_identifiers(
    in_be: Entity, client: dict[str, str], scheme: str, identifier: str
) -> None:
    xml = ubl_render(scenarios.invoice_issue(**client))

    assert attr(xml, f"{BUYER_ENDPOINT}/@schemeID") == [scheme]
    assert text(xml, BUYER_ENDPOINT) == [identifier]


def test_a_buyer_without_identifiers_gets_its_email_which_peppol_refuses(in_be: Entity) -> None:
    """A public body or a person with no VAT or company number is not on Peppol: its address
    is its email (EN 16931 accepts "EM"; the Peppol code list no longer does). The document is
    still sent by email; this pins the one rule it breaks."""
    invoice = scenarios.invoice_issue()  # the factory's client: a public body, no numbers

    xml = ubl_render(invoice)

    assert attr(xml, f"{BUYER_ENDPOINT}/@schemeID") == ["EM"]
    assert text(xml, BUYER_ENDPOINT) == [invoice.buyer["email"]]
    assert {failure.rule for failure in fatal_failures(xml)} == {"PEPPOL-EN16931-CL008"}


def test_a_credit_note_is_a_creditnote_naming_the_invoice(in_be: Entity) -> None:
    invoice = scenarios.be_domestic()
    note = scenarios.credit_note(invoice, net_amount="250.00")

    xml = ubl_render(note)

    assert etree.QName(etree.fromstring(xml)).localname == "CreditNote"
    assert text(xml, "cbc:CreditNoteTypeCode") == ["381"]
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert text(xml, f"{reference}/cbc:ID") == [invoice.number]
    assert text(xml, f"{reference}/cbc:IssueDate") == [invoice.issue_date.isoformat()]
    assert text(xml, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["1.00"]
    assert text(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["302.50"]
    assert text(xml, "cbc:Note")[0].startswith("Concert shortened - Travail effectué par")
    assert text(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == []


FOREIGN = {
    # entity: (prices, VAT rate, payable, the buyer's address scheme)
    "se": (("12500.00", "3000.00"), "25", "19375.00", "0007"),
    "hu": (("123457", "45000"), "27", "213940.00", "9910"),
}


@pytest.mark.parametrize("code", FOREIGN)
def test_other_currencies_keep_their_own_rounding(in_be: Entity, code: str) -> None:
    """SEK and HUF are not SEPA euro (transfer code 30); forints are whole, written .00."""
    prices, rate, payable, buyer_scheme = FOREIGN[code]
    invoice = scenarios.foreign_invoice(code, prices=prices, rate=rate)

    xml = ubl_render(invoice)

    assert text(xml, "cbc:DocumentCurrencyCode") == [invoice.currency]
    assert set(attr(xml, "//@currencyID")) == {invoice.currency}
    assert text(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == [payable]
    assert text(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["30"]
    assert text(xml, "cac:PaymentMeans/cbc:PaymentID") == [
        invoice.payment_reference.replace(" ", "")
    ]
    assert attr(xml, f"{BUYER_ENDPOINT}/@schemeID") == [buyer_scheme]


def test_the_xml_is_the_same_each_time(in_be: Entity) -> None:
    invoice = scenarios.be_domestic()

    assert ubl_render(invoice) == ubl_render(Invoice.objects.get(pk=invoice.pk))
