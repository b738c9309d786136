"""The entity the current database connection works in (typed access to django-tenants' state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.db import connection

if TYPE_CHECKING:
    from smart_coop.tenancy.models import Entity


def current_schema() -> str:
    return cast(str, connection.schema_name)  # type: ignore[attr-defined]


def current_entity() -> Entity:
    """The entity of the current schema: set by the request's host, a task's headers, or
    an explicit ``schema_context`` (which only knows the schema name: the row is read then)."""
    from smart_coop.tenancy.models import Entity

    tenant = connection.tenant  # type: ignore[attr-defined]
    if isinstance(tenant, Entity):
        return tenant
    return Entity.objects.get(schema_name=current_schema())
