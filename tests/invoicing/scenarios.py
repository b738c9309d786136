"""Issued documents for the document tests, one per kind of case the entities meet.

Belgian and French documents are issued through the services (contract, approval, issue,
credit). The Swedish and Hungarian entities have no schema in the test database: their
documents are snapshots written as the services write them (seller frozen from the country
data, figures rounded in the currency), which is all the rendering reads.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from invoicing import services
from invoicing.models import Invoice, InvoiceLine, InvoiceTax, VatCategory
from invoicing.references import rf_from_number
from members import services as member_services
from members.models import Client
from smart_coop.accounts.roles import Role
from smart_coop.money import percent_of, quantize
from smart_coop.tenancy.country_data import ENTITIES
from tests.factories import ClientFactory, ContractFactory, MemberFactory, UserFactory

BE_COMPANY = {
    "name": "Brasserie Cantillon SA",
    "kind": Client.Kind.COMPANY,
    "country": "BE",
    "vat_number": "BE0403019261",
    "street": "Rue Gheude 56",
    "postal_code": "1070",
    "city": "Anderlecht",
}
FR_COMPANY = {
    "name": "Théâtre du Soleil SARL",
    "kind": Client.Kind.COMPANY,
    "country": "FR",
    "vat_number": "FR96552100554",
    "street": "Route du Champ de Manoeuvre",
    "postal_code": "75012",
    "city": "Paris",
}
FR_COMPANY_IN_FR = {**FR_COMPANY, "vat_number": "FR83404833048", "name": "Compagnie Lumière"}
US_COMPANY = {
    "name": "Blue Note Records Inc.",
    "kind": Client.Kind.COMPANY,
    "country": "US",
    "company_number": "12-3456789",  # the EIN: Peppol scheme 9959
    "street": "1 Broadway",
    "postal_code": "10004",
    "city": "New York",
    "language": "en",
}
CH_COMPANY = {
    "name": "Montreux Jazz Festival SA",
    "kind": Client.Kind.COMPANY,
    "country": "CH",
    "company_number": "CHE-123.456.788",  # the UID: Peppol scheme 0183
    "street": "Grand-Rue 95",
    "postal_code": "1820",
    "city": "Montreux",
    "language": "fr",
}


def invoice_issue(
    *, price: str = "1000.00", expenses: tuple[Any, ...] = (), **client: Any
) -> Invoice:
    """An approved contract for a client with ``client`` details, invoiced."""
    contract = ContractFactory(
        client=ClientFactory(**client), price=Decimal(price), expenses=list(expenses)
    )
    advisor = UserFactory(role=Role.ADVISOR)
    member_services.contract_submit(contract=contract, actor=contract.member.user)
    contract = member_services.contract_approve(contract=contract, actor=advisor)
    return services.invoice_issue(contract=contract, actor=advisor)


def be_domestic(**client: Any) -> Invoice:
    return invoice_issue(**{**BE_COMPANY, **client})


def be_with_expenses() -> Invoice:
    return invoice_issue(
        price="1500.00",
        expenses=(
            member_services.ExpenseInput(
                kind="travel", amount=Decimal("120.50"), description="Train Bruxelles-Liège"
            ),
            member_services.ExpenseInput(kind="material", amount=Decimal("79.50")),
        ),
        **{**BE_COMPANY, "vat_number": "BE0765432146", "name": "Ancienne Belgique asbl"},
    )


def credit_note(invoice: Invoice, *, net_amount: str | None = None) -> Invoice:
    return services.credit_note_issue(
        invoice=invoice,
        actor=UserFactory(role=Role.ADVISOR),
        reason="Concert shortened",
        net_amount=Decimal(net_amount) if net_amount is not None else None,
    )


# --- entities without a test schema: the snapshot as the services would freeze it ----------

FOREIGN_BUYERS = {
    "se": {
        "name": "Konserthuset Stockholm AB",
        "kind": "company",
        "vat_number": "SE556036079301",
        "company_number": "5560360793",
        "peppol_id": "",
        "street": "Hötorget 8",
        "postal_code": "111 57",
        "city": "Stockholm",
        "country": "SE",
        "email": "faktura@konserthuset.example",
        "language": "en",
    },
    "hu": {
        "name": "Müpa Budapest Nonprofit Kft.",
        "kind": "company",
        "vat_number": "HU12892312",
        "company_number": "01-09-123456",
        "peppol_id": "",
        "street": "Komor Marcell utca 1",
        "postal_code": "1095",
        "city": "Budapest",
        "country": "HU",
        "email": "szamla@mupa.example",
        "language": "en",
    },
}


def foreign_invoice(code: str, *, prices: tuple[str, ...], rate: str) -> Invoice:
    """An issued invoice of entity ``code`` (se, hu) in its currency, written in the current
    schema with a member and a client of it (rendering reads none of them)."""
    data = ENTITIES[code]
    currency = data.currency
    today = datetime.date.today()  # noqa: DTZ011 - a date on a test document
    number = f"{code.upper()}-{today.year}-{Invoice.objects.count() + 1:05d}"
    nets = [quantize(Decimal(price), currency) for price in prices]
    net_total = sum(nets, Decimal(0))
    vat_total = percent_of(net_total, Decimal(rate), currency)
    # A draft first, its lines and VAT breakdown, then issued: parts are never added to an
    # issued document.
    invoice = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE,
        client=ClientFactory(),
        member=MemberFactory(),
        currency=currency,
        language="en",
        vat_treatment="domestic",
        seller={
            "name": data.legal_name,
            "vat_number": data.vat_number,
            "company_number": data.company_number,
            "peppol_id": data.peppol_id,
            "street": data.street,
            "postal_code": data.postal_code,
            "city": data.city,
            "country": data.country,
            "iban": data.iban,
            "bic": data.bic,
            "code": data.code,
        },
        buyer=FOREIGN_BUYERS[code],
        performer="Astrid Lindqvist" if code == "se" else "Bartók Anna",
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            kind=InvoiceLine.Kind.WORK,
            description=f"Concert {position}",
            unit_price=net,
            net_amount=net,
            vat_category=VatCategory.STANDARD,
            vat_rate=Decimal(rate),
        )
        for position, net in enumerate(nets, start=1)
    )
    InvoiceTax.objects.create(
        invoice=invoice,
        category=VatCategory.STANDARD,
        rate=Decimal(rate),
        taxable_amount=net_total,
        tax_amount=vat_total,
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        number=number,
        state=Invoice.State.ISSUED,
        issue_date=today,
        due_date=today + datetime.timedelta(days=30),
        payment_reference=rf_from_number(number),
        net_total=net_total,
        vat_total=vat_total,
        gross_total=net_total + vat_total,
    )
    invoice.refresh_from_db()
    return invoice


def media_isolate(settings: Any, folder: Any) -> None:
    """Store this test's files under ``folder``/<schema>: test runs share MEDIA_ROOT and their
    document numbers. (django-tenants' storage caches its root and forgets it only when
    MULTITENANT_RELATIVE_MEDIA_ROOT changes; an absolute value replaces MEDIA_ROOT.)"""
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = f"{folder}/%s"
