"""Guarantee fund tasks. Each runs in the schema of the entity that enqueued it."""

from __future__ import annotations

import datetime

from celery import shared_task

# The daily coverage snapshot and floor alert live beside this module; Celery's autodiscovery
# imports tasks.py alone, so this import registers them wherever a worker or beat looks them up.
from guarantee_fund import tasks_coverage  # noqa: F401


@shared_task(name="guarantee_fund.payouts_run", acks_late=True, reject_on_worker_lost=True)
def payouts_run_task(*, as_of: str | None = None, chunk: int | None = None) -> dict[str, list[int]]:
    """Pay the entity's due payouts (hourly, per entity, from beat).

    ``acks_late`` + ``reject_on_worker_lost``: a worker killed in the middle leaves the message
    to be delivered again; the rolled-back payouts are then paid, the committed ones are not
    touched again (their state and the ledger key say they are paid).
    """
    from .services import payouts_run

    day = datetime.date.fromisoformat(as_of) if as_of else None
    result = payouts_run(as_of=day) if chunk is None else payouts_run(as_of=day, chunk=chunk)
    return {
        "paid": result.paid,
        "awaiting_approval": result.awaiting_approval,
        "cancelled": result.cancelled,
        "failed": result.failed,
        "reconciled": result.reconciled,
    }


@shared_task(name="guarantee_fund.advance_reconcile", acks_late=True)
def advance_reconcile_task(*, invoice_id: int) -> str:
    """Repay (or charge to losses) the fund's advance on an invoice; idempotent."""
    from .services import advance_reconcile

    return str(advance_reconcile(invoice_id=invoice_id))
