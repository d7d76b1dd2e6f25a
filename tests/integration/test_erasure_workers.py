"""Erasure sticks with the workers in processes of their own (issue #12, point 2).

The compose topology: the API here (it erases), ``trainledger relay``, ``trainledger project``
and ``trainledger intake`` as separate processes on the same store and a real broker.  Each
worker in turn is paused (SIGSTOP) with events of the athlete in flight, the athlete is
erased, the worker resumes (SIGCONT): nothing of the athlete comes back in any view table,
and nothing of theirs is published on the topic after the erasure.  Before the fix, workers
kept the athlete's key cached: the projection worker wrote the rows back (a goal title in
clear) and the relay published the athlete's events.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker
from support_workers import athlete_rows, dump, published_all, spawn, topic_keys, wait_until

from ingest import kafka_io
from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime, open_runtime
from services.workers import Workers

pytestmark = pytest.mark.kafka
MARKER = "OKAPI-5521-private-goal"
WORKERS = ("project", "relay", "intake")


@pytest.fixture
def kafka_settings(settings: Settings, kafka_broker: TansuBroker) -> Settings:
    return replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                   events_topic=f"test.events.{os.urandom(4).hex()}")


@pytest.fixture
def api(kafka_settings: Settings) -> Iterator[tuple[Runtime, TestClient]]:
    """The API process of the topology (``serve --api-only``: it feeds the directory)."""
    rt = open_runtime(kafka_settings)
    workers = Workers(rt, relay=False, views=[], intake=False).start()
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            yield rt, client
    finally:
        workers.stop()
        rt.close()


def log_training(client: TestClient, athlete_id: str, token: str, title: str) -> None:
    """A goal and a session with a set, both titled ``title``."""
    me = bearer(token)
    r = client.post(f"/athletes/{athlete_id}/goals", headers=me, json={
        "title": title, "metric": {"kind": "e1rm",
                                               "exercise_id": "squat.back_squats"},
        "direction": "increase", "target_value": 150, "unit": "kg"})
    assert r.status_code == 201, r.text
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": "2026-11-20T18:00:00Z", "title": title,
        "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100,
                  "performed_at": "2026-11-20T18:10:00Z"}]})
    assert r.status_code == 201, r.text


def import_request(client: TestClient, athlete_id: str, token: str) -> str:
    r = client.post(f"/athletes/{athlete_id}/imports", headers=bearer(token), json={
        "sessions": [{"started_at": "2026-11-18T18:00:00Z", "title": MARKER,
                      "sets": [{"exercise_id": "squat.back_squats", "reps": 3,
                                "load": 90, "performed_at": "2026-11-18T18:05:00Z"}]}]})
    assert r.status_code == 202, r.text
    return str(r.json()["import_id"])


def test_paused_workers_do_not_bring_an_erased_athlete_back(
    api: tuple[Runtime, TestClient], kafka_settings: Settings, tmp_path: Path,
) -> None:
    rt, client = api
    bootstrap, topic = kafka_settings.kafka_bootstrap or "", kafka_settings.events_topic
    procs = {name: spawn(kafka_settings, name, log=tmp_path / f"{name}.log")
             for name in WORKERS}
    try:
        bystander, other_token = new_athlete(client, "Bystander")
        leavers = {name: new_athlete(client, f"Leaver {name}") for name in WORKERS}
        for athlete_id, token in leavers.values():  # every worker holds their keys now
            log_training(client, athlete_id, token, f"before {MARKER}")
        log_training(client, bystander, other_token, "bystander")
        wait_until(lambda: all(athlete_rows(rt, a)["tl_rm_sessions"] == 1
                               for a, _ in [*leavers.values(), (bystander, "")]),
                   timeout=120, what="the view to hold everyone's session")

        for round_, (name, (athlete_id, token)) in enumerate(leavers.items(), start=2):
            worker = procs[name]
            worker.send_signal(signal.SIGSTOP)
            try:
                # in flight at erasure time: stored, maybe published, not yet handled
                log_training(client, athlete_id, token, f"in flight {MARKER}")
                if name == "intake":
                    import_id = import_request(client, athlete_id, token)
                    wait_until(lambda i=import_id: rt.tables.query(
                        f"SELECT published FROM {rt.tables.name('tl_imports')} "
                        "WHERE import_id = %s", (i,))[0]["published"] == 1,
                        what="the import request on the intake topic")
                if name != "relay":
                    wait_until(lambda: published_all(rt), what="the relay to publish")
                r = client.delete(f"/athletes/{athlete_id}", headers=ADMIN)
                assert r.status_code == 200, r.text
                erased_at = kafka_io.end_offsets(bootstrap, topic)
            finally:
                worker.send_signal(signal.SIGCONT)
            # the bystander's next events pass through every worker after the erased ones
            log_training(client, bystander, other_token, f"bystander after {name}")
            wait_until(lambda: published_all(rt), what=f"the relay after {name} resumed")
            wait_until(lambda n=round_: athlete_rows(rt, bystander)["tl_rm_sessions"] == n,
                       timeout=120, what=f"the projection after {name} resumed")
            wait_until(lambda: not rt.imports.pending(), what="the intake queue to drain")
            rows = athlete_rows(rt, athlete_id)
            assert rows == dict.fromkeys(rows, 0), (name, {t: n for t, n in rows.items() if n})
            after = topic_keys(bootstrap, topic, since=erased_at)
            assert athlete_id.encode() not in after, f"{name}: published after the erasure"
            # the athlete stays gone, and the erasure itself is not undone elsewhere
            assert client.get(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 404

        assert MARKER not in dump(rt)
        for worker in procs.values():
            assert worker.poll() is None, "a worker died"
    finally:
        for worker in procs.values():
            worker.send_signal(signal.SIGCONT)
            worker.terminate()
        for worker in procs.values():
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
