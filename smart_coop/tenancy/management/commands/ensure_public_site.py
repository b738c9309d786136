from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from smart_coop.tenancy.services import public_tenant_ensure


class Command(BaseCommand):
    help = (
        "Make the public site answer at the base host (its entity row and domain). "
        "Run after migrations on every deploy; running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-host", default=settings.BASE_HOST)

    def handle(self, *args: Any, **options: Any) -> None:
        public_tenant_ensure(base_host=options["base_host"])
        self.stdout.write(f"The public site answers at {options['base_host']}.")
