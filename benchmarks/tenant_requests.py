"""What routing each request to its entity's schema costs.

Requests the login page of two entities in turn (every request switches the schema and
hits the entity's own tables), against a baseline of the same page of one entity only.
Prints: RESULT tenant_requests baseline_rps=... alternating_rps=... ratio=...
(ratio = alternating / baseline; 1.0 means switching schemas costs nothing).
"""

from __future__ import annotations

import _harness

_harness.setup("be", "fr")

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

hosts = [f"be.{settings.BASE_HOST}", f"fr.{settings.BASE_HOST}"]
clients = [Client(HTTP_HOST=host) for host in hosts]
for client in clients:
    assert client.get("/accounts/login/").status_code == 200

baseline = _harness.measure(lambda: clients[0].get("/accounts/login/"))
turn = iter(range(10**12))
alternating = _harness.measure(lambda: clients[next(turn) % 2].get("/accounts/login/"))
_harness.result(
    "tenant_requests",
    baseline_rps=baseline,
    alternating_rps=alternating,
    ratio=alternating / baseline,
)
