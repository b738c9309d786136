"""The PDF of a payslip: one Django template, rendered by WeasyPrint.

Rendered in the member's language (the user's, else the entity's default) from the payslip's
stored figures only. Nothing is fetched over the network: the stylesheet is inlined, fonts are
the system's (DejaVu), and the URL fetcher refuses every scheme but ``data:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML

from invoicing.documents.pdf import _css_string, _grouped, local_fetcher
from payroll.models import Payslip
from smart_coop.money import MINOR_UNITS
from smart_coop.tenancy.current import current_entity

TEMPLATE = "payroll/pdf/payslip.html"
# Relative URLs (none today) resolve inside the template folder, never on a server.
BASE_URL = (Path(__file__).resolve().parent / "templates" / "payroll" / "pdf").as_uri()


def payslip_language(payslip: Payslip) -> str:
    """The member's language, else the entity's default."""
    return payslip.member.user.language or current_entity().default_language


def payslip_context(payslip: Payslip) -> dict[str, Any]:
    entity = current_entity()
    member = payslip.member
    invoice = payslip.invoice
    title = _("Payslip")
    name = member.user.get_full_name()
    return {
        "language": translation.get_language(),
        "title": title,
        "entity": entity,
        "member": member,
        "member_name": name,
        "iban": _grouped(member.iban or ""),
        "payslip": payslip,
        "period": payslip.run.period,
        "invoice": invoice,
        "contract": invoice.contract if invoice else None,
        "lines": list(payslip.lines.all()),
        # Grouped thousands, the currency's decimals (whole forints).
        "digits": f"{MINOR_UNITS.get(payslip.currency, 2)}g",
        "footer_css": _css_string(
            f"{entity.legal_name} - {title} {payslip.run.period:%Y-%m} - {name}"
        ),
        "page_css": _css_string(_("Page")),
    }


def payslip_html(payslip: Payslip) -> str:
    """The HTML the PDF is made of, in the member's language."""
    with translation.override(payslip_language(payslip)):
        return render_to_string(TEMPLATE, payslip_context(payslip))


def payslip_pdf(payslip: Payslip) -> bytes:
    """The A4 PDF of a payslip."""
    return bytes(
        HTML(
            string=payslip_html(payslip),
            base_url=BASE_URL,
            url_fetcher=local_fetcher(),
        ).write_pdf()
    )
