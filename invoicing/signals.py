"""What invoicing tells the rest of the platform.

``payment_applied`` is sent after the commit of every payment applied to an invoice (the
guarantee fund repays its advance from it); ``invoice_written_off`` after a write-off.
Receivers get ``invoice_id``, ``amount`` and ``schema``.
"""

from django.dispatch import Signal

payment_applied = Signal()
invoice_written_off = Signal()
