"""The member portal: dashboard, member file, clients, declaring and following contracts.

Views collect input with forms and call the services; a refused action (DomainError) is shown on
the fields it concerns. A member only ever reaches their own contracts (404 otherwise).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members import selectors, services
from members.forms import (
    AttachmentForm,
    ClientForm,
    ContractForm,
    ExpenseFormSet,
    MemberForm,
    WorkDayFormSet,
    add_domain_error,
    contract_input,
)
from members.models import Client, Contract, Member
from payroll import selectors as payroll_selectors
from payroll.smoothing import budget_available
from smart_coop.accounts.models import User
from smart_coop.accounts.services import user_roles
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity

ZERO = Decimal(0)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _member(request: HttpRequest) -> Member | None:
    return selectors.member_for_user(_user(request))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """My contracts by state, what I must do next, my insurance cover, what advisors decided."""
    user = _user(request)
    member = _member(request)
    context: dict[str, Any] = {"roles": user_roles(user), "member": member}
    if member is not None:
        entity = current_entity()
        today = services.entity_today(entity)
        grouped = selectors.contracts_by_state(member)
        context.update(
            grouped=[
                (Contract.State(state).label, rows) for state, rows in grouped.items() if rows
            ],
            todo_drafts=grouped[Contract.State.DRAFT],
            todo_changes=grouped[Contract.State.CHANGES_REQUESTED],
            upcoming=[c for c in grouped[Contract.State.APPROVED] if c.last_day >= today],
            reviews=selectors.reviews_for_member(member),
            year=today.year,
            covered=selectors.insurance_covered(member, today.year),
            last_payslip=payroll_selectors.payslip_last(member=member),
            budget_available=budget_available(member=member),
        )
    return render(request, "members/dashboard.html", context)


@login_required
def member_file(request: HttpRequest) -> HttpResponse:
    """Open or update my member file."""
    user = _user(request)
    member = _member(request)
    if request.method == "POST":
        form = MemberForm(request.POST)
    elif member is not None:
        form = MemberForm.from_member(member)
    else:
        form = MemberForm(initial={"country": current_entity().country})
    if request.method == "POST" and form.is_valid():
        try:
            if member is None:
                services.member_onboard(user=user, data=form.to_input())
                messages.success(
                    request, _("Your member file is open. Your advisor will check it.")
                )
            else:
                services.member_update(member=member, data=form.to_input(), actor=user)
                messages.success(request, _("Your member file is saved."))
            return redirect("home")
        except DomainError as error:
            add_domain_error(form, error)
    return render(request, "members/member_file.html", {"form": form, "member": member})


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    """Add a client to the entity's registry; a known VAT number offers the existing client."""
    form = ClientForm(request.POST or None)
    existing: Client | None = None
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(data=form.to_input(), actor=_user(request))
        except services.ClientExistsError as error:
            existing = error.existing
            add_domain_error(form, error)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Client %(name)s added.") % {"name": client.name})
            return redirect(f"{reverse('members:contract-new')}?client={client.pk}")
    return render(request, "members/client_form.html", {"form": form, "existing": existing})


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if member is None:
        return redirect("members:member-file")
    return render(
        request, "members/contract_list.html", {"contracts": selectors.contracts_for_member(member)}
    )


def _own_contract(member: Member, pk: int) -> Contract:
    return get_object_or_404(Contract.objects.select_related("client"), pk=pk, member=member)


@login_required
def contract_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Declare a contract, or edit a draft: save it as a draft or submit it for review."""
    user = _user(request)
    member = _member(request)
    if member is None:
        messages.info(request, _("Open your member file before declaring a contract."))
        return redirect("members:member-file")
    entity = current_entity()
    today = services.entity_today(entity)
    contract = _own_contract(member, pk) if pk is not None else None
    if contract is not None and not contract.is_editable:
        messages.error(request, _("This contract can no longer be edited."))
        return redirect("members:contract-detail", pk=contract.pk)

    extra_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = ContractForm(request.POST, entity=entity, on=today)
        work_days = WorkDayFormSet(request.POST, prefix="days")
        expenses = ExpenseFormSet(request.POST, request.FILES, prefix="expenses")
        if form.is_valid() and work_days.is_valid() and expenses.is_valid():
            saved = _save_and_maybe_submit(
                request=request,
                member=member,
                contract=contract,
                form=form,
                work_days=work_days,
                expenses=expenses,
                extra_errors=extra_errors,
            )
            if saved is not None:
                return saved
    else:
        form = ContractForm(initial=_contract_initial(request, contract), entity=entity, on=today)
        work_days = WorkDayFormSet(
            prefix="days",
            initial=[{"day": d.day, "hours": d.hours} for d in contract.work_days.all()]
            if contract
            else [],
        )
        expenses = ExpenseFormSet(
            prefix="expenses",
            initial=[
                {"id": e.pk, "kind": e.kind, "amount": e.amount, "description": e.description}
                for e in contract.expenses.order_by("pk")
            ]
            if contract
            else [],
        )
    return render(
        request,
        "members/contract_form.html",
        {
            "form": form,
            "work_days": work_days,
            "expenses": expenses,
            "contract": contract,
            "extra_errors": extra_errors,
            "estimate": _estimate_from(
                request.POST if request.method == "POST" else None, contract, _member(request)
            ),
            "user_id": user.pk,
        },
    )


def _save_and_maybe_submit(
    *,
    request: HttpRequest,
    member: Member,
    contract: Contract | None,
    form: ContractForm,
    work_days: Any,
    expenses: Any,
    extra_errors: dict[str, list[str]],
) -> HttpResponse | None:
    user = _user(request)
    try:
        contract = services.contract_save_draft(
            member=member,
            data=contract_input(form, work_days, expenses),
            actor=user,
            contract=contract,
        )
    except DomainError as error:
        _route_errors(form, error, extra_errors)
        return None
    if "submit" not in request.POST:
        messages.success(request, _("Draft saved."))
        return redirect("members:contract-detail", pk=contract.pk)
    try:
        services.contract_submit(contract=contract, actor=user)
    except DomainError as error:
        messages.warning(
            request, _("Saved as a draft, but not submitted: %(reason)s") % {"reason": error}
        )
        return redirect("members:contract-edit", pk=contract.pk)
    messages.success(request, _("Contract submitted: your advisor will review it."))
    return redirect("members:contract-detail", pk=contract.pk)


def _route_errors(
    form: ContractForm, error: DomainError, extra_errors: dict[str, list[str]]
) -> None:
    for problem in error.problems:
        if problem.field in form.fields:
            form.add_error(problem.field, problem.message)
        elif problem.field in {"work_days", "expenses"}:
            extra_errors.setdefault(problem.field, []).append(problem.message)
        else:
            form.add_error(None, problem.message)


def _contract_initial(request: HttpRequest, contract: Contract | None) -> dict[str, Any]:
    if contract is not None:
        return {
            "client": contract.client_id,
            "title": contract.title,
            "description": contract.description,
            "place": contract.place,
            "first_day": contract.first_day,
            "last_day": contract.last_day,
            "price": contract.price,
            "vat_rate": str(contract.vat_rate),
        }
    client = request.GET.get("client", "")
    return {"client": int(client)} if client.isdigit() else {}


def _decimal(value: str | None) -> Decimal:
    try:
        number = Decimal((value or "0").replace(",", "."))
    except InvalidOperation:
        return ZERO
    return number if number.is_finite() and number >= 0 else ZERO


def _estimate_from(data: Any, contract: Contract | None, member: Member | None) -> Any:
    """The live estimate from the form's current figures (or the saved contract's), in the
    member's payroll category."""
    entity = current_entity()
    if data is not None:
        price = _decimal(data.get("price"))
        expenses = sum(
            (
                _decimal(data.get(f"expenses-{i}-amount"))
                for i in range(min(int(_decimal(data.get("expenses-TOTAL_FORMS"))), 50))
                if not data.get(f"expenses-{i}-DELETE")
            ),
            ZERO,
        )
    elif contract is not None:
        price = contract.price
        expenses = sum((e.amount for e in contract.expenses.all()), ZERO)
    else:
        return None
    if price <= 0 or price > Decimal("1e9"):
        return None
    return services.contract_estimate(
        entity=entity,
        price=price,
        expenses=expenses,
        on=services.entity_today(entity),
        member=member,
    )


@login_required
@require_POST
def contract_estimate(request: HttpRequest) -> HttpResponse:
    """The estimate panel, re-rendered while the member types (fetched by estimate.js)."""
    estimate = _estimate_from(request.POST, None, _member(request))
    return render(request, "members/_estimate.html", {"estimate": estimate})


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request)
    if member is None:
        return redirect("members:member-file")
    contract = _own_contract(member, pk)
    return render(
        request,
        "members/contract_detail.html",
        {
            "contract": contract,
            "estimate": _estimate_from(None, contract, member),
            "events": contract.events.select_related("actor").all(),
            "attachment_form": AttachmentForm(),
        },
    )


def _contract_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    member = _member(request)
    if member is None:
        return redirect("members:member-file")
    contract = _own_contract(member, pk)
    user = _user(request)
    done = {
        "submit": (services.contract_submit, _("Contract submitted: your advisor will review it.")),
        "withdraw": (services.contract_withdraw, _("Contract withdrawn: it is a draft again.")),
        "cancel": (services.contract_cancel, _("Contract cancelled.")),
    }
    service, success = done[action]
    try:
        with transaction.atomic():
            service(contract=contract, actor=user)
    except DomainError as error:
        for problem in error.problems:
            messages.error(request, problem.message)
    else:
        messages.success(request, success)
    return redirect("members:contract-detail", pk=contract.pk)


@login_required
@require_POST
def contract_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract_action(request, pk, "submit")


@login_required
@require_POST
def contract_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract_action(request, pk, "withdraw")


@login_required
@require_POST
def contract_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract_action(request, pk, "cancel")


@login_required
@require_POST
def contract_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request)
    if member is None:
        return redirect("members:member-file")
    contract = _own_contract(member, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.contract_attachment_add(
                contract=contract,
                actor=_user(request),
                kind=form.cleaned_data["kind"],
                file=form.cleaned_data["file"],
            )
            messages.success(request, _("Attachment added."))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("members:contract-detail", pk=contract.pk)


@login_required
def contract_file(request: HttpRequest, pk: int, kind: str, file_id: int) -> FileResponse:
    """A receipt or an attachment of a contract, for its member or the entity's staff only.

    Files live under the entity's own folder and are never served from a public URL.
    """
    user = _user(request)
    contracts = Contract.objects.all()
    if not user.has_perm("members.view_contract"):
        contracts = contracts.filter(member__user=user)
    contract = get_object_or_404(contracts, pk=pk)
    if kind == "receipt":
        stored = get_object_or_404(contract.expenses.exclude(receipt=""), pk=file_id).receipt
    elif kind == "attachment":
        stored = get_object_or_404(contract.attachments, pk=file_id).file
    else:
        raise Http404
    return FileResponse(
        stored.open("rb"), as_attachment=True, filename=(stored.name or "").rsplit("/", 1)[-1]
    )
