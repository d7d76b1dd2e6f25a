"""A rebuild split between processes writes the rows one process writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support_poison import unreadable
from support_views import Athlete, squat

from projections import dead_letters
from projections.replay import replay
from services.api.app import create_app
from services.cli_replay import in_parts, scratch_tables
from services.config import Settings
from services.runtime import Runtime, open_runtime


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    yield runtime
    runtime.close()


def test_a_rebuild_in_three_processes_equals_one_in_one(rt: Runtime, tmp_path: Path) -> None:
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        athletes = [Athlete(client) for _ in range(5)]
        start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
        for i, athlete in enumerate(athletes):
            for day in range(1, 15, 2 + i % 2):
                athlete.session(start - timedelta(days=day), [squat(80 + day + i)] * (1 + i))
        damaged = athletes[2].session(start - timedelta(days=20), [squat(60)])["session_id"]
    unreadable(rt, athletes[2].id, damaged)
    model = rt.views["training"]
    hashes, parked, processes = [], [], []
    for name, parallel in (("one", None), ("three", in_parts(rt.settings, 3))):
        scratch, target = scratch_tables(tmp_path / name)
        try:
            result = replay(rt.app, target, [model], parallel=parallel)[0]
            hashes.append(result.content_hash)
            processes.append(result.processes)
            parked.append(len(dead_letters.listing(target)))
        finally:
            scratch.close()
    assert processes == [1, 3]
    assert hashes[0] == hashes[1]
    assert parked == [1, 1]  # the damaged event, in either
