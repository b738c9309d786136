"""smart_coop.ledger.exports and export_journal: the accounting journal of a period."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from invoicing.models import Invoice
from payroll.models import SalaryRun
from payroll.services import salary_run_approve
from smart_coop.ledger.exports import (
    JournalRow,
    journal_csv,
    journal_rows,
    journal_summary,
    journal_xlsx,
)
from smart_coop.ledger.services import UnbalancedError
from smart_coop.tenancy.models import Entity
from tests.payroll.test_runs import calculated, next_month, period_of

HEADER = [
    "date",
    "transaction",
    "kind",
    "description",
    "account code",
    "account name",
    "debit",
    "credit",
    "currency",
    "reference",
]
SUMMARY_HEADER = ["account code", "account name", "currency", "debit", "credit", "balance"]


def approved(invoice: Invoice) -> SalaryRun:
    return salary_run_approve(run=calculated(period_of(invoice)), actor=None)


def last_day(run: SalaryRun) -> datetime.date:
    return next_month(run.period) - datetime.timedelta(days=1)


def test_the_run_journal_lists_each_leg_and_balances(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = approved(inv_issued_invoice)
    payslip = run.payslips.get()

    rows = journal_rows(date_from=run.period, date_to=last_day(run), kinds=["salary_run"])

    legs = {row.account_code: (row.debit, row.credit) for row in rows}
    # 1,000.00 invoiced: gross 748.00, employer 187.00, employee 97.76, no tax, net 650.24;
    # zero legs (withholding, remainder) are not written.
    assert payslip.net == Decimal("650.24")
    assert legs == {
        f"budget:{inv_issued_invoice.member_id}": (Decimal("935.00"), Decimal("0.00")),
        "salaries_payable": (Decimal("0.00"), Decimal("650.24")),
        "social_payable": (Decimal("0.00"), Decimal("284.76")),
    }
    assert sum(row.debit for row in rows) == sum(row.credit for row in rows) == Decimal("935.00")
    first = rows[0]
    assert (first.date, first.transaction, first.kind) == (
        last_day(run),
        f"salary_run:{run.pk}:approve",
        "salary_run",
    )
    assert first.description == f"Salary run {run.period:%Y-%m}"
    assert {row.reference for row in rows} == {f"salary_run:{run.pk}"}
    assert {row.currency for row in rows} == {"EUR"}


def test_the_period_takes_whole_transactions_by_their_date(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = approved(inv_issued_invoice)
    issued_on = inv_issued_invoice.issue_date
    assert issued_on is not None

    on_issue_day = journal_rows(date_from=issued_on, date_to=issued_on)
    invoice_rows = journal_rows(date_from=issued_on, date_to=issued_on, kinds=["invoice"])
    day_before = journal_rows(
        date_from=issued_on - datetime.timedelta(days=1),
        date_to=issued_on - datetime.timedelta(days=1),
    )
    run_day = journal_rows(date_from=last_day(run), date_to=last_day(run))

    assert "salary_run" not in {row.kind for row in on_issue_day}
    assert set(invoice_rows) <= set(on_issue_day)
    assert {row.reference for row in invoice_rows} == {f"invoice:{inv_issued_invoice.pk}"}
    # 1,210.00 owed by the client: 1,000.00 to the member's budget and fee, 210.00 of VAT.
    assert sum(row.debit for row in invoice_rows) == Decimal("1210.00")
    assert sum(row.credit for row in invoice_rows) == Decimal("1210.00")
    assert sum(row.debit - row.credit for row in on_issue_day) == Decimal("0.00")
    assert day_before == []
    assert {row.kind for row in run_day} == {"salary_run"}
    everything = journal_rows(date_from=issued_on, date_to=last_day(run))
    assert set(on_issue_day) | set(run_day) <= set(everything)
    assert all(issued_on <= row.date <= last_day(run) for row in everything)


def test_the_summary_adds_up_per_account(in_be: Entity, inv_issued_invoice: Invoice) -> None:
    run = approved(inv_issued_invoice)
    issued_on = inv_issued_invoice.issue_date
    assert issued_on is not None

    summary = {
        line.account_code: line
        for line in journal_summary(journal_rows(date_from=issued_on, date_to=last_day(run)))
    }

    budget = summary[f"budget:{inv_issued_invoice.member_id}"]
    # Filled with the salary budget at issue, emptied by the run.
    assert (budget.debit, budget.credit, budget.balance) == (
        Decimal("935.00"),
        Decimal("935.00"),
        Decimal("0.00"),
    )
    # Owed at issue, paid by the client the same day.
    receivables = summary["receivables"]
    assert (receivables.debit, receivables.credit) == (Decimal("1210.00"), Decimal("1210.00"))
    assert (summary["bank"].debit, summary["bank"].credit) == (Decimal("1210.00"), Decimal("0.00"))
    assert sum(line.balance for line in summary.values()) == Decimal("0.00")


def test_the_csv_has_the_documented_columns_and_no_totals(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = approved(inv_issued_invoice)
    rows = journal_rows(date_from=run.period, date_to=last_day(run), kinds=["salary_run"])

    data = journal_csv(rows)

    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == HEADER
    assert len(lines) == 1 + len(rows)
    budget = next(line for line in lines[1:] if line[4].startswith("budget:"))
    assert budget[0] == last_day(run).isoformat()
    assert (budget[6], budget[7]) == ("935.00", "0.00")


def test_the_xlsx_has_numbers_a_totals_row_and_the_accounts(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    run = approved(inv_issued_invoice)
    issued_on = inv_issued_invoice.issue_date
    assert issued_on is not None
    rows = journal_rows(date_from=issued_on, date_to=last_day(run), kinds=["invoice", "salary_run"])

    book = load_workbook(io.BytesIO(journal_xlsx(rows, title="Journal")))

    sheet = book["Journal"]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == HEADER
    assert len(cells) == 1 + len(rows) + 1
    for cell_row, row in zip(cells[1:-1], rows, strict=True):
        assert cell_row[0] == datetime.datetime.combine(row.date, datetime.time())
        assert isinstance(cell_row[6], int | float)
        assert Decimal(str(cell_row[6])).quantize(Decimal("0.01")) == row.debit
        assert Decimal(str(cell_row[7])).quantize(Decimal("0.01")) == row.credit
    totals = cells[-1]
    assert totals[0] == "Total"
    assert Decimal(str(totals[6])) == Decimal(str(totals[7])) == Decimal("2145.00")
    assert sheet.cell(row=2, column=7).number_format == "#,##0.00"
    accounts = [list(row) for row in book["Accounts"].iter_rows(values_only=True)]
    assert accounts[0] == SUMMARY_HEADER
    assert len(accounts) == 1 + len(journal_summary(rows))


def test_an_unbalanced_journal_is_refused() -> None:
    row = JournalRow(
        date=datetime.date(2026, 6, 30),
        transaction="t",
        kind="k",
        description="d",
        account_code="bank",
        account_name="Bank",
        debit=Decimal("10.00"),
        credit=Decimal("0.00"),
        currency="EUR",
        reference="",
    )

    with pytest.raises(UnbalancedError):
        journal_csv([row])
    with pytest.raises(UnbalancedError):
        journal_xlsx([row], title="Journal")


def test_another_entity_s_journal_stays_out(
    be: Entity, fr: Entity, inv_issued_invoice: Invoice
) -> None:
    run = approved(inv_issued_invoice)
    issued_on = inv_issued_invoice.issue_date
    assert issued_on is not None

    with schema_context("fr"):
        assert journal_rows(date_from=issued_on, date_to=last_day(run)) == []


# --- the command ---------------------------------------------------------------------------


def test_the_command_writes_the_month_s_journal(
    in_be: Entity, inv_issued_invoice: Invoice, tmp_path: Path
) -> None:
    run = approved(inv_issued_invoice)
    output = tmp_path / "journal.xlsx"
    stdout = io.StringIO()

    call_command(
        "export_journal",
        "--entity=be",
        f"--period={run.period:%Y-%m}",
        "--format=xlsx",
        f"--output={output}",
        stdout=stdout,
    )

    sheet = load_workbook(output).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    expected = journal_rows(date_from=run.period, date_to=last_day(run))
    assert cells[0] == HEADER
    assert [row[1] for row in cells[1:-1]] == [row.transaction for row in expected]
    assert f"salary_run:{run.pk}:approve" in [row[1] for row in cells[1:-1]]
    assert stdout.getvalue().startswith(f"be {run.period:%Y-%m}: {len(expected)} entries")


def test_the_command_refuses_an_unknown_entity_and_a_bad_period(be: Entity) -> None:
    with pytest.raises(CommandError, match="Unknown entity 'xx'"):
        call_command("export_journal", "--entity=xx", "--period=2026-06")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("export_journal", "--entity=be", "--period=June")
