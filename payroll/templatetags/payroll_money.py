"""``{{ amount|money:currency }}``: an amount with the currency's decimals (whole forints),
thousands grouped, in the active language's format."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

from smart_coop.money import MINOR_UNITS

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return str(floatformat(amount, f"{MINOR_UNITS.get(currency, 2)}g"))
