"""Fixtures for the end-to-end tests: the operating system's Chromium and a real web server.

* ``chromium_executable``: runs ``scripts/ensure-chromium`` once per session, which installs the
  Debian package ``chromium`` when it is missing. When Chromium cannot be had the tests fail,
  they are never skipped. Browsers are never downloaded by Playwright (``playwright install``).
* ``e2e_server``: ``manage.py runserver`` in a subprocess on a free port, on the pytest test
  database (like the Celery worker of ``celery_worker_process``), for the session. Tests put
  their data in with ``committed_db`` so that the server sees it, and delete it afterwards.
* ``launch_browser``: ``with launch_browser() as browser:`` Chromium driven by Playwright;
  entity hosts (``<code>.testserver.local``) resolve to 127.0.0.1 inside the browser.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import Browser, sync_playwright
from pytest_django import DjangoDbBlocker

from tests.conftest import ROOT, _test_database_url

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / ".data" / "e2e"
SERVER_START_TIMEOUT = 60
APPLICATION_NAME = "smart_coop-e2e-server"


@dataclass(frozen=True)
class E2EServer:
    port: int
    log: Path

    def url(self, code: str, path: str = "/") -> str:
        """The address of ``path`` on entity ``code``'s site, as a browser types it."""
        return f"http://{code}.{settings.BASE_HOST}:{self.port}{path}"


@pytest.fixture(autouse=True)
def db(committed_db: None) -> None:
    """Committed database access for every end-to-end test (overrides pytest-django's ``db``).

    The server process must see what a test creates, so nothing here runs inside the
    rolled-back transaction of pytest-django's ``db``: tests clean up in a ``finally``. The
    fixture is named ``db`` because pytest-django creates the test database only when some
    collected test uses ``db`` (or a ``django_db`` marker); without it, running only these
    tests would use the development database.
    """


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The system's Chromium, installed by scripts/ensure-chromium when missing."""
    script = ROOT / "scripts" / "ensure-chromium"
    failure = None
    try:
        subprocess.run(
            [str(script)], check=True, capture_output=True, text=True, timeout=900, cwd=ROOT
        )
    except subprocess.CalledProcessError as error:
        failure = error
    if failure is not None:
        pytest.fail(
            f"Chromium is needed by the end-to-end tests and could not be installed "
            f"({script.relative_to(ROOT)} exited with {failure.returncode}):\n"
            f"{failure.stderr[-3000:]}",
            pytrace=False,
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing after scripts/ensure-chromium", pytrace=False)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """True once the server serves the login page of the entity ``be``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "GET", "/accounts/login/", headers={"Host": f"be.{settings.BASE_HOST}:{port}"}
        )
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _tail(path: Path, size: int = 4000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else ""


@pytest.fixture(scope="session")
def e2e_server(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
) -> Iterator[E2EServer]:
    """``manage.py runserver`` on the test database, on a free port, for the session.

    Its output goes to ``.data/e2e/server-<pid>.log``, kept when a test of the run failed.
    """
    with django_db_blocker.unblock():
        database_url = _with_application_name(_test_database_url())
    test_name = settings.DATABASES["default"]["TEST"]["NAME"]
    if connection.settings_dict["NAME"] != test_name:
        pytest.fail(f"not on the test database {test_name}: {connection.settings_dict['NAME']}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "smart_coop.settings_test",
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"server-{os.getpid()}.log"
    with open(log_path, "wb") as log:
        # A free port can be taken between choosing it and binding it: try another one then.
        for _attempt in range(3):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(port):
                    break
                time.sleep(0.1)
            if process.poll() is None and _answers(port):
                break
            process.terminate()
            process.wait(timeout=30)
        else:
            pytest.fail(f"the web server did not start; {log_path}:\n{_tail(log_path)}")
        try:
            yield E2EServer(port=port, log=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            with django_db_blocker.unblock():
                _wait_for_server_sessions_to_end()
            if not request.session.testsfailed:
                log_path.unlink(missing_ok=True)


def _with_application_name(url: str) -> str:
    """The URL with the server's connections named, to know when they are gone."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, f"application_name={APPLICATION_NAME}"]))
    return urlunsplit(parts._replace(query=query))


def _wait_for_server_sessions_to_end(timeout: float = 10) -> None:
    """PostgreSQL ends a killed client's sessions a moment later; dropping the test database
    at the end of the run fails while one is left."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.fixture
def launch_browser(chromium_executable: str) -> Callable[[], AbstractContextManager[Browser]]:
    """``with launch_browser() as browser:`` headless Chromium, driven by Playwright.

    Entity hosts (``<code>.testserver.local``) resolve to 127.0.0.1 inside the browser. Do the
    ORM work before and after the ``with`` block, not inside it: while Playwright's sync API is
    started it keeps an asyncio loop marked as running in this thread, and Django then refuses
    ORM calls (SynchronousOnlyOperation) and would give them a connection of their own.
    """

    @contextlib.contextmanager
    def launch() -> Iterator[Browser]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_executable,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--host-resolver-rules=MAP *.{settings.BASE_HOST} 127.0.0.1",
                ],
            )
            try:
                yield browser
            finally:
                browser.close()

    return launch
