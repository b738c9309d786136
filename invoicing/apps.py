from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    """TENANT app: invoices, credit notes, numbering, documents, payments and dunning."""

    name = "invoicing"
    verbose_name = _("Invoicing")
