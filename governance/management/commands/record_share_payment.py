from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from governance.models import ShareOrder
from governance.services import share_order_pay
from invoicing.references import reference_compact
from members.services import entity_today
from smart_coop.errors import DomainError
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity


class Command(BaseCommand):
    help = (
        "Record the transfer for a share purchase, found by its structured reference: the "
        "shares are entered in the register and booked. Running it twice records it once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, help="the entity's code: be, fr...")
        parser.add_argument("--reference", required=True, help="+++123/4567/89012+++ or RF...")
        parser.add_argument(
            "--paid-on",
            type=datetime.date.fromisoformat,
            help="the day the transfer was received, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        entity = Entity.objects.filter(code=options["entity"].lower()).first()
        if entity is None or entity.is_public:
            raise CommandError(f"No entity {options['entity']!r}.")
        wanted = reference_compact(options["reference"])
        with schema_context(entity.schema_name):
            order = next(
                (
                    o
                    for o in ShareOrder.objects.filter(state__in=["pending", "paid"])
                    if reference_compact(o.payment_reference) == wanted
                ),
                None,
            )
            if order is None:
                raise CommandError(f"No share purchase with the reference {options['reference']}.")
            paid_on = options["paid_on"] or entity_today(current_entity())
            try:
                order = share_order_pay(order=order, paid_on=paid_on, actor=None)
            except DomainError as error:
                raise CommandError(error.message) from error
        self.stdout.write(
            f"{entity.code} {order.payment_reference}: {order.quantity} x {order.share_class.code}"
            f" paid on {order.paid_on}"
        )
