"""Issuing invoices (numbering + ledger + UBL) and rendering their PDFs.

Issues 10,000 invoices for approved contracts through the daily issuing job
(``invoices_issue_due``: 100 invoices per durable commit), in two worker processes (the
machine's two cores), one per entity (numbers are allocated per entity, so entities issue in
parallel), and renders the UBL of each. Then renders 200 PDFs and, on the same HTML, bare
WeasyPrint: the ratio is what our PDF step adds to the rendering itself.

Last line: RESULT invoicing invoices_per_s=N pdf_ms=N pdf_ratio=N
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import time
from decimal import Decimal

import _harness

_harness.setup("be", "fr")

from django.db import connection, connections  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from invoicing.documents import pdf_html, pdf_render, ubl_render  # noqa: E402
from invoicing.models import Invoice  # noqa: E402
from invoicing.services import invoices_issue_due  # noqa: E402
from members import services as member_services  # noqa: E402
from members.models import Client, Contract, Member, WorkDay  # noqa: E402
from smart_coop.accounts.roles import Role  # noqa: E402
from smart_coop.accounts.services import user_create  # noqa: E402
from smart_coop.tenancy.models import Entity  # noqa: E402

INVOICES = int(os.environ.get("BENCH_INVOICES", "10000"))
PDFS = int(os.environ.get("BENCH_PDFS", "200"))
ENTITIES = ("be", "fr")
NATIONAL_IDS = {"be": "85073003328", "fr": "295109912611193"}
IBANS = {"be": "BE68539007547034", "fr": "FR1420041010050500013M02606"}


def prepare(code: str, count: int) -> list[int]:
    """A member, a client and ``count`` approved contracts (set-up: not measured)."""
    with schema_context(code):
        entity = Entity.objects.get(schema_name=code)
        user = user_create(email=f"bench@{code}.example", password=None, role=Role.MEMBER)
        member = member_services.member_onboard(
            user=user,
            data=member_services.MemberInput(
                national_id=NATIONAL_IDS[code], date_of_birth=datetime.date(1985, 7, 30),
                street="Rue 1", postal_code="1000", city="City", country=entity.country,
                iban=IBANS[code], sector="artist",
            ),
        )  # fmt: skip
        Member.objects.filter(pk=member.pk).update(state=Member.State.ACTIVE)
        client = Client.objects.create(
            name="Bench client", kind=Client.Kind.PUBLIC_BODY, country=entity.country,
            street="Street 2", postal_code="1000", city="City", email="billing@bench.example",
            language="fr",
        )  # fmt: skip
        day = member_services.entity_today(entity) + datetime.timedelta(days=30)
        contracts = Contract.objects.bulk_create(
            Contract(
                member=member, client=client, title=f"Bench work {i}", place="City",
                first_day=day, last_day=day, price=Decimal("1000.00") + i % 500,
                currency=entity.currency, vat_treatment="domestic",
                vat_rate=entity.rate("vat_standard", day), state=Contract.State.APPROVED,
            )
            for i in range(count)
        )  # fmt: skip
        WorkDay.objects.bulk_create(WorkDay(contract=c, day=day, hours=8) for c in contracts)
        return [contract.pk for contract in contracts]


def work_end() -> datetime.date:
    with schema_context("be"):
        return member_services.entity_today(
            Entity.objects.get(schema_name="be")
        ) + datetime.timedelta(days=30)


def issue(code: str, as_of: datetime.date, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The daily issuing job of one entity, then the UBL of every invoice it issued."""
    connections.close_all()  # a forked process opens its own connection
    entity = Entity.objects.get(schema_name=code)
    connection.set_tenant(entity)
    start = time.perf_counter()
    for invoice in invoices_issue_due(as_of=as_of):
        ubl_render(invoice)
    results.put(time.perf_counter() - start)
    connections.close_all()


def main() -> None:
    per_entity = INVOICES // len(ENTITIES)
    for code in ENTITIES:
        prepare(code, per_entity)
    as_of = work_end() + datetime.timedelta(days=1)  # the day after the work ended
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=issue, args=(code, as_of, results)) for code in ENTITIES]
    wall = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    wall = time.perf_counter() - wall
    if any(process.exitcode for process in processes):
        raise SystemExit("an issuing process failed")
    invoices_per_s = per_entity * len(ENTITIES) / wall

    with schema_context("be"):
        connection.set_tenant(Entity.objects.get(schema_name="be"))
        invoices = list(Invoice.objects.order_by("pk")[:20])
        htmls = [pdf_html(invoice) for invoice in invoices]
        from weasyprint import HTML

        for invoice in invoices[:3]:  # warm-up: fonts, templates
            pdf_render(invoice)
        start = time.perf_counter()
        for i in range(PDFS):
            pdf_render(invoices[i % len(invoices)])
        ours = (time.perf_counter() - start) / PDFS
        start = time.perf_counter()
        for i in range(PDFS):
            HTML(string=htmls[i % len(htmls)]).write_pdf()
        bare = (time.perf_counter() - start) / PDFS
    print(
        f"issued {per_entity * len(ENTITIES)} invoices in {wall:.1f} s on {len(ENTITIES)} processes"
    )
    _harness.result(
        "invoicing",
        invoices_per_s=invoices_per_s,
        pdf_ms=ours * 1000,
        pdf_ratio=ours / bare,
    )


if __name__ == "__main__":
    main()
