"""Demo data for `make run`: per entity, one user per role, a member file, clients, contracts.

Everything is made through the services, as a real user would; running it again adds nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from members import services
from members.models import Client, Contract, Member
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.accounts.services import user_create
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

DEMO_PASSWORD = "demo-coop-2026"  # noqa: S105 - printed on purpose: demo accounts only
ROLE_LOGINS = {
    Role.MEMBER: "member",
    Role.ADVISOR: "advisor",
    Role.ACCOUNTANT: "accountant",
    Role.ENTITY_ADMIN: "admin",
}

# A valid national number and IBAN of a demo member, and a domestic company's VAT number.
DEMO_PEOPLE = {
    "BE": ("85073003328", "BE68539007547034", "BE0403019261"),
    "FR": ("295109912611193", "FR1420041010050500013M02606", "FR40303265045"),
    "IT": ("RCCMNL83S18D969H", "IT60X0542811101000000123456", "IT00743110157"),
    "SE": ("8803200016", "SE4550000000058398257466", "SE556036079301"),
    "HU": ("123456789", "HU42117730161111101800000000", "HU10597190"),
    "DE": ("36574261809", "DE89370400440532013000", ""),
    "ES": ("12345678Z", "ES9121000418450200051332", ""),
    "NL": ("111222333", "NL91ABNA0417164300", ""),
    "AT": ("1237010180", "AT611904300234573201", ""),
}


def demo_users(entity: Entity) -> dict[Role, User]:
    users = {}
    for role, login in ROLE_LOGINS.items():
        email = f"{login}@{entity.code}.demo.coop"
        user = User.objects.filter(email=email).first() or user_create(
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            first_name=login.capitalize(),
            last_name=entity.code.upper(),
            language=entity.default_language,
        )
        users[role] = user
    return users


def demo_populate(entity: Entity) -> dict[Role, User]:
    """Users of every role; the member's file, clients and three contracts in three states."""
    users = demo_users(entity)
    member_user, advisor = users[Role.MEMBER], users[Role.ADVISOR]
    if Member.objects.filter(user=member_user).exists():
        return users
    national_id, iban, company_vat = DEMO_PEOPLE[entity.country]
    member = services.member_onboard(
        user=member_user,
        advisor=advisor,
        data=services.MemberInput(
            national_id=national_id,
            date_of_birth=datetime.date(1985, 7, 30),
            street="Rue des Artistes 12",
            postal_code="1000",
            city="Capital",
            country=entity.country,
            iban=iban,
            sector="artist",
            languages=list(entity.languages),
        ),
    )
    member = services.member_state_change(
        member=member, to_state=Member.State.ACTIVE, actor=advisor, reason="Demo: file checked."
    )
    theatre = services.client_create(
        actor=advisor,
        data=services.ClientInput(
            name="City Theatre",
            kind=Client.Kind.PUBLIC_BODY,
            country=entity.country,
            street="Theatre Square 1",
            postal_code="1000",
            city="Capital",
            email=f"billing@theatre.{entity.code}.example",
            language=entity.default_language,
        ),
    )
    if company_vat:
        services.client_create(
            actor=advisor,
            data=services.ClientInput(
                name="Events & Co",
                kind=Client.Kind.COMPANY,
                country=entity.country,
                vat_number=company_vat,
                street="Business Park 4",
                postal_code="1000",
                city="Capital",
                email=f"ap@events.{entity.code}.example",
                language=entity.default_language,
                payment_terms_days=45,
            ),
        )
    today = services.entity_today(entity)
    contracts = []
    scale = 400 if entity.currency == "HUF" else 10 if entity.currency == "SEK" else 1
    for offset, title, price in (
        (10, "Street theatre, two shows", "900"),
        (14, "Lighting design", "1400"),
        (21, "Festival concert", "1200"),
    ):
        first = today + datetime.timedelta(days=offset)
        contracts.append(
            services.contract_save_draft(
                member=member,
                actor=member_user,
                data=services.ContractInput(
                    client=theatre,
                    title=title,
                    place="Capital",
                    first_day=first,
                    last_day=first + datetime.timedelta(days=1),
                    price=Decimal(price) * scale,
                    work_days=[
                        services.WorkDayInput(day=first, hours=Decimal(6)),
                        services.WorkDayInput(
                            day=first + datetime.timedelta(days=1), hours=Decimal(6)
                        ),
                    ],
                ),
            )
        )
    services.contract_submit(contract=contracts[1], actor=member_user)
    services.contract_submit(contract=contracts[2], actor=member_user)
    services.contract_approve(contract=contracts[2], actor=advisor, note="Demo approval.")
    demo_invoices(entity, member=member, client=theatre, advisor=advisor, scale=scale)
    from payroll.demo import demo_payroll

    demo_payroll(entity, member=member, advisor=advisor, today=today)
    from governance.demo import demo_governance

    demo_governance(
        entity, member_user=member_user, organiser=users[Role.ENTITY_ADMIN], advisor=advisor,
        today=today,
    )  # fmt: skip
    return users


def _past_contract(
    *, member: Member, client: Client, advisor: User, days_ago: int, title: str, price: Decimal
) -> Contract:
    """Work done ``days_ago`` days ago, declared late by the advisor (demo history)."""
    entity = current_entity()
    first = services.entity_today(entity) - datetime.timedelta(days=days_ago)
    contract = services.contract_save_draft(
        member=member,
        actor=advisor,
        data=services.ContractInput(
            client=client,
            title=title,
            place="Capital",
            first_day=first,
            last_day=first,
            price=price,
            work_days=[services.WorkDayInput(day=first, hours=Decimal(7))],
        ),
    )
    services.contract_submit(contract=contract, actor=advisor, late_reason="Demo history.")
    return services.contract_approve(contract=contract, actor=advisor, late_reason="Demo history.")


def demo_invoices(
    entity: Entity, *, member: Member, client: Client, advisor: User, scale: int
) -> None:
    """Past work invoiced: overdue, paid, partly paid, credited in part, and open."""
    from invoicing import services as invoicing

    today = services.entity_today(entity)
    cases = [
        (75, "Opening night", "1500"),  # overdue
        (45, "Summer workshop", "800"),  # paid
        (35, "Sound engineering", "1100"),  # partly paid
        (25, "Photo shoot", "950"),  # a credit note in part
        (12, "Exhibition set-up", "700"),  # open, not yet due
    ]
    invoices = []
    for days_ago, title, price in cases:
        contract = _past_contract(
            member=member, client=client, advisor=advisor, days_ago=days_ago, title=title,
            price=Decimal(price) * scale,
        )  # fmt: skip
        invoices.append(
            invoicing.invoice_issue(
                contract=contract,
                actor=advisor,
                issue_date=today - datetime.timedelta(days=days_ago - 1),
            )
        )
    _overdue, paid, partly, credited, _open = invoices
    invoicing.payment_record(
        invoice=paid, amount=paid.gross_total, actor=advisor,
        received_on=today - datetime.timedelta(days=20), note="Demo transfer",
    )  # fmt: skip
    invoicing.payment_record(
        invoice=partly, amount=(partly.gross_total / 2).quantize(Decimal("1")), actor=advisor,
        received_on=today - datetime.timedelta(days=5), note="Demo transfer",
    )  # fmt: skip
    invoicing.credit_note_issue(
        invoice=credited, actor=advisor, reason="One hour less than planned",
        net_amount=Decimal(100) * scale,
    )  # fmt: skip
