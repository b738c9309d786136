"""Fixtures shared by the whole suite.

The test database is real PostgreSQL: two entities, ``be`` and ``fr``, are created once per
session with their own schemas (through the same service as ``create_entity``), so every test
can prove that what happens in one stays out of the other. A real Celery worker process, over
the real Redis, is started for the tests marked ``worker``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from smart_coop.tenancy.models import Entity

ROOT = Path(__file__).resolve().parent.parent
TEST_ENTITIES = ("be", "fr")


def entity_host(code: str) -> str:
    return f"{code}.{settings.BASE_HOST}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    from smart_coop.tenancy.services import entity_create

    with django_db_blocker.unblock():
        for code in TEST_ENTITIES:
            entity_create(code=code, base_host=settings.BASE_HOST)


@pytest.fixture(scope="session", autouse=True)
def _test_media_removed() -> Iterator[None]:
    """The run's own media folder (see settings_test) goes away with the run."""
    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _back_to_public_schema() -> Iterator[None]:
    """Each test starts and ends on the public schema, whatever it switched to."""
    yield
    connection.set_schema_to_public()


@pytest.fixture
def be(db: None) -> Entity:
    return Entity.objects.get(schema_name="be")


@pytest.fixture
def fr(db: None) -> Entity:
    return Entity.objects.get(schema_name="fr")


@pytest.fixture
def in_be(be: Entity) -> Iterator[Entity]:
    with schema_context("be"):
        yield be


@pytest.fixture
def in_fr(fr: Entity) -> Iterator[Entity]:
    with schema_context("fr"):
        yield fr


@pytest.fixture
def be_client(be: Entity) -> Client:
    return Client(headers={"host": entity_host("be")})


@pytest.fixture
def fr_client(fr: Entity) -> Client:
    return Client(headers={"host": entity_host("fr")})


@pytest.fixture
def public_client(db: None) -> Client:
    return Client(headers={"host": settings.BASE_HOST})


# --- the real Celery worker ------------------------------------------------------------------


def _test_database_url() -> str:
    """DATABASE_URL pointing at the test database pytest-django created."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None,
    django_db_blocker,
    mail_dir: Path,  # type: ignore[no-untyped-def]
) -> Iterator[subprocess.Popen[bytes]]:
    """A `celery worker` process on the test database and the real Redis, for the session."""
    from smart_coop.celery import app

    with django_db_blocker.unblock():
        database_url = _test_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "smart_coop.settings_test",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    (ROOT / ".data").mkdir(exist_ok=True)
    log = open(ROOT / ".data" / "test-worker.log", "wb")  # noqa: SIM115 - open for the session
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "smart_coop", "worker", "--pool", "solo",
         "-n", f"test-{os.getpid()}@%h", "-l", "info"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited; see {log.name}")
            if app.control.ping(timeout=0.5):
                break
        else:
            pytest.fail("the Celery worker did not answer within 60 s")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def committed_db(django_db_setup: None, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Database access without the per-test transaction, for work another process must see.

    Tests using it clean up what they create (in a ``finally``).
    """
    with django_db_blocker.unblock():
        # Never the developer's database: only the one pytest-django created for this run.
        assert connection.settings_dict["NAME"].startswith("test_"), "not on the test database"
        yield
