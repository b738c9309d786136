from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.tenancy.models import Domain, Entity, Rate
from smart_coop.tenancy.services import entity_create


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        return {row[0] for row in cursor.fetchall()}


def snapshot() -> tuple[int, int, int, frozenset[str]]:
    return (
        Entity.objects.count(),
        Domain.objects.count(),
        Rate.objects.count(),
        frozenset(schemas()),
    )


@pytest.mark.django_db
def test_create_entity_makes_schema_domain_and_rates(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_entity", "hu")

    entity = Entity.objects.get(code="hu")
    assert "hu" in schemas()
    assert entity.currency == "HUF"
    assert entity.time_zone == "Europe/Budapest"
    assert entity.get_primary_domain().domain == f"hu.{settings.BASE_HOST}"
    assert entity.rates_in_force("vat_standard", datetime.date(2026, 11, 25)) == [Decimal("27")]
    assert entity.rates_in_force("vat_reduced", datetime.date(2026, 11, 25)) == [
        Decimal("18"),
        Decimal("5"),
    ]
    # Its own tables, with the roles' groups in them.
    with schema_context("hu"):
        assert User.objects.count() == 0
        from django.contrib.auth.models import Group

        assert set(Group.objects.values_list("name", flat=True)) == {
            "member", "advisor", "accountant", "entity_admin",
        }  # fmt: skip
    assert "Created entity hu" in capsys.readouterr().out


@pytest.mark.django_db
def test_create_entity_twice_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot()
    call_command("create_entity", "be")
    assert snapshot() == before
    assert "already exists" in capsys.readouterr().out


@pytest.mark.django_db
def test_unknown_code_is_refused_and_nothing_is_created() -> None:
    before = snapshot()
    with pytest.raises(CommandError, match=r"Unknown entity code 'xx'\. Known codes: at, be, de"):
        call_command("create_entity", "xx")
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("vat_number", "message"),
    [
        ("NL812345679B01", "the check digits are wrong"),
        ("NL12", "the format is not valid"),
        ("BE0765432146", "is not a NL VAT number"),
    ],
)
def test_invalid_vat_number_is_refused_and_nothing_is_created(
    vat_number: str, message: str
) -> None:
    before = snapshot()
    with pytest.raises(DomainError, match=message) as refused:
        entity_create(code="nl", base_host=settings.BASE_HOST, vat_number=vat_number)
    assert refused.value.field == "vat_number"
    assert snapshot() == before
    assert "nl" not in schemas()


@pytest.mark.django_db
def test_an_existing_entity_is_not_given_another_vat_number() -> None:
    with pytest.raises(DomainError, match="already exists with VAT number BE0765432146"):
        entity_create(code="be", base_host=settings.BASE_HOST, vat_number="BE0403019261")
    assert Entity.objects.get(code="be").vat_number == "BE0765432146"


@pytest.mark.django_db
def test_ensure_public_site_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot()
    call_command("ensure_public_site")
    call_command("ensure_public_site")
    assert snapshot() == before
    public = Domain.objects.get(domain=settings.BASE_HOST).tenant
    assert public.schema_name == "public"
    assert f"answers at {settings.BASE_HOST}" in capsys.readouterr().out
