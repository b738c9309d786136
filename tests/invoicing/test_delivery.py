"""Sending a document to the client: once, with the PDF and the UBL, every attempt recorded."""

from __future__ import annotations

from pathlib import Path
from smtplib import SMTPException, SMTPServerDisconnected

import pytest
from django.core.mail.backends.locmem import EmailBackend
from lxml import etree

from invoicing.delivery import invoice_send
from invoicing.documents import documents_store
from invoicing.models import Delivery, Invoice
from invoicing.tasks import invoice_documents_task, invoice_send_task
from smart_coop.tenancy.models import Entity
from tests.invoicing import scenarios


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenarios.media_isolate(settings, tmp_path)


def test_the_client_gets_the_pdf_and_the_xml_once(in_be: Entity, mailoutbox, settings) -> None:  # type: ignore[no-untyped-def]
    invoice = scenarios.be_domestic(language="en", email="accounts@cantillon.example")

    delivery = invoice_send(invoice=invoice)

    assert delivery is not None
    assert (delivery.status, delivery.recipient, delivery.channel) == (
        "sent",
        "accounts@cantillon.example",
        "email",
    )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["accounts@cantillon.example"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == f"Invoice {invoice.number} from Smart Coop Belgium SC"
    assert "1,210.00 EUR" in message.body
    assert invoice.payment_reference in message.body
    assert invoice.performer in message.body
    (pdf_name, pdf, pdf_type), (xml_name, xml, xml_type) = message.attachments
    assert (pdf_name, pdf_type) == (f"{invoice.number}.pdf", "application/pdf")
    assert (xml_name, xml_type) == (f"{invoice.number}.xml", "application/xml")
    assert pdf.startswith(b"%PDF-")
    assert (
        etree.fromstring(xml).findtext(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID"
        )
        == invoice.number
    )

    assert invoice_send(invoice=Invoice.objects.get(pk=invoice.pk)) is None

    assert len(mailoutbox) == 1
    assert list(invoice.deliveries.values_list("status", flat=True)) == ["sent"]


def test_missing_documents_are_rendered_before_sending(in_be: Entity, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    invoice = scenarios.be_domestic()
    assert not invoice.pdf
    assert not invoice.ubl

    invoice_send(invoice=invoice)

    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.pdf.name.endswith(f"{invoice.number}.pdf")
    assert stored.ubl.name.endswith(f"{invoice.number}.xml")
    assert mailoutbox[0].attachments[1][1] == stored.ubl.read()


def test_the_email_is_in_the_clients_language(in_be: Entity, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    """The language is the one frozen on the document; the figures follow its formats."""
    invoice = scenarios.be_domestic(language="nl")

    invoice_send(invoice=invoice)

    assert invoice.language == "nl"
    assert invoice.number in mailoutbox[0].subject
    assert "1.210,00 EUR" in mailoutbox[0].body


def test_a_credit_note_is_sent_naming_the_invoice(in_be: Entity, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    invoice = scenarios.be_domestic(language="en")
    note = scenarios.credit_note(invoice)

    invoice_send(invoice=note)

    assert mailoutbox[0].subject == f"Credit note {note.number} from Smart Coop Belgium SC"
    assert invoice.number in mailoutbox[0].body
    assert [name for name, _content, _type in mailoutbox[0].attachments] == [
        f"{note.number}.pdf",
        f"{note.number}.xml",
    ]


def test_an_smtp_failure_is_recorded_then_raised_for_a_retry(
    in_be: Entity,
    mailoutbox,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = scenarios.be_domestic()

    def refuse(self: EmailBackend, messages: list[object]) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", refuse)
        with pytest.raises(SMTPException):
            invoice_send(invoice=invoice)

    failed = Delivery.objects.get(invoice=invoice)
    assert failed.status == "failed"
    assert failed.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mailoutbox == []

    retried = invoice_send(invoice=Invoice.objects.get(pk=invoice.pk))

    assert retried is not None
    assert retried.status == "sent"
    assert len(mailoutbox) == 1
    assert sorted(invoice.deliveries.values_list("status", flat=True)) == ["failed", "sent"]


def test_the_tasks_render_then_send(in_be: Entity, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    """The Celery tasks, run in-process, call the documents and the sending."""
    invoice = scenarios.be_domestic()

    assert invoice_documents_task(invoice_id=invoice.pk) == invoice.number
    assert invoice_send_task(invoice_id=invoice.pk) == "sent"
    assert invoice_send_task(invoice_id=invoice.pk) is None

    assert len(mailoutbox) == 1


def test_documents_of_an_entity_stay_in_its_folder(
    in_be: Entity, fr: Entity, tmp_path: Path
) -> None:
    invoice = scenarios.be_domestic()

    documents_store(invoice=invoice)

    assert (tmp_path / "be" / invoice.pdf.name).exists()
    assert not (tmp_path / "fr").exists()
