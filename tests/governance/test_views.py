"""The member portal's governance pages and their refusals."""

from __future__ import annotations

import csv
import io
import re
from typing import cast

import pytest
from django.core.files.base import ContentFile
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from governance import services
from governance.models import (
    Assembly,
    AssemblyDocument,
    Candidacy,
    Participation,
    Proxy,
    Resolution,
    Shareholder,
    ShareMovement,
    ShareOrder,
    Statutes,
)
from members.models import Member
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, MemberFactory, UserFactory
from tests.governance.helpers import DAY, assembly, share_class, shareholder, today


def log_in(http: HttpClient, user: User) -> HttpClient:
    response = http.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return http


def _user(holder: Shareholder) -> User:
    assert holder.user is not None
    return holder.user


def ballot_post(meeting: Assembly, pick: str = "for", **extra: str) -> dict[str, str]:
    data = {f"resolution_{r.pk}": pick for r in Resolution.objects.filter(assembly=meeting)}
    return {**data, **extra}


def test_a_member_buys_shares_and_sees_how_to_pay(in_be: Entity, be_client: HttpClient) -> None:
    member = cast(Member, MemberFactory())
    share_class("A")
    log_in(be_client, member.user)

    form = be_client.get("/governance/shares/buy/")
    assert form.status_code == 200
    assert member.street in form.content.decode()  # the register details start from the file
    response = be_client.post(
        "/governance/shares/buy/",
        {"share_class": share_class("A").pk, "quantity": "2", "name": "Ada Martin",
         "street": "Rue Haute 5", "postal_code": "1000", "city": "Bruxelles", "country": "BE"},
        follow=True,
    )  # fmt: skip

    order = ShareOrder.objects.get(shareholder__user=member.user)
    assert str(order.amount) == "60.00"
    page = response.content.decode()
    assert order.payment_reference in page
    assert "awaits your transfer" in page or "await your transfer" in page


def test_bad_input_keeps_the_form_and_creates_nothing(in_be: Entity, be_client: HttpClient) -> None:
    user = cast(User, UserFactory())
    share_class("A")
    log_in(be_client, user)

    response = be_client.post(
        "/governance/shares/buy/",
        {"share_class": share_class("A").pk, "quantity": "0", "name": "Ada", "street": "",
         "postal_code": "1000", "city": "Bruxelles", "country": "BE"},
    )  # fmt: skip

    assert response.status_code == 200
    assert 'id="id_quantity_error"' in response.content.decode()
    assert 'value="Ada"' in response.content.decode()
    assert not Shareholder.objects.filter(user=user).exists()
    assert not ShareOrder.objects.exists()


def test_certificates_are_their_holders_only(in_be: Entity, be_client: HttpClient) -> None:
    mine, theirs = shareholder(shares=2), shareholder(shares=1)
    log_in(be_client, _user(mine))
    own = ShareMovement.objects.get(shareholder=mine)
    other = ShareMovement.objects.get(shareholder=theirs)

    response = be_client.get(f"/governance/certificates/{own.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert be_client.get(f"/governance/certificates/{other.pk}/").status_code == 404


def test_a_shareholder_votes_gets_a_receipt_and_finds_it_after_the_close(
    in_be: Entity, be_client: HttpClient
) -> None:
    voter = shareholder()
    meeting = assembly()
    log_in(be_client, _user(voter))

    page = be_client.get(f"/governance/assemblies/{meeting.pk}/vote/")
    assert page.status_code == 200
    response = be_client.post(
        f"/governance/assemblies/{meeting.pk}/vote/", ballot_post(meeting, "against")
    )

    # The receipt is never in a URL (access logs keep URLs next to who asked for them).
    assert response["Location"] == "/governance/receipts/"
    receipts = be_client.get(response["Location"]).content.decode()
    code = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipts)
    assert code is not None
    assert Participation.objects.filter(assembly=meeting).count() == 1
    services.assembly_close(assembly=meeting, actor=None)
    published = be_client.post(
        f"/governance/assemblies/{meeting.pk}/receipts/", {"code": code.group(1)}
    ).content.decode()
    assert code.group(1) in published
    assert published.count("against") >= 2
    minutes = be_client.get(f"/governance/assemblies/{meeting.pk}/minutes/")
    assert minutes.content.startswith(b"%PDF")


def test_changing_a_vote_in_the_portal_uses_the_kept_receipt(
    in_be: Entity, be_client: HttpClient
) -> None:
    voter = shareholder()
    meeting = assembly()
    log_in(be_client, _user(voter))
    url = f"/governance/assemblies/{meeting.pk}/vote/"
    be_client.post(url, ballot_post(meeting, "for"))

    change = be_client.get(url).content.decode()
    assert 'name="receipt_code"' in change
    kept = re.search(r'name="receipt_code" value="([A-Z0-9-]+)"', change)
    secret = re.search(r'name="receipt_secret" value="([A-Z0-9]+)"', change)
    assert kept is not None
    assert secret is not None
    be_client.post(url, ballot_post(meeting, "abstain", receipt_code=kept.group(1),
                                    receipt_secret=secret.group(1)))  # fmt: skip

    published = dict(services.receipts_published(assembly=meeting))
    assert published == {kept.group(1): ["abstain", "abstain"]}


def test_a_non_shareholder_and_a_late_shareholder_are_refused(
    in_be: Entity, be_client: HttpClient
) -> None:
    shareholder()
    meeting = assembly(record_date=today() - 3 * DAY)
    late = shareholder(on=today() - DAY)
    stranger = cast(User, UserFactory())

    for user in (stranger, _user(late)):
        http = log_in(be_client, user)
        url = f"/governance/assemblies/{meeting.pk}/vote/"
        assert http.get(url).status_code == 403
        assert http.post(url, ballot_post(meeting)).status_code == 403
        http.post("/accounts/logout/")
    assert not Participation.objects.exists()


def test_another_entitys_assembly_and_drafts_are_not_found(
    be: Entity, be_client: HttpClient, fr_client: HttpClient
) -> None:
    with schema_context("be"):
        holder = shareholder()
        meeting = assembly()
        draft = assembly(convene=False)
    with schema_context("fr"):
        french = cast(User, UserFactory())
    log_in(fr_client, french)
    assert fr_client.get(f"/governance/assemblies/{meeting.pk}/").status_code == 404
    assert fr_client.get(f"/governance/assemblies/{meeting.pk}/vote/").status_code == 404
    log_in(be_client, _user(holder))
    assert be_client.get(f"/governance/assemblies/{meeting.pk}/").status_code == 200
    assert be_client.get(f"/governance/assemblies/{draft.pk}/").status_code == 404


def test_a_proxy_given_in_the_portal_lets_the_holder_vote_twice(
    in_be: Entity, be_client: HttpClient
) -> None:
    grantor, holder = shareholder(), shareholder()
    meeting = assembly()
    log_in(be_client, _user(grantor))
    be_client.post(f"/governance/assemblies/{meeting.pk}/proxy/",
                   {"holder_email": _user(holder).email})  # fmt: skip
    assert Proxy.objects.filter(assembly=meeting).count() == 1
    be_client.post("/accounts/logout/")

    log_in(be_client, _user(holder))
    detail = be_client.get(f"/governance/assemblies/{meeting.pk}/").content.decode()
    assert grantor.name in detail
    entries = {e.shareholder_id: e.pk for e in meeting.roll.all()}
    url = f"/governance/assemblies/{meeting.pk}/vote/"
    be_client.post(url, ballot_post(meeting, "for", voter=str(entries[holder.pk])))
    be_client.post(url, ballot_post(meeting, "against", voter=str(entries[grantor.pk])))

    assert Participation.objects.filter(assembly=meeting).count() == 2
    assert Participation.objects.filter(assembly=meeting, by_proxy=True).count() == 1


def test_the_turnout_page_is_the_organisers(in_be: Entity, be_client: HttpClient) -> None:
    voter = shareholder()
    meeting = assembly()
    services.ballot_cast(assembly=meeting, voter=voter, choices={
        r.pk: "for" for r in meeting.resolutions.all()}, actor=None)  # fmt: skip
    log_in(be_client, _user(voter))
    assert be_client.get(f"/governance/assemblies/{meeting.pk}/turnout/").status_code == 403
    assert be_client.post(f"/governance/assemblies/{meeting.pk}/organise/close/").status_code == 403
    be_client.post("/accounts/logout/")

    admin = cast(User, UserFactory(role=Role.ENTITY_ADMIN))
    log_in(be_client, admin)
    page = be_client.get(f"/governance/assemblies/{meeting.pk}/turnout/").content.decode()
    assert re.search(r'id="turnout-voted">1 \(100', page)
    be_client.post(f"/governance/assemblies/{meeting.pk}/organise/close/")
    meeting.refresh_from_db()
    assert meeting.state == Assembly.State.CLOSED


def test_the_register_export_is_for_staff(in_be: Entity, be_client: HttpClient) -> None:
    holder = shareholder(shares=3)
    log_in(be_client, _user(holder))
    assert be_client.get("/governance/register.csv").status_code == 403
    be_client.post("/accounts/logout/")

    log_in(be_client, cast(User, UserFactory(role=Role.ACCOUNTANT)))
    csv_text = be_client.get("/governance/register.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0][:3] == ["line", "date", "holder"]
    assert [rows[1][2], *rows[1][6:]] == [
        holder.name, "A", "purchase", "", "3", "30.00", "90.00", "EUR", "3",
    ]  # fmt: skip
    xlsx = be_client.get("/governance/register.xlsx")
    assert xlsx.content.startswith(b"PK")


def test_a_shareholder_stands_for_the_board(in_be: Entity, be_client: HttpClient) -> None:
    holder = shareholder()
    meeting = assembly(open_vote=False)
    election = services.election_create(
        assembly=meeting, title="Board", seats=3, candidacies_close_on=today() + 5 * DAY,
        actor=None,
    )  # fmt: skip
    log_in(be_client, _user(holder))

    empty = be_client.post(f"/governance/elections/{election.pk}/apply/", {"statement": " "})
    assert empty.status_code == 200
    be_client.post(f"/governance/elections/{election.pk}/apply/", {"statement": "Open books."})

    assert Candidacy.objects.get().statement == "Open books."


@pytest.mark.parametrize("path", ["/governance/", "/governance/receipts/"])
def test_pages_need_a_login(be: Entity, be_client: HttpClient, path: str) -> None:
    response = be_client.get(path)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_redemption_in_the_portal_follows_the_statutes_window(
    in_be: Entity, be_client: HttpClient
) -> None:
    holder = shareholder(shares=3, on=today() - 400 * DAY)
    log_in(be_client, _user(holder))
    statutes = services.statutes_get()
    # A window that excludes today: refused on the form, nothing registered.
    start_month = (today().month % 12) + 1  # the financial year starts next month
    Statutes.objects.filter(pk=statutes.pk).update(
        financial_year_start_month=start_month, redemption_window_months=1
    )
    form = {"share_class": share_class("A").pk, "quantity": "1"}
    refused = be_client.post("/governance/shares/redeem/", form)
    assert refused.status_code == 200
    assert "Redemption is closed today." in refused.content.decode()
    assert not ShareMovement.objects.filter(kind="redemption").exists()

    # The whole year open: the redemption is registered.
    Statutes.objects.filter(pk=statutes.pk).update(redemption_window_months=12)
    done = be_client.post("/governance/shares/redeem/", form)
    assert done.status_code == 302
    assert ShareMovement.objects.get(kind="redemption").quantity == -1


def test_assembly_documents_are_served_to_who_sees_the_assembly(
    in_be: Entity, be_client: HttpClient
) -> None:
    holder = shareholder()
    meeting = assembly(convene=False)
    document = AssemblyDocument(assembly=meeting, title="Annual report")
    document.file.save("annual-report.txt", ContentFile(b"Accounts 2025"), save=True)
    log_in(be_client, _user(holder))
    url = f"/governance/assemblies/{meeting.pk}/documents/{document.pk}/"

    assert be_client.get(url).status_code == 404  # a draft is the organisers'
    services.assembly_convene(assembly=meeting, actor=None)
    assert url in be_client.get(f"/governance/assemblies/{meeting.pk}/").content.decode()
    response = be_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Accounts 2025"  # type: ignore[attr-defined]
