"""fund_stress: a big client's default, or N members' advances lost, simulated on the fund's
real position; the books, the payouts and every other row are left exactly as they were."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import InternalError

from guarantee_fund.management.commands import fund_stress
from guarantee_fund.models import CoverageSnapshot, FundPolicy, Payout
from guarantee_fund.services import payouts_run
from invoicing.models import Invoice
from members.models import Client
from smart_coop.ledger.selectors import trial_balance
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, MemberFactory
from tests.guarantee_fund.conftest import payout_of


def stress(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("fund_stress", "--entity", "be", *args, stdout=out)
    return out.getvalue().splitlines()


def state() -> dict[str, object]:
    """Every row count of the entity's schema (and the public one), the trial balance, the
    payouts' states and the clients' statuses."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
    }
    return {
        "counts": counts,
        "books": [(row.code, row.debit, row.credit) for row in trial_balance()],
        "payouts": sorted(Payout.objects.values_list("pk", "state", "advance")),
        "clients": sorted(Client.objects.values_list("pk", "status")),
        "policy": list(FundPolicy.objects.values_list("pk", "floor_alerted_on")),
    }


@pytest.fixture
def big_client(in_be: Entity, fund_invoice: Callable[..., Invoice]) -> Client:
    """Four invoices of 1,000.00 (contributions 4 x 20.00): the big client's two paid (two
    members) and one still scheduled, another client's one paid."""
    big, small = ClientFactory(name="Platform SA"), ClientFactory(name="Bakery")
    invoices = [
        fund_invoice(client=big, member=MemberFactory()),
        fund_invoice(client=big, member=MemberFactory()),
        fund_invoice(client=small),
    ]
    for invoice in invoices:
        payouts_run(as_of=payout_of(invoice).due_on)
    assert {payout_of(invoice).state for invoice in invoices} == {Payout.State.PAID}
    assert payout_of(fund_invoice(client=big)).state == Payout.State.SCHEDULED
    return big


def test_a_big_clients_default_before_and_after(big_client: Client) -> None:
    before = state()

    lines = stress("--client", str(big_client.pk))

    assert state() == before
    assert lines[0].startswith("Guarantee fund stress test: be ")
    assert lines[0].endswith("Nothing is written.")
    assert lines[1] == (
        f"Scenario: client {big_client.pk} 'Platform SA' defaults: its open advances are lost."
    )
    table = {line[:20].strip(): line[20:].split() for line in lines[3:9]}
    assert table == {
        "reserve": ["80.00", "-1,920.00"],
        "open advances": ["3,000.00", "1,000.00"],
        "of which overdue": ["0.00", "0.00"],
        "losses": ["0.00", "2,000.00"],
        "coverage": ["2.67", "%", "-192.00", "%"],
        "floor 20.00 %": ["BREACHED", "BREACHED"],
    }
    assert lines[9] == (
        "Members affected: 2 (2 contracts); they keep their salaries: the fund bears the loss."
    )
    assert lines[10] == "The reserve would be negative by 1,920.00 EUR: more than the fund holds."
    assert lines[11] == (
        "Still to advance for this client's contracts already invoiced: 1 payout, 1,000.00 EUR."
    )


def test_n_members_advances_lost(big_client: Client) -> None:
    before = state()

    lines = stress("--members", "400", "--amount", "875")

    assert state() == before
    assert lines[1] == (
        "Scenario: 400 members were each advanced 875.00 EUR for a client that never pays."
    )
    table = {line[:20].strip(): line[20:].split() for line in lines[3:9]}
    assert table["reserve"] == ["80.00", "-349,920.00"]
    assert table["open advances"] == ["3,000.00", "3,000.00"]
    assert table["losses"] == ["0.00", "350,000.00"]
    assert table["coverage"] == ["2.67", "%", "-11664.00", "%"]
    assert lines[9].startswith("Members affected: 400 (400 contracts)")


def test_a_small_loss_that_the_reserve_bears(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    fund_invoice()  # 20.00 contributed, nothing advanced yet

    lines = stress("--members", "1", "--amount", "5")

    table = {line[:20].strip(): line[20:].split() for line in lines[3:9]}
    assert table["reserve"] == ["20.00", "15.00"]
    assert table["coverage"] == ["n/a", "(nothing", "advanced)"] * 2
    assert table["floor 20.00 %"] == ["held", "held"]
    assert not any("negative" in line for line in lines)


def test_the_database_refuses_any_write_in_the_simulation(
    big_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def writes(**kwargs: object) -> None:
        CoverageSnapshot.objects.create(
            day="2026-01-01", contributions=0, losses=0, reserve=0, open_advances=0,
            overdue_advances=0, currency="EUR",
        )  # fmt: skip

    monkeypatch.setattr(fund_stress, "members_default", writes)

    with pytest.raises(InternalError, match="read-only transaction"):
        stress("--members", "1", "--amount", "1")


def test_wrong_arguments_are_refused(big_client: Client) -> None:
    refusals = {
        (): "give either --client ID, or --members N and --amount X",
        ("--client", str(big_client.pk), "--members", "2"): "give either",
        ("--members", "2"): "--members and --amount go together",
        ("--members", "0", "--amount", "1"): "--members must be at least 1",
        ("--members", "2", "--amount", "lots"): "--amount: not an amount",
        ("--members", "2", "--amount", "-5"): "--amount must be more than zero",
        ("--members", "2", "--amount", "0.004"): "--amount must be more than zero",
        ("--client", "999999"): "no client 999999 in be",
    }
    for args, message in refusals.items():
        with pytest.raises(CommandError, match=message):
            stress(*args)
    with pytest.raises(CommandError, match="no entity 'xx'"):
        call_command("fund_stress", "--entity", "xx", "--client", "1")
