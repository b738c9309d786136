"""The one place invoice and credit note numbers are given.

One statement increments the (kind, year) counter and returns the new value: it creates the
counter row on first use and otherwise locks it until the issuing transaction ends. Concurrent
issuers wait for each other, and a transaction that rolls back gives its number back with it:
numbers are gapless and strictly increasing per entity (schema), kind and year.
"""

from __future__ import annotations

from django.db import connection

from invoicing.models import Invoice

_NEXT = """
INSERT INTO invoicing_numberseries (kind, year, last_number) VALUES (%s, %s, 1)
ON CONFLICT (kind, year)
DO UPDATE SET last_number = invoicing_numberseries.last_number + 1
RETURNING last_number
"""

PREFIX: dict[str, str] = {Invoice.Kind.INVOICE: "", Invoice.Kind.CREDIT_NOTE: "CN-"}


def number_next(*, kind: str, year: int, entity_code: str) -> tuple[int, str]:
    """The next sequence value and the document number, e.g. (123, "BE-2026-000123").

    Must run inside the transaction that issues the document.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("numbers are given inside the issuing transaction only")
    with connection.cursor() as cursor:
        cursor.execute(_NEXT, [kind, year])
        (sequence,) = cursor.fetchone()
    return sequence, f"{entity_code.upper()}-{PREFIX[kind]}{year}-{sequence:06d}"


_BLOCK = """
INSERT INTO invoicing_numberseries (kind, year, last_number) VALUES (%s, %s, %s)
ON CONFLICT (kind, year)
DO UPDATE SET last_number = invoicing_numberseries.last_number + EXCLUDED.last_number
RETURNING last_number
"""


def number_block(*, kind: str, year: int, entity_code: str, count: int) -> tuple[int, list[str]]:
    """``count`` consecutive numbers in one statement: the first sequence value and the numbers.

    Same guarantees as ``number_next``: the block is gapless with the numbers before and after.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("numbers are given inside the issuing transaction only")
    with connection.cursor() as cursor:
        cursor.execute(_BLOCK, [kind, year, count])
        (last,) = cursor.fetchone()
    first = last - count + 1
    return first, [
        f"{entity_code.upper()}-{PREFIX[kind]}{year}-{sequence:06d}"
        for sequence in range(first, last + 1)
    ]
