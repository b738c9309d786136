"""Writes of the guarantee fund: contributions, payouts, approvals, repayments and defaults.

The ledger design (the fund's accounts; ``selectors`` reads them back):

- contribution, on every issued invoice (key ``fund_contribution:<invoice id>``): Cr
  ``fund_reserve``, Dr ``fee_income`` when the contribution is part of the fee, or Dr the
  member's budget when it is on top (payroll parameters ``guarantee_percent`` and
  ``guarantee_on_top`` in force on the last work day, as the payslip computes it). A credit note
  reverses its share (key ``fund_contribution:<credit note id>``).
- payout (key ``payout:<contract id>``, one transaction): the salary out of the member's
  budget (Dr budget gross + employer contributions + remainder + expenses; Cr social
  contributions payable, withholding payable, budget remainders, and the bank for net +
  expenses: the transfer is in the day's pain.001), and the advance as a memorandum pair Dr
  ``fund_advances`` / Cr ``fund_guarantees_given``, referenced ``invoice:<id>``: what the client
  still owes of the invoice, excl. VAT.
- repayment (key ``fund_repayment:<invoice id>:<n>``): the reverse pair, as the client pays
  (or a credit note lowers what they owe), never more than what is open.
- default (key ``fund_default:<invoice id>``): the open advance closed, and charged to
  ``fund_losses`` against ``bad_debts`` (the fund bears the write-off up to what it advanced).

Exactly once: one Payout row per contract, locked (``skip_locked``) and re-checked in the
transaction that books ``payout:<contract id>`` (unique in the database) and marks it paid with
a conditional update; the payout job is safe to run twice, late or early.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Protocol

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from invoicing.models import Invoice
from members.models import Client, Contract, Member
from payroll.models import PayrollParameters, Payslip
from payroll.parameters import SECTOR_CATEGORIES, parameters_in_force
from payroll.sepa import Transfer, pain001_render
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.models import Account, Transaction
from smart_coop.ledger.services import (
    Leg,
    Post,
    accounts_get,
    budget_accounts_get,
    transaction_post,
    transactions_post_new,
)
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

from . import eligibility as rules
from .calendar import entity_today, payout_due_on
from .models import FundPolicy, Payout, PayoutBatch
from .selectors import invoice_open_advance, open_advances_by_invoice

log = logging.getLogger(__name__)
ZERO = Decimal(0)
# Test-only: seconds to wait between the payslips and the booking of a payout chunk, so that a
# test can kill a worker in the middle of a payout. Unset (0) everywhere else.
SLOW_PAYOUT_ENV = "GUARANTEE_FUND_TEST_PAYOUT_SLEEP"


def _reference(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


def _contribution_reference(invoice_id: int) -> str:
    # Apart from "invoice:<id>", which reads what the invoice itself booked (receivable, VAT,
    # fee, budget) and, on the fund's accounts, its advance.
    return f"fund_contribution:invoice:{invoice_id}"


class Owed(Protocol):
    """What ``open_claim`` reads of an invoice: the invoice itself or a ``_Claim``."""

    @property
    def state(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def net_total(self) -> Decimal: ...
    @property
    def gross_total(self) -> Decimal: ...
    @property
    def balance_due(self) -> Decimal: ...


def excl_vat_share(invoice: Owed, amount: Decimal) -> Decimal:
    """The part of ``amount`` (incl. VAT) of ``invoice`` that is its amount excl. VAT."""
    if invoice.gross_total <= ZERO or amount <= ZERO:
        return ZERO
    return quantize(amount * invoice.net_total / invoice.gross_total, invoice.currency)


def open_claim(invoice: Owed) -> Decimal:
    """What the client still owes of the invoice, excl. VAT (nothing once written off)."""
    if invoice.state in (Invoice.State.WRITTEN_OFF, Invoice.State.CREDITED):
        return ZERO
    return excl_vat_share(invoice, invoice.balance_due)


# --- contributions and payouts scheduled at issue ------------------------------------------


class _Parameters:
    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self._found: dict[tuple[str, datetime.date], PayrollParameters] = {}

    def on(self, category: str, day: datetime.date) -> PayrollParameters:
        if (category, day) not in self._found:
            self._found[(category, day)] = parameters_in_force(
                entity=self.entity, category=category, on=day
            )
        return self._found[(category, day)]


def _contribution(
    invoice: Invoice, parameters: _Parameters, sectors: dict[int, str]
) -> tuple[Decimal, bool]:
    """(contribution, on top?) of an invoice, as its payslip computes it."""
    contract: Contract | None = invoice.contract if invoice.contract_id else None
    day = contract.last_day if contract is not None else invoice.issue_date
    assert day is not None
    category = SECTOR_CATEGORIES.get(sectors.get(invoice.member_id, ""), "standard")
    params = parameters.on(category, day)
    amount = quantize(invoice.net_total * params.guarantee_percent / 100, invoice.currency)
    return amount, params.guarantee_on_top


def invoices_issued(*, invoices: Sequence[Invoice], actor: User | None) -> list[Payout]:
    """What the fund does with invoices being issued, in their issuing transaction.

    Effects, in order: books each invoice's contribution (keys new: the invoices are); creates
    each contract's Payout, due on the last work day + the entity's payout delay, scheduled or
    not guaranteed with the reason in the member's language.
    """
    invoices = [invoice for invoice in invoices if invoice.kind == Invoice.Kind.INVOICE]
    if not invoices:
        return []
    entity = current_entity()
    currency = invoices[0].currency
    sectors = dict(
        Member.objects.filter(pk__in={i.member_id for i in invoices}).values_list("pk", "sector")
    )
    parameters = _Parameters(entity)
    accounts = accounts_get(["fund_reserve", "fee_income"], currency=currency)
    amounts = [_contribution(invoice, parameters, sectors) for invoice in invoices]
    on_top = {
        inv.member_id: inv.performer
        for inv, (_c, top) in zip(invoices, amounts, strict=True)
        if top
    }
    budgets = budget_accounts_get(on_top, currency=currency) if on_top else {}
    posts = [
        Post(
            key=f"fund_contribution:{invoice.pk}",
            kind="fund_contribution",
            description=f"{invoice.number} guarantee fund contribution",
            occurred_on=invoice.issue_date,  # type: ignore[arg-type]
            legs=[
                Leg(
                    budgets[invoice.member_id] if top else accounts["fee_income"],
                    amount,
                    _contribution_reference(invoice.pk),
                ),
                Leg(accounts["fund_reserve"], -amount, _contribution_reference(invoice.pk)),
            ],
        )
        for invoice, (amount, top) in zip(invoices, amounts, strict=True)
        if amount
    ]
    if posts:
        transactions_post_new(posts, actor=actor)
    return _payouts_schedule([invoice for invoice in invoices if invoice.contract_id], entity)


def _payouts_schedule(invoices: list[Invoice], entity: Entity) -> list[Payout]:
    if not invoices:
        return []
    policy = FundPolicy.current()
    contracts = {invoice.contract_id: invoice.contract for invoice in invoices}
    signed = (
        rules.contracts_with_signed_order(
            contract.pk for contract in contracts.values() if contract
        )
        if policy.require_confirmed_order
        else set()
    )
    permanent = rules.members_under_permanent_contract(
        (contract.member_id, contract.last_day)  # type: ignore[union-attr]
        for contract in contracts.values()
    )
    payouts = []
    for invoice in invoices:
        contract = invoice.contract
        assert contract is not None
        answer = rules.eligibility(
            contract=contract,
            client=contract.client,
            member=contract.member,
            entity=entity,
            policy=policy,
            has_signed_order=contract.pk in signed,
            under_permanent_contract=contract.member_id in permanent,
        )
        payouts.append(
            Payout(
                contract=contract,
                invoice=invoice,
                member_id=invoice.member_id,
                client_id=invoice.client_id,
                state=Payout.State.SCHEDULED if answer.guaranteed else Payout.State.NOT_GUARANTEED,
                due_on=payout_due_on(entity=entity, last_day=contract.last_day),
                guaranteed=answer.guaranteed,
                not_guaranteed_reason=answer.reason,
                advance=invoice.net_total if answer.guaranteed else ZERO,
                currency=invoice.currency,
            )
        )
    return Payout.objects.bulk_create(payouts)


def payouts_schedule_missing(*, limit: int = 1000) -> list[Payout]:
    """Create the Payout rows of issued invoices that have none (invoices issued before the
    fund's receivers were connected): the lazy path of ``invoices_issued``, run by the job.

    Their contribution is not booked here: it belongs to the issuing transaction, and a
    contribution the books never received is not invented afterwards.
    """
    invoices = list(
        Invoice.objects.filter(kind=Invoice.Kind.INVOICE, contract__isnull=False, payout=None)
        .exclude(state=Invoice.State.DRAFT)
        .select_related("contract__client", "contract__member__user")
        .order_by("pk")[:limit]
    )
    if not invoices:
        return []
    with transaction.atomic():
        # Lock the contracts (as issuing does), then look again: a concurrent job creates
        # each row once.
        ids = [invoice.contract_id for invoice in invoices if invoice.contract_id is not None]
        list(Contract.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        done = set(Payout.objects.filter(contract_id__in=ids).values_list("contract_id", flat=True))
        return _payouts_schedule(
            [invoice for invoice in invoices if invoice.contract_id not in done], current_entity()
        )


def credit_note_issued(*, credit_note: Invoice, invoice: Invoice, actor: User | None) -> None:
    """What the fund does with a credit note being issued, in its transaction.

    Effects, in order: reverses the credit note's share of the invoice's contribution (the
    note that closes the invoice takes exactly what is left); once committed, lowers the open
    advance to what the client still owes (``advance_reconcile``).
    """
    reference = _contribution_reference(invoice.pk)
    original = Transaction.objects.filter(idempotency_key=f"fund_contribution:{invoice.pk}").first()
    if original is not None:
        legs = list(original.entries.select_related("account"))
        reserve = next(entry for entry in legs if entry.account.code == "fund_reserve")
        debited = next(entry for entry in legs if entry.account.code != "fund_reserve")
        contributed = -reserve.amount
        left = -sum(
            (
                entry.amount
                for entry in reserve.account.entries.filter(reference=reference).only("amount")
            ),
            ZERO,
        )
        credited = sum((note.net_total for note in invoice.credit_notes.all()), ZERO)
        share = (
            left
            if credited >= invoice.net_total
            else min(
                left,
                quantize(contributed * credit_note.net_total / invoice.net_total, invoice.currency),
            )
        )
        if share > ZERO:
            transaction_post(
                key=f"fund_contribution:{credit_note.pk}",
                kind="fund_contribution_reversal",
                description=f"{credit_note.number} guarantee fund contribution credited",
                occurred_on=credit_note.issue_date,  # type: ignore[arg-type]
                actor=actor,
                legs=[
                    Leg(reserve.account, share, reference),
                    Leg(debited.account, -share, reference),
                ],
            )
    transaction.on_commit(partial(advance_reconcile, invoice_id=invoice.pk))


# --- the payout job --------------------------------------------------------------------------


@dataclass
class PayoutsRunResult:
    paid: list[int] = field(default_factory=list)  # contract ids
    awaiting_approval: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)  # invoice ids


def _client_exposure(client_ids: set[int]) -> dict[int, Decimal]:
    """Open advances per client, from the ledger: the ``fund_advances`` entries of the
    invoices the fund paid out (only those carry an advance), by their reference, in one
    query."""
    if not client_ids:
        return {}
    from smart_coop.ledger.models import Entry

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.client_id, SUM(e.amount)
            FROM {Payout._meta.db_table} p
            JOIN {Entry._meta.db_table} e ON e.reference = 'invoice:' || p.invoice_id
            JOIN {Account._meta.db_table} a ON a.id = e.account_id AND a.code = 'fund_advances'
            WHERE p.client_id = ANY(%s) AND p.state = %s
            GROUP BY p.client_id
            """,  # noqa: S608 - table names from the models, values as parameters
            [list(client_ids), Payout.State.PAID],
        )
        return dict(cursor.fetchall())


def _slow_down() -> None:
    seconds = float(os.environ.get(SLOW_PAYOUT_ENV) or 0)
    if seconds:
        time.sleep(seconds)


def _payout_legs(payslip: Payslip, advance: Decimal, accounts: dict[str, Account]) -> list[Leg]:
    """The salary out of the member's budget, and the advance (memorandum pair)."""
    reference = _reference(payslip.invoice_id or 0)
    cost = (
        payslip.gross + payslip.employer_contributions + payslip.budget_remainder + payslip.expenses
    )
    social = payslip.employee_contributions + payslip.employer_contributions
    return [
        Leg(accounts["budget"], cost, reference),
        Leg(accounts["social_payable"], -social, reference),
        Leg(accounts["withholding_payable"], -payslip.withholding, reference),
        Leg(accounts["budget_remainders"], -payslip.budget_remainder, reference),
        Leg(accounts["bank"], -(payslip.net + payslip.expenses), reference),
        Leg(accounts["fund_advances"], advance, reference),
        Leg(accounts["fund_guarantees_given"], -advance, reference),
    ]


def _batch_for(entity: Entity, day: datetime.date) -> PayoutBatch:
    batch, _created = PayoutBatch.objects.get_or_create(
        execution_date=day,
        defaults={"message_id": f"PAYOUT-{entity.code.upper()}-{day:%Y%m%d}-0"},
    )
    return PayoutBatch.objects.select_for_update().get(pk=batch.pk)


@dataclass
class _Run:
    """One run of the payout job: what it works on and what it did."""

    entity: Entity
    policy: FundPolicy
    today: datetime.date
    actor: User | None
    result: PayoutsRunResult
    only: set[int] | None = None
    skip: set[int] = field(default_factory=set)
    # Clients whose exposure cannot pass the limit during this run (``_exposure_bound``): their
    # exposure is not read again for each chunk while their count of payouts is the same.
    within_limit: dict[int, int] = field(default_factory=dict)

    def due(self) -> QuerySet[Payout]:
        due = Payout.objects.filter(state=Payout.State.SCHEDULED, due_on__lte=self.today).exclude(
            pk__in=self.skip
        )
        if self.only is not None:
            due = due.filter(pk__in=self.only)
        return due.order_by("due_on", "pk")


@dataclass(frozen=True, slots=True)
class _Claim:
    """What ``open_claim`` reads of an invoice, and its number: read as values, 20,000 at a
    time at month end."""

    number: str | None
    state: str
    currency: str
    net_total: Decimal
    gross_total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal

    @property
    def balance_due(self) -> Decimal:
        # Invoice.balance_due, on the same fields.
        return self.gross_total - self.amount_paid - self.amount_credited


def _claims(invoice_ids: list[int]) -> dict[int, _Claim]:
    """The invoices with what ``open_claim`` reads (not their snapshots)."""
    rows = Invoice.objects.filter(pk__in=invoice_ids).values_list(
        "pk",
        "number",
        "state",
        "currency",
        "net_total",
        "gross_total",
        "amount_paid",
        "amount_credited",
    )
    return {
        pk: _Claim(number, state, currency, net, gross, paid, credited)
        for pk, number, state, currency, net, gross, paid, credited in rows
    }


def _payouts_per_client(client_ids: set[int]) -> dict[int, int]:
    """How many payouts each client has, in any state: a new one changes the count."""
    if not client_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT client_id, COUNT(*) FROM {Payout._meta.db_table}
            WHERE client_id = ANY(%s) GROUP BY client_id
            """,  # noqa: S608 - the table name from the model, values as parameters
            [list(client_ids)],
        )
        return dict(cursor.fetchall())


def _exposure_bound(run: _Run) -> dict[int, int]:
    """The clients of the due payouts whose exposure stays within the limit whatever this run
    (or a concurrent one) pays of their payouts, with their count of payouts.

    Within the limit: their open advances now plus, for every payout of theirs still to pay
    (scheduled or awaiting an advisor, due or not), the most it can advance (what the client
    owes of its invoice incl. VAT, at least its gross total: an advance is the excl.-VAT share
    of what is owed, never more) is at most the limit. Repayments and losses only lower the
    exposure; a payout created since (an invoice issued meanwhile) changes the count, and the
    chunk then reads the client's exposure again. One query each, outside the chunks, in this
    order: the counts, what is still to pay, then the open advances (a payout paid meanwhile by
    a concurrent run is counted twice, never missed).
    """
    clients = set(run.due().order_by().values_list("client_id", flat=True).distinct())
    if not clients:
        return {}
    counts = _payouts_per_client(clients)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.client_id,
                   SUM(GREATEST(i.gross_total, i.gross_total - i.amount_paid - i.amount_credited))
            FROM {Payout._meta.db_table} p
            JOIN {Invoice._meta.db_table} i ON i.id = p.invoice_id
            WHERE p.client_id = ANY(%s) AND p.state = ANY(%s)
            GROUP BY p.client_id
            """,  # noqa: S608 - table names from the models, values as parameters
            [list(clients), [Payout.State.SCHEDULED, Payout.State.AWAITING_APPROVAL]],
        )
        still_to_pay = dict(cursor.fetchall())
    exposure = _client_exposure(clients)
    limit = run.policy.client_exposure_limit
    return {
        client: counts.get(client, 0)
        for client in clients
        if exposure.get(client, ZERO) + still_to_pay.get(client, ZERO) <= limit
    }


def _within_limit(run: _Run, client_ids: set[int]) -> set[int]:
    """Of these clients, those still within their limit whatever is paid (``_exposure_bound``):
    their count of payouts is what it was (read in the chunk's transaction); a client with a
    new payout is read from the ledger from then on."""
    known = {
        client: run.within_limit[client] for client in client_ids if client in run.within_limit
    }
    counts = _payouts_per_client(set(known))
    changed = {client for client, count in known.items() if counts.get(client, 0) != count}
    for client in changed:
        run.within_limit.pop(client, None)
    return set(known) - changed


def _hold_or_cancel(run: _Run, payouts: list[Payout]) -> list[Payout]:
    """Cancel the payouts of credited invoices, hold those above their client's exposure
    limit (not approved) for an advisor; return the others, to pay.

    The exposure of a client is read from the ledger in this chunk's transaction, unless the
    client is one the run found within its limit whatever is paid (``_exposure_bound``): a
    concurrent run works on other payouts (``skip_locked``), and whatever it pays of this
    client's was counted in that bound, so no payout of such a client can pass the limit."""
    invoices = _claims([payout.invoice_id for payout in payouts])
    clients = {payout.client_id for payout in payouts}
    within_limit = _within_limit(run, clients)
    exposure = _client_exposure(clients - within_limit)
    limit = run.policy.client_exposure_limit
    to_pay: list[Payout] = []
    for payout in payouts:
        invoice = invoices[payout.invoice_id]
        if invoice.state in (Invoice.State.CREDITED, Invoice.State.DRAFT):
            _state_set(payout, Payout.State.CANCELLED)
            run.result.cancelled.append(payout.contract_id)
            continue
        advance = open_claim(invoice)
        opened = exposure.get(payout.client_id, ZERO)
        if (
            payout.approved_by_id is None
            and advance
            and payout.client_id not in within_limit
            and opened + advance > limit
        ):
            _state_set(payout, Payout.State.AWAITING_APPROVAL)
            run.result.awaiting_approval.append(payout.contract_id)
            continue
        exposure[payout.client_id] = opened + advance
        to_pay.append(payout)
    return to_pay


def _with_payslips(run: _Run, to_pay: list[Payout]) -> list[tuple[Payout, Payslip]]:
    """The payslips of these payouts, computed now and paid out; payouts without one are
    cancelled (the member is paid monthly, or the invoice is no longer due), and so are those
    whose payslip a salary run computed before the payout was due (the run pays it)."""
    from payroll.services import payslips_for_invoices

    payslips = payslips_for_invoices(
        invoice_ids=[payout.invoice_id for payout in to_pay],
        on=run.today,
        paid_out=True,
        actor=run.actor,
        reload=False,
    )
    paying = []
    for payout in to_pay:
        payslip = payslips.get(payout.invoice_id)
        if payslip is not None and payslip.paid_out:
            paying.append((payout, payslip))
            continue
        log.warning(
            "payout of contract %s cancelled: %s",
            payout.contract_id,
            "no payslip" if payslip is None else "its payslip is paid by a salary run",
        )
        _state_set(payout, Payout.State.CANCELLED)
        run.result.cancelled.append(payout.contract_id)
    return paying


def _book(run: _Run, paying: list[tuple[Payout, Payslip]]) -> None:
    """Book the payouts (keys new: their rows are locked and scheduled), mark them paid and
    add them to the day's batch."""
    currency = run.entity.currency
    # Locked by the payslips' computation: what the clients owe is final in this transaction.
    invoices = _claims([payout.invoice_id for payout, _slip in paying])
    accounts = accounts_get(
        [
            "social_payable",
            "withholding_payable",
            "budget_remainders",
            "bank",
            "fund_advances",
            "fund_guarantees_given",
        ],
        currency=currency,
    )
    budgets = budget_accounts_get(
        {payout.member_id: str(payout.member_id) for payout, _slip in paying}, currency=currency
    )
    posts = []
    for payout, payslip in paying:
        payout.advance = open_claim(invoices[payout.invoice_id])
        posts.append(
            Post(
                key=f"payout:{payout.contract_id}",
                kind="fund_payout",
                description=f"Payout {invoices[payout.invoice_id].number}",
                occurred_on=run.today,
                legs=_payout_legs(
                    payslip, payout.advance, {**accounts, "budget": budgets[payout.member_id]}
                ),
            )
        )
    transactions_post_new(posts, actor=run.actor)
    batch = _batch_for(run.entity, run.today)
    now = timezone.now()
    total = ZERO
    for payout, payslip in paying:
        payout.state = Payout.State.PAID
        payout.payslip = payslip
        payout.paid_amount = payslip.net + payslip.expenses
        payout.paid_at = now
        payout.batch = batch
        payout.updated_at = now
        total += payout.paid_amount
    _mark_paid([payout for payout, _slip in paying], now=now, batch=batch)
    run.result.paid += [payout.contract_id for payout, _slip in paying]
    batch.total += total
    batch.transfers += len(paying)
    batch.save(update_fields=["total", "transfers", "updated_at"])


def _mark_paid(payouts: list[Payout], *, now: datetime.datetime, batch: PayoutBatch) -> None:
    """One conditional UPDATE: only rows still scheduled become paid (the row locks make it
    all of them; anything else is refused, so that nothing is booked twice)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Payout._meta.db_table} AS p
            SET state = %s, payslip_id = v.payslip_id, paid_amount = v.amount, advance = v.advance,
                paid_at = %s, batch_id = %s, updated_at = %s
            FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS payslip_id,
                         unnest(%s::numeric[]) AS amount, unnest(%s::numeric[]) AS advance) AS v
            WHERE p.id = v.id AND p.state = %s
            """,  # noqa: S608 - the table name from the model, values as parameters
            [
                Payout.State.PAID,
                now,
                batch.pk,
                now,
                [payout.pk for payout in payouts],
                [payout.payslip_id for payout in payouts],
                [payout.paid_amount for payout in payouts],
                [payout.advance for payout in payouts],
                Payout.State.SCHEDULED,
            ],
        )
        if cursor.rowcount != len(payouts):
            raise RuntimeError("payouts changed under their lock")


def _chunk_pay(run: _Run, *, size: int) -> int:
    """Pay up to ``size`` due payouts in the caller's transaction; return how many it took."""
    payouts = list(run.due().select_for_update(skip_locked=True, of=("self",))[:size])
    if not payouts:
        return 0
    to_pay = _hold_or_cancel(run, payouts)
    paying = _with_payslips(run, to_pay) if to_pay else []
    _slow_down()
    if paying:
        _book(run, paying)
    return len(payouts)


def _state_set(payout: Payout, state: str) -> None:
    if state not in Payout.TRANSITIONS[payout.state]:
        raise DomainError(
            _("A payout cannot go from %(from)s to %(to)s.") % {"from": payout.state, "to": state},
            code="illegal_transition",
        )
    payout.state = state
    payout.save(update_fields=["state", "updated_at"])


def payouts_run(
    *,
    as_of: datetime.date | None = None,
    actor: User | None = None,
    chunk: int = 2000,
    only: set[int] | None = None,
) -> PayoutsRunResult:
    """Pay every due payout of the current entity, oldest first: the payout job.

    ``as_of``: the entity's local date (default: today in its time zone); nothing due later is
    touched (safe early), everything due by then is paid (safe late). ``only``: these payout ids
    alone. Effects, in order: creates the missing Payout rows of invoices issued before the
    fund's receivers (``payouts_schedule_missing``); repays any open advance whose invoice the
    client has paid (or that was written off) since (``advances_reconcile_all``: the catch-up of
    a repayment lost in a crash); then, ``chunk`` payouts per database transaction: locks due
    scheduled payouts (``skip_locked``: a concurrent run takes others), cancels those whose
    invoice was credited, holds for an advisor those above the client's exposure limit and not
    approved (``awaiting_approval``), computes the payslips
    (``payroll.services.payslips_for_invoices``, paid out), books each payout under
    ``payout:<contract id>``, marks it paid and adds it to the day's ``PayoutBatch``; finally
    renders the day's pain.001 again (``batch_render``). A chunk that fails is retried payout by
    payout; a payout that still fails is logged and left scheduled for the next run. Called
    outside a transaction (the task, the command), each chunk commits on its own; inside one (a
    test), chunks are savepoints of it.
    """
    entity = current_entity()
    run = _Run(
        entity=entity,
        policy=FundPolicy.current(),
        today=as_of or entity_today(entity),
        actor=actor,
        result=PayoutsRunResult(),
        only=only,
    )
    while payouts_schedule_missing():
        pass
    run.result.reconciled = advances_reconcile_all()
    run.within_limit = _exposure_bound(run)
    while True:
        try:
            with transaction.atomic():
                taken = _chunk_pay(run, size=chunk)
        except Exception:
            log.exception("payout chunk failed; paying its payouts one by one")
            taken = _one_by_one(run, chunk)
        if taken == 0:
            break
    batches = PayoutBatch.objects.filter(execution_date__lte=run.today).exclude(
        file_transfers=F("transfers")
    )
    for batch in batches.order_by("execution_date"):
        batch_render(batch=batch)
    return run.result


def _one_by_one(run: _Run, chunk: int) -> int:
    taken = 0
    for pk in list(run.due().values_list("pk", flat=True)[:chunk]):
        try:
            with transaction.atomic():
                taken += _chunk_pay(
                    _Run(**{**run.__dict__, "only": {pk}}),
                    size=1,
                )
        except Exception:
            log.exception("payout %s failed; left scheduled for the next run", pk)
            run.skip.add(pk)
            run.result.failed.append(pk)
            taken += 1
    return taken


def batch_render(*, batch: PayoutBatch) -> PayoutBatch:
    """Render the day's pain.001 again from its paid payouts, under the entity's media folder.

    EUR entities only: SEPA credit transfers exist in euro alone, so the SEK and HUF entities
    keep the batch (its payouts, total and count) without a file and pay by their own means.
    """
    entity = current_entity()
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        paid = list(
            batch.payouts.filter(state=Payout.State.PAID)
            .order_by("pk")
            .values_list(
                "member__user__first_name",
                "member__user__last_name",
                "member__user__email",
                "member__iban",
                "member__bic",
                "paid_amount",
                "contract_id",
                "contract__title",
            )
        )
        if entity.currency == "EUR":
            transfers = [
                Transfer(
                    name=f"{first} {last}".strip() or email,
                    iban=iban,
                    bic=bic,
                    amount=amount,
                    end_to_end_id=f"PAYOUT-{contract_id}",
                    remittance=_("Salary, contract %(title)s") % {"title": title},
                )
                for first, last, email, iban, bic, amount, contract_id, title in paid
                if amount and amount > ZERO
            ]
            if transfers:
                message_id = (
                    f"PAYOUT-{entity.code.upper()}-{batch.execution_date:%Y%m%d}-{len(paid)}"
                )
                content = pain001_render(
                    entity=entity,
                    transfers=transfers,
                    execution_date=batch.execution_date,
                    message_id=message_id,
                )
                batch.message_id = message_id
                batch.file.save(f"{message_id}.xml", ContentFile(content), save=False)
        batch.file_transfers = batch.transfers
        batch.save(update_fields=["message_id", "file", "file_transfers", "updated_at"])
    return batch


# --- approvals -------------------------------------------------------------------------------


@transaction.atomic
def payout_approve(*, payout: Payout, actor: User) -> Payout:
    """An advisor lets an advance above the client's exposure limit go ahead.

    Effects, in order: refuses an actor without ``guarantee_fund.approve_payout``; locks the
    payout; already scheduled (approved) or paid: returned as it is; refuses any other state;
    marks it scheduled, approved by ``actor``; if it is due, enqueues the payout job on commit,
    so that it is paid at once (the exposure check passes for an approved payout).
    """
    if not actor.has_perm("guarantee_fund.approve_payout"):
        raise DomainError(_("You may not approve advances."), code="permission_denied")
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    if payout.state in (Payout.State.SCHEDULED, Payout.State.PAID):
        return payout
    if payout.state != Payout.State.AWAITING_APPROVAL:
        raise DomainError(
            _("Only an advance waiting for approval can be approved."),
            field="state",
            code="illegal_transition",
        )
    payout.state = Payout.State.SCHEDULED
    payout.approved_by = actor
    payout.approved_at = timezone.now()
    payout.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    if payout.due_on <= entity_today(current_entity()):
        from .tasks import payouts_run_task

        transaction.on_commit(partial(payouts_run_task.delay))
    return payout


# --- repayment and default -------------------------------------------------------------------


def advance_reconcile(*, invoice_id: int) -> Decimal:
    """Bring the fund's open advance on an invoice in line with what the client still owes.

    Idempotent: it reads what is open and what is owed now, under the payout's row lock, and
    books only the difference; calling it again books nothing. Effects, in order: locks the
    paid payout of the invoice (none: nothing to do); if the invoice is written off, closes
    the whole open advance and books it as a loss (key ``fund_default:<invoice id>``) and
    blocks the client; otherwise repays down to what the client still owes excl. VAT (key
    ``fund_repayment:<invoice id>:<n>``, Dr fund_guarantees_given / Cr fund_advances). Returns
    what it repaid or charged to losses.
    """
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update()
            .filter(invoice_id=invoice_id, state=Payout.State.PAID)
            .first()
        )
        if payout is None:
            return ZERO
        invoice = Invoice.objects.select_related("client").get(pk=invoice_id)
        opened = invoice_open_advance(invoice_id=invoice_id)
        if invoice.state == Invoice.State.WRITTEN_OFF:
            return _default(invoice, opened)
        target = min(payout.advance, open_claim(invoice))
        repaid = opened - target
        if repaid <= ZERO:
            return ZERO
        sequence = (
            Transaction.objects.filter(
                idempotency_key__startswith=f"fund_repayment:{invoice_id}:"
            ).count()
            + 1
        )
        accounts = accounts_get(
            ["fund_advances", "fund_guarantees_given"], currency=invoice.currency
        )
        reference = _reference(invoice_id)
        transaction_post(
            key=f"fund_repayment:{invoice_id}:{sequence}",
            kind="fund_repayment",
            description=f"{invoice.number} advance repaid",
            occurred_on=entity_today(current_entity()),
            legs=[
                Leg(accounts["fund_guarantees_given"], repaid, reference),
                Leg(accounts["fund_advances"], -repaid, reference),
            ],
        )
        return repaid


def _default(invoice: Invoice, opened: Decimal) -> Decimal:
    reference = _reference(invoice.pk)
    writeoff = Transaction.objects.filter(idempotency_key=f"writeoff:{invoice.pk}").first()
    if opened > ZERO:
        accounts = accounts_get(
            ["fund_advances", "fund_guarantees_given", "fund_losses", "bad_debts"],
            currency=invoice.currency,
        )
        transaction_post(
            key=f"fund_default:{invoice.pk}",
            kind="fund_loss",
            description=f"{invoice.number} written off: the fund's advance is lost",
            occurred_on=entity_today(current_entity()),
            actor=writeoff.created_by if writeoff else None,
            legs=[
                Leg(accounts["fund_guarantees_given"], opened, reference),
                Leg(accounts["fund_advances"], -opened, reference),
                Leg(accounts["fund_losses"], opened, reference),
                Leg(accounts["bad_debts"], -opened, reference),
            ],
        )
    client_block(
        client=invoice.client, invoice=invoice, actor=writeoff.created_by if writeoff else None
    )
    return max(opened, ZERO)


def client_block(*, client: Client, invoice: Invoice, actor: User | None) -> None:
    """Block a client whose invoice was written off (no new guaranteed work for them)."""
    from members.services import client_status_set

    if client.status == Client.Status.BLOCKED:
        return
    client_status_set(
        client=client,
        status=Client.Status.BLOCKED,
        actor=actor,  # type: ignore[arg-type]  # the service records no actor
        reason=_("Invoice %(number)s written off: the guarantee fund bore the loss.")
        % {"number": invoice.number},
    )


def advances_reconcile_all() -> list[int]:
    """Repay or charge every open advance that the invoices' state says is (partly) settled.

    The catch-up of ``payment_applied`` and ``invoice_written_off`` receivers that did not run
    (a crash after the payment's commit): returns the invoice ids it booked for.
    """
    advances = open_advances_by_invoice()
    if not advances:
        return []
    advanced = dict(
        Payout.objects.filter(invoice_id__in=list(advances), state=Payout.State.PAID).values_list(
            "invoice_id", "advance"
        )
    )
    booked = []
    for invoice in Invoice.objects.filter(pk__in=list(advances)).only(
        "pk", "state", "gross_total", "net_total", "amount_paid", "amount_credited", "currency"
    ):
        target = min(advanced.get(invoice.pk, ZERO), open_claim(invoice))
        if advances[invoice.pk] > target and advance_reconcile(invoice_id=invoice.pk):
            booked.append(invoice.pk)
    return booked
