"""Writing to the books: the one place where money moves.

``transaction_post`` is idempotent: the same key posts once, whatever the number of calls,
retries or concurrent workers (the key is unique in the database; a concurrent duplicate waits
for the first and then finds it).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from smart_coop.accounts.models import User
from smart_coop.ledger.models import Account, Entry, Transaction
from smart_coop.money import quantize

ZERO = Decimal(0)


class UnbalancedError(ValueError):
    """Entries that do not sum to zero per currency: a programming error, never user input."""


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal  # debit positive, credit negative
    reference: str = ""


# The entity's standard accounts: code -> (name, kind). Member budgets are "budget:<id>".
STANDARD_ACCOUNTS: dict[str, tuple[str, str]] = {
    "bank": ("Bank", Account.Kind.ASSET),
    "receivables": ("Client receivables", Account.Kind.ASSET),
    "vat_payable": ("VAT payable", Account.Kind.LIABILITY),
    "fee_income": ("Cooperative fee income", Account.Kind.INCOME),
    "unallocated_receipts": ("Receipts not yet matched", Account.Kind.LIABILITY),
    "client_credit": ("Client overpayments", Account.Kind.LIABILITY),
    "fund_reserve": ("Guarantee fund reserve", Account.Kind.EQUITY),
    "fund_advances": ("Guarantee fund advances", Account.Kind.ASSET),
    "fund_losses": ("Guarantee fund losses", Account.Kind.EXPENSE),
    "salaries_payable": ("Salaries payable", Account.Kind.LIABILITY),
    "social_payable": ("Social contributions payable", Account.Kind.LIABILITY),
    "withholding_payable": ("Withholding tax payable", Account.Kind.LIABILITY),
    "bad_debts": ("Bad debts written off", Account.Kind.EXPENSE),
    "late_payment_income": ("Late payment interest and compensation", Account.Kind.INCOME),
}


def account_get(code: str, *, currency: str) -> Account:
    """One of the standard accounts of the current entity, created on first use."""
    name, kind = STANDARD_ACCOUNTS[code]
    account, _ = Account.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "currency": currency}
    )
    return account


def accounts_get(codes: Sequence[str], *, currency: str) -> dict[str, Account]:
    """Several standard accounts at once (one query when they exist, as they mostly do)."""
    found = {account.code: account for account in Account.objects.filter(code__in=codes)}
    for code in codes:
        if code not in found:
            found[code] = account_get(code, currency=currency)
    return found


def member_budget_account(member_id: int, *, name: str, currency: str) -> Account:
    """The member's activity budget: what their invoices earned, before it becomes salary."""
    account, _ = Account.objects.get_or_create(
        code=f"budget:{member_id}",
        defaults={
            "name": f"Activity budget of {name}",
            "kind": Account.Kind.LIABILITY,
            "currency": currency,
            "member_id": member_id,
        },
    )
    return account


def _check_balanced(legs: Sequence[Leg]) -> None:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for leg in legs:
        if leg.amount == ZERO:
            continue
        if quantize(leg.amount, leg.account.currency) != leg.amount:
            raise UnbalancedError(f"{leg.amount} is not rounded to {leg.account.currency}")
        totals[leg.account.currency] += leg.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != ZERO}
    if unbalanced:
        raise UnbalancedError(f"entries do not balance: {unbalanced}")


def transaction_post(
    *,
    key: str,
    kind: str,
    description: str,
    occurred_on: datetime.date,
    legs: Sequence[Leg],
    actor: User | None = None,
    reverses: Transaction | None = None,
) -> tuple[Transaction, bool]:
    """Write one balanced transaction under ``key``; return it and whether it was new.

    Effects: checks the legs balance per currency (zero legs are dropped); inserts the
    transaction and its entries in one database transaction. A second call with the same key
    writes nothing and returns the first transaction.
    """
    _check_balanced(legs)
    existing = Transaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            posted = Transaction.objects.create(
                idempotency_key=key,
                kind=kind,
                description=description[:300],
                occurred_on=occurred_on,
                created_by=actor,
                reverses=reverses,
            )
            Entry.objects.bulk_create(
                Entry(
                    transaction=posted,
                    account=leg.account,
                    amount=leg.amount,
                    currency=leg.account.currency,
                    reference=leg.reference,
                )
                for leg in legs
                if leg.amount != ZERO
            )
    except IntegrityError:
        # The same key was posted concurrently: that one stands.
        return Transaction.objects.get(idempotency_key=key), False
    return posted, True


def transaction_reverse(
    *,
    original: Transaction,
    key: str,
    description: str,
    occurred_on: datetime.date,
    actor: User | None = None,
) -> tuple[Transaction, bool]:
    """Cancel ``original`` by posting its entries with opposite signs (the original stays)."""
    legs = [
        Leg(entry.account, -entry.amount, entry.reference)
        for entry in original.entries.select_related("account")
    ]
    return transaction_post(
        key=key,
        kind=f"reversal:{original.kind}",
        description=description,
        occurred_on=occurred_on,
        legs=legs,
        actor=actor,
        reverses=original,
    )
