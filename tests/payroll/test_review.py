"""Defects found in review: each test failed before its fix."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin as django_admin
from django.template.loader import render_to_string
from django.test import Client as HttpClient

from invoicing import services as invoicing_services
from invoicing.models import Invoice
from members.models import Contract, Expense
from members.services import entity_today
from payroll import admin as payroll_admin
from payroll import dmfa
from payroll.forms_admin import CorrectionForm
from payroll.models import Payslip, PermanentContract, ReimbursedInvoice, SalaryRun
from payroll.services import (
    payslip_correct,
    payslips_for_invoices,
    salary_run_approve,
    salary_run_calculate,
    salary_run_mark_paid,
    salary_run_open,
    salary_run_transfer_total,
    salary_run_transfers,
)
from payroll.smoothing import (
    ProjectedMonth,
    Projection,
    budget_projection,
    monthly_cost,
    permanent_contract_agree,
    permanent_contract_end,
    smoothing_check,
)
from payroll.tasks import _alert
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Entry, Transaction
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ContractFactory, MemberFactory, UserFactory

DAY = datetime.timedelta(days=1)


def month_after(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + 4 * DAY).replace(day=1)


def month_before(month: datetime.date) -> datetime.date:
    return (month - DAY).replace(day=1)


@pytest.fixture
def advisor(inv_advisor: Callable[[], User]) -> User:
    return inv_advisor()


def issued(contract: Contract, approve: Callable[[Contract], Contract], advisor: User) -> Invoice:
    return invoicing_services.invoice_issue(contract=approve(contract), actor=advisor)


@pytest.mark.parametrize("year", ["²", "١٢٣٤", "-1", "2026.5", "9" * 40])
def test_an_odd_year_in_the_query_string_shows_the_default_year(
    in_be: Entity, be_client: HttpClient, year: str
) -> None:
    member = MemberFactory()
    response = be_client.post(
        "/accounts/login/", {"username": member.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302

    response = be_client.get("/payslips/", {"year": year})

    assert response.status_code == 200
    assert f"Totals for {entity_today(in_be).year}" in response.content.decode()


def test_expenses_of_an_invoice_issued_after_the_permanent_contract_ended_are_reimbursed(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    member = MemberFactory()
    contract = ContractFactory(member=member)
    Expense.objects.create(contract=contract, kind="travel", amount=Decimal("50.00"))
    last_month = contract.last_day.replace(day=1)
    agreement = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2500.00"), first_month=last_month, actor=advisor
    )
    permanent_contract_end(contract=agreement, last_month=last_month, actor=advisor)
    # The contract's last month is paid before the invoice of its work is issued.
    salary_run_approve(
        run=salary_run_calculate(run=salary_run_open(period=last_month, actor=None), actor=None),
        actor=None,
    )
    invoice = issued(contract, inv_approve, advisor)

    run = salary_run_calculate(
        run=salary_run_open(period=month_after(last_month), actor=None), actor=None
    )

    # The month is not paid again; the invoice's expenses are reimbursed, once.
    payslip = run.payslips.get()
    assert (payslip.kind, payslip.permanent_contract) == (Payslip.Kind.MONTHLY, agreement)
    assert (payslip.gross, payslip.net, payslip.expenses) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("50.00"),
    )
    assert ReimbursedInvoice.objects.get(invoice=invoice).payslip == payslip
    salary_run_calculate(run=run, actor=None)
    assert run.payslips.count() == 1
    assert Payslip.objects.filter(invoice=invoice).count() == 0
    # Its quarter's social data declare no working time for it.
    quarter = dmfa.Quarter.of(run.period)
    rows = dmfa.dmfa_rows(entity=in_be, quarter=quarter)
    paid_time = sum(
        (p.permanent_contract.hours_per_month for p in Payslip.objects.filter(
            run__period__gte=quarter.first_month, run__period__lte=quarter.last_month, gross__gt=0
        ) if p.permanent_contract is not None),
        Decimal(0),
    )  # fmt: skip
    assert sum((row.hours for row in rows), Decimal(0)) == paid_time


def test_the_projection_counts_a_past_month_whose_salary_is_not_booked_yet(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    member = MemberFactory(advisor=advisor)
    issued(ContractFactory(member=member, price=Decimal("10000.00")), inv_approve, advisor)
    today = entity_today(in_be)
    last_month = month_before(today.replace(day=1))
    agreement = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2500.00"), first_month=last_month, actor=advisor
    )
    cost = monthly_cost(contract=agreement, month=today.replace(day=1))
    assert cost == Decimal("3125.00")

    # Last month's run is not approved yet: its salary still leaves the budget.
    projection = budget_projection(member=member, today=today)
    assert projection.months[0].outflow == 2 * cost

    salary_run_approve(
        run=salary_run_calculate(run=salary_run_open(period=last_month, actor=None), actor=None),
        actor=None,
    )
    projection = budget_projection(member=member, today=today)
    assert projection.months[0].outflow == cost


@pytest.mark.parametrize("gross", ["999999999999.99", "-999999999999.99"])
def test_a_correction_too_large_for_a_payslip_is_a_form_error(gross: str) -> None:
    form = CorrectionForm(data={"gross": gross, "reason": "typo"})

    assert not form.is_valid()
    assert "gross" in form.errors


def test_the_advisor_alert_writes_forints_in_whole_units(
    in_be: Entity, advisor: User, mailoutbox: list[object]
) -> None:
    advisor.language = "en"
    advisor.save(update_fields=["language"])
    month = entity_today(in_be).replace(day=1)
    contract = PermanentContract(
        member=MemberFactory(advisor=advisor),
        monthly_gross=Decimal("450000.00"),
        currency="HUF",
        first_month=month,
    )
    projection = Projection(
        contract=contract,
        currency="HUF",
        balance=Decimal("120000.00"),
        months=[
            ProjectedMonth(month, Decimal("0.00"), Decimal("585000.00"), Decimal("-465000.00"))
        ],
    )

    _alert(advisor, contract, projection, in_be)

    (mail,) = mailoutbox
    assert "pays 450000 HUF gross" in mail.body  # type: ignore[attr-defined]
    assert "Available today: 120000 HUF." in mail.body  # type: ignore[attr-defined]
    assert f"{month:%Y-%m}: +0 -585000 = -465000" in mail.body  # type: ignore[attr-defined]


def test_a_run_is_not_approved_without_the_month_of_a_contract_agreed_after_its_calculation(
    in_be: Entity, advisor: User
) -> None:
    member = MemberFactory()
    month = entity_today(in_be).replace(day=1)
    run = salary_run_calculate(run=salary_run_open(period=month, actor=None), actor=None)
    agreement = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2500.00"), first_month=month, actor=advisor
    )

    with pytest.raises(DomainError, match="calculate the run again"):
        salary_run_approve(run=run, actor=None)
    run.refresh_from_db()
    assert run.state == SalaryRun.State.CALCULATED
    assert not Transaction.objects.filter(idempotency_key=f"salary_run:{run.pk}:approve").exists()

    run = salary_run_approve(run=salary_run_calculate(run=run, actor=None), actor=None)
    assert run.payslips.get().permanent_contract == agreement


def test_marking_a_run_paid_books_what_its_transfers_pay(in_be: Entity, advisor: User) -> None:
    accountant = UserFactory(role=Role.ACCOUNTANT)
    month = entity_today(in_be).replace(day=1)
    owing, paid = MemberFactory(), MemberFactory()
    first = permanent_contract_agree(
        member=owing, monthly_gross=Decimal("2500.00"), first_month=month, actor=advisor
    )
    permanent_contract_end(contract=first, last_month=month, actor=advisor)
    permanent_contract_agree(
        member=paid, monthly_gross=Decimal("2500.00"), first_month=month_after(month), actor=advisor
    )
    run = salary_run_calculate(run=salary_run_open(period=month, actor=None), actor=None)
    salary_run_approve(run=run, actor=None)
    # Pay taken back beyond what the next month brings the member: they are owed nothing.
    correction = payslip_correct(
        payslip=run.payslips.get(), gross=Decimal("-2500.00"), reason="paid twice", actor=accountant
    )
    later = salary_run_approve(run=salary_run_calculate(run=correction.run, actor=None), actor=None)
    assert correction.to_pay < 0

    later = salary_run_mark_paid(run=later, actor=None)

    transfers = salary_run_transfers(run=later)
    assert [transfer.amount for transfer in transfers] == [later.payslips.get(member=paid).to_pay]
    bank = Entry.objects.get(
        transaction__idempotency_key=f"salary_run:{later.pk}:paid", account__code="bank"
    )
    assert bank.amount == -sum(transfer.amount for transfer in transfers)
    # The run's page says the same total as the SEPA file.
    total = payroll_admin._money(-bank.amount, "EUR")
    assert salary_run_transfer_total(run=later) == -bank.amount
    totals = str(payroll_admin.SalaryRunAdmin(SalaryRun, django_admin.site).totals(later))
    assert f"<th>to pay by this run&#x27;s transfers</th><td>{total}</td>" in totals


def test_the_admin_writes_each_amount_in_its_currency_s_minor_unit() -> None:
    assert payroll_admin._money(Decimal("450000.00"), "HUF") == "450,000 HUF"
    assert payroll_admin._money(Decimal("1234.50"), "SEK") == "1,234.50 SEK"
    assert payroll_admin._money(None, "EUR") == "0.00 EUR"


def test_the_advisor_is_alerted_for_a_permanent_contract_starting_next_month(
    in_be: Entity,
    advisor: User,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    member = MemberFactory(advisor=advisor)
    next_month = month_after(entity_today(in_be).replace(day=1))
    agreement = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2500.00"), first_month=next_month, actor=advisor
    )
    # Nothing in the budget: the page warns the member that their advisor is told.
    assert budget_projection(member=member).first_negative == next_month

    with django_capture_on_commit_callbacks() as callbacks:
        assert smoothing_check() == [agreement]
        assert smoothing_check() == []
    assert len(callbacks) == 1  # type: ignore[arg-type]


def test_a_payout_s_payslip_goes_to_the_first_open_run(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    contract = ContractFactory()
    month = contract.last_day.replace(day=1)
    for period in (month, month_after(month)):
        salary_run_approve(
            run=salary_run_calculate(run=salary_run_open(period=period, actor=None), actor=None),
            actor=None,
        )
    invoice = issued(contract, inv_approve, advisor)

    (payslip,) = payslips_for_invoices(
        invoice_ids=[invoice.pk], on=contract.last_day, paid_out=True, actor=None
    ).values()

    assert payslip.run.period == month_after(month_after(month))
    assert payslip.paid_out


def test_a_new_gross_cannot_start_in_a_month_the_current_contract_has_a_payslip_for(
    in_be: Entity, advisor: User
) -> None:
    member = MemberFactory()
    month = entity_today(in_be).replace(day=1)
    current = permanent_contract_agree(
        member=member,
        monthly_gross=Decimal("2500.00"),
        first_month=month_before(month),
        actor=advisor,
    )
    run = salary_run_calculate(run=salary_run_open(period=month, actor=None), actor=None)
    assert run.payslips.get().permanent_contract == current

    with pytest.raises(DomainError, match="paid already"):
        permanent_contract_agree(
            member=member, monthly_gross=Decimal("3000.00"), first_month=month, actor=advisor
        )

    current.refresh_from_db()
    assert current.last_month is None
    salary_run_calculate(run=run, actor=None)
    assert run.payslips.filter(member=member).count() == 1


def test_a_monthly_gross_too_large_for_a_payslip_is_refused(in_be: Entity, advisor: User) -> None:
    member = MemberFactory()
    month = entity_today(in_be).replace(day=1)

    with pytest.raises(DomainError, match="too large") as refused:
        permanent_contract_agree(
            member=member,
            monthly_gross=Decimal("999999999999.99"),
            first_month=month,
            actor=advisor,
        )

    assert refused.value.field == "monthly_gross"
    assert not PermanentContract.objects.filter(member=member).exists()
    # The month's run is not blocked by a payslip it cannot store.
    run = salary_run_calculate(run=salary_run_open(period=month, actor=None), actor=None)
    assert run.payslips.count() == 0


def test_the_dashboard_card_writes_amounts_in_the_currency_s_minor_unit(in_be: Entity) -> None:
    html = render_to_string(
        "payroll/_dashboard_card.html",
        {
            "last_payslip": None,
            "budget_available": Decimal("1234567.00"),
            "entity": SimpleNamespace(currency="HUF"),
        },
    )

    assert ">1,234,567 HUF<" in html


def test_the_projection_takes_out_the_expenses_still_to_reimburse(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    contract = ContractFactory()
    Expense.objects.create(contract=contract, kind="travel", amount=Decimal("50.00"))
    issued(contract, inv_approve, advisor)
    month = contract.last_day.replace(day=1)
    agreement = permanent_contract_agree(
        member=contract.member, monthly_gross=Decimal("2500.00"), first_month=month, actor=advisor
    )
    cost = monthly_cost(contract=agreement, month=month)

    # The balance holds the invoice's expenses until the month's payslip reimburses them.
    projection = budget_projection(member=contract.member, today=contract.last_day)
    assert projection.balance == Decimal("935.00")
    assert projection.months[0].outflow == cost + Decimal("50.00")

    salary_run_approve(
        run=salary_run_calculate(run=salary_run_open(period=month, actor=None), actor=None),
        actor=None,
    )
    projection = budget_projection(member=contract.member, today=contract.last_day)
    assert projection.balance == Decimal("935.00") - cost - Decimal("50.00")
    assert projection.months[0].outflow == Decimal(0)
