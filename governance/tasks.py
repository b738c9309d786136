"""Governance tasks. Each runs in the schema of the entity that enqueued it."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    name="governance.convocations_send",
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def convocations_send_task(*, assembly_id: int) -> int:
    """Email the convocation to every voter on the roll not yet convened, in their language.

    Progress is written to the assembly as it goes (the organiser's page shows it); a retry or
    a second run sends only what is missing.
    """
    from governance.convocations import convocations_send
    from governance.models import Assembly

    assembly = Assembly.objects.filter(pk=assembly_id).first()
    if assembly is None:
        return 0
    return convocations_send(assembly=assembly)
