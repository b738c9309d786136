"""The fund listens to invoicing (connected in ``GuaranteeFundConfig.ready``).

- ``invoice_issued`` and ``credit_note_issued`` come inside the issuing transaction: the
  contribution and the payout are written with the invoice, or not at all.
- ``payment_applied`` and ``invoice_written_off`` come after the commit: the repayment or the
  default is booked in a transaction of its own. If that fails (or the process dies), nothing
  is lost: ``advance_reconcile`` reads the state, not the message, and the payout job runs it
  for every invoice whose open advance is more than the client still owes.
"""

from __future__ import annotations

import logging
from typing import Any

from django_tenants.utils import schema_context

log = logging.getLogger(__name__)


def on_invoice_issued(sender: Any, *, invoices: Any, actor: Any = None, **kwargs: Any) -> None:
    from .services import invoices_issued

    invoices_issued(invoices=list(invoices), actor=actor)


def on_credit_note_issued(
    sender: Any, *, credit_note: Any, invoice: Any, actor: Any = None, **kwargs: Any
) -> None:
    from .services import credit_note_issued

    credit_note_issued(credit_note=credit_note, invoice=invoice, actor=actor)


def on_invoice_settled(sender: Any, *, invoice_id: int, schema: str, **kwargs: Any) -> None:
    """A payment was applied, or the invoice written off: bring the advance in line."""
    from .services import advance_reconcile

    try:
        with schema_context(schema):
            advance_reconcile(invoice_id=invoice_id)
    except Exception:
        # The payment is committed; the payout job's reconciliation books this later.
        log.exception("fund advance of invoice %s not reconciled yet", invoice_id)
