"""Query-string filters of the members API lists (django-filter)."""

from __future__ import annotations

import re

import django_filters
from django.db.models import Q, QuerySet

from members.models import Client, Contract


class ClientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Part of the name or of the VAT number"
    )
    status = django_filters.ChoiceFilter(choices=Client.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Client.Kind.choices)
    country = django_filters.CharFilter(lookup_expr="iexact", max_length=2)

    class Meta:
        model = Client
        fields = ["search", "status", "kind", "country"]

    def filter_search(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        # VAT numbers are stored compact (BE0403019261): "be 0403.019" finds it too.
        compact = re.sub(r"[\s.\-/]", "", value).upper()
        condition = Q(name__icontains=value)
        if compact:
            condition |= Q(vat_number__contains=compact)
        return queryset.filter(condition)


class ContractFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=Contract.State.choices)
    first_day = django_filters.DateFromToRangeFilter(
        label="First day, from (first_day_after) to (first_day_before), both included"
    )
    client = django_filters.ModelChoiceFilter(queryset=Client.objects.all())

    class Meta:
        model = Contract
        fields = ["state", "first_day", "client"]
