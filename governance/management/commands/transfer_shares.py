from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from governance.models import ShareClass, Shareholder
from governance.services import shares_transfer
from members.services import entity_today
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity


class Command(BaseCommand):
    help = (
        "Enter in the register a transfer of shares signed by both holders (CSA 6:52): "
        "the two dated lines, each naming the other holder."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--from", dest="transferor", type=int, required=True,
                            help="register id of the holder giving the shares")  # fmt: skip
        parser.add_argument("--to", dest="transferee", type=int, required=True,
                            help="register id of the holder receiving them")  # fmt: skip
        parser.add_argument("--class", dest="share_class", required=True, help="A, B, C...")
        parser.add_argument("--quantity", type=int, required=True)
        parser.add_argument(
            "--on", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--note", default="", help="e.g. where the signed deed is kept")

    def handle(self, *args: Any, **options: Any) -> None:
        entity = Entity.objects.filter(code=options["entity"].lower()).first()
        if entity is None or entity.is_public:
            raise CommandError(f"No entity {options['entity']!r}.")
        with schema_context(entity.schema_name):
            holders = Shareholder.objects.in_bulk([options["transferor"], options["transferee"]])
            share_class = ShareClass.objects.filter(code=options["share_class"].upper()).first()
            if len(holders) != 2 or share_class is None:
                raise CommandError("Unknown holder or class of shares.")
            try:
                given, _received = shares_transfer(
                    transferor=holders[options["transferor"]],
                    transferee=holders[options["transferee"]],
                    share_class=share_class,
                    quantity=options["quantity"],
                    on=options["on"] or entity_today(current_entity()),
                    actor=None,
                    note=options["note"],
                )
            except DomainError as error:
                raise CommandError(error.message) from error
        self.stdout.write(
            f"{entity.code}: {options['quantity']} x {share_class.code} transferred on "
            f"{given.occurred_on} (register lines {given.pk}, {given.pk + 1})"
        )
