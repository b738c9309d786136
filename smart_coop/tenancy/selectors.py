"""Reads on entities."""

from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from smart_coop.tenancy.models import Entity


def entities_listed() -> QuerySet[Entity]:
    """Every country entity (not the public schema), with its primary domain fetched."""
    return (
        Entity.objects.exclude(schema_name=get_public_schema_name())
        .prefetch_related("domains")
        .order_by("code")
    )
