"""The member's payroll pages as a browser uses them: payslips, their PDF, yearly totals, the
activity budget; and everything refused that is not the member's own."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django.utils.text import capfirst
from django_tenants.utils import schema_context
from pypdf import PdfReader

from invoicing.models import Invoice
from members.models import Contract, Member
from payroll import selectors
from payroll.models import Payslip, SalaryRun
from payroll.services import (
    payslips_for_invoices,
    salary_run_approve,
    salary_run_calculate,
    salary_run_open,
)
from payroll.smoothing import budget_available, budget_projection, permanent_contract_agree
from smart_coop.accounts.models import User
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import PASSWORD, ContractFactory, MemberFactory, UserFactory
from tests.payroll.conftest import issued_and_paid

# The payslip of a Belgian fixed-term contract invoiced 1,000.00 excl. VAT, without expenses:
# fee 6.5 % = 65.00, budget 935.00 = gross + employer contributions (+ remainder).
BUDGET = Decimal("935.00")


def log_in(http: HttpClient, user: User) -> None:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def approved_run(period: datetime.date) -> SalaryRun:
    run = salary_run_calculate(run=salary_run_open(period=period, actor=None), actor=None)
    return salary_run_approve(run=run, actor=None)


def period_of(invoice: Invoice) -> datetime.date:
    assert invoice.contract is not None
    return invoice.contract.last_day.replace(day=1)


def issued(
    member: Member,
    approved_contract: Callable[..., Contract],
    advisor: Callable[[], User],
    **contract: object,
) -> Invoice:
    return issued_and_paid(contract=approved_contract(member=member, **contract), actor=advisor())


def named(member: Member, first: str, last: str) -> None:
    member.user.first_name, member.user.last_name, member.user.language = first, last, "en"
    member.user.save(update_fields=["first_name", "last_name", "language"])


def html(http: HttpClient, url: str) -> str:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def paid_member(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> tuple[HttpClient, Payslip]:
    """A Belgian member logged in, with one payslip in an approved run."""
    named(inv_issued_invoice.member, "Zoé", "Lemaître")
    payslip = approved_run(period_of(inv_issued_invoice)).payslips.get()
    log_in(be_client, inv_issued_invoice.member.user)
    return be_client, payslip


def test_the_member_reads_their_payslips_and_every_line(
    paid_member: tuple[HttpClient, Payslip],
) -> None:
    http, payslip = paid_member

    listing = html(http, "/payslips/")
    detail = html(http, f"/payslips/{payslip.pk}/")

    assert f'href="/payslips/{payslip.pk}/"' in listing
    assert f"{payslip.run.period:%B %Y}" in listing
    assert "Fixed-term contract" in listing
    assert ("(estimate)" in listing) == payslip.is_estimate
    for amount in (payslip.gross, payslip.net, payslip.to_pay):
        assert f"{amount:,.2f}" in listing
    lines = list(payslip.lines.all())
    assert len(lines) == 12
    for line in lines:
        assert capfirst(line.get_code_display()) in detail
        assert f"{line.amount:,.2f}" in detail
    assert f"{BUDGET:,.2f}" in detail
    assert f'href="/payslips/{payslip.pk}/pdf/"' in detail
    assert str(payslip.invoice.number) in detail


def test_the_pdf_is_a_download_holding_the_member_and_the_net(
    paid_member: tuple[HttpClient, Payslip],
) -> None:
    http, payslip = paid_member

    response = http.get(f"/payslips/{payslip.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="payslip-{payslip.run.period:%Y-%m}-{payslip.pk}.pdf"'
    )
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Zoé Lemaître" in text
    assert f"{payslip.net:,.2f} EUR" in text


def test_a_payslip_shows_once_its_run_is_approved(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> None:
    run = salary_run_calculate(
        run=salary_run_open(period=period_of(inv_issued_invoice), actor=None), actor=None
    )
    payslip = run.payslips.get()
    log_in(be_client, inv_issued_invoice.member.user)

    assert f"/payslips/{payslip.pk}/" not in html(be_client, "/payslips/")
    assert be_client.get(f"/payslips/{payslip.pk}/").status_code == 404
    assert be_client.get(f"/payslips/{payslip.pk}/pdf/").status_code == 404

    salary_run_approve(run=run, actor=None)

    assert f"/payslips/{payslip.pk}/" in html(be_client, "/payslips/")


def test_a_payslip_paid_out_by_the_guarantee_fund_shows_before_its_run_is_approved(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> None:
    assert inv_issued_invoice.contract is not None
    payslip = payslips_for_invoices(
        invoice_ids=[inv_issued_invoice.pk],
        on=inv_issued_invoice.contract.last_day,
        paid_out=True,
        actor=None,
    )[inv_issued_invoice.pk]
    assert payslip.run.state == SalaryRun.State.CALCULATED
    log_in(be_client, inv_issued_invoice.member.user)

    assert f'href="/payslips/{payslip.pk}/"' in html(be_client, "/payslips/")
    detail = html(be_client, f"/payslips/{payslip.pk}/")
    assert "Paid out on its own by the guarantee fund" in detail


def test_yearly_totals_add_up_the_payslips_of_the_year(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
    be_client: HttpClient,
) -> None:
    member = inv_issued_invoice.member
    period = period_of(inv_issued_invoice)
    assert inv_issued_invoice.contract is not None
    second = issued(
        member,
        inv_approved_contract,
        inv_advisor,
        first_day=inv_issued_invoice.contract.first_day,
        price=Decimal("2000.00"),
    )
    next_year = issued(
        member, inv_approved_contract, inv_advisor, first_day=datetime.date(period.year + 1, 2, 2)
    )
    approved_run(period)
    approved_run(period_of(next_year))
    one = Payslip.objects.get(invoice=inv_issued_invoice)
    two = Payslip.objects.get(invoice=second)
    # By hand: 1,000.00 and 2,000.00 invoiced, 6.5 % fee: budgets 935.00 and 1,870.00.
    assert (one.budget, two.budget) == (Decimal("935.00"), Decimal("1870.00"))

    totals = selectors.yearly_totals(member=member, year=period.year)

    assert totals.count == 2
    assert totals.currency == "EUR"
    assert totals.gross == one.gross + two.gross
    assert totals.employee_contributions == one.employee_contributions + two.employee_contributions
    assert totals.taxable == one.taxable + two.taxable
    assert totals.withholding == one.withholding + two.withholding
    assert totals.net == one.net + two.net
    assert totals.expenses == Decimal("0.00")
    # Every payslip's gross is what its budget leaves after the employer's contributions.
    assert totals.gross == (
        Decimal("2805.00")
        - one.employer_contributions
        - two.employer_contributions
        - one.budget_remainder
        - two.budget_remainder
    )
    assert totals.net == totals.gross - totals.employee_contributions - totals.withholding
    assert selectors.years_with_payslips(member=member) == [period.year + 1, period.year]
    assert selectors.yearly_totals(member=member, year=period.year - 1).count == 0

    log_in(be_client, member.user)
    page = html(be_client, f"/payslips/?year={period.year}")
    assert f"Totals for {period.year}" in page
    assert f"{totals.gross:,.2f} EUR" in page
    assert f"{totals.net:,.2f} EUR" in page
    assert "by their period" in page
    later = html(be_client, "/payslips/")  # the latest year by default
    assert f"Totals for {period.year + 1}" in later
    assert html(be_client, "/payslips/?year=nonsense").count("<tr>") == 4  # header + 3 payslips


def test_the_budget_page_shows_the_balance_and_the_movements(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
    be_client: HttpClient,
) -> None:
    member = inv_issued_invoice.member
    payslip = approved_run(period_of(inv_issued_invoice)).payslips.get()
    later = issued(member, inv_approved_contract, inv_advisor, price=Decimal("500.00"))

    movements = selectors.budget_movements(member=member)

    # Newest first by booking date: the run (booked on its period's last day, after both
    # invoices) used all of the first invoice's 935.00; the second invoice brought 500.00 less
    # its 32.50 fee; the first invoice 935.00.
    assert [(m.money_in, m.money_out, m.balance) for m in movements] == [
        (None, Decimal("935.00"), Decimal("467.50")),
        (Decimal("467.50"), None, Decimal("1402.50")),
        (Decimal("935.00"), None, Decimal("935.00")),
    ]
    assert movements[0].description == f"Salary run {period_of(inv_issued_invoice):%Y-%m}"
    assert movements[1].description.startswith(f"Invoice {later.number}")
    assert budget_available(member=member) == Decimal("467.50")
    # The balance after an entry counts the entries left out by the limit.
    assert [m.balance for m in selectors.budget_movements(member=member, limit=1)] == [
        Decimal("467.50")
    ]

    log_in(be_client, member.user)
    page = html(be_client, "/budget/")
    assert "467.50 EUR" in page
    assert str(later.number) in page
    home = html(be_client, "/")
    assert 'href="/budget/"' in home
    assert "467.50" in home
    assert f"{payslip.net} EUR net" in home
    assert f'href="/payslips/{payslip.pk}/"' in home
    assert 'href="/payslips/"' in home


def test_another_members_payslip_is_not_found(
    paid_member: tuple[HttpClient, Payslip], in_be: Entity
) -> None:
    _http, payslip = paid_member
    other = HttpClient(headers={"host": entity_host("be")})
    log_in(other, MemberFactory().user)

    assert other.get(f"/payslips/{payslip.pk}/").status_code == 404
    assert other.get(f"/payslips/{payslip.pk}/pdf/").status_code == 404
    assert f"/payslips/{payslip.pk}/" not in html(other, "/payslips/")
    assert "No payslip yet" in html(other, "/payslips/")
    assert "No movement yet" in html(other, "/budget/")


def test_a_fr_member_neither_logs_in_on_be_nor_reaches_be_payslips(
    paid_member: tuple[HttpClient, Payslip], fr_client: HttpClient
) -> None:
    _http, payslip = paid_member
    with schema_context("fr"):
        fr_user = MemberFactory().user
    be_other = HttpClient(headers={"host": entity_host("be")})

    refused = be_other.post("/accounts/login/", {"username": fr_user.email, "password": PASSWORD})
    assert refused.status_code == 200  # the form again: no such user on be
    log_in(fr_client, fr_user)
    assert fr_client.get(f"/payslips/{payslip.pk}/").status_code == 404
    assert fr_client.get(f"/payslips/{payslip.pk}/pdf/").status_code == 404
    assert f"{payslip.net:,.2f}" not in html(fr_client, "/payslips/")


@pytest.mark.parametrize("url", ["/payslips/", "/payslips/1/", "/payslips/1/pdf/", "/budget/"])
def test_anonymous_visitors_are_sent_to_log_in(be_client: HttpClient, url: str) -> None:
    response = be_client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("url", ["/payslips/", "/payslips/1/", "/payslips/1/pdf/", "/budget/"])
def test_a_user_without_a_member_file_is_asked_to_open_one(be_client: HttpClient, url: str) -> None:
    with schema_context("be"):
        user = UserFactory()
    log_in(be_client, user)

    response = be_client.get(url)

    assert response.status_code == 302
    assert response["Location"] == "/me/"


# A consultant in Belgium (standard category): 25 % employer contributions on the gross, so a
# monthly gross of 2,200.00 (over the minimum, 12.83 x 164.67 h = 2,112.72) costs 2,750.00.
MONTHLY_GROSS = Decimal("2200.00")
MONTHLY_COST = Decimal("2750.00")


def test_the_budget_page_projects_six_months_and_warns_when_it_turns_negative(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
    be_client: HttpClient,
) -> None:
    member = inv_issued_invoice.member
    today = timezone.localdate()
    start = today.replace(day=1)
    # Declared and approved, not invoiced yet: its 935.00 budget comes in the month after its
    # work ends (or this month).
    pipeline = inv_approved_contract(member=member)
    arrives = max((pipeline.last_day + datetime.timedelta(days=1)).replace(day=1), start)
    contract = permanent_contract_agree(
        member=member, monthly_gross=MONTHLY_GROSS, first_month=today, actor=inv_advisor()
    )

    projection = budget_projection(member=member)

    assert projection.contract == contract
    assert projection.balance == BUDGET
    expected, balance, month = [], BUDGET, start
    for _index in range(6):
        inflow = BUDGET if month == arrives else Decimal("0.00")
        balance = balance + inflow - MONTHLY_COST
        expected.append((month, inflow, MONTHLY_COST, balance))
        month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    assert [(m.month, m.inflow, m.outflow, m.balance) for m in projection.months] == expected
    assert projection.first_negative == start

    log_in(be_client, member.user)
    page = html(be_client, "/budget/")
    assert f"{BUDGET:,.2f} EUR" in page
    assert f"{MONTHLY_GROSS:,.2f} EUR" in page
    assert 'role="alert"' in page
    assert f"Your budget turns negative in {start:%B %Y}" in page
    for month, _inflow, _outflow, balance in expected:
        assert f"{month:%B %Y}" in page
        assert f"{balance:,.2f} EUR" in page
    assert page.count("(negative)") == 6
    assert "background: var(--error)" in page


def test_a_budget_that_carries_the_salary_raises_no_warning(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
    be_client: HttpClient,
) -> None:
    member = inv_issued_invoice.member
    # 20,000.00 invoiced less the 6.5 % fee: 18,700.00 more in the budget.
    issued(member, inv_approved_contract, inv_advisor, price=Decimal("20000.00"))
    permanent_contract_agree(
        member=member,
        monthly_gross=MONTHLY_GROSS,
        first_month=timezone.localdate(),
        actor=inv_advisor(),
    )

    projection = budget_projection(member=member)

    assert projection.balance == Decimal("19635.00")
    assert projection.months[-1].balance == Decimal("19635.00") - 6 * MONTHLY_COST
    assert projection.first_negative is None
    log_in(be_client, member.user)
    page = html(be_client, "/budget/")
    assert "19,635.00 EUR" in page
    assert "Your budget covers your monthly salary for these months." in page
    assert 'role="alert"' not in page
    assert "(negative)" not in page


def test_without_a_permanent_contract_the_budget_page_shows_no_projection(
    paid_member: tuple[HttpClient, Payslip],
) -> None:
    http, _payslip = paid_member

    page = html(http, "/budget/")

    assert "Agreed monthly gross salary" not in page
    assert "Projected activity budget" not in page
    assert "Movements" in page


def test_the_budget_page_shows_the_balance_when_a_contract_has_no_parameters(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> None:
    member = inv_issued_invoice.member
    # An approved contract on a day before the entity's first payroll parameters.
    old = ContractFactory(member=member)
    Contract.objects.filter(pk=old.pk).update(
        state=Contract.State.APPROVED,
        first_day=datetime.date(2024, 6, 3),
        last_day=datetime.date(2024, 6, 4),
    )

    log_in(be_client, member.user)
    page = be_client.get("/budget/", follow=True)

    assert page.status_code == 200
    text = page.content.decode()
    assert "The projection cannot be computed" in text
    assert "935.00" in text or "935,00" in text
