"""Writes on entities. `entity_create` is the one way an entity comes to exist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from payroll.parameters import parameters_load
from smart_coop.errors import DomainError
from smart_coop.tenancy.country_data import ENTITIES, EntityData
from smart_coop.tenancy.models import Amount, Domain, Entity, Rate
from smart_coop.tenancy.validators import iban_clean, vat_number_clean

# Rates loaded from the project's country data take effect from this day.
RATES_VALID_FROM = datetime.date(2025, 1, 1)


@dataclass(frozen=True)
class EntityCreateResult:
    entity: Entity
    created: bool
    domain: str


def public_tenant_ensure(*, base_host: str) -> Entity:
    """The public schema's row and domain, which route the public site at ``base_host``."""
    public, _created = Entity.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"code": "public", "legal_name": "smart_coop", "languages": ["en", "fr", "nl"]},
    )
    Domain.objects.get_or_create(domain=base_host, defaults={"tenant": public, "is_primary": True})
    return public


def entity_data_get(code: str) -> EntityData:
    try:
        return ENTITIES[code.lower()]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise DomainError(
            _("Unknown entity code %(code)s. Known codes: %(known)s.")
            % {"code": repr(code), "known": known},
            field="code",
            code="unknown",
        ) from None


def entity_create(
    *, code: str, base_host: str, vat_number: str | None = None, verbosity: int = 0
) -> EntityCreateResult:
    """Create the entity ``code`` from the project's country data, or leave it as it is.

    Effects, in order: validates the VAT number and IBAN; ensures the public tenant; creates the
    entity's row and its schema (all tenant migrations); creates the domain
    ``<code>.<base_host>``; loads its dated rates; loads its dated payroll parameters in its
    schema (``payroll.parameters.parameters_load``). Running it again changes nothing.
    """
    data = entity_data_get(code)
    vat = vat_number_clean(vat_number or data.vat_number, country=data.country)
    iban = iban_clean(data.iban, country=data.country)
    domain_name = f"{data.code}.{base_host}"

    public_tenant_ensure(base_host=base_host)
    entity = Entity.objects.filter(schema_name=data.code).first()
    created = entity is None
    if entity is None:
        entity = Entity(
            schema_name=data.code,
            code=data.code,
            legal_name=data.legal_name,
            country=data.country,
            currency=data.currency,
            vat_number=vat,
            company_number=data.company_number,
            peppol_id=data.peppol_id,
            street=data.street,
            postal_code=data.postal_code,
            city=data.city,
            iban=iban,
            bic=data.bic,
            languages=list(data.languages),
            time_zone=data.time_zone,
            payout_delay_days=data.payout_delay_days,
            payout_delay_unit=data.payout_delay_unit,
            payout_delay_source=data.payout_delay_source,
            hiring_declaration=data.hiring_declaration,
        )
        # Creates the schema and runs every tenant migration in it; on failure django-tenants
        # drops the half-made schema and the row.
        entity.save(verbosity=verbosity)
    elif vat_number and entity.vat_number != vat:
        raise DomainError(
            _(
                "Entity %(code)s already exists with VAT number %(vat_number)s; "
                "change it in the admin, not by creating the entity again."
            )
            % {"code": data.code, "vat_number": entity.vat_number},
            field="vat_number",
            code="exists",
        )

    with transaction.atomic():
        if not Domain.objects.filter(tenant=entity).exists():
            Domain.objects.create(domain=domain_name, tenant=entity, is_primary=True)
        for rate in data.rates:
            Rate.objects.get_or_create(
                entity=entity,
                kind=rate.kind,
                percent=rate.percent,
                valid_from=rate.valid_from or RATES_VALID_FROM,
                defaults={"source": rate.source, "verified": rate.verified},
            )
        for amount in data.amounts:
            Amount.objects.get_or_create(
                entity=entity,
                kind=amount.kind,
                valid_from=RATES_VALID_FROM,
                defaults={
                    "amount": amount.amount,
                    "source": amount.source,
                    "verified": amount.verified,
                },
            )
    # The dated payroll parameters, in the entity's schema.
    parameters_load(entity)
    primary = entity.get_primary_domain()
    return EntityCreateResult(
        entity=entity, created=created, domain=primary.domain if primary else domain_name
    )
