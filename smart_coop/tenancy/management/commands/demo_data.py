from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import schema_context

from smart_coop.demo import DEMO_PASSWORD, ROLE_LOGINS, demo_populate
from smart_coop.tenancy.country_data import DEMO_ENTITY_CODES
from smart_coop.tenancy.services import entity_create


class Command(BaseCommand):
    help = "Create the demo entities, one demo user per role and demo contracts. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-host", default=settings.BASE_HOST)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--entities", nargs="*", default=list(DEMO_ENTITY_CODES))

    def handle(self, *args: Any, **options: Any) -> None:
        base_host, port = options["base_host"], options["port"]
        lines = [f"Demo logins (password for all: {DEMO_PASSWORD})"]
        for code in options["entities"]:
            result = entity_create(code=code, base_host=base_host)
            self.stdout.write(f"entity {code}: {'created' if result.created else 'already there'}")
            with schema_context(result.entity.schema_name):
                demo_populate(result.entity)
            for role, login in ROLE_LOGINS.items():
                email = f"{login}@{code}.demo.coop"
                lines.append(
                    f"  {code}  {role.label:<12} {email:<28} http://{result.domain}:{port}/"
                )
        self.stdout.write("\n".join(lines))
