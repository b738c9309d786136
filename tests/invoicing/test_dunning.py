"""Dunning: reminders, the formal notice with statutory interest, collection and write-off.

Every invoice here is 1,000.00 + 21 % VAT = 1,210.00 (Belgium), issued 30 days before its due
date; the be entity reminds at +7 and +21, gives formal notice at +35 and hands over for
collection at +50 (the defaults). Interest figures are computed by hand in the comments.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing import services, signals
from invoicing.dunning import (
    dunning_run,
    dunning_run_task,
    dunning_step_send_task,
    invoice_write_off,
    late_interest,
)
from invoicing.models import DunningStep, Invoice
from members import services as member_services
from members.models import Client
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.celery import app
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Transaction
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.money import quantize
from smart_coop.tenancy.models import Entity, RateNotFoundError
from tests.factories import ClientFactory, ContractFactory, UserFactory

DUE = datetime.date(2025, 6, 1)


def day(offset: int) -> datetime.date:
    """``offset`` days after the due date."""
    return DUE + datetime.timedelta(days=offset)


def overdue_invoice(*, due: datetime.date = DUE, client: Client | None = None) -> Invoice:
    """An issued invoice of 1,000.00 excl. VAT to ``client``, due on ``due`` (30-day terms)."""
    # Clients writing in English, so that the emails can be read in the assertions.
    contract = ContractFactory(client=client or ClientFactory(language="en"))
    advisor = UserFactory(role=Role.ADVISOR)
    member_services.contract_submit(contract=contract, actor=contract.member.user)
    contract = member_services.contract_approve(contract=contract, actor=advisor)
    invoice = services.invoice_issue(
        contract=contract, actor=advisor, issue_date=due - datetime.timedelta(days=30)
    )
    assert invoice.due_date == due
    return invoice


def company() -> Client:
    return ClientFactory(kind=Client.Kind.COMPANY, vat_number="BE0403019261", language="en")


def person() -> Client:
    return ClientFactory(kind=Client.Kind.PERSON, language="en")


def accountant(*, may_write_off: bool) -> User:
    user = UserFactory(role=Role.ACCOUNTANT)
    if may_write_off:
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="invoicing", codename="write_off_invoice"
            )
        )
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def levels(invoice: Invoice) -> list[int]:
    return list(invoice.dunning_steps.values_list("level", flat=True))


def in_collection(invoice: Invoice) -> Invoice:
    """Run the three steps and the collection at their days."""
    for offset in (7, 21, 35, 50):
        dunning_run(as_of=day(offset))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.IN_COLLECTION
    return invoice


# --- statutory interest --------------------------------------------------------------------


def test_interest_is_summed_per_half_year_and_rounded_once(in_be: Entity) -> None:
    # Due 2025-06-01, claimed on 2025-07-06: interest runs from 2025-06-02 to 2025-07-06,
    # 35 days: June 2-30 = 29 days at 11.5 % (2025 H1), July 1-6 = 6 days at 10.5 % (H2).
    # 1210 x 11.5 x 29 = 403,535 and 1210 x 10.5 x 6 = 76,230; (403,535 + 76,230) / 36,500
    # = 479,765 / 36,500 = 13.14424... -> 13.14.
    interest, rate = late_interest(
        entity=in_be,
        amount=Decimal("1210.00"),
        currency="EUR",
        due_date=DUE,
        as_of=datetime.date(2025, 7, 6),
    )
    assert (interest, rate) == (Decimal("13.14"), Decimal("10.5"))


def test_interest_across_the_new_year_takes_each_half_years_rate(in_be: Entity) -> None:
    # Due 2024-12-20, claimed on 2025-01-10: December 21-31 = 11 days at 12.5 % (2024 H2),
    # January 1-10 = 10 days at 11.5 % (2025 H1). 1000 x 12.5 x 11 = 137,500 and
    # 1000 x 11.5 x 10 = 115,000; 252,500 / 36,500 = 6.91780... -> 6.92.
    interest, rate = late_interest(
        entity=in_be,
        amount=Decimal("1000.00"),
        currency="EUR",
        due_date=datetime.date(2024, 12, 20),
        as_of=datetime.date(2025, 1, 10),
    )
    assert (interest, rate) == (Decimal("6.92"), Decimal("11.5"))


def test_interest_rounds_half_up_at_the_end(in_be: Entity) -> None:
    # 73.00 at 10.5 % (2025 H2) for 1 day: 73 x 10.5 / 36,500 = 0.021 -> 0.02; for 5 days:
    # 0.105 exactly -> 0.11 (half-up, not the banker's 0.10).
    def on(days: int) -> Decimal:
        due = datetime.date(2025, 8, 1)
        return late_interest(
            entity=in_be,
            amount=Decimal("73.00"),
            currency="EUR",
            due_date=due,
            as_of=due + datetime.timedelta(days=days),
        )[0]

    assert on(1) == Decimal("0.02")
    assert on(5) == Decimal("0.11")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2),
    due=st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2026, 3, 1)),
    days=st.integers(min_value=1, max_value=120),
)
def test_interest_grows_with_the_days_and_matches_the_rate_within_a_half_year(
    db: None, amount: Decimal, due: datetime.date, days: int
) -> None:
    entity = Entity.objects.get(schema_name="be")

    def interest(until: datetime.date) -> Decimal:
        return late_interest(
            entity=entity, amount=amount, currency="EUR", due_date=due, as_of=until
        )[0]

    as_of = due + datetime.timedelta(days=days)
    claimed = interest(as_of)
    assert claimed.as_tuple().exponent == -2
    assert interest(as_of + datetime.timedelta(days=1)) >= claimed
    start = due + datetime.timedelta(days=1)
    if (start.year, start.month <= 6) == (as_of.year, as_of.month <= 6):  # one half-year
        rate = entity.rates.filter(kind="late_interest_b2b", valid_from__lte=start).latest(
            "valid_from"
        )
        assert claimed == quantize(amount * rate.percent * days / Decimal(36500), "EUR")


def test_no_rate_for_a_half_year_is_refused(in_be: Entity) -> None:
    # The Belgian table starts in 2024 H1.
    with pytest.raises(RateNotFoundError):
        late_interest(
            entity=in_be,
            amount=Decimal("100.00"),
            currency="EUR",
            due_date=datetime.date(2023, 12, 1),
            as_of=datetime.date(2024, 1, 5),
        )


def test_france_uses_its_own_unverified_directive_rate(in_fr: Entity) -> None:
    # ECB 2.15 % + 8 = 10.15 % in 2025 H2: 1000 x 10.15 x 10 / 36,500 = 2.78082... -> 2.78.
    interest, rate = late_interest(
        entity=in_fr,
        amount=Decimal("1000.00"),
        currency="EUR",
        due_date=datetime.date(2025, 8, 1),
        as_of=datetime.date(2025, 8, 11),
    )
    assert (interest, rate) == (Decimal("2.78"), Decimal("10.15"))
    assert not in_fr.rates.get(kind="late_interest_b2b", valid_from="2025-07-01").verified


# --- reminders and the formal notice -----------------------------------------------------


def test_reminders_then_formal_notice_to_a_company(
    in_be: Entity, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    invoice = overdue_invoice(client=company())

    assert dunning_run(as_of=day(6)).as_dict()["reminders"] == 0  # too early
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = dunning_run(as_of=day(7))
    assert first.as_dict() == {"reminders": 1, "formal_notices": 0, "collections": 0, "failed": []}
    step = DunningStep.objects.get(invoice=invoice, level=1)
    assert (step.sent_on, step.days_late, step.balance_due) == (day(7), 7, Decimal("1210.00"))
    assert (step.interest, step.interest_rate, step.compensation) == (0, 0, 0)
    invoice.refresh_from_db()
    assert invoice.dunning_level == 1
    assert invoice.state == Invoice.State.ISSUED
    # The email goes once the step is committed, by its own task.
    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"step_id": step.pk}
    assert dunning_step_send_task.run(**callbacks[0].keywords) == invoice.client.email
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"Reminder: invoice {invoice.number} is overdue"
    assert "Balance due: 1210.00 EUR" in mailoutbox[0].body
    assert invoice.payment_reference in mailoutbox[0].body

    # A second run the same day adds nothing and sends nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = dunning_run(as_of=day(7))
    assert again.as_dict() == {"reminders": 0, "formal_notices": 0, "collections": 0, "failed": []}
    assert callbacks == []
    assert levels(invoice) == [1]

    assert dunning_run(as_of=day(20)).reminders == 0
    assert dunning_run(as_of=day(21)).reminders == 1
    assert dunning_run(as_of=day(34)).formal_notices == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert dunning_run(as_of=day(35)).formal_notices == 1

    notice = DunningStep.objects.get(invoice=invoice, level=3)
    # 2025-07-06: 29 days at 11.5 % + 6 days at 10.5 % on 1210.00 = 13.14 (see above).
    assert notice.sent_on == datetime.date(2025, 7, 6)
    assert notice.days_late == 35
    assert notice.interest == Decimal("13.14")
    assert notice.interest_rate == Decimal("10.5")
    assert notice.compensation == Decimal("40.00")
    assert notice.balance_due == Decimal("1210.00")
    invoice.refresh_from_db()
    assert invoice.dunning_level == 3
    assert levels(invoice) == [1, 2, 3]
    dunning_step_send_task.run(**callbacks[0].keywords)
    body = mailoutbox[-1].body
    assert mailoutbox[-1].subject == f"Formal notice: invoice {invoice.number} is unpaid"
    assert "Fixed compensation for recovery costs: 40.00 EUR" in body
    assert "(35 days, last rate 10.5 % a year): 13.14 EUR" in body
    assert "Total: 1263.14 EUR" in body  # 1210.00 + 13.14 + 40.00
    # Claimed, not earned: nothing is booked until the client pays it.
    assert balance_by_code("late_payment_income") == 0
    assert balance_by_code("receivables") == Decimal("1210.00")
    assert books_balance() == {"EUR": Decimal("0.00")}


def test_a_private_person_is_claimed_no_interest_nor_compensation(
    in_be: Entity, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    invoice = overdue_invoice(client=person())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dunning_run(as_of=day(7))
    dunning_step_send_task.run(**callbacks[0].keywords)
    dunning_run(as_of=day(21))
    dunning_run(as_of=day(35))

    notice = DunningStep.objects.get(invoice=invoice, level=3)
    assert (notice.interest, notice.interest_rate, notice.compensation) == (0, 0, 0)
    assert notice.balance_due == Decimal("1210.00")
    # Belgian CDE Book XIX: the first reminder to a consumer is free, and says so.
    assert "This reminder is free of charge." in mailoutbox[0].body


def test_a_paid_invoice_is_not_reminded_and_a_partly_paid_one_for_the_rest(
    in_be: Entity,
) -> None:
    paid = overdue_invoice()
    partly = overdue_invoice()
    advisor = UserFactory(role=Role.ADVISOR)
    services.payment_record(
        invoice=paid, amount=Decimal("1210.00"), received_on=day(3), actor=advisor
    )
    services.payment_record(
        invoice=partly, amount=Decimal("210.00"), received_on=day(3), actor=advisor
    )

    result = dunning_run(as_of=day(7))

    assert result.reminders == 1
    assert levels(paid) == []
    step = DunningStep.objects.get(invoice=partly)
    assert step.balance_due == Decimal("1000.00")


def test_a_late_run_catches_up_one_level_per_run_in_order(in_be: Entity) -> None:
    invoice = overdue_invoice(client=company())

    assert dunning_run(as_of=day(40)).reminders == 1
    assert dunning_run(as_of=day(40)).reminders == 0  # a second run the same day
    assert levels(invoice) == [1]
    assert dunning_run(as_of=day(41)).reminders == 1
    assert dunning_run(as_of=day(42)).formal_notices == 1
    assert dunning_run(as_of=day(42)).collections == 0  # not the day of the notice
    assert levels(invoice) == [1, 2, 3]
    steps = DunningStep.objects.filter(invoice=invoice).order_by("level")
    assert [(s.sent_on, s.days_late) for s in steps] == [
        (day(40), 40),
        (day(41), 41),
        (day(42), 42),
    ]
    # To 2025-07-13: 29 days at 11.5 % + 13 days at 10.5 %:
    # 1210 x 11.5 x 29 = 403,535 + 1210 x 10.5 x 13 = 165,165 -> 568,700 / 36,500
    # = 15.58082... -> 15.58.
    assert steps[2].interest == Decimal("15.58")
    # Collection waits for its own day, +50.
    assert dunning_run(as_of=day(49)).as_dict()["collections"] == 0
    assert dunning_run(as_of=day(50)).collections == 1
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.IN_COLLECTION
    assert dunning_run(as_of=day(51)).as_dict() == {
        "reminders": 0,
        "formal_notices": 0,
        "collections": 0,
        "failed": [],
    }


def test_several_invoices_oldest_first_and_a_failure_does_not_stop_the_run(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    older = overdue_invoice(client=company(), due=DUE - datetime.timedelta(days=3))
    newer = overdue_invoice(client=person())
    for offset in (7, 21):
        dunning_run(as_of=day(offset))
    # The formal notice to the company needs a rate: remove the table (a misconfigured entity).
    in_be.rates.filter(kind="late_interest_b2b").delete()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = dunning_run(as_of=day(35))

    assert result.failed == [older.pk]
    assert result.formal_notices == 1  # the private person's, which claims no interest
    assert levels(older) == [1, 2]
    assert levels(newer) == [1, 2, 3]
    assert [c.keywords["step_id"] for c in callbacks] == [
        DunningStep.objects.get(invoice=newer, level=3).pk
    ]


# --- collection and write-off ------------------------------------------------------------


def test_write_off_is_refused_before_collection_and_without_the_permission(
    in_be: Entity,
) -> None:
    invoice = overdue_invoice()
    for offset in (7, 21, 35):
        dunning_run(as_of=day(offset))
    allowed = accountant(may_write_off=True)

    with pytest.raises(DomainError) as refused:
        invoice_write_off(invoice=invoice, actor=allowed, reason="client bankrupt")
    assert refused.value.field == "invoice"

    dunning_run(as_of=day(50))
    with pytest.raises(DomainError) as refused:
        invoice_write_off(
            invoice=invoice, actor=accountant(may_write_off=False), reason="client bankrupt"
        )
    assert refused.value.code == "permission_denied"
    with pytest.raises(DomainError) as refused:
        invoice_write_off(invoice=invoice, actor=allowed, reason=" ")
    assert refused.value.field == "reason"

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.IN_COLLECTION
    assert balance_by_code("bad_debts") == 0
    assert not Transaction.objects.filter(idempotency_key=f"writeoff:{invoice.pk}").exists()


def test_write_off_books_the_loss_once_and_tells_the_guarantee_fund_once(
    in_be: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    invoice = in_collection(overdue_invoice(client=company()))
    actor = accountant(may_write_off=True)
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append({k: v for k, v in kwargs.items() if k != "signal"})

    signals.invoice_written_off.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            written_off = invoice_write_off(invoice=invoice, actor=actor, reason="client bankrupt")
        with django_capture_on_commit_callbacks(execute=True):
            again = invoice_write_off(invoice=invoice, actor=actor, reason="client bankrupt")
    finally:
        signals.invoice_written_off.disconnect(receiver)

    assert written_off.state == again.state == Invoice.State.WRITTEN_OFF
    assert received == [{"invoice_id": invoice.pk, "amount": Decimal("1210.00"), "schema": "be"}]
    # The whole balance, VAT included, goes to bad debts: the receivable is closed.
    assert balance_by_code("bad_debts") == Decimal("1210.00")
    assert balance_by_code("receivables") == 0
    assert balance_by_code("bad_debts", reference=f"invoice:{invoice.pk}") == Decimal("1210.00")
    posted = Transaction.objects.get(idempotency_key=f"writeoff:{invoice.pk}")
    assert posted.created_by == actor
    assert Transaction.objects.filter(kind="write_off").count() == 1
    assert books_balance() == {"EUR": Decimal("0.00")}
    # Written off: no more reminders.
    assert dunning_run(as_of=day(60)).as_dict()["collections"] == 0


def test_a_partial_payment_in_collection_leaves_the_rest_to_write_off(in_be: Entity) -> None:
    invoice = in_collection(overdue_invoice())
    services.payment_record(
        invoice=invoice,
        amount=Decimal("210.00"),
        received_on=day(55),
        actor=UserFactory(role=Role.ADVISOR),
    )
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID

    invoice_write_off(invoice=invoice, actor=accountant(may_write_off=True), reason="settled")

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.WRITTEN_OFF
    assert balance_by_code("bad_debts") == Decimal("1000.00")
    assert balance_by_code("receivables") == 0
    assert books_balance() == {"EUR": Decimal("0.00")}


def test_a_partly_paid_invoice_goes_back_to_collection_on_the_next_run(in_be: Entity) -> None:
    invoice = in_collection(overdue_invoice())
    services.payment_record(
        invoice=invoice,
        amount=Decimal("10.00"),
        received_on=day(55),
        actor=UserFactory(role=Role.ADVISOR),
    )

    assert dunning_run(as_of=day(56)).collections == 1

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.IN_COLLECTION
    assert levels(invoice) == [1, 2, 3]


# --- entities, task, command ---------------------------------------------------------------


def test_dunning_in_be_does_not_touch_fr(be: Entity, fr: Entity) -> None:
    with schema_context("fr"):
        in_fr = overdue_invoice()
    with schema_context("be"):
        in_be = overdue_invoice()
        assert dunning_run(as_of=day(7)).reminders == 1
        assert levels(in_be) == [1]

    with schema_context("fr"):
        in_fr.refresh_from_db()
        assert in_fr.dunning_level == 0
        assert not DunningStep.objects.exists()
        # The same day in fr reminds fr's invoice, at fr's own figures (20 % VAT).
        assert dunning_run(as_of=day(7)).reminders == 1
        assert DunningStep.objects.get().balance_due == Decimal("1200.00")


def test_an_entity_sets_its_own_days(in_be: Entity) -> None:
    Entity.objects.filter(pk=in_be.pk).update(dunning_days=[10, 20, 30], collection_days=40)
    invoice = overdue_invoice()

    assert dunning_run(as_of=day(7)).reminders == 0
    assert dunning_run(as_of=day(10)).reminders == 1
    assert levels(invoice) == [1]


def test_the_task_runs_for_the_day_given(in_be: Entity) -> None:
    overdue_invoice()

    assert dunning_run_task.run(as_of=day(7).isoformat()) == {
        "reminders": 1,
        "formal_notices": 0,
        "collections": 0,
        "failed": [],
    }


def test_the_task_defaults_to_the_entitys_today(in_be: Entity) -> None:
    # Issued long ago (the rates begin in 2025): today is well past every step's day.
    invoice = overdue_invoice()

    assert dunning_run_task.run()["reminders"] == 1
    step = DunningStep.objects.get(invoice=invoice)
    assert step.sent_on == member_services.entity_today(in_be)


def test_the_command_runs_one_entity(be: Entity, capsys: pytest.CaptureFixture[str]) -> None:
    with schema_context("be"):
        invoice = overdue_invoice()

    call_command("run_dunning", "--entity", "be", "--as-of", day(7).isoformat())

    assert "reminders: 1" in capsys.readouterr().out
    with schema_context("be"):
        assert levels(invoice) == [1]


def test_beat_runs_the_dunning_of_every_entity_every_morning() -> None:
    entry = app.conf.beat_schedule["dunning-every-entity"]
    assert entry["task"] == "tenancy.entities_dispatch"
    assert entry["kwargs"] == {"task_name": "invoicing.dunning_run"}
    assert entry["schedule"] == crontab(hour="6", minute="5")
