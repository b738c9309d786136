"""The daily issuing job's batch path gives the same invoices and bookings as one by one."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from invoicing import services
from invoicing.models import Invoice
from invoicing.references import reference_is_valid
from members.models import Contract
from members.services import entity_today
from smart_coop.ledger.selectors import balance_by_code, books_balance
from smart_coop.tenancy.models import Entity


def test_a_batch_issues_consecutive_numbers_and_books_each_invoice(
    in_be: Entity, inv_approved_contract: Callable[..., Contract]
) -> None:
    contracts = [inv_approved_contract(price=Decimal(1000 + i)) for i in range(3)]
    already = services.invoice_issue(contract=contracts[0], actor=None)
    receivables_before = balance_by_code("receivables")

    issued = services.invoices_issue_batch(
        contract_ids=[contract.pk for contract in contracts], issue_date=entity_today(in_be)
    )

    assert [invoice.contract_id for invoice in issued] == [c.pk for c in contracts[1:]]
    sequences = [int(invoice.number.rsplit("-", 1)[1]) for invoice in [already, *issued]]
    assert sequences == list(range(sequences[0], sequences[0] + 3))
    assert all(reference_is_valid(invoice.payment_reference) for invoice in issued)
    assert [invoice.gross_total for invoice in issued] == [Decimal("1211.21"), Decimal("1212.42")]
    assert [invoice.fee_total for invoice in issued] == [Decimal("65.07"), Decimal("65.13")]
    assert balance_by_code("receivables") - receivables_before == Decimal("2423.63")
    for invoice in issued:
        assert balance_by_code("receivables", reference=f"invoice:{invoice.pk}") == (
            invoice.gross_total
        )
        assert invoice.lines.count() == 1
        assert invoice.taxes.get().tax_amount == invoice.vat_total
    assert books_balance() == {"EUR": Decimal("0.00")}
    # A second run finds nothing left to invoice.
    assert (
        services.invoices_issue_batch(
            contract_ids=[contract.pk for contract in contracts], issue_date=entity_today(in_be)
        )
        == []
    )


def test_the_daily_job_invoices_only_contracts_whose_work_has_ended(
    in_be: Entity, inv_approved_contract: Callable[..., Contract]
) -> None:
    contract = inv_approved_contract()
    during = contract.last_day
    assert services.invoices_issue_due(as_of=during) == []
    after = contract.last_day + datetime.timedelta(days=1)
    (invoice,) = services.invoices_issue_due(as_of=after)
    assert invoice.contract_id == contract.pk
    assert invoice.issue_date == after
    assert Invoice.objects.filter(contract=contract).count() == 1
