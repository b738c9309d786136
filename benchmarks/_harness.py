"""Shared set-up for benchmarks: a scratch database on the server `make bench` provides.

Each benchmark runs in its own database (created here, dropped at exit), so it never touches
the demo data of `make run`. Import this module before anything from Django.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _scratch_database() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"bench_{Path(sys.argv[0]).stem}_{os.getpid()}"
    admin_url = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))


def _libpq(url: str) -> str:
    import dj_database_url

    config = dj_database_url.parse(url)
    return psycopg.conninfo.make_conninfo(
        dbname=config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=str(config["PORT"]) if config.get("PORT") else None,
    )


def setup(*entities: str) -> None:
    """Scratch database, Django set up, public schema migrated, ``entities`` created."""
    _scratch_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_coop.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from smart_coop.tenancy.services import entity_create

    call_command("migrate_schemas", "--shared", verbosity=0)
    for code in entities:
        entity_create(code=code, base_host=settings.BASE_HOST)


def measure(action: Callable[[], object], *, seconds: float = 3.0) -> float:
    """Calls per second of ``action`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(20):
        action()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


def result(name: str, **figures: float | int | str) -> None:
    values = " ".join(
        f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in figures.items()
    )
    print(f"RESULT {name} {values}", flush=True)
