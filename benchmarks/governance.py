"""A general assembly of 100,000 shareholders voting on 5 resolutions.

Set-up (not measured): 100,000 shareholders and their register lines by bulk creation (one
holder has 10 shares: one vote all the same), an assembly with 5 resolutions convened through
the service (the roll of 100,000 frozen at the record date; no convocation is sent) and opened.

Measured:

* ballots/s: ``ballot_cast`` (the service the portal calls: checks, locks, participation and
  5 ballots in one transaction) for a sample of voters (``BENCH_CAST``, default 10,000), in two
  worker processes (the machine's two cores), each with its own connection. The voters outside
  the sample get the same rows (participation, 5 ballots under a random receipt) by bulk
  insertion, so that the tally counts all 100,000 voters x 5 resolutions.
* tally_s: ``assembly_tally``, the one aggregate query that counts every resolution (best of 3;
  the first, colder, run is printed too). Target: at most 1 s.
* The close (tally, outcomes, published digest, ballots rewritten) is timed and printed.

Last line: RESULT governance voters=N resolutions=N ballots_per_s=N tally_s=N
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import time
import uuid

import _harness

_harness.setup("be")

from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from governance import services  # noqa: E402
from governance.models import (  # noqa: E402
    Assembly,
    Ballot,
    Participation,
    Resolution,
    RollEntry,
    ShareClass,
    Shareholder,
    ShareMovement,
)
from members.services import entity_today  # noqa: E402
from smart_coop.tenancy.models import Entity  # noqa: E402

VOTERS = int(os.environ.get("BENCH_VOTERS", "100000"))
CAST = min(int(os.environ.get("BENCH_CAST", "10000")), VOTERS)
RESOLUTIONS = 5
PROCESSES = 2
PICKS = ("for", "against", "abstain")


def prepare() -> int:
    """Shareholders, register lines, the assembly convened and open; returns its id."""
    entity = Entity.objects.get(schema_name="be")
    today = entity_today(entity)
    services.share_classes_default_create()
    share_class = ShareClass.objects.get(code="A")
    holders = Shareholder.objects.bulk_create(
        (
            Shareholder(
                name=f"Shareholder {i}", street="Rue de la Loi 16", postal_code="1000",
                city="Bruxelles", country="BE", email=f"holder{i}@bench.example",
            )
            for i in range(VOTERS)
        ),
        batch_size=5000,
    )  # fmt: skip
    ShareMovement.objects.bulk_create(
        (
            ShareMovement(
                shareholder=holder, share_class=share_class, kind="purchase",
                quantity=10 if i == 0 else 1, unit_value=share_class.nominal_value,
                amount=share_class.nominal_value * (10 if i == 0 else 1),
                currency=share_class.currency, occurred_on=today - datetime.timedelta(days=60),
            )
            for i, holder in enumerate(holders)
        ),
        batch_size=5000,
    )  # fmt: skip
    assembly = services.assembly_create(
        title="Benchmark assembly",
        starts_at=timezone.now() + datetime.timedelta(days=30),
        record_date=today - datetime.timedelta(days=1),
        agenda="Five resolutions",
        resolutions=[
            services.ResolutionInput(title=f"Resolution {n}", text="Text", majority=majority)
            for n, majority in zip(
                range(1, RESOLUTIONS + 1),
                ("simple", "simple", "two_thirds", "three_quarters", "simple"),
                strict=True,
            )
        ],
        actor=None,
    )
    with transaction.atomic():
        services.assembly_convene(assembly=assembly, actor=None)
        # The benchmark sends no convocation: nothing is enqueued at the commit.
        connection.run_on_commit = []
    services.assembly_open(assembly=assembly, actor=None)
    return assembly.pk


def cast(assembly_id: int, holder_ids: list[int], results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One worker: ``ballot_cast`` for each of ``holder_ids``; puts (count, seconds)."""
    connections.close_all()  # a forked process opens its own connection
    connection.set_tenant(Entity.objects.get(schema_name="be"))
    assembly = Assembly.objects.get(pk=assembly_id)
    resolutions = list(
        Resolution.objects.filter(assembly=assembly)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    holders = {h.pk: h for h in Shareholder.objects.filter(pk__in=holder_ids)}
    rng = random.Random(assembly_id)  # noqa: S311 - choices of a benchmark, not secrets
    start = time.perf_counter()
    for holder_id in holder_ids:
        services.ballot_cast(
            assembly=assembly,
            voter=holders[holder_id],
            choices={pk: rng.choice(PICKS) for pk in resolutions},
            actor=None,
        )
    results.put((len(holder_ids), time.perf_counter() - start))
    connections.close_all()


def fill_the_rest(assembly_id: int, sampled: set[int]) -> None:
    """The voters outside the sample: the rows ``ballot_cast`` writes, bulk-inserted."""
    resolutions = list(
        Resolution.objects.filter(assembly_id=assembly_id).values_list("pk", flat=True)
    )
    rng = random.Random(1)  # noqa: S311
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    entries = RollEntry.objects.filter(assembly_id=assembly_id).exclude(shareholder_id__in=sampled)
    batch_p: list[Participation] = []
    batch_b: list[Ballot] = []
    for entry_id, weight in entries.values_list("pk", "weight").iterator(chunk_size=5000):
        receipt = uuid.uuid4().hex[:19].upper()
        batch_p.append(Participation(assembly_id=assembly_id, voter_id=entry_id, hour=hour))
        batch_b.extend(
            Ballot(resolution_id=r, receipt=receipt, secret_hash="0" * 64,
                   choice=rng.choice(PICKS), weight=weight)
            for r in resolutions
        )  # fmt: skip
        if len(batch_p) >= 5000:
            Participation.objects.bulk_create(batch_p)
            Ballot.objects.bulk_create(batch_b)
            batch_p, batch_b = [], []
    Participation.objects.bulk_create(batch_p)
    Ballot.objects.bulk_create(batch_b)


def main() -> None:
    with schema_context("be"):
        set_up = time.perf_counter()
        assembly_id = prepare()
        holder_ids = list(
            RollEntry.objects.filter(assembly_id=assembly_id)
            .order_by("?")
            .values_list("shareholder_id", flat=True)[:CAST]
        )
        print(f"set-up: {VOTERS} shareholders on the roll in {time.perf_counter() - set_up:.1f} s")
    connections.close_all()

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [holder_ids[i::PROCESSES] for i in range(PROCESSES)]
    processes = [
        context.Process(target=cast, args=(assembly_id, share, results)) for share in shares
    ]
    wall = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    wall = time.perf_counter() - wall
    if any(process.exitcode for process in processes):
        raise SystemExit("a voting process failed")
    ballots_per_s = len(holder_ids) / wall
    print(
        f"ballot_cast: {len(holder_ids)} voters x {RESOLUTIONS} resolutions through the service"
        f" in {wall:.1f} s with {PROCESSES} processes ({ballots_per_s:.0f} ballots/s, a ballot"
        " being one voter's choices on every resolution)"
        + (f"; the other {VOTERS - len(holder_ids)} voters bulk-inserted" if CAST < VOTERS else "")
    )

    with schema_context("be"):
        connection.set_tenant(Entity.objects.get(schema_name="be"))
        fill_the_rest(assembly_id, set(holder_ids))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE governance_ballot")
        assembly = Assembly.objects.get(pk=assembly_id)
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            tally = services.assembly_tally(assembly=assembly)
            timings.append(time.perf_counter() - start)
        counted = {sum(votes.values()) for votes in tally.values()}
        if counted != {VOTERS} or len(tally) != RESOLUTIONS:
            raise SystemExit(f"the tally does not count every voter once: {counted}")
        runs = ", ".join(f"{t:.3f}" for t in timings)
        print(f"tally: {VOTERS * RESOLUTIONS} ballot rows, runs {runs} s")
        start = time.perf_counter()
        closed = services.assembly_close(assembly=assembly, actor=None)
        close_s = time.perf_counter() - start
        adopted = sum(1 for r in closed.resolutions.all() if r.adopted)
        print(f"close (tally, outcomes, digest, rewrite): {close_s:.1f} s; adopted {adopted}")

    _harness.result(
        "governance",
        voters=VOTERS,
        resolutions=RESOLUTIONS,
        ballots_per_s=round(ballots_per_s, 1),
        tally_s=round(min(timings), 3),
    )


if __name__ == "__main__":
    main()
