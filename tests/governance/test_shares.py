"""The share register: purchases paid by transfer and booked, redemptions in the window."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from stdnum.be import ogm_vcs

from governance import services
from governance.models import ShareClass, ShareMovement, ShareOrder, Statutes
from invoicing.references import reference_is_valid
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Entry, Transaction
from smart_coop.tenancy.models import Entity
from tests.governance.helpers import share_class, shareholder


def test_default_classes_take_the_entity_share_value(in_be: Entity) -> None:
    classes = services.share_classes_default_create()

    assert [(c.code, c.nominal_value, c.currency) for c in classes] == [
        ("A", Decimal("30.00"), "EUR"),
        ("B", Decimal("30.00"), "EUR"),
        ("C", Decimal("30.00"), "EUR"),
        ("D", Decimal("30.00"), "EUR"),
    ]


def test_a_purchase_waits_for_its_transfer_then_is_registered_and_booked(in_be: Entity) -> None:
    holder = shareholder(shares=0)
    order = services.share_order_place(
        shareholder=holder, share_class=share_class("A"), quantity=3, actor=None
    )

    assert order.state == ShareOrder.State.PENDING
    assert order.amount == Decimal("90.00")
    assert ogm_vcs.is_valid(order.payment_reference.strip("+"))
    assert order.payment_reference.strip("+").replace("/", "")[2] == "5"  # not an invoice's
    assert not ShareMovement.objects.filter(shareholder=holder).exists()
    assert not Transaction.objects.filter(idempotency_key=f"share_order:{order.pk}").exists()

    paid = services.share_order_pay(order=order, paid_on=datetime.date(2026, 3, 2), actor=None)
    again = services.share_order_pay(order=order, paid_on=datetime.date(2026, 3, 9), actor=None)

    assert paid.state == again.state == ShareOrder.State.PAID
    assert again.paid_on == datetime.date(2026, 3, 2)
    movement = ShareMovement.objects.get(shareholder=holder)
    assert (movement.kind, movement.quantity, movement.amount, movement.occurred_on) == (
        "purchase", 3, Decimal("90.00"), datetime.date(2026, 3, 2),
    )  # fmt: skip
    booked = Transaction.objects.get(idempotency_key=f"share_order:{order.pk}")
    legs = sorted((e.account.code, e.amount) for e in booked.entries.select_related("account"))
    assert legs == [("bank", Decimal("90.00")), ("share_capital", Decimal("-90.00"))]
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == Decimal(0)


def test_french_purchases_use_an_iso_creditor_reference(in_fr: Entity) -> None:
    holder = shareholder(shares=0)
    order = services.share_order_place(
        shareholder=holder, share_class=share_class("A"), quantity=1, actor=None
    )

    assert order.payment_reference.startswith("RF")
    assert reference_is_valid(order.payment_reference)


def test_a_cancelled_purchase_cannot_be_paid(in_be: Entity) -> None:
    order = services.share_order_place(
        shareholder=shareholder(shares=0), share_class=share_class(), quantity=1, actor=None
    )
    services.share_order_cancel(order=order, actor=None)

    with pytest.raises(DomainError) as refused:
        services.share_order_pay(order=order, paid_on=datetime.date(2026, 3, 2), actor=None)

    assert refused.value.code == "illegal_transition"
    assert not ShareMovement.objects.filter(order=order).exists()


@pytest.mark.parametrize("quantity", [0, -2, 10_001])
def test_a_purchase_needs_a_sensible_quantity(in_be: Entity, quantity: int) -> None:
    with pytest.raises(DomainError) as refused:
        services.share_order_place(
            shareholder=shareholder(shares=0), share_class=share_class(), quantity=quantity,
            actor=None,
        )  # fmt: skip

    assert refused.value.field == "quantity"
    assert not ShareOrder.objects.exists()


def test_a_class_off_sale_cannot_be_bought(in_be: Entity) -> None:
    closed = share_class("D")
    ShareClass.objects.filter(pk=closed.pk).update(on_sale=False)
    closed.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        services.share_order_place(
            shareholder=shareholder(shares=0), share_class=closed, quantity=1, actor=None
        )
    assert refused.value.field == "share_class"


def test_redemption_inside_the_first_six_months_is_registered_and_booked(in_be: Entity) -> None:
    holder = shareholder(shares=4, on=datetime.date(2025, 5, 1))

    movement = services.shares_redeem(
        shareholder=holder, share_class=share_class(), quantity=3, on=datetime.date(2026, 6, 30),
        actor=None,
    )  # fmt: skip

    assert (movement.quantity, movement.amount) == (-3, Decimal("90.00"))
    assert services.holding_on(shareholder=holder, on=datetime.date(2026, 6, 30)) == 1
    booked = Transaction.objects.get(idempotency_key=f"share_redemption:{movement.pk}")
    legs = sorted((e.account.code, e.amount) for e in booked.entries.select_related("account"))
    assert legs == [("bank", Decimal("-90.00")), ("share_capital", Decimal("90.00"))]


def test_redemption_outside_the_statutes_window_is_refused(in_be: Entity) -> None:
    holder = shareholder(shares=4, on=datetime.date(2025, 5, 1))

    with pytest.raises(DomainError) as refused:
        services.shares_redeem(
            shareholder=holder, share_class=share_class(), quantity=1,
            on=datetime.date(2026, 7, 1), actor=None,
        )  # fmt: skip

    assert refused.value.code == "outside_window"
    assert "2026-01-01" in refused.value.message
    assert "2026-06-30" in refused.value.message
    assert not ShareMovement.objects.filter(kind="redemption").exists()


def test_the_window_follows_the_statutes_financial_year(in_be: Entity) -> None:
    statutes = services.statutes_get()
    Statutes.objects.filter(pk=statutes.pk).update(
        financial_year_start_month=7, redemption_window_months=3
    )
    statutes.refresh_from_db()

    assert services.redemption_window(statutes=statutes, on=datetime.date(2026, 2, 10)) == (
        datetime.date(2025, 7, 1), datetime.date(2025, 9, 30),
    )  # fmt: skip
    assert services.redemption_window(statutes=statutes, on=datetime.date(2026, 8, 10)) == (
        datetime.date(2026, 7, 1), datetime.date(2026, 9, 30),
    )  # fmt: skip


def test_no_one_redeems_more_than_they_hold(in_be: Entity) -> None:
    holder = shareholder(shares=2, on=datetime.date(2025, 5, 1))

    with pytest.raises(DomainError) as refused:
        services.shares_redeem(
            shareholder=holder, share_class=share_class(), quantity=3,
            on=datetime.date(2026, 2, 1), actor=None,
        )  # fmt: skip

    assert refused.value.code == "above_holding"
    assert services.holding_on(shareholder=holder, on=datetime.date(2026, 2, 1)) == 2


def test_the_register_is_append_only(in_be: Entity) -> None:
    holder = shareholder(shares=1)

    with pytest.raises(PermissionError):
        ShareMovement.objects.get(shareholder=holder).delete()


def test_a_legal_person_needs_its_enterprise_number(in_be: Entity) -> None:
    with pytest.raises(DomainError) as refused:
        services.shareholder_register(
            data=services.ShareholderInput(
                name="Théâtre asbl", street="Rue 1", postal_code="1000", city="Bruxelles",
                country="BE", kind="legal",
            ),
            user=None, actor=None,
        )  # fmt: skip

    assert refused.value.field == "company_number"


def test_registers_of_two_entities_stay_apart(in_be: Entity) -> None:
    from django_tenants.utils import schema_context

    shareholder(shares=2)
    with schema_context("fr"):
        assert not ShareMovement.objects.exists()
        shareholder(shares=1)
        assert ShareMovement.objects.count() == 1
    assert ShareMovement.objects.count() == 1


def test_the_payment_command_finds_the_purchase_by_its_reference(
    in_be: Entity, tmp_path: Path
) -> None:
    order = services.share_order_place(
        shareholder=shareholder(shares=0), share_class=share_class(), quantity=2, actor=None
    )
    spaced = order.payment_reference.replace("/", " ")
    out = io.StringIO()

    call_command("record_share_payment", "--entity", "be", "--reference", spaced,
                 "--paid-on", "2026-04-02", stdout=out)  # fmt: skip
    call_command("record_share_payment", "--entity", "be", "--reference", spaced,
                 "--paid-on", "2026-04-09", stdout=out)  # fmt: skip
    call_command("export_share_register", "--entity", "be", "--output",
                 str(tmp_path / "register.csv"), stdout=out)  # fmt: skip

    order.refresh_from_db()
    assert (order.state, order.paid_on) == ("paid", datetime.date(2026, 4, 2))
    assert ShareMovement.objects.filter(order=order).count() == 1
    assert "2026-04-02" in (tmp_path / "register.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError):
        call_command(
            "record_share_payment", "--entity", "be", "--reference", "+++000/0000/00097+++"
        )


def test_a_transfer_moves_shares_between_holders_without_booking(in_be: Entity) -> None:
    giver = shareholder(shares=5, on=datetime.date(2025, 5, 1))
    taker = shareholder(shares=1, on=datetime.date(2025, 5, 1))
    outsider = shareholder(shares=0)
    booked_before = Transaction.objects.count()

    given, received = services.shares_transfer(
        transferor=giver, transferee=taker, share_class=share_class(), quantity=2,
        on=datetime.date(2026, 9, 1), actor=None, note="Deed signed by both",
    )  # fmt: skip

    assert (given.quantity, given.counterparty, received.quantity, received.counterparty) == (
        -2, taker, 2, giver,
    )  # fmt: skip
    day = datetime.date(2026, 9, 1)
    assert services.holding_on(shareholder=giver, on=day) == 3
    assert services.holding_on(shareholder=taker, on=day) == 3
    assert Transaction.objects.count() == booked_before  # the capital does not change
    for refused_to, quantity, field in ((outsider, 1, "transferee"), (taker, 4, "quantity"),
                                        (giver, 1, "transferee")):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            services.shares_transfer(
                transferor=giver, transferee=refused_to, share_class=share_class(),
                quantity=quantity, on=day, actor=None,
            )  # fmt: skip
        assert refused.value.field == field
    assert ShareMovement.objects.filter(kind__startswith="transfer").count() == 2


def test_statutes_may_allow_transfers_to_newcomers(in_be: Entity) -> None:
    Statutes.objects.update_or_create(pk=1, defaults={"transfers_to_shareholders_only": False})
    giver, newcomer = shareholder(shares=2), shareholder(shares=0)
    out = io.StringIO()

    call_command("transfer_shares", "--entity", "be", "--from", str(giver.pk), "--to",
                 str(newcomer.pk), "--class", "a", "--quantity", "1", stdout=out)  # fmt: skip

    assert services.holding_on(shareholder=newcomer, on=datetime.date.max) == 1
    assert "transferred" in out.getvalue()
