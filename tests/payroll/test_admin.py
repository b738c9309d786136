"""The payroll admin as accountants, advisors and entity admins use it, through HTTP."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from invoicing.models import Invoice
from members.services import entity_today
from payroll.models import PayrollParameters, Payslip, PermanentContract, SalaryRun
from payroll.services import salary_run_approve, salary_run_mark_paid
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.ledger.models import Transaction
from smart_coop.tenancy.models import Entity
from tests.factories import MemberFactory, UserFactory
from tests.invoicing.test_invoicing_admin import log_in, messages_of
from tests.payroll.test_runs import calculated, period_of

RUNS = "/admin/payroll/salaryrun/"
PAYSLIPS = "/admin/payroll/payslip/"
CONTRACTS = "/admin/payroll/permanentcontract/"
PARAMETERS = "/admin/payroll/payrollparameters/"


def logged_in(http: HttpClient, role: Role) -> User:
    with schema_context("be"):
        user = UserFactory(role=role)
    log_in(http, user)
    return user


def action(http: HttpClient, url: str, name: str, rows: list[Any], **answers: Any) -> Any:
    """Choose the action on the list, see its page, then confirm it with ``answers``."""
    selected = {"action": name, "_selected_action": [str(row.pk) for row in rows]}
    asked = http.post(url, selected)
    assert asked.status_code == 200
    return http.post(url, {**selected, "apply": "1", **answers}, follow=True)


def button(http: HttpClient, url: str, **answers: Any) -> Any:
    """A row's action button: its page, then confirmed with ``answers``."""
    assert http.get(url).status_code == 200
    return http.post(url, {"apply": "1", **answers}, follow=True)


def state_of(run: SalaryRun) -> str:
    with schema_context("be"):
        run.refresh_from_db()
    return run.state


@pytest.fixture
def run(in_be: Entity, inv_issued_invoice: Invoice) -> SalaryRun:
    """The calculated run paying the issued invoice (one payslip: gross 748.00, net 650.24)."""
    return calculated(period_of(inv_issued_invoice))


# --- who may see what --------------------------------------------------------------------------


def test_a_member_is_sent_to_the_login_page(be: Entity, be_client: HttpClient) -> None:
    with schema_context("be"):
        user = MemberFactory().user
    log_in(be_client, user)

    for url in (RUNS, PAYSLIPS, CONTRACTS, PARAMETERS):
        response = be_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_an_advisor_sees_permanent_contracts_only(run: SalaryRun, be_client: HttpClient) -> None:
    logged_in(be_client, Role.ADVISOR)
    with schema_context("be"):
        payslip = run.payslips.get()

    assert be_client.get(CONTRACTS).status_code == 200
    for url in (
        RUNS,
        f"{RUNS}{run.pk}/change/",
        f"{RUNS}{run.pk}/do/approve/",
        f"{RUNS}{run.pk}/download/payroll_csv/",
        f"{RUNS}add/",
        PAYSLIPS,
        f"{PAYSLIPS}{payslip.pk}/pdf/",
        PARAMETERS,
    ):
        assert be_client.get(url).status_code == 403, url
    refused = be_client.post(RUNS, {"action": "approve", "_selected_action": [str(run.pk)]})
    assert refused.status_code == 403
    assert state_of(run) == SalaryRun.State.CALCULATED


def test_another_entity_s_run_is_not_found(
    run: SalaryRun, fr: Entity, fr_client: HttpClient
) -> None:
    with schema_context("fr"):
        accountant = UserFactory(role=Role.ACCOUNTANT)
    log_in(fr_client, accountant)

    for url in (
        f"{RUNS}{run.pk}/change/",
        f"{RUNS}{run.pk}/download/payroll_csv/",
        f"{RUNS}{run.pk}/do/approve/",
    ):
        assert fr_client.get(url).status_code == 404, url
    assert fr_client.get(RUNS).context["cl"].result_count == 0


# --- salary runs -------------------------------------------------------------------------------


def test_an_accountant_takes_a_run_from_opening_to_export(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> None:
    accountant = logged_in(be_client, Role.ACCOUNTANT)
    assert inv_issued_invoice.contract is not None
    last_day = inv_issued_invoice.contract.last_day

    assert be_client.get(f"{RUNS}add/").status_code == 200
    opened = be_client.post(f"{RUNS}add/", {"period": last_day.isoformat()})
    assert opened.status_code == 302
    with schema_context("be"):
        run = SalaryRun.objects.get()
    assert (run.period, run.state) == (last_day.replace(day=1), SalaryRun.State.DRAFT)

    done = action(be_client, RUNS, "calculate", [run])
    assert messages_of(done) == [f"{run.period:%Y-%m} (draft) is calculated."]
    assert state_of(run) == SalaryRun.State.CALCULATED
    listing = be_client.get(RUNS).content.decode()
    assert "748.00 EUR" in listing  # gross
    assert "650.24 EUR" in listing  # net, and to pay (no expenses)
    page = be_client.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert f"{RUNS}{run.pk}/do/approve/" in page
    assert f"{RUNS}{run.pk}/do/mark_paid/" not in page
    assert "935.00 EUR" in page  # the salary budget in the totals

    button(be_client, f"{RUNS}{run.pk}/do/approve/")
    assert state_of(run) == SalaryRun.State.APPROVED
    assert run.approved_by == accountant
    with schema_context("be"):
        assert Transaction.objects.filter(idempotency_key=f"salary_run:{run.pk}:approve").exists()

    paid_on = last_day + datetime.timedelta(days=3)
    paid = button(be_client, f"{RUNS}{run.pk}/do/mark_paid/", paid_on=paid_on.isoformat())
    assert messages_of(paid)[-1] == f"{run.period:%Y-%m} (approved) is paid and booked."
    assert state_of(run) == SalaryRun.State.PAID
    with schema_context("be"):
        booked = Transaction.objects.get(idempotency_key=f"salary_run:{run.pk}:paid")
        assert booked.occurred_on == paid_on
        assert {entry.amount for entry in booked.entries.all()} == {
            Decimal("650.24"),
            Decimal("-650.24"),
        }

    button(be_client, f"{RUNS}{run.pk}/do/mark_exported/")
    assert state_of(run) == SalaryRun.State.EXPORTED
    assert run.exported_by == accountant


def test_an_approved_run_cannot_be_recalculated(run: SalaryRun, be_client: HttpClient) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        salary_run_approve(run=run, actor=None)
    page = be_client.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert f"{RUNS}{run.pk}/do/calculate/" not in page
    assert f"{RUNS}{run.pk}/do/mark_paid/" in page

    refused = action(be_client, RUNS, "calculate", [run])
    by_button = button(be_client, f"{RUNS}{run.pk}/do/calculate/")

    expected = f"{run.period:%Y-%m} (approved): A salary run cannot go from approved to calculated."
    assert refused.status_code == by_button.status_code == 200
    assert messages_of(refused) == [expected]
    assert messages_of(by_button) == [expected]
    assert state_of(run) == SalaryRun.State.APPROVED
    with schema_context("be"):
        assert run.payslips.count() == 1


def test_a_paid_date_is_required_and_exporting_waits_for_payment(
    run: SalaryRun, be_client: HttpClient
) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        salary_run_approve(run=run, actor=None)

    no_date = be_client.post(
        f"{RUNS}{run.pk}/do/mark_paid/", {"apply": "1", "paid_on": ""}, follow=True
    )
    too_early = action(be_client, RUNS, "mark_exported", [run])

    assert no_date.context["form"].errors["paid_on"] == ["This field is required."]
    assert messages_of(too_early) == [
        f"{run.period:%Y-%m} (approved): A salary run cannot go from approved to exported."
    ]
    assert state_of(run) == SalaryRun.State.APPROVED


def test_the_run_s_files_download(run: SalaryRun, be_client: HttpClient) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        salary_run_approve(run=run, actor=None)
        payslip = run.payslips.get()

    payroll = be_client.get(f"{RUNS}{run.pk}/download/payroll_csv/")
    workbook = be_client.get(f"{RUNS}{run.pk}/download/payroll_xlsx/")
    journal = be_client.get(f"{RUNS}{run.pk}/download/journal_csv/")
    journal_xlsx = be_client.get(f"{RUNS}{run.pk}/download/journal_xlsx/")
    dmfa = be_client.get(f"{RUNS}{run.pk}/download/dmfa_csv/")
    dmfa_xlsx = be_client.get(f"{RUNS}{run.pk}/download/dmfa_xlsx/")

    assert payroll["Content-Disposition"] == (
        f'attachment; filename="payroll-be-{run.period:%Y-%m}.csv"'
    )
    rows = list(csv.reader(io.StringIO(payroll.content.decode("utf-8-sig"))))
    assert rows[0][-2:] == ["kind", "to pay"]
    assert rows[1][-2:] == ["fixed_term", "650.24"]
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=15).value == pytest.approx(650.24)
    entries = list(csv.reader(io.StringIO(journal.content.decode("utf-8-sig"))))
    assert f"salary_run:{run.pk}:approve" in {line[1] for line in entries[1:]}
    assert load_workbook(io.BytesIO(journal_xlsx.content)).sheetnames[1] == "Accounts"
    quarter_rows = list(csv.reader(io.StringIO(dmfa.content.decode("utf-8-sig"))))
    assert len(quarter_rows) == 2
    assert quarter_rows[1][1] == payslip.member.national_id
    assert quarter_rows[1][12] == "748.00"
    assert dmfa_xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert be_client.get(f"{RUNS}{run.pk}/download/nothing/").status_code == 404


def test_the_sepa_file_pays_an_approved_run(run: SalaryRun, be_client: HttpClient) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    sepa = f"{RUNS}{run.pk}/do/sepa/"
    execution = (run.period + datetime.timedelta(days=40)).isoformat()

    not_yet = button(be_client, sepa, execution_date=execution)
    assert messages_of(not_yet) == [
        f"{run.period:%Y-%m} (calculated): Only an approved run can be paid."
    ]

    with schema_context("be"):
        salary_run_approve(run=run, actor=None)
        iban = run.payslips.get().member.iban
    response = button(be_client, sepa, execution_date=execution)

    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == (
        f'attachment; filename="salaries-be-{run.period:%Y-%m}.xml"'
    )
    content = response.content.decode()
    assert "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" in content
    assert f"<IBAN>{iban}</IBAN>" in content
    assert '<InstdAmt Ccy="EUR">650.24</InstdAmt>' in content
    assert f"<Dt>{execution}</Dt>" in content


def test_an_entity_outside_the_euro_gets_no_sepa_file(
    run: SalaryRun, be_client: HttpClient
) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        salary_run_approve(run=run, actor=None)
    Entity.objects.filter(schema_name="be").update(currency="SEK")

    refused = be_client.get(f"{RUNS}{run.pk}/do/sepa/", follow=True)

    assert messages_of(refused) == [
        "SEPA credit transfers are in euro only: this entity pays in SEK. "
        "Pay its salaries with its bank's own format."
    ]


# --- payslips ----------------------------------------------------------------------------------


def test_payslips_are_read_only_filtered_and_searched(
    run: SalaryRun, be_client: HttpClient
) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        payslip = run.payslips.select_related("member__user").get()
        last_name = payslip.member.user.last_name

    def listed(query: str) -> list[Payslip]:
        return list(be_client.get(f"{PAYSLIPS}?{query}").context["cl"].result_list)

    assert listed(f"run__id__exact={run.pk}") == [payslip]
    assert listed("kind__exact=fixed_term") == [payslip]
    assert listed("kind__exact=monthly") == []
    assert listed("is_estimate__exact=1") == ([payslip] if payslip.is_estimate else [])
    assert listed(f"q={last_name}") == [payslip]
    assert listed("q=nobody-has-this-name") == []
    page = be_client.get(f"{PAYSLIPS}{payslip.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Employee contributions" in content or "employee contributions" in content
    assert f"{PAYSLIPS}{payslip.pk}/do/correct/" in content
    assert be_client.get(f"{PAYSLIPS}add/").status_code == 403
    assert be_client.post(f"{PAYSLIPS}{payslip.pk}/change/", {}).status_code == 403
    assert be_client.get(f"{PAYSLIPS}{payslip.pk}/delete/").status_code == 403
    pdf = be_client.get(f"{PAYSLIPS}{payslip.pk}/pdf/")
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Type"] == "application/pdf"


def test_an_accountant_corrects_a_payslip_by_a_new_one(
    run: SalaryRun, be_client: HttpClient
) -> None:
    accountant = logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        original = run.payslips.get()

    no_reason = action(be_client, PAYSLIPS, "correct", [original], gross="-100.00", reason="")
    done = action(
        be_client, PAYSLIPS, "correct", [original], gross="-100.00", reason="One day too many"
    )

    assert "reason" in no_reason.context["form"].errors
    assert messages_of(done) == [f"{original} is corrected by a new payslip in the open run."]
    with schema_context("be"):
        correction = Payslip.objects.get(kind=Payslip.Kind.CORRECTION)
        assert correction.corrects == original
        assert correction.run.period > run.period
        assert (correction.gross, correction.net) == (Decimal("-100.00"), Decimal("-86.93"))
        assert correction.reason == "One day too many"
        assert Payslip.objects.count() == 2
    assert accountant.has_perm("payroll.correct_payslip")


# --- permanent contracts -----------------------------------------------------------------------


def test_an_advisor_agrees_a_permanent_contract_and_ends_it(
    in_be: Entity, inv_issued_invoice: Invoice, be_client: HttpClient
) -> None:
    advisor = logged_in(be_client, Role.ADVISOR)
    member = inv_issued_invoice.member  # the invoice put 935.00 in their budget
    month = entity_today(in_be).replace(day=1)
    agreement = {
        "member": str(member.pk),
        "monthly_gross": "2500.00",
        "hours_per_month": "164.67",
        "first_month": month.isoformat(),
        "note": "",
    }

    assert be_client.get(f"{CONTRACTS}add/").status_code == 200
    too_low = be_client.post(f"{CONTRACTS}add/", {**agreement, "monthly_gross": "1000.00"})
    agreed = be_client.post(f"{CONTRACTS}add/", agreement)

    assert too_low.status_code == 200
    assert "under the minimum pay for 164.67 hours: 2112.72" in too_low.content.decode()
    assert agreed.status_code == 302
    with schema_context("be"):
        contract = PermanentContract.objects.get()
    assert (contract.member, contract.monthly_gross, contract.agreed_by) == (
        member,
        Decimal("2500.00"),
        advisor,
    )
    listing = be_client.get(CONTRACTS)
    assert list(listing.context["cl"].result_list) == [contract]
    assert "935.00 EUR" in listing.content.decode()  # the budget available
    page = be_client.get(f"{CONTRACTS}{contract.pk}/change/").content.decode()
    assert f"The budget turns negative in {month:%Y-%m}." in page
    assert be_client.post(f"{CONTRACTS}{contract.pk}/change/", agreement).status_code == 403
    assert be_client.get(f"{CONTRACTS}{contract.pk}/delete/").status_code == 403

    before = (month - datetime.timedelta(days=1)).replace(day=1)
    refused = button(be_client, f"{CONTRACTS}{contract.pk}/do/end/", last_month=before.isoformat())
    ended = button(be_client, f"{CONTRACTS}{contract.pk}/do/end/", last_month=month.isoformat())

    assert messages_of(refused) == [f"{contract}: The last month comes after the first month."]

    assert messages_of(ended) == [f"{contract} is ended."]
    with schema_context("be"):
        contract.refresh_from_db()
    assert contract.last_month == month


def test_an_accountant_does_not_agree_permanent_contracts(
    be: Entity, be_client: HttpClient
) -> None:
    logged_in(be_client, Role.ACCOUNTANT)

    assert be_client.get(CONTRACTS).status_code == 200
    assert be_client.get(f"{CONTRACTS}add/").status_code == 403


# --- parameters --------------------------------------------------------------------------------


def test_parameters_are_read_only_and_a_new_version_is_an_entity_admin_s(
    be: Entity, be_client: HttpClient
) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        current = PayrollParameters.objects.filter(category="standard").first()
        assert current is not None
        count = PayrollParameters.objects.count()

    assert be_client.get(PARAMETERS).status_code == 200
    assert be_client.get(f"{PARAMETERS}{current.pk}/change/").status_code == 200
    assert be_client.get(f"{PARAMETERS}add/").status_code == 403
    be_client.logout()

    logged_in(be_client, Role.ENTITY_ADMIN)
    form = be_client.get(f"{PARAMETERS}add/?category=standard")
    assert form.status_code == 200
    assert form.context["adminform"].form.initial["fee_percent"] == current.fee_percent
    new_version = {
        key: "" if value is None else value
        for key, value in model_to_dict(current).items()
        if key not in {"id", "withholding_scale"}
    }
    new_version["valid_from"] = (current.valid_from + datetime.timedelta(days=365)).isoformat()
    new_version["withholding_scale"] = "{}"
    new_version["fee_percent"] = "7.0000"
    added = be_client.post(f"{PARAMETERS}add/", new_version)

    assert added.status_code == 302, added.context["adminform"].form.errors
    assert be_client.post(f"{PARAMETERS}{current.pk}/change/", new_version).status_code == 403
    assert be_client.get(f"{PARAMETERS}{current.pk}/delete/").status_code == 403
    with schema_context("be"):
        assert PayrollParameters.objects.count() == count + 1
        latest = PayrollParameters.objects.get(
            category="standard", valid_from=new_version["valid_from"]
        )
        assert latest.fee_percent == Decimal("7.0000")
        current.refresh_from_db()
        assert current.fee_percent != Decimal("7.0000")


def test_paid_runs_still_download_after_payment(run: SalaryRun, be_client: HttpClient) -> None:
    logged_in(be_client, Role.ACCOUNTANT)
    with schema_context("be"):
        salary_run_mark_paid(run=salary_run_approve(run=run, actor=None), actor=None)

    assert be_client.get(f"{RUNS}{run.pk}/download/payroll_csv/").status_code == 200
    page = be_client.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert f"{RUNS}{run.pk}/do/mark_exported/" in page
