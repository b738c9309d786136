"""The e-invoice: Peppol BIS Billing 3.0 in UBL 2.1, from the issued document's snapshot only.

An invoice is an ``Invoice`` (type 380), a credit note a ``CreditNote`` (381) that names the
invoice it credits. Seller and buyer come from the JSON frozen at issue, figures from the
document, its lines and its VAT breakdown: the XML of a document is the same whenever it is
rendered. Checked in the tests against the UBL XSD and the official EN 16931 and Peppol rules.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree

from invoicing.models import Invoice, InvoiceLine, InvoiceTax, VatCategory

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

# Peppol electronic address schemes (EAS code list) of a VAT number, by country.
VAT_EAS = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928", "CZ": "9929",
    "DE": "9930", "EE": "9931", "ES": "9920", "FR": "9957", "GB": "9932", "GR": "9933",
    "HR": "9934", "HU": "9910", "IE": "9935", "IT": "0211", "LT": "9937", "LU": "9938",
    "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947",
    "SI": "9949", "SK": "9950",
}  # fmt: skip
# Schemes (ISO 6523 ICD, also EAS codes) of a company registry number, by country. Sweden's
# Peppol address is the organisation number, not the VAT number.
COMPANY_SCHEME = {"BE": "0208", "FR": "0002", "SE": "0007", "CH": "0183"}
# Addresses from a company number that are EAS codes but not ICD (US employer id).
COMPANY_EAS_ONLY = {"US": "9959"}
COMPANY_FIRST = frozenset({"SE"})

EXEMPTION_CODES: dict[str, str] = {
    VatCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    VatCategory.EXPORT: "VATEX-EU-G",
    VatCategory.INTRA_EU: "VATEX-EU-IC",
}
# UNCL 4461: 58 is a SEPA credit transfer (euro IBAN), 30 any other credit transfer.
SEPA_CURRENCIES = frozenset({"EUR"})
UNIT_ONE = "C62"  # UN/ECE rec. 20: "one" (a unit)


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    identifier: str


def amount(value: Decimal) -> str:
    """Two decimals, the most EN 16931 allows (whole forints are written ``12000.00``)."""
    return f"{value:.2f}"


def percent(value: Decimal) -> str:
    return f"{value:.2f}"


def _compact(value: str) -> str:
    return "".join(char for char in value if char.isalnum()).upper()


def payment_id(reference: str) -> str:
    """The reference as the payer's bank takes it: an RF reference without its print spaces;
    the Belgian structured communication as Belgian banks read it, +++ and slashes included."""
    compact = _compact(reference)
    return compact if compact.startswith("RF") else reference


def endpoint_parse(peppol_id: str) -> Endpoint | None:
    """``"0208:0403019261"`` -> Endpoint("0208", "0403019261")."""
    scheme, sep, identifier = peppol_id.partition(":")
    if not sep or not scheme or not identifier:
        return None
    return Endpoint(scheme.strip(), identifier.strip())


def buyer_endpoint(buyer: dict[str, Any]) -> Endpoint:
    """The buyer's electronic address (Peppol requires one, PEPPOL-EN16931-R010).

    Its Peppol id; else its VAT number (Sweden: its organisation number) with its country's
    scheme; else its company number where that is an address scheme; else its email ("EM"),
    which EN 16931 accepts but the Peppol code list no longer does (PEPPOL-EN16931-CL008):
    such a buyer is not on Peppol and gets the document by email only.
    """
    country = (buyer.get("country") or "").upper()
    if endpoint := endpoint_parse(buyer.get("peppol_id") or ""):
        return endpoint
    vat, company = buyer.get("vat_number") or "", buyer.get("company_number") or ""
    by_company = COMPANY_SCHEME.get(country) or COMPANY_EAS_ONLY.get(country)
    if company and by_company and country in COMPANY_FIRST:
        return Endpoint(by_company, _compact(company))
    if vat and country in VAT_EAS:
        return Endpoint(VAT_EAS[country], _compact(vat))
    if company and by_company:
        return Endpoint(by_company, _compact(company))
    return Endpoint("EM", buyer.get("email") or "")


@dataclass(frozen=True)
class Snapshot:
    """What every rendering reads: the document and its parts, fetched once."""

    invoice: Invoice
    lines: list[InvoiceLine]
    taxes: list[InvoiceTax]
    credited: Invoice | None

    @classmethod
    def of(cls, invoice: Invoice) -> Snapshot:
        credited = None
        if invoice.credited_invoice_id is not None:
            credited = (
                Invoice.objects.only("number", "issue_date")
                .filter(pk=invoice.credited_invoice_id)
                .first()
            )
        return cls(
            invoice=invoice,
            lines=list(InvoiceLine.objects.filter(invoice=invoice).order_by("position")),
            taxes=list(InvoiceTax.objects.filter(invoice=invoice).order_by("category", "rate")),
            credited=credited,
        )


def document_note(invoice: Invoice) -> str:
    """The one document-level note Peppol allows (PEPPOL-EN16931-R002), in the invoice's
    language: the credit reason, then who did the work for whom."""
    performed = _("Work performed by %(performer)s, member of %(seller)s.") % {
        "performer": invoice.performer,
        "seller": invoice.seller.get("name", ""),
    }
    return f"{invoice.note.strip()} - {performed}" if invoice.note.strip() else performed


def payment_terms(invoice: Invoice, credited: Invoice | None) -> str:
    if invoice.is_credit_note:
        return _(
            "Credits invoice %(number)s: deducted from what it still owes, any excess refunded."
        ) % {"number": credited.number if credited else ""}
    assert invoice.issue_date is not None
    assert invoice.due_date is not None
    return _(
        "Payment within %(days)s days, by %(due)s, by transfer with the reference %(reference)s."
    ) % {
        "days": (invoice.due_date - invoice.issue_date).days,
        "due": invoice.due_date.isoformat(),
        "reference": invoice.payment_reference,
    }


class _Builder:
    """Appends UBL elements in schema order; ``None`` or empty values are left out
    (Peppol refuses empty elements, PEPPOL-EN16931-R008)."""

    def __init__(self, root_ns: str, root_name: str) -> None:
        self.root = etree.Element(
            f"{{{root_ns}}}{root_name}", nsmap={None: root_ns, "cac": CAC, "cbc": CBC}
        )

    @staticmethod
    def add(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
        prefix, name = tag.split(":")
        element = etree.SubElement(parent, f"{{{CAC if prefix == 'cac' else CBC}}}{name}")
        if text is not None:
            element.text = text
        for key, value in attrs.items():
            element.set(key, value)
        return element

    def opt(self, parent: Any, tag: str, text: str | None, **attrs: str) -> None:
        if text:
            self.add(parent, tag, text, **attrs)

    def money(self, parent: Any, tag: str, value: Decimal, currency: str) -> None:
        self.add(parent, tag, amount(value), currencyID=currency)

    def address(self, parent: Any, party: dict[str, Any]) -> None:
        address = self.add(parent, "cac:PostalAddress")
        self.opt(address, "cbc:StreetName", party.get("street"))
        self.opt(address, "cbc:CityName", party.get("city"))
        self.opt(address, "cbc:PostalZone", party.get("postal_code"))
        country = self.add(address, "cac:Country")
        self.add(country, "cbc:IdentificationCode", (party.get("country") or "").upper())

    def tax_scheme(self, parent: Any) -> None:
        self.add(self.add(parent, "cac:TaxScheme"), "cbc:ID", "VAT")

    def seller(self, seller: dict[str, Any]) -> None:
        party = self.add(self.add(self.root, "cac:AccountingSupplierParty"), "cac:Party")
        if endpoint := endpoint_parse(seller.get("peppol_id") or ""):
            self.add(party, "cbc:EndpointID", endpoint.identifier, schemeID=endpoint.scheme)
        self.add(self.add(party, "cac:PartyName"), "cbc:Name", seller.get("name", ""))
        self.address(party, seller)
        if seller.get("vat_number"):
            tax = self.add(party, "cac:PartyTaxScheme")
            self.add(tax, "cbc:CompanyID", seller["vat_number"])
            self.tax_scheme(tax)
        self.legal_entity(party, seller)

    def legal_entity(self, party: Any, data: dict[str, Any]) -> None:
        legal = self.add(party, "cac:PartyLegalEntity")
        self.add(legal, "cbc:RegistrationName", data.get("name", ""))
        company = data.get("company_number") or ""
        if company:
            scheme = COMPANY_SCHEME.get((data.get("country") or "").upper())
            if scheme:
                self.add(legal, "cbc:CompanyID", _compact(company), schemeID=scheme)
            else:
                self.add(legal, "cbc:CompanyID", company)

    def buyer(self, buyer: dict[str, Any]) -> None:
        party = self.add(self.add(self.root, "cac:AccountingCustomerParty"), "cac:Party")
        endpoint = buyer_endpoint(buyer)
        self.add(party, "cbc:EndpointID", endpoint.identifier, schemeID=endpoint.scheme)
        self.add(self.add(party, "cac:PartyName"), "cbc:Name", buyer.get("name", ""))
        self.address(party, buyer)
        if buyer.get("vat_number"):
            tax = self.add(party, "cac:PartyTaxScheme")
            self.add(tax, "cbc:CompanyID", buyer["vat_number"])
            self.tax_scheme(tax)
        self.legal_entity(party, buyer)
        if buyer.get("email"):
            self.add(self.add(party, "cac:Contact"), "cbc:ElectronicMail", buyer["email"])

    def tax_category(self, parent: Any, tag: str, category: str, rate: Decimal) -> Any:
        element = self.add(parent, tag)
        self.add(element, "cbc:ID", category)
        self.add(element, "cbc:Percent", percent(rate))
        return element

    def header(self, snapshot: Snapshot, note: str) -> None:
        invoice, root = snapshot.invoice, self.root
        assert invoice.number, "only an issued document is rendered"
        assert invoice.issue_date, "only an issued document is rendered"
        self.add(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
        self.add(root, "cbc:ProfileID", PROFILE_ID)
        self.add(root, "cbc:ID", invoice.number)
        self.add(root, "cbc:IssueDate", invoice.issue_date.isoformat())
        if invoice.is_credit_note:
            self.add(root, "cbc:CreditNoteTypeCode", "381")
        else:
            self.opt(root, "cbc:DueDate", _iso(invoice.due_date))
            self.add(root, "cbc:InvoiceTypeCode", "380")
        self.add(root, "cbc:Note", note)
        self.add(root, "cbc:DocumentCurrencyCode", invoice.currency)
        # Peppol needs a buyer or order reference (PEPPOL-EN16931-R003); our clients give none,
        # so the document refers to itself, which is what the client quotes back.
        self.add(root, "cbc:BuyerReference", invoice.number)
        credited = snapshot.credited
        if invoice.is_credit_note and credited is not None and credited.number:
            billing = self.add(root, "cac:BillingReference")
            reference = self.add(billing, "cac:InvoiceDocumentReference")
            self.add(reference, "cbc:ID", credited.number)
            self.opt(reference, "cbc:IssueDate", _iso(credited.issue_date))

    def payment(self, invoice: Invoice, terms: str) -> None:
        """How to pay (an invoice, by transfer to the seller) and the terms in words."""
        seller = invoice.seller
        if not invoice.is_credit_note and seller.get("iban"):
            means = self.add(self.root, "cac:PaymentMeans")
            code = "58" if invoice.currency in SEPA_CURRENCIES else "30"
            self.add(means, "cbc:PaymentMeansCode", code)
            self.opt(means, "cbc:PaymentID", payment_id(invoice.payment_reference))
            account = self.add(means, "cac:PayeeFinancialAccount")
            self.add(account, "cbc:ID", _compact(seller["iban"]))
            self.opt(account, "cbc:Name", seller.get("name"))
            if seller.get("bic"):
                branch = self.add(account, "cac:FinancialInstitutionBranch")
                self.add(branch, "cbc:ID", seller["bic"])
        self.add(self.add(self.root, "cac:PaymentTerms"), "cbc:Note", terms)

    def taxes(self, snapshot: Snapshot) -> None:
        """One subtotal per row of the VAT breakdown; exemptions give their VATEX code."""
        currency = snapshot.invoice.currency
        total = self.add(self.root, "cac:TaxTotal")
        self.money(total, "cbc:TaxAmount", snapshot.invoice.vat_total, currency)
        for tax in snapshot.taxes:
            subtotal = self.add(total, "cac:TaxSubtotal")
            self.money(subtotal, "cbc:TaxableAmount", tax.taxable_amount, currency)
            self.money(subtotal, "cbc:TaxAmount", tax.tax_amount, currency)
            category = self.tax_category(subtotal, "cac:TaxCategory", tax.category, tax.rate)
            if tax.category in EXEMPTION_CODES:
                self.add(category, "cbc:TaxExemptionReasonCode", EXEMPTION_CODES[tax.category])
                self.opt(category, "cbc:TaxExemptionReason", tax.exemption_reason)
            self.tax_scheme(category)

    def totals(self, invoice: Invoice) -> None:
        monetary, currency = self.add(self.root, "cac:LegalMonetaryTotal"), invoice.currency
        self.money(monetary, "cbc:LineExtensionAmount", invoice.net_total, currency)
        self.money(monetary, "cbc:TaxExclusiveAmount", invoice.net_total, currency)
        self.money(monetary, "cbc:TaxInclusiveAmount", invoice.gross_total, currency)
        self.money(monetary, "cbc:PayableAmount", invoice.gross_total, currency)

    def lines(self, snapshot: Snapshot) -> None:
        currency = snapshot.invoice.currency
        line_tag, quantity_tag = (
            ("cac:CreditNoteLine", "cbc:CreditedQuantity")
            if snapshot.invoice.is_credit_note
            else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
        )
        for line in snapshot.lines:
            element = self.add(self.root, line_tag)
            self.add(element, "cbc:ID", str(line.position))
            self.add(element, quantity_tag, f"{line.quantity:.2f}", unitCode=UNIT_ONE)
            self.money(element, "cbc:LineExtensionAmount", line.net_amount, currency)
            item = self.add(element, "cac:Item")
            self.add(item, "cbc:Name", line.description)
            category = self.tax_category(
                item, "cac:ClassifiedTaxCategory", line.vat_category, line.vat_rate
            )
            self.tax_scheme(category)
            price = self.add(element, "cac:Price")
            self.money(price, "cbc:PriceAmount", line.unit_price, currency)


def ubl_render(invoice: Invoice) -> bytes:
    """The UBL 2.1 XML of an issued invoice or credit note (UTF-8, with declaration)."""
    return ubl_from_snapshot(Snapshot.of(invoice))


def ubl_from_snapshot(snapshot: Snapshot) -> bytes:
    invoice = snapshot.invoice
    with translation.override(invoice.language or None):
        note, terms = document_note(invoice), payment_terms(invoice, snapshot.credited)
    builder = (
        _Builder(NS_CREDIT_NOTE, "CreditNote")
        if invoice.is_credit_note
        else _Builder(NS_INVOICE, "Invoice")
    )
    # In the order the UBL schema wants them.
    builder.header(snapshot, note)
    builder.seller(invoice.seller)
    builder.buyer(invoice.buyer)
    builder.payment(invoice, terms)
    builder.taxes(snapshot)
    builder.totals(invoice)
    builder.lines(snapshot)
    return bytes(etree.tostring(builder.root, xml_declaration=True, encoding="UTF-8"))


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None
