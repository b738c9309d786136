"""Double-entry books, one set per entity (its schema).

A transaction is a set of entries that sums to zero per currency, written once under a unique
idempotency key and never changed: a mistake is corrected by a reversing transaction. The
database enforces both: a deferred constraint trigger refuses a transaction whose entries do
not balance at commit, and rows of committed transactions cannot be updated or deleted
(migration 0002).

Amounts are signed: a debit is positive, a credit negative.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smart_coop.db import TransactionNow


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", _("asset")
        LIABILITY = "liability", _("liability")
        EQUITY = "equity", _("equity")
        INCOME = "income", _("income")
        EXPENSE = "expense", _("expense")

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    currency = models.CharField(_("currency"), max_length=3)
    # The member whose activity budget this is (one account per member).
    member = models.OneToOneField(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_account",
        verbose_name=_("member"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Transaction(models.Model):
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    description = models.CharField(_("description"), max_length=300)
    occurred_on = models.DateField(_("date"))
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The start of the database transaction that wrote it: entries are accepted only from
    # that same transaction (migration 0004).
    created_at = models.DateTimeField(_("created at"), db_default=TransactionNow())

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.kind} {self.idempotency_key}"


class Entry(models.Model):
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("transaction")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount = models.DecimalField(_("amount (debit +, credit -)"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # What the entry is about, e.g. "invoice:42": lets a balance be read per document.
    reference = models.CharField(_("reference"), max_length=60, blank=True, db_index=True)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount} {self.currency}"
