"""The entity's admin: the advisors' review queue, member files, clients, declarations, partners.

Reads, filters and actions. Every write calls members.services, one transaction per row; a
service's refusal becomes a message (actions) or a form error (change forms). Contracts and
declarations are never edited here and nothing is deleted: their history is the audit trail.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from members import services
from members.forms_admin import (
    ClientAdminForm,
    ClientStatusForm,
    ConfirmForm,
    ContractApproveForm,
    ContractRejectForm,
    ContractRequestChangesForm,
    DeclarationAcceptedForm,
    DeclarationErrorForm,
    MemberAdminForm,
    MemberStateForm,
    service_refusal,
)
from members.models import (
    Attachment,
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Expense,
    Member,
    MemberStateChange,
    Partner,
    WorkDay,
)
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity


def admin_actor(request: HttpRequest) -> User:
    """The user of an admin request: the admin site lets in active staff users only."""
    user = request.user
    assert isinstance(user, User)
    return user


def admin_can(request: HttpRequest, permission: str) -> bool:
    return admin_actor(request).has_perm(permission)


class ServiceAdmin(admin.ModelAdmin):
    """Base of this app's admins.

    * Actions that need a reason or a note ask for it on an intermediate page (``form_action``),
      then call the service once per selected row, each in its own transaction.
    * The actions named in ``object_actions`` (name -> button label) are also buttons on the
      change page, leading to ``<id>/do/<action>/``, which runs the same action on that row.
    * A change form saved by a service shows the service's refusal as form errors.
    * A row that is not in this entity's schema is a 404, as any other unknown address.
    """

    object_actions: Mapping[str, Any] = {}

    # --- rows of other entities ---

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        # Django redirects to the index with "doesn't exist, perhaps it was deleted?"; an id
        # that belongs to another entity's schema must look like any unknown address.
        raise Http404

    # --- actions with an intermediate page ---

    def form_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        *,
        form_class: type[forms.Form],
        run: Callable[[Any, dict[str, Any]], object],
        title: str,
        done: str,
        form_kwargs: dict[str, Any] | None = None,
        notes: Callable[[Any], str] | None = None,
        finish: Callable[[list[tuple[Any, Any]]], HttpResponse] | None = None,
    ) -> HttpResponse | None:
        """Ask the action's question, then call ``run(row, cleaned_data)`` for each row.

        Each call runs in its own transaction: a refusal (DomainError) is reported for that row
        and the others go on. ``done`` is the success message, formatted with ``%(object)s``.
        ``finish`` may answer with a page of the results instead of the usual redirect.
        """
        rows = list(queryset)
        kwargs = form_kwargs or {}
        if "apply" in request.POST:
            form = form_class(request.POST, **kwargs)
            if form.is_valid():
                results = []
                for row in rows:
                    try:
                        with transaction.atomic():
                            result = run(row, form.cleaned_data)
                    except DomainError as error:
                        self.message_user(
                            request,
                            gettext("%(object)s: %(error)s") % {"object": row, "error": error},
                            messages.ERROR,
                        )
                    else:
                        results.append((row, result))
                        self.message_user(request, done % {"object": row}, messages.SUCCESS)
                return finish(results) if finish is not None and results else None
        else:
            form = form_class(**kwargs)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "rows": [(row, notes(row) if notes is not None else "") for row in rows],
            "form": form,
            "media": self.media + form.media,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": self._cancel_url(request, rows),
        }
        return TemplateResponse(request, "admin/members/action_form.html", context)

    def _cancel_url(self, request: HttpRequest, rows: list[Any]) -> str:
        info = self.opts.app_label, self.opts.model_name
        match = request.resolver_match
        if match is not None and match.url_name == "{}_{}_action".format(*info) and rows:
            return reverse("admin:{}_{}_change".format(*info), args=[rows[0].pk])
        return reverse("admin:{}_{}_changelist".format(*info))

    # --- the same actions as buttons on the change page ---

    def object_action_allowed(self, obj: Any, name: str) -> bool:
        """Whether the action makes sense for this row now (e.g. its state allows it)."""
        return True

    def allowed_actions(self, request: HttpRequest) -> dict[str, Callable[..., Any]]:
        """The actions this user may run (get_actions filters them): name -> function."""
        return {
            name: action[0]
            for name, action in self.get_actions(request).items()
            if action is not None
        }

    def object_action_buttons(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        actions = self.allowed_actions(request)
        info = self.opts.app_label, self.opts.model_name
        return [
            (
                reverse("admin:{}_{}_action".format(*info), args=[obj.pk, name]),
                str(label),
            )
            for name, label in self.object_actions.items()
            if name in actions and self.object_action_allowed(obj, name)
        ]

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def object_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        actions = self.allowed_actions(request)
        if action not in self.object_actions or action not in actions:
            raise PermissionDenied
        function = actions[action]
        response = function(self, request, self.get_queryset(request).filter(pk=obj.pk))
        if isinstance(response, HttpResponse):
            return response
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        buttons = self.object_action_buttons(request, obj) if obj is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "object_actions": buttons}
        )

    # --- change forms saved by a service ---

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            # save_model's service refused what the form let through (a rule only the service
            # knows, or a concurrent change). Its transaction is rolled back; the form is shown
            # again with the reasons as errors (see forms_admin.ServiceModelForm).
            token = service_refusal.set(error)
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            finally:
                service_refusal.reset(token)


class ReadOnlyInline(admin.TabularInline):
    """Rows of a file shown beside it, never edited there."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in self.fields or () if isinstance(name, str)]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _file_link(file: Any) -> str:
    if not file:
        return "-"
    return format_html('<a href="{}">{}</a>', file.url, file.name.rsplit("/", 1)[-1])


# --- filters -------------------------------------------------------------------------------


class AdvisorFilter(admin.SimpleListFilter):
    """The advisor of the member: mine, none, or one advisor."""

    title = _("advisor")
    parameter_name = "advisor"
    field = "advisor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        advisors = (
            User.objects.filter(advised_members__isnull=False)
            .distinct()
            .order_by("last_name", "first_name", "email")
        )
        return [
            ("mine", str(_("mine"))),
            ("none", str(_("none"))),
            *[(str(advisor.pk), advisor.get_full_name()) for advisor in advisors],
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "mine":
            return queryset.filter(**{self.field: admin_actor(request)})
        if value == "none":
            return queryset.filter(**{f"{self.field}__isnull": True})
        if value and value.isdigit():
            return queryset.filter(**{f"{self.field}__pk": int(value)})
        return queryset


class ContractAdvisorFilter(AdvisorFilter):
    field = "member__advisor"


class FirstDayFilter(admin.SimpleListFilter):
    """When the work starts, measured in the entity's own time zone."""

    title = _("first day")
    parameter_name = "starts"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("started", _("already started")),
            ("week", _("in the next 7 days")),
            ("month", _("in the next 30 days")),
            ("later", _("in more than 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = services.entity_today(current_entity())
        week, month = today + datetime.timedelta(days=7), today + datetime.timedelta(days=30)
        match self.value():
            case "started":
                return queryset.filter(first_day__lt=today)
            case "week":
                return queryset.filter(first_day__gte=today, first_day__lte=week)
            case "month":
                return queryset.filter(first_day__gte=today, first_day__lte=month)
            case "later":
                return queryset.filter(first_day__gt=month)
        return queryset


class ClientStatusFilter(admin.SimpleListFilter):
    title = _("client status")
    parameter_name = "client_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(Client.Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(client__status=value) if value else queryset


# --- contracts: the review queue -----------------------------------------------------------

# The queue shows first what waits for an advisor, then what waits for the member.
REVIEW_ORDER = [
    Contract.State.SUBMITTED,
    Contract.State.CHANGES_REQUESTED,
    Contract.State.APPROVED,
    Contract.State.DRAFT,
    Contract.State.REJECTED,
    Contract.State.CANCELLED,
]
REVIEW_RANK = Case(
    *[When(state=state, then=Value(index)) for index, state in enumerate(REVIEW_ORDER)],
    output_field=IntegerField(),
)

EVENT_LABELS = {
    "created": _("created"),
    "edited": _("edited"),
    "attachment_added": _("attachment added"),
    "submitted": _("submitted"),
    "withdrawn": _("withdrawn"),
    "cancelled": _("cancelled"),
    "approved": _("approved"),
    "rejected": _("rejected"),
    "changes_requested": _("changes requested"),
    "declaration_sent": _("declaration sent"),
    "declaration_accepted": _("declaration accepted"),
    "declaration_error": _("declaration refused"),
    "declaration_to_send": _("declaration to send again"),
}


def _field_label(name: str) -> str:
    try:
        field = Contract._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    label = getattr(field, "verbose_name", None)
    if label is None and field.related_model is not None:
        label = field.related_model._meta.verbose_name_plural
    return str(label or name)


def _value_text(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


class WorkDayInline(ReadOnlyInline):
    model = WorkDay
    fields = ["day", "hours"]


class ExpenseInline(ReadOnlyInline):
    model = Expense
    fields = ["kind", "amount", "description", "receipt_link"]
    readonly_fields = ["receipt_link"]

    @admin.display(description=_("receipt"))
    def receipt_link(self, expense: Expense) -> str:
        return _file_link(expense.receipt)


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["kind", "file_link", "uploaded_at"]
    readonly_fields = ["file_link"]

    @admin.display(description=_("file"))
    def file_link(self, attachment: Attachment) -> str:
        return _file_link(attachment.file)


class ContractEventInline(ReadOnlyInline):
    model = ContractEvent
    fields = ["at", "actor", "action_label", "changes_text", "note"]
    readonly_fields = ["action_label", "changes_text"]
    verbose_name_plural = _("history")

    @admin.display(description=_("action"))
    def action_label(self, event: ContractEvent) -> str:
        return str(EVENT_LABELS.get(event.action, event.action))

    @admin.display(description=_("what changed"))
    def changes_text(self, event: ContractEvent) -> str:
        # {"field": [old, new]}, as services._event records it.
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} → {}",
            (
                (_field_label(name), _value_text(change[0]), _value_text(change[1]))
                for name, change in sorted(event.changes.items())
                if isinstance(change, list) and len(change) == 2
            ),
        )


class DeclarationInline(ReadOnlyInline):
    model = EmploymentDeclaration
    fields = ["kind", "period_start", "period_end", "state", "reference"]
    show_change_link = True


@admin.register(Contract)
class ContractAdmin(ServiceAdmin):
    """The advisors' queue: submitted contracts first; decisions only through the actions."""

    list_display = [
        "title",
        "member",
        "client",
        "first_day",
        "last_day",
        "price_text",
        "state_text",
        "overlaps_flag",
        "submitted_at",
    ]
    list_select_related = ["member__user", "client"]
    list_filter = [
        "state",
        ContractAdvisorFilter,
        "member__sector",
        FirstDayFilter,
        ClientStatusFilter,
    ]
    search_fields = [
        "title",
        "member__user__first_name",
        "member__user__last_name",
        "member__user__email",
        "client__name",
        "client__vat_number",
    ]
    date_hierarchy = "first_day"
    fieldsets = [
        (None, {"fields": ["member", "client", "title", "description", "place"]}),
        (
            _("Days and price"),
            {
                "fields": [
                    "first_day",
                    "last_day",
                    "total_hours_text",
                    "price",
                    "currency",
                    "vat_treatment",
                    "vat_rate",
                ]
            },
        ),
        (
            _("Review"),
            {
                "fields": [
                    "state",
                    "overlaps_flag",
                    "submitted_at",
                    "late_reason",
                    "reviewed_by",
                    "reviewed_at",
                    "review_note",
                ]
            },
        ),
        (
            _("Origin"),
            {"fields": ["source", "partner", "partner_shift_id", "created_at", "updated_at"]},
        ),
    ]
    readonly_fields = ["total_hours_text", "overlaps_flag"]
    inlines = [
        WorkDayInline,
        ExpenseInline,
        AttachmentInline,
        DeclarationInline,
        ContractEventInline,
    ]
    actions = ["approve", "reject", "request_changes", "issue_invoice"]
    object_actions = {
        "approve": _("Approve"),
        "reject": _("Reject"),
        "request_changes": _("Ask for changes"),
        "issue_invoice": _("Invoice the client now"),
    }

    def get_ordering(self, request: HttpRequest) -> list[str | Combinable]:
        return [REVIEW_RANK.asc(), "first_day", "pk"]

    # Members declare contracts; advisors decide with the actions; nothing is deleted.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Contract | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Contract | None = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "members.review_contract")

    @admin.display(description=_("price excl. VAT"), ordering="price")
    def price_text(self, contract: Contract) -> str:
        return f"{contract.price} {contract.currency}"

    @admin.display(description=_("state"), ordering=REVIEW_RANK)
    def state_text(self, contract: Contract) -> str:
        return contract.get_state_display()

    @admin.display(description=_("overlaps"), ordering="overlaps")
    def overlaps_flag(self, contract: Contract) -> str:
        if not contract.overlaps:
            return ""
        return format_html(
            '<strong class="overlaps" style="color: var(--error-fg, #ba2121)" title="{}">'
            "⚠ {}</strong>",
            _("Another contract of the member has work on the same day."),
            _("overlaps"),
        )

    @admin.display(description=_("total hours"))
    def total_hours_text(self, contract: Contract) -> str:
        return str(contract.total_hours)

    def has_invoice_permission(self, request: HttpRequest) -> bool:
        # Deciding to invoice early is a reviewer's call, not the accountants'.
        return admin_can(request, "members.review_contract") and admin_can(
            request, "invoicing.issue_invoice"
        )

    def object_action_allowed(self, obj: Contract, name: str) -> bool:
        if name == "issue_invoice":
            return obj.state == Contract.State.APPROVED and not obj.invoices.exists()
        return obj.state == Contract.State.SUBMITTED

    def _notes(self, today: datetime.date) -> Callable[[Contract], str]:
        def notes(contract: Contract) -> str:
            found = []
            if contract.state != Contract.State.SUBMITTED:
                found.append(
                    gettext("%(state)s, not submitted") % {"state": contract.get_state_display()}
                )
            elif contract.first_day < today:
                found.append(
                    gettext("late: the work started on %(day)s") % {"day": contract.first_day}
                )
            if contract.overlaps:
                found.append(gettext("overlaps another contract"))
            return " · ".join(found)

        return notes

    @admin.action(description=_("Approve the selected contracts"), permissions=["review"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Contract]) -> HttpResponse | None:
        actor, today = admin_actor(request), services.entity_today(current_entity())
        queryset = queryset.select_related("member__user", "client")
        late = [
            contract
            for contract in queryset
            if contract.state == Contract.State.SUBMITTED and contract.first_day < today
        ]

        def run(contract: Contract, data: dict[str, Any]) -> Contract:
            return services.contract_approve(
                contract=contract,
                actor=actor,
                note=data["note"],
                # The reason is recorded only on the contracts it explains.
                late_reason=data["late_reason"] if contract.first_day < today else "",
            )

        return self.form_action(
            request,
            queryset,
            form_class=ContractApproveForm,
            form_kwargs={"late": late},
            run=run,
            title=gettext("Approve contracts"),
            done=gettext("%(object)s is approved; the member is told by email."),
            notes=self._notes(today),
        )

    @admin.action(description=_("Reject the selected contracts"), permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Contract]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset.select_related("member__user", "client"),
            form_class=ContractRejectForm,
            run=lambda contract, data: services.contract_reject(
                contract=contract, actor=actor, reason=data["reason"]
            ),
            title=gettext("Reject contracts"),
            done=gettext("%(object)s is rejected; the member is told by email."),
            notes=self._notes(services.entity_today(current_entity())),
        )

    @admin.action(
        description=_("Ask for changes on the selected contracts"), permissions=["review"]
    )
    def request_changes(
        self, request: HttpRequest, queryset: QuerySet[Contract]
    ) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset.select_related("member__user", "client"),
            form_class=ContractRequestChangesForm,
            run=lambda contract, data: services.contract_request_changes(
                contract=contract, actor=actor, note=data["note"]
            ),
            title=gettext("Ask for changes"),
            done=gettext("%(object)s goes back to the member for changes; they are told by email."),
            notes=self._notes(services.entity_today(current_entity())),
        )

    @admin.action(description=_("Invoice the client now"), permissions=["invoice"])
    def issue_invoice(
        self, request: HttpRequest, queryset: QuerySet[Contract]
    ) -> HttpResponse | None:
        """Invoice an approved contract before its work ends (otherwise done the day after)."""
        from invoicing import services as invoicing_services

        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset.select_related("member__user", "client"),
            form_class=ConfirmForm,
            run=lambda contract, data: invoicing_services.invoice_issue(
                contract=contract, actor=actor
            ),
            title=gettext("Invoice the client now"),
            done=gettext("%(object)s is invoiced; the client receives the invoice by email."),
        )


# --- member files --------------------------------------------------------------------------

MEMBER_FIELDS = [field.name for field in dataclasses.fields(services.MemberInput)]


class MemberStateChangeInline(ReadOnlyInline):
    model = MemberStateChange
    fields = ["at", "from_state", "to_state", "actor", "reason"]


@admin.register(Member)
class MemberAdmin(ServiceAdmin):
    """The member file: identity edited through member_update, state through its action."""

    form = MemberAdminForm
    list_display = ["name", "email", "state", "sector", "advisor"]
    list_select_related = ["user", "advisor"]
    list_filter = ["state", "sector", AdvisorFilter]
    search_fields = ["user__first_name", "user__last_name", "user__email", "national_id"]
    inlines = [MemberStateChangeInline]
    actions = ["change_state"]
    object_actions = {"change_state": _("Change the state")}

    _identity = (
        _("Identity"),
        {"fields": ["national_id", "date_of_birth", "languages", "sector"]},
    )
    _address = (_("Address"), {"fields": ["street", "postal_code", "city", "country"]})
    _bank = (_("Bank account"), {"fields": ["iban", "bic"]})

    def get_fieldsets(self, request: HttpRequest, obj: Member | None = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ["user", "advisor"]}),
                self._identity,
                self._address,
                self._bank,
            ]
        return [
            (None, {"fields": ["user", "state", "advisor"]}),
            self._identity,
            self._address,
            self._bank,
            (_("Dates"), {"fields": ["created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Member | None = None) -> list[str]:
        if obj is None:
            return []
        # The state moves with the "change state" action, which asks why.
        return ["user", "state", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Member | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(member__isnull=True, is_staff=False)
        elif db_field.name == "advisor":
            kwargs["queryset"] = User.objects.filter(groups__name=Role.ADVISOR).order_by(
                "last_name", "first_name"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        data = services.MemberInput(**{name: form.cleaned_data[name] for name in MEMBER_FIELDS})
        if change:
            member = services.member_update(member=obj, data=data, actor=admin_actor(request))
            if "advisor" in form.changed_data:
                member = services.member_advisor_set(
                    member=member,
                    advisor=form.cleaned_data.get("advisor"),
                    actor=admin_actor(request),
                )
        else:
            member = services.member_onboard(
                user=form.cleaned_data["user"], data=data, advisor=form.cleaned_data.get("advisor")
            )
        obj.pk = member.pk
        obj.refresh_from_db()

    @admin.display(description=_("name"), ordering="user__last_name")
    def name(self, member: Member) -> str:
        return member.user.get_full_name()

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, member: Member) -> str:
        return member.user.email

    def object_action_allowed(self, obj: Member, name: str) -> bool:
        return bool(Member.TRANSITIONS[obj.state])

    @admin.action(description=_("Change the state of the selected members"), permissions=["change"])
    def change_state(self, request: HttpRequest, queryset: QuerySet[Member]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset.select_related("user"),
            form_class=MemberStateForm,
            run=lambda member, data: services.member_state_change(
                member=member, to_state=data["to_state"], actor=actor, reason=data["reason"]
            ),
            title=gettext("Change the state of members"),
            done=gettext("The state of %(object)s is changed."),
            notes=lambda member: member.get_state_display(),
        )


# --- clients -------------------------------------------------------------------------------

CLIENT_FIELDS = [field.name for field in dataclasses.fields(services.ClientInput)]


@admin.register(Client)
class ClientAdmin(ServiceAdmin):
    """The entity's client registry: created through client_create, status by its action."""

    form = ClientAdminForm
    list_display = ["name", "kind", "country", "vat_number", "status", "status_reason", "email"]
    list_filter = ["status", "kind", "country"]
    search_fields = ["name", "vat_number", "company_number", "email"]
    actions = ["set_status"]
    object_actions = {"set_status": _("Set the status")}

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets: list[Any] = [
            (None, {"fields": ["name", "kind", "email", "language", "payment_terms_days"]}),
            (_("Identifiers"), {"fields": ["country", "vat_number", "company_number"]}),
            (_("Address"), {"fields": ["street", "postal_code", "city"]}),
        ]
        if obj is not None:
            fieldsets[1][1]["fields"].append("peppol_id")
            fieldsets.append(
                (_("Status"), {"fields": ["status", "status_reason", "created_by", "created_at"]})
            )
        return fieldsets

    # There is no service to edit a client yet: the file is read-only once created.
    def has_change_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False

    def has_status_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "members.change_client")

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        data = services.ClientInput(**{name: form.cleaned_data[name] for name in CLIENT_FIELDS})
        client = services.client_create(data=data, actor=admin_actor(request))
        obj.pk = client.pk
        obj.refresh_from_db()

    @admin.action(description=_("Set the status of the selected clients"), permissions=["status"])
    def set_status(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=ClientStatusForm,
            run=lambda client, data: services.client_status_set(
                client=client, status=data["status"], actor=actor, reason=data["reason"]
            ),
            title=gettext("Set the status of clients"),
            done=gettext("The status of %(object)s is set."),
            notes=lambda client: client.get_status_display(),
        )


# --- declarations of employment ------------------------------------------------------------

DECLARATION_TARGETS = {
    "mark_sent": EmploymentDeclaration.State.SENT,
    "mark_accepted": EmploymentDeclaration.State.ACCEPTED,
    "mark_error": EmploymentDeclaration.State.ERROR,
    "mark_to_send": EmploymentDeclaration.State.TO_SEND,
}


DECLARATION_FIELDS = (
    "contract",
    "kind",
    "period_start",
    "period_end",
    "state",
    "reference",
    "error_message",
    "payload_text",
    "created_at",
    "updated_at",
)


@admin.register(EmploymentDeclaration)
class EmploymentDeclarationAdmin(ServiceAdmin):
    """Declarations to the authority: the operator records what happened; the payload is data."""

    list_display = [
        "contract",
        "member",
        "kind",
        "period_start",
        "period_end",
        "state",
        "reference",
    ]
    list_select_related = ["contract__member__user"]
    list_filter = ["state", "kind"]
    search_fields = [
        "contract__title",
        "contract__member__user__last_name",
        "contract__member__user__email",
        "reference",
    ]
    date_hierarchy = "period_start"
    fields = DECLARATION_FIELDS
    readonly_fields = DECLARATION_FIELDS
    actions = ["mark_sent", "mark_accepted", "mark_error", "mark_to_send"]
    object_actions = {
        "mark_sent": _("Mark sent"),
        "mark_accepted": _("Mark accepted"),
        "mark_error": _("Mark refused"),
        "mark_to_send": _("Back to send"),
    }

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created when a contract is approved

    def has_change_permission(
        self, request: HttpRequest, obj: EmploymentDeclaration | None = None
    ) -> bool:
        return False  # the state moves with the actions; the payload never changes

    def has_delete_permission(
        self, request: HttpRequest, obj: EmploymentDeclaration | None = None
    ) -> bool:
        return False

    def has_record_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "members.change_employmentdeclaration")

    @admin.display(description=_("member"), ordering="contract__member__user__last_name")
    def member(self, declaration: EmploymentDeclaration) -> str:
        return str(declaration.contract.member)

    @admin.display(description=_("payload"))
    def payload_text(self, declaration: EmploymentDeclaration) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(declaration.payload, indent=2, ensure_ascii=False)
        )

    def object_action_allowed(self, obj: EmploymentDeclaration, name: str) -> bool:
        return DECLARATION_TARGETS[name] in EmploymentDeclaration.TRANSITIONS[obj.state]

    def _record(
        self,
        request: HttpRequest,
        queryset: QuerySet[EmploymentDeclaration],
        *,
        name: str,
        form_class: type[forms.Form],
        title: str,
    ) -> HttpResponse | None:
        actor, to_state = admin_actor(request), DECLARATION_TARGETS[name]
        return self.form_action(
            request,
            queryset.select_related("contract"),
            form_class=form_class,
            run=lambda declaration, data: services.declaration_state_set(
                declaration=declaration,
                to_state=to_state,
                actor=actor,
                reference=data.get("reference", ""),
                error=data.get("error", ""),
            ),
            title=title,
            done=gettext("%(object)s is recorded."),
            notes=lambda declaration: str(declaration.contract),
        )

    @admin.action(description=_("Mark the selected declarations sent"), permissions=["record"])
    def mark_sent(
        self, request: HttpRequest, queryset: QuerySet[EmploymentDeclaration]
    ) -> HttpResponse | None:
        return self._record(
            request,
            queryset,
            name="mark_sent",
            form_class=ConfirmForm,
            title=gettext("Declarations sent to the authority"),
        )

    @admin.action(description=_("Mark the selected declarations accepted"), permissions=["record"])
    def mark_accepted(
        self, request: HttpRequest, queryset: QuerySet[EmploymentDeclaration]
    ) -> HttpResponse | None:
        return self._record(
            request,
            queryset,
            name="mark_accepted",
            form_class=DeclarationAcceptedForm,
            title=gettext("Declarations accepted by the authority"),
        )

    @admin.action(description=_("Mark the selected declarations refused"), permissions=["record"])
    def mark_error(
        self, request: HttpRequest, queryset: QuerySet[EmploymentDeclaration]
    ) -> HttpResponse | None:
        return self._record(
            request,
            queryset,
            name="mark_error",
            form_class=DeclarationErrorForm,
            title=gettext("Declarations refused by the authority"),
        )

    @admin.action(
        description=_("Put the selected declarations back to send"), permissions=["record"]
    )
    def mark_to_send(
        self, request: HttpRequest, queryset: QuerySet[EmploymentDeclaration]
    ) -> HttpResponse | None:
        return self._record(
            request,
            queryset,
            name="mark_to_send",
            form_class=ConfirmForm,
            title=gettext("Declarations to send again"),
        )


# --- partner platforms ---------------------------------------------------------------------


@admin.register(Partner)
class PartnerAdmin(ServiceAdmin):
    """Partner platforms and their agreement (entity admins), with the API token of each."""

    list_display = [
        "name",
        "client",
        "api_user",
        "sector",
        "min_shift_hours",
        "min_hourly_net",
        "is_active",
        "token_text",
    ]
    list_select_related = ["client", "api_user"]
    list_filter = ["is_active", "sector"]
    search_fields = ["name", "client__name", "api_user__email"]
    fieldsets = [
        (None, {"fields": ["name", "client", "sector", "is_active"]}),
        (_("Agreement"), {"fields": ["min_shift_hours", "min_hourly_net"]}),
        (_("API access"), {"fields": ["api_user", "token_text"]}),
    ]
    readonly_fields = ["token_text"]
    actions = ["issue_token"]
    object_actions = {"issue_token": _("Issue a new API token")}

    def has_delete_permission(self, request: HttpRequest, obj: Partner | None = None) -> bool:
        return False  # a partner's contracts keep it; deactivate it instead

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "api_user":
            # An API user is a login of the platform, never a person working in the admin.
            kwargs["queryset"] = User.objects.filter(is_staff=False).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("API token"))
    def token_text(self, partner: Partner) -> str:
        token = Token.objects.filter(user_id=partner.api_user_id).first()
        if token is None:
            return gettext('none: use the action "Issue a new API token"')
        return gettext("issued on %(date)s") % {"date": f"{token.created:%Y-%m-%d %H:%M}"}

    @admin.action(description=_("Issue a new API token"), permissions=["change"])
    def issue_token(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse | None:
        def issue(partner: Partner, data: dict[str, Any]) -> str:
            return services.partner_token_issue(partner=partner, actor=admin_actor(request))

        def show(results: list[tuple[Any, Any]]) -> HttpResponse:
            # The keys are shown on this page only: not put in a message, which is stored.
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("New API tokens"),
                "opts": self.opts,
                "tokens": results,
            }
            return TemplateResponse(request, "admin/members/partner/tokens.html", context)

        return self.form_action(
            request,
            queryset.select_related("api_user"),
            form_class=ConfirmForm,
            run=issue,
            title=gettext("Issue new API tokens"),
            done=gettext("%(object)s has a new API token."),
            notes=self.token_text,
            finish=show,
        )
