"""Run the guarantee fund's payout job of one entity by hand."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from smart_coop.tenancy.models import Entity


class Command(BaseCommand):
    help = "Pay the guarantee fund's due payouts of an entity (oldest first; nothing early)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code, e.g. be")
        parser.add_argument(
            "--as-of", help="the entity's local date to pay up to (YYYY-MM-DD; default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from guarantee_fund.services import payouts_run

        entity = Entity.objects.filter(code=options["entity"]).first()
        if entity is None or entity.is_public:
            raise CommandError(f"no entity {options['entity']!r}")
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError as error:
                raise CommandError(f"--as-of: {error}") from error
        with schema_context(entity.schema_name):
            result = payouts_run(as_of=as_of)
        self.stdout.write(
            f"{entity.code}: paid {len(result.paid)}, awaiting approval "
            f"{len(result.awaiting_approval)}, cancelled {len(result.cancelled)}, failed "
            f"{len(result.failed)}, advances reconciled {len(result.reconciled)}"
        )
