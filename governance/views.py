"""The member portal's governance pages: shares, assemblies, the vote, receipts, results.

Views collect input with forms and call the services; a refusal (DomainError) is shown on the
field it concerns. A user only reaches their own shares and certificates (404 otherwise);
drafts are the organisers'; the turnout page and the register export need the organiser's
permission.

Receipts are kept in the voter's browser (a signed cookie per user), never in the database
next to the voter: see governance/PRIVACY.md.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.documents import certificate_pdf, minutes_pdf
from governance.exports import register_csv, register_xlsx
from governance.forms import (
    BallotForm,
    CandidacyForm,
    ProxyForm,
    RedeemForm,
    ShareBuyForm,
    ShareholderForm,
)
from governance.models import (
    Assembly,
    Candidacy,
    Election,
    Participation,
    RollEntry,
    Shareholder,
    ShareMovement,
)
from members.forms import add_domain_error
from members.selectors import member_for_user
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity

ORGANISE = "governance.organise_assembly"
RECEIPTS_COOKIE = "governance_receipts_{user}"
RECEIPTS_SALT = "governance.receipts"
RECEIPTS_KEPT = 40  # the most recent receipts a browser keeps (a cookie holds 4 kB)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _shareholder(request: HttpRequest) -> Shareholder | None:
    return selectors.shareholder_for_user(_user(request))


def _assembly(request: HttpRequest, pk: int) -> Assembly:
    """An assembly of this entity the user may see: drafts are the organisers' only."""
    assembly = get_object_or_404(Assembly, pk=pk)
    if assembly.state == Assembly.State.DRAFT and not _user(request).has_perm(ORGANISE):
        raise Http404
    return assembly


# --- receipts kept by the browser ----------------------------------------------------------


def receipts_read(request: HttpRequest) -> list[dict[str, Any]]:
    user = _user(request)
    raw = request.get_signed_cookie(
        RECEIPTS_COOKIE.format(user=user.pk), default="", salt=f"{RECEIPTS_SALT}.{user.pk}"
    )
    try:
        found = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _receipts_write(
    request: HttpRequest, response: HttpResponse, receipts: list[dict[str, Any]]
) -> None:
    user = _user(request)
    response.set_signed_cookie(
        RECEIPTS_COOKIE.format(user=user.pk),
        json.dumps(receipts[-RECEIPTS_KEPT:], separators=(",", ":")),
        salt=f"{RECEIPTS_SALT}.{user.pk}",
        max_age=400 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _receipt_for(
    receipts: list[dict[str, Any]], assembly: Assembly, entry: RollEntry
) -> dict[str, Any] | None:
    for receipt in receipts:
        if receipt.get("assembly") == assembly.pk and receipt.get("voter") == entry.pk:
            return receipt
    return None


# --- shares ---------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My shares, my purchases awaiting payment, the register lines; the assemblies."""
    holder = _shareholder(request)
    entity = current_entity()
    context: dict[str, Any] = {
        "holder": holder,
        "entity": entity,
        "assemblies": list(selectors.assemblies_visible()[:20]),
        "can_organise": _user(request).has_perm(ORGANISE),
    }
    if holder is not None:
        context.update(
            holdings=selectors.holdings(shareholder=holder),
            pending=list(selectors.orders_pending(shareholder=holder)),
            movements=list(selectors.movements_of(shareholder=holder)),
        )
    return render(request, "governance/home.html", context)


@login_required
def share_buy(request: HttpRequest) -> HttpResponse:
    """Order shares; the holder's register details are asked the first time."""
    user = _user(request)
    holder = _shareholder(request)
    form = ShareBuyForm(request.POST or None)
    holder_form: ShareholderForm | None = None
    if holder is None:
        member = member_for_user(user)
        initial = {"name": user.get_full_name(), "country": current_entity().country}
        if member is not None:
            initial.update(street=member.street, postal_code=member.postal_code,
                           city=member.city, country=member.country)  # fmt: skip
        holder_form = ShareholderForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and (holder_form is None or holder_form.is_valid())
    ):
        try:
            with transaction.atomic():
                if holder is None:
                    assert holder_form is not None
                    holder = services.shareholder_register(
                        data=holder_form.to_input(email=user.email, language=user.language),
                        user=user,
                        actor=user,
                    )
                order = services.share_order_place(
                    shareholder=holder,
                    share_class=form.cleaned_data["share_class"],
                    quantity=form.cleaned_data["quantity"],
                    actor=user,
                )
        except DomainError as error:
            target: forms.Form = form
            if holder_form is not None and error.field in holder_form.fields:
                target = holder_form
            add_domain_error(target, error)
        else:
            messages.success(
                request,
                _(
                    "Your order is registered. Transfer %(amount)s %(currency)s with the "
                    "reference %(reference)s."
                )
                % {
                    "amount": order.amount,
                    "currency": order.currency,
                    "reference": order.payment_reference,
                },
            )
            return redirect("governance:home")
    return render(
        request,
        "governance/share_buy.html",
        {"form": form, "holder_form": holder_form, "entity": current_entity()},
    )


@login_required
def share_redeem(request: HttpRequest) -> HttpResponse:
    """Withdraw shares, within the statutes' window."""
    holder = _shareholder(request)
    if holder is None:
        raise Http404
    form = RedeemForm(request.POST or None)
    statutes = services.statutes_get()
    today = entity_today(current_entity())
    start, end = services.redemption_window(statutes=statutes, on=today)
    if request.method == "POST" and form.is_valid():
        try:
            services.shares_redeem(
                shareholder=holder,
                share_class=form.cleaned_data["share_class"],
                quantity=form.cleaned_data["quantity"],
                on=today,
                actor=_user(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your shares are redeemed; the amount will be repaid."))
            return redirect("governance:home")
    return render(
        request,
        "governance/share_redeem.html",
        {"form": form, "start": start, "end": end, "open": start <= today <= end},
    )


@login_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate of one of my purchases (404 for anyone else's)."""
    holder = _shareholder(request)
    movement = get_object_or_404(
        ShareMovement.objects.select_related("shareholder__user", "share_class"),
        pk=pk,
        shareholder=holder,
        kind=ShareMovement.Kind.PURCHASE,
    )
    response = HttpResponse(certificate_pdf(movement), content_type="application/pdf")
    entity = current_entity()
    response["Content-Disposition"] = (
        f'inline; filename="{entity.code}-share-certificate-{movement.pk}.pdf"'
    )
    return response


@login_required
@permission_required("governance.view_sharemovement", raise_exception=True)
def register_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The share register as CSV or XLSX (advisors, accountants, organisers)."""
    entity = current_entity()
    if fmt == "csv":
        response = HttpResponse(register_csv(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            register_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    day = entity_today(entity).isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{entity.code}-share-register-{day}.{fmt}"'
    )
    return response


# --- assemblies -----------------------------------------------------------------------------


@login_required
def assembly_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Agenda, documents, my vote(s) and proxy, candidacies; results once closed."""
    assembly = _assembly(request, pk)
    holder = _shareholder(request)
    votings = selectors.votings_for(assembly=assembly, shareholder=holder)
    elections = list(assembly.elections.order_by("pk"))
    today = entity_today(current_entity())
    own = votings[0] if votings else None
    context = {
        "assembly": assembly,
        "votings": votings,
        "own": own,
        "holder": holder,
        "resolutions": list(assembly.resolutions.order_by("position")),
        "documents": list(assembly.documents.all()),
        "elections": [
            (
                election,
                list(
                    election.candidacies.filter(state=Candidacy.State.ELIGIBLE)
                    .select_related("shareholder")
                    .order_by("rank", "shareholder__name")
                ),
                today <= election.candidacies_close_on,
            )
            for election in elections
        ],
        "proxy_form": ProxyForm(),
        "can_organise": _user(request).has_perm(ORGANISE),
    }
    return render(request, "governance/assembly_detail.html", context)


def _ballot_paper(assembly: Assembly) -> tuple[list[Any], list[tuple[Election, list[Candidacy]]]]:
    resolutions = list(assembly.resolutions.order_by("position"))
    elections = [
        (
            election,
            list(
                election.candidacies.filter(state=Candidacy.State.ELIGIBLE)
                .select_related("shareholder")
                .order_by("shareholder__name")
            ),
        )
        for election in assembly.elections.order_by("pk")
    ]
    return resolutions, elections


@login_required
def assembly_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Vote on every resolution and election (for myself, or for whom I carry a proxy)."""
    assembly = _assembly(request, pk)
    holder = _shareholder(request)
    votings = selectors.votings_for(assembly=assembly, shareholder=holder)
    if not votings:
        return render(request, "governance/not_on_roll.html", {"assembly": assembly}, status=403)
    wanted = request.POST.get("voter") or request.GET.get("voter")
    voting = next((v for v in votings if str(v.entry.pk) == wanted), votings[0])
    receipts = receipts_read(request)
    kept = _receipt_for(receipts, assembly, voting.entry)
    resolutions, elections = _ballot_paper(assembly)
    initial = {"receipt_code": kept["code"], "receipt_secret": kept["secret"]} if kept else {}
    form = BallotForm(
        request.POST or None,
        initial=initial,
        resolutions=resolutions,
        elections=elections,
        changing=voting.voted,
    )
    if request.method == "POST" and form.is_valid():
        assert holder is not None
        existing = None
        if voting.voted:
            existing = services.Receipt(
                code=form.cleaned_data.get("receipt_code", "").strip().upper(),
                secret=form.cleaned_data.get("receipt_secret", "").strip().upper(),
            )
        try:
            receipt = services.ballot_cast(
                assembly=assembly,
                voter=voting.entry.shareholder,
                cast_by=holder,
                choices=form.choices(),
                approvals=form.approvals(),
                receipt=existing,
                actor=_user(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if receipt.changed:
                messages.success(request, _("Your vote is changed. Your receipt stays the same."))
            else:
                messages.success(request, _("Your vote is cast. Keep your receipt."))
            # No code in the URL: access logs keep URLs next to who asked for them.
            response = redirect("governance:receipts")
            others = [r for r in receipts if r is not kept]
            others.append(
                {
                    "assembly": assembly.pk,
                    "title": assembly.title,
                    "voter": voting.entry.pk,
                    "for": voting.entry.shareholder.name if voting.by_proxy else "",
                    "code": receipt.code,
                    "secret": receipt.secret,
                }
            )
            _receipts_write(request, response, others)
            return response
    return render(
        request,
        "governance/vote.html",
        {"assembly": assembly, "form": form, "voting": voting, "votings": votings},
    )


@login_required
def my_receipts(request: HttpRequest) -> HttpResponse:
    """The receipts this browser keeps for me, with where to check each once published."""
    receipts = receipts_read(request)
    closed = set(
        Assembly.objects.filter(
            pk__in=[r.get("assembly") for r in receipts], state=Assembly.State.CLOSED
        ).values_list("pk", flat=True)
    )
    rows = [{**r, "published": r.get("assembly") in closed} for r in reversed(receipts)]
    return render(request, "governance/receipts.html", {"receipts": rows})


PUBLISHED_PAGE = 2000


@login_required
def receipts_published(request: HttpRequest, pk: int) -> HttpResponse:
    """After the close: every receipt code with its choices.

    A voter looks theirs up by POST, never in the URL (access logs keep URLs next to who asked).
    """
    assembly = _assembly(request, pk)
    if assembly.state != Assembly.State.CLOSED:
        raise Http404
    published = services.receipts_published(assembly=assembly)
    code = request.POST.get("code", "").strip().upper() if request.method == "POST" else ""
    if code:
        published = [row for row in published if row[0] == code]
    return render(
        request,
        "governance/receipts_published.html",
        {
            "assembly": assembly,
            "resolutions": list(assembly.resolutions.order_by("position")),
            "published": published if code else published[:PUBLISHED_PAGE],
            "shown_all": bool(code) or len(published) <= PUBLISHED_PAGE,
            "total": Participation.objects.filter(assembly=assembly).count(),
            "code": code,
        },
    )


@login_required
def assembly_document(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    """A document of the assembly's file (the same people as the assembly's page)."""
    assembly = _assembly(request, pk)
    document = get_object_or_404(assembly.documents, pk=document_pk)
    return FileResponse(document.file.open("rb"), as_attachment=False)


@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    assembly = _assembly(request, pk)
    if assembly.state != Assembly.State.CLOSED:
        raise Http404
    response = HttpResponse(minutes_pdf(assembly), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{current_entity().code}-minutes-{assembly.pk}.pdf"'
    )
    return response


@login_required
@require_POST
def proxy_give(request: HttpRequest, pk: int) -> HttpResponse:
    assembly = _assembly(request, pk)
    holder = _shareholder(request)
    form = ProxyForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["holder_email"]
        # Among the voters on this roll (a person and their company may share an address),
        # whatever the case the address was written in.
        found = list(
            Shareholder.objects.filter(
                Q(email__iexact=email) | Q(user__email__iexact=email),
                pk__in=RollEntry.objects.filter(assembly=assembly).values("shareholder_id"),
            ).distinct()[:2]
        )
        proxy_holder = found[0] if len(found) == 1 else None
        try:
            if len(found) > 1:
                raise DomainError(
                    _("Several shareholders on the roll have this email address."),
                    field="holder_email",
                )
            if holder is None or proxy_holder is None:
                raise DomainError(
                    _("No shareholder on the roll has this email address."), field="holder_email"
                )
            services.proxy_grant(
                assembly=assembly, grantor=holder, holder=proxy_holder, actor=_user(request)
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("%(name)s will vote for you at this assembly.") % {"name": proxy_holder.name},
            )
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect("governance:assembly", pk=assembly.pk)


@login_required
@require_POST
def proxy_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    assembly = _assembly(request, pk)
    holder = _shareholder(request)
    if holder is None:
        raise Http404
    try:
        services.proxy_revoke(assembly=assembly, grantor=holder, actor=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your proxy is withdrawn: you vote yourself."))
    return redirect("governance:assembly", pk=assembly.pk)


@login_required
def candidacy_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Stand for the board with a project statement."""
    election = get_object_or_404(Election.objects.select_related("assembly"), pk=pk)
    _assembly(request, election.assembly_id)
    holder = _shareholder(request)
    form = CandidacyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if holder is None:
                raise DomainError(_("Only shareholders can stand."), field="statement")
            services.candidacy_submit(
                election=election,
                shareholder=holder,
                statement=form.cleaned_data["statement"],
                actor=_user(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("Your candidacy is submitted. An advisor will check your eligibility.")
            )
            return redirect("governance:assembly", pk=election.assembly_id)
    return render(request, "governance/candidacy_form.html", {"election": election, "form": form})


# --- the organiser ------------------------------------------------------------------------


@login_required
def turnout(request: HttpRequest, pk: int) -> HttpResponse:
    """Convocations sent and turnout as the vote goes (counts only), with the next step."""
    if not _user(request).has_perm(ORGANISE):
        raise PermissionDenied
    assembly = get_object_or_404(Assembly, pk=pk)
    figures = selectors.turnout(assembly=assembly)
    sending = assembly.state != Assembly.State.DRAFT and assembly.convocations_finished_at is None
    moving = sending or assembly.state == Assembly.State.OPEN
    return render(
        request,
        "governance/turnout.html",
        {
            "assembly": assembly,
            "turnout": figures,
            "sending": sending,
            "moving": moving,
            # Reloading on its own moves the keyboard focus and the screen reader back to the
            # top (WCAG 2.2.1): only when the organiser asks for it, with a way to stop.
            "refresh": moving and request.GET.get("live") == "1",
        },
    )


ORGANISER_ACTIONS = {
    "convene": services.assembly_convene,
    "open": services.assembly_open,
    "close": services.assembly_close,
}


@login_required
@require_POST
def organise(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Convene, open or close the vote (the same services as the admin's actions)."""
    if not _user(request).has_perm(ORGANISE):
        raise PermissionDenied
    service = ORGANISER_ACTIONS.get(action)
    if service is None:
        raise Http404
    assembly = get_object_or_404(Assembly, pk=pk)
    try:
        service(assembly=assembly, actor=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done."))
    return redirect("governance:turnout", pk=assembly.pk)
