"""The fixtures the payroll tests build on: approved contracts and invoices the month's run pays.

The run pays what the guarantee fund does not: payroll tests follow that path. Their entities'
fund policy asks for an order confirmed by the client, which no test contract has, so no invoice
is guaranteed; and the client pays each invoice in full when it is issued, so that its salary is
due to the run. The fund's own path (payouts, then the run) is tested in tests/guarantee_fund.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django_tenants.utils import schema_context

from guarantee_fund.models import FundPolicy
from invoicing import services as invoicing_services
from invoicing.models import Invoice
from members.models import Contract
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity
from tests.invoicing.conftest import inv_advisor, inv_approve, inv_approved_contract

__all__ = ["inv_advisor", "inv_approve", "inv_approved_contract"]


@pytest.fixture(autouse=True)
def _no_fund_guarantee(request: pytest.FixtureRequest) -> Iterator[None]:
    """Nothing is guaranteed in be and fr during a payroll test (rolled back with it)."""
    if "db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("be")
    request.getfixturevalue("fr")
    for schema in ("be", "fr"):
        with schema_context(schema):
            FundPolicy.objects.update_or_create(pk=1, defaults={"require_confirmed_order": True})
    yield


def issued_and_paid(contract: Contract, actor: User) -> Invoice:
    """Issue the contract's invoice and record the client's payment of it in full."""
    invoice = invoicing_services.invoice_issue(contract=contract, actor=actor)
    invoicing_services.payment_record(
        invoice=invoice,
        amount=invoice.gross_total,
        received_on=entity_today(current_entity()),
        actor=actor,
        note="Client's transfer",
    )
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def inv_issued_invoice(
    in_be: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> Invoice:
    """A Belgian invoice of 1,000.00 excl. VAT at 21 % (gross 1,210.00, fee 65.00), paid."""
    return issued_and_paid(inv_approved_contract(), inv_advisor())
