"""The payroll admin: salary runs, payslips, permanent contracts and the parameters.

Accountants calculate, approve, pay and export runs and correct payslips; advisors agree and
end permanent contracts. Payslips, runs and parameters are read-only here (the database refuses
edits of payslips anyway): every write is an action calling a service of ``payroll.services``
or ``payroll.smoothing``, each row in its own transaction, a refusal shown as a message.

Who may do what (permissions of the roles, smart_coop.accounts.roles):

* open and calculate a run, approve it, mark it paid, the SEPA file: ``payroll.approve_salaryrun``
* mark it exported, the payroll CSV/XLSX, the accounting journal and the DmfA data:
  ``payroll.export_salaryrun``
* correct a payslip: ``payroll.correct_payslip``; its PDF: ``payroll.view_payslip``
* agree a permanent contract: ``payroll.add_permanentcontract``; end it:
  ``payroll.change_permanentcontract``
* a new version of the parameters: entity admins only (never a change or a delete).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyInline, ServiceAdmin, admin_actor, admin_can
from members.forms_admin import ConfirmForm
from members.services import entity_today
from payroll import dmfa, services, smoothing
from payroll.documents import payslip_pdf
from payroll.exports import payroll_csv, payroll_xlsx
from payroll.forms_admin import (
    CorrectionForm,
    PaidOnForm,
    PermanentContractAgreeForm,
    PermanentContractEndForm,
    SalaryRunOpenForm,
    SepaForm,
)
from payroll.models import (
    PayrollParameters,
    Payslip,
    PayslipLine,
    PermanentContract,
    ReimbursedInvoice,
    SalaryRun,
)
from payroll.sepa import CURRENCY as SEPA_CURRENCY
from smart_coop.errors import DomainError
from smart_coop.ledger import exports as journal
from smart_coop.ledger.models import Entry
from smart_coop.money import MINOR_UNITS
from smart_coop.tenancy.current import current_entity

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZERO = Decimal("0.00")


def _today() -> datetime.date:
    return entity_today(current_entity())


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _money(amount: Decimal | None, currency: str) -> str:
    """Grouped thousands, the currency's decimals (whole forints)."""
    digits = MINOR_UNITS.get(currency, 2)
    return f"{amount if amount is not None else ZERO:,.{digits}f} {currency}"


def _month_end(period: datetime.date) -> datetime.date:
    return services.next_month(period) - datetime.timedelta(days=1)


# --- salary runs -------------------------------------------------------------------------------

_RUN_ACTION_STATES: dict[str, tuple[str, ...]] = {
    "calculate": services.OPEN_STATES,
    "approve": (SalaryRun.State.CALCULATED,),
    "mark_paid": (SalaryRun.State.APPROVED,),
    "mark_exported": (SalaryRun.State.PAID,),
    "sepa": (SalaryRun.State.APPROVED, SalaryRun.State.PAID, SalaryRun.State.EXPORTED),
}
# Download name ("<file>_<extension>") -> its button's label.
RUN_DOWNLOADS: dict[str, Any] = {
    "payroll_csv": _("Payroll CSV"),
    "payroll_xlsx": _("Payroll XLSX"),
    "journal_csv": _("Journal CSV"),
    "journal_xlsx": _("Journal XLSX"),
    "dmfa_csv": _("Quarterly social data (DmfA) CSV"),
    "dmfa_xlsx": _("Quarterly social data (DmfA) XLSX"),
}


def _decimal_sum(expression: Any, **kwargs: Any) -> Coalesce:
    return Coalesce(
        Sum(expression, **kwargs),
        Value(ZERO),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


@admin.register(SalaryRun)
class SalaryRunAdmin(ServiceAdmin):
    """The runs, newest first; each moves draft -> calculated -> approved -> paid -> exported
    by its actions, and gives its files for the bank, the social secretariat and the books."""

    list_display = [
        "period_text",
        "state",
        "payslip_count",
        "gross_total",
        "net_total",
        "to_pay_total",
        "approved_at",
        "paid_at",
        "exported_at",
    ]
    list_filter = ["state", "period"]
    date_hierarchy = "period"
    form = SalaryRunOpenForm
    RUN_FIELDS: ClassVar[list[str]] = [
        "period",
        "state",
        "totals",
        "payslips_link",
        "created_by",
        "created_at",
        "calculated_at",
        "approved_by",
        "approved_at",
        "paid_at",
        "exported_by",
        "exported_at",
    ]
    actions = ["calculate", "approve", "mark_paid", "mark_exported", "sepa"]
    object_actions = {
        "calculate": _("Calculate"),
        "approve": _("Approve"),
        "mark_paid": _("Mark paid"),
        "mark_exported": _("Mark exported"),
        "sepa": _("SEPA file"),
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[SalaryRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                payslip_total=Count("payslips"),
                gross_sum=_decimal_sum("payslips__gross"),
                net_sum=_decimal_sum("payslips__net"),
                # What the run's own transfers pay: the guarantee fund paid the others.
                to_pay_sum=_decimal_sum(
                    F("payslips__net") + F("payslips__expenses"),
                    filter=Q(payslips__paid_out=False),
                ),
            )
        )

    # A new run is opened for a month (the form asks which); runs are changed by actions only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "payroll.approve_salaryrun")

    def has_change_permission(self, request: HttpRequest, obj: SalaryRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SalaryRun | None = None) -> bool:
        return False

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "payroll.approve_salaryrun")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "payroll.export_salaryrun")

    def get_fields(self, request: HttpRequest, obj: SalaryRun | None = None) -> list[Any]:
        return list(self.RUN_FIELDS) if obj is not None else ["period"]

    def get_readonly_fields(self, request: HttpRequest, obj: SalaryRun | None = None) -> list[Any]:
        return list(self.RUN_FIELDS) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: SalaryRun, form: Any, change: bool) -> None:
        run = services.salary_run_open(
            period=form.cleaned_data["period"], actor=admin_actor(request)
        )
        obj.pk = run.pk
        obj.refresh_from_db()

    # --- columns and fields ---

    @admin.display(description=_("period"), ordering="period")
    def period_text(self, run: SalaryRun) -> str:
        return f"{run.period:%Y-%m}"

    @admin.display(description=_("payslips"), ordering="payslip_total")
    def payslip_count(self, run: Any) -> int:
        return int(run.payslip_total)

    @admin.display(description=_("gross"), ordering="gross_sum")
    def gross_total(self, run: Any) -> str:
        return _money(run.gross_sum, current_entity().currency)

    @admin.display(description=_("net"), ordering="net_sum")
    def net_total(self, run: Any) -> str:
        return _money(run.net_sum, current_entity().currency)

    @admin.display(description=_("to pay"), ordering="to_pay_sum")
    def to_pay_total(self, run: Any) -> str:
        return _money(run.to_pay_sum, current_entity().currency)

    @admin.display(description=_("totals"))
    def totals(self, run: SalaryRun) -> str:
        currency = current_entity().currency
        totals = services.salary_run_totals(run=run)
        lines = [
            (gettext("payslips"), str(totals.payslips)),
            (gettext("salary budget"), _money(totals.budget, currency)),
            (gettext("gross"), _money(totals.gross, currency)),
            (gettext("employer contributions"), _money(totals.employer, currency)),
            (gettext("employee contributions"), _money(totals.employee, currency)),
            (gettext("withholding tax"), _money(totals.withholding, currency)),
            (gettext("net"), _money(totals.net, currency)),
            (gettext("expenses"), _money(totals.expenses, currency)),
            (
                gettext("to pay by this run's transfers"),
                _money(services.salary_run_transfer_total(run=run), currency),
            ),
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", lines),
        )

    @admin.display(description=_("payslips"))
    def payslips_link(self, run: SalaryRun) -> str:
        url = reverse("admin:payroll_payslip_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("The run's payslips"))

    # --- actions ---

    def object_action_allowed(self, obj: SalaryRun, name: str) -> bool:
        return obj.state in _RUN_ACTION_STATES.get(name, ())

    def object_action_buttons(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        buttons = super().object_action_buttons(request, obj)
        if self.has_export_permission(request):
            buttons += [
                (reverse("admin:payroll_salaryrun_download", args=[obj.pk, name]), str(label))
                for name, label in RUN_DOWNLOADS.items()
            ]
        return buttons

    def _confirmed(
        self,
        request: HttpRequest,
        queryset: QuerySet[SalaryRun],
        run: Callable[[SalaryRun, dict[str, Any]], object],
        title: str,
        done: str,
    ) -> HttpResponse | None:
        return self.form_action(
            request,
            queryset,
            form_class=ConfirmForm,
            run=run,
            title=title,
            done=done,
            notes=lambda row: row.get_state_display(),
        )

    @admin.action(description=_("Calculate the selected runs"), permissions=["approve"])
    def calculate(self, request: HttpRequest, queryset: QuerySet[SalaryRun]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self._confirmed(
            request,
            queryset,
            lambda run, data: services.salary_run_calculate(run=run, actor=actor),
            gettext("Calculate salary runs"),
            gettext("%(object)s is calculated."),
        )

    @admin.action(description=_("Approve the selected runs"), permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet[SalaryRun]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self._confirmed(
            request,
            queryset,
            lambda run, data: services.salary_run_approve(run=run, actor=actor),
            gettext("Approve salary runs"),
            gettext("%(object)s is approved and booked."),
        )

    @admin.action(description=_("Mark the selected runs paid"), permissions=["approve"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[SalaryRun]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=PaidOnForm,
            form_kwargs={"today": _today()},
            run=lambda run, data: services.salary_run_mark_paid(
                run=run, actor=actor, paid_on=data["paid_on"]
            ),
            title=gettext("Mark salary runs paid"),
            done=gettext("%(object)s is paid and booked."),
            notes=lambda run: run.get_state_display(),
        )

    @admin.action(description=_("Mark the selected runs exported"), permissions=["export"])
    def mark_exported(
        self, request: HttpRequest, queryset: QuerySet[SalaryRun]
    ) -> HttpResponse | None:
        actor = admin_actor(request)
        return self._confirmed(
            request,
            queryset,
            lambda run, data: services.salary_run_mark_exported(run=run, actor=actor),
            gettext("Mark salary runs exported"),
            gettext("%(object)s is exported."),
        )

    @admin.action(description=_("SEPA file of the selected run"), permissions=["approve"])
    def sepa(self, request: HttpRequest, queryset: QuerySet[SalaryRun]) -> HttpResponse | None:
        """The pain.001.001.09 file paying the run's net salaries and expenses (EUR only)."""
        entity = current_entity()
        if entity.currency != SEPA_CURRENCY:
            self.message_user(
                request,
                gettext(
                    "SEPA credit transfers are in euro only: this entity pays in %(currency)s. "
                    "Pay its salaries with its bank's own format."
                )
                % {"currency": entity.currency},
                messages.ERROR,
            )
            return None
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choose one run: a SEPA file pays one run."), messages.ERROR
            )
            return None

        def render(run: SalaryRun, data: dict[str, Any]) -> bytes:
            try:
                return services.salary_run_sepa(run=run, execution_date=data["execution_date"])
            except ValueError as error:  # an IBAN, an amount or an identifier the bank refuses
                raise DomainError(str(error)) from error

        def file(results: list[tuple[Any, Any]]) -> HttpResponse:
            ((run, content),) = results
            return _attachment(
                content,
                "application/xml",
                f"salaries-{entity.code}-{run.period:%Y-%m}.xml",
            )

        return self.form_action(
            request,
            queryset,
            form_class=SepaForm,
            form_kwargs={"today": _today()},
            run=render,
            title=gettext("SEPA credit transfer file"),
            done=gettext("The SEPA file of %(object)s is ready."),
            notes=lambda run: _money(services.salary_run_transfer_total(run=run), entity.currency),
            finish=file,
        )

    # --- downloads: the payroll, the journal of the run's month, the DmfA of its quarter ---

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/download/<str:name>/",
                self.admin_site.admin_view(self.download_view),
                name="payroll_salaryrun_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        run = self.get_object(request, unquote(object_id))
        if run is None or name not in RUN_DOWNLOADS:
            raise Http404
        if not self.has_export_permission(request):
            raise PermissionDenied
        entity = current_entity()
        kind, extension = name.rsplit("_", 1)
        content_type = XLSX if extension == "xlsx" else "text/csv; charset=utf-8"
        if kind == "payroll":
            content = payroll_csv(run) if extension == "csv" else payroll_xlsx(run)
            filename = f"payroll-{entity.code}-{run.period:%Y-%m}.{extension}"
        elif kind == "journal":
            last = _month_end(run.period)
            rows = journal.journal_rows(date_from=run.period, date_to=last)
            if extension == "csv":
                content = journal.journal_csv(rows)
            else:
                title = gettext("Journal %(period)s") % {"period": f"{run.period:%Y-%m}"}
                content = journal.journal_xlsx(rows, title=title)
            filename = journal.journal_filename(
                entity_code=entity.code, date_from=run.period, date_to=last, extension=extension
            )
        else:
            quarter = dmfa.Quarter.of(run.period)
            rows_dmfa = dmfa.dmfa_rows(entity=entity, quarter=quarter)
            title = f"{dmfa.declaration_title(entity)} {quarter}"
            if extension == "csv":
                content = dmfa.dmfa_csv(rows_dmfa)
            else:
                content = dmfa.dmfa_xlsx(rows_dmfa, title=title)
            filename = dmfa.dmfa_filename(entity=entity, quarter=quarter, extension=extension)
            for open_run in dmfa.quarter_runs_open(quarter):
                self.message_user(
                    request,
                    gettext("%(title)s: the run %(period)s is not approved yet.")
                    % {"title": title, "period": f"{open_run.period:%Y-%m}"},
                    messages.WARNING,
                )
        return _attachment(content, content_type, filename)


# --- payslips ----------------------------------------------------------------------------------


class PayslipLineInline(ReadOnlyInline):
    model = PayslipLine
    fields = ["position", "code", "label", "base", "rate", "amount"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_can(request, "payroll.view_payslip")


class ReimbursedInvoiceInline(ReadOnlyInline):
    model = ReimbursedInvoice
    fields = ["invoice", "expenses"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_can(request, "payroll.view_payslip")


@admin.register(Payslip)
class PayslipAdmin(ServiceAdmin):
    """Payslips as computed: never edited; a correction is a new payslip in a later run."""

    list_display = [
        "member_name",
        "run",
        "kind",
        "gross",
        "net",
        "to_pay_text",
        "currency",
        "is_estimate",
        "paid_out",
    ]
    list_select_related = ["member__user", "run"]
    list_filter = ["run", "kind", "is_estimate", "paid_out"]
    search_fields = [
        "member__user__last_name",
        "member__user__first_name",
        "member__user__email",
        "member__national_id",
    ]
    fields = [
        "run",
        "member",
        "kind",
        "invoice",
        "permanent_contract",
        "corrects",
        "reason",
        "paid_out",
        "parameters",
        "budget",
        "gross",
        "employer_contributions",
        "employee_contributions",
        "taxable",
        "withholding",
        "net",
        "expenses",
        "to_pay_text",
        "budget_remainder",
        "currency",
        "is_estimate",
        "created_at",
        "pdf_link",
    ]
    readonly_fields = ["to_pay_text", "pdf_link"]
    inlines = [PayslipLineInline, ReimbursedInvoiceInline]
    actions = ["correct"]
    object_actions = {"correct": _("Correct")}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Payslip | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Payslip | None = None) -> bool:
        return False

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "payroll.correct_payslip")

    @admin.display(description=_("member"), ordering="member__user__last_name")
    def member_name(self, payslip: Payslip) -> str:
        return payslip.member.user.get_full_name() or payslip.member.user.email

    @admin.display(description=_("to pay"))
    def to_pay_text(self, payslip: Payslip) -> str:
        return _money(payslip.to_pay, payslip.currency)

    @admin.display(description=_("PDF"))
    def pdf_link(self, payslip: Payslip) -> str:
        url = reverse("admin:payroll_payslip_pdf", args=[payslip.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download the payslip"))

    def object_action_buttons(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        return [
            *super().object_action_buttons(request, obj),
            (reverse("admin:payroll_payslip_pdf", args=[obj.pk]), gettext("PDF")),
        ]

    @admin.action(description=_("Correct the selected payslips"), permissions=["correct"])
    def correct(self, request: HttpRequest, queryset: QuerySet[Payslip]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=CorrectionForm,
            run=lambda payslip, data: services.payslip_correct(
                payslip=payslip, gross=data["gross"], reason=data["reason"], actor=actor
            ),
            title=gettext("Correct payslips"),
            done=gettext("%(object)s is corrected by a new payslip in the open run."),
            notes=lambda payslip: (
                gettext("gross %(gross)s, run %(run)s")
                % {"gross": _money(payslip.gross, payslip.currency), "run": payslip.run}
            ),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="payroll_payslip_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        payslip = self.get_object(request, unquote(object_id))
        if payslip is None:
            raise Http404
        if not self.has_view_permission(request, payslip):
            raise PermissionDenied
        return _attachment(
            payslip_pdf(payslip),
            "application/pdf",
            f"payslip-{payslip.run.period:%Y-%m}-{payslip.pk}.pdf",
        )


# --- permanent contracts -----------------------------------------------------------------------


def _budget_balance() -> Subquery:
    """Debits less credits of the member's activity budget account ("budget:<member id>")."""
    return Subquery(
        Entry.objects.filter(
            account__code=Concat(
                Value("budget:"), Cast(OuterRef("member_id"), output_field=CharField())
            )
        )
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")[:1],
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


@admin.register(PermanentContract)
class PermanentContractAdmin(ServiceAdmin):
    """The advisors' permanent contracts: agreed through the add form, ended by an action;
    their money fields are never edited (a new gross is a new contract)."""

    list_display = [
        "member_name",
        "monthly_gross",
        "currency",
        "first_month_text",
        "last_month_text",
        "months",
        "budget_text",
        "alerted_on",
    ]
    list_select_related = ["member__user"]
    list_filter = [("last_month", admin.EmptyFieldListFilter), "category", "alerted_on"]
    search_fields = ["member__user__last_name", "member__user__first_name", "member__user__email"]
    form = PermanentContractAgreeForm
    CONTRACT_FIELDS: ClassVar[list[str]] = [
        "member",
        "category",
        "monthly_gross",
        "hours_per_month",
        "currency",
        "first_month",
        "last_month",
        "agreed_by",
        "agreed_at",
        "note",
        "alerted_on",
        "budget_text",
        "projection",
    ]
    actions = ["end"]
    object_actions = {"end": _("End")}

    def get_queryset(self, request: HttpRequest) -> QuerySet[PermanentContract]:
        return super().get_queryset(request).annotate(budget_balance=_budget_balance())

    def has_change_permission(
        self, request: HttpRequest, obj: PermanentContract | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PermanentContract | None = None
    ) -> bool:
        return False

    def has_end_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "payroll.change_permanentcontract")

    def get_fields(self, request: HttpRequest, obj: PermanentContract | None = None) -> list[Any]:
        if obj is None:
            return list(PermanentContractAgreeForm.Meta.fields)
        return list(self.CONTRACT_FIELDS)

    def get_readonly_fields(
        self, request: HttpRequest, obj: PermanentContract | None = None
    ) -> list[Any]:
        return list(self.CONTRACT_FIELDS) if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: PermanentContract, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        contract = smoothing.permanent_contract_agree(
            member=data["member"],
            monthly_gross=data["monthly_gross"],
            first_month=data["first_month"],
            actor=admin_actor(request),
            hours_per_month=data["hours_per_month"],
            note=data["note"],
        )
        obj.pk = contract.pk
        obj.refresh_from_db()

    # --- columns and fields ---

    @admin.display(description=_("member"), ordering="member__user__last_name")
    def member_name(self, contract: PermanentContract) -> str:
        return contract.member.user.get_full_name() or contract.member.user.email

    @admin.display(description=_("first month"), ordering="first_month")
    def first_month_text(self, contract: PermanentContract) -> str:
        return f"{contract.first_month:%Y-%m}"

    @admin.display(description=_("last month"), ordering="last_month")
    def last_month_text(self, contract: PermanentContract) -> str:
        return f"{contract.last_month:%Y-%m}" if contract.last_month else gettext("open")

    @admin.display(description=_("months"))
    def months(self, contract: PermanentContract) -> str:
        if contract.last_month is None:
            return "-"
        first, last = contract.first_month, contract.last_month
        return str((last.year - first.year) * 12 + last.month - first.month + 1)

    @admin.display(description=_("budget available"), ordering="budget_balance")
    def budget_text(self, contract: PermanentContract) -> str:
        balance = getattr(contract, "budget_balance", None)
        # Credits are money in: the account's balance is negative when it holds money.
        return _money(-(balance or ZERO), contract.currency)

    @admin.display(description=_("6-month projection"))
    def projection(self, contract: PermanentContract) -> str:
        """The projection (one query per month): on the change page only."""
        projected = smoothing.budget_projection(member=contract.member)
        first_negative = projected.first_negative
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{month.month:%Y-%m}",
                    _money(month.inflow, projected.currency),
                    _money(month.outflow, projected.currency),
                    _money(month.balance, projected.currency),
                )
                for month in projected.months
            ),
        )
        warning = (
            gettext("The budget turns negative in %(month)s.")
            % {"month": f"{first_negative:%Y-%m}"}
            if first_negative is not None
            else gettext("The budget stays positive.")
        )
        return format_html(
            "<p><strong>{}</strong></p><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "</tr>{}</table>",
            warning,
            gettext("month"),
            gettext("in"),
            gettext("out"),
            gettext("balance"),
            rows,
        )

    # --- actions ---

    def object_action_allowed(self, obj: PermanentContract, name: str) -> bool:
        return obj.last_month is None

    @admin.action(description=_("End the selected permanent contracts"), permissions=["end"])
    def end(
        self, request: HttpRequest, queryset: QuerySet[PermanentContract]
    ) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=PermanentContractEndForm,
            run=lambda contract, data: smoothing.permanent_contract_end(
                contract=contract, last_month=data["last_month"], actor=actor
            ),
            title=gettext("End permanent contracts"),
            done=gettext("%(object)s is ended."),
            notes=self.member_name,
        )


# --- parameters --------------------------------------------------------------------------------


@admin.register(PayrollParameters)
class PayrollParametersAdmin(ServiceAdmin):
    """The dated parameters, read-only: a new rate is a new version (a new row, added by an
    entity admin); a version is never changed or deleted, salaries keep the one they used."""

    list_display = [
        "category",
        "valid_from",
        "valid_until",
        "fee_percent",
        "employer_percent",
        "base_factor",
        "employee_percent",
        "withholding_method",
        "verified_flag",
    ]
    list_filter = ["category", "withholding_method"]
    date_hierarchy = "valid_from"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin_actor(request).has_perm("payroll.add_payrollparameters")

    def has_change_permission(
        self, request: HttpRequest, obj: PayrollParameters | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PayrollParameters | None = None
    ) -> bool:
        return False

    def get_readonly_fields(
        self, request: HttpRequest, obj: PayrollParameters | None = None
    ) -> list[str]:
        if obj is None:
            return []
        return [field.name for field in PayrollParameters._meta.fields]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new version starts from the latest of its category (``?category=``)."""
        initial = dict(super().get_changeform_initial_data(request))
        latest = (
            PayrollParameters.objects.filter(category=request.GET.get("category", ""))
            .order_by("-valid_from")
            .first()
        )
        if latest is not None:
            for field in PayrollParameters._meta.fields:
                if field.editable and field.name not in {"id", "valid_from", "valid_until"}:
                    initial.setdefault(field.name, getattr(latest, field.name))
        return initial

    @admin.display(description=_("verified"), boolean=True)
    def verified_flag(self, parameters: PayrollParameters) -> bool:
        return parameters.verified
