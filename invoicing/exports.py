"""The sales journal: every invoice and credit note issued in a period, for the accountant.

One row per document, from the figures snapshotted at issue (buyer, performer, totals, VAT
breakdown); credit notes count negative, so a column's sum is the period's turnover.

* CSV: UTF-8 with a byte order mark (Excel then reads the accents right), comma-separated,
  decimal point, ISO dates; rows only, no totals row, so that accounting software imports it.
* XLSX: numbers as numbers (two decimals), dates as dates, a header row and a totals row.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from invoicing.models import Invoice, VatCategory

ZERO = Decimal(0)
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class JournalRow:
    number: str
    kind: str
    issue_date: datetime.date
    due_date: datetime.date | None
    client: str
    client_vat: str
    member: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_breakdown: str
    state: str
    paid: Decimal


# (header, attribute, is an amount) in the order of the columns.
COLUMNS: list[tuple[Promise, str, bool]] = [
    (gettext_lazy("number"), "number", False),
    (gettext_lazy("kind"), "kind", False),
    (gettext_lazy("issue date"), "issue_date", False),
    (gettext_lazy("due date"), "due_date", False),
    (gettext_lazy("client"), "client", False),
    (gettext_lazy("client VAT number"), "client_vat", False),
    (gettext_lazy("member"), "member", False),
    (gettext_lazy("net"), "net", True),
    (gettext_lazy("VAT"), "vat", True),
    (gettext_lazy("gross"), "gross", True),
    (gettext_lazy("VAT breakdown"), "vat_breakdown", False),
    (gettext_lazy("state"), "state", False),
    (gettext_lazy("paid"), "paid", True),
]


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"  # 21.0000 -> "21", 5.5000 -> "5.5"


def _breakdown(invoice: Invoice, sign: Decimal) -> str:
    """ "21%:210.00", one part per VAT category and rate; the category named unless standard."""
    parts = []
    for tax in invoice.taxes.all():
        category = "" if tax.category == VatCategory.STANDARD else f" {tax.category}"
        parts.append(f"{_rate(tax.rate)}%{category}:{sign * tax.tax_amount}")
    return "; ".join(parts)


def sales_journal_rows(*, date_from: datetime.date, date_to: datetime.date) -> list[JournalRow]:
    """Issued documents whose issue date is in [date_from, date_to], by date and number."""
    documents = (
        Invoice.objects.exclude(state=Invoice.State.DRAFT)
        .filter(issue_date__gte=date_from, issue_date__lte=date_to)
        .prefetch_related("taxes")
        .order_by("issue_date", "number")
    )
    rows = []
    for document in documents:
        sign = Decimal(-1) if document.is_credit_note else Decimal(1)
        if document.issue_date is None or document.number is None:
            continue  # never for an issued document (a database constraint)
        rows.append(
            JournalRow(
                number=document.number,
                kind=document.get_kind_display(),
                issue_date=document.issue_date,
                due_date=document.due_date,
                client=document.buyer.get("name", ""),
                client_vat=document.buyer.get("vat_number", ""),
                member=document.performer,
                net=sign * document.net_total,
                vat=sign * document.vat_total,
                gross=sign * document.gross_total,
                vat_breakdown=_breakdown(document, sign),
                state=document.get_state_display(),
                paid=document.amount_paid,
            )
        )
    return rows


def _headers() -> list[str]:
    return [str(header) for header, _attribute, _amount in COLUMNS]


def sales_journal_csv(rows: list[JournalRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(_headers())
    for row in rows:
        values = [getattr(row, attribute) for _header, attribute, _amount in COLUMNS]
        writer.writerow(
            ["" if value is None else value.isoformat() if isinstance(value, datetime.date)
             else str(value) for value in values]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8-sig")


def sales_journal_xlsx(rows: list[JournalRow], *, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
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
    for index, (_header, attribute, amount) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if amount:
                cell.number_format = AMOUNT_FORMAT
            elif attribute in {"issue_date", "due_date"}:
                cell.number_format = DATE_FORMAT
        sheet.column_dimensions[letter].width = 14 if amount else 18
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sales_journal_filename(
    *, entity_code: str, date_from: datetime.date, date_to: datetime.date, extension: str
) -> str:
    return f"sales-journal-{entity_code}-{date_from.isoformat()}-{date_to.isoformat()}.{extension}"
