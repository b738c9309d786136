from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from django_tenants.utils import schema_context

from smart_coop.tenancy.current import current_schema
from smart_coop.tenancy.selectors import entities_listed


@shared_task(name="tenancy.entities_dispatch")
def entities_dispatch_task(*, task_name: str, kwargs: dict[str, Any] | None = None) -> list[str]:
    """Enqueue ``task_name`` once per entity, each copy carrying its entity's schema.

    Beat runs in the public schema; this is how periodic work reaches every entity.
    Returns the codes of the entities it enqueued for.
    """
    task = current_app.tasks[task_name]
    codes = []
    for entity in entities_listed():
        with schema_context(entity.schema_name):
            task.apply_async(kwargs=kwargs or {})
        codes.append(entity.code)
    return codes


@shared_task(name="tenancy.schema_whoami")
def schema_whoami_task() -> str:
    """The schema the worker ran this task in: how operators check the routing of tasks."""
    return current_schema()
