"""smart_coop.ledger: balanced, append-only books, checked in Python and refused by the database.

Most tests run in ``be`` inside the test's transaction. The tests that need a real commit (the
balance trigger fires at commit; concurrent posts need two connections) run in ``at``, an entity
created for this module and dropped after it; its committed rows cannot be deleted (the books
are append-only), so they use unique keys and make relative assertions only.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from smart_coop.ledger.models import Account, Entry, Transaction
from smart_coop.ledger.selectors import (
    account_balance,
    balance_by_code,
    books_balance,
    trial_balance,
)
from smart_coop.ledger.services import (
    Leg,
    UnbalancedError,
    account_get,
    transaction_post,
    transaction_reverse,
)
from smart_coop.tenancy.models import Entity

DAY = datetime.date(2026, 3, 2)
# An entity no other test file counts on (tests/tenancy uses hu and nl for refusals).
COMMITTED_ENTITY = "at"


def account(code: str, currency: str = "EUR", kind: str = Account.Kind.ASSET) -> Account:
    """An account of the test's own (not one of the standard ones, which other tests read)."""
    return Account.objects.create(code=code, name=code, kind=kind, currency=currency)


def post(key: str, *legs: Leg, **kwargs: Any) -> tuple[Transaction, bool]:
    return transaction_post(
        key=key, kind="test", description=f"test {key}", occurred_on=DAY, legs=legs, **kwargs
    )


def entries_of(posted: Transaction) -> set[tuple[str, Decimal, str, str]]:
    return {
        (entry.account.code, entry.amount, entry.currency, entry.reference)
        for entry in posted.entries.select_related("account")
    }


def counts() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def run_threads(*targets: Callable[[], None], timeout: float = 60) -> list[BaseException]:
    """Run each target in its own thread (its own database connection); return their errors."""
    errors: list[BaseException] = []

    def wrapped(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return errors


@pytest.fixture(scope="module")
def committed_entity_for_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The ``at`` entity for this module's committed tests, dropped at the end of the module
    (its books refuse row deletes, not DROP SCHEMA; tests/test_worker*.py expect be and fr
    only)."""
    from smart_coop.tenancy.services import entity_create

    with django_db_blocker.unblock():
        # committed_db alone does not make pytest-django create the test database: refuse to
        # commit into the developer's database.
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.fail("no test database in this run: select at least one test using `db` too")
        entity_create(code=COMMITTED_ENTITY, base_host=settings.BASE_HOST)
    yield COMMITTED_ENTITY
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        entity = Entity.objects.get(schema_name=COMMITTED_ENTITY)
        entity.rates.all().delete()
        entity.amounts.all().delete()
        entity.domains.all().delete()
        entity.delete(force_drop=True)


@pytest.fixture
def committed_entity(committed_entity_for_module: str, committed_db: None) -> str:
    return committed_entity_for_module


# --- posting -----------------------------------------------------------------------------------


def test_post_writes_one_transaction_with_its_entries(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income", kind=Account.Kind.INCOME)
    vat = account("t_vat", kind=Account.Kind.LIABILITY)

    posted, created = post(
        "t:1",
        Leg(bank, Decimal("121.00"), "invoice:7"),
        Leg(vat, Decimal("-21.00"), "invoice:7"),
        Leg(income, Decimal("-100.00")),
    )

    assert created is True
    assert (posted.idempotency_key, posted.kind, posted.occurred_on) == ("t:1", "test", DAY)
    assert entries_of(posted) == {
        ("t_bank", Decimal("121.00"), "EUR", "invoice:7"),
        ("t_vat", Decimal("-21.00"), "EUR", "invoice:7"),
        ("t_income", Decimal("-100.00"), "EUR", ""),
    }
    assert books_balance() == {"EUR": Decimal("0.00")}


def test_legs_balance_per_currency_not_overall(in_be: Entity) -> None:
    eur_a, eur_b = account("t_eur_a"), account("t_eur_b")
    sek_a, sek_b = account("t_sek_a", "SEK"), account("t_sek_b", "SEK")

    posted, created = post(
        "t:two-currencies",
        Leg(eur_a, Decimal("10.00")),
        Leg(eur_b, Decimal("-10.00")),
        Leg(sek_a, Decimal("99.50")),
        Leg(sek_b, Decimal("-99.50")),
    )

    assert created is True
    assert posted.entries.count() == 4
    # Sums to zero overall, but not in either currency.
    before = counts()
    with pytest.raises(UnbalancedError, match="do not balance"):
        post("t:cross-currency", Leg(eur_a, Decimal("10.00")), Leg(sek_a, Decimal("-10.00")))
    assert counts() == before
    assert not Transaction.objects.filter(idempotency_key="t:cross-currency").exists()


@pytest.mark.parametrize(
    "amounts",
    [
        pytest.param(("10.00", "-9.99"), id="off-by-a-cent"),
        pytest.param(("10.00",), id="one-leg"),
        pytest.param(("10.005", "-10.005"), id="not-rounded-to-the-cent"),
    ],
)
def test_unbalanced_legs_are_refused_and_nothing_is_written(
    in_be: Entity, amounts: tuple[str, ...]
) -> None:
    accounts = [account(f"t_{i}") for i in range(len(amounts))]
    before = counts()

    with pytest.raises(UnbalancedError):
        post("t:refused", *(Leg(a, Decimal(x)) for a, x in zip(accounts, amounts, strict=True)))

    assert counts() == before
    assert not Transaction.objects.filter(idempotency_key="t:refused").exists()
    assert all(account_balance(a) == Decimal(0) for a in accounts)


def test_zero_legs_are_dropped(in_be: Entity) -> None:
    bank, income, unused = account("t_bank"), account("t_income"), account("t_unused")

    posted, _ = post(
        "t:zero",
        Leg(bank, Decimal("5.00")),
        Leg(unused, Decimal("0.00")),
        Leg(income, Decimal("-5.00")),
    )

    assert entries_of(posted) == {
        ("t_bank", Decimal("5.00"), "EUR", ""),
        ("t_income", Decimal("-5.00"), "EUR", ""),
    }
    assert not unused.entries.exists()


def test_the_same_key_posts_once(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")
    first, created = post("t:once", Leg(bank, Decimal("7.00")), Leg(income, Decimal("-7.00")))
    before = counts()

    # A retry, even one computing other amounts, finds the first and writes nothing.
    again, created_again = post("t:once", Leg(bank, Decimal("8.00")), Leg(income, Decimal("-8.00")))

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert counts() == before
    assert account_balance(bank) == Decimal("7.00")


# --- the database keeps the books ------------------------------------------------------------


def write_behind_the_service(
    transaction_or_key: Transaction | str, *entries: tuple[Account, str], check: bool = True
) -> None:
    """Insert entries with the raw ORM in a savepoint (into a new transaction when given a key);
    ``check`` fires the deferred balance trigger as COMMIT would (SET CONSTRAINTS IMMEDIATE)."""
    with transaction.atomic():
        posted = (
            Transaction.objects.create(
                idempotency_key=transaction_or_key, kind="raw", description="raw",
                occurred_on=DAY,
            )
            if isinstance(transaction_or_key, str)
            else transaction_or_key
        )  # fmt: skip
        for each, amount in entries:
            Entry.objects.create(
                transaction=posted, account=each, amount=Decimal(amount), currency=each.currency
            )
        if check:
            connection.check_constraints()


def execute_in_savepoint(statement: str, params: dict[str, Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_database_refuses_an_unbalanced_transaction_written_behind_the_service(
    in_be: Entity,
) -> None:
    bank = account("t_bank")
    before = counts()

    with pytest.raises(IntegrityError, match=r"does not balance in EUR: 10\.00"):
        write_behind_the_service("raw:unbalanced", (bank, "10.00"))

    assert counts() == before
    assert not Transaction.objects.filter(idempotency_key="raw:unbalanced").exists()


def test_database_checks_each_currency_of_a_transaction(in_be: Entity) -> None:
    eur, sek = account("t_eur"), account("t_sek", "SEK")

    with pytest.raises(IntegrityError, match="does not balance"):
        write_behind_the_service("raw:cross-currency", (eur, "10.00"), (sek, "-10.00"))

    assert not Transaction.objects.filter(idempotency_key="raw:cross-currency").exists()


def test_database_accepts_balanced_entries_inserted_one_by_one(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")

    write_behind_the_service("raw:balanced", (bank, "3.10"), (income, "-3.10"))

    assert account_balance(bank) == Decimal("3.10")
    assert account_balance(income) == Decimal("-3.10")


def test_database_checks_every_transaction_of_one_commit(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")

    def three_in_one_commit() -> None:
        write_behind_the_service("raw:first", (bank, "1.00"), (income, "-1.00"), check=False)
        write_behind_the_service("raw:second", (bank, "2.00"), check=False)
        write_behind_the_service("raw:third", (bank, "3.00"), (income, "-3.00"), check=False)
        connection.check_constraints()

    unbalanced = r"does not balance in EUR: 2\.00"
    with pytest.raises(IntegrityError, match=unbalanced), transaction.atomic():
        three_in_one_commit()

    assert not Transaction.objects.filter(idempotency_key__startswith="raw:").exists()


def test_database_refuses_one_more_entry_on_a_posted_transaction(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")
    posted, _ = post("t:posted", Leg(bank, Decimal("5.00")), Leg(income, Decimal("-5.00")))
    connection.check_constraints()

    with pytest.raises(IntegrityError, match="does not balance"):
        write_behind_the_service(posted, (bank, "1.00"))

    assert posted.entries.count() == 2


def test_database_refuses_a_balanced_pair_added_to_a_posted_transaction(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")
    # A transaction written by an earlier database transaction (the test runs in one, so the
    # earlier time is given explicitly; the database normally sets it).
    earlier = Transaction.objects.create(
        idempotency_key="t:earlier", kind="test", description="earlier", occurred_on=DAY,
        created_at=timezone.now() - datetime.timedelta(days=1),
    )  # fmt: skip

    with pytest.raises(IntegrityError, match="already written"), transaction.atomic():
        write_behind_the_service(earlier, (bank, "1.00"), (income, "-1.00"))

    assert earlier.entries.count() == 0


def test_database_refuses_an_unbalanced_transaction_at_commit(committed_entity: str) -> None:
    key = f"raw:unbalanced:{uuid.uuid4()}"
    with schema_context(committed_entity):
        bank = account_get("bank", currency="EUR")
        before = counts()

        # Autocommit outside the savepoint: the real COMMIT fires the deferred trigger.
        with pytest.raises(IntegrityError, match="does not balance"):
            write_behind_the_service(key, (bank, "10.00"), check=False)

        assert counts() == before
        assert not Transaction.objects.filter(idempotency_key=key).exists()


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE ledger_entry SET amount = amount + 1 WHERE id = %(entry)s",
                     id="entry-update"),
        pytest.param("UPDATE ledger_entry SET reference = 'x' WHERE id = %(entry)s",
                     id="entry-reference"),
        pytest.param("DELETE FROM ledger_entry WHERE id = %(entry)s", id="entry-delete"),
        pytest.param("UPDATE ledger_transaction SET description = 'x' WHERE id = %(tx)s",
                     id="tx-update"),
        pytest.param("DELETE FROM ledger_transaction WHERE id = %(tx)s", id="tx-delete"),
    ],
)  # fmt: skip
def test_database_refuses_changing_the_books(in_be: Entity, statement: str) -> None:
    bank, income = account("t_bank"), account("t_income")
    posted, _ = post("t:final", Leg(bank, Decimal("5.00")), Leg(income, Decimal("-5.00")))
    entry = posted.entries.get(account=bank)
    before = entries_of(posted)

    with pytest.raises(IntegrityError, match="append-only"):
        execute_in_savepoint(statement, {"entry": entry.pk, "tx": posted.pk})

    posted.refresh_from_db()
    assert posted.description == "test t:final"
    assert entries_of(posted) == before


def test_the_orm_cannot_change_the_books_either(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")
    posted, _ = post("t:final", Leg(bank, Decimal("5.00")), Leg(income, Decimal("-5.00")))

    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(transaction=posted).update(amount=Decimal("6.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(transaction=posted).delete()

    assert account_balance(bank) == Decimal("5.00")


# --- reversal --------------------------------------------------------------------------------


def test_reversal_posts_the_opposite_entries_and_references_the_original(in_be: Entity) -> None:
    receivable, vat = account("t_receivable"), account("t_vat", kind=Account.Kind.LIABILITY)
    income = account("t_income", kind=Account.Kind.INCOME)
    original, _ = post(
        "t:sale",
        Leg(receivable, Decimal("121.00"), "invoice:9"),
        Leg(vat, Decimal("-21.00"), "invoice:9"),
        Leg(income, Decimal("-100.00"), "invoice:9"),
    )

    reversal, created = transaction_reverse(
        original=original, key="t:sale:reversal", description="wrong client", occurred_on=DAY
    )

    assert created is True
    assert reversal.reverses == original
    assert Transaction.objects.get(pk=original.pk).reversed_by == reversal
    assert reversal.kind == "reversal:test"
    assert entries_of(reversal) == {
        ("t_receivable", Decimal("-121.00"), "EUR", "invoice:9"),
        ("t_vat", Decimal("21.00"), "EUR", "invoice:9"),
        ("t_income", Decimal("100.00"), "EUR", "invoice:9"),
    }
    # The original stays as it was; together they cancel out.
    assert original.entries.count() == 3
    for each in (receivable, vat, income):
        assert account_balance(each) == Decimal(0)
        assert account_balance(each, reference="invoice:9") == Decimal(0)

    before = counts()
    again, created_again = transaction_reverse(
        original=original, key="t:sale:reversal", description="retry", occurred_on=DAY
    )
    assert (again.pk, created_again) == (reversal.pk, False)
    assert counts() == before


def test_a_transaction_reversed_twice_is_reversed_once(in_be: Entity) -> None:
    bank, income = account("t_bank"), account("t_income")
    original, _ = post("t:sale", Leg(bank, Decimal("5.00")), Leg(income, Decimal("-5.00")))
    first, _ = transaction_reverse(
        original=original, key="t:sale:reversal:1", description="first", occurred_on=DAY
    )
    before = counts()

    second, created = transaction_reverse(
        original=original, key="t:sale:reversal:2", description="second", occurred_on=DAY
    )

    assert (second.pk, created) == (first.pk, False)
    assert counts() == before


# --- reading ---------------------------------------------------------------------------------


def test_trial_balance_rows_sum_to_zero_per_currency(in_be: Entity) -> None:
    bank, fees = account("t_bank"), account("t_fees", kind=Account.Kind.INCOME)
    sek_bank, sek_fees = account("t_sek_bank", "SEK"), account("t_sek_fees", "SEK")
    post("t:1", Leg(bank, Decimal("100.00")), Leg(fees, Decimal("-100.00")))
    post("t:2", Leg(bank, Decimal("-30.25")), Leg(fees, Decimal("30.25")))
    post("t:3", Leg(sek_bank, Decimal("1000.00")), Leg(sek_fees, Decimal("-1000.00")))

    rows = {row.code: row for row in trial_balance()}

    assert (rows["t_bank"].debit, rows["t_bank"].credit) == (Decimal("100.00"), Decimal("30.25"))
    assert (rows["t_fees"].debit, rows["t_fees"].credit) == (Decimal("30.25"), Decimal("100.00"))
    assert rows["t_bank"].balance == Decimal("69.75")
    assert rows["t_fees"].balance == Decimal("-69.75")
    assert rows["t_sek_fees"].currency == "SEK"
    totals: dict[str, Decimal] = {}
    for row in rows.values():
        totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.balance
    assert totals == {"EUR": Decimal(0), "SEK": Decimal(0)}
    assert books_balance() == {"EUR": Decimal("0.00"), "SEK": Decimal("0.00")}


def test_balances_per_account_and_per_reference(in_be: Entity) -> None:
    bank, receivable = account("t_bank"), account("t_receivable")
    post("t:a", Leg(receivable, Decimal("50.00"), "invoice:1"), Leg(bank, Decimal("-50.00")))
    post("t:b", Leg(receivable, Decimal("20.10"), "invoice:2"), Leg(bank, Decimal("-20.10")))
    post("t:c", Leg(receivable, Decimal("-5.00"), "invoice:1"), Leg(bank, Decimal("5.00")))

    assert account_balance(receivable) == Decimal("65.10")
    assert account_balance(receivable, reference="invoice:1") == Decimal("45.00")
    assert account_balance(receivable, reference="invoice:2") == Decimal("20.10")
    assert account_balance(receivable, reference="invoice:3") == Decimal(0)
    assert account_balance(bank, reference="") == Decimal("-65.10")
    assert balance_by_code("t_receivable", reference="invoice:1") == Decimal("45.00")
    assert balance_by_code("no_such_account") == Decimal(0)


def test_books_stay_in_their_entity(in_be: Entity) -> None:
    bank, income = account_get("bank", currency="EUR"), account_get("fee_income", currency="EUR")
    with schema_context("fr"):
        before_fr = (counts(), balance_by_code("bank"))

    post("t:be-only", Leg(bank, Decimal("9.99")), Leg(income, Decimal("-9.99")))

    with schema_context("fr"):
        assert (counts(), balance_by_code("bank")) == before_fr
        assert not Transaction.objects.filter(idempotency_key="t:be-only").exists()
        # The same key is free in another entity's books.
        fr_bank = account_get("bank", currency="EUR")
        fr_income = account_get("fee_income", currency="EUR")
        _, created = post(
            "t:be-only", Leg(fr_bank, Decimal("1.00")), Leg(fr_income, Decimal("-1.00"))
        )
        assert created is True


# --- concurrency: real connections, committed ------------------------------------------------


def post_while_the_first_is_uncommitted(
    schema: str, key: str, legs: tuple[Leg, ...]
) -> dict[str, Any]:
    """Two posters of ``key``: the second checks for the key before the first commits, so it
    reaches the insert and waits on the key's unique index until the first commits."""
    first_inserted = threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        with schema_context(schema), transaction.atomic():
            results["first"] = post(key, *legs)
            first_inserted.set()
            time.sleep(0.5)  # the second is blocked on the unique index meanwhile
            results["first committed at"] = time.monotonic()

    def second() -> None:
        assert first_inserted.wait(30)
        try:
            # Inside an outer transaction, as the invoicing services call it.
            with schema_context(schema), transaction.atomic():
                results["second"] = post(key, *legs)
        finally:
            results["second done at"] = time.monotonic()

    results["errors"] = run_threads(first, second)
    return results


def test_a_concurrent_duplicate_post_writes_nothing(committed_entity: str) -> None:
    key = f"t:concurrent:{uuid.uuid4()}"
    with schema_context(committed_entity):
        bank = account_get("bank", currency="EUR")
        income = account_get("late_payment_income", currency="EUR")
        before, income_before = counts(), account_balance(income)
    legs = (Leg(bank, Decimal("12.34")), Leg(income, Decimal("-12.34")))

    results = post_while_the_first_is_uncommitted(committed_entity, key, legs)

    # Whatever the second was told (the first transaction, or the key's unique violation)...
    assert all(
        isinstance(error, IntegrityError) and "idempotency_key" in str(error)
        for error in results["errors"]
    ), results["errors"]
    assert results["second done at"] >= results["first committed at"], "the second did not wait"
    with schema_context(committed_entity):
        posted = Transaction.objects.get(idempotency_key=key)
        assert results["first"] == (posted, True)
        # ...it wrote nothing, and a retry finds the first.
        assert counts() == (before[0] + 1, before[1] + 2)
        assert account_balance(income) == income_before - Decimal("12.34")
        assert post(key, *legs) == (posted, False)
        assert counts() == (before[0] + 1, before[1] + 2)


def test_many_concurrent_posts_with_one_key_post_once(committed_entity: str) -> None:
    key = f"t:concurrent:{uuid.uuid4()}"
    posters = 8
    with schema_context(committed_entity):
        bank = account_get("bank", currency="EUR")
        income = account_get("late_payment_income", currency="EUR")
        before = counts()
        income_before = account_balance(income)
    barrier = threading.Barrier(posters)
    results: list[tuple[int, bool]] = []

    def poster() -> None:
        with schema_context(committed_entity):
            connection.ensure_connection()
            barrier.wait(30)
            posted, created = post(key, Leg(bank, Decimal("1.01")), Leg(income, Decimal("-1.01")))
        results.append((posted.pk, created))

    errors = run_threads(*[poster] * posters)

    # Each poster got the transaction, or the key's unique violation (and wrote nothing).
    assert all("idempotency_key" in str(error) for error in errors), errors
    assert len(results) + len(errors) == posters
    assert [created for _, created in results].count(True) == 1
    with schema_context(committed_entity):
        posted = Transaction.objects.get(idempotency_key=key)
        assert {pk for pk, _ in results} == {posted.pk}
        assert counts() == (before[0] + 1, before[1] + 2)
        assert account_balance(income) == income_before - Decimal("1.01")
        assert set(books_balance().values()) == {Decimal(0)}
