"""guarantee_fund.coverage: the daily snapshot of the fund's position and the floor alert.

The fund's money is built here as the agreed ledger design books it (contributions credited
to ``fund_reserve``, advances debited to ``fund_advances`` per invoice, losses debited to
``fund_losses``), dated, so that the position at the end of a day is known exactly.
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django_tenants.utils import schema_context

from guarantee_fund.calendar import entity_today
from guarantee_fund.coverage import (
    coverage_floor_check,
    coverage_snapshot_take,
    coverage_snapshots_catch_up,
)
from guarantee_fund.models import CoverageSnapshot, FundPolicy
from guarantee_fund.selectors import fund_position
from guarantee_fund.tasks_coverage import coverage_floor_alert_task, coverage_snapshot_task
from invoicing.models import Invoice
from smart_coop.accounts.roles import Role
from smart_coop.ledger.services import Leg, account_get, transaction_post
from smart_coop.tenancy.models import Entity
from smart_coop.tenancy.tasks import entities_dispatch_task
from tests.factories import UserFactory
from tests.invoicing import conftest as invoicing_fixtures

# The invoicing fixtures this file builds on.
inv_advisor = invoicing_fixtures.inv_advisor
inv_approve = invoicing_fixtures.inv_approve
inv_approved_contract = invoicing_fixtures.inv_approved_contract
inv_issued_invoice = invoicing_fixtures.inv_issued_invoice

D = datetime.date(2021, 3, 10)  # days long past: nothing else in the books is dated then


def day(n: int) -> datetime.date:
    return D + datetime.timedelta(days=n)


def contribution(key: str, amount: str, on: datetime.date) -> None:
    value = Decimal(amount)
    transaction_post(
        key=f"test_contribution:{key}", kind="fund_contribution", description="contribution",
        occurred_on=on,
        legs=[
            Leg(account_get("fee_income", currency="EUR"), value, ""),
            Leg(account_get("fund_reserve", currency="EUR"), -value, ""),
        ],
    )  # fmt: skip


def advance(invoice_id: int, amount: str, on: datetime.date) -> None:
    """The advance's memorandum pair (Dr fund_advances / Cr fund_guarantees_given)."""
    value, reference = Decimal(amount), f"invoice:{invoice_id}"
    transaction_post(
        key=f"test_advance:{invoice_id}:{on}", kind="payout", description="advance",
        occurred_on=on,
        legs=[
            Leg(account_get("fund_advances", currency="EUR"), value, reference),
            Leg(account_get("fund_guarantees_given", currency="EUR"), -value, reference),
        ],
    )  # fmt: skip


def repayment(invoice_id: int, amount: str, on: datetime.date) -> None:
    value, reference = Decimal(amount), f"invoice:{invoice_id}"
    transaction_post(
        key=f"test_repayment:{invoice_id}:{on}", kind="fund_repayment", description="repaid",
        occurred_on=on,
        legs=[
            Leg(account_get("fund_guarantees_given", currency="EUR"), value, reference),
            Leg(account_get("fund_advances", currency="EUR"), -value, reference),
        ],
    )  # fmt: skip


def loss(key: str, amount: str, on: datetime.date) -> None:
    value = Decimal(amount)
    transaction_post(
        key=f"test_loss:{key}", kind="fund_loss", description="loss", occurred_on=on,
        legs=[
            Leg(account_get("fund_losses", currency="EUR"), value, ""),
            Leg(account_get("bad_debts", currency="EUR"), -value, ""),
        ],
    )  # fmt: skip


def figures(snapshot: CoverageSnapshot) -> tuple[Decimal, ...]:
    return (
        snapshot.contributions,
        snapshot.losses,
        snapshot.reserve,
        snapshot.open_advances,
        snapshot.overdue_advances,
    )


# --- snapshots -----------------------------------------------------------------------------


def test_a_snapshot_is_the_position_at_the_end_of_its_day_taken_once(in_be: Entity) -> None:
    contribution("a", "1000.00", day(0))
    advance(900001, "4000.00", day(1))
    loss("a", "100.00", day(1))
    contribution("b", "500.00", day(2))  # the next day: not in day(1)'s snapshot
    advance(900002, "1000.00", day(2))

    snapshot = coverage_snapshot_take(day=day(1))

    assert snapshot.day == day(1)
    assert snapshot.currency == "EUR"
    assert figures(snapshot) == (
        Decimal("1000.00"), Decimal("100.00"), Decimal("900.00"), Decimal("4000.00"), Decimal(0)
    )  # fmt: skip
    assert snapshot.coverage == Decimal("0.2250")
    # Taken again, even after the books moved: the same row, unchanged.
    repayment(900001, "4000.00", day(1))
    again = coverage_snapshot_take(day=day(1))
    assert again.pk == snapshot.pk
    assert figures(again) == figures(snapshot)
    assert CoverageSnapshot.objects.count() == 1
    later = coverage_snapshot_take(day=day(2))
    assert figures(later) == (
        Decimal("1500.00"), Decimal("100.00"), Decimal("1400.00"), Decimal("1000.00"), Decimal(0)
    )  # fmt: skip
    assert later.coverage == Decimal("1.4000")


def test_a_snapshot_counts_the_advances_of_invoices_past_their_due_date(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    due = inv_issued_invoice.due_date
    advance(inv_issued_invoice.pk, "1000.00", D)
    advance(900003, "250.00", D)  # no such invoice: never overdue

    on_due_date = coverage_snapshot_take(day=due)
    after = coverage_snapshot_take(day=due + datetime.timedelta(days=1))

    assert (on_due_date.open_advances, on_due_date.overdue_advances) == (
        Decimal("1250.00"), Decimal(0)
    )  # fmt: skip
    assert (after.open_advances, after.overdue_advances) == (Decimal("1250.00"), Decimal("1000.00"))


def test_nothing_advanced_means_no_coverage_ratio(in_be: Entity) -> None:
    contribution("c", "10.00", D)
    snapshot = coverage_snapshot_take(day=D)
    assert snapshot.open_advances == Decimal(0)
    assert snapshot.coverage is None


def test_the_daily_job_fills_the_days_it_missed_and_is_harmless_twice(in_be: Entity) -> None:
    contribution("d", "300.00", day(0))
    coverage_snapshot_take(day=day(0))
    contribution("e", "200.00", day(2))

    taken = coverage_snapshot_task(day=day(3).isoformat())
    assert taken == day(3).isoformat()
    assert coverage_snapshot_task(day=day(3).isoformat()) == day(3).isoformat()

    snapshots = {s.day: s.contributions for s in CoverageSnapshot.objects.order_by("day")}
    assert snapshots == {
        day(0): Decimal("300.00"),
        day(1): Decimal("300.00"),
        day(2): Decimal("500.00"),
        day(3): Decimal("500.00"),
    }
    # Without a day: the day that ended yesterday in the entity's time zone, alone at first.
    CoverageSnapshot.objects.filter(day__gt=day(0)).delete()
    latest = coverage_snapshot_task()
    yesterday = entity_today(in_be) - datetime.timedelta(days=1)
    assert latest == yesterday.isoformat()
    # The gap since day(0) is years long: the job fills its last 31 days only.
    filled = list(CoverageSnapshot.objects.filter(day__gt=day(0)).values_list("day", flat=True))
    assert filled == [yesterday - datetime.timedelta(days=n) for n in range(31)]


def test_a_late_job_fills_at_most_a_month(in_be: Entity) -> None:
    coverage_snapshot_take(day=day(0))
    snapshots = coverage_snapshots_catch_up(through=day(100))
    assert [s.day for s in snapshots] == [day(100 - n) for n in range(30, -1, -1)]


def test_snapshots_stay_in_their_entity(in_be: Entity, fr: Entity) -> None:
    contribution("f", "70.00", D)
    coverage_snapshot_take(day=D)
    with schema_context("fr"):
        assert not CoverageSnapshot.objects.exists()
        assert fund_position(as_of=D).contributions == Decimal(0)
        fr_snapshot = coverage_snapshot_take(day=D)
        assert fr_snapshot.contributions == Decimal(0)
        assert fr_snapshot.currency == "EUR"
    assert CoverageSnapshot.objects.get().contributions == Decimal("70.00")


# --- the floor alert -----------------------------------------------------------------------


def admins() -> tuple[Any, Any]:
    french = UserFactory(role=Role.ENTITY_ADMIN, language="fr", email="admin.fr@example.org")
    english = UserFactory(role=Role.ENTITY_ADMIN, language="en", email="admin.en@example.org")
    return french, english


def below_floor(on: datetime.date) -> None:
    """Coverage 0.1000 (100 / 1000) against the default floor of 0.2000."""
    contribution(f"floor:{on}", "100.00", on)
    advance(900100 + on.day, "1000.00", on)


def test_below_the_floor_each_entity_admin_is_emailed_once_in_their_language(
    in_be: Entity, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    french, english = admins()
    UserFactory(role=Role.ADVISOR, email="advisor@example.org")  # not an entity admin
    gone = UserFactory(role=Role.ENTITY_ADMIN, email="gone@example.org")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    below_floor(day(0))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert coverage_snapshot_task(day=day(0).isoformat()) == day(0).isoformat()

    assert FundPolicy.current().floor_alerted_on == day(0)
    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"day": day(0).isoformat()}
    sent = coverage_floor_alert_task(**callbacks[0].keywords)
    assert sent == [french.email, english.email]
    assert [m.to for m in mailoutbox] == [[french.email], [english.email]]
    by_language = {m.extra_headers["Content-Language"]: m for m in mailoutbox}
    assert set(by_language) == {"fr", "en"}
    # The date and the amounts as each language writes them.
    assert "10 mars 2021" in by_language["fr"].body
    assert "100,00 EUR" in by_language["fr"].body
    assert "10 March 2021" in by_language["en"].body
    assert "covered 10.00 % of its open advances, below the floor of 20.00 %" in (
        by_language["en"].body
    )
    assert "Open advances: 1000.00 EUR" in by_language["en"].body
    assert by_language["en"].subject.endswith("the guarantee fund's coverage is below its floor")

    # Still below the next days: no second alert.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        coverage_snapshot_task(day=day(1).isoformat())
        assert coverage_floor_check(coverage=Decimal("0.0500"), day=day(1)) is False
    assert callbacks == []
    assert FundPolicy.current().floor_alerted_on == day(0)


def test_the_alert_comes_again_only_after_the_coverage_was_above_the_floor(
    in_be: Entity, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    admins()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert coverage_floor_check(coverage=Decimal("0.1999"), day=day(0)) is True
        assert coverage_floor_check(coverage=Decimal("0.1000"), day=day(1)) is False
    assert len(callbacks) == 1

    # At the floor exactly is not below it: the episode ends.
    assert coverage_floor_check(coverage=Decimal("0.2000"), day=day(2)) is False
    assert FundPolicy.current().floor_alerted_on is None
    # Nothing advanced is never below the floor either.
    assert coverage_floor_check(coverage=None, day=day(3)) is False

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert coverage_floor_check(coverage=Decimal("0.0100"), day=day(4)) is True
    assert [c.keywords for c in callbacks] == [{"day": day(4).isoformat()}]
    assert FundPolicy.current().floor_alerted_on == day(4)


def test_an_alert_whose_episode_ended_before_it_was_sent_is_not_sent(
    in_be: Entity, mailoutbox: list[Any]
) -> None:
    admins()
    coverage_floor_check(coverage=Decimal("0.1000"), day=day(0))
    coverage_floor_check(coverage=Decimal("0.5000"), day=day(0))
    assert coverage_floor_alert_task(day=day(0).isoformat()) == []
    assert mailoutbox == []


def test_the_floor_is_the_entitys_own(in_be: Entity, fr: Entity, mailoutbox: list[Any]) -> None:
    FundPolicy.objects.filter(pk=FundPolicy.current().pk).update(coverage_floor=Decimal("0.0500"))
    assert coverage_floor_check(coverage=Decimal("0.1000"), day=D) is False
    with schema_context("fr"):
        assert coverage_floor_check(coverage=Decimal("0.1000"), day=D) is True
        assert FundPolicy.current().floor_alerted_on == D
        # The French admins only.
        fr_admin = UserFactory(role=Role.ENTITY_ADMIN, email="fr.admin@example.org")
        assert Group.objects.get(name=Role.ENTITY_ADMIN.value).user_set.count() == 1
        assert coverage_floor_alert_task(day=D.isoformat()) == [fr_admin.email]
    assert FundPolicy.current().floor_alerted_on is None


# --- beat's daily job on the real worker ---------------------------------------------------


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker_process", "committed_db")
def test_the_daily_job_runs_on_the_real_worker_in_every_entity() -> None:
    """Beat's entry dispatches the task by name to each entity: the worker knows it and takes
    each entity's snapshot in its own schema."""
    on = datetime.date(2020, 2, 29)
    policies = {}
    for schema in ("be", "fr"):
        with schema_context(schema):
            policies[schema] = FundPolicy.objects.filter(pk=1).exists()
    try:
        dispatched = entities_dispatch_task.delay(
            task_name="guarantee_fund.coverage_snapshot", kwargs={"day": on.isoformat()}
        )
        assert sorted(dispatched.get(timeout=30)) == ["be", "fr"]

        def taken() -> bool:
            found = []
            for schema in ("be", "fr"):
                with schema_context(schema):
                    found.append(CoverageSnapshot.objects.filter(day=on).exists())
            return all(found)

        deadline = time.monotonic() + 30
        while not taken() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert taken(), "the worker took no snapshot"
        with schema_context("be"):
            assert CoverageSnapshot.objects.get(day=on).currency == "EUR"
    finally:
        for schema in ("be", "fr"):
            with schema_context(schema):
                CoverageSnapshot.objects.filter(day=on).delete()
                if not policies[schema]:
                    FundPolicy.objects.filter(pk=1).delete()
