"""payroll.documents and payroll.exports: the payslip PDF and the run's CSV and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from invoicing.models import Invoice
from members.models import Contract
from payroll.documents import payslip_html, payslip_pdf
from payroll.exports import payroll_csv, payroll_xlsx
from payroll.models import Payslip, SalaryRun
from smart_coop.accounts.models import User
from smart_coop.tenancy.models import Entity
from tests.payroll.conftest import issued_and_paid
from tests.payroll.test_runs import calculated, period_of

HEADER = [
    "period",
    "member",
    "national id",
    "IBAN",
    "invoice number",
    "gross",
    "employer contributions",
    "employee contributions",
    "taxable",
    "withholding",
    "net",
    "expenses",
    "currency",
    "kind",
    "to pay",
]
AMOUNTS = [
    "gross",
    "employer_contributions",
    "employee_contributions",
    "taxable",
    "withholding",
    "net",
    "expenses",
]


def _named(invoice: Invoice, first: str, last: str, language: str = "en") -> None:
    user = invoice.member.user
    user.first_name, user.last_name, user.language = first, last, language
    user.save(update_fields=["first_name", "last_name", "language"])


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _two_payslips(
    invoice: Invoice,
    approved_contract: Callable[..., Contract],
    advisor: Callable[[], User],
) -> SalaryRun:
    assert invoice.contract is not None
    other = issued_and_paid(
        contract=approved_contract(first_day=invoice.contract.first_day), actor=advisor()
    )
    assert period_of(other) == period_of(invoice)
    _named(invoice, "Zoé", "Lemaître")
    _named(other, "Anton", "Peeters")
    return calculated(period_of(invoice))


def test_the_payslip_pdf_holds_the_member_and_the_net(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    _named(inv_issued_invoice, "Zoé", "Lemaître")
    payslip = calculated(period_of(inv_issued_invoice)).payslips.get()

    pdf = payslip_pdf(payslip)

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    text = _text(pdf)
    assert "Zoé Lemaître" in text
    assert f"{payslip.net:,.2f} EUR" in text
    assert payslip.member.national_id in text
    assert in_be.legal_name in text
    assert str(inv_issued_invoice.number) in text
    assert "Page 1 / 1" in text


def test_the_payslip_lists_every_line_and_the_totals(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    _named(inv_issued_invoice, "Zoé", "Lemaître")
    payslip = calculated(period_of(inv_issued_invoice)).payslips.get()

    html = payslip_html(payslip)

    assert '<html lang="en">' in html
    for line in payslip.lines.all():
        assert line.label in html
        assert f"{line.amount:,.2f}" in html
    for label in ("Gross salary", "Employer contributions", "Withholding tax", "Net salary"):
        assert label in html
    assert in_be.vat_number in html
    assert f"{payslip.run.period:%Y-%m}" in html


def test_the_estimate_mention_follows_the_payslip(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    _named(inv_issued_invoice, "Zoé", "Lemaître")
    payslip = calculated(period_of(inv_issued_invoice)).payslips.get()
    mention = "Estimate based on parameters awaiting confirmation."

    payslip.is_estimate = True
    assert mention in payslip_html(payslip)
    payslip.is_estimate = False
    assert mention not in payslip_html(payslip)


def test_without_a_language_the_payslip_is_in_the_entity_language(
    in_be: Entity, inv_issued_invoice: Invoice
) -> None:
    _named(inv_issued_invoice, "Zoé", "Lemaître", language="")
    payslip = calculated(period_of(inv_issued_invoice)).payslips.get()

    assert f'<html lang="{in_be.default_language}">' in payslip_html(payslip)


def _expected_row(payslip: Payslip) -> list[str]:
    member = payslip.member
    return [
        f"{payslip.run.period:%Y-%m}",
        member.user.get_full_name(),
        member.national_id,
        member.iban,
        str(payslip.invoice.number),
        *(str(getattr(payslip, amount)) for amount in AMOUNTS),
        "EUR",
        "fixed_term",
        str(payslip.to_pay),
    ]


def test_the_csv_has_one_row_per_payslip(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    run = _two_payslips(inv_issued_invoice, inv_approved_contract, inv_advisor)
    payslips = sorted(run.payslips.all(), key=lambda p: p.member.user.last_name)

    data = payroll_csv(run)

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1:] == [_expected_row(payslip) for payslip in payslips]
    assert [row[1] for row in rows[1:]] == ["Zoé Lemaître", "Anton Peeters"]
    assert rows[1][10] == f"{payslips[0].net:.2f}"


def test_the_xlsx_has_numbers_and_a_totals_row(
    in_be: Entity,
    inv_issued_invoice: Invoice,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    run = _two_payslips(inv_issued_invoice, inv_approved_contract, inv_advisor)
    payslips = sorted(run.payslips.all(), key=lambda p: p.member.user.last_name)

    sheet = load_workbook(io.BytesIO(payroll_xlsx(run))).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]

    assert rows[0] == HEADER
    assert len(rows) == 1 + len(payslips) + 1
    for row, payslip in zip(rows[1:-1], payslips, strict=True):
        assert row[:5] == _expected_row(payslip)[:5]
        assert row[12] == "EUR"
        for value, amount in zip(row[5:12], AMOUNTS, strict=True):
            assert isinstance(value, int | float)
            assert Decimal(str(value)) == getattr(payslip, amount)
    totals = rows[-1]
    assert totals[0] == "Total"
    assert totals[1:5] == [None] * 4
    assert totals[12] is None
    for value, amount in zip(totals[5:12], AMOUNTS, strict=True):
        assert isinstance(value, int | float)
        expected = sum((getattr(payslip, amount) for payslip in payslips), Decimal(0))
        assert Decimal(str(value)).quantize(Decimal("0.01")) == expected
    assert sheet.cell(row=2, column=11).number_format == "#,##0.00"
