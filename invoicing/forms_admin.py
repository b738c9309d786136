"""Forms of the invoicing admin: what an action asks before it calls a service.

They collect and check the input only; the services decide (and refuse with a DomainError,
shown as a message or a form error).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from invoicing.models import Invoice
from invoicing.statements import MAX_FILE_BYTES


class DateInput(forms.DateInput):
    """The browser's date picker, which reads and writes ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class CreditNoteForm(forms.Form):
    FULL, PART = "full", "part"

    scope = forms.ChoiceField(
        label=_("What to credit"),
        choices=[(FULL, _("the whole invoice")), (PART, _("an amount"))],
        initial=FULL,
        widget=forms.RadioSelect,
    )
    net_amount = forms.DecimalField(
        label=_("Amount to credit, excl. VAT"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        help_text=_("For a partial credit: the VAT of the invoice's rate is added."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=250,
        help_text=_("Printed on the credit note."),
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.cleaned_data.get("scope") == self.PART and not self.cleaned_data.get("net_amount"):
            self.add_error("net_amount", _("Say which amount to credit."))
        return cleaned


class WriteOffForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=250,
        help_text=_("Why what the client still owes is given up (kept with the booking)."),
    )


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount received"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    received_on = forms.DateField(label=_("Received on"), widget=DateInput)
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("How it was paid (cash, cheque, a bank line not imported...)."),
    )

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        if today is not None:
            self.fields["received_on"].initial = today

    def clean_received_on(self) -> datetime.date:
        received_on: datetime.date = self.cleaned_data["received_on"]
        if self.today is not None and received_on > self.today:
            raise forms.ValidationError(_("A payment is not received in the future."))
        return received_on


class StatementLineMatchForm(forms.Form):
    invoice = forms.CharField(
        label=_("Invoice number"),
        max_length=30,
        help_text=_("The open invoice this money pays, e.g. BE-2026-000123."),
    )

    def clean_invoice(self) -> Invoice:
        number = self.cleaned_data["invoice"].strip()
        invoice = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, number__iexact=number).first()
        if invoice is None:
            raise forms.ValidationError(
                _("No invoice has the number %(number)s."), params={"number": number}
            )
        if invoice.state not in Invoice.OPEN_STATES:
            raise forms.ValidationError(
                _("Invoice %(number)s is %(state)s: it waits for no payment."),
                params={"number": invoice.number, "state": invoice.get_state_display()},
            )
        return invoice


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CAMT.053 file"),
        help_text=_("The XML statement downloaded from the bank (camt.053.001.02 to .08)."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large for a bank statement."))
        return upload


class SalesJournalForm(forms.Form):
    CSV, XLSX = "csv", "xlsx"

    date_from = forms.DateField(label=_("From"), widget=DateInput)
    date_to = forms.DateField(label=_("To"), widget=DateInput)
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[(XLSX, _("Excel (XLSX)")), (CSV, _("CSV (UTF-8, comma-separated)"))],
        initial=XLSX,
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        date_from, date_to = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The period ends before it starts."))
        return cleaned
