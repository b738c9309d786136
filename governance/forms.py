"""Forms of the member portal's governance pages. They collect input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import Candidacy, Choice, Election, Resolution, ShareClass, Shareholder
from governance.services import ShareholderInput


def _class_label(share_class: ShareClass) -> str:
    return (
        f"{share_class.code} - {share_class.name} "
        f"({share_class.nominal_value} {share_class.currency})"
    )


class ShareBuyForm(forms.Form):
    share_class = forms.ModelChoiceField(
        label=_("Class of shares"), queryset=ShareClass.objects.none(), empty_label=None
    )
    quantity = forms.IntegerField(label=_("Number of shares"), min_value=1, initial=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["share_class"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ShareClass.objects.filter(on_sale=True)
        field.label_from_instance = _class_label  # type: ignore[method-assign,assignment]


class ShareholderForm(forms.Form):
    """The holder's register details, asked once, before the first purchase."""

    name = forms.CharField(label=_("Name"), max_length=200)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.CharField(label=_("Country (2 letters)"), max_length=2, min_length=2)

    def to_input(self, *, email: str, language: str) -> ShareholderInput:
        data = self.cleaned_data
        return ShareholderInput(
            name=data["name"], street=data["street"], postal_code=data["postal_code"],
            city=data["city"], country=data["country"], kind=Shareholder.Kind.PERSON,
            email=email, language=language,
        )  # fmt: skip


class RedeemForm(forms.Form):
    share_class = forms.ModelChoiceField(
        label=_("Class of shares"), queryset=ShareClass.objects.all(), empty_label=None
    )
    quantity = forms.IntegerField(label=_("Number of shares"), min_value=1, initial=1)


class BallotForm(forms.Form):
    """One radio group per resolution, one group of checkboxes per election."""

    receipt_code = forms.CharField(
        label=_("Receipt code of your vote"), max_length=24, required=False
    )
    receipt_secret = forms.CharField(
        label=_("Change key of your receipt"), max_length=40, required=False
    )

    def __init__(
        self,
        *args: Any,
        resolutions: list[Resolution],
        elections: list[tuple[Election, list[Candidacy]]],
        changing: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.resolutions = resolutions
        self.elections = elections
        for resolution in resolutions:
            self.fields[f"resolution_{resolution.pk}"] = forms.ChoiceField(
                label=f"{resolution.position}. {resolution.title}",
                choices=Choice.choices,
                widget=forms.RadioSelect,
                # The text voted on, then the majority it needs.
                help_text=f"{resolution.text}\n{resolution.get_majority_display()}",
            )
        for election, candidacies in elections:
            self.fields[f"election_{election.pk}"] = forms.MultipleChoiceField(
                label=election.title,
                choices=[(str(c.pk), c.shareholder.name) for c in candidacies],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                help_text=_("Approve at most %(seats)d candidates.") % {"seats": election.seats},
            )
        if not changing:
            del self.fields["receipt_code"]
            del self.fields["receipt_secret"]

    def choices(self) -> dict[int, str]:
        return {r.pk: self.cleaned_data[f"resolution_{r.pk}"] for r in self.resolutions}

    def approvals(self) -> dict[int, list[int]]:
        return {
            e.pk: [int(pk) for pk in self.cleaned_data.get(f"election_{e.pk}", [])]
            for e, _candidacies in self.elections
        }


class ProxyForm(forms.Form):
    holder_email = forms.EmailField(
        label=_("Email address of the shareholder who will vote for you"),
        help_text=_("They must be on the roll of this assembly."),
    )


class CandidacyForm(forms.Form):
    statement = forms.CharField(
        label=_("Your project statement"), widget=forms.Textarea(attrs={"rows": 8}), max_length=5000
    )
