from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from smart_coop.errors import DomainError
from smart_coop.tenancy.services import entity_create


class Command(BaseCommand):
    help = (
        "Create a country entity (schema, domain <code>.<base host>, rates) from the project's "
        "country data. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="be, fr, it, de, es, se, nl, at or hu")
        parser.add_argument("--base-host", default=settings.BASE_HOST)
        parser.add_argument(
            "--vat-number", help="the entity's real VAT number, if not the demo one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = entity_create(
                code=options["code"],
                base_host=options["base_host"],
                vat_number=options["vat_number"],
                verbosity=max(0, options["verbosity"] - 1),
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        entity = result.entity
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created entity {entity.code}: schema {entity.schema_name}, "
                    f"domain {result.domain}, VAT {entity.vat_number}."
                )
            )
        else:
            self.stdout.write(
                f"Entity {entity.code} already exists (schema {entity.schema_name}, "
                f"domain {result.domain}); nothing changed."
            )
