"""The EPC QR code ("GiroCode") printed on euro invoices: scanned by a banking app, it fills in
a SEPA credit transfer (payee, IBAN, amount, reference). EPC069-12 version 002.

Only for invoices in euro (SEPA only moves euro) that are still to be paid by transfer: never
on a credit note.
"""

from __future__ import annotations

import segno
from segno import helpers

from invoicing.models import Invoice
from invoicing.references import reference_compact

EPC_CURRENCY = "EUR"
# EPC069-12: payee name at most 70 characters.
NAME_MAX = 70


def epc_qr(invoice: Invoice) -> segno.QRCode | None:
    """The QR code for paying ``invoice``, or None where a transfer QR does not apply."""
    seller = invoice.seller
    if (
        invoice.is_credit_note
        or invoice.currency != EPC_CURRENCY
        or not seller.get("iban")
        or invoice.gross_total <= 0
    ):
        return None
    reference = invoice.payment_reference
    # The structured field takes an ISO 11649 "RF" reference only; the Belgian structured
    # communication (+++...+++) goes in the free text, where Belgian banking apps read it.
    structured = reference_compact(reference).startswith("RF")
    return helpers.make_epc_qr(
        name=str(seller.get("name", ""))[:NAME_MAX],
        iban=reference_compact(seller["iban"]),
        amount=invoice.gross_total,
        reference=reference_compact(reference) if structured else None,
        text=None if structured else (reference or invoice.number),
        bic=seller.get("bic") or None,
    )


def epc_qr_data_uri(invoice: Invoice) -> str | None:
    """The QR code as a PNG ``data:`` URI for the PDF (no file, no network), or None."""
    qr = epc_qr(invoice)
    if qr is None:
        return None
    return str(qr.png_data_uri(scale=4, border=0))
