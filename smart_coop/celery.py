"""The Celery app. Tasks carry the schema of the entity that sent them.

tenant-schemas-celery's app records ``connection.schema_name`` in each message's headers when a
task is sent and switches the worker's connection to that schema before the task runs. Beat
runs in the public schema; periodic work per entity goes through ``entities_dispatch_task``.
"""

from __future__ import annotations

import os

from celery.schedules import crontab
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_coop.settings")

app = CeleryApp("smart_coop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["smart_coop.tenancy", "smart_coop.accounts"])

app.conf.beat_schedule = {
    "invoices-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(hour="5", minute="30"),
        "kwargs": {"task_name": "invoicing.issue_due"},
    },
    "dunning-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(hour="6", minute="5"),
        "kwargs": {"task_name": "invoicing.dunning_run"},
    },
    "smoothing-check-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(hour="6", minute="35"),
        "kwargs": {"task_name": "payroll.smoothing_check"},
    },
    # Each entity's fund position at the end of its day (yesterday in its time zone).
    "fund-coverage-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(hour="1", minute="40"),
        "kwargs": {"task_name": "guarantee_fund.coverage_snapshot"},
    },
    # The guarantee fund's payouts: every hour, so that a payout is made on its due day in
    # every entity's time zone (the job pays what is due, oldest first, and nothing early).
    "fund-payouts-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(minute="7"),
        "kwargs": {"task_name": "guarantee_fund.payouts_run"},
    },
    "sessions-clear-every-entity": {
        "task": "tenancy.entities_dispatch",
        "schedule": crontab(hour="3", minute="17"),
        "kwargs": {"task_name": "accounts.sessions_clear"},
    },
}
