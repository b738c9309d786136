"""The invoicing admin: issued documents, payments, bank statements and the accountant's queue.

Issued documents are read-only here (the database refuses edits anyway); every write is an
action calling a service: a credit note, a payment, a bank line matched to an invoice, a
statement imported. The stored PDF and UBL are not public files: they are served by an admin
view that checks who asks.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from invoicing import dunning, exports, services
from invoicing.forms_admin import (
    CreditNoteForm,
    PaymentForm,
    SalesJournalForm,
    StatementLineMatchForm,
    StatementUploadForm,
    WriteOffForm,
)
from invoicing.models import (
    BankStatement,
    Delivery,
    DunningStep,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    Payment,
    StatementLine,
)
from invoicing.references import reference_compact, reference_is_valid
from invoicing.statements import (
    compact_reference_expression,
    statement_import,
    statement_line_match,
)
from members.admin import ReadOnlyInline, ServiceAdmin, admin_actor, admin_can
from members.services import entity_today
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity


def _today() -> datetime.date:
    return entity_today(current_entity())


class InvoicePartInline(ReadOnlyInline):
    """A part of the invoice's file: whoever may see the invoice sees it."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_can(request, "invoicing.view_invoice")


class InvoiceLineInline(InvoicePartInline):
    model = InvoiceLine
    fields = [
        "position",
        "kind",
        "description",
        "quantity",
        "unit_price",
        "net_amount",
        "vat_category",
        "vat_rate",
    ]


class InvoiceTaxInline(InvoicePartInline):
    model = InvoiceTax
    fields = ["category", "rate", "taxable_amount", "tax_amount", "exemption_reason"]


class PaymentInline(InvoicePartInline):
    model = Payment
    fields = ["received_on", "amount", "currency", "source", "statement_line", "note", "created_by"]


class CreditNoteInline(InvoicePartInline):
    model = Invoice
    fk_name = "credited_invoice"
    fields = ["number", "issue_date", "net_total", "gross_total", "note"]
    show_change_link = True
    verbose_name = _("credit note")
    verbose_name_plural = _("credit notes")


class DeliveryInline(InvoicePartInline):
    model = Delivery
    fields = ["at", "channel", "recipient", "status", "error"]


class DunningStepInline(InvoicePartInline):
    model = DunningStep
    fields = ["level", "sent_on", "days_late", "interest", "compensation", "balance_due"]


class OverdueFilter(admin.SimpleListFilter):
    """Past the due date and not paid, measured in the entity's own time zone."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("overdue")), ("no", _("not overdue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        overdue = Q(kind=Invoice.Kind.INVOICE, state__in=Invoice.OPEN_STATES, due_date__lt=_today())
        match self.value():
            case "yes":
                return queryset.filter(overdue)
            case "no":
                return queryset.exclude(overdue)
        return queryset


DOCUMENT_KINDS = {"pdf": ("pdf", "pdf"), "ubl": ("ubl", "xml")}  # kind -> (field, extension)


@admin.register(Invoice)
class InvoiceAdmin(ServiceAdmin):
    """Invoices and credit notes as issued: read-only; credits and payments through actions."""

    list_display = [
        "number",
        "kind",
        "client",
        "member",
        "issue_date",
        "due_date",
        "gross_total",
        "amount_paid",
        "state",
        "overdue_flag",
    ]
    list_select_related = ["client", "member__user"]
    list_filter = ["state", "kind", "issue_date", OverdueFilter]
    search_fields = ["number", "client__name", "payment_reference"]
    date_hierarchy = "issue_date"
    fieldsets = [
        (None, {"fields": ["number", "kind", "state", "credited_invoice", "contract"]}),
        (_("Parties"), {"fields": ["client", "buyer_text", "member", "performer"]}),
        (_("Dates"), {"fields": ["issue_date", "due_date", "issued_at", "overdue_flag"]}),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "vat_treatment",
                    "net_total",
                    "vat_total",
                    "gross_total",
                    "fee_total",
                    "amount_paid",
                    "amount_credited",
                    "balance_text",
                ]
            },
        ),
        (_("Payment"), {"fields": ["payment_reference", "dunning_level"]}),
        (_("Documents"), {"fields": ["documents", "language", "note"]}),
    ]
    readonly_fields = ["buyer_text", "overdue_flag", "balance_text", "documents"]
    inlines = [
        InvoiceLineInline,
        InvoiceTaxInline,
        PaymentInline,
        CreditNoteInline,
        DeliveryInline,
        DunningStepInline,
    ]
    actions = ["credit_note", "record_payment", "write_off"]
    object_actions = {
        "credit_note": _("Credit note"),
        "record_payment": _("Record a payment"),
        "write_off": _("Write off"),
    }

    # Issued documents are final: drafts are made by invoice_issue, corrections are credit notes.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "invoicing.issue_invoice")

    def has_record_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "invoicing.record_payment")

    def has_write_off_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "invoicing.write_off_invoice")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Invoice], search_term: str
    ) -> tuple[QuerySet[Invoice], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A structured reference however it is written: "+++123/4567/89002+++", "123456789002".
        compact = reference_compact(search_term)
        if len(compact) >= 5 and reference_is_valid(compact):
            named = Invoice.objects.annotate(compact_reference=compact_reference_expression())
            found |= queryset.filter(pk__in=named.filter(compact_reference=compact).values("pk"))
        return found, may_have_duplicates

    # --- columns and fields ---

    @admin.display(description=_("overdue"), boolean=True)
    def overdue_flag(self, invoice: Invoice) -> bool:
        return bool(
            invoice.kind == Invoice.Kind.INVOICE
            and invoice.state in Invoice.OPEN_STATES
            and invoice.due_date is not None
            and invoice.due_date < _today()
        )

    @admin.display(description=_("balance due"))
    def balance_text(self, invoice: Invoice) -> str:
        return f"{invoice.balance_due} {invoice.currency}"

    @admin.display(description=_("buyer at issue"))
    def buyer_text(self, invoice: Invoice) -> str:
        buyer = invoice.buyer
        lines = [
            buyer.get("name", ""),
            buyer.get("street", ""),
            " ".join(filter(None, [buyer.get("postal_code"), buyer.get("city")])),
            buyer.get("country", ""),
            buyer.get("vat_number", ""),
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines if line)) or "-"

    @admin.display(description=_("documents"))
    def documents(self, invoice: Invoice) -> str:
        links = [
            (reverse("admin:invoicing_invoice_document", args=[invoice.pk, kind]), label)
            for kind, label in (("pdf", "PDF"), ("ubl", "UBL XML"))
            if getattr(invoice, DOCUMENT_KINDS[kind][0])
        ]
        if not links:
            return gettext("not rendered yet")
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    # --- actions ---

    def object_action_allowed(self, obj: Invoice, name: str) -> bool:
        if obj.kind != Invoice.Kind.INVOICE:
            return False
        if name == "credit_note":
            return obj.state not in {Invoice.State.DRAFT, Invoice.State.CREDITED}
        if name == "write_off":
            # The service also takes a partly paid invoice past the collection day.
            return obj.state in {Invoice.State.IN_COLLECTION, Invoice.State.PARTIALLY_PAID}
        return obj.state in Invoice.OPEN_STATES

    @admin.action(description=_("Credit the selected invoices"), permissions=["issue"])
    def credit_note(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> HttpResponse | None:
        actor = admin_actor(request)

        def run(invoice: Invoice, data: dict[str, Any]) -> Invoice:
            return services.credit_note_issue(
                invoice=invoice,
                actor=actor,
                reason=data["reason"],
                net_amount=None if data["scope"] == CreditNoteForm.FULL else data["net_amount"],
            )

        return self.form_action(
            request,
            queryset,
            form_class=CreditNoteForm,
            run=run,
            title=gettext("Credit invoices"),
            done=gettext("%(object)s is credited; the credit note is sent to the client."),
            notes=lambda invoice: (
                gettext("%(gross)s %(currency)s, %(state)s")
                % {
                    "gross": invoice.gross_total,
                    "currency": invoice.currency,
                    "state": invoice.get_state_display(),
                }
            ),
        )

    @admin.action(
        description=_("Record a payment of the selected invoices"), permissions=["record"]
    )
    def record_payment(
        self, request: HttpRequest, queryset: QuerySet[Invoice]
    ) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=PaymentForm,
            form_kwargs={"today": _today()},
            run=lambda invoice, data: services.payment_record(
                invoice=invoice,
                amount=data["amount"],
                received_on=data["received_on"],
                actor=actor,
                source=Payment.Source.MANUAL,
                note=data["note"],
            ),
            title=gettext("Record a payment"),
            done=gettext("The payment of %(object)s is recorded."),
            notes=lambda invoice: (
                gettext("%(due)s %(currency)s due")
                % {"due": invoice.balance_due, "currency": invoice.currency}
            ),
        )

    @admin.action(
        description=_("Write off the selected invoices in collection"), permissions=["write_off"]
    )
    def write_off(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=WriteOffForm,
            run=lambda invoice, data: dunning.invoice_write_off(
                invoice=invoice, actor=actor, reason=data["reason"]
            ),
            title=gettext("Write off invoices"),
            done=gettext("%(object)s is written off."),
            notes=lambda invoice: (
                gettext("%(due)s %(currency)s due, %(state)s")
                % {
                    "due": invoice.balance_due,
                    "currency": invoice.currency,
                    "state": invoice.get_state_display(),
                }
            ),
        )

    # --- pages of their own: the stored documents, the sales journal ---

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "sales-journal/",
                self.admin_site.admin_view(self.sales_journal_view),
                name="invoicing_invoice_sales_journal",
            ),
            path(
                "<path:object_id>/document/<str:kind>/",
                self.admin_site.admin_view(self.document_view),
                name="invoicing_invoice_document",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request: HttpRequest, object_id: str, kind: str) -> FileResponse:
        """The stored PDF or UBL of a document, to whoever may see the invoice."""
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None or kind not in DOCUMENT_KINDS:
            raise Http404
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        field, extension = DOCUMENT_KINDS[kind]
        stored = getattr(invoice, field)
        if not stored:
            raise Http404
        try:
            handle = stored.open("rb")
        except FileNotFoundError as missing:
            raise Http404 from missing
        return FileResponse(handle, as_attachment=True, filename=f"{invoice.number}.{extension}")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {})}
        if admin_can(request, "invoicing.view_invoice"):
            extra["sales_journal_url"] = reverse("admin:invoicing_invoice_sales_journal")
        return super().changelist_view(request, extra)

    def sales_journal_view(self, request: HttpRequest) -> HttpResponseBase:
        """The period's invoices and credit notes as a CSV or XLSX file."""
        if not admin_can(request, "invoicing.view_invoice"):
            raise PermissionDenied
        if "date_from" in request.GET:
            form = SalesJournalForm(request.GET)
            if form.is_valid():
                return self._sales_journal_file(**form.cleaned_data)
        else:
            first_of_month = _today().replace(day=1)
            last_month_end = first_of_month - datetime.timedelta(days=1)
            form = SalesJournalForm(
                initial={"date_from": last_month_end.replace(day=1), "date_to": last_month_end}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sales journal"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/invoicing/invoice/sales_journal.html", context)

    def _sales_journal_file(
        self, *, date_from: datetime.date, date_to: datetime.date, file_format: str
    ) -> HttpResponse:
        entity = current_entity()
        rows = exports.sales_journal_rows(date_from=date_from, date_to=date_to)
        if file_format == SalesJournalForm.CSV:
            content = exports.sales_journal_csv(rows)
            content_type = "text/csv; charset=utf-8"
        else:
            content = exports.sales_journal_xlsx(rows, title=gettext("Sales journal"))
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = exports.sales_journal_filename(
            entity_code=entity.code, date_from=date_from, date_to=date_to, extension=file_format
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- payments and bank statements --------------------------------------------------------------


@admin.register(Payment)
class PaymentAdmin(ServiceAdmin):
    """Money received, as recorded: by hand on an invoice, or from a bank statement."""

    list_display = [
        "received_on",
        "amount",
        "currency",
        "invoice",
        "source",
        "statement_line",
        "note",
        "created_by",
    ]
    list_select_related = ["invoice", "statement_line", "created_by"]
    list_filter = ["source", ("invoice", admin.EmptyFieldListFilter), "received_on"]
    search_fields = ["invoice__number", "note", "statement_line__counterparty_name"]
    date_hierarchy = "received_on"
    fields = [
        "received_on",
        "amount",
        "currency",
        "invoice",
        "source",
        "statement_line",
        "note",
        "ledger_transaction",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded on the invoice ("record a payment") or by a statement import

    def has_change_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = [
        "booking_date",
        "amount",
        "currency",
        "counterparty_name",
        "structured_reference",
        "remittance_text",
        "status",
        "invoice",
    ]
    show_change_link = True


@admin.register(BankStatement)
class BankStatementAdmin(ServiceAdmin):
    """Imported statements; a new one comes through the "import a CAMT.053 file" page."""

    list_display = [
        "statement_id",
        "account_iban",
        "imported_at",
        "imported_by",
        "line_count",
        "unmatched_count",
    ]
    list_select_related = ["imported_by"]
    search_fields = ["statement_id", "account_iban"]
    date_hierarchy = "imported_at"
    fields = ["statement_id", "account_iban", "format", "file_hash", "imported_by", "imported_at"]
    inlines = [StatementLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BankStatement]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                line_total=Count("lines"),
                unmatched_total=Count(
                    "lines", filter=Q(lines__status=StatementLine.Status.UNMATCHED)
                ),
            )
        )

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, statement: Any) -> int:
        return int(statement.line_total)

    @admin.display(description=_("waiting for an accountant"), ordering="unmatched_total")
    def unmatched_count(self, statement: Any) -> int:
        return int(statement.unmatched_total)

    # Importing records payments: it takes both the right to add statements and to record them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "invoicing.add_bankstatement") and admin_can(
            request, "invoicing.record_payment"
        )

    def has_change_permission(self, request: HttpRequest, obj: BankStatement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BankStatement | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="invoicing_bankstatement_import",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:invoicing_bankstatement_import"))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CAMT.053 file; the page then shows where its lines went."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = StatementUploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    result = statement_import(
                        file_bytes=form.cleaned_data["file"].read(), actor=admin_actor(request)
                    )
                except DomainError as error:
                    form.add_error("file", error.message)
                else:
                    self.message_user(
                        request,
                        gettext("This file was imported before: nothing new was recorded.")
                        if result.already_imported
                        else gettext("The statement %(id)s is imported.")
                        % {"id": result.statement.statement_id},
                        messages.WARNING if result.already_imported else messages.SUCCESS,
                    )
                    form = StatementUploadForm()
        else:
            form = StatementUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import a CAMT.053 bank statement"),
            "opts": self.opts,
            "form": form,
            "result": result,
            "queue_url": reverse("admin:invoicing_statementline_changelist")
            + f"?status__exact={StatementLine.Status.UNMATCHED}",
        }
        return TemplateResponse(request, "admin/invoicing/bankstatement/import.html", context)


# What waits for an accountant comes first.
QUEUE_RANK = Case(
    When(status=StatementLine.Status.UNMATCHED, then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)


@admin.register(StatementLine)
class StatementLineAdmin(ServiceAdmin):
    """The accountant's queue: bank lines no invoice was found for, first; matched by action."""

    list_display = [
        "booking_date",
        "amount_text",
        "counterparty_name",
        "counterparty_iban",
        "structured_reference",
        "remittance_text",
        "status_text",
        "invoice",
    ]
    list_select_related = ["invoice"]
    list_filter = ["status", "currency", "booking_date"]
    search_fields = [
        "counterparty_name",
        "counterparty_iban",
        "structured_reference",
        "remittance_text",
        "bank_reference",
        "invoice__number",
    ]
    date_hierarchy = "booking_date"
    fields = [
        "statement",
        "bank_reference",
        "booking_date",
        "amount",
        "currency",
        "counterparty_name",
        "counterparty_iban",
        "structured_reference",
        "remittance_text",
        "status",
        "invoice",
    ]
    actions = ["match_to_invoice"]
    object_actions = {"match_to_invoice": _("Match to an invoice")}

    def get_ordering(self, request: HttpRequest) -> list[str | Combinable]:
        return [QUEUE_RANK.asc(), "-booking_date", "-pk"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StatementLine | None = None) -> bool:
        return False  # lines are what the bank said; only their match changes, by the action

    def has_delete_permission(self, request: HttpRequest, obj: StatementLine | None = None) -> bool:
        return False

    def has_match_permission(self, request: HttpRequest) -> bool:
        return admin_can(request, "invoicing.change_statementline") and admin_can(
            request, "invoicing.record_payment"
        )

    @admin.display(description=_("amount"), ordering="amount")
    def amount_text(self, line: StatementLine) -> str:
        return f"{line.amount} {line.currency}"

    @admin.display(description=_("status"), ordering=QUEUE_RANK)
    def status_text(self, line: StatementLine) -> str:
        if line.status != StatementLine.Status.UNMATCHED:
            return line.get_status_display()
        return format_html('<strong class="unmatched">{}</strong>', line.get_status_display())

    def object_action_allowed(self, obj: StatementLine, name: str) -> bool:
        return obj.status == StatementLine.Status.UNMATCHED

    @admin.action(description=_("Match the selected lines to an invoice"), permissions=["match"])
    def match_to_invoice(
        self, request: HttpRequest, queryset: QuerySet[StatementLine]
    ) -> HttpResponse | None:
        actor = admin_actor(request)
        return self.form_action(
            request,
            queryset,
            form_class=StatementLineMatchForm,
            run=lambda line, data: statement_line_match(
                line=line, invoice=data["invoice"], actor=actor
            ),
            title=gettext("Match bank lines to an invoice"),
            done=gettext("%(object)s is matched."),
            notes=lambda line: " · ".join(
                filter(None, [line.structured_reference, line.remittance_text])
            ),
        )
