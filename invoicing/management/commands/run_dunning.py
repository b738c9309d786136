from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from invoicing.dunning import dunning_run
from members.services import entity_today
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity


class Command(BaseCommand):
    help = (
        "Send the due reminders and formal notices of one entity and put the invoices due for "
        "it in collection, as the daily task does. Running it twice the same day does nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            help="the day to run for, YYYY-MM-DD (default: today in the entity's time zone)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        entity = Entity.objects.filter(code=options["entity"].lower()).first()
        if entity is None or entity.is_public:
            raise CommandError(f"No entity {options['entity']!r}.")
        with schema_context(entity.schema_name):
            as_of = options["as_of"] or entity_today(current_entity())
            try:
                result = dunning_run(as_of=as_of)
            except DomainError as error:
                raise CommandError(error.message) from error
        self.stdout.write(
            f"{entity.code} {as_of}: reminders: {result.reminders}, "
            f"formal notices: {result.formal_notices}, collections: {result.collections}, "
            f"failed: {result.failed or 'none'}"
        )
