"""The permanent contract with salary smoothing, corrections, payouts' payslips, and the rule
that an approved run never changes (services and database)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from invoicing import services as invoicing_services
from invoicing.models import Invoice
from members.models import Contract, Expense, Member
from members.services import entity_today
from payroll.conversion import salary_from_gross
from payroll.documents import payslip_pdf
from payroll.models import Payslip, PayslipLine, PermanentContract, SalaryRun
from payroll.parameters import parameters_in_force
from payroll.services import (
    payslip_correct,
    payslips_for_invoices,
    salary_run_approve,
    salary_run_calculate,
    salary_run_open,
    salary_run_totals,
)
from payroll.smoothing import (
    budget_available,
    budget_projection,
    monthly_cost,
    permanent_contract_agree,
    permanent_contract_end,
    smoothing_check,
)
from payroll.tasks import smoothing_alert_task
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Transaction
from smart_coop.ledger.selectors import books_balance
from smart_coop.tenancy.models import Entity
from tests.factories import ContractFactory, MemberFactory, UserFactory
from tests.payroll.conftest import issued_and_paid

DAY = datetime.timedelta(days=1)
ZERO = Decimal(0)


def month_after(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + 4 * DAY).replace(day=1)


def this_month(entity: Entity) -> datetime.date:
    return entity_today(entity).replace(day=1)


@pytest.fixture
def advisor(inv_advisor: Callable[[], User]) -> User:
    return inv_advisor()


def issued(
    contract: Contract, inv_approve: Callable[[Contract], Contract], advisor: User
) -> Invoice:
    return issued_and_paid(contract=inv_approve(contract), actor=advisor)


def test_only_an_advisor_agrees_and_only_above_the_minimum(in_be: Entity, advisor: User) -> None:
    member = MemberFactory()
    first = this_month(in_be)

    with pytest.raises(DomainError, match="Only an advisor"):
        permanent_contract_agree(
            member=member,
            monthly_gross=Decimal("2500.00"),
            first_month=first,
            actor=UserFactory(role=Role.ACCOUNTANT),
        )
    # 12.83 an hour x 164.67 hours = 2112.7161 -> 2112.72
    with pytest.raises(DomainError, match=r"minimum pay for 164\.67 hours: 2112\.72") as refused:
        permanent_contract_agree(
            member=member, monthly_gross=Decimal("2112.71"), first_month=first, actor=advisor
        )
    assert refused.value.field == "monthly_gross"
    with pytest.raises(DomainError, match="not active"):
        permanent_contract_agree(
            member=MemberFactory(state=Member.State.APPLICANT),
            monthly_gross=Decimal("2500.00"),
            first_month=first,
            actor=advisor,
        )
    assert not PermanentContract.objects.exists()

    contract = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2112.72"), first_month=first + 3 * DAY, actor=advisor
    )
    assert (contract.first_month, contract.last_month) == (first, None)
    assert (contract.category, contract.currency) == ("standard", "EUR")


def test_a_new_gross_is_a_new_contract_and_overlaps_are_refused(
    in_be: Entity, advisor: User
) -> None:
    member = MemberFactory(sector="artist")
    first = this_month(in_be)
    third = month_after(month_after(first))
    old = permanent_contract_agree(
        member=member, monthly_gross=Decimal("2500.00"), first_month=first, actor=advisor
    )
    new = permanent_contract_agree(
        member=member, monthly_gross=Decimal("3000.00"), first_month=third, actor=advisor
    )

    old.refresh_from_db()
    assert old.last_month == month_after(first)
    assert (new.first_month, new.last_month, new.category) == (third, None, "artist_manual")
    with pytest.raises(DomainError, match="already has a permanent contract"):
        permanent_contract_agree(
            member=member, monthly_gross=Decimal("2800.00"), first_month=first, actor=advisor
        )
    with pytest.raises(DomainError, match="after the first month"):
        permanent_contract_end(contract=new, last_month=first, actor=advisor)
    ended = permanent_contract_end(contract=new, last_month=third + 40 * DAY, actor=advisor)
    assert ended.last_month == month_after(third)
    assert PermanentContract.objects.count() == 2


def test_the_month_pays_the_agreed_gross_and_the_expenses_from_the_budget(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    contract = ContractFactory()
    Expense.objects.create(contract=contract, kind="travel", amount=Decimal("50.00"))
    invoice = issued(contract, inv_approve, advisor)
    period = contract.last_day.replace(day=1)
    agreement = permanent_contract_agree(
        member=contract.member,
        monthly_gross=Decimal("2500.00"),
        first_month=period,
        actor=advisor,
    )
    # The invoice put 1000.00 - 65.00 of fee = 935.00 in the budget (its expenses included).
    assert budget_available(member=contract.member) == Decimal("935.00")

    run = salary_run_calculate(run=salary_run_open(period=period, actor=None), actor=None)

    payslip = run.payslips.get()
    assert (payslip.kind, payslip.permanent_contract, payslip.invoice) == (
        Payslip.Kind.MONTHLY,
        agreement,
        None,
    )
    assert [r.invoice for r in payslip.reimbursed_invoices.all()] == [invoice]
    # gross 2500.00; employer 25 % = 625.00; employee 13.07 % = 326.75; taxable 2173.25;
    # key formula: x 12 = 26079.00, expenses capped at 5930.00 -> 20149.00; 15830.00 x 26.75 %
    # = 4234.525 + 4319.00 x 42.80 % = 1848.532 -> 6083.06 - 2830.15 = 3252.91 / 12 = 271.08
    assert (payslip.gross, payslip.employer_contributions) == (
        Decimal("2500.00"),
        Decimal("625.00"),
    )
    assert (payslip.employee_contributions, payslip.taxable) == (
        Decimal("326.75"),
        Decimal("2173.25"),
    )
    assert (payslip.withholding, payslip.net) == (Decimal("271.08"), Decimal("1902.17"))
    assert (payslip.expenses, payslip.to_pay) == (Decimal("50.00"), Decimal("1952.17"))
    assert {line.code for line in payslip.lines.all()} >= {"gross", "employer", "net", "expenses"}
    assert "invoiced" not in {line.code for line in payslip.lines.all()}

    # Calculating again adds nothing; the invoice never gets a payslip of its own.
    salary_run_calculate(run=run, actor=None)
    assert Payslip.objects.count() == 1

    run = salary_run_approve(run=run, actor=None)
    legs = {
        entry.account.code: entry.amount
        for entry in Transaction.objects.get(
            idempotency_key=f"salary_run:{run.pk}:approve"
        ).entries.select_related("account")
    }
    assert legs == {
        f"budget:{contract.member_id}": Decimal("3175.00"),
        "salaries_payable": Decimal("-1952.17"),
        "social_payable": Decimal("-951.75"),
        "withholding_payable": Decimal("-271.08"),
    }
    # Smoothing pays the month even when the budget does not hold it yet.
    assert budget_available(member=contract.member) == Decimal("-2240.00")
    assert set(books_balance().values()) == {Decimal("0.00")}


def test_the_projection_and_the_advisor_alerted_once_per_episode(
    in_be: Entity,
    advisor: User,
    inv_approve: Callable[[Contract], Contract],
    mailoutbox: list[object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    advisor.language = "en"
    advisor.save(update_fields=["language"])
    member = MemberFactory(advisor=advisor)
    issued(ContractFactory(member=member, price=Decimal("10000.00")), inv_approve, advisor)
    pending = inv_approve(ContractFactory(member=member, first_day=entity_today(in_be) + 40 * DAY))
    agreement = permanent_contract_agree(
        member=member,
        monthly_gross=Decimal("2500.00"),
        first_month=this_month(in_be),
        actor=advisor,
    )

    projection = budget_projection(member=member)

    # 10000.00 - 650.00 of fee; then 3125.00 a month (2500.00 + 25 %); the pending contract's
    # 1000.00 brings 935.00 in the month after its work ends.
    assert projection.balance == Decimal("9350.00")
    assert monthly_cost(contract=agreement, month=this_month(in_be)) == Decimal("3125.00")
    pending_month = (pending.last_day + DAY).replace(day=1)
    running, expected = Decimal("9350.00"), []
    for month in projection.months:
        running += (Decimal("935.00") if month.month == pending_month else 0) - Decimal("3125.00")
        expected.append(running)
    assert [month.balance for month in projection.months] == expected
    assert len(projection.months) == 6
    # 9350.00 + 935.00 - 3 x 3125.00 = 910.00, then -2215.00 in the fourth month.
    assert projection.months[2].balance == Decimal("910.00")
    assert projection.first_negative == projection.months[3].month

    with django_capture_on_commit_callbacks() as callbacks:
        assert smoothing_check() == [agreement]
        assert smoothing_check() == []  # already told in this episode
    assert len(callbacks) == 1
    agreement.refresh_from_db()
    assert agreement.alerted_on == entity_today(in_be)

    assert smoothing_alert_task(permanent_contract_id=agreement.pk) == advisor.email
    (mail,) = mailoutbox
    assert mail.to == [advisor.email]
    assert "runs out in" in mail.subject
    assert "9350.00" in mail.body

    # Ending the contract after this month makes the projection positive: the mark clears.
    permanent_contract_end(contract=agreement, last_month=this_month(in_be), actor=advisor)
    assert budget_projection(member=member).first_negative is None
    assert smoothing_check() == []
    agreement.refresh_from_db()
    assert agreement.alerted_on is None


def test_a_correction_is_a_new_payslip_in_a_later_run(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    assert inv_issued_invoice.contract is not None
    period = inv_issued_invoice.contract.last_day.replace(day=1)
    run = salary_run_calculate(run=salary_run_open(period=period, actor=None), actor=None)
    original = run.payslips.get()
    accountant = UserFactory(role=Role.ACCOUNTANT)

    with pytest.raises(DomainError, match="may not correct"):
        payslip_correct(
            payslip=original,
            gross=Decimal("-100.00"),
            reason="Paid one day too many",
            actor=UserFactory(role=Role.ADVISOR),
        )
    with pytest.raises(DomainError, match="Say why"):
        payslip_correct(payslip=original, gross=Decimal("-100.00"), reason=" ", actor=accountant)

    correction = payslip_correct(
        payslip=original, gross=Decimal("-100.00"), reason="Paid one day too many", actor=accountant
    )

    assert correction.kind == Payslip.Kind.CORRECTION
    assert correction.corrects == original
    assert correction.run.period > period
    # -100.00 gross: employer -25.00, employee -13.07, taxable -86.93, no tax to give back.
    assert (correction.gross, correction.employer_contributions) == (
        Decimal("-100.00"),
        Decimal("-25.00"),
    )
    assert (correction.employee_contributions, correction.net) == (
        Decimal("-13.07"),
        Decimal("-86.93"),
    )
    original.refresh_from_db()
    assert original.gross == Decimal("748.00")  # untouched
    assert correction.run.state == SalaryRun.State.CALCULATED


def test_payout_payslips_are_computed_once_and_left_out_of_the_run_booking(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    assert inv_issued_invoice.contract is not None
    on = inv_issued_invoice.contract.last_day + 7 * DAY

    first = payslips_for_invoices(
        invoice_ids=[inv_issued_invoice.pk], on=on, paid_out=True, actor=None
    )
    again = payslips_for_invoices(
        invoice_ids=[inv_issued_invoice.pk], on=on, paid_out=True, actor=None
    )

    assert first == again
    payslip = first[inv_issued_invoice.pk]
    assert payslip.paid_out is True
    assert payslip.run.period == on.replace(day=1)
    # Too early: the work has not ended by then, nothing is computed.
    assert (
        payslips_for_invoices(
            invoice_ids=[inv_issued_invoice.pk],
            on=inv_issued_invoice.contract.last_day - DAY,
            paid_out=True,
            actor=None,
        )
        == first
    )
    run = salary_run_approve(run=salary_run_calculate(run=payslip.run, actor=None), actor=None)
    assert salary_run_totals(run=run, paid_out=False).payslips == 0
    assert salary_run_totals(run=run).net == payslip.net
    posted = Transaction.objects.get(idempotency_key=f"salary_run:{run.pk}:approve")
    assert not posted.entries.exists()


def test_an_artist_is_paid_in_the_artist_category(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    contract = ContractFactory(member=MemberFactory(sector="artist"))
    issued(contract, inv_approve, advisor)

    run = salary_run_calculate(
        run=salary_run_open(period=contract.last_day, actor=None), actor=None
    )

    payslip = run.payslips.get()
    assert payslip.parameters.category == "artist_manual"
    # 935.00 / (1 + 25 % x 1.08) = 736.22; base 108 % = 795.12; employer 198.78
    assert (payslip.gross, payslip.employer_contributions) == (
        Decimal("736.22"),
        Decimal("198.78"),
    )
    # flat 11.11 % of the taxable (736.22 - 13.07 % of 795.12 = 103.92 -> 632.30) = 70.25
    assert (payslip.taxable, payslip.withholding) == (Decimal("632.30"), Decimal("70.25"))


@pytest.fixture
def approved_payslip(in_be: Entity, inv_issued_invoice: Invoice) -> Payslip:
    assert inv_issued_invoice.contract is not None
    run = salary_run_open(period=inv_issued_invoice.contract.last_day, actor=None)
    run = salary_run_approve(run=salary_run_calculate(run=run, actor=None), actor=None)
    return run.payslips.get()


CHANGES = st.sampled_from(
    [
        ("payslip", "net"),
        ("payslip", "gross"),
        ("payslip", "withholding"),
        ("payslip", "delete"),
        ("line", "amount"),
        ("line", "delete"),
        ("line", "insert"),
        ("payslip", "insert"),
        ("run", "reopen"),
        ("run", "period"),
        ("run", "delete"),
    ]
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(change=CHANGES, amount=st.decimals(min_value=-1000, max_value=1000, places=2))
def test_an_approved_run_cannot_be_changed(
    approved_payslip: Payslip, change: tuple[str, str], amount: Decimal
) -> None:
    what, how = change
    payslip = approved_payslip
    run = payslip.run
    line = payslip.lines.first()
    assert line is not None
    before = {
        "payslip": Payslip.objects.filter(pk=payslip.pk).values().get(),
        "lines": list(PayslipLine.objects.filter(payslip=payslip).values()),
        "run": SalaryRun.objects.filter(pk=run.pk).values().get(),
    }

    def attempt() -> None:
        if what == "payslip" and how == "delete":
            Payslip.objects.filter(pk=payslip.pk).delete()
        elif what == "payslip" and how == "insert":
            Payslip.objects.create(
                **{
                    **{k: v for k, v in before["payslip"].items() if k not in ("id", "invoice_id")},
                    "kind": Payslip.Kind.CORRECTION,
                    "corrects_id": payslip.pk,
                    "invoice_id": None,
                }
            )
        elif what == "payslip":
            Payslip.objects.filter(pk=payslip.pk).update(**{how: amount})
        elif how == "delete":
            PayslipLine.objects.filter(pk=line.pk).delete()
        elif how == "insert":
            PayslipLine.objects.create(
                payslip=payslip, position=99, code="net", label="net", amount=amount
            )
        elif what == "line":
            PayslipLine.objects.filter(pk=line.pk).update(amount=amount)
        elif how == "reopen":
            SalaryRun.objects.filter(pk=run.pk).update(state=SalaryRun.State.CALCULATED)
        elif how == "period":
            SalaryRun.objects.filter(pk=run.pk).update(period=month_after(run.period))
        else:
            SalaryRun.objects.filter(pk=run.pk).delete()

    with pytest.raises(IntegrityError), transaction.atomic():
        attempt()
    assert Payslip.objects.filter(pk=payslip.pk).values().get() == before["payslip"]
    assert list(PayslipLine.objects.filter(payslip=payslip).values()) == before["lines"]
    assert SalaryRun.objects.filter(pk=run.pk).values().get() == before["run"]
    with pytest.raises(DomainError, match="cannot go from approved to calculated"):
        salary_run_calculate(run=run, actor=None)


def test_a_salary_is_paid_on_what_a_credit_note_leaves_invoiced(
    in_be: Entity, inv_issued_invoice: Invoice, advisor: User
) -> None:
    assert inv_issued_invoice.contract is not None
    invoicing_services.credit_note_issue(
        invoice=inv_issued_invoice,
        actor=advisor,
        reason="One hour less",
        net_amount=Decimal("100.00"),
    )

    run = salary_run_calculate(
        run=salary_run_open(period=inv_issued_invoice.contract.last_day, actor=None), actor=None
    )

    payslip = run.payslips.get()
    lines = {line.code: line.amount for line in payslip.lines.all()}
    # 1000.00 - 100.00 credited = 900.00; fee 58.50; budget 841.50 = 673.20 + 25 % (168.30)
    assert (lines["invoiced"], lines["fee"], payslip.budget) == (
        Decimal("900.00"),
        Decimal("58.50"),
        Decimal("841.50"),
    )
    assert (payslip.gross, payslip.employer_contributions) == (
        Decimal("673.20"),
        Decimal("168.30"),
    )


def test_a_monthly_payslip_pdf_names_its_kind_and_no_invoice(
    in_be: Entity, advisor: User, inv_approve: Callable[[Contract], Contract]
) -> None:
    contract = ContractFactory()
    contract.member.user.language = "en"
    contract.member.user.save(update_fields=["language"])
    issued(contract, inv_approve, advisor)
    permanent_contract_agree(
        member=contract.member,
        monthly_gross=Decimal("2500.00"),
        first_month=contract.last_day,
        actor=advisor,
    )
    run = salary_run_calculate(
        run=salary_run_open(period=contract.last_day, actor=None), actor=None
    )

    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(payslip_pdf(run.payslips.get()))).pages
    )

    assert contract.member.user.get_full_name() in text
    assert "permanent contract, monthly salary" in text
    assert "1,902.17 EUR" in text
    assert "Invoice" not in text


@given(
    gross=st.decimals(min_value=-20000, max_value=50000, places=2).filter(lambda d: d != 0),
    expenses=st.decimals(min_value=0, max_value=5000, places=2),
    category=st.sampled_from(["standard", "artist_manual"]),
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_salary_from_a_gross_adds_up_to_the_cent(
    be: Entity, gross: Decimal, expenses: Decimal, category: str
) -> None:
    params = parameters_in_force(entity=be, category=category, on=entity_today(be))

    salary = salary_from_gross(currency="EUR", gross=gross, expenses=expenses, parameters=params)

    assert salary.net + salary.employee_contributions + salary.withholding == salary.gross
    assert salary.gross + salary.employer_contributions == salary.budget
    assert salary.expenses == expenses
    for amount in (salary.employer_contributions, salary.employee_contributions, salary.net):
        assert amount == amount.quantize(Decimal("0.01"))
    # A correction taking pay back mirrors the same pay given.
    mirror = salary_from_gross(currency="EUR", gross=-gross, expenses=ZERO, parameters=params)
    assert mirror.employer_contributions == -salary.employer_contributions
    assert mirror.withholding == -salary.withholding
