"""Invoicing tasks. Each runs in the schema of the entity that enqueued it."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from invoicing.models import Invoice


@shared_task(name="invoicing.issue_due")
def invoices_issue_due_task(*, as_of: str | None = None) -> list[str]:
    """Invoice the approved contracts whose work has ended (daily, per entity, from beat)."""
    import datetime

    from invoicing.services import invoices_issue_due
    from members.services import entity_today
    from smart_coop.tenancy.current import current_entity

    day = datetime.date.fromisoformat(as_of) if as_of else entity_today(current_entity())
    return [str(invoice.number) for invoice in invoices_issue_due(as_of=day)]


@shared_task(
    name="invoicing.documents",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def invoice_documents_task(*, invoice_id: int, send: bool = False) -> str | None:
    """Render and store the PDF and UBL (and Factur-X in France) of an issued document, then
    send it to the client if asked. Rendering twice stores the same documents once."""
    from invoicing.documents import documents_store

    invoice = Invoice.objects.filter(pk=invoice_id).exclude(state=Invoice.State.DRAFT).first()
    if invoice is None:
        return None
    documents_store(invoice=invoice)
    if send:
        invoice_send_task.delay(invoice_id=invoice_id)
    return invoice.number


@shared_task(
    name="invoicing.send",
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def invoice_send_task(*, invoice_id: int) -> str | None:
    """Email the client the PDF with the UBL attached, once; every attempt is recorded."""
    from invoicing.delivery import invoice_send

    invoice = Invoice.objects.filter(pk=invoice_id).exclude(state=Invoice.State.DRAFT).first()
    if invoice is None:
        return None
    delivery = invoice_send(invoice=invoice)
    return delivery.status if delivery is not None else None


from invoicing.dunning import dunning_run_task  # noqa: E402, F401  (registered with Celery)
