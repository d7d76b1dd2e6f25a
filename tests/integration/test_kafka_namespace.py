"""Two deployments on one Kafka cluster: ``TRAINLEDGER_NAMESPACE`` keeps their topics and
consumer groups apart (RELIABILITY.md, Hardening II: Kafka names and the topic envelope)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN, bearer, new_athlete
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker
from support_topic import second_store
from support_workers import wait_until

from projections.read_model import SESSIONS
from services.api.app import create_app
from services.cli import main
from services.config import ConfigError, Settings
from services.runtime import Runtime, open_runtime
from services.workers import Workers

SESSION = {"started_at": "2026-11-20T18:00:00+00:00", "title": "Squat",
           "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100}]}


def from_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, bootstrap: str,
             namespace: str) -> Settings:
    """The settings a deployment gets from its environment."""
    monkeypatch.setenv("TRAINLEDGER_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("TRAINLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAINLEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("TRAINLEDGER_KAFKA_BOOTSTRAP", bootstrap)
    monkeypatch.setenv("TRAINLEDGER_NAMESPACE", namespace)
    return Settings.from_env()


def own_sessions(rt: Runtime) -> set[str]:
    rows = rt.tables.query(f"SELECT athlete_id FROM {rt.tables.name(SESSIONS)}")
    return {r["athlete_id"] for r in rows}


@pytest.fixture
def two_deployments(settings: Settings, kafka_broker: TansuBroker,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Runtime]]:
    """Deployments ``a`` and ``b``: a store each, one broker, every worker running."""
    with ExitStack() as stack:
        runtimes = []
        for name in ("a", "b"):
            store = stack.enter_context(second_store(settings, name))
            rt = open_runtime(from_env(monkeypatch, store, kafka_broker.bootstrap, name))
            stack.callback(rt.close)
            workers = Workers(rt).start()
            stack.callback(workers.stop)
            runtimes.append(rt)
        yield runtimes


@pytest.mark.kafka
def test_two_deployments_share_a_cluster(two_deployments: list[Runtime]) -> None:
    clients = [TestClient(create_app(rt)) for rt in two_deployments]
    athletes: list[set[str]] = [set(), set()]
    imports: list[list[tuple[str, str]]] = [[], []]
    for i, client in enumerate(clients):
        for n in range(3):  # several athletes: their keys spread over the partitions
            athlete_id, token = new_athlete(client, f"D{i}-{n}")
            athletes[i].add(athlete_id)
            r = client.post(f"/athletes/{athlete_id}/sessions", headers=bearer(token),
                            json={"started_at": "2026-11-24T10:00:00Z"})
            assert r.status_code == 201, r.text
            r = client.post(f"/athletes/{athlete_id}/imports", headers=bearer(token),
                            json={"sessions": [SESSION]})
            assert r.status_code == 202, r.text
            imports[i].append((r.json()["import_id"], token))
    for i, client in enumerate(clients):
        for import_id, token in imports[i]:
            r = client.get(f"/imports/{import_id}", params={"wait": 20},
                           headers=bearer(token))
            assert r.json()["status"] == "imported", (i, r.json())
    for i, rt in enumerate(two_deployments):
        wait_until(lambda rt=rt: rt.view_lag()["training"] == 0, what=f"deployment {i} views")
        assert own_sessions(rt) == athletes[i]
        rows = rt.tables.query(f"SELECT COUNT(*) AS n FROM {rt.tables.name(SESSIONS)}")
        assert rows[0]["n"] == 6  # its own three athletes' two sessions, nothing else
    a, b = (rt.settings for rt in two_deployments)
    assert (a.events_topic, a.intake_topic, a.projection_group) == (
        "a.events", "a.intake", "a.projection.")
    assert b.events_topic == "b.events"


def test_the_default_namespace_keeps_earlier_names(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.events_topic == "trainledger.events"
    assert settings.intake_topic == "trainledger.intake"  # and the intake workers' group
    assert settings.projection_group == "trainledger.projection."
    assert Settings(data_dir=tmp_path, namespace="a",
                    events_topic="legacy.events").events_topic == "legacy.events"


@pytest.mark.parametrize("namespace", ["two words", "a/b", "ä", "..", "x" * 201])
def test_a_namespace_kafka_cannot_use_is_refused(
    namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError, match="TRAINLEDGER_NAMESPACE"):
        Settings(data_dir=tmp_path, namespace=namespace)
    monkeypatch.setenv("TRAINLEDGER_NAMESPACE", namespace)
    assert main(["athletes", "list", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trainledger: TRAINLEDGER_NAMESPACE")
    assert "Traceback" not in err


def test_a_bad_events_topic_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRAINLEDGER_EVENTS_TOPIC"):
        Settings(data_dir=tmp_path, events_topic="events topic")
