"""The PDF, the Factur-X and where the documents are stored."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from django.db import connection
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from invoicing.documents import (
    cii_render,
    documents_store,
    facturx_render,
    pdf_html,
    pdf_render,
    qr,
    ubl_render,
)
from invoicing.documents import pdf as pdf_module
from invoicing.models import Invoice
from members.services import ClientInput, ExpenseInput, client_update
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.factories import UserFactory
from tests.invoicing import scenarios
from tests.invoicing.validation import assert_valid, cii_failures, describe


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenarios.media_isolate(settings, tmp_path)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


# --- the PDF ---------------------------------------------------------------------------------


def test_the_pdf_is_a_real_pdf_with_what_the_client_needs(in_be: Entity) -> None:
    invoice = scenarios.be_domestic(language="en")

    pdf = pdf_render(invoice)

    reader = PdfReader(io.BytesIO(pdf))
    text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert len(reader.pages) >= 1
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=0.5)  # A4 portrait
    assert invoice.number in text
    assert "1,210.00 EUR" in text
    assert invoice.payment_reference in text
    assert "Page 1 / 1" in text
    assert "BE0765432146" in text
    assert "0765432146" in text
    assert "BE0403019261" in text  # the client's VAT number
    assert "BE48 0011 2345 6727" in text
    assert "GEBABEBB" in text
    assert "21 %" in text
    assert f"on behalf of the member {invoice.performer}" in text
    assert "art. 196" not in text
    assert "art. 146" not in text


def test_a_long_invoice_numbers_its_pages(in_be: Entity) -> None:
    expenses = tuple(
        ExpenseInput(kind="travel", amount=Decimal("10.00"), description=f"Trip {n}")
        for n in range(1, 41)
    )
    invoice = scenarios.invoice_issue(
        price="1000.00", expenses=expenses, language="en", **scenarios.BE_COMPANY
    )

    pages = PdfReader(io.BytesIO(pdf_render(invoice))).pages

    assert len(pages) == 2
    assert "Page 1 / 2" in pages[0].extract_text()
    assert "Page 2 / 2" in pages[1].extract_text()
    assert "Description" in pages[1].extract_text()  # the table's header again
    assert "1,210.00 EUR" in pages[1].extract_text()


def test_the_pdf_lists_each_line_and_the_vat_breakdown(in_be: Entity) -> None:
    invoice = scenarios.be_with_expenses()

    html = pdf_html(invoice)

    for line in invoice.lines.all():
        assert line.description in html
    assert html.count('<td class="num">21 %</td>') == 3
    # The breakdown: one row for 21 %, on the 1,500.00 of all lines (the client reads French).
    assert "<td>21 %</td>" in html
    assert "1\xa0500,00" in html
    assert "315,00" in html


@pytest.mark.parametrize(
    ("client", "mention"),
    [
        (scenarios.FR_COMPANY, "Reverse charge: VAT due by the customer, art. 196 Directive"),
        (scenarios.US_COMPANY, "Export outside the EU, art. 146 Directive 2006/112/EC"),
    ],
)
def test_zero_rated_invoices_say_why(in_be: Entity, client: dict[str, str], mention: str) -> None:
    invoice = scenarios.invoice_issue(**{**client, "language": "en"})

    text = " ".join(pdf_text(pdf_render(invoice)).split())

    assert mention in text
    assert "0.00 EUR" in text


def test_the_pdf_is_in_the_clients_language(in_be: Entity) -> None:
    french = scenarios.be_domestic(language="fr")
    dutch = scenarios.be_domestic(language="nl", vat_number="BE0202239951")

    assert (french.language, dutch.language) == ("fr", "nl")
    assert '<html lang="fr">' in pdf_html(french)
    assert '<html lang="nl">' in pdf_html(dutch)
    # Numbers and dates follow the language's formats.
    assert "1\xa0210,00 EUR" in pdf_html(french)
    assert "1.210,00 EUR" in pdf_html(dutch)


def test_the_pdf_title_is_translated(in_be: Entity) -> None:
    french = scenarios.be_domestic(language="fr")
    dutch = scenarios.be_domestic(language="nl", vat_number="BE0202239951")

    assert f"Facture {french.number}" in pdf_text(pdf_render(french))
    assert f"Factuur {dutch.number}" in pdf_text(pdf_render(dutch))


def test_a_credit_note_names_the_invoice_and_asks_for_no_payment(in_be: Entity) -> None:
    invoice = scenarios.be_domestic(language="en")
    note = scenarios.credit_note(invoice, net_amount="250.00")

    pdf = pdf_render(note)
    text = " ".join(pdf_text(pdf).split())

    assert f"Credit note {note.number}" in text
    assert invoice.number in text
    assert "302.50 EUR" in text
    assert "Concert shortened" in text
    assert "Please pay" not in text
    assert image_count(pdf) == 0  # no payment QR code


def test_the_epc_qr_code_is_printed_for_euro_only(in_be: Entity) -> None:
    euro = scenarios.be_domestic()
    crowns = scenarios.foreign_invoice("se", prices=("12500.00",), rate="25")
    forints = scenarios.foreign_invoice("hu", prices=("123457",), rate="27")

    assert image_count(pdf_render(euro)) == 1
    assert image_count(pdf_render(crowns)) == 0
    assert image_count(pdf_render(forints)) == 0
    assert qr.epc_qr(crowns) is None
    assert qr.epc_qr(forints) is None
    assert "156,790 HUF" in pdf_html(forints)  # whole forints: 123,457 + 27 % VAT


def test_the_qr_code_carries_the_payment(in_be: Entity, monkeypatch: pytest.MonkeyPatch) -> None:
    """An RF reference goes in the structured field; the Belgian +++ one in the text."""
    calls: list[dict[str, object]] = []
    make = qr.helpers.make_epc_qr

    def spy(**kwargs: object) -> object:
        calls.append(kwargs)
        return make(**kwargs)

    monkeypatch.setattr(qr.helpers, "make_epc_qr", spy)
    invoice = scenarios.be_domestic()
    with_rf = Invoice(
        **{
            field: getattr(invoice, field)
            for field in ("number", "currency", "gross_total", "kind", "seller")
        },
        payment_reference="RF18 5390 0754 7034",
    )

    qr.epc_qr(invoice)
    qr.epc_qr(with_rf)

    assert calls[0] == {
        "name": "Smart Coop Belgium SC",
        "iban": "BE48001123456727",
        "amount": invoice.gross_total,
        "reference": None,
        "text": invoice.payment_reference,
        "bic": "GEBABEBB",
    }
    assert calls[1]["reference"] == "RF18539007547034"
    assert calls[1]["text"] is None


def test_the_renderer_fetches_nothing_from_the_network() -> None:
    html = '<p>x</p><img src="https://example.org/logo.png">'
    fetcher = pdf_module.local_fetcher()

    with pytest.raises(FatalURLFetchingError):
        HTML(string=html, base_url=pdf_module.BASE_URL, url_fetcher=fetcher).write_pdf()


def test_the_template_links_nothing_outside(in_be: Entity) -> None:
    html = pdf_html(scenarios.be_domestic())

    assert "http://" not in html
    assert "https://" not in html
    assert 'src="data:image/png;base64,' in html


# --- Factur-X --------------------------------------------------------------------------------


def test_a_french_invoice_is_a_factur_x_pdf(in_fr: Entity) -> None:
    invoice = scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR)

    pdf = facturx_render(invoice)
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)

    assert filename == "factur-x.xml"
    assert xml == cii_render(invoice)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert cii_failures(xml) == [], describe(cii_failures(xml))
    assert invoice.number in pdf_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.xmp_metadata is not None
    assert (reader.xmp_metadata.pdfaid_part, reader.xmp_metadata.pdfaid_conformance) == ("3", "B")
    assert reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"


def test_a_french_credit_note_is_valid_factur_x(in_fr: Entity) -> None:
    note = scenarios.credit_note(scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR))

    xml = cii_render(note)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert cii_failures(xml) == [], describe(cii_failures(xml))
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml


def test_the_factur_x_rules_catch_a_wrong_total(in_fr: Entity) -> None:
    xml = cii_render(scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR))
    broken = xml.replace(b"<ram:GrandTotalAmount>1200.00", b"<ram:GrandTotalAmount>1300.00")

    assert "BR-CO-15" in {failure.rule for failure in cii_failures(broken)}


# --- storage ---------------------------------------------------------------------------------


def test_documents_are_stored_once_in_the_entitys_folder(in_be: Entity, tmp_path: Path) -> None:
    invoice = scenarios.be_domestic()
    year = invoice.issue_date.year

    documents_store(invoice=invoice)
    stored = Invoice.objects.get(pk=invoice.pk)

    assert stored.pdf.name == f"invoices/{year}/{invoice.number}.pdf"
    assert stored.ubl.name == f"invoices/{year}/{invoice.number}.xml"
    folder = tmp_path / connection.schema_name / "invoices" / str(year)
    assert sorted(path.name for path in folder.iterdir()) == [
        f"{invoice.number}.pdf",
        f"{invoice.number}.xml",
    ]
    assert (folder / f"{invoice.number}.xml").read_bytes() == ubl_render(invoice)
    assert (folder / f"{invoice.number}.pdf").read_bytes().startswith(b"%PDF-")
    assert_valid(stored.ubl.read())
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}

    documents_store(invoice=stored)

    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == stored.pdf.name


def test_a_leftover_file_is_replaced_not_duplicated(in_be: Entity, tmp_path: Path) -> None:
    invoice = scenarios.be_domestic()
    folder = tmp_path / connection.schema_name / "invoices" / str(invoice.issue_date.year)
    folder.mkdir(parents=True)
    (folder / f"{invoice.number}.pdf").write_bytes(b"half-written by a crashed worker")

    documents_store(invoice=invoice)

    assert len(list(folder.iterdir())) == 2
    assert invoice.pdf.read().startswith(b"%PDF-")


def test_the_french_entity_stores_a_factur_x_pdf(in_fr: Entity) -> None:
    invoice = scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR)

    documents_store(invoice=invoice)

    _filename, xml = facturx.get_xml_from_pdf(invoice.pdf.read(), check_xsd=True)
    assert xml == cii_render(invoice)
    assert_valid(invoice.ubl.read())


def test_documents_show_the_client_as_it_was_at_issue(in_be: Entity) -> None:
    invoice = scenarios.be_domestic(language="en")
    client = invoice.client
    client_update(
        client=client,
        data=ClientInput(
            name="Renamed after issue",
            kind=client.kind,
            country=client.country,
            street="Elsewhere 1",
            postal_code=client.postal_code,
            city=client.city,
            email=client.email,
            vat_number=client.vat_number,
        ),
        actor=UserFactory(role=Role.ADVISOR),
    )

    stored = Invoice.objects.get(pk=invoice.pk)
    for document in (pdf_html(stored), ubl_render(stored).decode()):
        assert "Brasserie Cantillon SA" in document
        assert "Renamed after issue" not in document
