from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from governance.exports import register_csv, register_xlsx
from smart_coop.tenancy.models import Entity


class Command(BaseCommand):
    help = "Write the share register of one entity (every movement) as CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", required=True, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = Entity.objects.filter(code=options["entity"].lower()).first()
        if entity is None or entity.is_public:
            raise CommandError(f"No entity {options['entity']!r}.")
        with schema_context(entity.schema_name):
            content = register_csv() if options["format"] == "csv" else register_xlsx()
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"{entity.code}: share register written to {options['output']}")
