"""The real service under concurrent clients, with faults: nothing acknowledged is lost.

Each test runs ``bench.load.run`` at a reduced size (4 clients, 6 s of load, the fault two
seconds in): the service in subprocesses (``trainledger serve``; with Kafka ``serve
--api-only`` plus ``relay`` and ``project`` workers), clients that retry refused writes with
the same Idempotency-Key, then the checks: every acknowledged set in the store and in the
``load`` view, nothing applied twice, every live view equal to its rebuild (``trainledger
replay``).  ``python -m bench.load --fault NAME`` runs the same scenarios at full size.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN, PG_URL
from kafka_broker import TansuBroker

from bench.load import Outcome, Size, report, run
from services.config import Settings

SMALL = Size(athletes=4, seconds=6.0, baseline_seconds=0.0, outage_s=2.0,
             worker_pause_s=0.5, drain_timeout_s=40.0, catch_up_timeout_s=40.0,
             ready_timeout_s=45.0)


def scenario(settings: Settings, tmp_path: Path, fault: str | None,
             broker: TansuBroker | None = None) -> Outcome:
    if broker is not None:
        settings = replace(settings, events_topic=f"test.events.{os.urandom(4).hex()}")
    outcome = run(settings, broker, fault, SMALL, tmp_path / "logs", say=print)
    report(outcome)  # shown by pytest when the test fails
    assert outcome.problems() == []
    assert outcome.acked > 0
    assert outcome.lost_in_store == 0
    assert outcome.store_sets == outcome.view_sets == outcome.acked
    assert outcome.resends > 0
    assert outcome.resend_mismatch == 0
    assert set(outcome.replay) == {"training"}
    assert set(outcome.replay.values()) == {"equal"}
    return outcome


@pytest.fixture
def pg_settings(pg_schema: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"{PG_URL}?schema={pg_schema}",
                    admin_token=ADMIN_TOKEN)


def test_concurrent_clients_lose_nothing(settings: Settings, tmp_path: Path) -> None:
    outcome = scenario(settings, tmp_path, None)
    assert outcome.load is not None
    assert not outcome.load.refused
    assert outcome.retried_keys == 0


@pytest.mark.parametrize("fault", ["service-term", "service-kill"])
def test_service_restarted_mid_load(settings: Settings, tmp_path: Path, fault: str) -> None:
    outcome = scenario(settings, tmp_path, fault)
    rep = outcome.fault_report
    assert rep is not None
    assert rep.lifted > rep.injected
    # the fault bit: clients were refused while the API was down, and retried the same key
    assert outcome.refused_in_fault > 0
    assert outcome.retried_keys > 0
    assert outcome.writes_back_s is not None
    assert outcome.view_back_s is not None


@pytest.mark.parametrize("kafka", [pytest.param(False, id="in-process"),
                                   pytest.param(True, id="kafka", marks=pytest.mark.kafka)])
def test_postgres_connections_dropped_mid_load(
    pg_settings: Settings, tmp_path: Path, request: pytest.FixtureRequest, kafka: bool
) -> None:
    broker = request.getfixturevalue("kafka_broker") if kafka else None
    outcome = scenario(pg_settings, tmp_path, "pg-drop", broker)
    rep = outcome.fault_report
    assert rep is not None
    assert " 0 backends" not in rep.detail
    assert outcome.view_back_s is not None


@pytest.mark.kafka
def test_broker_restarted_mid_load(settings: Settings, kafka_broker: TansuBroker,
                                   tmp_path: Path) -> None:
    outcome = scenario(settings, tmp_path, "broker-restart", kafka_broker)
    # the API does not need the broker to accept writes
    assert outcome.refused_in_fault == 0
    assert outcome.view_back_s is not None


@pytest.mark.kafka
def test_workers_killed_mid_load(settings: Settings, kafka_broker: TansuBroker,
                                 tmp_path: Path) -> None:
    outcome = scenario(settings, tmp_path, "worker-kill", kafka_broker)
    assert outcome.refused_in_fault == 0
    assert outcome.view_back_s is not None
