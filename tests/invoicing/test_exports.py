"""The sales journal: the period's invoices and credit notes, as CSV and XLSX, through the admin."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from invoicing import services
from invoicing.exports import sales_journal_rows
from invoicing.models import Invoice
from members import services as member_services
from members.models import Client
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ClientFactory, ContractFactory, UserFactory

JOURNAL = "/admin/invoicing/invoice/sales-journal/"
DAY = datetime.timedelta(days=1)
HEADER = [
    "number",
    "kind",
    "issue date",
    "due date",
    "client",
    "client VAT number",
    "member",
    "net",
    "VAT",
    "gross",
    "VAT breakdown",
    "state",
    "paid",
]


def issue(actor: User, client: Client, price: str, issue_date: datetime.date) -> Invoice:
    contract = ContractFactory(client=client, price=Decimal(price))
    member_services.contract_submit(contract=contract, actor=contract.member.user)
    contract = member_services.contract_approve(contract=contract, actor=actor)
    return services.invoice_issue(contract=contract, actor=actor, issue_date=issue_date)


@pytest.fixture
def documents(be: Entity) -> dict[str, Invoice]:
    """Two invoices and a credit note in the period; an older invoice outside it."""
    with schema_context("be"):
        today = member_services.entity_today(be)
        advisor = UserFactory(role=Role.ADVISOR)
        quokka = ClientFactory(name="Théâtre Quokka", actor=advisor)
        company = ClientFactory(
            name="Atelier Bleu", kind=Client.Kind.COMPANY, vat_number="BE0403019261", actor=advisor
        )
        older = issue(advisor, quokka, "300.00", today - 40 * DAY)
        first = issue(advisor, quokka, "1000.00", today - 5 * DAY)
        second = issue(advisor, company, "500.00", today - 2 * DAY)
        services.payment_record(
            invoice=second, amount=Decimal("605.00"), received_on=today, actor=advisor
        )
        note = services.credit_note_issue(
            invoice=first, actor=advisor, reason="one hour less", net_amount=Decimal("100.00")
        )
        for invoice in (first, second, note):
            invoice.refresh_from_db()
        return {"older": older, "first": first, "second": second, "note": note}


@pytest.fixture
def accountant_http(be_client: HttpClient) -> HttpClient:
    with schema_context("be"):
        user = UserFactory(role=Role.ACCOUNTANT)
    response = be_client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return be_client


def period(documents: dict[str, Invoice]) -> tuple[datetime.date, datetime.date]:
    first, note = documents["first"].issue_date, documents["note"].issue_date
    assert first is not None
    assert note is not None
    return first - DAY, note


def expected_rows(documents: dict[str, Invoice]) -> list[list[Any]]:
    first, second, note = documents["first"], documents["second"], documents["note"]
    return [
        [first.number, "invoice", first.issue_date, first.due_date, "Théâtre Quokka", "",
         first.performer, "1000.00", "210.00", "1210.00", "21%:210.00", "issued", "0.00"],
        [second.number, "invoice", second.issue_date, second.due_date, "Atelier Bleu",
         second.buyer["vat_number"], second.performer, "500.00", "105.00", "605.00",
         "21%:105.00", "paid", "605.00"],
        [note.number, "credit note", note.issue_date, note.due_date, "Théâtre Quokka", "",
         note.performer, "-100.00", "-21.00", "-121.00", "21%:-21.00", "issued", "0.00"],
    ]  # fmt: skip


def test_the_rows_are_the_period_s_documents_credit_notes_negative(
    documents: dict[str, Invoice],
) -> None:
    date_from, date_to = period(documents)
    with schema_context("be"):
        rows = sales_journal_rows(date_from=date_from, date_to=date_to)

    assert [row.number for row in rows] == [
        documents["first"].number,
        documents["second"].number,
        documents["note"].number,
    ]
    assert [(row.net, row.vat, row.gross, row.vat_breakdown) for row in rows] == [
        (Decimal("1000.00"), Decimal("210.00"), Decimal("1210.00"), "21%:210.00"),
        (Decimal("500.00"), Decimal("105.00"), Decimal("605.00"), "21%:105.00"),
        (Decimal("-100.00"), Decimal("-21.00"), Decimal("-121.00"), "21%:-21.00"),
    ]


def test_the_sales_journal_as_csv(
    documents: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    date_from, date_to = period(documents)

    response = accountant_http.get(
        JOURNAL, {"date_from": date_from, "date_to": date_to, "file_format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sales-journal-be-{date_from}-{date_to}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1:] == [
        [str(value) if value is not None else "" for value in row]
        for row in expected_rows(documents)
    ]
    assert sum(Decimal(row[9]) for row in rows[1:]) == Decimal("1694.00")
    assert sum(Decimal(row[7]) for row in rows[1:]) == Decimal("1400.00")


def test_the_sales_journal_as_xlsx_with_numbers_and_a_totals_row(
    documents: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    date_from, date_to = period(documents)

    response = accountant_http.get(
        JOURNAL, {"date_from": date_from, "date_to": date_to, "file_format": "xlsx"}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="sales-journal-be-{date_from}-{date_to}.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert len(rows) == 5  # header, three documents, totals

    def cell(value: Any) -> Any:
        if isinstance(value, float | int):
            return Decimal(str(value)).quantize(Decimal("0.01"))
        if isinstance(value, datetime.datetime):
            return value.date()
        return "" if value is None else value

    expected = [
        [Decimal(value) if index in {7, 8, 9, 12} else value for index, value in enumerate(row)]
        for row in expected_rows(documents)
    ]
    assert [[cell(value) for value in row] for row in rows[1:4]] == expected
    assert [cell(value) for value in rows[4]] == [
        "Total", "", "", "", "", "", "",
        Decimal("1400.00"), Decimal("294.00"), Decimal("1694.00"), "", "", Decimal("605.00"),
    ]  # fmt: skip
    assert isinstance(rows[1][9], float | int)  # a number, not text
    assert sheet.cell(row=2, column=10).number_format == "#,##0.00"
    assert sheet.cell(row=5, column=10).number_format == "#,##0.00"


def test_the_sales_journal_page_asks_for_a_period(
    documents: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    listing = accountant_http.get("/admin/invoicing/invoice/")
    assert JOURNAL in listing.content.decode()

    page = accountant_http.get(JOURNAL)
    assert page.status_code == 200
    assert set(page.context["form"].fields) == {"date_from", "date_to", "file_format"}

    reversed_period = accountant_http.get(
        JOURNAL, {"date_from": "2026-03-31", "date_to": "2026-03-01", "file_format": "csv"}
    )
    assert reversed_period.status_code == 200
    assert "The period ends before it starts." in str(
        reversed_period.context["form"].errors["date_to"]
    )


def test_a_member_does_not_get_the_sales_journal(be_client: HttpClient, be: Entity) -> None:
    with schema_context("be"):
        member = UserFactory(role=Role.MEMBER)
    be_client.post("/accounts/login/", {"username": member.email, "password": PASSWORD})

    response = be_client.get(JOURNAL, {"date_from": "2026-01-01", "date_to": "2026-12-31"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
