"""The invoicing fixtures the payroll tests build on: an approved contract, an issued invoice."""

from tests.invoicing.conftest import (
    inv_advisor,
    inv_approve,
    inv_approved_contract,
    inv_issued_invoice,
)

__all__ = ["inv_advisor", "inv_approve", "inv_approved_contract", "inv_issued_invoice"]
