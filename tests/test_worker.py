"""Tasks run on a real Celery worker process, over the real Redis, in the sender's schema."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from smart_coop.accounts.models import User
from smart_coop.tenancy.tasks import entities_dispatch_task, schema_whoami_task
from tests.conftest import entity_host
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("celery_worker_process", "committed_db")]


def wait_for(predicate: Callable[[], object], timeout: float = 20) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail("the worker did not do it in time")


@pytest.fixture
def worker_users() -> Iterator[None]:
    yield
    for schema in ("be", "fr"):
        with schema_context(schema):
            User.objects.filter(email__endswith="@worker.test").delete()


def test_a_task_runs_in_the_schema_it_was_sent_from() -> None:
    with schema_context("be"):
        from_be = schema_whoami_task.delay()
    with schema_context("fr"):
        from_fr = schema_whoami_task.delay()
    from_public = schema_whoami_task.delay()
    assert from_be.get(timeout=20) == "be"
    assert from_fr.get(timeout=20) == "fr"
    assert from_public.get(timeout=20) == "public"


def test_a_task_enqueued_during_a_be_request_runs_in_be(mail_dir: Path, worker_users: None) -> None:
    # Same email in both entities, and whatever ids: only be's user may receive the link.
    with schema_context("fr"):
        UserFactory(email="reset@worker.test", first_name="Fr")
    with schema_context("be"):
        be_user = UserFactory(email="reset@worker.test", first_name="Be")
    before = set(mail_dir.iterdir())

    response = Client(headers={"host": entity_host("be")}).post(
        "/accounts/password_reset/", {"email": "reset@worker.test"}
    )
    assert response.status_code == 302

    new_files = wait_for(lambda: set(mail_dir.iterdir()) - before)
    assert isinstance(new_files, set)
    assert len(new_files) == 1
    message = next(iter(new_files)).read_text()
    assert "To: reset@worker.test" in message
    assert f"http://{entity_host('be')}/accounts/reset/" in message
    assert "Smart Coop Belgium SC" in message
    # The link works for be's user: the token was made from be's row.
    link = next(line for line in message.splitlines() if "/accounts/reset/" in line).strip()
    token = link.rstrip("/").split("/")[-1]

    with schema_context("be"):
        assert default_token_generator.check_token(User.objects.get(pk=be_user.pk), token)


def test_beat_dispatch_reaches_every_entity() -> None:
    expired = timezone.now() - datetime.timedelta(days=1)
    for schema in ("be", "fr"):
        with schema_context(schema):
            Session.objects.create(
                session_key=f"expired-{schema}", session_data="", expire_date=expired
            )

    result = entities_dispatch_task.delay(task_name="accounts.sessions_clear")
    assert result.get(timeout=20) == ["be", "fr"]

    def cleared() -> bool:
        remaining = 0
        for schema in ("be", "fr"):
            with schema_context(schema):
                remaining += Session.objects.filter(session_key=f"expired-{schema}").count()
        return remaining == 0

    wait_for(cleared)
    assert connection.schema_name == "public"
