"""Portal forms: they collect input; the services decide (DomainError becomes field errors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from members import services
from members.models import Attachment, Client, Expense, Member, Sector
from smart_coop.errors import NON_FIELD, DomainError
from smart_coop.tenancy.models import Entity, Rate


class DateInput(forms.DateInput):
    input_type = "date"


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show each problem on its field (or at the top when the form has no such field)."""
    for problem in error.problems:
        field = problem.field if problem.field in form.fields else None
        if problem.field == NON_FIELD:
            field = None
        form.add_error(field, problem.message)


class MemberForm(forms.Form):
    national_id = forms.CharField(label=_("National identification number"), max_length=30)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.CharField(label=_("Country (2 letters)"), max_length=2, min_length=2)
    iban = forms.CharField(label=_("IBAN"), max_length=40)
    bic = forms.CharField(
        label=_("BIC"),
        max_length=11,
        required=False,
        help_text=_("Found from the IBAN if left empty."),
    )
    sector = forms.ChoiceField(label=_("Activity sector"), choices=Sector.choices)

    @classmethod
    def from_member(cls, member: Member) -> MemberForm:
        fields = [
            "national_id",
            "date_of_birth",
            "street",
            "postal_code",
            "city",
            "country",
            "iban",
            "bic",
            "sector",
        ]
        return cls(initial={name: getattr(member, name) for name in fields})

    def to_input(self) -> services.MemberInput:
        return services.MemberInput(**self.cleaned_data)


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    country = forms.CharField(label=_("Country (2 letters)"), max_length=2, min_length=2)
    vat_number = forms.CharField(label=_("VAT number"), max_length=20, required=False)
    company_number = forms.CharField(label=_("Company number"), max_length=30, required=False)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    email = forms.EmailField(label=_("Billing email"))
    language = forms.ChoiceField(
        label=_("Language of the invoices"),
        choices=[("en", "English"), ("fr", "Français"), ("nl", "Nederlands")],
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"), min_value=0, max_value=120, initial=30
    )

    def to_input(self) -> services.ClientInput:
        return services.ClientInput(**self.cleaned_data)


class ContractForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    title = forms.CharField(label=_("Title of the work"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    place = forms.CharField(label=_("Place of work"), max_length=200)
    first_day = forms.DateField(label=_("First day"), widget=DateInput)
    last_day = forms.DateField(label=_("Last day"), widget=DateInput)
    price = forms.DecimalField(
        label=_("Price excl. VAT"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    vat_rate = forms.TypedChoiceField(
        label=_("VAT rate"),
        coerce=Decimal,
        required=False,
        help_text=_("For a client in another EU country or outside the EU, no VAT is charged."),
    )

    def __init__(self, *args: Any, entity: Entity, on: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.order_by("name")  # type: ignore[attr-defined]
        rates = [
            *entity.rates_in_force(Rate.Kind.VAT_STANDARD, on),
            *entity.rates_in_force(Rate.Kind.VAT_REDUCED, on),
            *entity.rates_in_force(Rate.Kind.VAT_SUPER_REDUCED, on),
        ]
        self.fields["vat_rate"].choices = [(str(rate), f"{rate.normalize()} %") for rate in rates]  # type: ignore[attr-defined]


class WorkDayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=DateInput)
    hours = forms.DecimalField(
        label=_("Hours"),
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.25"),
        max_value=Decimal(24),
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
    )


class ExpenseForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=_("Expense"), choices=Expense.Kind.choices)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    receipt = forms.FileField(label=_("Receipt"), required=False)


WorkDayFormSet = formset_factory(WorkDayForm, extra=0, can_delete=True, max_num=366)
ExpenseFormSet = formset_factory(ExpenseForm, extra=0, can_delete=True, max_num=50)


def contract_input(form: ContractForm, work_days: Any, expenses: Any) -> services.ContractInput:
    data = form.cleaned_data
    return services.ContractInput(
        client=data["client"],
        title=data["title"],
        description=data["description"],
        place=data["place"],
        first_day=data["first_day"],
        last_day=data["last_day"],
        price=data["price"],
        vat_rate=data["vat_rate"] or None,
        work_days=[
            services.WorkDayInput(day=row["day"], hours=row["hours"])
            for row in work_days.cleaned_data
            if row and not row.get("DELETE")
        ],
        expenses=[
            services.ExpenseInput(
                id=row.get("id"),
                kind=row["kind"],
                amount=row["amount"],
                description=row.get("description", ""),
                receipt=row.get("receipt"),
            )
            for row in expenses.cleaned_data
            if row and not row.get("DELETE")
        ],
    )


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Attachment.Kind.choices)
    file = forms.FileField(label=_("File"))


class EstimateForm(forms.Form):
    price = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal(0), required=False
    )
    first_day = forms.DateField(required=False)
