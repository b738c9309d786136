"""The fund's admin: payouts and the advisors' approval queue, the day's transfer files, the
entity's fund policy, and the coverage snapshots under the fund's dashboard.

Payouts and batches are written by the payout job alone: read-only here. The one write is the
approval of an advance above a client's exposure limit, an action calling
``services.payout_approve`` (it needs ``guarantee_fund.approve_payout``; a refusal is a
message). The SEPA files are not public: an admin view serves them to whoever may see batches.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guarantee_fund.calendar import entity_today
from guarantee_fund.coverage import percent
from guarantee_fund.models import CoverageSnapshot, FundPolicy, Payout, PayoutBatch
from guarantee_fund.selectors import client_open_advances
from guarantee_fund.views import PER_CLIENT_PERMISSION, dashboard_context
from members.admin import ServiceAdmin, admin_actor
from members.forms_admin import ConfirmForm
from smart_coop.tenancy.current import current_entity


def _today() -> datetime.date:
    return entity_today(current_entity())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the fund's services write: seen, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        # A row of another entity's schema looks like any unknown address.
        raise Http404


# --- payouts and the approval queue ----------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """The advisors' queue: advances above a client's limit, waiting for an approval."""

    title = _("approval queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        waiting = Payout.objects.filter(state=Payout.State.AWAITING_APPROVAL).count()
        return [("waiting", _("waiting for approval (%(count)d)") % {"count": waiting})]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "waiting":
            return queryset.filter(state=Payout.State.AWAITING_APPROVAL)
        return queryset


class DueFilter(admin.SimpleListFilter):
    """When the payout is due, in the entity's own calendar; "late" is due and not paid."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("late", _("due and not paid")),
            ("today", _("today")),
            ("week", _("in the next 7 days")),
            ("later", _("later")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = _today()
        week = today + datetime.timedelta(days=7)
        open_states = [Payout.State.SCHEDULED, Payout.State.AWAITING_APPROVAL]
        match self.value():
            case "late":
                return queryset.filter(state__in=open_states, due_on__lte=today)
            case "today":
                return queryset.filter(due_on=today)
            case "week":
                return queryset.filter(due_on__gt=today, due_on__lte=week)
            case "later":
                return queryset.filter(due_on__gt=week)
        return queryset


# The list shows first what waits for an advisor, then what is to be paid, then the rest.
QUEUE_ORDER = [
    Payout.State.AWAITING_APPROVAL,
    Payout.State.SCHEDULED,
    Payout.State.PAID,
    Payout.State.NOT_GUARANTEED,
    Payout.State.CANCELLED,
]
QUEUE_RANK = Case(
    *[When(state=state, then=Value(index)) for index, state in enumerate(QUEUE_ORDER)],
    output_field=IntegerField(),
)


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin, ServiceAdmin):
    """Every contract's payout; the advances waiting for an advisor come first."""

    list_display = [
        "contract",
        "member",
        "client",
        "due_on",
        "state",
        "guaranteed",
        "advance",
        "paid_amount",
        "currency",
        "batch",
    ]
    list_select_related = ["contract", "member__user", "client", "batch"]
    list_filter = [QueueFilter, "state", DueFilter, "guaranteed", "due_on"]
    search_fields = ["contract__title", "invoice__number", "client__name", "member__user__email"]
    date_hierarchy = "due_on"
    fieldsets = [
        (None, {"fields": ["contract", "invoice", "member", "client", "state", "due_on"]}),
        (_("Guarantee"), {"fields": ["guaranteed", "not_guaranteed_reason", "exposure"]}),
        (
            _("Money"),
            {"fields": ["advance", "currency", "paid_amount", "paid_at", "payslip", "batch"]},
        ),
        (_("Approval"), {"fields": ["approved_by", "approved_at"]}),
    ]
    readonly_fields = ["exposure"]
    actions = ["approve_advance"]
    object_actions = {"approve_advance": _("Approve the advance")}

    def get_ordering(self, request: HttpRequest) -> list[str | Combinable]:
        return [QUEUE_RANK.asc(), "due_on", "pk"]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return admin_actor(request).has_perm("guarantee_fund.approve_payout")

    def object_action_allowed(self, obj: Payout, name: str) -> bool:
        return obj.state == Payout.State.AWAITING_APPROVAL

    @admin.display(description=_("client's open advances / limit"))
    def exposure(self, payout: Payout) -> str:
        limit = FundPolicy.current().client_exposure_limit
        return f"{client_open_advances(client=payout.client)} / {limit} {payout.currency}"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        waiting = Payout.objects.filter(state=Payout.State.AWAITING_APPROVAL).count()
        extra = {**(extra_context or {}), "waiting": waiting}
        return super().changelist_view(request, extra)

    @admin.action(description=_("Approve the selected advances"), permissions=["approve"])
    def approve_advance(
        self, request: HttpRequest, queryset: QuerySet[Payout]
    ) -> HttpResponse | None:
        from guarantee_fund.services import open_claim, payout_approve

        actor = admin_actor(request)
        limit = FundPolicy.current().client_exposure_limit
        return self.form_action(
            request,
            queryset.select_related("client", "contract", "invoice"),
            form_class=ConfirmForm,
            run=lambda payout, data: payout_approve(payout=payout, actor=actor),
            title=gettext("Approve advances above a client's limit"),
            done=gettext("%(object)s: the advance is approved; it is paid when due."),
            notes=lambda payout: (
                gettext(
                    "%(client)s: advance %(advance)s %(currency)s, open advances of the client "
                    "%(open)s %(currency)s (limit %(limit)s), %(state)s"
                )
                % {
                    "client": payout.client.name,
                    "advance": open_claim(payout.invoice),
                    "open": client_open_advances(client=payout.client),
                    "limit": limit,
                    "currency": payout.currency,
                    "state": payout.get_state_display(),
                }
            ),
        )


# --- the day's transfer files ----------------------------------------------------------------


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    """One per day the payout job paid: the pain.001 file to upload to the bank (EUR)."""

    list_display = ["execution_date", "transfers", "total", "message_id", "download"]
    date_hierarchy = "execution_date"
    fields = ["execution_date", "message_id", "transfers", "file_transfers", "total", "download"]
    readonly_fields = ["download"]

    @admin.display(description=_("SEPA file"))
    def download(self, batch: PayoutBatch) -> str:
        if not batch.file:
            return gettext("no SEPA file: paid by other means outside the euro area")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:guarantee_fund_payoutbatch_file", args=[batch.pk]),
            gettext("download the pain.001"),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="guarantee_fund_payoutbatch_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        """The stored pain.001 of the batch, to whoever may see batches."""
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            raise Http404
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        if not batch.file:
            raise Http404
        try:
            handle = batch.file.open("rb")
        except FileNotFoundError as missing:
            raise Http404 from missing
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{batch.message_id}.xml",
            content_type="application/xml",
        )


# --- the entity's policy ---------------------------------------------------------------------


@admin.register(FundPolicy)
class FundPolicyAdmin(admin.ModelAdmin):
    """The one row of the entity's fund rules: the list leads straight to it."""

    fieldsets = [
        (_("Eligibility"), {"fields": ["require_eu_client", "require_confirmed_order"]}),
        (_("Limits"), {"fields": ["client_exposure_limit", "coverage_floor"]}),
        (_("Alert"), {"fields": ["floor_alerted_on", "updated_at"]}),
    ]
    readonly_fields = ["floor_alerted_on", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        policy = FundPolicy.current()
        return HttpResponseRedirect(
            reverse("admin:guarantee_fund_fundpolicy_change", args=[policy.pk])
        )


# --- the dashboard -----------------------------------------------------------------------------


@admin.register(CoverageSnapshot)
class CoverageSnapshotAdmin(ReadOnlyAdmin):
    """The fund's dashboard (position, coverage over time, open advances per client) above
    the daily snapshots it is drawn from."""

    change_list_template = "admin/guarantee_fund/coveragesnapshot/change_list.html"
    list_display = [
        "day",
        "contributions",
        "losses",
        "reserve",
        "open_advances",
        "overdue_advances",
        "coverage_percent",
        "currency",
    ]
    date_hierarchy = "day"

    @admin.display(description=_("coverage (%)"))
    def coverage_percent(self, snapshot: CoverageSnapshot) -> Decimal | str:
        value = percent(snapshot.coverage)
        return "-" if value is None else value

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        extra = {
            **dashboard_context(per_client=admin_actor(request).has_perm(PER_CLIENT_PERMISSION)),
            **(extra_context or {}),
            "title": gettext("The guarantee fund"),
        }
        return super().changelist_view(request, extra)
