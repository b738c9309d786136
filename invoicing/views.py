"""The member's invoices: their states, and the documents to download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from invoicing.models import Invoice
from invoicing.selectors import invoices_for_member
from members.selectors import member_for_user
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.tenancy.current import current_entity


def _visible(user: User) -> QuerySet[Invoice]:
    """Staff who may read invoices see the entity's; a member only their own."""
    if user.has_perm("invoicing.view_invoice"):
        return Invoice.objects.exclude(state=Invoice.State.DRAFT)
    member = member_for_user(user)
    if member is None:
        return Invoice.objects.none()
    return invoices_for_member(member)


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    member = member_for_user(request.user)
    if member is None:
        return redirect("members:member-file")
    return render(
        request,
        "invoicing/invoice_list.html",
        {"invoices": invoices_for_member(member), "today": entity_today(current_entity())},
    )


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assert isinstance(request.user, User)
    invoice = get_object_or_404(_visible(request.user), pk=pk)
    return render(
        request,
        "invoicing/invoice_detail.html",
        {"invoice": invoice, "today": entity_today(current_entity())},
    )


@login_required
def invoice_document(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """The stored PDF or UBL of an invoice, for its member or the entity's staff only."""
    assert isinstance(request.user, User)
    invoice = get_object_or_404(_visible(request.user), pk=pk)
    stored = {"pdf": invoice.pdf, "xml": invoice.ubl}.get(kind)
    if not stored:
        raise Http404
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{invoice.number}.{kind}")
