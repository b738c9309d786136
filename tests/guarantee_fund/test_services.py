"""guarantee_fund.services: contributions, eligibility, the payout job, approvals, repayment,
default; everything built through the invoicing and payroll services."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_tenants.utils import schema_context

from guarantee_fund.calendar import entity_today, payout_due_on
from guarantee_fund.models import FundPolicy, Payout, PayoutBatch
from guarantee_fund.selectors import (
    client_open_advances,
    fund_position,
    invoice_open_advance,
    open_advances_by_client,
    payouts_of,
)
from guarantee_fund.services import payout_approve, payouts_run
from invoicing import services as invoicing
from invoicing.dunning import dunning_run, invoice_write_off
from invoicing.models import Invoice
from members import services as member_services
from members.models import Attachment, Client, Contract
from payroll.models import PayrollParameters
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Transaction
from smart_coop.ledger.selectors import balance_by_code
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, ContractFactory, MemberFactory, UserFactory
from tests.guarantee_fund.conftest import accountant, books_balanced, entries, payout_of

ONE_DAY = datetime.timedelta(days=1)


def pay_due(invoice: Invoice) -> Payout:
    """Run the job on the payout's due day; return the payout."""
    payouts_run(as_of=payout_of(invoice).due_on)
    return payout_of(invoice)


# --- contributions -------------------------------------------------------------------------


def test_an_issued_invoice_books_its_contribution_in_the_fee_and_schedules_its_payout(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    ref = f"fund_contribution:invoice:{invoice.pk}"

    # Belgium: 2 % of 1,000.00 excl. VAT, inside the 6.5 % fee.
    assert entries(f"fund_contribution:{invoice.pk}") == {
        ("fee_income", ref): Decimal("20.00"),
        ("fund_reserve", ref): Decimal("-20.00"),
    }
    payout = payout_of(invoice)
    contract = invoice.contract
    assert contract is not None
    assert (payout.state, payout.guaranteed, payout.not_guaranteed_reason) == (
        Payout.State.SCHEDULED,
        True,
        "",
    )
    assert payout.due_on == payout_due_on(entity=in_be, last_day=contract.last_day)
    assert (payout.advance, payout.currency, payout.member_id, payout.client_id) == (
        Decimal("1000.00"),
        "EUR",
        invoice.member_id,
        invoice.client_id,
    )
    position = fund_position()
    assert (position.contributions, position.reserve, position.open_advances) == (
        Decimal("20.00"),
        Decimal("20.00"),
        Decimal("0"),
    )
    assert position.coverage is None


def test_the_batch_path_books_every_contribution_and_payout(
    in_be: Entity, inv_approved_contract: Callable[..., Contract]
) -> None:
    contracts = [inv_approved_contract(price=Decimal(p)) for p in ("1000.00", "500.00")]
    issued = invoicing.invoices_issue_batch(
        contract_ids=[c.pk for c in contracts],
        issue_date=max(c.last_day for c in contracts) + ONE_DAY,
    )

    assert sorted(-entries(f"fund_contribution:{i.pk}")[
                      ("fund_reserve", f"fund_contribution:invoice:{i.pk}")]
                  for i in issued) == [Decimal("10.00"), Decimal("20.00")]  # fmt: skip
    assert Payout.objects.filter(invoice__in=issued, state=Payout.State.SCHEDULED).count() == 2
    assert fund_position().contributions == Decimal("30.00")


def test_a_contribution_on_top_of_the_fee_comes_from_the_members_budget(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    PayrollParameters.objects.update(guarantee_on_top=True)

    invoice = fund_invoice()

    ref = f"fund_contribution:invoice:{invoice.pk}"
    assert entries(f"fund_contribution:{invoice.pk}") == {
        (f"budget:{invoice.member_id}", ref): Decimal("20.00"),
        ("fund_reserve", ref): Decimal("-20.00"),
    }


def test_credit_notes_take_back_their_share_of_the_contribution_to_the_cent(
    in_be: Entity, fund_invoice: Callable[..., Invoice], inv_advisor: Callable[[], User]
) -> None:
    invoice = fund_invoice(price=Decimal("999.99"))  # 2 % = 20.00 (19.9998)
    first = invoicing.credit_note_issue(
        invoice=invoice, actor=inv_advisor(), reason="partly", net_amount=Decimal("333.33")
    )
    second = invoicing.credit_note_issue(
        invoice=invoice, actor=inv_advisor(), reason="the rest", net_amount=Decimal("666.66")
    )

    ref = f"fund_contribution:invoice:{invoice.pk}"
    assert entries(f"fund_contribution:{first.pk}") == {
        ("fund_reserve", ref): Decimal("6.67"),
        ("fee_income", ref): Decimal("-6.67"),
    }
    assert entries(f"fund_contribution:{second.pk}")[("fund_reserve", ref)] == Decimal("13.33")
    assert fund_position().contributions == 0
    assert books_balanced()


# --- eligibility ---------------------------------------------------------------------------


def test_work_approved_after_it_started_is_not_guaranteed_and_the_member_reads_why(
    in_be: Entity, inv_advisor: Callable[[], User]
) -> None:
    started = entity_today(in_be) - ONE_DAY
    member = MemberFactory(user=UserFactory(language="en"))
    contract = ContractFactory(first_day=started, member=member)
    member_services.contract_submit(contract=contract, actor=inv_advisor(), late_reason="phone")
    contract = member_services.contract_approve(
        contract=contract, actor=inv_advisor(), late_reason="declared by phone"
    )
    invoice = invoicing.invoice_issue(contract=contract, actor=inv_advisor())

    payout = payout_of(invoice)
    assert (payout.state, payout.guaranteed, payout.advance) == (
        Payout.State.NOT_GUARANTEED,
        False,
        Decimal("0"),
    )
    assert payout.not_guaranteed_reason == (
        f"The contract was approved on or after its first work day ({started.isoformat()}): "
        "the fund guarantees only work approved before it starts. "
        "Your salary is paid once the client has paid the invoice."
    )
    assert list(payouts_of(member=contract.member)) == [payout]
    # A member reading French reads it in French.
    member_fr = MemberFactory(user=UserFactory(language="fr"))
    contract = ContractFactory(first_day=started, member=member_fr)
    member_services.contract_submit(contract=contract, actor=inv_advisor(), late_reason="phone")
    contract = member_services.contract_approve(
        contract=contract, actor=inv_advisor(), late_reason="declared by phone"
    )
    invoice_fr = invoicing.invoice_issue(contract=contract, actor=inv_advisor())
    assert payout_of(invoice_fr).not_guaranteed_reason.startswith(
        f"Le contrat a été approuvé le jour de son premier jour de travail ({started.isoformat()})"
    )
    # Never paid by the fund, however late the job runs.
    assert payouts_run(as_of=payout.due_on + datetime.timedelta(days=30)).paid == []
    assert payout_of(invoice).state == Payout.State.NOT_GUARANTEED


def test_a_blocked_client_and_the_entitys_own_rules_are_each_a_reason(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    policy = FundPolicy.current()
    policy.require_eu_client = True
    policy.require_confirmed_order = True
    policy.save()
    client = ClientFactory(country="US", name="Acme Inc")
    contract = inv_approved_contract(
        client=client, member=MemberFactory(user=UserFactory(language="en"))
    )
    member_services.client_status_set(
        client=client, status=Client.Status.BLOCKED, actor=inv_advisor(), reason="unpaid"
    )
    invoice = invoicing.invoice_issue(
        contract=contract, actor=inv_advisor(), issue_date=contract.last_day + ONE_DAY
    )

    reason = payout_of(invoice).not_guaranteed_reason
    assert "The client Acme Inc is blocked by the cooperative." in reason
    assert "The client Acme Inc is not established in the European Union." in reason
    assert "The contract has no order signed by the client" in reason
    assert "approved on or after" not in reason


def test_a_signed_order_satisfies_the_confirmed_order_rule(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    FundPolicy.objects.update_or_create(pk=1, defaults={"require_confirmed_order": True})
    contract = inv_approved_contract()
    Attachment.objects.create(
        contract=contract,
        kind=Attachment.Kind.SIGNED_ORDER,
        file=SimpleUploadedFile("order.pdf", b"%PDF-1.4 signed"),
    )
    invoice = invoicing.invoice_issue(
        contract=contract, actor=inv_advisor(), issue_date=contract.last_day + ONE_DAY
    )

    assert payout_of(invoice).guaranteed is True


# --- the payout job ------------------------------------------------------------------------


def test_nothing_is_paid_before_the_due_day_and_everything_on_it(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    due_on = payout_of(invoice).due_on

    assert payouts_run(as_of=due_on - ONE_DAY).paid == []
    assert payout_of(invoice).state == Payout.State.SCHEDULED
    assert not Transaction.objects.filter(kind="fund_payout").exists()

    result = payouts_run(as_of=due_on)

    payout = payout_of(invoice)
    assert result.paid == [payout.contract_id]
    assert payout.state == Payout.State.PAID
    payslip = payout.payslip
    assert payslip is not None
    assert (payslip.invoice_id, payslip.paid_out) == (invoice.pk, True)
    assert payout.paid_amount == payslip.net + payslip.expenses
    assert payout.advance == Decimal("1000.00")  # the client has paid nothing yet
    ref = f"invoice:{invoice.pk}"
    expected = {
        (f"budget:{invoice.member_id}", ref): payslip.gross
        + payslip.employer_contributions
        + payslip.budget_remainder,
        ("social_payable", ref): -(payslip.employee_contributions + payslip.employer_contributions),
        ("withholding_payable", ref): -payslip.withholding,
        ("budget_remainders", ref): -payslip.budget_remainder,
        ("bank", ref): -payslip.net,
        ("fund_advances", ref): Decimal("1000.00"),
        ("fund_guarantees_given", ref): Decimal("-1000.00"),
    }
    # Zero legs are not written.
    assert entries(f"payout:{payout.contract_id}") == {k: v for k, v in expected.items() if v}
    assert payslip.net > 0
    # The member's budget is spent to the cent: what the invoice put in, the payout took.
    assert balance_by_code(f"budget:{invoice.member_id}") == 0
    assert invoice_open_advance(invoice_id=invoice.pk) == Decimal("1000.00")
    assert client_open_advances(client=invoice.client) == Decimal("1000.00")
    batch = PayoutBatch.objects.get(execution_date=due_on)
    assert (batch.transfers, batch.file_transfers, batch.total) == (1, 1, payout.paid_amount)
    assert payout.batch == batch
    content = batch.file.read().decode()
    assert f"<EndToEndId>PAYOUT-{payout.contract_id}</EndToEndId>" in content
    assert f'<InstdAmt Ccy="EUR">{payout.paid_amount}</InstdAmt>' in content
    assert batch.file.name.startswith("payouts/")
    assert books_balanced()


def test_a_second_run_pays_nothing_again(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    first = pay_due(invoice)

    again = payouts_run(as_of=first.due_on + ONE_DAY)

    assert again.paid == []
    assert Transaction.objects.filter(idempotency_key=f"payout:{first.contract_id}").count() == 1
    assert payout_of(invoice).paid_at == first.paid_at


def test_a_late_run_catches_up_oldest_first(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    today = entity_today(in_be)
    later = fund_invoice(first_day=today + datetime.timedelta(days=20))
    earlier = fund_invoice(first_day=today + datetime.timedelta(days=10))

    result = payouts_run(as_of=payout_of(later).due_on + datetime.timedelta(days=15))

    assert result.paid == [earlier.contract_id, later.contract_id]
    assert {p.state for p in Payout.objects.all()} == {Payout.State.PAID}


def test_the_command_runs_the_job_of_one_entity(
    in_be: Entity, fund_invoice: Callable[..., Invoice], capsys: Any
) -> None:
    invoice = fund_invoice()
    due_on = payout_of(invoice).due_on

    call_command("run_payouts", entity="be", as_of=due_on.isoformat())

    assert "be: paid 1," in capsys.readouterr().out
    assert payout_of(invoice).state == Payout.State.PAID


def test_entities_do_not_see_each_others_payouts(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    due_on = payout_of(invoice).due_on

    with schema_context("fr"):
        assert payouts_run(as_of=due_on).paid == []
        assert not Payout.objects.exists()
        assert fund_position().contributions == 0
    assert payout_of(invoice).state == Payout.State.SCHEDULED


# --- exposure and approval -----------------------------------------------------------------


def test_above_the_clients_limit_an_advance_waits_for_an_advisor_then_is_paid(
    in_be: Entity, fund_invoice: Callable[..., Invoice], django_capture_on_commit_callbacks: Any
) -> None:
    FundPolicy.objects.update_or_create(
        pk=1, defaults={"client_exposure_limit": Decimal("1500.00")}
    )
    client = ClientFactory()
    first = fund_invoice(client=client)
    second = fund_invoice(client=client)
    due_on = max(payout_of(first).due_on, payout_of(second).due_on)

    result = payouts_run(as_of=due_on)

    assert result.paid == [payout_of(first).contract_id]
    waiting = payout_of(second)
    assert waiting.state == Payout.State.AWAITING_APPROVAL
    assert open_advances_by_client() == [(client, Decimal("1000.00"), Decimal("0"))]
    # A member may not approve; nothing changes.
    with pytest.raises(DomainError) as refused:
        payout_approve(payout=waiting, actor=UserFactory(role=Role.MEMBER))
    assert refused.value.code == "permission_denied"
    assert payout_of(second).state == Payout.State.AWAITING_APPROVAL
    # Still waiting, run after run: queued, never lost.
    assert payouts_run(as_of=due_on).paid == []

    advisor = UserFactory(role=Role.ADVISOR)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        approved = payout_approve(payout=waiting, actor=advisor)
    assert (approved.state, approved.approved_by) == (Payout.State.SCHEDULED, advisor)
    # Not due yet by the clock (the work is in the future): the hourly job pays it on its day.
    assert enqueued == []
    assert payout_approve(payout=approved, actor=advisor).state == Payout.State.SCHEDULED

    assert payouts_run(as_of=due_on).paid == [approved.contract_id]
    assert client_open_advances(client=client) == Decimal("2000.00")


# --- repayment and default -----------------------------------------------------------------


def test_client_payments_repay_the_advance_partially_then_fully(
    in_be: Entity, fund_invoice: Callable[..., Invoice], django_capture_on_commit_callbacks: Any
) -> None:
    invoice = fund_invoice()
    payout = pay_due(invoice)

    with django_capture_on_commit_callbacks(execute=True):
        invoicing.payment_record(
            invoice=invoice, amount=Decimal("605.00"), received_on=payout.due_on, actor=None
        )
    assert invoice_open_advance(invoice_id=invoice.pk) == Decimal("500.00")
    ref = f"invoice:{invoice.pk}"
    assert entries(f"fund_repayment:{invoice.pk}:1") == {
        ("fund_guarantees_given", ref): Decimal("500.00"),
        ("fund_advances", ref): Decimal("-500.00"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.payment_record(
            invoice=invoice, amount=Decimal("605.00"), received_on=payout.due_on, actor=None
        )

    assert invoice_open_advance(invoice_id=invoice.pk) == 0
    assert fund_position().open_advances == 0
    assert balance_by_code("fund_guarantees_given") == 0
    assert books_balanced()


def test_a_repayment_lost_after_the_payment_commit_is_caught_up_by_the_job(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    payout = pay_due(invoice)
    # The receiver never runs (the on-commit callbacks of this test are not executed).
    invoicing.payment_record(
        invoice=invoice, amount=Decimal("1210.00"), received_on=payout.due_on, actor=None
    )
    assert invoice_open_advance(invoice_id=invoice.pk) == Decimal("1000.00")

    result = payouts_run(as_of=payout.due_on)

    assert result.reconciled == [invoice.pk]
    assert invoice_open_advance(invoice_id=invoice.pk) == 0
    assert payouts_run(as_of=payout.due_on).reconciled == []


def test_a_payment_before_the_payout_leaves_less_to_advance(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    invoicing.payment_record(
        invoice=invoice, amount=Decimal("1210.00"), received_on=invoice.issue_date, actor=None
    )

    payout = pay_due(invoice)

    assert (payout.state, payout.advance) == (Payout.State.PAID, Decimal("0"))
    assert fund_position().open_advances == 0


def test_a_fully_credited_invoice_is_not_paid_out(
    in_be: Entity, fund_invoice: Callable[..., Invoice], inv_advisor: Callable[[], User]
) -> None:
    invoice = fund_invoice()
    invoicing.credit_note_issue(invoice=invoice, actor=inv_advisor(), reason="cancelled")

    result = payouts_run(as_of=payout_of(invoice).due_on)

    assert result.cancelled == [payout_of(invoice).contract_id]
    assert payout_of(invoice).state == Payout.State.CANCELLED
    assert not Transaction.objects.filter(kind="fund_payout").exists()


def test_a_default_charges_the_open_advance_to_losses_and_blocks_the_client(
    in_be: Entity, fund_invoice: Callable[..., Invoice], django_capture_on_commit_callbacks: Any
) -> None:
    invoice = fund_invoice(client=ClientFactory(language="en"))
    payout = pay_due(invoice)
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.payment_record(
            invoice=invoice, amount=Decimal("242.00"), received_on=payout.due_on, actor=None
        )
    assert invoice.due_date is not None
    for offset in (7, 21, 35, 50):
        dunning_run(as_of=invoice.due_date + datetime.timedelta(days=offset))
    invoice.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        invoice_write_off(invoice=invoice, actor=accountant(), reason="client bankrupt")

    ref = f"invoice:{invoice.pk}"
    assert entries(f"fund_default:{invoice.pk}") == {
        ("fund_guarantees_given", ref): Decimal("800.00"),
        ("fund_advances", ref): Decimal("-800.00"),
        ("fund_losses", ref): Decimal("800.00"),
        ("bad_debts", ref): Decimal("-800.00"),
    }
    position = fund_position()
    assert (position.contributions, position.losses, position.reserve) == (
        Decimal("20.00"),
        Decimal("800.00"),
        Decimal("-780.00"),
    )
    assert position.open_advances == 0
    invoice.client.refresh_from_db()
    assert invoice.client.status == Client.Status.BLOCKED
    # The member keeps their salary: the payout and its payslip stand.
    assert payout_of(invoice).state == Payout.State.PAID
    assert payout_of(invoice).payslip == payout.payslip
    # Told twice, or caught up by the job: booked once.
    assert payouts_run(as_of=payout.due_on).reconciled == []
    assert Transaction.objects.filter(kind="fund_loss").count() == 1
    assert books_balanced()


# --- more cases ----------------------------------------------------------------------------


def test_in_france_the_delay_is_seven_calendar_days(
    in_fr: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    invoice = fund_invoice()
    contract = invoice.contract
    assert contract is not None

    payout = payout_of(invoice)

    assert payout.due_on == contract.last_day + datetime.timedelta(days=7)
    assert payouts_run(as_of=payout.due_on).paid == [contract.pk]
    with schema_context("be"):
        assert not Payout.objects.exists()


def test_a_member_paid_monthly_is_not_paid_per_invoice_and_reads_why(
    in_be: Entity, inv_approved_contract: Callable[..., Contract], inv_advisor: Callable[[], User]
) -> None:
    from payroll.smoothing import permanent_contract_agree

    contract = inv_approved_contract(member=MemberFactory(user=UserFactory(language="en")))
    advisor = inv_advisor()
    permanent_contract_agree(
        member=contract.member,
        monthly_gross=Decimal("2500.00"),
        first_month=contract.first_day.replace(day=1),
        actor=advisor,
    )
    invoice = invoicing.invoice_issue(
        contract=contract, actor=advisor, issue_date=contract.last_day + ONE_DAY
    )

    payout = payout_of(invoice)
    assert payout.state == Payout.State.NOT_GUARANTEED
    assert payout.not_guaranteed_reason.startswith(
        "You are paid a monthly salary under your permanent contract"
    )


def test_invoices_issued_before_the_fund_get_their_payout_from_the_job(
    in_be: Entity, fund_invoice: Callable[..., Invoice]
) -> None:
    from guarantee_fund import receivers
    from invoicing import signals

    signals.invoice_issued.disconnect(dispatch_uid="fund_issued")
    try:
        invoice = fund_invoice()
    finally:
        signals.invoice_issued.connect(receivers.on_invoice_issued, dispatch_uid="fund_issued")
    assert not Payout.objects.filter(invoice=invoice).exists()
    contract = invoice.contract
    assert contract is not None
    due_on = payout_due_on(entity=in_be, last_day=contract.last_day)

    assert payouts_run(as_of=due_on - ONE_DAY).paid == []  # created, not due yet
    assert payout_of(invoice).state == Payout.State.SCHEDULED
    assert payouts_run(as_of=due_on).paid == [contract.pk]
    # No contribution is invented for an invoice issued without one.
    assert not Transaction.objects.filter(idempotency_key=f"fund_contribution:{invoice.pk}")


def test_a_credit_note_after_the_payout_lowers_the_open_advance(
    in_be: Entity,
    fund_invoice: Callable[..., Invoice],
    inv_advisor: Callable[[], User],
    django_capture_on_commit_callbacks: Any,
) -> None:
    invoice = fund_invoice()
    pay_due(invoice)

    with django_capture_on_commit_callbacks(execute=True):
        invoicing.credit_note_issue(
            invoice=invoice, actor=inv_advisor(), reason="less work", net_amount=Decimal("300.00")
        )

    assert invoice_open_advance(invoice_id=invoice.pk) == Decimal("700.00")
    assert payout_of(invoice).state == Payout.State.PAID
    assert books_balanced()
