"""payroll.services: salary runs for fixed-term contracts, from the issued invoice to the books."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from invoicing.models import Invoice
from members.models import Contract
from payroll.conversion import salary_from_invoice
from payroll.models import Payslip, PayslipLine, SalaryRun
from payroll.services import (
    salary_run_approve,
    salary_run_calculate,
    salary_run_mark_paid,
    salary_run_open,
)
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Entry, Transaction
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity
from tests.factories import UserFactory
from tests.payroll.conftest import issued_and_paid

ZERO = Decimal("0.00")


def period_of(invoice: Invoice) -> datetime.date:
    assert invoice.contract is not None
    return invoice.contract.last_day.replace(day=1)


def next_month(period: datetime.date) -> datetime.date:
    return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def calculated(period: datetime.date) -> SalaryRun:
    run = salary_run_open(period=period, actor=None)
    return salary_run_calculate(run=run, actor=None)


def amounts(payslip: Payslip) -> dict[str, Decimal]:
    return {line.code: line.amount for line in payslip.lines.all()}


def test_a_run_gathers_the_invoice_whose_work_ended_in_its_period(
    be: Entity, inv_issued_invoice: Invoice
) -> None:
    assert inv_issued_invoice.contract is not None
    run = calculated(period_of(inv_issued_invoice))

    payslip = run.payslips.get()
    assert run.state == SalaryRun.State.CALCULATED
    assert payslip.invoice == inv_issued_invoice
    assert payslip.member_id == inv_issued_invoice.member_id
    expected = salary_from_invoice(
        entity=be,
        invoiced=Decimal("1000.00"),
        expenses=ZERO,
        on=inv_issued_invoice.contract.last_day,
    )
    assert payslip.parameters_id == expected.parameters_id
    assert (payslip.gross, payslip.net, payslip.currency) == (expected.gross, expected.net, "EUR")
    lines = amounts(payslip)
    assert list(lines) == [code for code, _label in PayslipLine.Code.choices]
    assert lines["invoiced"] == Decimal("1000.00")
    assert lines["fee"] == Decimal("65.00")
    assert lines["budget"] == Decimal("935.00")
    assert lines["gross"] == lines["net"] + lines["employee"] + lines["withholding"]
    assert lines["budget"] == lines["gross"] + lines["employer"] + lines["remainder"]
    assert lines["taxable"] == lines["gross"] - lines["employee"]
    assert lines["gross"] > ZERO


def test_calculating_twice_adds_nothing(in_be: Entity, inv_issued_invoice: Invoice) -> None:
    run = calculated(period_of(inv_issued_invoice))
    payslip = run.payslips.get()

    again = salary_run_calculate(run=salary_run_open(period=run.period, actor=None), actor=None)

    assert again.pk == run.pk
    assert list(again.payslips.all()) == [payslip]
    assert PayslipLine.objects.count() == len(PayslipLine.Code.choices)


def test_a_later_invoice_goes_to_the_next_run(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    period = period_of(inv_issued_invoice)
    later = issued_and_paid(
        contract=inv_approved_contract(first_day=next_month(period) + datetime.timedelta(days=3)),
        actor=inv_advisor(),
    )

    first = calculated(period)
    second = calculated(period_of(later))

    assert period_of(later) == next_month(period)
    assert [p.invoice for p in first.payslips.all()] == [inv_issued_invoice]
    assert [p.invoice for p in second.payslips.all()] == [later]


def test_approval_without_the_permission_is_refused(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = calculated(period_of(inv_issued_invoice))

    with pytest.raises(DomainError, match="may not approve"):
        salary_run_approve(run=run, actor=UserFactory(role=Role.ADVISOR))

    run.refresh_from_db()
    assert run.state == SalaryRun.State.CALCULATED
    assert run.approved_by is None
    assert not Transaction.objects.filter(kind="salary_run").exists()


def test_approval_books_one_balanced_transaction(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = calculated(period_of(inv_issued_invoice))
    payslip = run.payslips.get()
    accountant = UserFactory(role=Role.ACCOUNTANT)

    run = salary_run_approve(run=run, actor=accountant)
    salary_run_approve(run=run, actor=accountant)  # already approved: nothing more

    assert run.state == SalaryRun.State.APPROVED
    assert run.approved_by == accountant
    posted = Transaction.objects.get(idempotency_key=f"salary_run:{run.pk}:approve")
    legs = {entry.account.code: entry.amount for entry in posted.entries.select_related("account")}
    budget_code = f"budget:{inv_issued_invoice.member_id}"
    expected = {
        budget_code: Decimal("935.00"),
        "salaries_payable": -payslip.net,
        "social_payable": -(payslip.employee_contributions + payslip.employer_contributions),
        "withholding_payable": -payslip.withholding,
        "budget_remainders": -payslip.budget_remainder,
    }
    # Zero legs are not written.
    assert legs == {code: amount for code, amount in expected.items() if amount}
    assert Transaction.objects.filter(kind="salary_run").count() == 1
    assert set(books_balance().values()) == {Decimal("0.00")}
    # The invoice credited the member's budget with 935.00; the run used all of it.
    assert balance_by_code(budget_code) == ZERO


def test_illegal_transitions_are_refused(in_be: Entity, inv_issued_invoice: Invoice) -> None:
    draft = salary_run_open(period=period_of(inv_issued_invoice), actor=None)
    with pytest.raises(DomainError, match="cannot go from draft to approved"):
        salary_run_approve(run=draft, actor=None)
    run = salary_run_calculate(run=draft, actor=None)
    with pytest.raises(DomainError, match="cannot go from calculated to paid"):
        salary_run_mark_paid(run=run, actor=None)
    run = salary_run_mark_paid(run=salary_run_approve(run=run, actor=None), actor=None)
    assert run.state == SalaryRun.State.PAID
    with pytest.raises(DomainError, match="cannot go from paid to calculated"):
        salary_run_calculate(run=run, actor=None)
    assert Payslip.objects.count() == 1


def test_the_command_runs_and_approves_the_payroll_of_be(inv_issued_invoice: Invoice) -> None:
    period = period_of(inv_issued_invoice)
    out = io.StringIO()

    call_command("run_payroll", entity="be", period=f"{period:%Y-%m}", approve=True, stdout=out)

    assert f"be {period:%Y-%m}: run" in out.getvalue()
    assert "approved, payslips: 1, budget: 935.00" in out.getvalue()
    with schema_context("be"):
        run = SalaryRun.objects.get(period=period)
        assert run.state == SalaryRun.State.APPROVED
        assert run.approved_by is None
        assert Entry.objects.filter(transaction__kind="salary_run").exists()


def test_runs_of_be_and_fr_stay_apart(
    be: Entity,
    fr: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    period = period_of(inv_issued_invoice)
    with schema_context("fr"):
        fr_invoice = issued_and_paid(contract=inv_approved_contract(), actor=inv_advisor())
    with schema_context("be"):
        be_run = calculated(period)
        assert [p.invoice_id for p in be_run.payslips.all()] == [inv_issued_invoice.pk]
    with schema_context("fr"):
        assert not SalaryRun.objects.exists()
        fr_run = calculated(period_of(fr_invoice))
        assert [p.invoice_id for p in fr_run.payslips.all()] == [fr_invoice.pk]
        assert Payslip.objects.count() == 1
    with schema_context("be"):
        assert Payslip.objects.count() == 1
