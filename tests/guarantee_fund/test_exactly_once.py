"""Exactly once, on committed data in real PostgreSQL: the same task delivered twice, and
two payout runs racing on the same due contracts, pay each contract once.

The work is committed in the ``at`` entity, created for this module and dropped after it (its
books refuse row deletes, not DROP SCHEMA).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django_tenants.utils import schema_context

from guarantee_fund.models import Payout
from guarantee_fund.services import PayoutsRunResult, payouts_run
from guarantee_fund.tasks import payouts_run_task
from invoicing import services as invoicing
from invoicing.models import Invoice
from smart_coop.ledger.models import Transaction
from smart_coop.tenancy.models import Entity
from tests.guarantee_fund.conftest import books_balanced
from tests.invoicing.conftest import (
    COMMITTED_ENTITY,
    CommittedEntity,
    committed_entity_create,
    committed_entity_drop,
)

# No per-test transaction: the work is committed (``committed_db``), for other connections.


@pytest.fixture(scope="module")
def fund_at(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        committed_entity_create(COMMITTED_ENTITY)
    yield COMMITTED_ENTITY
    with django_db_blocker.unblock():
        committed_entity_drop(COMMITTED_ENTITY)


@pytest.fixture
def due_invoices(
    fund_at: str, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> Callable[[int], tuple[list[Invoice], datetime.date]]:
    """``count`` invoices issued (committed) in ``at``; their payouts' common due day."""
    monkeypatch.setattr(invoicing, "_after_issue", lambda invoice: None)

    def make(count: int) -> tuple[list[Invoice], datetime.date]:
        with schema_context(fund_at):
            contracts = CommittedEntity().approved_contracts(count)
            issued = invoicing.invoices_issue_batch(
                contract_ids=[c.pk for c in contracts],
                issue_date=max(c.last_day for c in contracts) + datetime.timedelta(days=1),
            )
            due_on = max(Payout.objects.filter(invoice__in=issued).values_list("due_on", flat=True))
        return issued, due_on

    return make


def run_at_once(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrapped(target: Callable[[], None]) -> None:
        try:
            start.wait()
            target()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return errors


def paid_once(invoices: list[Invoice]) -> None:
    contract_ids = [invoice.contract_id for invoice in invoices]
    payouts = Payout.objects.filter(contract_id__in=contract_ids)
    assert sorted(payouts.values_list("state", flat=True)) == ["paid"] * len(invoices)
    keys = Transaction.objects.filter(
        idempotency_key__in=[f"payout:{pk}" for pk in contract_ids]
    ).values_list("idempotency_key", flat=True)
    assert sorted(keys) == sorted(f"payout:{pk}" for pk in contract_ids)
    assert books_balanced()


def test_the_database_holds_one_payout_per_contract(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    # (Also the one test here in a test transaction: the run then creates the test database.)
    payout = Payout.objects.get(invoice=fund_invoice())
    payout.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        payout.save()
    assert Payout.objects.count() == 1


def test_two_runs_racing_on_the_same_contracts_pay_each_once(
    fund_at: str, due_invoices: Callable[[int], tuple[list[Invoice], datetime.date]]
) -> None:
    invoices, due_on = due_invoices(6)
    results: list[PayoutsRunResult] = []

    def run() -> None:
        with schema_context(fund_at):
            results.append(payouts_run(as_of=due_on, chunk=2))

    assert run_at_once([run, run]) == []

    with schema_context(fund_at):
        paid_once(invoices)
    first, second = (set(result.paid) for result in results)
    assert not first & second
    assert first | second == {invoice.contract_id for invoice in invoices}


def test_the_same_task_delivered_twice_pays_once(
    fund_at: str, due_invoices: Callable[[int], tuple[list[Invoice], datetime.date]]
) -> None:
    invoices, due_on = due_invoices(3)
    contract_ids = {invoice.contract_id for invoice in invoices}
    outcomes: list[dict[str, list[int]]] = []

    def deliver() -> None:
        with schema_context(fund_at):
            outcomes.append(payouts_run_task.apply(kwargs={"as_of": due_on.isoformat()}).get())

    # Twice at once (a redelivery while the first still runs), then once more afterwards.
    assert run_at_once([deliver, deliver]) == []
    deliver()

    with schema_context(fund_at):
        paid_once(invoices)
    paid = [set(outcome["paid"]) & contract_ids for outcome in outcomes]
    assert sorted(len(p) for p in paid) == [0, 0, 3] or (
        not paid[0] & paid[1] and paid[0] | paid[1] == contract_ids and not paid[2]
    )
