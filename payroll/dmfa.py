"""The quarterly social declaration data: per member and quarter, what the payslips say.

Belgium files one DmfA per quarter (the multifunctional declaration to the ONSS, during the
month after the quarter; ../shared/domain/README.md 1.4): per worker, the pay and the working
time, with the worker code and the joint committee. This module gathers the fields we can fill
from the payslips of the quarter's salary runs; the social secretariat completes and files it.

One row per member and payroll category (the category decides the worker code and the
contribution base), in this column order:

* ``quarter``: ``YYYY-Qn``
* ``national id`` (Belgium: NISS): the member's national identification number
* ``last name``, ``first name``, ``date of birth`` (ISO)
* ``category``: the payroll category (``standard``, ``artist_manual``)
* ``worker code``, ``joint committee``: the declaration's codes (Belgium only, see
  ``DECLARATIONS``; empty elsewhere)
* ``codes verified``: ``yes`` when the codes' source was confirmed, else ``no``
* ``days``, ``hours``: working time. A fixed-term payslip counts its contract's work days and
  their hours; a monthly payslip counts its permanent contract's ``hours_per_month`` and, for
  days, those hours over a full-time day (``HOURS_PER_DAY``, an approximation); a correction
  changes pay, not time, and counts none
* ``payslips``: how many payslips the row adds up
* ``gross``, ``contribution base`` (the base the contributions were computed on, as stored on
  each payslip: 108 % of the gross for artists and manual workers in Belgium, 1.1),
  ``employer contributions``, ``employee contributions``, ``withholding``: sums of the payslips
* ``currency``: ISO 4217 code
* ``estimate``: ``yes`` when a payslip used an unverified parameter

Entities other than Belgium get the same per-quarter data, titled "Quarterly social data"
instead of "DmfA", with the Belgian codes left empty: each country's own declaration (DSN in
France, UniEmens in Italy, AGI in Sweden...) has its own codes, which are not known here yet.
A quarter's data covers the runs of its three months whatever their state; the command and
the admin warn about the runs not yet approved (``quarter_runs_open``).

* CSV: UTF-8 with a byte order mark, comma-separated, decimal point, ISO dates, no totals row.
* XLSX: amounts and working time as numbers, dates as dates, a header row and a totals row.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from members.models import WorkDay
from payroll.models import Category, Payslip, PayslipLine, SalaryRun
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity

ZERO = Decimal("0.00")
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
# A full-time Belgian day: a 38-hour week over five days. Only used to express a monthly
# payslip's hours as days (an approximation the social secretariat may refine).
HOURS_PER_DAY = Decimal("7.60")


@dataclass(frozen=True)
class Code:
    """A code of the declaration, with its source and whether the source was confirmed."""

    code: str
    label: str
    source: str
    verified: bool = False


@dataclass(frozen=True)
class Declaration:
    """A country's quarterly social declaration: its name and the codes we fill."""

    title: str
    worker_codes: dict[str, Code]
    joint_committee: Code | None


_DMFA_SOURCE = (
    "DmfA administrative instructions, worker codes "
    "(https://www.socialsecurity.be/employer/instructions/dmfa/fr/latest/instructions/"
    "socialsecuritycontributions/workercodes.html); not verified for the cooperative"
)
# Country -> declaration. Unverified codes are marked in the export ("codes verified": no).
DECLARATIONS: dict[str, Declaration] = {
    "BE": Declaration(
        title="DmfA",
        worker_codes={
            # Employees (white-collar) paid for intellectual work.
            Category.STANDARD: Code("495", "ordinary white-collar worker", _DMFA_SOURCE),
            # Artists (art. 1bis, law of 27 June 1969) and manual workers: contributions on
            # 108 % of the gross, declared with a manual worker code.
            Category.ARTIST_MANUAL: Code("015", "ordinary manual worker", _DMFA_SOURCE),
        },
        joint_committee=Code(
            "200",
            "auxiliary joint committee for employees (CPNAE)",
            "the cooperative's joint committee as assumed here; not verified",
        ),
    ),
}
GENERIC_TITLE = gettext_lazy("Quarterly social data")

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, value: str) -> Quarter:
        """``2026-Q2`` (or ``2026Q2``); DomainError when it is not a quarter."""
        found = _QUARTER.match(value.strip())
        if found is None:
            raise DomainError(
                _("A quarter is written YYYY-Qn, e.g. 2026-Q2, not %(value)s.") % {"value": value},
                field="quarter",
            )
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_month(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_month(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number, 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass
class DmfaRow:
    quarter: str
    national_id: str
    last_name: str
    first_name: str
    date_of_birth: datetime.date
    category: str
    worker_code: str
    joint_committee: str
    codes_verified: str
    days: Decimal = ZERO
    hours: Decimal = ZERO
    payslips: int = 0
    gross: Decimal = ZERO
    contribution_base: Decimal = ZERO
    employer_contributions: Decimal = ZERO
    employee_contributions: Decimal = ZERO
    withholding: Decimal = ZERO
    currency: str = ""
    estimate: str = "no"
    member_id: int = field(default=0, repr=False)


# (header, attribute, is a number to total) in the order of the columns.
COLUMNS: list[tuple[Promise, str, bool]] = [
    (gettext_lazy("quarter"), "quarter", False),
    (gettext_lazy("national id"), "national_id", False),
    (gettext_lazy("last name"), "last_name", False),
    (gettext_lazy("first name"), "first_name", False),
    (gettext_lazy("date of birth"), "date_of_birth", False),
    (gettext_lazy("category"), "category", False),
    (gettext_lazy("worker code"), "worker_code", False),
    (gettext_lazy("joint committee"), "joint_committee", False),
    (gettext_lazy("codes verified"), "codes_verified", False),
    (gettext_lazy("days"), "days", True),
    (gettext_lazy("hours"), "hours", True),
    (gettext_lazy("payslips"), "payslips", True),
    (gettext_lazy("gross"), "gross", True),
    (gettext_lazy("contribution base"), "contribution_base", True),
    (gettext_lazy("employer contributions"), "employer_contributions", True),
    (gettext_lazy("employee contributions"), "employee_contributions", True),
    (gettext_lazy("withholding"), "withholding", True),
    (gettext_lazy("currency"), "currency", False),
    (gettext_lazy("estimate"), "estimate", False),
]


def declaration_title(entity: Entity) -> str:
    """ "DmfA" for Belgium, "Quarterly social data" elsewhere."""
    declaration = DECLARATIONS.get(entity.country.upper())
    return declaration.title if declaration is not None else str(GENERIC_TITLE)


def quarter_runs(quarter: Quarter) -> list[SalaryRun]:
    """The salary runs of the quarter's three months (this schema)."""
    return list(
        SalaryRun.objects.filter(
            period__gte=quarter.first_month, period__lte=quarter.last_month
        ).order_by("period")
    )


def quarter_runs_open(quarter: Quarter) -> list[SalaryRun]:
    """The quarter's runs not approved yet: their payslips may still grow."""
    return [
        run
        for run in quarter_runs(quarter)
        if run.state in (SalaryRun.State.DRAFT, SalaryRun.State.CALCULATED)
    ]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def dmfa_rows(*, entity: Entity, quarter: Quarter) -> list[DmfaRow]:
    """Per member and payroll category, the quarter's payslips added up (see the docstring)."""
    declaration = DECLARATIONS.get(entity.country.upper())
    payslips = list(
        Payslip.objects.filter(
            run__period__gte=quarter.first_month, run__period__lte=quarter.last_month
        )
        .select_related("member__user", "parameters", "invoice", "permanent_contract")
        .order_by("pk")
    )
    # Each payslip's contribution base as stored with its employer contributions line.
    bases = dict(
        PayslipLine.objects.filter(
            payslip__in=[payslip.pk for payslip in payslips], code=PayslipLine.Code.EMPLOYER
        ).values_list("payslip_id", "base")
    )
    contract_ids = {
        payslip.invoice.contract_id
        for payslip in payslips
        if payslip.kind == Payslip.Kind.FIXED_TERM
        and payslip.invoice is not None
        and payslip.invoice.contract_id is not None
    }
    worked = {
        row["contract_id"]: (Decimal(row["days"]), row["hours"])
        for row in WorkDay.objects.filter(contract_id__in=contract_ids)
        .values("contract_id")
        .annotate(days=Count("pk"), hours=Sum("hours"))
    }
    rows: dict[tuple[int, str], DmfaRow] = {}
    for payslip in payslips:
        category = payslip.parameters.category
        key = (payslip.member_id, category)
        if key not in rows:
            member = payslip.member
            worker_code = declaration.worker_codes.get(category) if declaration else None
            committee = declaration.joint_committee if declaration else None
            codes = [code for code in (worker_code, committee) if code is not None]
            rows[key] = DmfaRow(
                quarter=str(quarter),
                national_id=member.national_id,
                last_name=member.user.last_name,
                first_name=member.user.first_name,
                date_of_birth=member.date_of_birth,
                category=category,
                worker_code=worker_code.code if worker_code else "",
                joint_committee=committee.code if committee else "",
                codes_verified=_yes(bool(codes) and all(code.verified for code in codes)),
                currency=payslip.currency,
                member_id=member.pk,
            )
        row = rows[key]
        days, hours = _time_worked(payslip, worked)
        row.days += days
        row.hours += hours
        row.payslips += 1
        row.gross += payslip.gross
        base = bases.get(payslip.pk)
        row.contribution_base += base if base is not None else payslip.gross
        row.employer_contributions += payslip.employer_contributions
        row.employee_contributions += payslip.employee_contributions
        row.withholding += payslip.withholding
        if payslip.is_estimate:
            row.estimate = "yes"
    return sorted(
        rows.values(),
        key=lambda row: (row.last_name, row.first_name, row.member_id, row.category),
    )


def _time_worked(
    payslip: Payslip, worked: dict[int, tuple[Decimal, Decimal]]
) -> tuple[Decimal, Decimal]:
    """(days, hours) the payslip pays for."""
    if payslip.kind == Payslip.Kind.FIXED_TERM and payslip.invoice is not None:
        contract_id = payslip.invoice.contract_id
        return worked.get(contract_id, (ZERO, ZERO)) if contract_id is not None else (ZERO, ZERO)
    # A monthly payslip without salary (expenses left after the contract ended) pays no time.
    if payslip.kind == Payslip.Kind.MONTHLY and payslip.permanent_contract is not None:
        if not payslip.gross:
            return ZERO, ZERO
        hours = payslip.permanent_contract.hours_per_month
        return (hours / HOURS_PER_DAY).quantize(Decimal("0.01")), hours
    return ZERO, ZERO


def _headers() -> list[str]:
    return [str(header) for header, _attribute, _number in COLUMNS]


def dmfa_csv(rows: list[DmfaRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(_headers())
    for row in rows:
        values = [getattr(row, attribute) for _header, attribute, _number in COLUMNS]
        writer.writerow(
            [value.isoformat() if isinstance(value, datetime.date) else str(value)
             for value in values]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8-sig")


def dmfa_xlsx(rows: list[DmfaRow], *, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title[:31]
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([getattr(row, attribute) for _header, attribute, _number in COLUMNS])
    totals: list[object] = [_("Total")] + [None] * (len(COLUMNS) - 1)
    for index, (_header, attribute, number) in enumerate(COLUMNS):
        if number:
            totals[index] = sum((getattr(row, attribute) for row in rows), ZERO)
    sheet.append(totals)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, (_header, attribute, number) in enumerate(COLUMNS, start=1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if number and attribute != "payslips":
                cell.number_format = AMOUNT_FORMAT
            elif attribute == "date_of_birth":
                cell.number_format = DATE_FORMAT
        sheet.column_dimensions[get_column_letter(index)].width = 14 if number else 18
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def dmfa_filename(*, entity: Entity, quarter: Quarter, extension: str) -> str:
    name = "dmfa" if entity.country.upper() in DECLARATIONS else "social-data"
    return f"{name}-{entity.code}-{quarter}.{extension}"
