"""Database expressions shared by the apps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models


class TransactionNow(models.Func):
    """The start of the current database transaction (PostgreSQL ``transaction_timestamp()``).

    Django's ``Now()`` is the start of the statement; rows that must be recognised as written
    by the current transaction (by the triggers that keep documents and books final) use this.
    """

    template = "TRANSACTION_TIMESTAMP()"
    output_field = models.DateTimeField()


def ids_reserve(table: str, count: int) -> list[int]:
    """``count`` ids from the table's own sequence (this schema), for rows written by COPY."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write ``rows`` into ``table`` (this schema) with one COPY: the path of month-end jobs
    writing hundreds of thousands of rows. Constraints and triggers hold as for INSERT."""
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
