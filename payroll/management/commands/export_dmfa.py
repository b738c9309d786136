"""Write an entity's quarterly social declaration data (Belgium: the DmfA fields we can fill).

    manage.py export_dmfa --entity be --quarter 2026-Q2 > dmfa.csv
    manage.py export_dmfa --entity be --quarter 2026-Q2 --format xlsx --output dmfa.xlsx

One row per member and payroll category; the columns, the codes and what other entities get
are documented in ``payroll.dmfa``. Runs of the quarter not approved yet are named on standard
error: their payslips may still grow.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from payroll.dmfa import (
    Quarter,
    declaration_title,
    dmfa_csv,
    dmfa_rows,
    dmfa_xlsx,
    quarter_runs_open,
)
from smart_coop.errors import DomainError
from smart_coop.ledger.management.commands.export_journal import entity_for, output_write


class Command(BaseCommand):
    help = "Write the quarterly social declaration data (Belgium: DmfA) of one entity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--quarter", required=True, help="the quarter, YYYY-Qn")
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--output", help="the file to write (standard output by default)")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = entity_for(options["entity"])
        try:
            quarter = Quarter.parse(options["quarter"])
        except DomainError as error:
            raise CommandError(error.message) from error
        with schema_context(entity.schema_name):
            rows = dmfa_rows(entity=entity, quarter=quarter)
            title = f"{declaration_title(entity)} {quarter}"
            if options["format"] == "xlsx":
                content = dmfa_xlsx(rows, title=title)
            else:
                content = dmfa_csv(rows)
            open_runs = quarter_runs_open(quarter)
        output_write(self, content, options["output"])
        for run in open_runs:
            self.stderr.write(f"The run {run.period:%Y-%m} is {run.state}, not approved yet.")
        if options["output"]:
            self.stdout.write(f"{entity.code} {title}: {len(rows)} rows.")
