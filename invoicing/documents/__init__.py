"""The documents of an issued invoice or credit note, rendered from its snapshot only: the PDF
(Factur-X where the seller's country uses it), the UBL e-invoice, and where they are stored."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import models, transaction

from invoicing.documents.facturx import cii_render, facturx_render
from invoicing.documents.pdf import pdf_html, pdf_render
from invoicing.documents.ubl import ubl_render
from invoicing.models import Invoice

__all__ = [
    "cii_render",
    "documents_store",
    "facturx_render",
    "is_facturx",
    "pdf_html",
    "pdf_render",
    "ubl_render",
]

# Sellers whose PDF carries its XML (Factur-X, France's hybrid e-invoice), by the seller's
# country frozen in the document.
FACTURX_COUNTRIES = frozenset({"FR"})


def is_facturx(invoice: Invoice) -> bool:
    return str(invoice.seller.get("country", "")).upper() in FACTURX_COUNTRIES


def stored_pdf(invoice: Invoice) -> bytes:
    """The PDF the client gets: Factur-X where the seller uses it, the plain PDF elsewhere."""
    return facturx_render(invoice) if is_facturx(invoice) else pdf_render(invoice)


def _write(invoice: Invoice, field_name: str, filename: str, content: bytes) -> str:
    field = Invoice._meta.get_field(field_name)
    assert isinstance(field, models.FileField)
    name = field.generate_filename(invoice, filename)
    storage = field.storage
    # A file already there is a leftover of a run that crashed before recording it: replace
    # it rather than store a second copy under another name.
    if storage.exists(name):
        storage.delete(name)
    return str(storage.save(name, ContentFile(content)))


def documents_store(*, invoice: Invoice) -> Invoice:
    """Render and store the PDF and the UBL of an issued document, once.

    Effects, in order: locks the document's row (two workers never render it together);
    returns if both files are recorded; renders the missing ones from the snapshot; writes
    them in the entity's media folder as ``<number>.pdf`` and ``<number>.xml``; records their
    names, the only fields of an issued document that may still change. Returns ``invoice``
    with the names set.
    """
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.state == Invoice.State.DRAFT:
            raise ValueError(f"draft {locked.pk} has no documents: issue it first")
        names: dict[str, str] = {}
        if not locked.pdf:
            names["pdf"] = _write(locked, "pdf", f"{locked.number}.pdf", stored_pdf(locked))
        if not locked.ubl:
            names["ubl"] = _write(locked, "ubl", f"{locked.number}.xml", ubl_render(locked))
        if names:
            Invoice.objects.filter(pk=locked.pk).update(**names)
    invoice.pdf.name = names.get("pdf", locked.pdf.name)
    invoice.ubl.name = names.get("ubl", locked.ubl.name)
    return invoice
