from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from invoicing import services
from invoicing.models import Invoice
from invoicing.references import reference_is_valid
from members import services as member_services
from smart_coop.accounts.roles import Role
from smart_coop.ledger.models import Entry
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity
from tests.factories import ContractFactory, UserFactory


def approved_contract():  # type: ignore[no-untyped-def]
    contract = ContractFactory()
    advisor = UserFactory(role=Role.ADVISOR)
    member_services.contract_submit(contract=contract, actor=contract.member.user)
    return member_services.contract_approve(contract=contract, actor=advisor), advisor


def test_issue_books_and_numbers(in_be: Entity) -> None:
    contract, advisor = approved_contract()
    invoice = services.invoice_issue(contract=contract, actor=advisor)
    assert invoice.number.startswith("BE-20")
    assert invoice.gross_total == Decimal("1210.00")
    assert invoice.fee_total == Decimal("65.00")
    assert reference_is_valid(invoice.payment_reference)
    assert invoice.payment_reference.startswith("+++")
    assert balance_by_code("receivables") == Decimal("1210.00")
    assert books_balance() == {"EUR": Decimal("0.00")}
    assert services.invoice_issue(contract=contract, actor=advisor) == invoice
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(net_total=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(transaction__idempotency_key=f"invoice:{invoice.pk}:issue").update(
            amount=1
        )
    note = services.credit_note_issue(
        invoice=invoice, actor=advisor, reason="price error", net_amount=Decimal("100")
    )
    assert note.number.startswith("BE-CN-20")
    assert note.gross_total == Decimal("121.00")
    services.payment_record(
        invoice=invoice, amount=Decimal("2000"), received_on=invoice.issue_date, actor=advisor
    )
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    assert balance_by_code("client_credit") == Decimal("-911.00")
    assert books_balance() == {"EUR": Decimal("0.00")}
