"""The online vote in a real browser: a shareholder votes, keeps the receipt, finds it published.

On a phone-sized screen, the shareholder logs in, opens the assembly from "Shares and votes",
votes on its two resolutions with the keyboard and the mouse, and reads the receipt code; the
organiser closes the vote from the turnout page on a desktop; the shareholder then finds the
receipt in the published list, with the choices they made. Chromium is the operating system's,
driven by Playwright, against ``manage.py runserver`` on the test database.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import cast

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, ViewportSize, expect

from governance import services
from governance.models import Assembly, Ballot, Participation, Shareholder, ShareMovement
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from tests.e2e.conftest import ARTIFACTS, E2EServer
from tests.e2e.test_contract_flow import DESKTOP, PHONE, TIMEOUT_MS, log_in
from tests.factories import UserFactory
from tests.governance.helpers import DAY, share_class, today

pytestmark = pytest.mark.e2e


def _delete_created(emails: list[str], title: str) -> None:
    """Remove what the test committed in schema be (whatever step it reached)."""
    with schema_context("be"):
        Assembly.objects.filter(title=title).delete()
        holders = Shareholder.objects.filter(user__email__in=emails)
        ShareMovement.objects.filter(shareholder__in=holders).delete()
        holders.delete()
        get_user_model().objects.filter(email__in=emails).delete()


def test_a_shareholder_votes_keeps_the_receipt_and_finds_it_after_the_close(
    e2e_server: E2EServer,
    launch_browser: Callable[[], AbstractContextManager[Browser]],
    committed_db: None,
) -> None:
    run = os.getpid()
    voter_email, organiser_email = (
        f"e2e-voter-{run}@example.org",
        f"e2e-organiser-{run}@example.org",
    )
    title = f"E2E general assembly {run}"
    try:
        with schema_context("be"):
            user = cast(User, UserFactory(email=voter_email))
            UserFactory(email=organiser_email, role=Role.ENTITY_ADMIN)
            holder = services.shareholder_register(
                data=services.ShareholderInput(
                    name="E2E Shareholder", street="Rue 1", postal_code="1000",
                    city="Bruxelles", country="BE",
                ),
                user=user, actor=None,
            )  # fmt: skip
            a = share_class("A")
            # Written as a register line: the ledger is append-only, and a committed test must
            # remove what it creates (the booking of a purchase is tested in tests/governance).
            ShareMovement.objects.create(
                shareholder=holder, share_class=a, kind="purchase", quantity=10,
                unit_value=a.nominal_value, amount=a.nominal_value * 10, currency=a.currency,
                occurred_on=today() - 30 * DAY,
            )  # fmt: skip
            assembly = services.assembly_create(
                title=title,
                starts_at=datetime.datetime.now(tz=datetime.UTC) + 30 * DAY,
                record_date=today() - DAY,
                agenda="1. Accounts\n2. Statutes",
                resolutions=[
                    services.ResolutionInput(title="Annual accounts", text="Approve them."),
                    services.ResolutionInput(
                        title="Statutes", text="Amend them.", majority="two_thirds"
                    ),
                ],
                actor=None,
            )
            services.assembly_convene(assembly=assembly, actor=None)
            services.assembly_open(assembly=assembly, actor=None)
        login_url = e2e_server.url("be", "/accounts/login/")

        # No ORM call inside this block (see launch_browser).
        with launch_browser() as browser:
            phone = browser.new_context(viewport=cast(ViewportSize, PHONE), locale="en-GB")
            phone.set_default_timeout(TIMEOUT_MS)
            page = phone.new_page()
            log_in(page, login_url, voter_email)
            page.get_by_role("link", name="Shares and votes").click()
            page.get_by_role("link", name=title).click()
            page.get_by_role("link", name="Vote", exact=True).click()

            # The first resolution with the keyboard, the second with the mouse.
            page.get_by_role("group", name="1. Annual accounts").get_by_label("for").focus()
            page.keyboard.press("Space")
            page.get_by_role("group", name="2. Statutes").get_by_label("against").check()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "governance-vote.png"), full_page=True)
            page.get_by_role("button", name="Cast my vote").click()

            expect(page.locator(".messages")).to_contain_text("Your vote is cast")
            page.screenshot(path=str(ARTIFACTS / "governance-receipts.png"), full_page=True)
            code = page.locator(".receipt-code").first.inner_text().strip()
            assert len(code) == 19

            desk = browser.new_context(viewport=cast(ViewportSize, DESKTOP), locale="en-GB")
            desk.set_default_timeout(TIMEOUT_MS)
            organiser = desk.new_page()
            log_in(organiser, login_url, organiser_email)
            organiser.goto(e2e_server.url("be", f"/governance/assemblies/{assembly.pk}/turnout/"))
            expect(organiser.locator("#turnout-voted")).to_contain_text("1 (100")
            organiser.get_by_role("button", name="Close the vote and publish the results").click()
            expect(organiser.locator(".messages")).to_contain_text("Done.")
            desk.close()

            page.get_by_role("link", name="Shares and votes").click()
            page.get_by_role("link", name="My vote receipts").click()
            page.get_by_role("button", name="Find it in the published list").first.click()
            row = page.locator("tr", has=page.locator(f"text={code}"))
            expect(row).to_have_count(1)
            expect(row.locator("td").nth(1)).to_have_text("for")
            expect(row.locator("td").nth(2)).to_have_text("against")
            page.screenshot(path=str(ARTIFACTS / "governance-published.png"), full_page=True)
            phone.close()

        with schema_context("be"):
            closed = Assembly.objects.get(pk=assembly.pk)
            assert closed.state == Assembly.State.CLOSED
            assert Participation.objects.filter(assembly=closed).count() == 1
            assert set(
                Ballot.objects.filter(resolution__assembly=closed).values_list("receipt", flat=True)
            ) == {code}
            adopted = dict(closed.resolutions.values_list("title", "adopted"))
            assert adopted == {"Annual accounts": True, "Statutes": False}
    finally:
        _delete_created([voter_email, organiser_email], title)
