"""Refusals, identifier reasons and portal pages are shown in the user's language."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import translation
from django_tenants.utils import schema_context
from schwifty import exceptions as schwifty_exceptions
from stdnum import exceptions as stdnum_exceptions
from stdnum.be import vat as be_vat

from members.services import ContractInput, contract_save_draft, entity_today
from members.validators import client_vat_clean
from smart_coop.errors import DomainError
from smart_coop.identifiers import reason_for
from smart_coop.tenancy.models import Entity
from tests.factories import PASSWORD, ClientFactory, MemberFactory

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """A request activates its language in the test's thread: give the next test English back."""
    language = translation.get_language()
    yield
    translation.activate(language)


def test_a_contract_with_reversed_dates_is_refused_in_french(in_be: Entity) -> None:
    member = MemberFactory()
    first = entity_today(in_be) + 10 * DAY
    data = ContractInput(
        client=ClientFactory(),
        title="Concert",
        place="Liège",
        first_day=first,
        last_day=first - DAY,
        price=Decimal("1000.00"),
        work_days=[],
    )

    with translation.override("fr"), pytest.raises(DomainError) as refused:
        contract_save_draft(member=member, data=data, actor=member.user)

    assert refused.value.as_dict() == {
        "last_day": ["Le dernier jour ne peut pas précéder le premier jour."]
    }


def test_an_invalid_belgian_vat_number_is_explained_in_dutch() -> None:
    with pytest.raises(stdnum_exceptions.InvalidChecksum) as invalid:
        be_vat.validate("BE0403019262")

    with translation.override("nl"):
        assert reason_for(invalid.value) == "de controlecijfers kloppen niet"
        with pytest.raises(DomainError) as refused:
            client_vat_clean("BE0403019262", country="BE")

    assert refused.value.message == "Ongeldig btw-nummer: de controlecijfers kloppen niet."


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (stdnum_exceptions.InvalidChecksum(), "the check digits are wrong"),
        (stdnum_exceptions.InvalidLength(), "the length is not valid"),
        (stdnum_exceptions.InvalidFormat(), "the format is not valid"),
        (stdnum_exceptions.InvalidComponent(), "a part of it is not valid"),
        (stdnum_exceptions.ValidationError(), "it is not valid"),
        (schwifty_exceptions.InvalidChecksumDigits(), "the check digits are wrong"),
        (schwifty_exceptions.InvalidLength(), "the length is not valid"),
        (schwifty_exceptions.InvalidStructure(), "the format is not valid"),
        (schwifty_exceptions.InvalidCountryCode(), "the format is not valid"),
        (schwifty_exceptions.InvalidBankCode(), "the format is not valid"),
        (schwifty_exceptions.InvalidAccountCode(), "the format is not valid"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_each_library_error_has_our_own_reason(error: Exception, reason: str) -> None:
    with translation.override("en"):
        assert reason_for(error) == reason


def test_the_member_dashboard_is_rendered_in_dutch(be: Entity, be_client: HttpClient) -> None:
    with schema_context("be"):
        email = MemberFactory().user.email
    login = be_client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert login.status_code == 302

    page = be_client.get("/", HTTP_ACCEPT_LANGUAGE="nl")

    assert page.status_code == 200
    assert page.headers["Content-Language"] == "nl"
    body = page.content.decode()
    assert '<h2 id="next-title">Wat u nu moet doen</h2>' in body
    assert '<h2 id="insurance-title">Verzekeringsdekking</h2>' in body


def _po_entries(path: Path) -> Iterator[tuple[str, list[str], bool]]:
    """(msgid, msgstrs, fuzzy) of each entry of a .po file but the header."""
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        current = ""
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msg"):
                current, _, value = line.partition(" ")
                fields.setdefault(current, []).append(value.strip('"'))
            elif line.startswith('"'):
                fields[current][-1] += line.strip('"')
        msgid = "".join(fields.get("msgid", []))
        if not msgid:
            continue
        msgstrs = [
            text for key, texts in fields.items() if key.startswith("msgstr") for text in texts
        ]
        yield msgid, msgstrs, fuzzy


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_message_is_translated(language: str) -> None:
    path = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, msgstrs, fuzzy in _po_entries(path) if fuzzy or not all(msgstrs)]
    assert missing == []
    # The compiled catalogue is committed beside it.
    assert path.with_suffix(".mo").stat().st_size > 0
