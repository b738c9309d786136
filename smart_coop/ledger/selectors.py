"""Reading the books: balances, a trial balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from smart_coop.ledger.models import Account, Entry

ZERO = Decimal(0)


def account_balance(account: Account, *, reference: str | None = None) -> Decimal:
    """Debits minus credits of the account (optionally for one reference, e.g. an invoice)."""
    entries = Entry.objects.filter(account=account)
    if reference is not None:
        entries = entries.filter(reference=reference)
    return entries.aggregate(total=Sum("amount"))["total"] or ZERO


def balance_by_code(code: str, *, reference: str | None = None) -> Decimal:
    account = Account.objects.filter(code=code).first()
    return ZERO if account is None else account_balance(account, reference=reference)


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    kind: str
    currency: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance() -> list[TrialBalanceRow]:
    """Every account with its total debits and credits; each currency's rows sum to zero."""
    rows = []
    for account in Account.objects.order_by("code"):
        entries = Entry.objects.filter(account=account)
        debit = entries.filter(amount__gt=0).aggregate(t=Sum("amount"))["t"] or ZERO
        credit = -(entries.filter(amount__lt=0).aggregate(t=Sum("amount"))["t"] or ZERO)
        rows.append(
            TrialBalanceRow(
                account.code, account.name, account.kind, account.currency, debit, credit
            )
        )
    return rows


def books_balance() -> dict[str, Decimal]:
    """The sum of all entries per currency: zero for each when the books balance."""
    return {
        row["currency"]: row["total"]
        for row in Entry.objects.values("currency").annotate(total=Sum("amount"))
    }
