"""The PDF of an issued invoice or credit note: one Django template, rendered by WeasyPrint.

Rendered in the document's language from its snapshot only. Nothing is fetched over the
network: the stylesheet is inlined, fonts are the system's (DejaVu), the QR code is a
``data:`` URI, and the URL fetcher refuses every other scheme.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML, URLFetcher

from invoicing.documents.qr import epc_qr_data_uri
from invoicing.documents.ubl import Snapshot
from invoicing.models import Invoice, VatCategory
from smart_coop.money import MINOR_UNITS

TEMPLATE = "invoicing/pdf/invoice.html"
# Relative URLs (none today) resolve inside the template folder, never on a server.
BASE_URL = (Path(__file__).resolve().parent.parent / "templates" / "invoicing" / "pdf").as_uri()


def _css_string(text: str) -> SafeString:
    """``text`` as a quoted CSS string, for the page margin boxes."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")
    )  # "<" too: the string sits inside <style>
    return mark_safe(f'"{escaped}"')  # noqa: S308 - quoted and escaped for CSS above


def _grouped(iban: str) -> str:
    """An IBAN as printed: groups of four."""
    compact = "".join(iban.split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def pdf_context(snapshot: Snapshot) -> dict[str, Any]:
    invoice = snapshot.invoice
    categories = {tax.category for tax in snapshot.taxes}
    title = _("Credit note") if invoice.is_credit_note else _("Invoice")
    return {
        "language": translation.get_language(),
        "invoice": invoice,
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "lines": snapshot.lines,
        "taxes": snapshot.taxes,
        "credited": snapshot.credited,
        "title": title,
        # Grouped thousands, the currency's decimals (whole forints).
        "digits": f"{MINOR_UNITS.get(invoice.currency, 2)}g",
        "reverse_charge": VatCategory.REVERSE_CHARGE in categories,
        "export": VatCategory.EXPORT in categories,
        "qr": epc_qr_data_uri(invoice),
        "iban": _grouped(invoice.seller.get("iban") or ""),
        "footer_css": _css_string(f"{invoice.seller.get('name', '')} - {title} {invoice.number}"),
        "page_css": _css_string(_("Page")),
    }


def pdf_html(invoice: Invoice) -> str:
    """The HTML the PDF is made of, in the document's language."""
    snapshot = Snapshot.of(invoice)
    with translation.override(invoice.language or None):
        return render_to_string(TEMPLATE, pdf_context(snapshot))


def local_fetcher() -> URLFetcher:
    """Fetches ``data:`` URIs only; any other URL stops the rendering."""
    return URLFetcher(allowed_protocols=("data",), fail_on_errors=True)


def pdf_render(invoice: Invoice, *, pdf_variant: str | None = None) -> bytes:
    """The A4 PDF of an issued invoice or credit note (``pdf_variant="pdf/a-3b"`` for the
    archival PDF that Factur-X wraps)."""
    return bytes(
        HTML(
            string=pdf_html(invoice),
            base_url=BASE_URL,
            url_fetcher=local_fetcher(),
        ).write_pdf(pdf_variant=pdf_variant)
    )
