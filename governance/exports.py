"""The share register as the law asks for it: every movement with its holder, class and date.

One row per register line, in date order, in this column order:

* ``line``: the register line number (never reused)
* ``date``: the day of the movement (a purchase: the day it was paid), ``YYYY-MM-DD``
* ``holder``, ``holder kind`` (natural or legal person), ``address`` (domicile or seat),
  ``enterprise number`` (legal persons)
* ``class``: the share class code
* ``movement``: purchase, redemption, transfer received or transfer given
* ``transferred to or from``: the other holder of a transfer
* ``shares``: shares acquired (positive) or given up (negative)
* ``nominal value``, ``amount``, ``currency``: per share, and paid (repaid, or for a
  transfer the nominal value transferred) in total
* ``held after``: the holder's shares of that class after the movement

CSV: UTF-8 with a byte order mark, comma-separated, decimal point. XLSX: the same columns,
amounts as numbers, and a second sheet with the shares per class (the register's totals).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from governance.selectors import register_movements


def _headers() -> list[str]:
    return [
        _("line"), _("date"), _("holder"), _("holder kind"), _("address"),
        _("enterprise number"), _("class"), _("movement"), _("transferred to or from"),
        _("shares"), _("nominal value"),
        _("amount"), _("currency"), _("held after"),
    ]  # fmt: skip


def register_rows() -> Iterator[list[object]]:
    held: dict[tuple[int, int], int] = defaultdict(int)
    for movement in register_movements().iterator(chunk_size=2000):
        holder = movement.shareholder
        held[(holder.pk, movement.share_class_id)] += movement.quantity
        yield [
            movement.pk,
            movement.occurred_on.isoformat(),
            holder.name,
            holder.get_kind_display(),
            f"{holder.street}, {holder.postal_code} {holder.city}, {holder.country}",
            holder.company_number,
            movement.share_class.code,
            movement.get_kind_display(),
            movement.counterparty.name if movement.counterparty else "",
            movement.quantity,
            movement.unit_value,
            movement.amount if movement.quantity > 0 else -movement.amount,
            movement.currency,
            held[(holder.pk, movement.share_class_id)],
        ]


def register_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for row in register_rows():
        writer.writerow([f"{value:.2f}" if isinstance(value, Decimal) else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def register_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Register")[:31]
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    totals: dict[str, int] = defaultdict(int)
    for row in register_rows():
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        totals[str(row[6])] += int(str(row[9]))
        for column in (11, 12):
            sheet.cell(row=sheet.max_row, column=column).number_format = "#,##0.00"
    summary = workbook.create_sheet(_("Shares per class")[:31])
    summary.append([_("class"), _("shares")])
    for code in sorted(totals):
        summary.append([code, totals[code]])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
