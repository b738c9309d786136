"""The payroll of a salary run, for the accountant and the social secretariat.

One row per payslip of the run, from the payslip's stored figures, in this column order:

* ``period``: the run's month, ``YYYY-MM``
* ``member``: the member's full name
* ``national id``: the member's national identification number
* ``IBAN``: the member's account the net salary is paid to
* ``invoice number``: the invoice the salary comes from
* ``gross``: gross salary
* ``employer contributions``
* ``employee contributions``
* ``taxable``: gross less employee contributions
* ``withholding``: withholding tax
* ``net``: net salary (taxable less withholding)
* ``expenses``: expenses reimbursed untaxed
* ``currency``: ISO 4217 code
* ``kind``: ``fixed_term`` (one invoice's contract), ``monthly`` (a permanent contract's
  month) or ``correction`` (corrects an earlier payslip; amounts may be negative)
* ``to pay``: what the member receives for the payslip, net salary plus expenses (a payslip
  the guarantee fund paid out on its own was paid then, not by the run's transfers)

* CSV: UTF-8 with a byte order mark (Excel then reads the accents right), comma-separated,
  decimal point; rows only, no totals row, so that accounting software imports it.
* XLSX: amounts as numbers (two decimals), a header row and a totals row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from payroll.models import SalaryRun

ZERO = Decimal(0)
AMOUNT_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class PayrollRow:
    period: str
    member: str
    national_id: str
    iban: str
    invoice_number: str
    gross: Decimal
    employer_contributions: Decimal
    employee_contributions: Decimal
    taxable: Decimal
    withholding: Decimal
    net: Decimal
    expenses: Decimal
    currency: str
    kind: str
    to_pay: Decimal


# (header, attribute, is an amount) in the order of the columns.
COLUMNS: list[tuple[Promise, str, bool]] = [
    (gettext_lazy("period"), "period", False),
    (gettext_lazy("member"), "member", False),
    (gettext_lazy("national id"), "national_id", False),
    (gettext_lazy("IBAN"), "iban", False),
    (gettext_lazy("invoice number"), "invoice_number", False),
    (gettext_lazy("gross"), "gross", True),
    (gettext_lazy("employer contributions"), "employer_contributions", True),
    (gettext_lazy("employee contributions"), "employee_contributions", True),
    (gettext_lazy("taxable"), "taxable", True),
    (gettext_lazy("withholding"), "withholding", True),
    (gettext_lazy("net"), "net", True),
    (gettext_lazy("expenses"), "expenses", True),
    (gettext_lazy("currency"), "currency", False),
    (gettext_lazy("kind"), "kind", False),
    (gettext_lazy("to pay"), "to_pay", True),
]


def payroll_rows(run: SalaryRun) -> list[PayrollRow]:
    """The run's payslips, in the payslips' order (member, then id)."""
    payslips = run.payslips.select_related("member__user", "invoice").order_by(
        "member__user__last_name", "member__user__first_name", "pk"
    )
    return [
        PayrollRow(
            period=f"{run.period:%Y-%m}",
            member=payslip.member.user.get_full_name(),
            national_id=payslip.member.national_id,
            iban=payslip.member.iban,
            invoice_number=(payslip.invoice.number or "") if payslip.invoice else "",
            gross=payslip.gross,
            employer_contributions=payslip.employer_contributions,
            employee_contributions=payslip.employee_contributions,
            taxable=payslip.taxable,
            withholding=payslip.withholding,
            net=payslip.net,
            expenses=payslip.expenses,
            currency=payslip.currency,
            kind=payslip.kind,
            to_pay=payslip.to_pay,
        )
        for payslip in payslips
    ]


def _headers() -> list[str]:
    return [str(header) for header, _attribute, _amount in COLUMNS]


def payroll_csv(run: SalaryRun) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(_headers())
    for row in payroll_rows(run):
        writer.writerow([str(getattr(row, attribute)) for _header, attribute, _amount in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def payroll_xlsx(run: SalaryRun) -> bytes:
    rows = payroll_rows(run)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = f"{_('Payroll')} {run.period:%Y-%m}"[:31]
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([getattr(row, attribute) for _header, attribute, _amount in COLUMNS])
    totals: list[str | Decimal | None] = [_("Total")] + [None] * (len(COLUMNS) - 1)
    for index, (_header, attribute, amount) in enumerate(COLUMNS):
        if amount:
            totals[index] = sum((getattr(row, attribute) for row in rows), ZERO)
    sheet.append(totals)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, (_header, _attribute, amount) in enumerate(COLUMNS, start=1):
        if amount:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = AMOUNT_FORMAT
        sheet.column_dimensions[get_column_letter(index)].width = 14 if amount else 20
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
