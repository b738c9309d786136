"""Open and calculate an entity's salary run for a month, and approve it on request.

    manage.py run_payroll --entity be --period 2026-06
    manage.py run_payroll --entity be --period 2026-06 --approve

Running it again adds only the salaries that became due since (a calculated run); an approved
run is left as it is. Approval from the command line is the system's (no acting user).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from payroll.models import SalaryRun
from payroll.services import (
    salary_run_approve,
    salary_run_calculate,
    salary_run_open,
    salary_run_totals,
)
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Entity


def _period(value: str) -> datetime.date:
    try:
        year, month = value.split("-")
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--period must be YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = "Open and calculate the salary run of one entity for a month; --approve books it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--period", required=True, help="the month, YYYY-MM")
        parser.add_argument("--approve", action="store_true", help="approve and book the run")

    def handle(self, *args: Any, **options: Any) -> None:
        period = _period(options["period"])
        entity = Entity.objects.filter(code=options["entity"].lower()).first()
        if entity is None or entity.is_public:
            raise CommandError(f"No entity {options['entity']!r}.")
        with schema_context(entity.schema_name):
            try:
                run = salary_run_open(period=period, actor=None)
                if run.state in (SalaryRun.State.DRAFT, SalaryRun.State.CALCULATED):
                    run = salary_run_calculate(run=run, actor=None)
                if options["approve"]:
                    run = salary_run_approve(run=run, actor=None)
            except DomainError as error:
                raise CommandError(error.message) from error
            totals = salary_run_totals(run=run)
        self.stdout.write(
            f"{entity.code} {period:%Y-%m}: run {run.pk} {run.state}, "
            f"payslips: {totals.payslips}, budget: {totals.budget}, gross: {totals.gross}, "
            f"employer: {totals.employer}, employee: {totals.employee}, "
            f"withholding: {totals.withholding}, net: {totals.net}, "
            f"remainder: {totals.remainder} {entity.currency}"
        )
