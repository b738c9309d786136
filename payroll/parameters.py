"""Loading and reading the dated payroll parameters of an entity."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django_tenants.utils import schema_context

from members.models import Member, Sector
from payroll.country_parameters import ParametersData, parameters_data
from payroll.models import Category, PayrollParameters
from smart_coop.tenancy.models import Entity, RateNotFoundError

# Belgium counts an artist's contributions on 108 % of the gross and withholds the artists'
# flat rate (Annex III point 80): members of the artist sector are paid in that category.
# Manual workers share the 108 % base but not the flat rate, so they stay in the standard one.
SECTOR_CATEGORIES: dict[str, str] = {Sector.ARTIST: Category.ARTIST_MANUAL}


def payroll_category(member: Member) -> str:
    """The payroll category a member's salaries are computed in, from their sector."""
    return SECTOR_CATEGORIES.get(member.sector, Category.STANDARD)


def parameters_build(data: ParametersData) -> PayrollParameters:
    """An unsaved row holding ``data``."""
    return PayrollParameters(**data.__dict__)


def parameters_load(entity: Entity) -> list[PayrollParameters]:
    """Store the entity's parameters from the country data, in its schema.

    Effects: one row per category and ``valid_from`` that is not there yet; an existing row is
    never changed (a new value is a new version). Running it again changes nothing.
    """
    rows = []
    with schema_context(entity.schema_name):
        for data in parameters_data(entity.code):
            values = dict(data.__dict__)
            category, valid_from = values.pop("category"), values.pop("valid_from")
            row, _ = PayrollParameters.objects.get_or_create(
                category=category, valid_from=valid_from, defaults=values
            )
            rows.append(row)
    return rows


def parameters_in_force(*, entity: Entity, category: str, on: datetime.date) -> PayrollParameters:
    """The latest version of ``category`` valid on ``on`` in the entity's schema."""
    with schema_context(entity.schema_name):
        found = (
            PayrollParameters.objects.filter(category=category, valid_from__lte=on)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))
            .order_by("-valid_from")
            .first()
        )
    if found is None:
        raise RateNotFoundError(entity, f"payroll parameters ({category})", on)
    return found
