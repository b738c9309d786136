"""The books, read-only: accounts with their balance, transactions with their entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from smart_coop.ledger.models import Account, Entry, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    """The books are append-only: nothing is added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("account", "amount", "currency", "reference")
    readonly_fields = ("account", "amount", "currency", "reference")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "currency", "balance_text"]
    list_filter = ["kind", "currency"]
    search_fields = ["code", "name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(balance=Sum("entries__amount"))

    @admin.display(description=_("balance (debit +, credit -)"), ordering="balance")
    def balance_text(self, account: Account) -> Decimal:
        return getattr(account, "balance", None) or Decimal("0.00")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "kind", "description", "idempotency_key", "created_at"]
    list_filter = ["kind", "occurred_on"]
    search_fields = ["idempotency_key", "description", "entries__reference"]
    date_hierarchy = "occurred_on"
    inlines = [EntryInline]
