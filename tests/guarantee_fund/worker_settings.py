"""Settings of the Celery worker the worker-kill test starts: the test settings, with unacked
messages given back to the queue 5 s after their worker died (instead of an hour)."""

from smart_coop.settings_test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 5}
