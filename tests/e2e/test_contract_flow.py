"""The contract flow in a real browser, as the people who use it go through it.

A member logs in on a phone-sized screen, declares a contract, watches the estimate update while
typing the price, and submits it; an advisor approves it in the entity's admin through the
review action's intermediate page; the member then sees it approved. Chromium is the operating
system's, driven by Playwright, against ``manage.py runserver`` on the test database.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, Page, expect

from members import services
from members.models import (
    Attachment,
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Expense,
    Member,
    MemberStateChange,
    WorkDay,
)
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.current import current_entity
from tests.e2e.conftest import ARTIFACTS, E2EServer
from tests.factories import PASSWORD, ClientFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.e2e

# Generous for a loaded CI machine; each wait ends as soon as the page is there.
TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TITLE = "Lighting design for the spring show"


def log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='username']").fill(email)
    form.locator("input[name='password']").fill(PASSWORD)
    form.locator("button[type='submit']").click()
    expect(page.locator("form input[name='password']")).to_have_count(0, timeout=TIMEOUT_MS)


def delete_created(emails: list[str], client_name: str) -> None:
    """Remove what the test committed in schema be (whatever step it reached), children first."""
    with schema_context("be"):
        users = get_user_model().objects.filter(email__in=emails)
        members = Member.objects.filter(user__in=users)
        contracts = Contract.objects.filter(member__in=members)
        ContractEvent.objects.filter(contract__in=contracts).delete()
        EmploymentDeclaration.objects.filter(contract__in=contracts).delete()
        WorkDay.objects.filter(contract__in=contracts).delete()
        Expense.objects.filter(contract__in=contracts).delete()
        Attachment.objects.filter(contract__in=contracts).delete()
        contracts.delete()
        MemberStateChange.objects.filter(member__in=members).delete()
        members.delete()
        Client.objects.filter(name=client_name).delete()
        users.delete()


def declare_and_submit(
    page: Page, server: E2EServer, *, client: str, first_day: datetime.date, net: Decimal
) -> int:
    """The member declares the contract from the dashboard; returns the contract's id."""
    page.get_by_role("link", name="Declare a contract").click()
    expect(page).to_have_url(server.url("be", "/contracts/new/"))
    form = page.locator("#contract-form")
    form.locator("select[name='client']").select_option(label=client)
    form.locator("input[name='title']").fill(TITLE)
    form.locator("input[name='place']").fill("Bruxelles")
    last_day = first_day + datetime.timedelta(days=1)
    form.locator("input[name='first_day']").fill(first_day.isoformat())
    form.locator("input[name='last_day']").fill(last_day.isoformat())
    form.get_by_role("button", name="Every day from the first to the last").click()
    days = form.locator("[data-formset='days'] input[type='date']")
    expect(days).to_have_count(2)
    expect(days.nth(0)).to_have_value(first_day.isoformat())
    expect(days.nth(1)).to_have_value(last_day.isoformat())

    # The estimate follows the price as it is typed, without reloading the page.
    panel = page.locator("#estimate")
    expect(panel).to_contain_text("Enter a price")
    page.evaluate("window.e2eSamePage = true")
    form.locator("input[name='price']").fill("1000.00")
    panel.locator("[data-key='fee']").wait_for(timeout=TIMEOUT_MS)
    expect(panel.locator("[data-key='fee']")).to_contain_text("65.00")  # the 6.5 % fee
    expect(panel.locator("[data-key='net']")).to_contain_text(f"{net}")
    assert page.evaluate("window.e2eSamePage === true"), "the page was reloaded"

    page.get_by_role("button", name="Save and submit for review").click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+/$"))
    expect(page.locator("#contract-state")).to_have_text("submitted")
    return int(re.findall(r"/contracts/(\d+)/$", page.url)[0])


def approve_in_admin(page: Page, server: E2EServer, contract_pk: int) -> None:
    """The advisor runs "approve" on the contract from the review queue."""
    page.goto(server.url("be", "/admin/members/contract/"))
    queue = page.locator("#changelist-form")
    queue.locator(f"input[name='_selected_action'][value='{contract_pk}']").check()
    queue.locator("select[name='action']").select_option("approve")
    queue.locator("button[name='index']").click()
    # The action's intermediate page: the contract, a note for the member, the confirmation.
    content = page.locator("#content")
    expect(content.locator("h1")).to_have_text("Approve contracts")
    expect(content.locator(".action-rows")).to_contain_text(TITLE)
    confirm = content.locator("form:has([name='apply'])")
    confirm.locator("textarea[name='note']").fill("Have a good show.")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messagelist .success")).to_contain_text("is approved")


def test_member_declares_a_contract_an_advisor_approves_it_the_member_sees_it(
    e2e_server: E2EServer,
    launch_browser: Callable[[], AbstractContextManager[Browser]],
    committed_db: None,
) -> None:
    run = os.getpid()  # one test database per run, but keep the names apart anyway
    member_email, advisor_email = f"e2e-member-{run}@example.org", f"e2e-advisor-{run}@example.org"
    client_name = f"E2E Theatre {run}"
    try:
        with schema_context("be"):
            advisor = UserFactory(email=advisor_email, role=Role.ADVISOR)
            member = MemberFactory(user__email=member_email)
            ClientFactory(name=client_name, actor=advisor)
            entity = current_entity()
            today = services.entity_today(entity)
            estimate = services.contract_estimate(
                entity=entity, price=Decimal("1000.00"), expenses=Decimal(0), on=today
            )
        first_day = today + datetime.timedelta(days=7)
        login_url = e2e_server.url("be", "/accounts/login/")

        # No ORM call inside this block (see launch_browser).
        with launch_browser() as browser:
            phone = browser.new_context(viewport=PHONE, locale="en-GB")
            phone.set_default_timeout(TIMEOUT_MS)
            page = phone.new_page()
            log_in(page, login_url, member_email)
            expect(page).to_have_url(e2e_server.url("be", "/"))
            contract_pk = declare_and_submit(
                page, e2e_server, client=client_name, first_day=first_day, net=estimate.net
            )

            desk = browser.new_context(viewport=DESKTOP, locale="en-GB")
            desk.set_default_timeout(TIMEOUT_MS)
            admin_page = desk.new_page()
            log_in(admin_page, login_url, advisor_email)
            approve_in_admin(admin_page, e2e_server, contract_pk)
            desk.close()

            page.reload()
            expect(page.locator("#contract-state")).to_have_text("approved")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "approved.png"), full_page=True)
            phone.close()

        with schema_context("be"):
            contract = Contract.objects.get(pk=contract_pk)
            assert contract.member_id == member.pk
            assert contract.state == Contract.State.APPROVED
            assert contract.reviewed_by_id == advisor.pk
            declarations = [
                (d.kind, d.period_start, d.period_end) for d in contract.declarations.all()
            ]
            assert declarations == [("dimona", first_day, first_day + datetime.timedelta(days=1))]
    finally:
        delete_created([member_email, advisor_email], client_name)
