"""Whatever JSON a client sends, the members API answers below 500.

Each body is one of: a coherent request (existing client, days inside the period, decimals with
two places), the same with one field dropped, replaced by an odd value or by junk, any subset of
the fields, or any JSON at all. Junk covers every JSON type, NUL bytes and lone surrogates. The
coherent shapes get past validation into the services, so their refusals are exercised too. A 500
raises in the test client (raise_request_exception) with its traceback.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members import services
from smart_coop.accounts.roles import Role
from smart_coop.tenancy.models import Entity
from tests.conftest import entity_host
from tests.factories import (
    ClientFactory,
    ContractFactory,
    MemberFactory,
    PartnerFactory,
    UserFactory,
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    # NUL bytes and lone surrogates: PostgreSQL and UTF-8 refuse both
    | st.text(st.sampled_from(["\x00", "\ud800", "\udfff", "é", "a", " "]), max_size=5)
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
any_date = st.dates().map(datetime.date.isoformat)  # mostly before the rates, or far ahead
odd_decimal = (
    st.decimals(places=2, min_value=-(10**12), max_value=10**12).map(str)
    | st.decimals().map(str)  # NaN, sNaN, Infinity, 1E+999...
    | st.sampled_from(["1e400", "-0", "0.001", "99999999999.99", "1,5", " 12 ", "0"])
)
words = st.from_regex(r"[A-Za-zÀ-ÿ][\w .'-]{0,40}", fullmatch=True)


def amount(low: str, high: str) -> st.SearchStrategy[str]:
    return st.decimals(places=2, min_value=low, max_value=high).map(str)


def day_after(today: datetime.date, low: int, high: int) -> st.SearchStrategy[datetime.date]:
    return st.integers(low, high).map(lambda n: today + datetime.timedelta(days=n))


@st.composite
def body(
    draw: st.DrawFn,
    coherent: st.SearchStrategy[dict[str, Any]],
    odd: dict[str, st.SearchStrategy[Any]],
) -> Any:
    """A coherent body, one field off, a sparse mix, or junk (see the module's docstring)."""
    shape = draw(st.sampled_from(["coherent", "coherent", "one_off", "one_off", "sparse", "junk"]))
    if shape == "junk":
        return draw(junk)
    if shape == "sparse":
        optional = {name: strategy | junk for name, strategy in odd.items()}
        return draw(st.fixed_dictionaries({}, optional=optional))
    data = draw(coherent)
    if shape == "one_off":
        name = draw(st.sampled_from(sorted(odd)))
        change = draw(st.sampled_from(["drop", "odd", "junk"]))
        if change == "drop":
            data.pop(name, None)
        else:
            data[name] = draw(odd[name] if change == "odd" else junk)
    return data


# --- the world the requests land in ----------------------------------------------------------


def api(token: str) -> APIClient:
    client = APIClient(headers={"host": entity_host("be"), "accept-language": "en"})
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@dataclass
class World:
    today: datetime.date
    member: APIClient
    advisor: APIClient
    partner: APIClient
    client_ids: list[int]
    contract_id: int
    rider_email: str


@pytest.fixture
def world(be: Entity) -> World:
    with schema_context("be"):
        member = MemberFactory()
        rider = MemberFactory(user__email="rider@example.org", sector="rider")
        advisor = UserFactory(role=Role.ADVISOR)
        partner = PartnerFactory()
        ok = ClientFactory()
        blocked = ClientFactory(status="blocked")
        foreign = ClientFactory(country="DE", kind="company", vat_number="DE136695976")
        contract = ContractFactory(member=member, client=ok)
        return World(
            today=services.entity_today(be),
            member=api(Token.objects.create(user=member.user).key),
            advisor=api(Token.objects.create(user=advisor).key),
            partner=api(Token.objects.create(user=partner.api_user).key),
            client_ids=[ok.pk, blocked.pk, foreign.pk, partner.client_id],
            contract_id=contract.pk,
            rider_email=rider.user.email,
        )


def send(client: APIClient, method: str, path: str, data: Any) -> Any:
    # Encoded here: json.dumps escapes lone surrogates, which the test client's encoder refuses.
    response = getattr(client, method)(path, json.dumps(data), content_type="application/json")
    assert response.status_code < 500, (path, data, response.content)
    # Shown by --hypothesis-show-statistics: how far the requests got, and what refused them.
    endpoint = re.sub(r"/\d+/", "/{id}/", path.removeprefix("/api/"))
    refused = sorted(response.json()) if response.status_code == 400 else ""
    event(f"{method} {endpoint}: {response.status_code} {refused}".rstrip())
    return response


# --- contracts -------------------------------------------------------------------------------


@st.composite
def coherent_contract(draw: st.DrawFn, world: World) -> dict[str, Any]:
    first = draw(day_after(world.today, -3, 60))
    period = [first + datetime.timedelta(days=n) for n in range(draw(st.integers(1, 5)))]
    worked = draw(st.lists(st.sampled_from(period), unique=True, max_size=len(period)))
    return {
        "client": draw(st.sampled_from(world.client_ids)),
        "title": draw(words),
        "description": draw(st.text(max_size=60)),
        "place": draw(words),
        "first_day": first.isoformat(),
        "last_day": period[-1].isoformat(),
        "price": draw(amount("1", "20000")),
        "vat_rate": draw(st.sampled_from([None, "21", "12", "6.0000", "20"])),
        "work_days": [
            {"day": day.isoformat(), "hours": draw(amount("0.5", "12"))} for day in sorted(worked)
        ],
        "expenses": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "kind": st.sampled_from(["travel", "meals", "material", "other"]),
                        "amount": amount("1", "600"),
                    },
                    optional={"description": words},
                ),
                max_size=2,
            )
        ),
    }


def odd_contract_fields(world: World) -> dict[str, st.SearchStrategy[Any]]:
    day = day_after(world.today, -30, 400).map(datetime.date.isoformat) | any_date
    return {
        "client": st.integers(),
        "title": st.text(max_size=210),
        "description": st.text(),
        "place": st.text(max_size=210),
        "first_day": day,
        "last_day": day,
        "price": odd_decimal,
        "vat_rate": odd_decimal,
        "work_days": st.lists(
            st.fixed_dictionaries({"day": day | junk, "hours": odd_decimal | junk}) | junk,
            max_size=4,
        ),
        "expenses": st.lists(
            st.fixed_dictionaries(
                {"kind": st.text(max_size=5) | junk, "amount": odd_decimal | junk},
                optional={"description": st.text(max_size=210), "id": st.integers()},
            )
            | junk,
            max_size=3,
        ),
    }


def contract_body(world: World) -> st.SearchStrategy[Any]:
    return body(coherent_contract(world), odd_contract_fields(world))


@FUZZ
@given(data=st.data())
def test_post_contracts_never_fails(world: World, data: st.DataObject) -> None:
    response = send(world.member, "post", "/api/contracts/", data.draw(contract_body(world)))
    if response.status_code == 201:
        # A draft that made it through: submitting and reviewing it never fail either.
        contract_id = response.json()["id"]
        send(world.member, "post", f"/api/contracts/{contract_id}/submit/", {})
        send(world.advisor, "post", f"/api/contracts/{contract_id}/approve/", {})


REVIEW = body(
    st.fixed_dictionaries({"note": words, "reason": words}, optional={"late_reason": words}),
    {"note": st.text(), "late_reason": st.text(max_size=310), "reason": st.text()},
)


@FUZZ
@given(
    data=st.data(),
    review=REVIEW,
    action=st.sampled_from(["approve", "reject", "request-changes", "cancel", "withdraw"]),
)
def test_patch_submit_and_review_never_fail(
    world: World, data: st.DataObject, review: Any, action: str
) -> None:
    draft = send(world.member, "post", "/api/contracts/", data.draw(coherent_contract(world)))
    path = (
        f"/api/contracts/{draft.json()['id']}/"
        if draft.status_code == 201
        else (f"/api/contracts/{world.contract_id}/")
    )
    send(world.member, "patch", path, data.draw(contract_body(world)))
    send(world.member, "put", path, data.draw(contract_body(world)))
    send(world.member, "post", f"{path}submit/", {})
    send(world.advisor, "post", f"{path}{action}/", review)


# --- clients, estimate, partner shifts -------------------------------------------------------

COHERENT_CLIENT = st.fixed_dictionaries(
    {
        "name": words,
        "kind": st.sampled_from(["public_body", "person"]),
        "country": st.sampled_from(["BE", "fr", "US", "ch"]),
        "street": words,
        "postal_code": st.from_regex(r"[0-9]{4,5}", fullmatch=True),
        "city": words,
        "email": st.emails(),
    },
    optional={
        "company_number": st.from_regex(r"[0-9]{10}", fullmatch=True),
        "language": st.sampled_from(["fr", "nl", "en"]),
        "payment_terms_days": st.integers(0, 120),
    },
)
ODD_CLIENT = {
    "name": st.text(max_size=210),
    "kind": st.sampled_from(["company", "giant"]),
    "country": st.sampled_from(["DE", "ß", "ﬃ", "B\n", "BEL"]) | st.text(max_size=3),
    "street": st.text(max_size=210),
    "postal_code": st.text(max_size=25),
    "city": st.text(max_size=110),
    "email": st.text(max_size=10),
    "vat_number": st.sampled_from(["BE0403019261", "BE 0403.019.261", "DE136695976", "FR0"])
    | st.text(max_size=35),
    "company_number": st.text(max_size=35),
    "language": st.text(max_size=10),
    "payment_terms_days": st.integers(),
}


@FUZZ
@given(sent=body(COHERENT_CLIENT, ODD_CLIENT))
def test_post_clients_never_fails(world: World, sent: Any) -> None:
    send(world.member, "post", "/api/clients/", sent)


@FUZZ
@given(data=st.data())
def test_post_estimate_never_fails(world: World, data: st.DataObject) -> None:
    coherent = st.fixed_dictionaries(
        {"price": amount("0", "100000")},
        optional={
            "expenses": amount("0", "2000"),
            "first_day": day_after(world.today, -30, 400).map(datetime.date.isoformat),
        },
    )
    odd = {"price": odd_decimal, "expenses": odd_decimal, "first_day": any_date}
    send(world.member, "post", "/api/estimate/", data.draw(body(coherent, odd)))


@FUZZ
@given(data=st.data())
def test_post_partner_shifts_never_fails(world: World, data: st.DataObject) -> None:
    coherent = st.fixed_dictionaries(
        {
            "shift_id": st.sampled_from(["s-1", "s-2"]) | st.uuids().map(str),
            "member_email": st.just(world.rider_email),
            "day": day_after(world.today, -1, 30).map(datetime.date.isoformat),
            # Within the agreement mostly (3 h, 10 net per hour); the odd values go below.
            "hours": amount("3", "10"),
            "price": amount("150", "1500"),
            "title": words,
            "place": words,
        }
    )
    odd = {
        "shift_id": st.text(max_size=110),
        "member_email": st.emails() | st.text(max_size=10),
        "day": any_date,
        "hours": odd_decimal,
        "price": odd_decimal,
        "title": st.text(max_size=210),
        "place": st.text(max_size=210),
    }
    send(world.partner, "post", "/api/partner/shifts/", data.draw(body(coherent, odd)))


LIST_PARAMS = st.dictionaries(
    st.sampled_from(
        ["search", "status", "kind", "country", "state", "first_day_after", "first_day_before",
         "client", "page"]
    ),
    st.text(max_size=12) | any_date | st.integers().map(str),
    max_size=4,
)  # fmt: skip


@FUZZ
@given(query=LIST_PARAMS, path=st.sampled_from(["/api/clients/", "/api/contracts/"]))
def test_list_filters_never_fail(world: World, query: dict[str, str], path: str) -> None:
    for client in (world.member, world.advisor):
        response = client.get(path, query)
        assert response.status_code < 500, (path, query)
        event(f"get {path.removeprefix('/api/')}: {response.status_code}")
