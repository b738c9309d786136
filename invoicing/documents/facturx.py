"""Factur-X, the French hybrid e-invoice: the PDF with the same invoice as CII XML inside
(profile EN 16931), from the snapshot only.

The XML is UN/CEFACT Cross Industry Invoice D16B as Factur-X 1.0 (EN 16931 profile) defines
it; the ``factur-x`` library checks it against the XSD, embeds it as ``factur-x.xml`` and
writes the PDF/A-3 metadata.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import translation
from facturx import generate_from_binary
from lxml import etree

from invoicing.documents.pdf import pdf_render
from invoicing.documents.ubl import (
    COMPANY_SCHEME,
    EXEMPTION_CODES,
    SEPA_CURRENCIES,
    UNIT_ONE,
    Snapshot,
    amount,
    buyer_endpoint,
    document_note,
    endpoint_parse,
    payment_id,
    payment_terms,
    percent,
)
from invoicing.models import Invoice

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"


def _add(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}")
    if text is not None:
        element.text = text
    for key, value in attrs.items():
        element.set(key, value)
    return element


def _date(parent: Any, tag: str, day: datetime.date, namespace: str = "udt") -> None:
    _add(_add(parent, tag), f"{namespace}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _party(
    parent: Any, tag: str, data: dict[str, Any], *, electronic: tuple[str, str] | None
) -> None:
    party = _add(parent, tag)
    _add(party, "ram:Name", data.get("name", ""))
    company = data.get("company_number") or ""
    if company:
        legal = _add(party, "ram:SpecifiedLegalOrganization")
        scheme = COMPANY_SCHEME.get((data.get("country") or "").upper())
        compact = "".join(char for char in company if char.isalnum())
        if scheme:
            _add(legal, "ram:ID", compact, schemeID=scheme)
        else:
            _add(legal, "ram:ID", company)
    address = _add(party, "ram:PostalTradeAddress")
    if data.get("postal_code"):
        _add(address, "ram:PostcodeCode", data["postal_code"])
    if data.get("street"):
        _add(address, "ram:LineOne", data["street"])
    if data.get("city"):
        _add(address, "ram:CityName", data["city"])
    _add(address, "ram:CountryID", (data.get("country") or "").upper())
    if electronic is not None:
        communication = _add(party, "ram:URIUniversalCommunication")
        _add(communication, "ram:URIID", electronic[1], schemeID=electronic[0])
    if data.get("vat_number"):
        _add(
            _add(party, "ram:SpecifiedTaxRegistration"), "ram:ID", data["vat_number"], schemeID="VA"
        )


def _line_items(transaction: Any, snapshot: Snapshot) -> None:
    for line in snapshot.lines:
        item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _add(_add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
        _add(_add(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        agreement = _add(item, "ram:SpecifiedLineTradeAgreement")
        price = _add(agreement, "ram:NetPriceProductTradePrice")
        _add(price, "ram:ChargeAmount", amount(line.unit_price))
        delivery = _add(item, "ram:SpecifiedLineTradeDelivery")
        _add(delivery, "ram:BilledQuantity", f"{line.quantity:.2f}", unitCode=UNIT_ONE)
        settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
        tax = _add(settlement, "ram:ApplicableTradeTax")
        _add(tax, "ram:TypeCode", "VAT")
        _add(tax, "ram:CategoryCode", line.vat_category)
        _add(tax, "ram:RateApplicablePercent", percent(line.vat_rate))
        summation = _add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _add(summation, "ram:LineTotalAmount", amount(line.net_amount))


def _agreement(transaction: Any, invoice: Invoice) -> None:
    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    _add(agreement, "ram:BuyerReference", invoice.number)
    seller = endpoint_parse(invoice.seller.get("peppol_id") or "")
    _party(
        agreement,
        "ram:SellerTradeParty",
        invoice.seller,
        electronic=(seller.scheme, seller.identifier) if seller else None,
    )
    buyer = buyer_endpoint(invoice.buyer)
    _party(
        agreement, "ram:BuyerTradeParty", invoice.buyer, electronic=(buyer.scheme, buyer.identifier)
    )


def _payment_means(settlement: Any, invoice: Invoice) -> None:
    seller = invoice.seller
    if invoice.is_credit_note or not seller.get("iban"):
        return
    means = _add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _add(means, "ram:TypeCode", "58" if invoice.currency in SEPA_CURRENCIES else "30")
    account = _add(means, "ram:PayeePartyCreditorFinancialAccount")
    _add(account, "ram:IBANID", "".join(seller["iban"].split()))
    if seller.get("bic"):
        institution = _add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
        _add(institution, "ram:BICID", seller["bic"])


def _settlement(transaction: Any, snapshot: Snapshot, terms: str) -> None:
    invoice, credited = snapshot.invoice, snapshot.credited
    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    if not invoice.is_credit_note and invoice.payment_reference:
        _add(settlement, "ram:PaymentReference", payment_id(invoice.payment_reference))
    _add(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    _payment_means(settlement, invoice)
    for row in snapshot.taxes:
        tax = _add(settlement, "ram:ApplicableTradeTax")
        _add(tax, "ram:CalculatedAmount", amount(row.tax_amount))
        _add(tax, "ram:TypeCode", "VAT")
        if row.category in EXEMPTION_CODES and row.exemption_reason:
            _add(tax, "ram:ExemptionReason", row.exemption_reason)
        _add(tax, "ram:BasisAmount", amount(row.taxable_amount))
        _add(tax, "ram:CategoryCode", row.category)
        if row.category in EXEMPTION_CODES:
            _add(tax, "ram:ExemptionReasonCode", EXEMPTION_CODES[row.category])
        _add(tax, "ram:RateApplicablePercent", percent(row.rate))
    payment = _add(settlement, "ram:SpecifiedTradePaymentTerms")
    _add(payment, "ram:Description", terms)
    if not invoice.is_credit_note and invoice.due_date:
        _date(payment, "ram:DueDateDateTime", invoice.due_date)
    totals = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _add(totals, "ram:LineTotalAmount", amount(invoice.net_total))
    _add(totals, "ram:TaxBasisTotalAmount", amount(invoice.net_total))
    _add(totals, "ram:TaxTotalAmount", amount(invoice.vat_total), currencyID=invoice.currency)
    _add(totals, "ram:GrandTotalAmount", amount(invoice.gross_total))
    _add(totals, "ram:DuePayableAmount", amount(invoice.gross_total))
    if invoice.is_credit_note and credited is not None and credited.number:
        reference = _add(settlement, "ram:InvoiceReferencedDocument")
        _add(reference, "ram:IssuerAssignedID", credited.number)
        if credited.issue_date:
            _date(reference, "ram:FormattedIssueDateTime", credited.issue_date, "qdt")


def cii_render(invoice: Invoice) -> bytes:
    """The Factur-X XML (CII, EN 16931 profile) of an issued invoice or credit note."""
    snapshot = Snapshot.of(invoice)
    assert invoice.number, "only an issued document is rendered"
    assert invoice.issue_date, "only an issued document is rendered"
    with translation.override(invoice.language or None):
        note, terms = document_note(invoice), payment_terms(invoice, snapshot.credited)

    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _add(root, "rsm:ExchangedDocumentContext")
    guideline = _add(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _add(guideline, "ram:ID", GUIDELINE_EN16931)
    document = _add(root, "rsm:ExchangedDocument")
    _add(document, "ram:ID", invoice.number)
    _add(document, "ram:TypeCode", "381" if invoice.is_credit_note else "380")
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    _add(_add(document, "ram:IncludedNote"), "ram:Content", note)
    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    # In the order the Factur-X schema wants them.
    _line_items(transaction, snapshot)
    _agreement(transaction, invoice)
    _add(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, snapshot, terms)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def facturx_render(invoice: Invoice) -> bytes:
    """The Factur-X PDF: the invoice's PDF with its CII XML embedded (checked on the XSD)."""
    return bytes(
        generate_from_binary(
            # Factur-X is a PDF/A-3 with the XML attached.
            pdf_render(invoice, pdf_variant="pdf/a-3b"),
            cii_render(invoice),
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            lang=invoice.language or None,
        )
    )
