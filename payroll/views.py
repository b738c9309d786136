"""The member's payroll pages: payslips (and their PDF), yearly totals, the activity budget.

A member reaches only their own payslips and budget (404 otherwise); a user without a member
file is sent to open one, as elsewhere in the portal.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from members.models import Member
from members.selectors import member_for_user
from members.services import entity_today
from payroll import selectors
from payroll.documents import payslip_pdf
from payroll.smoothing import (
    Projection,
    budget_available,
    budget_projection,
    member_permanent_contract,
)
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.money import MINOR_UNITS
from smart_coop.tenancy.current import current_entity


def _member(request: HttpRequest) -> Member | None:
    assert isinstance(request.user, User)
    return member_for_user(request.user)


def _no_member_file(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Open your member file first: your payslips will be shown here."))
    return redirect("members:member-file")


def _digits(currency: str) -> str:
    """floatformat's argument: the currency's decimals, thousands grouped."""
    return f"{MINOR_UNITS.get(currency, 2)}g"


def _year(value: str | None, default: int) -> int:
    # isdigit() also accepts "²", which int() refuses: only ASCII digits make a year.
    if value is not None and value.isascii() and value.isdigit() and 1900 <= int(value) <= 2999:
        return int(value)
    return default


@login_required
def payslip_list(request: HttpRequest) -> HttpResponse:
    """My payslips, newest first, and the totals of one calendar year (``?year=``)."""
    member = _member(request)
    if member is None:
        return _no_member_file(request)
    years = selectors.years_with_payslips(member=member)
    year = _year(
        request.GET.get("year"), years[0] if years else entity_today(current_entity()).year
    )
    if year not in years:
        years = sorted([*years, year], reverse=True)
    totals = selectors.yearly_totals(member=member, year=year)
    context: dict[str, Any] = {
        "payslips": selectors.payslips_of(member=member),
        "years": years,
        "year": year,
        "totals": totals,
        "digits": _digits(totals.currency),
    }
    return render(request, "payroll/payslip_list.html", context)


@login_required
def payslip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request)
    if member is None:
        return _no_member_file(request)
    payslip = selectors.payslip_of(member=member, pk=pk)
    return render(
        request,
        "payroll/payslip_detail.html",
        {
            "payslip": payslip,
            "lines": list(payslip.lines.all()),
            "digits": _digits(payslip.currency),
        },
    )


@login_required
def payslip_document(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The payslip's PDF, in the member's language, as a download."""
    member = _member(request)
    if member is None:
        return _no_member_file(request)
    payslip = selectors.payslip_of(member=member, pk=pk)
    return FileResponse(
        io.BytesIO(payslip_pdf(payslip)),
        as_attachment=True,
        filename=f"payslip-{payslip.run.period:%Y-%m}-{payslip.pk}.pdf",
        content_type="application/pdf",
    )


@login_required
def budget(request: HttpRequest) -> HttpResponse:
    """My activity budget account: what it holds, its movements and, under a permanent
    contract, the agreed monthly gross and the next six months."""
    member = _member(request)
    if member is None:
        return _no_member_file(request)
    try:
        projection = budget_projection(member=member)
    except DomainError as error:
        # A declared contract on a day no payroll parameters cover: the balance still shows.
        messages.error(
            request, _("The projection cannot be computed: %(reason)s") % {"reason": error}
        )
        projection = Projection(
            contract=member_permanent_contract(member=member, month=entity_today(current_entity())),
            currency=current_entity().currency,
            balance=budget_available(member=member),
            months=[],
        )
    months = projection.months
    # The bars' scale: the largest balance in the table, so that every bar fits.
    scale = max([abs(month.balance) for month in months] + [abs(projection.balance)])
    return render(
        request,
        "payroll/budget.html",
        {
            "projection": projection,
            "bars": [
                (month, int(abs(month.balance) * 100 / scale) if scale else 0) for month in months
            ],
            "movements": selectors.budget_movements(member=member),
            "digits": _digits(projection.currency),
        },
    )
