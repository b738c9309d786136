from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """TENANT app: member files, clients, contracts and their review."""

    name = "members"
    verbose_name = _("Members and contracts")
