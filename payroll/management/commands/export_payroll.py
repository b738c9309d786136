"""Write the payroll of an entity's salary run: CSV, XLSX, or the SEPA transfers of net pay.

    manage.py export_payroll --entity be --period 2026-06 --format csv > payroll.csv
    manage.py export_payroll --entity be --period 2026-06 --format xlsx --output payroll.xlsx
    manage.py export_payroll --entity be --period 2026-06 --format sepa \\
        --execution-date 2026-07-01 --output salaries.xml
    manage.py export_payroll --entity be --period 2026-06 --format csv --output p.csv \\
        --mark-exported

The CSV and XLSX columns are documented in ``payroll.exports``; the SEPA file is
pain.001.001.09 (``payroll.sepa``), for an approved run of a EUR entity only. With
``--mark-exported`` a paid run is marked exported once the file is written (the system acts:
no user); a run that is not paid is refused and nothing is written.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from members.services import entity_today
from payroll.exports import payroll_csv, payroll_xlsx
from payroll.models import SalaryRun
from payroll.sepa import CURRENCY as SEPA_CURRENCY
from payroll.services import salary_run_mark_exported, salary_run_sepa
from smart_coop.errors import DomainError
from smart_coop.ledger.management.commands.export_journal import (
    entity_for,
    month_of,
    output_write,
)


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--execution-date must be YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Write the payroll CSV or XLSX, or the SEPA file, of one entity's salary run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--period", required=True, help="the run's month, YYYY-MM")
        parser.add_argument("--format", required=True, choices=("csv", "xlsx", "sepa"))
        parser.add_argument(
            "--execution-date", help="SEPA: the day the bank pays, YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--output", help="the file to write (standard output by default)")
        parser.add_argument(
            "--mark-exported",
            action="store_true",
            help="mark the run exported once the file is written (a paid run only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        entity = entity_for(options["entity"])
        period = month_of(options["period"])
        file_format = options["format"]
        with schema_context(entity.schema_name):
            run = SalaryRun.objects.filter(period=period).first()
            if run is None:
                raise CommandError(f"No salary run for {period:%Y-%m} in entity {entity.code}.")
            if options["mark_exported"] and run.state not in (
                SalaryRun.State.PAID,
                SalaryRun.State.EXPORTED,
            ):
                raise CommandError(
                    f"The run {period:%Y-%m} is {run.state}: only a paid run is marked exported."
                )
            if file_format == "csv":
                content = payroll_csv(run)
            elif file_format == "xlsx":
                content = payroll_xlsx(run)
            else:
                if entity.currency != SEPA_CURRENCY:
                    raise CommandError(
                        f"SEPA credit transfers are in EUR only; entity {entity.code} pays in "
                        f"{entity.currency}: pay its salaries with its bank's own format."
                    )
                execution_date = (
                    _day(options["execution_date"])
                    if options["execution_date"]
                    else entity_today(entity)
                )
                try:
                    content = salary_run_sepa(run=run, execution_date=execution_date)
                except (DomainError, ValueError) as error:
                    raise CommandError(str(error)) from error
            output_write(self, content, options["output"])
            if options["mark_exported"]:
                try:
                    run = salary_run_mark_exported(run=run, actor=None)
                except DomainError as error:
                    raise CommandError(error.message) from error
        if options["output"]:
            self.stdout.write(
                f"{entity.code} {period:%Y-%m}: run {run.pk} {run.state}, "
                f"{file_format} written to {options['output']}."
            )
