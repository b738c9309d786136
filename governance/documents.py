"""PDFs of the governance app: the share certificate and the minutes of a closed assembly.

Django templates rendered by WeasyPrint, in the reader's language (the certificate: the
holder's; the minutes: the entity's default), from stored rows only. Nothing is fetched over
the network: the stylesheet is inlined and the URL fetcher refuses every scheme but ``data:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML

from governance import selectors
from governance.models import Assembly, ShareMovement
from invoicing.documents.pdf import _css_string, local_fetcher
from smart_coop.tenancy.current import current_entity

BASE_URL = (Path(__file__).resolve().parent / "templates" / "governance" / "pdf").as_uri()


def _pdf(html: str) -> bytes:
    return bytes(HTML(string=html, base_url=BASE_URL, url_fetcher=local_fetcher()).write_pdf())


def certificate_language(movement: ShareMovement) -> str:
    holder = movement.shareholder
    user = holder.user
    return holder.language or (user.language if user else "") or current_entity().default_language


def certificate_context(movement: ShareMovement) -> dict[str, Any]:
    entity = current_entity()
    holder = movement.shareholder
    title = _("Share certificate")
    return {
        "language": translation.get_language(),
        "title": title,
        "entity": entity,
        "holder": holder,
        "movement": movement,
        "share_class": movement.share_class,
        "holdings": selectors.holdings(shareholder=holder, on=movement.occurred_on),
        "footer_css": _css_string(f"{entity.legal_name} - {title} {movement.pk} - {holder.name}"),
        "page_css": _css_string(_("Page")),
    }


def certificate_html(movement: ShareMovement) -> str:
    with translation.override(certificate_language(movement)):
        return render_to_string("governance/pdf/certificate.html", certificate_context(movement))


def certificate_pdf(movement: ShareMovement) -> bytes:
    """The certificate of one purchase entered in the register."""
    return _pdf(certificate_html(movement))


def minutes_html(assembly: Assembly, *, language: str | None = None) -> str:
    entity = current_entity()
    with translation.override(language or entity.default_language):
        title = _("Minutes")
        context = {
            "language": translation.get_language(),
            "title": title,
            "entity": entity,
            "assembly": assembly,
            "turnout": selectors.turnout(assembly=assembly),
            "resolutions": list(assembly.resolutions.order_by("position")),
            "elections": [
                (election, list(election.candidacies.filter(rank__isnull=False).order_by("rank")))
                for election in assembly.elections.order_by("pk")
            ],
            "footer_css": _css_string(f"{entity.legal_name} - {title} - {assembly.title}"),
            "page_css": _css_string(_("Page")),
        }
        return render_to_string("governance/pdf/minutes.html", context)


def minutes_pdf(assembly: Assembly, *, language: str | None = None) -> bytes:
    """The minutes of a closed assembly: turnout, each resolution's outcome, the elections."""
    return _pdf(minutes_html(assembly, language=language))
