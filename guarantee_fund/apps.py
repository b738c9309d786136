from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuaranteeFundConfig(AppConfig):
    """TENANT app: the mutual guarantee fund, its advances, payouts and losses."""

    name = "guarantee_fund"
    verbose_name = _("Guarantee fund")

    def ready(self) -> None:
        from invoicing import signals

        from . import receivers

        signals.invoice_issued.connect(receivers.on_invoice_issued, dispatch_uid="fund_issued")
        signals.credit_note_issued.connect(
            receivers.on_credit_note_issued, dispatch_uid="fund_credit_note"
        )
        signals.payment_applied.connect(receivers.on_invoice_settled, dispatch_uid="fund_paid")
        signals.invoice_written_off.connect(
            receivers.on_invoice_settled, dispatch_uid="fund_written_off"
        )
