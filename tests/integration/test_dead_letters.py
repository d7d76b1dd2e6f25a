"""An event a view can't take parks its athlete's events for that view; everyone else's
move on.  Reads say stale, /health lists it, ``trainledger dead-letters`` retries or drops
it, and a replay parks the same events (equal hashes).  (#12, critical point 1)"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN
from eventsourcing.utils import clear_topic_cache, register_topic
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker
from support_poison import FUTURE_TOPIC, POISONS, SET_LOGGED
from support_views import Athlete, squat

from ingest import kafka_io
from projections import dead_letters
from projections.base import release_parked
from projections.replay import replay
from services.api.app import create_app
from services.cli import main
from services.cli_replay import scratch_tables
from services.config import Settings
from services.domain.session import TrainingSession
from services.erasure import erase_athlete
from services.runtime import Runtime, open_runtime
from services.workers import Workers


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), raise_server_exceptions=False) as c:
        yield c


def days_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(n)


def sets_in_view(athlete: Athlete) -> int:
    return sum(s["sets"] for s in athlete.view("load")["sessions"])


def poisoned(client: TestClient, rt: Runtime, kind: str) -> tuple[Athlete, Athlete, str]:
    """Ada's first session gets a poison event; then Ada logs a second session and Bo
    logs one.  Returns (Ada, Bo, the id of Ada's poisoned session)."""
    ada, bo = Athlete(client), Athlete(client)
    first = ada.session(days_ago(3), [squat(100), squat(100)])["session_id"]
    POISONS[kind](rt, ada.id, first)
    rt.app.repository.cache = None  # nothing of the store held in memory: read it again
    ada.session(days_ago(2), [squat(105)])
    bo.session(days_ago(2), [squat(80), squat(80), squat(80)])
    return ada, bo, first


def health(client: TestClient) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/health", headers=ADMIN).json()
    return answer


@pytest.mark.parametrize("kind", sorted(POISONS))
def test_a_poison_event_holds_back_its_athlete_only(client: TestClient, rt: Runtime,
                                                     kind: str) -> None:
    ada, bo, first = poisoned(client, rt, kind)

    assert sets_in_view(bo) == 3  # the others move on
    assert "stale" not in bo.view("load")
    answer = ada.view("load")
    assert answer["stale"] is True
    assert answer["parked"] == 4  # the poison, and behind it the second session's 3 events
    assert sum(s["sets"] for s in answer["sessions"]) == 2  # what came before it stands

    audit = ada.view("load", as_of=datetime.now(UTC).isoformat())  # folds the history
    assert sum(s["sets"] for s in audit["sessions"]) == 3  # it stops at what it can't read

    shown = health(client)
    assert shown["parked"] == {"training": 4}
    assert shown["view_lag"]["training"] >= 4  # zero lag: every read reflects every event
    failed, *waiting = [p for p in shown["parked_events"] if p["athlete_id"] == ada.id]
    assert failed["aggregate_id"] == first
    assert failed["error"]
    assert [p["error"] for p in waiting] == [None] * 3


@pytest.mark.parametrize("kind", sorted(POISONS))
def test_a_replay_parks_the_same_events(client: TestClient, rt: Runtime, kind: str,
                                        tmp_path: Path) -> None:
    poisoned(client, rt, kind)
    rt.feed.catch_up_all()
    rt.feed.idle()  # the live read model has caught up, and settled everyone
    model = rt.views["training"]
    live = model.content_hash(rt.tables)
    scratch, target = scratch_tables(tmp_path / "replay")
    try:
        result = replay(rt.app, target, [model])[0]
        assert [(p.aggregate_id, p.version, p.error is None)
                for p in dead_letters.listing(target, "training")] == [
            (p.aggregate_id, p.version, p.error is None)
            for p in dead_letters.listing(rt.tables, "training")]
    finally:
        scratch.close()
    assert result.content_hash == live


def test_retry_applies_what_an_upgrade_can_read(client: TestClient, rt: Runtime) -> None:
    ada, _, _ = poisoned(client, rt, "unknown type")
    assert ada.view("load")["parked"] == 4
    model = rt.views["training"]

    assert release_parked(rt.tables, model, rt.app, ada.id) == (0, 4)  # still unknown
    register_topic(FUTURE_TOPIC, TrainingSession.SetLogged)
    try:  # this version learnt the type: it is a set
        assert release_parked(rt.tables, model, rt.app, ada.id) == (4, 0)
    finally:
        clear_topic_cache()
    answer = ada.view("load")
    assert "stale" not in answer
    assert sum(s["sets"] for s in answer["sessions"]) == 2 + 1  # a copy of the first set,
    # so it stands in for it; and the later session
    assert health(client)["view_lag"]["training"] == 0


def test_drop_skips_the_failed_event_and_releases_the_rest(
        settings: Settings, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            ada, _, _ = poisoned(client, rt, "unreadable")
            ada.view("load")
    finally:
        rt.close()
    if settings.database_url:
        monkeypatch.setenv("TRAINLEDGER_DATABASE_URL", settings.database_url)
    where = ["--data-dir", str(settings.data_dir)]
    capsys.readouterr()

    assert main(["dead-letters", "list", *where]) == 0
    listed = capsys.readouterr().out
    assert ada.id in listed
    assert "InvalidTag" in listed
    assert "waiting behind" in listed
    assert main(["dead-letters", "retry", *where]) == 1  # still unreadable
    assert "0 applied, 4 still parked" in capsys.readouterr().out
    assert main(["dead-letters", "drop", "--athlete", ada.id, *where]) == 2  # no --yes
    assert main(["dead-letters", "drop", "--athlete", ada.id, "--yes", *where]) == 0
    assert "1 dropped, 3 applied, 0 still parked" in capsys.readouterr().out
    assert main(["dead-letters", "list", *where]) == 0
    assert "no parked events" in capsys.readouterr().out

    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            ada.client = client
            answer = ada.view("load")
            assert "stale" not in answer
            assert sum(s["sets"] for s in answer["sessions"]) == 3
            assert health(client)["view_lag"]["training"] == 0
    finally:
        rt.close()


def test_erasure_forgets_parked_events(client: TestClient, rt: Runtime) -> None:
    ada, bo, _ = poisoned(client, rt, "unreadable")
    ada.view("load")
    report = erase_athlete(rt, ada.id)
    assert report.rows_deleted[dead_letters.TABLE] == 4
    assert dead_letters.listing(rt.tables) == []
    assert sets_in_view(bo) == 3


def test_a_set_logged_event_is_what_the_poison_copies() -> None:
    # guards the helpers: if the set event moved, the poisons would test nothing
    from eventsourcing.utils import resolve_topic
    assert resolve_topic(SET_LOGGED).__qualname__ == "TrainingSession.SetLogged"


@pytest.mark.kafka
def test_a_malformed_record_on_a_topic_stops_nothing(settings: Settings,
                                                     kafka_broker: TansuBroker) -> None:
    """Bytes that are no envelope on the events topic, and no request on the intake topic:
    both are parked as nobody's, and every view and import goes on."""
    settings = replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                       events_topic=f"test.events.{os.urandom(4).hex()}")
    rt = open_runtime(settings)
    workers = Workers(rt).start()
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            ada = Athlete(client)
            ada.session(days_ago(3), [squat(100)])
            producer = kafka_io.make_producer(kafka_broker.bootstrap)
            try:
                kafka_io.ensure_topic(kafka_broker.bootstrap, settings.intake_topic, 3)
                for topic in (settings.events_topic, settings.intake_topic):
                    for partition in range(3):  # whichever partition the athlete's are on
                        producer.send(topic, value=b"\x00not an envelope",
                                      partition=partition)
                producer.flush()
            finally:
                producer.close(timeout=5)
            ada.session(days_ago(2), [squat(105), squat(105)])
            r = client.post(f"/athletes/{ada.id}/imports", headers=ada.me, json={"sessions": [
                {"started_at": days_ago(1).isoformat(), "sets": [squat(110)],
                 "end": {"ended_at": (days_ago(1) + timedelta(hours=1)).isoformat()}}]})
            assert r.status_code == 202, r.text
            done = client.get(f"/imports/{r.json()['import_id']}", params={"wait": 30},
                              headers=ada.me).json()
            assert done["status"] == "imported", done
            deadline = time.monotonic() + 60
            while sets_in_view(ada) != 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert sets_in_view(ada) == 4
            assert "stale" not in ada.view("load")
    finally:
        workers.stop()
        rt.close()
    rt = open_runtime(settings)
    try:
        parked = dead_letters.listing(rt.tables)
    finally:
        rt.close()
    assert sorted(p.view for p in parked) == ["intake"] * 3 + ["training"] * 3
    assert {p.athlete_id for p in parked} == {dead_letters.NOBODY}
    assert all(p.error for p in parked)


def test_a_read_before_the_kafka_feed_saw_the_athlete_folds_their_history(
        settings: Settings) -> None:
    """With Kafka, a read model behind may not hold a new athlete yet: the read folds the
    athlete's own history rather than answering 404 (no worker runs here at all)."""
    rt = open_runtime(replace(settings, kafka_bootstrap="127.0.0.1:9"))
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            ada = Athlete(client)
            ada.session(days_ago(1), [squat(100), squat(102)])
            answer = ada.view("load")
            assert answer["served_from"] == "history"
            assert sum(s["sets"] for s in answer["sessions"]) == 2
    finally:
        rt.close()
