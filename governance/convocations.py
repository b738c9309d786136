"""The convocation of a general assembly, sent by email to every voter on the roll.

Each voter is sent one email in their language (the shareholder's, else their user's, else the
entity's default). A ``Convocation`` row is written with each email: a retried or repeated run
sends only to the voters without one, and the assembly's counter shows the progress.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.db import connection
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from governance.models import Assembly, Convocation, RollEntry
from smart_coop.tenancy.current import current_entity, current_schema

BATCH = 200


def voter_language(entry: RollEntry, default: str) -> str:
    shareholder = entry.shareholder
    user = shareholder.user
    return shareholder.language or (user.language if user else "") or default


def convocation_message(*, assembly: Assembly, entry: RollEntry, language: str) -> EmailMessage:
    entity = current_entity()
    with translation.override(language):
        context = {
            "assembly": assembly,
            "entity": entity,
            "shareholder": entry.shareholder,
            "entry": entry,
            "resolutions": list(assembly.resolutions.order_by("position")),
            "elections": list(assembly.elections.all()),
        }
        subject = render_to_string("governance/email/convocation_subject.txt", context).strip()
        body = render_to_string("governance/email/convocation_body.txt", context)
    return EmailMessage(subject, body, None, [entry.shareholder.email])


def convocation_lock_key(assembly: Assembly) -> tuple[str, int]:
    """The advisory lock of an assembly's sending (the schema in it: lock keys are shared by
    every schema of the database)."""
    return f"{current_schema()}:governance.convocations", assembly.pk


def convocations_send(*, assembly: Assembly) -> int:
    """Send the missing convocations in batches; returns how many this run sent.

    One run at a time per assembly: a second one (the admin's "send the missing convocations"
    while the task is still at work) returns at once, instead of sending the batch the first
    is sending a second time and failing on its convocation rows.
    """
    key = convocation_lock_key(assembly)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", key)
        row = cursor.fetchone()
    if not (row and row[0]):
        return 0
    try:
        return _convocations_send(assembly)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", key)


def _convocations_send(assembly: Assembly) -> int:
    default = current_entity().default_language
    sent = 0
    while True:
        batch = list(
            RollEntry.objects.filter(assembly=assembly, convocation__isnull=True)
            .exclude(shareholder__email="")
            .select_related("shareholder__user")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        for entry in batch:
            language = voter_language(entry, default)
            convocation_message(assembly=assembly, entry=entry, language=language).send()
            # One row per voter: a crash after the email and before this line resends one
            # email at most, never the whole roll.
            Convocation.objects.create(voter=entry, sent_at=timezone.now(), language=language)
            sent += 1
        Assembly.objects.filter(pk=assembly.pk).update(
            convocations_sent=F("convocations_sent") + len(batch)
        )
    Assembly.objects.filter(pk=assembly.pk, convocations_finished_at__isnull=True).update(
        convocations_finished_at=timezone.now()
    )
    return sent
