"""End to end, in one test: declare -> approve -> invoice -> the work ends -> seven (working)
days later the member is paid and reads the payslip, while the client has not paid; then the
client pays and the fund is repaid."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.test import Client as HttpClient

from guarantee_fund.calendar import payout_due_on
from guarantee_fund.models import Payout, PayoutBatch
from guarantee_fund.selectors import fund_position, invoice_open_advance, payouts_of
from guarantee_fund.tasks import payouts_run_task
from invoicing import services as invoicing
from invoicing.models import Invoice
from members import services as members
from members.models import Contract
from smart_coop.accounts.roles import Role
from smart_coop.ledger.selectors import balance_by_code
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ContractFactory, UserFactory
from tests.guarantee_fund.conftest import books_balanced

ONE_DAY = datetime.timedelta(days=1)


def test_the_member_is_paid_seven_working_days_after_the_work_before_the_client_pays(
    in_be: Entity, be_client: HttpClient, django_capture_on_commit_callbacks: Any
) -> None:
    advisor = UserFactory(role=Role.ADVISOR)
    # Declared by the member, approved by the advisor before the work starts.
    contract = ContractFactory(price=Decimal("2000.00"))
    member = contract.member
    members.contract_submit(contract=contract, actor=member.user)
    contract = members.contract_approve(contract=contract, actor=advisor)
    assert contract.state == Contract.State.APPROVED

    # The daily job invoices it the day after the work ends.
    (invoice,) = invoicing.invoices_issue_due(as_of=contract.last_day + ONE_DAY)
    assert invoice.state == Invoice.State.ISSUED
    payout = Payout.objects.get(invoice=invoice)
    # Belgium counts the delay in working days.
    assert payout.due_on == payout_due_on(entity=in_be, last_day=contract.last_day)
    assert (payout.due_on - contract.last_day).days >= 7

    # The hourly job, the day before: nothing. On the due day: paid.
    day_before = (payout.due_on - ONE_DAY).isoformat()
    assert payouts_run_task.apply(kwargs={"as_of": day_before}).get()["paid"] == []
    done = payouts_run_task.apply(kwargs={"as_of": payout.due_on.isoformat()}).get()
    assert done["paid"] == [contract.pk]

    payout.refresh_from_db()
    invoice.refresh_from_db()
    assert payout.state == Payout.State.PAID
    assert invoice.amount_paid == 0  # the client has not paid
    payslip = payout.payslip
    assert payslip is not None
    assert payslip.paid_out
    assert payout.paid_amount == payslip.net + payslip.expenses > 0
    assert invoice_open_advance(invoice_id=invoice.pk) == Decimal("2000.00")
    assert PayoutBatch.objects.get(execution_date=payout.due_on).total == payout.paid_amount
    assert list(payouts_of(member=member)) == [payout]

    # The member reads the payslip in the portal.
    response = be_client.post(
        "/accounts/login/", {"username": member.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    listing = be_client.get("/payslips/")
    assert listing.status_code == 200
    assert f'href="/payslips/{payslip.pk}/"' in listing.content.decode()
    assert be_client.get(f"/payslips/{payslip.pk}/").status_code == 200

    # The client pays at last: the fund is repaid, in full.
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.payment_record(
            invoice=invoice,
            amount=invoice.gross_total,
            received_on=payout.due_on + datetime.timedelta(days=30),
            actor=None,
        )
    assert invoice_open_advance(invoice_id=invoice.pk) == 0
    position = fund_position()
    assert (position.contributions, position.open_advances, position.losses) == (
        Decimal("40.00"),
        Decimal("0"),
        Decimal("0"),
    )
    assert balance_by_code(f"budget:{member.pk}") == 0
    assert books_balanced()
