from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    """SHARED app: the entities (tenants), their domains and their dated rates."""

    name = "smart_coop.tenancy"
    label = "tenancy"
    verbose_name = _("Entities")
