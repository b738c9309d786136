"""The daily dunning reaches every entity through beat's dispatcher, on a real worker."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from invoicing.dunning import dunning_run_task
from smart_coop.tenancy.tasks import entities_dispatch_task

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("celery_worker_process", "committed_db")]

# Nothing is ever overdue on this day: the runs change nothing in the shared test database.
LONG_AGO = "2000-01-01"


def test_the_worker_knows_the_dunning_task_by_its_name() -> None:
    dispatched = entities_dispatch_task.delay(
        task_name="invoicing.dunning_run", kwargs={"as_of": LONG_AGO}
    )
    assert dispatched.get(timeout=20) == ["be", "fr"]

    with schema_context("be"):
        result = dunning_run_task.delay(as_of=LONG_AGO)
    assert result.get(timeout=20) == {
        "reminders": 0,
        "formal_notices": 0,
        "collections": 0,
        "failed": [],
    }
    assert connection.schema_name == "public"
