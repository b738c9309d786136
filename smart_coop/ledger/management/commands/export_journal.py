"""Write an entity's accounting journal for a month: every ledger entry dated in it.

    manage.py export_journal --entity be --period 2026-06 > journal.csv
    manage.py export_journal --entity be --period 2026-06 --format xlsx --output journal.xlsx

The columns are documented in ``smart_coop.ledger.exports``. Without ``--output`` the file goes
to standard output.
"""

from __future__ import annotations

import calendar
import datetime
import sys
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context

from smart_coop.ledger.exports import journal_csv, journal_rows, journal_xlsx
from smart_coop.tenancy.models import Entity


def entity_for(code: str) -> Entity:
    """The entity of ``code`` (not the public schema), or a CommandError naming the known ones."""
    entities = Entity.objects.exclude(schema_name=get_public_schema_name())
    entity = entities.filter(code=code.lower()).first()
    if entity is None:
        known = ", ".join(entities.order_by("code").values_list("code", flat=True))
        raise CommandError(f"Unknown entity {code!r}. Known entities: {known or 'none'}.")
    return entity


def month_of(value: str) -> datetime.date:
    """The first day of the month ``YYYY-MM``."""
    try:
        year, month = value.split("-")
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--period must be YYYY-MM, not {value!r}.") from None


def month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def output_write(command: BaseCommand, content: bytes, output: str | None) -> None:
    """Write ``content`` to the file ``output``, or to the command's standard output."""
    if output:
        Path(output).write_bytes(content)
        return
    stream: BinaryIO = getattr(command.stdout._out, "buffer", sys.stdout.buffer)
    stream.write(content)
    stream.flush()


class Command(BaseCommand):
    help = "Write the accounting journal (every ledger entry) of one entity for a month."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--period", required=True, help="the month, YYYY-MM")
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--output", help="the file to write (standard output by default)")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = entity_for(options["entity"])
        first = month_of(options["period"])
        with schema_context(entity.schema_name):
            rows = journal_rows(date_from=first, date_to=month_end(first))
            if options["format"] == "xlsx":
                content = journal_xlsx(rows, title=f"{entity.code} {first:%Y-%m}")
            else:
                content = journal_csv(rows)
        output_write(self, content, options["output"])
        if options["output"]:
            self.stdout.write(f"{entity.code} {first:%Y-%m}: {len(rows)} entries.")
