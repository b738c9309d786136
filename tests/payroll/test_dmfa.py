"""payroll.dmfa: the quarterly social declaration data, per member and quarter."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from invoicing.models import Invoice
from members.models import Contract
from members.services import entity_today
from payroll.dmfa import (
    DmfaRow,
    Quarter,
    declaration_title,
    dmfa_csv,
    dmfa_filename,
    dmfa_rows,
    dmfa_xlsx,
    quarter_runs_open,
)
from payroll.models import SalaryRun
from payroll.smoothing import permanent_contract_agree
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity
from tests.factories import MemberFactory, UserFactory
from tests.payroll.conftest import issued_and_paid
from tests.payroll.test_runs import calculated, next_month

HEADER = [
    "quarter",
    "national id",
    "last name",
    "first name",
    "date of birth",
    "category",
    "worker code",
    "joint committee",
    "codes verified",
    "days",
    "hours",
    "payslips",
    "gross",
    "contribution base",
    "employer contributions",
    "employee contributions",
    "withholding",
    "currency",
    "estimate",
]


def quarter_ahead(entity: Entity) -> Quarter:
    """The first quarter that starts after contracts may (10 days from today)."""
    now = Quarter.of(entity_today(entity) + datetime.timedelta(days=10))
    return Quarter(now.year + 1, 1) if now.number == 4 else Quarter(now.year, now.number + 1)


def months(first: datetime.date, count: int) -> list[datetime.date]:
    found = [first]
    for _ in range(count - 1):
        found.append(next_month(found[-1]))
    return found


def member_named(first: str, last: str, sector: str = "consultant") -> object:
    return MemberFactory(user=UserFactory(first_name=first, last_name=last), sector=sector)


def issue(
    approved_contract: Callable[..., Contract],
    advisor: Callable[[], User],
    member: object,
    first_day: datetime.date,
) -> Invoice:
    return issued_and_paid(
        contract=approved_contract(member=member, first_day=first_day), actor=advisor()
    )


@pytest.fixture
def quarter_of_three(
    in_be: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> Quarter:
    """In the quarter: Peeters (standard) works in its first and second months, Lemaître (an
    artist) in its third; Peeters works again in the next quarter. Every month calculated."""
    quarter = quarter_ahead(in_be)
    first, second, third, after = months(quarter.first_month, 4)
    peeters = member_named("Anton", "Peeters")
    lemaitre = member_named("Zoé", "Lemaître", sector="artist")
    for member, month in ((peeters, first), (peeters, second), (lemaitre, third), (peeters, after)):
        issue(inv_approved_contract, inv_advisor, member, month + datetime.timedelta(days=2))
    for month in (first, second, third, after):
        calculated(month)
    return quarter


def test_a_quarter_adds_up_each_member_s_payslips(in_be: Entity, quarter_of_three: Quarter) -> None:
    rows = dmfa_rows(entity=in_be, quarter=quarter_of_three)

    assert [(row.last_name, row.category) for row in rows] == [
        ("Lemaître", "artist_manual"),
        ("Peeters", "standard"),
    ]
    artist, standard = rows
    # Two invoices of 1,000.00 (2 days of 8 h each): per invoice gross 748.00, employer
    # 187.00 (25 % of the gross), employee 97.76 (13.07 %), no withholding tax.
    assert (standard.payslips, standard.days, standard.hours) == (2, Decimal("4"), Decimal("32"))
    assert standard.gross == Decimal("1496.00")
    assert standard.contribution_base == Decimal("1496.00")
    assert standard.employer_contributions == Decimal("374.00")
    assert standard.employee_contributions == Decimal("195.52")
    assert standard.withholding == Decimal("0.00")
    assert (standard.worker_code, standard.joint_committee) == ("495", "200")
    # The artist's contributions are on 108 % of the gross: 736.22 x 1.08 = 795.1176 -> 795.12.
    assert (artist.payslips, artist.days, artist.hours) == (1, Decimal("2"), Decimal("16"))
    assert artist.gross == Decimal("736.22")
    assert artist.contribution_base == Decimal("795.12")
    assert artist.employer_contributions == Decimal("198.78")
    assert artist.employee_contributions == Decimal("103.92")
    assert artist.withholding == Decimal("70.25")
    assert artist.worker_code == "015"
    for row in rows:
        assert row.quarter == str(quarter_of_three)
        assert row.currency == "EUR"
        assert row.codes_verified == "no"  # the codes' source is not confirmed yet
        assert row.date_of_birth == datetime.date(1985, 7, 30)
    assert len(standard.national_id) == 11


def test_the_quarter_s_runs_not_approved_are_named(
    in_be: Entity, quarter_of_three: Quarter
) -> None:
    open_runs = quarter_runs_open(quarter_of_three)

    assert [run.period for run in open_runs] == months(quarter_of_three.first_month, 3)
    assert {run.state for run in open_runs} == {SalaryRun.State.CALCULATED}


def test_the_csv_and_the_xlsx_have_the_documented_columns(
    in_be: Entity, quarter_of_three: Quarter
) -> None:
    rows = dmfa_rows(entity=in_be, quarter=quarter_of_three)

    lines = list(csv.reader(io.StringIO(dmfa_csv(rows).decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(dmfa_xlsx(rows, title="DmfA"))).active

    assert lines[0] == HEADER
    assert len(lines) == 3
    assert lines[2][12:17] == ["1496.00", "1496.00", "374.00", "195.52", "0.00"]
    assert lines[1][4] == "1985-07-30"
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == HEADER
    assert len(cells) == 1 + 2 + 1
    assert cells[-1][0] == "Total"
    assert Decimal(str(cells[-1][12])) == Decimal("2232.22")
    assert Decimal(str(cells[-1][13])) == Decimal("2291.12")
    assert isinstance(cells[1][13], int | float)


def test_a_quarter_is_read_from_its_name() -> None:
    quarter = Quarter.parse("2026-Q2")

    assert (quarter.first_month, quarter.last_month) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 6, 1),
    )
    assert str(quarter) == "2026-Q2"
    assert Quarter.of(datetime.date(2026, 12, 31)) == Quarter(2026, 4)
    with pytest.raises(DomainError, match="YYYY-Qn"):
        Quarter.parse("2026-Q5")


def test_another_entity_gets_the_same_data_without_the_belgian_codes(
    in_fr: Entity,
    inv_approved_contract: Callable[..., Contract],
    inv_advisor: Callable[[], User],
) -> None:
    quarter = quarter_ahead(in_fr)
    invoice = issued_and_paid(
        contract=inv_approved_contract(first_day=quarter.first_month + datetime.timedelta(days=2)),
        actor=inv_advisor(),
    )
    calculated(quarter.first_month)

    (row,) = dmfa_rows(entity=in_fr, quarter=quarter)

    assert isinstance(row, DmfaRow)
    assert row.national_id == invoice.member.national_id
    # France, 1,000.00 invoiced: gross 658.45 (contributions on the gross itself).
    assert (row.gross, row.contribution_base) == (Decimal("658.45"), Decimal("658.45"))
    assert (row.worker_code, row.joint_committee, row.codes_verified) == ("", "", "no")
    assert declaration_title(in_fr) == "Quarterly social data"
    assert dmfa_filename(entity=in_fr, quarter=quarter, extension="csv") == (
        f"social-data-fr-{quarter}.csv"
    )


def test_the_belgian_quarter_stays_out_of_the_french_one(
    be: Entity, fr: Entity, quarter_of_three: Quarter
) -> None:
    with schema_context("fr"):
        assert dmfa_rows(entity=fr, quarter=quarter_of_three) == []
    assert declaration_title(be) == "DmfA"


def test_a_monthly_payslip_counts_the_contract_s_hours(
    in_be: Entity, inv_advisor: Callable[[], User]
) -> None:
    quarter = quarter_ahead(in_be)
    member = MemberFactory()
    permanent_contract_agree(
        member=member,
        monthly_gross=Decimal("2500.00"),
        first_month=quarter.first_month,
        actor=inv_advisor(),
    )
    calculated(quarter.first_month)

    (row,) = dmfa_rows(entity=in_be, quarter=quarter)

    # 164.67 hours a month; as days of 7.60 h: 21.667... -> 21.67.
    assert (row.payslips, row.hours, row.days) == (1, Decimal("164.67"), Decimal("21.67"))
    # 2,500.00 gross: employer 25 % = 625.00, employee 13.07 % = 326.75.
    assert (row.gross, row.contribution_base) == (Decimal("2500.00"), Decimal("2500.00"))
    assert (row.employer_contributions, row.employee_contributions) == (
        Decimal("625.00"),
        Decimal("326.75"),
    )
