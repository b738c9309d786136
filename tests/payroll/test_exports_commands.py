"""``manage.py export_payroll`` and ``export_dmfa``: the run's files from the command line."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from invoicing.models import Invoice
from payroll.dmfa import Quarter
from payroll.exports import payroll_csv
from payroll.models import SalaryRun
from payroll.services import salary_run_approve, salary_run_mark_paid
from smart_coop.tenancy.models import Entity
from tests.payroll.test_runs import calculated, period_of


def run_command(name: str, *args: str) -> tuple[bytes, str]:
    """Run the command; what it wrote to standard output (bytes) and to standard error."""
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8")
    stderr = io.StringIO()
    call_command(name, *args, stdout=stdout, stderr=stderr)
    stdout.flush()
    return raw.getvalue(), stderr.getvalue()


@pytest.fixture
def run(in_be: Entity, inv_issued_invoice: Invoice) -> SalaryRun:
    return calculated(period_of(inv_issued_invoice))


def test_the_payroll_csv_goes_to_standard_output(run: SalaryRun) -> None:
    out, _err = run_command("export_payroll", "--entity=be", f"--period={run.period:%Y-%m}",
                            "--format=csv")  # fmt: skip

    assert out == payroll_csv(run)
    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"))))
    assert rows[1][-2:] == ["fixed_term", "650.24"]


def test_the_payroll_xlsx_goes_to_a_file(run: SalaryRun, tmp_path: Path) -> None:
    output = tmp_path / "payroll.xlsx"

    out, _err = run_command("export_payroll", "--entity=be", f"--period={run.period:%Y-%m}",
                            "--format=xlsx", f"--output={output}")  # fmt: skip

    sheet = load_workbook(output).active
    assert sheet is not None
    assert sheet.cell(row=1, column=14).value == "kind"
    assert sheet.cell(row=2, column=14).value == "fixed_term"
    assert (
        out.decode()
        == f"be {run.period:%Y-%m}: run {run.pk} calculated, xlsx written to {output}.\n"
    )


def test_the_sepa_file_needs_an_approved_run(run: SalaryRun, tmp_path: Path) -> None:
    output = tmp_path / "salaries.xml"
    period = f"--period={run.period:%Y-%m}"
    execution = (run.period + datetime.timedelta(days=40)).isoformat()

    with pytest.raises(CommandError, match="Only an approved run can be paid"):
        run_command("export_payroll", "--entity=be", period, "--format=sepa",
                    f"--execution-date={execution}", f"--output={output}")  # fmt: skip
    assert not output.exists()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run_command("export_payroll", "--entity=be", period, "--format=sepa",
                    "--execution-date=soon")  # fmt: skip

    salary_run_approve(run=run, actor=None)
    run_command("export_payroll", "--entity=be", period, "--format=sepa",
                f"--execution-date={execution}", f"--output={output}")  # fmt: skip

    content = output.read_text()
    assert "pain.001.001.09" in content
    assert '<InstdAmt Ccy="EUR">650.24</InstdAmt>' in content
    assert f"<Dt>{execution}</Dt>" in content


def test_a_run_is_marked_exported_only_once_paid(run: SalaryRun, tmp_path: Path) -> None:
    output = tmp_path / "payroll.csv"
    args = ("export_payroll", "--entity=be", f"--period={run.period:%Y-%m}", "--format=csv",
            f"--output={output}", "--mark-exported")  # fmt: skip
    salary_run_approve(run=run, actor=None)

    with pytest.raises(CommandError, match="only a paid run is marked exported"):
        run_command(*args)
    assert not output.exists()
    run.refresh_from_db()
    assert run.state == SalaryRun.State.APPROVED

    salary_run_mark_paid(run=run, actor=None)
    run_command(*args)

    run.refresh_from_db()
    assert run.state == SalaryRun.State.EXPORTED
    assert output.read_bytes() == payroll_csv(run)


def test_no_run_no_entity(be: Entity) -> None:
    with pytest.raises(CommandError, match="No salary run for 2020-01 in entity be"):
        run_command("export_payroll", "--entity=be", "--period=2020-01", "--format=csv")
    with pytest.raises(CommandError, match="Unknown entity 'zz'"):
        run_command("export_payroll", "--entity=zz", "--period=2020-01", "--format=csv")


# --- export_dmfa ---------------------------------------------------------------------------


def test_the_dmfa_of_the_run_s_quarter(run: SalaryRun, tmp_path: Path) -> None:
    quarter = Quarter.of(run.period)
    output = tmp_path / "dmfa.xlsx"

    out, err = run_command("export_dmfa", "--entity=be", f"--quarter={quarter}",
                           "--format=xlsx", f"--output={output}")  # fmt: skip

    sheet = load_workbook(output).active
    assert sheet is not None
    assert sheet.title == f"DmfA {quarter}"
    assert sheet.cell(row=2, column=13).value == pytest.approx(748.00)
    assert sheet.cell(row=2, column=7).value == "495"
    assert out.decode() == f"be DmfA {quarter}: 1 rows.\n"
    # The run is calculated, not approved: its payslips may still grow.
    assert err == f"The run {run.period:%Y-%m} is calculated, not approved yet.\n"


def test_the_dmfa_csv_goes_to_standard_output_and_a_bad_quarter_is_refused(
    run: SalaryRun,
) -> None:
    salary_run_approve(run=run, actor=None)
    quarter = Quarter.of(run.period)

    out, err = run_command("export_dmfa", "--entity=be", f"--quarter={quarter}")

    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][12:17] == ["748.00", "748.00", "187.00", "97.76", "0.00"]
    assert err == ""
    with pytest.raises(CommandError, match="YYYY-Qn"):
        run_command("export_dmfa", "--entity=be", "--quarter=2026-06")
