"""A real Celery worker over the real Redis, killed with SIGKILL in the middle of a payout run,
then restarted: every due contract is paid, once.

The worker is this module's own (started, killed and restarted here), on its own queue, with
the payouts slowed down between the payslips and the booking (``SLOW_PAYOUT_ENV``) and unacked
messages returned after 5 s (``worker_settings``): ``acks_late`` + ``reject_on_worker_lost``
make Redis deliver the killed task again to the restarted worker.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from guarantee_fund.models import Payout
from guarantee_fund.services import SLOW_PAYOUT_ENV
from guarantee_fund.tasks import payouts_run_task
from invoicing import services as invoicing
from invoicing.models import Invoice
from smart_coop.ledger.models import Transaction
from smart_coop.tenancy.models import Entity
from tests.conftest import ROOT, _test_database_url
from tests.guarantee_fund.conftest import books_balanced
from tests.invoicing.conftest import (
    COMMITTED_ENTITY,
    CommittedEntity,
    committed_entity_create,
    committed_entity_drop,
)

pytestmark = pytest.mark.worker

QUEUE = f"fund-kill-{os.getpid()}"


@pytest.fixture(scope="module")
def fund_at(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        committed_entity_create(COMMITTED_ENTITY)
    yield COMMITTED_ENTITY
    with django_db_blocker.unblock():
        committed_entity_drop(COMMITTED_ENTITY)


class Worker:
    """Start, kill and restart one worker process on ``QUEUE``."""

    def __init__(self, database_url: str) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.guarantee_fund.worker_settings",
            SLOW_PAYOUT_ENV: "1.5",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = open(ROOT / ".data" / f"test-fund-worker-{os.getpid()}.log", "ab")  # noqa: SIM115

    def start(self) -> None:
        from smart_coop.celery import app

        name = f"fund-kill-{os.getpid()}-{time.monotonic_ns()}@%h"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "smart_coop", "worker", "--pool", "solo",
             "-Q", QUEUE, "-n", name, "-l", "info"],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited; see {self.log.name}")
            if app.control.ping(destination=[name.replace("%h", os.uname().nodename)], timeout=0.5):
                return
        pytest.fail("the worker did not answer within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def worker(committed_db: None, django_db_blocker: Any) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    (ROOT / ".data").mkdir(exist_ok=True)
    process = Worker(database_url)
    try:
        yield process
    finally:
        process.stop()


def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail("not done in time")


def test_the_payout_task_is_acked_late_and_redelivered_if_its_worker_dies(in_be: Entity) -> None:
    # (Also the one test here in a test transaction: the run then creates the test database.)
    assert payouts_run_task.acks_late is True
    assert payouts_run_task.reject_on_worker_lost is True
    assert payouts_run_task.name == "guarantee_fund.payouts_run"


def test_a_worker_killed_mid_payout_and_restarted_pays_every_due_contract_once(
    fund_at: str, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invoicing, "_after_issue", lambda invoice: None)
    with schema_context(fund_at):
        contracts = CommittedEntity().approved_contracts(6)
        issued: list[Invoice] = invoicing.invoices_issue_batch(
            contract_ids=[c.pk for c in contracts],
            issue_date=max(c.last_day for c in contracts) + datetime.timedelta(days=1),
        )
        payouts = Payout.objects.filter(invoice__in=issued)
        due_on = max(payouts.values_list("due_on", flat=True))

    def paid() -> int:
        with schema_context(fund_at):
            return payouts.filter(state=Payout.State.PAID).count()

    worker.start()
    with schema_context(fund_at):
        payouts_run_task.apply_async(kwargs={"as_of": due_on.isoformat(), "chunk": 2}, queue=QUEUE)
    # The first chunk of two is committed; the second is being paid (1.5 s between its payslips
    # and its booking): kill the worker there.
    wait_for(lambda: paid() >= 2, timeout=60)
    time.sleep(0.5)
    worker.kill()
    killed_at = paid()
    assert 2 <= killed_at < 6

    # Redis gives an unacked message back once it is older than the visibility timeout (5 s
    # here), which a starting worker checks at once: restart after that.
    time.sleep(6)
    worker.start()
    wait_for(lambda: paid() == 6, timeout=60)

    with schema_context(fund_at):
        keys = Transaction.objects.filter(kind="fund_payout").values_list(
            "idempotency_key", flat=True
        )
        assert sorted(keys) == sorted(f"payout:{c.pk}" for c in contracts)
        assert all(p.payslip_id and p.paid_amount for p in payouts)
        assert len({p.payslip_id for p in payouts}) == 6
        assert books_balanced()
