"""Sending an issued document to the client: by email, the PDF with the UBL attached.

Each attempt is a ``Delivery`` row. A document is sent once: a later call finds the sent row and
does nothing. A refused or failed SMTP exchange is recorded, then raised, so that the Celery task
retries it later.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from invoicing.documents import documents_store
from invoicing.models import Delivery, Invoice
from smart_coop.money import MINOR_UNITS

log = logging.getLogger(__name__)


def invoice_message(invoice: Invoice) -> EmailMessage:
    """The email to the client, in the document's language, with both files attached."""
    context = {
        "invoice": invoice,
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "digits": f"{MINOR_UNITS.get(invoice.currency, 2)}g",
    }
    with translation.override(invoice.language or None):
        subject = render_to_string("invoicing/email/invoice_subject.txt", context)
        body = render_to_string("invoicing/email/invoice_body.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invoice.buyer.get("email", "")],
    )
    with invoice.pdf.open("rb") as pdf:
        message.attach(f"{invoice.number}.pdf", pdf.read(), "application/pdf")
    with invoice.ubl.open("rb") as ubl:
        message.attach(f"{invoice.number}.xml", ubl.read(), "application/xml")
    return message


def invoice_send(*, invoice: Invoice) -> Delivery | None:
    """Email an issued invoice or credit note to the client, once.

    Effects, in order: renders and stores the documents if they are missing; locks the
    document's row (two workers never send it together); returns None if a delivery was already
    sent; sends the email; records the delivery as sent. A missing address is recorded as
    failed (nothing to retry). An SMTP failure is recorded as failed, then raised.
    """
    if not invoice.pdf or not invoice.ubl:
        invoice = documents_store(invoice=invoice)
    recipient = str(invoice.buyer.get("email", "")).strip()
    with transaction.atomic():
        Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
        if invoice.deliveries.filter(status=Delivery.Status.SENT).exists():
            return None
        if not recipient:
            return Delivery.objects.create(
                invoice=invoice, recipient="", status=Delivery.Status.FAILED, error="no email"
            )
        try:
            invoice_message(invoice).send()
        except (SMTPException, OSError) as error:
            failure = error
        else:
            return Delivery.objects.create(
                invoice=invoice, recipient=recipient, status=Delivery.Status.SENT
            )
    # Outside the block above, so that the record of the failure stays when it is raised.
    log.warning("sending %s to %s failed: %s", invoice.number, recipient, failure)
    Delivery.objects.create(
        invoice=invoice,
        recipient=recipient,
        status=Delivery.Status.FAILED,
        error=f"{type(failure).__name__}: {failure}"[:2000],
    )
    raise failure
