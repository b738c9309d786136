from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    """TENANT app: the double-entry books of an entity, where every movement of money is written."""

    name = "smart_coop.ledger"
    label = "ledger"
    verbose_name = _("Ledger")
