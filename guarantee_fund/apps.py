from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuaranteeFundConfig(AppConfig):
    """TENANT app: the mutual guarantee fund, its advances, payouts and losses."""

    name = "guarantee_fund"
    verbose_name = _("Guarantee fund")
