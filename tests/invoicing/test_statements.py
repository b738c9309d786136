"""CAMT.053 import and matching: where each bank line ends, what the books say, twice is once."""

from __future__ import annotations

import string
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from invoicing import services, signals
from invoicing.models import BankStatement, Invoice, Payment, StatementLine
from invoicing.references import ogm_from_number, reference_compact, rf_from_number
from invoicing.statements import (
    ImportResult,
    references_in_text,
    statement_import,
    statement_line_match,
    statement_parse,
)
from members import services as member_services
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Transaction
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity
from tests.factories import ClientFactory, ContractFactory, UserFactory

DATA = Path(__file__).parent / "data"
BALANCED = {"EUR": Decimal("0.00")}

# Who is invoiced 1,210.00 (1,000.00 + 21 % VAT), and how the day-1 statement pays them.
CLIENTS = {
    "a": "Théâtre Quokka",  # in full, reference in RmtInf/Strd
    "b": "Atelier Bleu",  # in full, OGM typed in the free text
    "c": "Kunstencentrum Noord",  # 500.00 of 1,210.00, then the rest on day 2
    "d": "Festival Soleil",  # 1,300.00: 90.00 too much
    "e": "Café Mélodie",  # no reference: the amount and the client's name
    "f": "Centre Culturel Est",  # paid by J. Dupont without a reference: an accountant matches
}


def issued_invoice(client_name: str, actor: User) -> Invoice:
    contract = ContractFactory(client=ClientFactory(name=client_name, actor=actor))
    member_services.contract_submit(contract=contract, actor=contract.member.user)
    contract = member_services.contract_approve(contract=contract, actor=actor)
    return services.invoice_issue(contract=contract, actor=actor)


@pytest.fixture
def accountant(in_be: Entity) -> User:
    return UserFactory(role=Role.ACCOUNTANT)


@pytest.fixture
def invoices(in_be: Entity) -> dict[str, Invoice]:
    advisor = UserFactory(role=Role.ADVISOR)
    return {key: issued_invoice(name, advisor) for key, name in CLIENTS.items()}


def camt(name: str, invoices: dict[str, Invoice]) -> bytes:
    """A fixture statement with the structured communications of this test's invoices."""
    references = {key: invoice.payment_reference for key, invoice in invoices.items()}
    template = string.Template((DATA / name).read_text(encoding="utf-8"))
    return template.substitute(
        REF_A=reference_compact(references["a"]),
        OGM_B=references["b"],
        REF_C=reference_compact(references["c"]),
        REF_D_SLASHED=references["d"].strip("+"),
        OGM_F=references["f"],
    ).encode()


@pytest.fixture
def applied() -> Iterator[list[tuple[int, Decimal, str]]]:
    """Every payment_applied signal sent: (invoice id, amount applied, schema)."""
    received: list[tuple[int, Decimal, str]] = []

    def receiver(sender: Any, *, invoice_id: int, amount: Decimal, schema: str, **kw: Any) -> None:
        received.append((invoice_id, amount, schema))

    signals.payment_applied.connect(receiver, weak=False, dispatch_uid="test_statements")
    yield received
    signals.payment_applied.disconnect(dispatch_uid="test_statements")


def counts() -> tuple[int, int, int, int]:
    return (
        BankStatement.objects.count(),
        StatementLine.objects.count(),
        Payment.objects.count(),
        Transaction.objects.count(),
    )


def books() -> dict[str, Decimal]:
    return {
        code: balance_by_code(code)
        for code in ("bank", "receivables", "unallocated_receipts", "client_credit")
    }


def line(reference: str) -> StatementLine:
    return StatementLine.objects.get(bank_reference=reference)


def state(invoice: Invoice) -> tuple[str, Decimal]:
    invoice.refresh_from_db()
    return invoice.state, invoice.amount_paid


def import_day1(
    invoices: dict[str, Invoice], actor: User, django_capture_on_commit_callbacks: Any
) -> ImportResult:
    with django_capture_on_commit_callbacks(execute=True):
        return statement_import(file_bytes=camt("camt053_be_day1.xml", invoices), actor=actor)


# --- a day's statement -------------------------------------------------------------------------


def test_each_line_of_a_statement_ends_where_it_should(
    invoices: dict[str, Invoice],
    accountant: User,
    applied: list[tuple[int, Decimal, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    result = import_day1(invoices, accountant, django_capture_on_commit_callbacks)

    assert not result.already_imported
    assert result.statement.statement_id == "2026-061-BE48001123456727"
    assert result.statement.account_iban == "BE48001123456727"
    assert result.statement.imported_by == accountant
    assert (result.matched, result.partial, result.overpaid) == (3, 1, 1)
    assert (result.unmatched, result.ignored, result.already_known, result.not_booked) == (
        1,
        1,
        0,
        0,
    )
    assert result.lines == 7

    expected_lines = {
        "2026030200011": ("matched", invoices["a"]),
        "2026030200012": ("matched", invoices["b"]),
        "2026030200013": ("partial", invoices["c"]),
        "2026030200014": ("overpaid", invoices["d"]),
        "2026030200015": ("matched", invoices["e"]),
        "2026030200016": ("unmatched", None),
        "2026030200017": ("ignored", None),
    }
    for reference, (status, invoice) in expected_lines.items():
        found = line(reference)
        assert (found.status, found.invoice) == (status, invoice), reference
    assert line("2026030200012").structured_reference == invoices["b"].payment_reference
    assert line("2026030200015").counterparty_name == "CAFE MELODIE SRL"
    assert line("2026030200015").counterparty_iban == "BE76363015738695"
    assert line("2026030200017").amount == Decimal("35.00")

    assert state(invoices["a"]) == ("paid", Decimal("1210.00"))
    assert state(invoices["b"]) == ("paid", Decimal("1210.00"))
    assert state(invoices["c"]) == ("partially_paid", Decimal("500.00"))
    assert state(invoices["d"]) == ("paid", Decimal("1210.00"))
    assert state(invoices["e"]) == ("paid", Decimal("1210.00"))
    assert state(invoices["f"]) == ("issued", Decimal("0.00"))

    # One payment per credit line, dated by the bank; the debit books nothing here.
    payments = Payment.objects.all()
    assert payments.count() == 6
    assert {payment.received_on.isoformat() for payment in payments} == {"2026-03-02"}
    assert {payment.source for payment in payments} == {"bank"}
    waiting = Payment.objects.get(invoice=None)
    assert (waiting.amount, waiting.statement_line) == (Decimal("1210.00"), line("2026030200016"))
    assert not Payment.objects.filter(statement_line=line("2026030200017")).exists()
    assert Transaction.objects.filter(
        idempotency_key=f"payment:line:{line('2026030200011').pk}"
    ).exists()

    assert books() == {
        "bank": Decimal("6640.00"),
        "receivables": Decimal("1920.00"),  # c 710.00 + f 1,210.00
        "unallocated_receipts": Decimal("-1210.00"),
        "client_credit": Decimal("-90.00"),
    }
    assert books_balance() == BALANCED

    # Sent once per payment applied to an invoice, with what was applied.
    assert sorted(applied) == sorted(
        [
            (invoices["a"].pk, Decimal("1210.00"), "be"),
            (invoices["b"].pk, Decimal("1210.00"), "be"),
            (invoices["c"].pk, Decimal("500.00"), "be"),
            (invoices["d"].pk, Decimal("1210.00"), "be"),
            (invoices["e"].pk, Decimal("1210.00"), "be"),
        ]
    )


def test_the_same_file_twice_is_one_statement(
    invoices: dict[str, Invoice],
    accountant: User,
    applied: list[tuple[int, Decimal, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = import_day1(invoices, accountant, django_capture_on_commit_callbacks)
    before, books_before, signals_before = counts(), books(), len(applied)

    again = import_day1(
        invoices, UserFactory(role=Role.ACCOUNTANT), django_capture_on_commit_callbacks
    )

    assert again.already_imported
    assert again.statement == first.statement
    assert again.statement.imported_by == accountant
    assert (again.matched, again.partial, again.overpaid, again.unmatched, again.ignored) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert counts() == before
    assert books() == books_before
    assert len(applied) == signals_before
    assert books_balance() == BALANCED


def test_an_overlapping_statement_imports_only_what_is_new(
    invoices: dict[str, Invoice],
    accountant: User,
    applied: list[tuple[int, Decimal, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    import_day1(invoices, accountant, django_capture_on_commit_callbacks)
    applied.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = statement_import(
            file_bytes=camt("camt053_be_day2.xml", invoices), actor=accountant
        )

    assert not result.already_imported
    assert (result.matched, result.partial, result.overpaid) == (1, 0, 0)
    assert (result.unmatched, result.ignored, result.already_known, result.not_booked) == (
        1,
        0,
        1,
        1,
    )
    # The repeated entry stays in the first statement, paid once.
    assert line("2026030200015").statement.statement_id == "2026-061-BE48001123456727"
    assert Payment.objects.filter(invoice=invoices["e"]).count() == 1
    assert not StatementLine.objects.filter(bank_reference="2026030400031").exists()

    assert (line("2026030300021").status, line("2026030300021").invoice) == (
        "matched",
        invoices["c"],
    )
    assert state(invoices["c"]) == ("paid", Decimal("1210.00"))
    # Dollars on a euro account: waiting for an accountant, and not booked as euros.
    dollars = line("2026030300022")
    assert (dollars.status, dollars.currency, dollars.invoice) == ("unmatched", "USD", None)
    assert not Payment.objects.filter(statement_line=dollars).exists()
    assert state(invoices["f"]) == ("issued", Decimal("0.00"))

    assert books() == {
        "bank": Decimal("7350.00"),
        "receivables": Decimal("1210.00"),
        "unallocated_receipts": Decimal("-1210.00"),
        "client_credit": Decimal("-90.00"),
    }
    assert books_balance() == BALANCED
    assert applied == [(invoices["c"].pk, Decimal("710.00"), "be")]


# --- the accountant's queue --------------------------------------------------------------------


def test_an_accountant_matches_a_waiting_line_to_the_invoice_it_pays(
    invoices: dict[str, Invoice],
    accountant: User,
    applied: list[tuple[int, Decimal, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    import_day1(invoices, accountant, django_capture_on_commit_callbacks)
    applied.clear()
    waiting = line("2026030200016")

    with django_capture_on_commit_callbacks(execute=True):
        payment = statement_line_match(line=waiting, invoice=invoices["f"], actor=accountant)

    assert payment.invoice == invoices["f"]
    assert payment.statement_line == waiting
    assert Payment.objects.count() == 6  # the same money: the waiting payment now names it
    waiting.refresh_from_db()
    assert (waiting.status, waiting.invoice) == ("matched", invoices["f"])
    assert state(invoices["f"]) == ("paid", Decimal("1210.00"))
    match = Transaction.objects.get(idempotency_key=f"match:line:{waiting.pk}")
    assert match.created_by == accountant
    assert books() == {
        "bank": Decimal("6640.00"),
        "receivables": Decimal("710.00"),
        "unallocated_receipts": Decimal("0.00"),
        "client_credit": Decimal("-90.00"),
    }
    assert books_balance() == BALANCED
    assert applied == [(invoices["f"].pk, Decimal("1210.00"), "be")]

    # Twice is once: nothing more is booked or sent.
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        again = statement_line_match(line=waiting, invoice=invoices["f"], actor=accountant)
    assert again == payment
    assert counts() == before
    assert len(applied) == 1


def test_a_waiting_line_matched_to_a_smaller_balance_leaves_the_rest_as_client_credit(
    invoices: dict[str, Invoice], accountant: User, django_capture_on_commit_callbacks: Any
) -> None:
    import_day1(invoices, accountant, django_capture_on_commit_callbacks)

    statement_line_match(line=line("2026030200016"), invoice=invoices["c"], actor=accountant)

    assert line("2026030200016").status == "overpaid"
    assert state(invoices["c"]) == ("paid", Decimal("1210.00"))
    assert books() == {
        "bank": Decimal("6640.00"),
        "receivables": Decimal("1210.00"),  # f only
        "unallocated_receipts": Decimal("0.00"),
        "client_credit": Decimal("-590.00"),  # 90.00 + 500.00
    }
    assert books_balance() == BALANCED


def test_what_cannot_be_matched_is_refused_and_changes_nothing(
    invoices: dict[str, Invoice], accountant: User, django_capture_on_commit_callbacks: Any
) -> None:
    import_day1(invoices, accountant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        statement_import(file_bytes=camt("camt053_be_day2.xml", invoices), actor=accountant)
    before, books_before = counts(), books()

    refusals = [
        (line("2026030200016"), invoices["a"], "is not waiting for a payment"),  # paid
        (line("2026030200017"), invoices["f"], "not a client payment"),  # the bank's fees
        (line("2026030300022"), invoices["f"], "in USD and was not booked"),
        (line("2026030200011"), invoices["f"], f"already pays {invoices['a'].number}"),
    ]
    for waiting, invoice, reason in refusals:
        with pytest.raises(DomainError, match=reason):
            statement_line_match(line=waiting, invoice=invoice, actor=accountant)

    assert counts() == before
    assert books() == books_before
    assert line("2026030200016").status == "unmatched"
    assert books_balance() == BALANCED


# --- refusals: nothing saved ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<Document><BkToCstmrStmt><Stmt>", "not valid XML"),
        (b"", "not valid XML"),
        (b"%PDF-1.7 not a statement", "not valid XML"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
            b"<CstmrCdtTrfInitn/></Document>",
            "not a CAMT.053 bank statement",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>'
            b"<Stmt><Id>S1</Id><Acct><Id><IBAN>BE48001123456727</IBAN></Id></Acct>"
            b'<Ntry><Amt Ccy="EUR">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            b"<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>",
            "entry 1: the amount '12,50' is not an amount",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>'
            b"<Stmt><Id>S1</Id><Acct><Id><IBAN>BE48001123456727</IBAN></Id></Acct>"
            b'<Ntry><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>'
            b"</Stmt></BkToCstmrStmt></Document>",
            "entry 1: the booking date is missing",
        ),
        (
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
            "not a CAMT.053 bank statement",
        ),
    ],
)
def test_a_file_that_is_not_a_statement_is_refused_with_nothing_saved(
    in_be: Entity, accountant: User, content: bytes, reason: str
) -> None:
    with pytest.raises(DomainError, match=reason) as refused:
        statement_import(file_bytes=content, actor=accountant)

    assert refused.value.field == "file"
    assert counts() == (0, 0, 0, 0)
    assert set(books_balance().values()) <= {Decimal(0)}


def test_a_statement_of_another_account_is_refused(
    invoices: dict[str, Invoice], accountant: User
) -> None:
    content = camt("camt053_be_day1.xml", invoices).replace(
        b"<IBAN>BE48001123456727</IBAN>", b"<IBAN>BE68539007547034</IBAN>"
    )
    before = counts()

    with pytest.raises(DomainError, match="account BE68539007547034, not of the entity's"):
        statement_import(file_bytes=content, actor=accountant)

    assert counts() == before


def test_a_statement_of_one_entity_is_not_imported_in_another(
    invoices: dict[str, Invoice], accountant: User
) -> None:
    content = camt("camt053_be_day1.xml", invoices)

    with schema_context("fr"):
        with pytest.raises(DomainError, match="not of the entity's FR76"):
            statement_import(file_bytes=content, actor=None)
        assert counts() == (0, 0, 0, 0)
        assert books_balance() == {}


def test_an_rf_reference_pays_a_french_invoice(
    in_fr: Entity, django_capture_on_commit_callbacks: Any
) -> None:
    invoice = issued_invoice("Théâtre du Nord", UserFactory(role=Role.ADVISOR))
    assert invoice.payment_reference.startswith("RF")
    entry = (
        f'<Ntry><Amt Ccy="EUR">{invoice.gross_total}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>FR-1</AcctSvcrRef><NtryDtls><TxDtls>"
        "<RltdPties><Dbtr><Nm>THEATRE DU NORD</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>VIR {invoice.payment_reference} FACT</Ustrd></RmtInf>"
        "</TxDtls></NtryDtls></Ntry>"
    )
    content = batch(entry).replace(b"BE48 0011 2345 6727", b"FR76 3000 4000 0312 3456 7890 143")

    with django_capture_on_commit_callbacks(execute=True):
        result = statement_import(file_bytes=content, actor=None)

    assert result.matched == 1
    assert line("FR-1").structured_reference == invoice.payment_reference
    assert state(invoice) == ("paid", invoice.gross_total)
    assert balance_by_code("receivables") == Decimal("0.00")
    assert books_balance() == BALANCED
    with schema_context("be"):
        assert counts() == (0, 0, 0, 0)


def test_a_failure_in_the_middle_of_a_file_leaves_nothing_of_it(
    invoices: dict[str, Invoice], accountant: User, django_capture_on_commit_callbacks: Any
) -> None:
    import_day1(invoices, accountant, django_capture_on_commit_callbacks)
    before, books_before = counts(), books()
    # Day 2 with its new entries first, then a reference the bank already gave to another
    # entry (1,210.00 on 2 March): the new entries were recorded when the import stops.
    content = (
        camt("camt053_be_day2.xml", invoices)
        .replace(b"2026030200015", b"2026030399999")
        .replace(
            b"<AcctSvcrRef>2026030300022</AcctSvcrRef>", b"<AcctSvcrRef>2026030200013</AcctSvcrRef>"
        )
    )

    with pytest.raises(DomainError, match="2026030200013 of 2026-03-03 was imported before"):
        statement_import(file_bytes=content, actor=accountant)

    assert counts() == before
    assert books() == books_before
    assert state(invoices["c"]) == ("partially_paid", Decimal("500.00"))
    assert books_balance() == BALANCED


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Facture +++123/4567/89002+++ merci", ["+++123/4567/89002+++"]),
        ("***123/4567/89002***", ["+++123/4567/89002+++"]),
        ("ref 123456789002", ["+++123/4567/89002+++"]),
        ("123/4567/89003", []),  # wrong check digits
        ("RF18 5390 0754 7034 facture 12", ["RF18539007547034"]),
        ("rf18539007547034", ["RF18539007547034"]),
        ("RF19 5390 0754 7034", []),
        ("concert du 12/02, 1210 EUR", []),
    ],
)
def test_references_are_found_in_the_free_text(text: str, found: list[str]) -> None:
    assert references_in_text(text) == found


@given(
    year=st.integers(min_value=2000, max_value=2099),
    sequence=st.integers(min_value=1, max_value=9_999_999),
    before=st.text(alphabet="ABCdef ,.:-+", max_size=20),
    after=st.text(alphabet="ABCdef ,.:-+", max_size=20),
    written=st.sampled_from(["formatted", "stars", "digits"]),
)
def test_any_ogm_in_a_free_text_is_found(
    year: int, sequence: int, before: str, after: str, written: str
) -> None:
    ogm = ogm_from_number(year=year, sequence=sequence)
    digits = reference_compact(ogm)
    text = {"formatted": ogm, "stars": ogm.replace("+", "*"), "digits": digits}[written]

    assert references_in_text(f"{before} {text} {after}") == [ogm]


@given(number=st.from_regex(r"[A-Z]{2}-20[0-9]{2}-[0-9]{6}", fullmatch=True))
def test_any_rf_reference_in_a_free_text_is_found(number: str) -> None:
    reference = rf_from_number(number)

    # Printed in groups or as one word; a shorter reading may pass the check too, after it.
    assert references_in_text(f"Facture {reference} merci")[0] == reference_compact(reference)
    compact = reference_compact(reference)
    assert references_in_text(f"Facture {compact} merci")[0] == compact


def batch(entries: str, namespace: str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.06") -> bytes:
    return (
        f'<Document xmlns="{namespace}"><BkToCstmrStmt><Stmt><Id>S9</Id>'
        "<Acct><Id><IBAN>BE48 0011 2345 6727</IBAN></Id></Acct>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_a_batch_entry_is_read_as_one_line_per_transaction() -> None:
    entry = (
        '<Ntry><Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><DtTm>2026-03-02T10:00:00</DtTm></BookgDt><AcctSvcrRef>B1</AcctSvcrRef>"
        "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>"
        '<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls>'
        "<RltdPties><Dbtr><Nm>One</Nm></Dbtr></RltdPties>"
        "<RmtInf><Ustrd>+++123/4567/89002+++</Ustrd></RmtInf></TxDtls>"
        '<TxDtls><Refs><AcctSvcrRef>B1-T2</AcctSvcrRef></Refs><Amt Ccy="EUR">200.00</Amt>'
        "<RltdPties><Dbtr><Pty><Nm>Two</Nm></Pty></Dbtr></RltdPties></TxDtls>"
        "</NtryDtls></Ntry>"
    )

    parsed = statement_parse(batch(entry))

    assert parsed.account_iban == "BE48001123456727"
    assert [(x.bank_reference, x.amount, x.counterparty_name) for x in parsed.lines] == [
        ("B1/1", Decimal("100.00"), "One"),
        ("B1-T2", Decimal("200.00"), "Two"),
    ]
    assert parsed.lines[0].references == ("+++123/4567/89002+++",)
    assert parsed.lines[0].booking_date.isoformat() == "2026-03-02"


def test_entries_without_a_bank_reference_get_the_same_key_in_every_file() -> None:
    entry = (
        '<Ntry><Amt Ccy="EUR">50.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>"
    )

    once = statement_parse(batch(entry * 2))
    again = statement_parse(batch(entry * 3, "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"))

    keys = [parsed.bank_reference for parsed in once.lines]
    assert len(set(keys)) == 2  # two identical payments are two lines
    assert [parsed.bank_reference for parsed in again.lines][:2] == keys
