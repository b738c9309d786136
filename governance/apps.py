from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """TENANT app: share register, general assemblies, votes and board elections."""

    name = "governance"
    verbose_name = _("Governance")
