"""Fixtures of the guarantee fund tests: invoices issued through invoicing, paid out by the job.

They build data through the services in the current schema (ask for ``in_be`` or ``in_fr``
first). The invoicing fixtures are re-exported.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from guarantee_fund.models import Payout
from invoicing import services as invoicing
from invoicing.models import Invoice
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.ledger.models import Entry
from smart_coop.ledger.selectors import books_balance
from tests.factories import UserFactory
from tests.invoicing.conftest import (
    inv_advisor,
    inv_approve,
    inv_approved_contract,
    inv_issued_invoice,
)

__all__ = ["inv_advisor", "inv_approve", "inv_approved_contract", "inv_issued_invoice"]

ONE_DAY = datetime.timedelta(days=1)


@pytest.fixture
def fund_invoice(
    inv_approved_contract: Callable[..., Any], inv_advisor: Callable[[], User]
) -> Callable[..., Invoice]:
    """An invoice issued the day after its contract's work ends (as the daily job does);
    keyword arguments go to ContractFactory."""

    def make(**kwargs: Any) -> Invoice:
        contract = inv_approved_contract(**kwargs)
        return invoicing.invoice_issue(
            contract=contract, actor=inv_advisor(), issue_date=contract.last_day + ONE_DAY
        )

    return make


def payout_of(invoice: Invoice) -> Payout:
    return Payout.objects.get(invoice=invoice)


def entries(key: str) -> dict[tuple[str, str], Decimal]:
    """(account code, reference) -> amount of the transaction under ``key``."""
    return {
        (entry.account.code, entry.reference): entry.amount
        for entry in Entry.objects.filter(transaction__idempotency_key=key).select_related(
            "account"
        )
    }


def books_balanced() -> bool:
    return all(total == 0 for total in books_balance().values())


def accountant(*, may_write_off: bool = True) -> User:
    user = UserFactory(role=Role.ACCOUNTANT)
    if may_write_off:
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="invoicing", codename="write_off_invoice"
            )
        )
    return User.objects.get(pk=user.pk)
