"""The share certificate and the minutes, read back from the PDFs."""

from __future__ import annotations

import io

from django.utils import translation
from pypdf import PdfReader

from governance import services
from governance.documents import certificate_html, certificate_pdf, minutes_pdf
from governance.models import ShareMovement
from smart_coop.tenancy.models import Entity
from tests.governance.helpers import assembly, choices, shareholder


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_certificate_names_the_holder_the_class_and_the_shares(in_be: Entity) -> None:
    holder = shareholder(shares=4, language="en")
    movement = ShareMovement.objects.get(shareholder=holder)

    text = pdf_text(certificate_pdf(movement))

    assert in_be.legal_name in text
    assert holder.name in text
    assert "4 shares of class A" in text
    assert "120.00 EUR" in text
    assert f"Register line: {movement.pk}" in text


def test_the_certificate_is_in_the_holders_language(in_be: Entity) -> None:
    holder = shareholder(shares=1, language="nl")
    movement = ShareMovement.objects.get(shareholder=holder)

    with translation.override("fr"):
        html = certificate_html(movement)

    assert '<html lang="nl">' in html


def test_the_minutes_give_turnout_outcomes_and_the_digest(in_be: Entity) -> None:
    voters = [shareholder() for _ in range(4)]
    meeting = assembly(resolutions=[("Annual accounts", "simple"), ("Statutes", "three_quarters")])
    for i, voter in enumerate(voters[:3]):
        services.ballot_cast(
            assembly=meeting, voter=voter,
            choices=choices(meeting, "for", "for" if i < 2 else "against"), actor=None,
        )  # fmt: skip
    closed = services.assembly_close(assembly=meeting, actor=None)

    text = pdf_text(minutes_pdf(closed, language="en"))

    assert "3 of 4 voters on the roll voted (75.0 %)" in text
    assert "Annual accounts" in text
    assert "adopted" in text
    assert "rejected" in text  # 2 of 3 is below three quarters
    assert closed.receipts_digest[:32] in text.replace("\n", "")


def test_a_french_speaking_holder_gets_a_french_certificate(in_be: Entity) -> None:
    holder = shareholder(shares=2, language="fr")
    movement = ShareMovement.objects.get(shareholder=holder)

    text = pdf_text(certificate_pdf(movement))

    assert "Certificat de parts" in text
    assert "60,00 EUR" in text
