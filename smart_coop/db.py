"""Database expressions shared by the apps."""

from __future__ import annotations

from django.db import models


class TransactionNow(models.Func):
    """The start of the current database transaction (PostgreSQL ``transaction_timestamp()``).

    Django's ``Now()`` is the start of the statement; rows that must be recognised as written
    by the current transaction (by the triggers that keep documents and books final) use this.
    """

    template = "TRANSACTION_TIMESTAMP()"
    output_field = models.DateTimeField()
