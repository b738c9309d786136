"""The project's own guarantees: migrations in step with models, production settings sound,
and the embedded servers started only when no server is given."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from smart_coop import devenv

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_migrations_match_the_models() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_deploy_checks_pass_with_production_settings() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "coop.example.org,.coop.example.org",
        "DATABASE_URL": "postgres://nobody@unreachable.invalid/none",
        "DJANGO_SETTINGS_MODULE": "smart_coop.settings",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DJANGO_SETTINGS_MODULE"] = "smart_coop.settings"
    completed = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in completed.stderr


def test_given_servers_are_used_and_none_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_COOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example.org/coop")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example.org:6379/3")
    with devenv.services() as env:
        assert env["DATABASE_URL"] == "postgres://db.example.org/coop"
        assert env["REDIS_URL"] == "redis://cache.example.org:6379/3"
        assert list(tmp_path.iterdir()) == []


def test_without_database_url_nothing_on_localhost_is_used() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['HOST'], settings.REDIS_URL)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == [
        "database-url-is-not-set.invalid",
        "redis://redis-url-is-not-set.invalid:6379/0",
    ]
