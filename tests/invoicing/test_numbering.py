"""invoicing.numbering: gapless numbers under real concurrency, on real PostgreSQL.

The concurrent tests commit (each issuer is a thread with its own database connection), so they
run in ``at`` (``inv_committed_at``: created for this module, dropped after it). Issued invoices
cannot be deleted meanwhile (the database refuses it), so every assertion is relative to the
number series read before. The Celery hand-off after issue is switched off (the queue is a
boundary). The single-connection tests run in ``be`` inside the test's transaction.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context
from stdnum import iso11649

from invoicing import numbering, services
from invoicing.models import Invoice, NumberSeries
from members import services as member_services
from members.models import Contract
from smart_coop.accounts.models import User
from smart_coop.ledger.selectors import books_balance
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

if TYPE_CHECKING:
    from tests.invoicing.conftest import CommittedEntity

ISSUERS = 50
RunThreads = Callable[..., list[BaseException]]
logger = logging.getLogger(__name__)


def series(kind: str = "invoice", year: int | None = None) -> int:
    year = year or today().year
    found = NumberSeries.objects.filter(kind=kind, year=year).first()
    return 0 if found is None else found.last_number


def today() -> datetime.date:
    return member_services.entity_today(current_entity())


def expected_numbers(after: int, count: int, year: int) -> list[str]:
    return [f"AT-{year}-{n:06d}" for n in range(after + 1, after + count + 1)]


def issuer(
    contract: Contract, actor: User, barrier: threading.Barrier, results: dict[int, Any]
) -> Callable[[], None]:
    """Issue ``contract`` in its own thread once every issuer is connected and waiting."""
    schema = connection.schema_name  # type: ignore[attr-defined]

    def issue() -> None:
        with schema_context(schema):
            connection.ensure_connection()  # connect first, so that all start together
            barrier.wait(60)
            started = time.monotonic()
            try:
                invoice = services.invoice_issue(contract=contract, actor=actor)
                results[contract.pk] = (invoice.number, started, time.monotonic())
            except Exception as error:
                results[contract.pk] = (error, started, time.monotonic())
                raise

    return issue


# --- concurrency, committed ------------------------------------------------------------------


def test_fifty_concurrent_issuers_get_the_next_fifty_numbers(
    inv_committed_at: CommittedEntity,
    inv_run_threads: RunThreads,
    record_property: Callable[[str, object], None],
) -> None:
    at = inv_committed_at
    contracts = at.approved_contracts(ISSUERS)
    year = today().year
    before, invoices_before = series(year=year), Invoice.objects.count()
    barrier = threading.Barrier(ISSUERS)
    results: dict[int, Any] = {}

    errors = inv_run_threads([issuer(c, at.advisor, barrier, results) for c in contracts])

    assert errors == []
    numbers = sorted(number for number, _, _ in results.values())
    assert numbers == expected_numbers(before, ISSUERS, year)  # no gap, no duplicate
    assert series(year=year) == before + ISSUERS
    assert Invoice.objects.count() == invoices_before + ISSUERS
    issued = Invoice.objects.filter(contract__in=contracts)
    assert {invoice.contract_id: invoice.number for invoice in issued} == {
        pk: number for pk, (number, _, _) in results.items()
    }
    references = [invoice.payment_reference.replace(" ", "") for invoice in issued]
    assert len(set(references)) == ISSUERS
    assert all(iso11649.is_valid(reference) for reference in references)
    assert set(books_balance().values()) == {Decimal(0)}
    starts = [start for _, start, _ in results.values()]
    ends = [end for _, _, end in results.values()]
    # They really ran at once: most had started before the first one committed.
    assert sum(start < min(ends) for start in starts) > ISSUERS // 2
    elapsed = max(ends) - min(starts)
    record_property("concurrent_issue_seconds", round(elapsed, 3))
    logger.info(
        "%s concurrent issues: %.2f s from the barrier to the last commit", ISSUERS, elapsed
    )


def test_concurrent_issues_of_one_contract_give_one_invoice_and_one_number(
    inv_committed_at: CommittedEntity, inv_run_threads: RunThreads
) -> None:
    at = inv_committed_at
    (contract,) = at.approved_contracts(1)
    before = series()
    barrier = threading.Barrier(5)
    numbers: list[str] = []

    def issue() -> None:
        with schema_context(at.code):
            connection.ensure_connection()
            barrier.wait(60)
            numbers.append(services.invoice_issue(contract=contract, actor=at.advisor).number)

    assert inv_run_threads([issue] * 5) == []

    assert numbers == expected_numbers(before, 1, today().year) * 5
    assert series() == before + 1
    assert Invoice.objects.filter(contract=contract).count() == 1


def test_a_rolled_back_issue_leaves_no_gap(
    inv_committed_at: CommittedEntity, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = inv_committed_at
    failing, next_one = at.approved_contracts(2)
    year = today().year
    before = series(year=year)

    def ledger_down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the ledger is down")

    with monkeypatch.context() as patched:
        patched.setattr(services, "_book", ledger_down)
        with pytest.raises(RuntimeError, match="the ledger is down"):
            services.invoice_issue(contract=failing, actor=at.advisor)

    assert series(year=year) == before
    assert not Invoice.objects.filter(contract=failing).exists()

    issued = services.invoice_issue(contract=next_one, actor=at.advisor)
    retried = services.invoice_issue(contract=failing, actor=at.advisor)

    assert [issued.number, retried.number] == expected_numbers(before, 2, year)


def test_concurrent_issues_that_roll_back_give_their_numbers_to_the_others(
    inv_committed_at: CommittedEntity,
    inv_run_threads: RunThreads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = inv_committed_at
    contracts = at.approved_contracts(10)
    failing = {contract.pk for contract in contracts[::3]}  # 4 of 10
    year = today().year
    before = series(year=year)
    book = services._book

    def book_or_fail(invoice: Invoice, **kwargs: Any) -> None:
        if invoice.contract_id in failing:
            time.sleep(0.05)  # still holding the series row: the others wait for it
            raise RuntimeError("the ledger is down")
        book(invoice, **kwargs)

    monkeypatch.setattr(services, "_book", book_or_fail)
    barrier = threading.Barrier(len(contracts))
    results: dict[int, Any] = {}

    errors = inv_run_threads([issuer(c, at.advisor, barrier, results) for c in contracts])

    assert sorted(str(error) for error in errors) == ["the ledger is down"] * len(failing)
    numbers = sorted(outcome for pk, (outcome, _, _) in results.items() if pk not in failing)
    assert numbers == expected_numbers(before, len(contracts) - len(failing), year)
    assert series(year=year) == before + len(contracts) - len(failing)
    assert not Invoice.objects.filter(contract_id__in=failing).exists()


# --- one connection, rolled back -------------------------------------------------------------


def test_a_number_is_given_inside_the_issuing_transaction_only(committed_db: None) -> None:
    # Autocommit: no transaction to give the number back if the issue fails. Refused before
    # any SQL, so nothing is written.
    with schema_context("be"):
        assert not connection.in_atomic_block
        with pytest.raises(RuntimeError, match="inside the issuing transaction"):
            numbering.number_next(kind="invoice", year=2026, entity_code="be")


def test_numbers_follow_each_other_per_kind_and_year(in_be: Entity) -> None:
    before = {
        (kind, year): series(kind, year)
        for kind in ("invoice", "credit_note")
        for year in (2061, 2062)
    }

    with transaction.atomic():
        given = [
            numbering.number_next(kind="invoice", year=2061, entity_code="be"),
            numbering.number_next(kind="invoice", year=2061, entity_code="be"),
            numbering.number_next(kind="credit_note", year=2061, entity_code="be"),
            numbering.number_next(kind="invoice", year=2062, entity_code="be"),
        ]

    invoice_2061, note_2061 = before[("invoice", 2061)], before[("credit_note", 2061)]
    assert given == [
        (invoice_2061 + 1, f"BE-2061-{invoice_2061 + 1:06d}"),
        (invoice_2061 + 2, f"BE-2061-{invoice_2061 + 2:06d}"),
        (note_2061 + 1, f"BE-CN-2061-{note_2061 + 1:06d}"),
        (before[("invoice", 2062)] + 1, f"BE-2062-{before[('invoice', 2062)] + 1:06d}"),
    ]


def test_a_savepoint_rolled_back_gives_its_number_back(in_be: Entity) -> None:
    with transaction.atomic():
        first, _ = numbering.number_next(kind="invoice", year=2063, entity_code="be")
    try:
        with transaction.atomic():
            numbering.number_next(kind="invoice", year=2063, entity_code="be")
            raise RuntimeError("issue failed")
    except RuntimeError:
        pass
    with transaction.atomic():
        after, number = numbering.number_next(kind="invoice", year=2063, entity_code="be")

    assert after == first + 1
    assert number == f"BE-2063-{first + 1:06d}"
