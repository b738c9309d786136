"""Forms of the entity's admin: the small forms of the review actions and the member / client files.

The action forms only collect what a service needs (a reason, a note, a reference); the
services decide. The model forms call members.validators so a bad IBAN, BIC, national number or
VAT number is a field error before any service is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.models import Client, Contract, Member
from members.services import ClientExistsError
from members.validators import bic_clean, client_vat_clean, iban_clean, national_id_clean
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity

# --- action forms --------------------------------------------------------------------------


class ConfirmForm(forms.Form):
    """No question: the intermediate page only confirms the action."""


class ContractApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the member"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    late_reason = forms.CharField(
        label=_("Reason for approving after the work started"),
        required=False,
        max_length=300,
        help_text=_("Required when a contract's work has already started (marked late)."),
    )

    def __init__(self, *args: Any, late: Sequence[Contract] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.late = list(late)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.late and not self.cleaned_data.get("late_reason"):
            titles = ", ".join(str(contract) for contract in self.late)
            self.add_error(
                "late_reason",
                ngettext(
                    "The work of %(contracts)s has already started: say why it is approved late.",
                    "The work of %(contracts)s has already started: say why they are approved "
                    "late.",
                    len(self.late),
                )
                % {"contracts": titles},
            )
        return cleaned


class ContractRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason of the refusal"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The member reads it in the email and on their dashboard."),
    )


class ContractRequestChangesForm(forms.Form):
    note = forms.CharField(
        label=_("What the member should change"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The member reads it in the email and on their dashboard."),
    )


class MemberStateForm(forms.Form):
    to_state = forms.ChoiceField(label=_("New state"), choices=Member.State.choices)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the member's file with your name."),
    )


class ClientStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Client.Status.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("A blocked client gets no new contract; members see the reason."),
    )


class DeclarationAcceptedForm(forms.Form):
    reference = forms.CharField(
        label=_("Authority's reference"),
        max_length=100,
        help_text=_("The number the authority gave the accepted declaration."),
    )


class DeclarationErrorForm(forms.Form):
    error = forms.CharField(
        label=_("Error the authority returned"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- model forms ---------------------------------------------------------------------------


# What a service refused while the admin saved a form: set for the form's second pass (see
# admin.ServiceAdmin.changeform_view), when ServiceModelForm shows it as errors.
service_refusal: ContextVar[DomainError | None] = ContextVar("service_refusal", default=None)


def _field_errors(form: forms.BaseForm, error: DomainError) -> None:
    if isinstance(error, ClientExistsError):
        form.add_error("vat_number", client_exists_message(error.existing))
        return
    for field, messages in error.as_dict().items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class ServiceModelForm(forms.ModelForm):
    """A model form the admin saves through a service: the service's refusals are its errors."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        refusal = service_refusal.get()
        if refusal is not None:
            _field_errors(self, refusal)
        return cleaned


class MemberAdminForm(ServiceModelForm):
    """The member file: identifiers checked here, saved by member_onboard / member_update."""

    class Meta:
        model = Member
        fields = [
            "user",
            "advisor",
            "national_id",
            "date_of_birth",
            "street",
            "postal_code",
            "city",
            "country",
            "iban",
            "bic",
            "sector",
            "languages",
        ]

    def clean_national_id(self) -> str:
        try:
            return national_id_clean(
                self.cleaned_data["national_id"], country=current_entity().country
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from error

    def clean_iban(self) -> str:
        try:
            return iban_clean(self.cleaned_data["iban"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if "iban" in self.cleaned_data and "bic" in self.cleaned_data:
            try:
                self.cleaned_data["bic"] = bic_clean(
                    self.cleaned_data["bic"], iban=self.cleaned_data["iban"]
                )
            except DomainError as error:
                _field_errors(self, error)
        return cleaned


class ClientAdminForm(ServiceModelForm):
    """A new client of the registry, saved by client_create."""

    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"), min_value=0, max_value=120, initial=30
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "kind",
            "country",
            "vat_number",
            "company_number",
            "street",
            "postal_code",
            "city",
            "email",
            "language",
            "payment_terms_days",
        ]

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        country, vat_number = self.cleaned_data.get("country"), self.cleaned_data.get("vat_number")
        if country and vat_number:
            try:
                self.cleaned_data["vat_number"] = client_vat_clean(vat_number, country=country)
            except DomainError as error:
                _field_errors(self, error)
                return cleaned
            existing = Client.objects.filter(vat_number=self.cleaned_data["vat_number"]).first()
            if existing is not None:
                self.add_error("vat_number", client_exists_message(existing))
        return cleaned


def client_exists_message(existing: Client) -> str:
    """The refusal of a duplicate VAT number, with a link to the client already registered."""
    url = reverse("admin:members_client_change", args=[existing.pk])
    return format_html(
        '{} <a href="{}">{}</a>',
        gettext("%(name)s already has this VAT number: choose it instead.")
        % {"name": existing.name},
        url,
        gettext("Open %(name)s") % {"name": existing.name},
    )
