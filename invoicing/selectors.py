"""Reads on invoices."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from invoicing.models import Invoice
from members.models import Member


def invoices_for_member(member: Member) -> QuerySet[Invoice]:
    """The member's issued invoices and credit notes, newest first."""
    return (
        Invoice.objects.filter(member=member)
        .exclude(state=Invoice.State.DRAFT)
        .select_related("credited_invoice")
        .order_by("-issue_date", "-number")
    )


def invoices_overdue(*, as_of: datetime.date) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, state__in=Invoice.OPEN_STATES, due_date__lt=as_of
    )
