"""Export the documents of an entity's issued invoices and credit notes.

    manage.py export_invoice --entity be BE-2026-000001 --format ubl > BE-2026-000001.xml
    manage.py export_invoice --entity fr FR-2026-000001 --format facturx --output f.pdf
    manage.py export_invoice --entity be --all --output exports/

A document already stored is exported as stored (what the client received); one not yet stored
is rendered from its snapshot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models.fields.files import FieldFile
from django_tenants.utils import get_public_schema_name, schema_context

from invoicing.documents import facturx_render, is_facturx, pdf_render, ubl_render
from invoicing.models import Invoice
from smart_coop.tenancy.models import Entity

FORMATS = ("ubl", "pdf", "facturx")
EXTENSIONS = {"ubl": "xml", "pdf": "pdf", "facturx": "pdf"}


def document_bytes(invoice: Invoice, document_format: str) -> bytes:
    """The document in ``document_format``: the stored file when it is that format."""
    stored: FieldFile | None
    render: Callable[[Invoice], bytes]
    if document_format == "ubl":
        stored, render = invoice.ubl, ubl_render
    elif document_format == "facturx":
        stored = invoice.pdf if is_facturx(invoice) else None
        render = facturx_render
    else:
        stored = None if is_facturx(invoice) else invoice.pdf
        render = pdf_render
    if stored:
        with stored.open("rb") as file:
            return bytes(file.read())
    return render(invoice)


class Command(BaseCommand):
    help = (
        "Write an issued invoice or credit note as UBL, PDF or Factur-X (to standard output by "
        "default), or every issued document of an entity into a folder with --all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", nargs="?", help="the document number, e.g. BE-2026-000001")
        parser.add_argument("--entity", required=True, help="the entity's code, e.g. be")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="ubl, pdf or facturx (a single document: ubl by default; with --all: the "
            "UBL and the PDF as sent, unless a format is given)",
        )
        parser.add_argument("--all", action="store_true", help="every issued document")
        parser.add_argument("--output", help="a file (one document) or a folder (--all)")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = self._entity(options["entity"])
        with schema_context(entity.schema_name):
            if options["all"]:
                if options["number"]:
                    raise CommandError("Give a document number or --all, not both.")
                if not options["output"]:
                    raise CommandError("--all writes files: give the folder with --output.")
                self._export_all(entity, Path(options["output"]), options["format"])
            else:
                if not options["number"]:
                    raise CommandError("Give a document number, or --all.")
                invoice = self._document(entity, options["number"])
                content = document_bytes(invoice, options["format"] or "ubl")
                self._write(content, options["output"])

    def _entity(self, code: str) -> Entity:
        entity = (
            Entity.objects.exclude(schema_name=get_public_schema_name())
            .filter(code=code.lower())
            .first()
        )
        if entity is None:
            known = ", ".join(
                Entity.objects.exclude(schema_name=get_public_schema_name())
                .order_by("code")
                .values_list("code", flat=True)
            )
            raise CommandError(f"Unknown entity {code!r}. Known entities: {known or 'none'}.")
        return entity

    def _document(self, entity: Entity, number: str) -> Invoice:
        invoice = Invoice.objects.exclude(state=Invoice.State.DRAFT).filter(number=number).first()
        if invoice is None:
            raise CommandError(
                f"No issued invoice or credit note {number!r} in entity {entity.code}."
            )
        return invoice

    def _write(self, content: bytes, output: str | None) -> None:
        if output:
            Path(output).write_bytes(content)
            return
        # Binary to standard output: the underlying byte stream of the command's stdout.
        stream: BinaryIO = getattr(self.stdout._out, "buffer", sys.stdout.buffer)
        stream.write(content)
        stream.flush()

    def _export_all(self, entity: Entity, folder: Path, document_format: str | None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        formats = [document_format] if document_format else ["ubl", None]
        written = 0
        invoices = Invoice.objects.exclude(state=Invoice.State.DRAFT).order_by("issue_date", "pk")
        for invoice in invoices.iterator(chunk_size=200):
            for each in formats:
                # Without a format: the UBL, and the PDF as the client gets it.
                chosen = each or ("facturx" if is_facturx(invoice) else "pdf")
                path = folder / f"{invoice.number}.{EXTENSIONS[chosen]}"
                path.write_bytes(document_bytes(invoice, chosen))
                written += 1
        self.stdout.write(f"Wrote {written} files for entity {entity.code} to {folder}.")
