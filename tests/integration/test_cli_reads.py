"""The command line as a user meets it: read commands never create a store, athletes named
by an id prefix or their name, tables with headers, progress bars only on a terminal, and
help on every option, without markup."""

from __future__ import annotations

import argparse
from pathlib import Path

import psycopg
import pytest
from conftest import PG_URL
from support_cli import parsers, run_cli

from services.cli import build_parser
from services.config import Settings

READS = (["sessions"], ["athletes", "list"], ["export"], ["workouts", "2026-11-23", "--out", "w"])


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_read_command_never_creates_a_store(tmp_path: Path, command: list[str]) -> None:
    where = tmp_path / "elsewhere"
    done = run_cli(Settings(data_dir=where, admin_token="x"), *command, cwd=str(tmp_path))
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert str(where.resolve()) in done.stderr
    assert "--data-dir" in done.stderr
    assert "TRAINLEDGER_DATABASE_URL" in done.stderr
    assert not where.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_read_command_never_creates_a_postgres_store(pg_schema: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"{PG_URL}?schema={pg_schema}",
                        admin_token="x")
    done = run_cli(settings, "sessions")
    assert done.returncode == 2, done.stdout
    assert "no trainledger store in PostgreSQL" in done.stderr
    with psycopg.connect(PG_URL) as conn:
        assert conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                            "table_schema = %s", (pg_schema,)).fetchall() == []


def test_athletes_by_id_prefix_or_name_and_tables_with_headers(settings: Settings) -> None:
    ids = {}
    for name in ("Bo Berg", "Cy Cole"):
        added = run_cli(settings, "athletes", "add", name)
        assert added.returncode == 0, added.stderr
        ids[name] = added.stdout.split("athlete id:")[1].split()[0]
    listed = run_cli(settings, "athletes", "list").stdout.splitlines()
    assert listed[0].split() == ["id", "name"]

    for who in (ids["Bo Berg"], ids["Bo Berg"][:8], "Bo Berg"):
        done = run_cli(settings, "sessions", "--athlete", who)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["id", "date", "sport", "duration", "TSS", "status",
                                         "title"]
    for who, message in (("Bo", "no athlete 'Bo'"), ("", "several athletes")):
        done = run_cli(settings, "sessions", *(["--athlete", who] if who else []))
        assert done.returncode == 2
        assert message in done.stderr
        assert "Traceback" not in done.stderr


def test_sessions_lists_id_date_sport_duration_status_title(settings: Settings) -> None:
    demo = run_cli(settings, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "week" not in demo.stderr  # no progress lines into a pipe
    lines = run_cli(settings, "sessions", "--athlete", "Demo Athlete", "--limit", "3"
                    ).stdout.splitlines()
    assert lines[0].split() == ["id", "date", "sport", "duration", "TSS", "status",
                                         "title"]
    assert len(lines) == 4
    first = lines[1].split()
    assert len(first[0]) == 36  # the full id
    assert first[3] in ("strength_training", "walking")  # date and time take two
    assert first[4:8] == [first[4], "min", "-", "ended"]  # no power: no TSS


def test_every_option_has_help_without_markup() -> None:
    for name, parser in parsers(build_parser()):
        text = parser.format_help()
        assert "`" not in text, name
        assert "**" not in text, name
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}: no help"
