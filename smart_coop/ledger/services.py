"""Writing to the books: the one place where money moves.

``transaction_post`` is idempotent: the same key posts once, whatever the number of calls,
retries or concurrent workers. The key is unique in the database: a second call finds the
first; a concurrent duplicate fails the constraint and aborts its caller's transaction, whose
retry then finds the first (callers that move money lock the row they decide on first).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from smart_coop.accounts.models import User
from smart_coop.db import copy_rows, ids_reserve
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
    "fund_guarantees_given": ("Guarantee fund advances (memorandum)", Account.Kind.LIABILITY),
    "salaries_payable": ("Salaries payable", Account.Kind.LIABILITY),
    "social_payable": ("Social contributions payable", Account.Kind.LIABILITY),
    "withholding_payable": ("Withholding tax payable", Account.Kind.LIABILITY),
    "bad_debts": ("Bad debts written off", Account.Kind.EXPENSE),
    "late_payment_income": ("Late payment interest and compensation", Account.Kind.INCOME),
    # The minor units a salary's rounding leaves of a member's budget (payroll.conversion):
    # still the members', held apart until they are paid out, never lost.
    "budget_remainders": ("Salary budget remainders", Account.Kind.LIABILITY),
    "share_capital": ("Share capital (cooperative shares)", Account.Kind.EQUITY),
}


def account_get(code: str, *, currency: str) -> Account:
    """One of the standard accounts of the current entity, created on first use."""
    name, kind = STANDARD_ACCOUNTS[code]
    account, _ = Account.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "currency": currency}
    )
    return account


def accounts_get(
    codes: Sequence[str], *, currency: str, member_budget: tuple[int, str] | None = None
) -> dict[str, Account]:
    """Several standard accounts at once, and a member's budget (as "budget") if asked: one
    query when they exist, as they mostly do."""
    wanted = list(codes)
    if member_budget is not None:
        wanted.append(f"budget:{member_budget[0]}")
    found = {account.code: account for account in Account.objects.filter(code__in=wanted)}
    for code in codes:
        if code not in found:
            found[code] = account_get(code, currency=currency)
    if member_budget is not None:
        member_id, name = member_budget
        found["budget"] = found.get(f"budget:{member_id}") or member_budget_account(
            member_id, name=name, currency=currency
        )
    return found


def budget_accounts_get(members: dict[int, str], *, currency: str) -> dict[int, Account]:
    """The activity budget accounts of several members (member id -> name), in one query; the
    missing ones are created together (``member_budget_accounts_create``)."""
    found = _by_member(Account.objects.filter(code__in=[f"budget:{pk}" for pk in members]))
    missing = {pk: name for pk, name in members.items() if pk not in found}
    if missing:
        found.update(member_budget_accounts_create(missing, currency=currency))
    return found


def _by_member(accounts: Iterable[Account]) -> dict[int, Account]:
    return {account.member_id: account for account in accounts if account.member_id is not None}


def member_budget_accounts_create(members: dict[int, str], *, currency: str) -> dict[int, Account]:
    """The activity budget accounts of these members (member id -> name), created together
    where missing (a few statements): a month-end run books 20,000 of them at once.

    Effects: inserts the accounts not there yet (an account a concurrent caller created first
    is kept, as ``member_budget_account`` keeps it), then reads them all back.
    """
    codes = {pk: f"budget:{pk}" for pk in members}
    Account.objects.bulk_create(
        [
            Account(
                code=code,
                name=f"Activity budget of {members[pk]}",
                kind=Account.Kind.LIABILITY,
                currency=currency,
                member_id=pk,
            )
            for pk, code in codes.items()
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    found = _by_member(Account.objects.filter(code__in=list(codes.values())))
    for member_id, name in members.items():
        if member_id not in found:  # the member's account under another code: as one by one
            found[member_id] = member_budget_account(member_id, name=name, currency=currency)
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
    known_new: bool = False,
) -> tuple[Transaction, bool]:
    """Write one balanced transaction under ``key``; return it and whether it was new.

    Effects: checks the legs balance per currency (zero legs are dropped); inserts the
    transaction and its entries in one database transaction. A second call with the same key
    writes nothing and returns the first transaction. ``known_new``: the caller holds the lock
    that makes the key new (the lookup is skipped; the unique constraint still guards).
    """
    _check_balanced(legs)
    existing = None if known_new else Transaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    # Inside the caller's transaction, without a savepoint: a concurrent post of the same key
    # fails the unique constraint and aborts the caller's whole transaction, which is what a
    # retried task wants (its retry then finds the key and writes nothing).
    with transaction.atomic(savepoint=False):
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
    return posted, True


@dataclass(frozen=True)
class Post:
    key: str
    kind: str
    description: str
    occurred_on: datetime.date
    legs: Sequence[Leg]


def transactions_post_new(posts: Sequence[Post], *, actor: User | None = None) -> list[Transaction]:
    """Write many transactions whose keys the caller knows to be new, with two COPYs.

    Each is checked to balance like ``transaction_post``; the unique key and the database
    triggers still guard (a duplicate key aborts the caller's transaction). The rows carry the
    start of the database transaction as ``created_at``, as the database default would.
    """
    for post in posts:
        _check_balanced(post.legs)
    if not posts:
        return []
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT transaction_timestamp()")
            (now,) = cursor.fetchone()
        ids = ids_reserve(Transaction._meta.db_table, len(posts))
        actor_id = actor.pk if actor is not None else None
        posted = [
            Transaction(
                id=pk,
                idempotency_key=post.key,
                kind=post.kind,
                description=post.description[:300],
                occurred_on=post.occurred_on,
                created_by_id=actor_id,
                created_at=now,
            )
            for pk, post in zip(ids, posts, strict=True)
        ]
        copy_rows(
            Transaction._meta.db_table,
            ("id", "idempotency_key", "kind", "description", "occurred_on", "created_by_id",
             "created_at"),
            (
                (row.pk, row.idempotency_key, row.kind, row.description, row.occurred_on,
                 actor_id, now)
                for row in posted
            ),
        )  # fmt: skip
        copy_rows(
            Entry._meta.db_table,
            ("transaction_id", "account_id", "amount", "currency", "reference"),
            (
                (row.pk, leg.account.pk, leg.amount, leg.account.currency, leg.reference)
                for row, post in zip(posted, posts, strict=True)
                for leg in post.legs
                if leg.amount != ZERO
            ),
        )
    for row in posted:
        row._state.adding = False
        row._state.db = connection.alias
    return posted


def transaction_reverse(
    *,
    original: Transaction,
    key: str,
    description: str,
    occurred_on: datetime.date,
    actor: User | None = None,
) -> tuple[Transaction, bool]:
    """Cancel ``original`` by posting its entries with opposite signs (the original stays).

    A transaction is reversed once: reversing it again returns the first reversal.
    """
    earlier = Transaction.objects.filter(reverses=original).first()
    if earlier is not None:
        return earlier, False
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
