"""What invoicing tells the rest of the platform.

``payment_applied`` is sent after the commit of every payment applied to an invoice (the
guarantee fund repays its advance from it); ``invoice_written_off`` after a write-off.
Receivers get ``invoice_id``, ``amount`` and ``schema``.

``invoice_issued`` (``invoices``: the documents just issued, ``actor``) and
``credit_note_issued`` (``credit_note``, ``invoice``: the credited invoice, ``actor``) are sent
INSIDE the issuing transaction: what a receiver writes (the guarantee fund's contribution and
payout) commits or rolls back with the document; a receiver that fails aborts the issue.
"""

from django.dispatch import Signal

payment_applied = Signal()
invoice_written_off = Signal()
invoice_issued = Signal()
credit_note_issued = Signal()
