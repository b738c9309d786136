"""Forms of the payroll admin: what an action asks before it calls a service.

They collect and check the input only; the services decide (and refuse with a DomainError,
shown as a message or a form error).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from invoicing.forms_admin import DateInput
from members.forms_admin import ServiceModelForm
from members.models import Member
from payroll.models import PermanentContract, SalaryRun


class PaidOnForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Paid on"),
        widget=DateInput,
        help_text=_("The day the transfers left the bank (the date of the booking)."),
    )

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if today is not None:
            self.fields["paid_on"].initial = today


class SepaForm(forms.Form):
    execution_date = forms.DateField(
        label=_("Execution date"),
        widget=DateInput,
        help_text=_("The day the bank is asked to pay the salaries."),
    )

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if today is not None:
            self.fields["execution_date"].initial = today


class CorrectionForm(forms.Form):
    gross = forms.DecimalField(
        label=_("Gross difference"),
        # Fewer digits than the payslip's columns (14): the budget, gross + employer
        # contributions on up to 108 % of it, must still fit in them.
        max_digits=12,
        decimal_places=2,
        help_text=_(
            "What the gross salary should change by: negative takes pay back. Contributions "
            "and tax follow, with the parameters the payslip used."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the correction payslip."),
    )

    def clean_gross(self) -> Decimal:
        gross: Decimal = self.cleaned_data["gross"]
        if gross == 0:
            raise forms.ValidationError(_("A correction changes the gross salary."))
        return gross


class SalaryRunOpenForm(forms.ModelForm):
    """The month of a new run (any day of it)."""

    class Meta:
        model = SalaryRun
        fields = ["period"]
        widgets = {"period": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, not in Meta: Meta's help texts would also show on the read-only change page.
        if "period" in self.fields:
            self.fields["period"].help_text = _("Any day of the month: the run is that month's.")

    def clean_period(self) -> datetime.date:
        period: datetime.date = self.cleaned_data["period"]
        return period.replace(day=1)


class PermanentContractAgreeForm(ServiceModelForm):
    """A permanent contract agreed with the member: saved by permanent_contract_agree."""

    class Meta:
        model = PermanentContract
        fields = ["member", "monthly_gross", "hours_per_month", "first_month", "note"]
        widgets = {"first_month": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = self.fields.get("member")  # absent on the (read-only) change page
        if not isinstance(member, forms.ModelChoiceField):
            return
        self.fields["first_month"].help_text = _(
            "Any day of the first month paid: the contract covers whole months."
        )
        self.fields["monthly_gross"].help_text = _(
            "Paid every month from the member's activity budget."
        )
        member.queryset = Member.objects.filter(state=Member.State.ACTIVE).select_related("user")
        member.label_from_instance = lambda obj: (  # type: ignore[method-assign]
            f"{obj.user.get_full_name()} ({obj.user.email})"
        )

    def clean_first_month(self) -> datetime.date:
        first: datetime.date = self.cleaned_data["first_month"]
        return first.replace(day=1)


class PermanentContractEndForm(forms.Form):
    last_month = forms.DateField(
        label=_("Last month paid"),
        widget=DateInput,
        help_text=_("Any day of the last month the contract pays."),
    )
