from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import schema_context

from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.accounts.services import user_create
from smart_coop.tenancy.country_data import DEMO_ENTITY_CODES
from smart_coop.tenancy.services import entity_create

DEMO_PASSWORD = "demo-coop-2026"  # noqa: S105 - printed on purpose: demo accounts only
ROLE_LOGINS = {
    Role.MEMBER: "member",
    Role.ADVISOR: "advisor",
    Role.ACCOUNTANT: "accountant",
    Role.ENTITY_ADMIN: "admin",
}


class Command(BaseCommand):
    help = "Create the demo entities and one demo user per role in each. Safe to run again."

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
                for role, login in ROLE_LOGINS.items():
                    email = f"{login}@{code}.demo.coop"
                    if not User.objects.filter(email=email).exists():
                        user_create(
                            email=email,
                            password=DEMO_PASSWORD,
                            role=role,
                            first_name=login.capitalize(),
                            last_name=code.upper(),
                            language=result.entity.default_language,
                        )
                    lines.append(
                        f"  {code}  {role.label:<12} {email:<28} http://{result.domain}:{port}/"
                    )
        self.stdout.write("\n".join(lines))
