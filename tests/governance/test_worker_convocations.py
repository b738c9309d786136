"""Convocations sent by the real Celery worker, over the real Redis, in the entity's schema."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from governance import services
from governance.models import Assembly, Convocation, Shareholder, ShareMovement
from tests.governance.helpers import DAY, share_class, today

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("celery_worker_process", "committed_db")]

TITLE = "Worker convocation assembly"


@pytest.fixture(autouse=True)
def db(committed_db: None) -> None:
    """Committed database access (overrides pytest-django's ``db``, as tests/e2e does): the
    name makes pytest-django create the test database when only this module is run."""


def _cleanup() -> None:
    with schema_context("be"):
        Assembly.objects.filter(title=TITLE).delete()
        holders = Shareholder.objects.filter(email__endswith="@convocation.test")
        ShareMovement.objects.filter(shareholder__in=holders).delete()
        holders.delete()


@pytest.fixture
def cleaned() -> Iterator[None]:
    _cleanup()
    yield
    _cleanup()


def test_convening_sends_every_convocation_through_the_worker_with_progress(
    mail_dir: Path, cleaned: None
) -> None:
    before = set(mail_dir.iterdir())
    with schema_context("be"):
        a = share_class("A")
        for i, language in enumerate(["fr", "nl", "en", "fr", "nl"]):
            holder = services.shareholder_register(
                data=services.ShareholderInput(
                    name=f"Convened {i}", street="Rue 1", postal_code="1000", city="Bruxelles",
                    country="BE", email=f"holder{i}@convocation.test", language=language,
                ),
                user=None, actor=None,
            )  # fmt: skip
            # A register line, not a booked purchase: the ledger of a committed test stays.
            ShareMovement.objects.create(
                shareholder=holder, share_class=a, kind="purchase", quantity=1,
                unit_value=a.nominal_value, amount=a.nominal_value, currency=a.currency,
                occurred_on=today() - 10 * DAY,
            )  # fmt: skip
        assembly = services.assembly_create(
            title=TITLE,
            starts_at=datetime.datetime.now(tz=datetime.UTC) + 30 * DAY,
            record_date=today() - DAY,
            agenda="Accounts",
            resolutions=[services.ResolutionInput(title="Accounts", text="Approve.")],
            actor=None,
        )
        services.assembly_convene(assembly=assembly, actor=None)  # enqueues at the commit

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assembly.refresh_from_db()
            if assembly.convocations_finished_at is not None:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker did not send the convocations in time")

        assert (assembly.convocations_total, assembly.convocations_sent) == (5, 5)
        languages = sorted(
            Convocation.objects.filter(voter__assembly=assembly).values_list("language", flat=True)
        )
        assert languages == ["en", "fr", "fr", "nl", "nl"]
    sent = [path.read_text() for path in set(mail_dir.iterdir()) - before]
    recipients = sorted(
        line.split(": ", 1)[1] for text in sent for line in text.splitlines()
        if line.startswith("To: ") and "@convocation.test" in line
    )  # fmt: skip
    assert recipients == [f"holder{i}@convocation.test" for i in range(5)]
