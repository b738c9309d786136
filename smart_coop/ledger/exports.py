"""The accounting journal: every ledger entry of a period, for the accounting package.

``journal_rows`` takes the transactions whose date (``occurred_on``) falls in the period, whole
(a transaction is never split, so the rows balance), optionally of some kinds only, and gives
one row per entry, in this column order:

* ``date``: the transaction's date, ISO (``YYYY-MM-DD``)
* ``transaction``: the transaction's idempotency key, e.g. ``salary_run:3:approve``
* ``kind``: the transaction's kind, e.g. ``invoice_issue``, ``salary_run``
* ``description``: the transaction's description
* ``account code``: e.g. ``bank``, ``budget:12`` (a member's activity budget)
* ``account name``
* ``debit``: the entry's amount when it is a debit, else 0
* ``credit``: the entry's amount when it is a credit (as a positive number), else 0
* ``currency``: ISO 4217 code
* ``reference``: what the entry is about, e.g. ``invoice:12``, ``salary_run:3``

The per-account summary (``journal_summary``) has the columns ``account code``, ``account
name``, ``currency``, ``debit`` (total), ``credit`` (total), ``balance`` (debit less credit).

* CSV: UTF-8 with a byte order mark, comma-separated, decimal point, ISO dates; the entries
  only, no totals row, so that accounting software imports it.
* XLSX: a sheet of entries (amounts as numbers with two decimals, dates as dates) ending with a
  totals row, and a sheet with the per-account summary.

Both refuse (``UnbalancedError``) rows whose debits and credits differ in some currency: a
journal that does not balance is never handed on.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from smart_coop.ledger.models import Entry
from smart_coop.ledger.services import UnbalancedError

ZERO = Decimal("0.00")
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class JournalRow:
    date: datetime.date
    transaction: str
    kind: str
    description: str
    account_code: str
    account_name: str
    debit: Decimal
    credit: Decimal
    currency: str
    reference: str


@dataclass(frozen=True)
class AccountSummary:
    account_code: str
    account_name: str
    currency: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


# (header, attribute, is an amount) in the order of the columns.
COLUMNS: list[tuple[Promise, str, bool]] = [
    (gettext_lazy("date"), "date", False),
    (gettext_lazy("transaction"), "transaction", False),
    (gettext_lazy("kind"), "kind", False),
    (gettext_lazy("description"), "description", False),
    (gettext_lazy("account code"), "account_code", False),
    (gettext_lazy("account name"), "account_name", False),
    (gettext_lazy("debit"), "debit", True),
    (gettext_lazy("credit"), "credit", True),
    (gettext_lazy("currency"), "currency", False),
    (gettext_lazy("reference"), "reference", False),
]
SUMMARY_COLUMNS: list[tuple[Promise, str, bool]] = [
    (gettext_lazy("account code"), "account_code", False),
    (gettext_lazy("account name"), "account_name", False),
    (gettext_lazy("currency"), "currency", False),
    (gettext_lazy("debit"), "debit", True),
    (gettext_lazy("credit"), "credit", True),
    (gettext_lazy("balance"), "balance", True),
]


def journal_rows(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    kinds: Iterable[str] | None = None,
) -> list[JournalRow]:
    """The entries of the transactions dated from ``date_from`` to ``date_to`` (both included),
    of the given transaction ``kinds`` (all when None), by date, transaction, then entry."""
    entries = Entry.objects.filter(
        transaction__occurred_on__gte=date_from, transaction__occurred_on__lte=date_to
    )
    if kinds is not None:
        entries = entries.filter(transaction__kind__in=list(kinds))
    rows = entries.select_related("transaction", "account").order_by(
        "transaction__occurred_on", "transaction_id", "pk"
    )
    return [
        JournalRow(
            date=entry.transaction.occurred_on,
            transaction=entry.transaction.idempotency_key,
            kind=entry.transaction.kind,
            description=entry.transaction.description,
            account_code=entry.account.code,
            account_name=entry.account.name,
            debit=entry.amount if entry.amount > 0 else ZERO,
            credit=-entry.amount if entry.amount < 0 else ZERO,
            currency=entry.currency,
            reference=entry.reference,
        )
        for entry in rows
    ]


def journal_summary(rows: Sequence[JournalRow]) -> list[AccountSummary]:
    """Per account (and currency): the total debits and credits of ``rows``, by account code."""
    totals: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in rows:
        sums = totals[(row.account_code, row.account_name, row.currency)]
        sums[0] += row.debit
        sums[1] += row.credit
    return [
        AccountSummary(code, name, currency, debit, credit)
        for (code, name, currency), (debit, credit) in sorted(totals.items())
    ]


def journal_check(rows: Sequence[JournalRow]) -> None:
    """Raise ``UnbalancedError`` unless the debits equal the credits in each currency."""
    per_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        per_currency[row.currency] += row.debit - row.credit
    unbalanced = {currency: total for currency, total in per_currency.items() if total}
    if unbalanced:
        raise UnbalancedError(f"the journal's debits and credits differ: {unbalanced}")


def _headers(columns: list[tuple[Promise, str, bool]]) -> list[str]:
    return [str(header) for header, _attribute, _amount in columns]


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def journal_csv(rows: Sequence[JournalRow]) -> bytes:
    """The entries as CSV (see the module's docstring); refuses an unbalanced journal."""
    journal_check(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(_headers(COLUMNS))
    for row in rows:
        writer.writerow([_text(getattr(row, attribute)) for _h, attribute, _a in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def _sheet_fill(
    sheet: Worksheet, columns: list[tuple[Promise, str, bool]], rows: Sequence[object]
) -> None:
    sheet.append(_headers(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([getattr(row, attribute) for _header, attribute, _amount in columns])


def _sheet_format(sheet: Worksheet, columns: list[tuple[Promise, str, bool]]) -> None:
    for index, (_header, attribute, amount) in enumerate(columns, start=1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if amount:
                cell.number_format = AMOUNT_FORMAT
            elif attribute == "date":
                cell.number_format = DATE_FORMAT
        sheet.column_dimensions[get_column_letter(index)].width = 14 if amount else 20
    sheet.freeze_panes = "A2"


def journal_xlsx(rows: Sequence[JournalRow], *, title: str) -> bytes:
    """The entries and the per-account summary as XLSX (see the module's docstring); refuses
    an unbalanced journal."""
    journal_check(rows)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title[:31]
    _sheet_fill(sheet, COLUMNS, rows)
    totals: list[str | Decimal | None] = [_("Total")] + [None] * (len(COLUMNS) - 1)
    for index, (_header, attribute, amount) in enumerate(COLUMNS):
        if amount:
            totals[index] = sum((getattr(row, attribute) for row in rows), ZERO)
    sheet.append(totals)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    _sheet_format(sheet, COLUMNS)
    summary = workbook.create_sheet(_("Accounts")[:31])
    _sheet_fill(summary, SUMMARY_COLUMNS, journal_summary(rows))
    _sheet_format(summary, SUMMARY_COLUMNS)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def journal_filename(
    *, entity_code: str, date_from: datetime.date, date_to: datetime.date, extension: str
) -> str:
    return f"journal-{entity_code}-{date_from.isoformat()}-{date_to.isoformat()}.{extension}"
