from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    """TENANT app: from the invoiced amount to salary runs, payslips and exports."""

    name = "payroll"
    verbose_name = _("Payroll")
