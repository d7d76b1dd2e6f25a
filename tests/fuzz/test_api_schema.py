"""Schemathesis over the app's own OpenAPI schema, in small: every operation, as the admin and
as an athlete, answers no 5xx, only status codes its schema documents, and bodies that match
the documented schema. ``python -m bench.fuzz --api`` runs the same with more examples.

One case in two has a control character (NUL, C0, C1, DEL, tab, LF, CR) put into every
string of its body and query, and every accepted write is followed by a read of every list
and view the seeded ids fill in.  Cases per operation and role come from three strategies
(see bench/fuzz.py): valid requests with random ids, valid requests aimed at a seeded
athlete's real ids, invalid requests. The intake worker runs, so uploads and imports are
decided while the cases run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import ADMIN
from fastapi.testclient import TestClient

from bench.fuzz import World, fuzz_api, seed_world
from services.runtime import Runtime
from services.workers import Workers

EXAMPLES = 6  # per operation and role: about 360 cases a role, 10-15 s on either store
SLOW = 5.0  # seconds: no request may take longer (a far-off as_of once took a minute)


@pytest.fixture(scope="module")
def world(runtime: Runtime, client: TestClient) -> Iterator[World]:
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield seed_world(client, ADMIN)
    workers.stop()


@pytest.mark.parametrize("role", ["admin", "athlete"])
def test_every_operation_answers_as_its_schema_says(client: TestClient, world: World,
                                                    role: str) -> None:
    report = fuzz_api(client.app, world, EXAMPLES, roles=[role], seed=0)
    assert len(report.per_operation) >= 60, sorted(report.per_operation)
    assert report.cases >= len(report.per_operation) * 3
    assert not report.notes, report.notes
    assert report.statuses[500] == 0
    # strings with NUL and other control characters were sent, and every list and view was
    # read back after each accepted write (how a stored NUL once broke them all)
    assert report.with_control >= 20, report.with_control
    assert report.read_backs >= 50, report.read_backs  # a few rounds of every list and view
    assert not report.failures, (
        f"{len(report.failures)} failures in {report.cases} cases:\n"
        + "\n".join(str(f) for f in report.unique_failures()))
    slowest = report.slowest[0]
    assert slowest[0] < SLOW, f"{slowest[0]:.1f} s: {slowest[1]} {slowest[2]}"
    # the seeded ids make some cases succeed, not only 4xx on random ids
    assert sum(n for status, n in report.statuses.items() if status < 300) >= 30, report.statuses
