"""Dunning: reminders, the formal notice, collection and write-off of unpaid invoices.

The days come from the entity (``Entity.dunning_days``: first reminder, second reminder, formal
notice; ``Entity.collection_days``), counted from the due date. The statutory interest and the
fixed compensation are dated data of the entity (``Rate`` "late_interest_b2b", ``Amount``
"late_payment_compensation"). Interest and compensation are *claimed* in the formal notice and
stored on its ``DunningStep``; they are not booked: they become income only if the client pays
them (not handled here).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from invoicing import signals
from invoicing.models import DunningStep, Invoice
from members.models import Client
from members.services import entity_today
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.services import Leg, account_get, transaction_post
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity, current_schema
from smart_coop.tenancy.models import Amount, Entity, Rate, RateNotFoundError

log = logging.getLogger(__name__)

ZERO = Decimal(0)
DAY = datetime.timedelta(days=1)
# States in which an invoice is still being reminded (in collection, reminders are over).
DUNNED_STATES = (Invoice.State.ISSUED, Invoice.State.PARTIALLY_PAID)
# Directive 2011/7/EU covers transactions between undertakings and with public authorities.
BUSINESS_CLIENTS = frozenset({Client.Kind.COMPANY, Client.Kind.PUBLIC_BODY})


@dataclass
class DunningRunResult:
    reminders: int = 0
    formal_notices: int = 0
    collections: int = 0
    # Invoices the run could not advance (a missing rate...), left for the next run.
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reminders": self.reminders,
            "formal_notices": self.formal_notices,
            "collections": self.collections,
            "failed": self.failed,
        }


# --- statutory interest ------------------------------------------------------------------------


def _half_year(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of ``day``'s half-year and the first day of the next one."""
    if day.month <= 6:
        return datetime.date(day.year, 1, 1), datetime.date(day.year, 7, 1)
    return datetime.date(day.year, 7, 1), datetime.date(day.year + 1, 1, 1)


def _rate_on(rates: list[Rate], day: datetime.date, entity: Entity) -> Decimal:
    """The rate in force on ``day``: the row with the latest start on or before it.

    Not ``Entity.rate``, which returns the highest of the rows in force: the half-year rows
    carry no end date, each one simply follows the one before.
    """
    in_force = [
        rate
        for rate in rates
        if rate.valid_from <= day and (rate.valid_until is None or rate.valid_until > day)
    ]
    if not in_force:
        raise RateNotFoundError(entity, Rate.Kind.LATE_INTEREST_B2B, day)
    latest = max(rate.valid_from for rate in in_force)
    return max(rate.percent for rate in in_force if rate.valid_from == latest)


def late_interest(
    *, entity: Entity, amount: Decimal, currency: str, due_date: datetime.date, as_of: datetime.date
) -> tuple[Decimal, Decimal]:
    """Statutory interest on ``amount`` from the day after ``due_date`` to ``as_of`` included,
    and the rate of the last half-year.

    Simple interest, actual days / 365, each half-year at the rate set for it on 1 January or
    1 July (Directive 2011/7/EU art. 2(6), 3(1)); the exact sum is rounded once, half-up.
    """
    rates = list(entity.rates.filter(kind=Rate.Kind.LATE_INTEREST_B2B, valid_from__lte=as_of))
    total, rate, day = ZERO, ZERO, due_date + DAY
    while day <= as_of:
        start, next_start = _half_year(day)
        last = min(as_of, next_start - DAY)
        rate = _rate_on(rates, start, entity)
        total += amount * rate * ((last - day).days + 1)
        day = next_start
    return quantize(total / Decimal(36500), currency), rate


# --- the run -----------------------------------------------------------------------------------


def _levels(entity: Entity) -> list[int]:
    """Days after the due date of each level (1-based by position), at most the formal notice."""
    return list(entity.dunning_days)[: len(DunningStep.Level)]


def _collection_reached(invoice: Invoice, entity: Entity, on: datetime.date) -> bool:
    assert invoice.due_date is not None
    return invoice.dunning_level >= len(_levels(entity)) and (
        invoice.due_date + datetime.timedelta(days=entity.collection_days) <= on
    )


def _is_business(invoice: Invoice) -> bool:
    """The client as invoiced (the snapshot at issue) is a business or a public body."""
    return (invoice.buyer.get("kind") or invoice.client.kind) in BUSINESS_CLIENTS


def _claim(
    invoice: Invoice, entity: Entity, level: int, as_of: datetime.date
) -> tuple[Decimal, Decimal, Decimal]:
    """(interest, rate, compensation) claimed at ``level``: only the formal notice to a business
    claims anything. A private person is not charged: the Directive is B2B only, and in
    Belgium the first reminder must be free and any penalty needs a clause (CDE Book XIX)."""
    if level != DunningStep.Level.FORMAL_NOTICE or not _is_business(invoice):
        return ZERO, ZERO, ZERO
    assert invoice.due_date is not None
    interest, rate = late_interest(
        entity=entity,
        amount=invoice.balance_due,
        currency=invoice.currency,
        due_date=invoice.due_date,
        as_of=as_of,
    )
    # Directive 2011/7/EU art. 6: due without a reminder, in the amount in force on the claim.
    compensation = entity.amount(Amount.Kind.LATE_PAYMENT_COMPENSATION, as_of)
    return interest, rate, quantize(compensation, invoice.currency)


@transaction.atomic
def _invoice_advance(*, invoice_id: int, entity: Entity, as_of: datetime.date) -> str | None:
    """Move one invoice one step on: the next reminder, or collection. Returns what it did."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(pk=invoice_id, kind=Invoice.Kind.INVOICE, state__in=DUNNED_STATES)
        .first()
    )
    if invoice is None or invoice.balance_due <= ZERO or invoice.due_date is None:
        return None  # paid or credited since the run started
    if invoice.dunning_steps.filter(sent_on__gte=as_of).exists():
        return None  # one step a day, however many runs that day (beat, the command...)
    levels = _levels(entity)
    level = invoice.dunning_level + 1
    if level > len(levels):
        if not _collection_reached(invoice, entity, as_of):
            return None
        invoice.state = Invoice.State.IN_COLLECTION
        invoice.save(update_fields=["state"])
        return "collection"
    if invoice.due_date + datetime.timedelta(days=levels[level - 1]) > as_of:
        return None
    interest, rate, compensation = _claim(invoice, entity, level, as_of)
    step = DunningStep.objects.create(
        invoice=invoice,
        level=level,
        sent_on=as_of,
        days_late=(as_of - invoice.due_date).days,
        interest_rate=rate,
        interest=interest,
        compensation=compensation,
        balance_due=invoice.balance_due,
    )
    # The database refuses any other change to an issued invoice: only this column moves.
    invoice.dunning_level = level
    invoice.save(update_fields=["dunning_level"])
    transaction.on_commit(partial(dunning_step_send_task.delay, step_id=step.pk))
    return "formal_notice" if level == DunningStep.Level.FORMAL_NOTICE else "reminder"


def dunning_run(*, as_of: datetime.date, actor: User | None = None) -> DunningRunResult:
    """Remind the clients of the current entity's overdue invoices, as of ``as_of``.

    Effects, per open invoice, oldest due date first, each in its own transaction (one failure
    does not stop the others): locks it; when the next level's day is reached, records the
    ``DunningStep`` (the formal notice to a business claims the statutory interest and the
    fixed compensation), raises ``dunning_level`` and emails the client on commit; after the
    last level, on the collection day, puts it in collection. At most one step per invoice a
    day: late runs catch up one level a day, in order; a second run the same day, or an early
    one, does nothing. ``actor`` is logged only (the run is the platform's own).
    """
    entity = current_entity()
    levels = _levels(entity)
    first_day = min([*levels, entity.collection_days])
    result = DunningRunResult()
    invoice_ids = (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            state__in=DUNNED_STATES,
            due_date__lte=as_of - datetime.timedelta(days=first_day),
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    for invoice_id in list(invoice_ids):
        try:
            done = _invoice_advance(invoice_id=invoice_id, entity=entity, as_of=as_of)
        except DomainError as error:
            log.warning("%s: invoice %s not reminded: %s", entity.code, invoice_id, error)
            result.failed.append(invoice_id)
            continue
        if done == "reminder":
            result.reminders += 1
        elif done == "formal_notice":
            result.formal_notices += 1
        elif done == "collection":
            result.collections += 1
    log.info("%s: dunning as of %s by %s: %s", entity.code, as_of, actor, result.as_dict())
    return result


# --- the email ---------------------------------------------------------------------------------


def dunning_step_send(*, step: DunningStep) -> str | None:
    """Email the client a reminder or the formal notice, in the invoice's language.

    Nothing is sent for an invoice paid, credited or written off since the step was recorded.
    Returns the address written to.
    """
    invoice = step.invoice
    if invoice.state not in Invoice.OPEN_STATES:
        return None
    entity = current_entity()
    recipient = invoice.client.email or invoice.buyer.get("email", "")
    if not recipient:
        return None
    assert invoice.due_date is not None
    collection_on = invoice.due_date + datetime.timedelta(days=entity.collection_days)
    context = {
        "step": step,
        "invoice": invoice,
        "entity": entity,
        "business": _is_business(invoice),
        "total": step.balance_due + step.interest + step.compensation,
        "rate": step.interest_rate.normalize(),  # 10.5, not 10.5000
        "formal_notice": step.level == DunningStep.Level.FORMAL_NOTICE,
        # A notice sent late (a run catching up) cannot name a day already past.
        "collection_on": collection_on if collection_on > step.sent_on else None,
    }
    with translation.override(invoice.language or entity.default_language):
        subject = render_to_string("invoicing/email/dunning_subject.txt", context).strip()
        body = render_to_string("invoicing/email/dunning_body.txt", context)
    send_mail(subject, body, None, [recipient])
    return str(recipient)


# --- write-off ---------------------------------------------------------------------------------


@transaction.atomic
def invoice_write_off(*, invoice: Invoice, actor: User, reason: str) -> Invoice:
    """Give up what a client in collection still owes: the loss is the cooperative's.

    Effects, in order: refuses an actor without ``invoicing.write_off_invoice`` and an empty
    reason; locks the invoice; an invoice already written off is returned as it is (nothing
    booked or sent twice); refuses unless it is in collection (or partly paid once there);
    books the balance due, VAT included, to bad debts against the receivable (key
    ``writeoff:<id>``); sets it written off; sends ``invoice_written_off`` on commit (the
    guarantee fund charges its advance to losses).

    The VAT on a lost claim can be recovered from the State (BE: VAT Code art. 77, not verified
    here): that is a later correction from bad debts to VAT payable, not made here.
    """
    if not actor.has_perm("invoicing.write_off_invoice"):
        raise DomainError(_("You may not write off invoices."), code="permission_denied")
    if not reason.strip():
        raise DomainError(_("Say why the invoice is written off."), field="reason")
    entity = current_entity()
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state == Invoice.State.WRITTEN_OFF:
        return invoice
    in_collection = invoice.state == Invoice.State.IN_COLLECTION or (
        invoice.state == Invoice.State.PARTIALLY_PAID
        and _collection_reached(invoice, entity, entity_today(entity))
    )
    if invoice.kind != Invoice.Kind.INVOICE or not in_collection:
        raise DomainError(
            _("Invoice %(number)s is not in collection: it cannot be written off.")
            % {"number": invoice.number},
            field="invoice",
        )
    amount = invoice.balance_due
    currency = invoice.currency
    reference = f"invoice:{invoice.pk}"
    transaction_post(
        key=f"writeoff:{invoice.pk}",
        kind="write_off",
        description=f"{invoice.number} {reason}",
        occurred_on=entity_today(entity),
        actor=actor,
        legs=[
            Leg(account_get("bad_debts", currency=currency), amount, reference),
            Leg(account_get("receivables", currency=currency), -amount, reference),
        ],
    )
    invoice.state = Invoice.State.WRITTEN_OFF
    invoice.save(update_fields=["state"])
    transaction.on_commit(
        partial(
            signals.invoice_written_off.send,
            sender=Invoice,
            invoice_id=invoice.pk,
            amount=amount,
            schema=current_schema(),
        )
    )
    return invoice


# --- tasks -------------------------------------------------------------------------------------


@shared_task(name="invoicing.dunning_run", acks_late=True)
def dunning_run_task(*, as_of: str | None = None) -> dict[str, Any]:
    """The daily dunning of the entity the task carries (beat, through entities_dispatch)."""
    day = datetime.date.fromisoformat(as_of) if as_of else entity_today(current_entity())
    return dunning_run(as_of=day).as_dict()


@shared_task(
    name="invoicing.dunning_send",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def dunning_step_send_task(*, step_id: int) -> str | None:
    """Email one reminder or formal notice (retried only when the mail server fails)."""
    step = DunningStep.objects.select_related("invoice__client").filter(pk=step_id).first()
    if step is None:
        return None
    return dunning_step_send(step=step)
