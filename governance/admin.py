"""The entity's admin for governance: statutes, share classes, the register, assemblies and
candidacies.

Organisers (entity admins) configure and convene; advisors check the eligibility of
candidates; accountants record share payments. State changes are actions that call
governance.services, one transaction per row; a refusal becomes a message. The register is
read-only here (its lines are written by the services) and ballots are not shown at all: the
published list of receipts is the portal's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance import services
from governance.models import (
    Assembly,
    AssemblyDocument,
    Candidacy,
    Election,
    Proxy,
    Resolution,
    ShareClass,
    Shareholder,
    ShareMovement,
    ShareOrder,
    Statutes,
)
from members.admin import admin_actor
from members.services import entity_today
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity


def _each(
    request: HttpRequest, queryset: QuerySet[Any], action: Callable[[Any], object], done: str
) -> None:
    """Run ``action`` on every selected row; report how many succeeded and each refusal."""
    count = 0
    for obj in queryset:
        try:
            action(obj)
        except DomainError as error:
            messages.error(request, f"{obj}: {error.message}")
        else:
            count += 1
    if count:
        messages.success(request, f"{done}: {count}")


@admin.register(Statutes)
class StatutesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "voting_rule", "proxies_per_holder", "notice_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Statutes.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShareClass)
class ShareClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "nominal_value", "currency", "on_sale")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Shares are redeemed and transferred at the class's nominal value, booked in its
        # currency: once shares of the class are issued, changing either would repay what
        # was never paid in, or in another currency.
        if obj is not None and ShareMovement.objects.filter(share_class=obj).exists():
            return ("code", "nominal_value", "currency")
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MovementInline(admin.TabularInline):
    model = ShareMovement
    fk_name = "shareholder"
    fields = (
        "occurred_on", "kind", "share_class", "quantity", "amount", "currency", "counterparty",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shareholder)
class ShareholderAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "country", "email")
    search_fields = ("name", "email", "company_number")
    list_filter = ("kind", "country")
    inlines = [MovementInline]
    raw_id_fields = ("user",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentDateForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )


@admin.register(ShareOrder)
class ShareOrderAdmin(admin.ModelAdmin):
    list_display = (
        "payment_reference", "shareholder", "share_class", "quantity", "amount", "currency",
        "state", "created_at", "paid_on",
    )  # fmt: skip
    list_filter = ("state", "share_class")
    search_fields = ("payment_reference", "shareholder__name")
    readonly_fields = [f.name for f in ShareOrder._meta.fields]
    actions = ["record_payment", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_record_permission(self, request: HttpRequest) -> bool:
        return admin_actor(request).has_perm("governance.record_share_payment")

    @admin.action(
        description=_("Record the transfer of the selected purchases"), permissions=["record"]
    )
    def record_payment(
        self, request: HttpRequest, queryset: QuerySet[ShareOrder]
    ) -> HttpResponse | None:
        form = PaymentDateForm(request.POST if "paid_on" in request.POST else None,
                               initial={"paid_on": entity_today(current_entity())})  # fmt: skip
        if form.is_bound and form.is_valid():
            paid_on: datetime.date = form.cleaned_data["paid_on"]
            _each(
                request, queryset,
                lambda order: services.share_order_pay(order=order, paid_on=paid_on,
                                                       actor=admin_actor(request)),
                gettext("Purchases paid"),
            )  # fmt: skip
            return None
        return TemplateResponse(
            request,
            "governance/admin/payment_date.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Record the transfer"),
                "form": form,
                "orders": queryset,
                "action": "record_payment",
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Cancel the selected unpaid purchases"), permissions=["record"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[ShareOrder]) -> None:
        _each(
            request, queryset,
            lambda order: services.share_order_cancel(order=order, actor=admin_actor(request)),
            gettext("Purchases cancelled"),
        )  # fmt: skip


@admin.register(ShareMovement)
class ShareMovementAdmin(admin.ModelAdmin):
    """The register: read-only, with its CSV and XLSX exports."""

    list_display = (
        "pk", "occurred_on", "shareholder", "share_class", "kind", "quantity", "amount", "currency",
    )  # fmt: skip
    list_filter = ("kind", "share_class")
    search_fields = ("shareholder__name",)
    date_hierarchy = "occurred_on"
    readonly_fields = [f.name for f in ShareMovement._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        messages.info(
            request,
            format_html(
                '{}: <a href="{}">CSV</a> · <a href="{}">XLSX</a>',
                gettext("Export the register"),
                reverse("governance:register-export", args=["csv"]),
                reverse("governance:register-export", args=["xlsx"]),
            ),
        )
        return super().changelist_view(request, extra_context)


class DraftOnlyInline(admin.StackedInline):
    """Agenda items can be changed while the assembly is a draft only."""

    extra = 0

    def _draft(self, obj: Assembly | None) -> bool:
        return obj is None or obj.state == Assembly.State.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


class ResolutionInline(DraftOnlyInline):
    model = Resolution
    fields = ("position", "title", "text", "majority", "quorum_percent", "count_abstentions")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # A new resolution counts abstentions as the statutes say (as resolution_add does),
        # not as the column's default.
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("count_abstentions")
        if field is not None:
            field.initial = services.statutes_get().count_abstentions
        return formset


class DocumentInline(DraftOnlyInline):
    model = AssemblyDocument
    fields = ("title", "file")


class ElectionInline(DraftOnlyInline):
    model = Election
    fields = ("title", "seats", "candidacies_close_on", "tie_rule", "lot_seed")
    readonly_fields = ("lot_seed",)


@admin.register(Assembly)
class AssemblyAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "mode", "state", "convocation_progress", "turnout_link")
    list_filter = ("state", "mode")
    inlines = [ResolutionInline, DocumentInline, ElectionInline]
    actions = ["convene", "open_vote", "close_vote", "send_convocations"]
    readonly_fields = (
        "state", "voting_rule", "vote_cap_percent", "proxies_per_holder", "allow_vote_change",
        "convened_at", "opened_at", "closed_at", "convocations_total", "convocations_sent",
        "convocations_finished_at", "receipts_digest", "created_by",
    )  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.state != Assembly.State.DRAFT:
            return [f.name for f in Assembly._meta.fields]
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            obj is not None
            and obj.state == Assembly.State.DRAFT
            and super().has_delete_permission(request, obj)
        )

    def save_model(self, request: HttpRequest, obj: Assembly, form: Any, change: bool) -> None:
        if not change:
            # The statutes' rules are copied in, as assembly_create does.
            statutes = services.statutes_get()
            obj.voting_rule = statutes.voting_rule
            obj.vote_cap_percent = statutes.vote_cap_percent
            obj.proxies_per_holder = statutes.proxies_per_holder
            obj.allow_vote_change = statutes.allow_vote_change
            obj.created_by = admin_actor(request)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("convocations"))
    def convocation_progress(self, assembly: Assembly) -> str:
        if assembly.state == Assembly.State.DRAFT:
            return "-"
        return f"{assembly.convocations_sent} / {assembly.convocations_total}"

    @admin.display(description=_("turnout"))
    def turnout_link(self, assembly: Assembly) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("governance:turnout", args=[assembly.pk]),
            gettext("Turnout"),
        )  # fmt: skip

    # Without ``permissions`` an action is offered to anyone who may read the list (advisors,
    # accountants): convening, opening and closing are the organisers'.
    def has_organise_permission(self, request: HttpRequest) -> bool:
        return admin_actor(request).has_perm("governance.organise_assembly")

    @admin.action(
        description=_("Convene (checks the notice, freezes the roll, sends convocations)"),
        permissions=["organise"],
    )
    def convene(self, request: HttpRequest, queryset: QuerySet[Assembly]) -> None:
        _each(request, queryset,
              lambda a: services.assembly_convene(assembly=a, actor=admin_actor(request)),
              gettext("Convened"))  # fmt: skip

    @admin.action(description=_("Open the vote"), permissions=["organise"])
    def open_vote(self, request: HttpRequest, queryset: QuerySet[Assembly]) -> None:
        _each(request, queryset,
              lambda a: services.assembly_open(assembly=a, actor=admin_actor(request)),
              gettext("Vote opened"))  # fmt: skip

    @admin.action(description=_("Close the vote and publish the results"), permissions=["organise"])
    def close_vote(self, request: HttpRequest, queryset: QuerySet[Assembly]) -> None:
        _each(request, queryset,
              lambda a: services.assembly_close(assembly=a, actor=admin_actor(request)),
              gettext("Vote closed"))  # fmt: skip

    @admin.action(description=_("Send the missing convocations"), permissions=["organise"])
    def send_convocations(self, request: HttpRequest, queryset: QuerySet[Assembly]) -> None:
        from governance.tasks import convocations_send_task

        for assembly in queryset.exclude(state=Assembly.State.DRAFT):
            convocations_send_task.delay(assembly_id=assembly.pk)
        messages.success(request, gettext("Convocations queued."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


@admin.register(Candidacy)
class CandidacyAdmin(admin.ModelAdmin):
    """The advisors' eligibility check of the candidates."""

    list_display = ("shareholder", "election", "state", "reason", "created_at", "votes", "elected")
    list_filter = ("state", "election")
    search_fields = ("shareholder__name",)
    readonly_fields = [f.name for f in Candidacy._meta.fields]
    actions = ["mark_eligible", "mark_ineligible"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return admin_actor(request).has_perm("governance.review_candidacy")

    @admin.action(description=_("Eligible"), permissions=["review"])
    def mark_eligible(self, request: HttpRequest, queryset: QuerySet[Candidacy]) -> None:
        _each(request, queryset,
              lambda c: services.candidacy_review(candidacy=c, eligible=True, reason="",
                                                  actor=admin_actor(request)),
              gettext("Marked eligible"))  # fmt: skip

    @admin.action(description=_("Not eligible (give the reason)"), permissions=["review"])
    def mark_ineligible(
        self, request: HttpRequest, queryset: QuerySet[Candidacy]
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            _each(request, queryset,
                  lambda c: services.candidacy_review(candidacy=c, eligible=False, reason=reason,
                                                      actor=admin_actor(request)),
                  gettext("Marked not eligible"))  # fmt: skip
            return None
        return TemplateResponse(
            request,
            "governance/admin/reason.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Not eligible"),
                "form": form,
                "objects": queryset,
                "action": "mark_ineligible",
                "opts": self.model._meta,
            },
        )


@admin.register(Proxy)
class ProxyAdmin(admin.ModelAdmin):
    list_display = ("assembly", "grantor", "holder", "created_at")
    list_filter = ("assembly",)
    readonly_fields = ("assembly", "grantor", "holder", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
