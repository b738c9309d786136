"""The invoicing admin as accountants and advisors use it: statements, the queue, invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from invoicing.models import BankStatement, Invoice, Payment, StatementLine
from invoicing.references import reference_compact
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import PASSWORD, UserFactory
from tests.invoicing.test_statements import CLIENTS, camt, issued_invoice

IMPORT = "/admin/invoicing/bankstatement/import/"
QUEUE = "/admin/invoicing/statementline/"
INVOICES = "/admin/invoicing/invoice/"


def log_in(http: HttpClient, user: User) -> None:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def invoices(be: Entity) -> dict[str, Invoice]:
    with schema_context("be"):
        advisor = UserFactory(role=Role.ADVISOR)
        return {key: issued_invoice(name, advisor) for key, name in CLIENTS.items()}


def user_http(http: HttpClient, role: Role) -> HttpClient:
    with schema_context("be"):
        user = UserFactory(role=role)
    log_in(http, user)
    return http


@pytest.fixture
def accountant_http(be_client: HttpClient) -> HttpClient:
    return user_http(be_client, Role.ACCOUNTANT)


@pytest.fixture
def advisor_http(be_client: HttpClient) -> HttpClient:
    return user_http(be_client, Role.ADVISOR)


def upload(http: HttpClient, content: bytes) -> Any:
    return http.post(IMPORT, {"file": ContentFile(content, name="statement.xml")})


# --- bank statements and the queue -------------------------------------------------------------


def test_an_accountant_imports_a_statement_through_the_upload_page(
    invoices: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    assert accountant_http.get("/admin/invoicing/bankstatement/").status_code == 200
    page = accountant_http.get(IMPORT)
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()

    response = upload(accountant_http, camt("camt053_be_day1.xml", invoices))

    assert response.status_code == 200
    result = response.context["result"]
    assert not result.already_imported
    assert (result.matched, result.partial, result.overpaid, result.unmatched) == (3, 1, 1, 1)
    assert messages_of(response) == ["The statement 2026-061-BE48001123456727 is imported."]
    content = response.content.decode()
    assert '<td class="unmatched">1</td>' in content
    assert '<td class="ignored">1</td>' in content
    with schema_context("be"):
        assert BankStatement.objects.count() == 1
        assert StatementLine.objects.count() == 7
        assert books_balance() == {"EUR": Decimal("0.00")}
    statement = accountant_http.get(f"/admin/invoicing/bankstatement/{result.statement.pk}/change/")
    assert statement.status_code == 200
    assert "CAFE MELODIE SRL" in statement.content.decode()
    listing = accountant_http.get("/admin/invoicing/bankstatement/")
    assert IMPORT in listing.content.decode()
    payments = accountant_http.get("/admin/invoicing/payment/?invoice__isempty=1")
    assert payments.status_code == 200
    assert len(payments.context["cl"].result_list) == 1

    again = upload(accountant_http, camt("camt053_be_day1.xml", invoices))

    assert again.context["result"].already_imported
    assert messages_of(again) == ["This file was imported before: nothing new was recorded."]
    with schema_context("be"):
        assert StatementLine.objects.count() == 7


def test_a_file_that_is_not_a_statement_is_a_form_error(accountant_http: HttpClient) -> None:
    response = upload(accountant_http, b"<Document><BkToCstmrStmt>")

    assert response.status_code == 200
    assert response.context["result"] is None
    assert "not valid XML" in str(response.context["form"].errors["file"])
    with schema_context("be"):
        assert BankStatement.objects.count() == 0


def test_the_queue_shows_waiting_lines_first_and_an_accountant_matches_one(
    invoices: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    upload(accountant_http, camt("camt053_be_day1.xml", invoices))
    with schema_context("be"):
        waiting = StatementLine.objects.get(status="unmatched")

    queue = accountant_http.get(QUEUE)

    assert queue.status_code == 200
    rows = list(queue.context["cl"].result_list)
    assert rows[0] == waiting
    assert [row.status for row in rows[1:]].count("unmatched") == 0
    assert "match_to_invoice" in queue.content.decode()
    filtered = accountant_http.get(f"{QUEUE}?status__exact=unmatched")
    assert list(filtered.context["cl"].result_list) == [waiting]

    line_page = accountant_http.get(f"{QUEUE}{waiting.pk}/change/")
    assert f"{QUEUE}{waiting.pk}/do/match_to_invoice/" in line_page.content.decode()

    # The intermediate page asks for the invoice; a paid one is a form error.
    action = {"action": "match_to_invoice", "_selected_action": [str(waiting.pk)]}
    asked = accountant_http.post(QUEUE, action)
    assert asked.status_code == 200
    assert "Invoice number" in asked.content.decode()
    paid = accountant_http.post(QUEUE, {**action, "apply": "1", "invoice": invoices["a"].number})
    assert paid.status_code == 200
    assert "it waits for no payment" in str(paid.context["form"].errors["invoice"])

    done = accountant_http.post(
        QUEUE, {**action, "apply": "1", "invoice": invoices["f"].number.lower()}, follow=True
    )

    assert done.status_code == 200
    assert f"{waiting} is matched." in messages_of(done)
    with schema_context("be"):
        invoice = Invoice.objects.get(pk=invoices["f"].pk)
        assert (invoice.state, invoice.amount_paid) == ("paid", Decimal("1210.00"))
        assert balance_by_code("unallocated_receipts") == Decimal("0.00")
        assert books_balance() == {"EUR": Decimal("0.00")}


def test_an_advisor_without_record_payment_cannot_import_or_match(
    invoices: dict[str, Invoice], advisor_http: HttpClient
) -> None:
    content = camt("camt053_be_day1.xml", invoices)

    assert advisor_http.get(IMPORT).status_code == 403
    assert upload(advisor_http, content).status_code == 403
    assert advisor_http.get("/admin/invoicing/bankstatement/add/").status_code == 403
    with schema_context("be"):
        assert BankStatement.objects.count() == 0
    # Advisors see invoices, not the bank's lines.
    assert advisor_http.get(INVOICES).status_code == 200
    assert advisor_http.get(QUEUE).status_code == 403


def test_a_member_is_refused_the_admin(be_client: HttpClient) -> None:
    http = user_http(be_client, Role.MEMBER)

    for url in ("/admin/", INVOICES, IMPORT):
        response = http.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


# --- invoices --------------------------------------------------------------------------------


def test_the_invoice_list_filters_searches_and_links_the_sales_journal(
    invoices: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    response = accountant_http.get(INVOICES)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 6
    assert "/admin/invoicing/invoice/sales-journal/" in response.content.decode()
    assert "Add invoice" not in response.content.decode()

    def listed(query: str) -> set[int]:
        found = accountant_http.get(f"{INVOICES}?{query}")
        assert found.status_code == 200
        return {row.pk for row in found.context["cl"].result_list}

    reference = invoices["c"].payment_reference
    assert listed(f"q={reference_compact(reference)}") == {invoices["c"].pk}
    assert listed(f"q={invoices['b'].number}") == {invoices["b"].pk}
    assert listed("q=Quokka") == {invoices["a"].pk}
    assert listed("overdue=yes") == set()
    assert listed("overdue=no") == {invoice.pk for invoice in invoices.values()}
    assert listed("state__exact=issued") == {invoice.pk for invoice in invoices.values()}


def test_an_invoice_is_read_only_with_its_parts_and_its_actions(
    invoices: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    invoice = invoices["a"]

    response = accountant_http.get(f"{INVOICES}{invoice.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert invoice.number in content
    assert "Théâtre Quokka" in content
    assert 'name="_save"' not in content
    assert f"/admin/invoicing/invoice/{invoice.pk}/do/credit_note/" in content
    assert f"/admin/invoicing/invoice/{invoice.pk}/do/record_payment/" in content
    inlines = {
        formset.opts.__class__.__name__ for formset in response.context["inline_admin_formsets"]
    }
    assert inlines >= {"InvoiceLineInline", "InvoiceTaxInline", "PaymentInline"}
    assert accountant_http.post(f"{INVOICES}{invoice.pk}/change/", {}).status_code == 403
    assert accountant_http.get(f"{INVOICES}add/").status_code == 403
    assert accountant_http.get(f"{INVOICES}{invoice.pk}/delete/").status_code == 403


def test_an_accountant_records_a_payment_and_credits_an_invoice(
    invoices: dict[str, Invoice], accountant_http: HttpClient
) -> None:
    invoice = invoices["b"]
    paid = accountant_http.post(
        f"{INVOICES}{invoice.pk}/do/record_payment/",
        {"apply": "1", "amount": "210.00", "received_on": str(invoice.issue_date), "note": "cash"},
        follow=True,
    )
    assert f"The payment of {invoice.number} is recorded." in messages_of(paid)

    credited = accountant_http.post(
        f"{INVOICES}{invoice.pk}/do/credit_note/",
        {"apply": "1", "scope": "part", "net_amount": "", "reason": "one day less"},
    )
    assert "Say which amount to credit." in str(credited.context["form"].errors["net_amount"])
    credited = accountant_http.post(
        f"{INVOICES}{invoice.pk}/do/credit_note/",
        {"apply": "1", "scope": "part", "net_amount": "826.45", "reason": "one day less"},
        follow=True,
    )

    assert f"{invoice.number} is credited; the credit note is sent to the client." in messages_of(
        credited
    )
    with schema_context("be"):
        invoice.refresh_from_db()
        payment = Payment.objects.get(invoice=invoice)
        assert (payment.amount, payment.source, payment.note) == (
            Decimal("210.00"),
            "manual",
            "cash",
        )
        note = invoice.credit_notes.get()
        assert note.gross_total == Decimal("1000.00")  # 826.45 + 173.55 VAT
        assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
            "paid",
            Decimal("210.00"),
            Decimal("0.00"),
        )
        assert books_balance() == {"EUR": Decimal("0.00")}


def test_an_advisor_credits_but_does_not_record_payments(
    invoices: dict[str, Invoice], advisor_http: HttpClient
) -> None:
    invoice = invoices["a"]

    page = advisor_http.get(f"{INVOICES}{invoice.pk}/change/")

    assert page.status_code == 200
    assert "/do/credit_note/" in page.content.decode()
    assert "/do/record_payment/" not in page.content.decode()
    refused = advisor_http.post(
        f"{INVOICES}{invoice.pk}/do/record_payment/",
        {"apply": "1", "amount": "10.00", "received_on": str(invoice.issue_date)},
    )
    assert refused.status_code == 403
    with schema_context("be"):
        assert not Payment.objects.exists()


def test_the_stored_documents_are_served_to_staff_only(
    invoices: dict[str, Invoice], accountant_http: HttpClient, fr_client: HttpClient
) -> None:
    invoice = invoices["a"]
    with schema_context("be"):
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
        Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name)
    url = f"{INVOICES}{invoice.pk}/document/pdf/"
    try:
        page = accountant_http.get(f"{INVOICES}{invoice.pk}/change/")
        assert url in page.content.decode()

        response = accountant_http.get(url)

        assert response.status_code == 200
        assert response.getvalue() == b"%PDF-1.7 test"
        assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
        assert accountant_http.get(f"{INVOICES}{invoice.pk}/document/ubl/").status_code == 404
        assert accountant_http.get(f"{INVOICES}{invoice.pk}/document/exe/").status_code == 404
        member = user_http(HttpClient(headers={"host": entity_host("be")}), Role.MEMBER)
        assert member.get(url).status_code == 302
        with schema_context("fr"):
            fr_accountant = UserFactory(role=Role.ACCOUNTANT)
        log_in(fr_client, fr_accountant)
        assert fr_client.get(url).status_code == 404
    finally:
        with schema_context("be"):
            invoice.pdf.delete(save=False)


def test_an_advisor_writes_off_an_invoice_in_collection(
    invoices: dict[str, Invoice], advisor_http: HttpClient
) -> None:
    invoice, open_one = invoices["a"], invoices["b"]
    with schema_context("be"):
        Invoice.objects.filter(pk=invoice.pk).update(state=Invoice.State.IN_COLLECTION)
    action = {
        "action": "write_off",
        "_selected_action": [str(invoice.pk), str(open_one.pk)],
        "apply": "1",
        "reason": "the client is bankrupt",
    }

    done = advisor_http.post(INVOICES, action, follow=True)

    assert f"{invoice.number} is written off." in messages_of(done)
    assert any("is not in collection" in message for message in messages_of(done))
    with schema_context("be"):
        assert Invoice.objects.get(pk=invoice.pk).state == "written_off"
        assert Invoice.objects.get(pk=open_one.pk).state == "issued"
        assert balance_by_code("bad_debts") == Decimal("1210.00")
        assert books_balance() == {"EUR": Decimal("0.00")}
