"""Money: Decimal only, quantized per currency with one explicit rounding rule.

Rounding is ROUND_HALF_UP (commercial rounding, as invoices and payslips in the entities'
countries round), applied once per computed line; totals are sums of rounded lines and are
never rounded again.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Digits after the decimal point. ISO 4217 gives HUF two, but the forint has had no coins
# below 1 since 1999 and Hungarian payroll and invoices use whole forints.
MINOR_UNITS = {"EUR": 2, "SEK": 2, "HUF": 0}


def minor_unit(currency: str) -> Decimal:
    try:
        places = MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"Unsupported currency {currency!r}") from None
    return Decimal(1).scaleb(-places)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``percent`` % of ``amount``, rounded to the currency."""
    return quantize(amount * percent / Decimal(100), currency)
