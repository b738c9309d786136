"""``manage.py export_invoice``: one document to standard output or a file, or all of them."""

from __future__ import annotations

import io
from pathlib import Path

import facturx
import pytest
from django.core.management import CommandError, call_command

from invoicing.documents import cii_render, documents_store, ubl_render
from smart_coop.tenancy.models import Entity
from tests.invoicing import scenarios


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenarios.media_isolate(settings, tmp_path / "media")


def export(*args: str) -> bytes:
    """Run the command; what it wrote to standard output, as bytes."""
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8")
    call_command("export_invoice", *args, stdout=stdout)
    stdout.flush()
    return raw.getvalue()


def test_the_ubl_goes_to_standard_output(in_be: Entity) -> None:
    invoice = scenarios.be_domestic()

    assert export("--entity", "be", invoice.number, "--format", "ubl") == ubl_render(invoice)


def test_a_pdf_goes_to_a_file(in_be: Entity, tmp_path: Path) -> None:
    invoice = scenarios.be_domestic()
    output = tmp_path / "out.pdf"

    assert (
        export("--entity", "be", invoice.number, "--format", "pdf", "--output", str(output)) == b""
    )

    assert output.read_bytes().startswith(b"%PDF-")


def test_a_stored_document_is_exported_as_stored(in_be: Entity) -> None:
    invoice = documents_store(invoice=scenarios.be_domestic())

    assert export("--entity", "be", invoice.number, "--format", "pdf") == invoice.pdf.read()


def test_a_french_invoice_exports_as_factur_x(in_fr: Entity) -> None:
    invoice = scenarios.invoice_issue(**scenarios.FR_COMPANY_IN_FR)

    pdf = export("--entity", "fr", invoice.number, "--format", "facturx")

    _filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert xml == cii_render(invoice)


def test_all_documents_of_the_entity_go_to_a_folder(in_be: Entity, tmp_path: Path) -> None:
    invoice = scenarios.be_domestic()
    note = scenarios.credit_note(invoice, net_amount="100.00")
    folder = tmp_path / "export"

    message = export("--entity", "be", "--all", "--output", str(folder))

    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [
            f"{invoice.number}.xml",
            f"{invoice.number}.pdf",
            f"{note.number}.xml",
            f"{note.number}.pdf",
        ]
    )
    assert (folder / f"{note.number}.xml").read_bytes() == ubl_render(note)
    assert message.decode().strip() == f"Wrote 4 files for entity be to {folder}."


def test_all_in_one_format(in_be: Entity, tmp_path: Path) -> None:
    invoice = scenarios.be_domestic()

    export("--entity", "be", "--all", "--format", "ubl", "--output", str(tmp_path / "x"))

    assert [path.name for path in (tmp_path / "x").iterdir()] == [f"{invoice.number}.xml"]


def test_an_unknown_entity_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match=r"Unknown entity 'xx'\. Known entities: .*\bbe\b"):
        export("--entity", "xx", "BE-2026-000001")


def test_an_unknown_number_is_refused_and_entities_stay_apart(in_be: Entity) -> None:
    invoice = scenarios.be_domestic()

    with pytest.raises(CommandError, match=r"No issued invoice or credit note 'BE-1999-9' in"):
        export("--entity", "be", "BE-1999-9")
    # The Belgian number does not exist in the French entity.
    with pytest.raises(
        CommandError, match=f"No issued invoice or credit note '{invoice.number}' in entity fr"
    ):
        export("--entity", "fr", invoice.number)


def test_all_needs_a_folder(in_be: Entity) -> None:
    with pytest.raises(CommandError, match="--output"):
        export("--entity", "be", "--all")
