"""The trainledger command line.

  trainledger serve [--host H] [--port P] [--data-dir D]   run the API on embedded defaults
  trainledger serve --kafka HOST:PORT                      ... with relay and projections on Kafka
  trainledger relay [--kafka HOST:PORT]                    publish stored events to the topic
  trainledger project [NAME ...] [--kafka HOST:PORT]       feed views from the topic
  trainledger intake [--kafka HOST:PORT]                   apply import requests
  trainledger demo [--data-dir D]                          seed a 12-week demo history
  trainledger athletes add NAME [--timezone TZ] ...        create an athlete, print its token
  trainledger athletes list                                list athletes
  trainledger sessions [--athlete ID] [--limit N]          recent sessions of an athlete
  trainledger import PATH... [--athlete ID] [--json]       import FIT files, folders and
                                                           export archives (.zip)
  trainledger workouts WEEK_START --out DIR [--athlete ID] a week's plan as FIT workout files
  trainledger watch DIR [--athlete ID]                     import new FIT files as they appear
  trainledger replay [--view NAME] [--until DATE]          rebuild views, compare with live
  trainledger backup DEST | restore SRC                    everything, and back (re-erasing)
  trainledger erase ATHLETE_ID --yes                       the right to erasure
  trainledger dead-letters list|retry|drop                 events views parked (failed on)
  trainledger export [--athlete ID] [--out DIR] [--views NAME ...]
                                                           events.jsonl and one CSV per view
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from projections.sessions import session_tss
from services import cli_data, cli_dead_letters, cli_replay
from services.backup import BackupError
from services.config import ConfigError, Settings, masked_url
from services.domain.base import Context, Source
from services.domain.errors import DomainError
from services.runtime import Runtime, open_runtime


class CliError(Exception):
    """A user-facing failure: printed without a traceback, exit status 2."""


SQLITE_FILE = "trainledger.sqlite3"
POINT_ELSEWHERE = ("point to a store with --data-dir DIR, or TRAINLEDGER_DATA_DIR (SQLite) or "
                   "TRAINLEDGER_DATABASE_URL (PostgreSQL)")


def _runtime(args: argparse.Namespace) -> Runtime:
    return open_runtime(Settings.from_env(args.data_dir))


def _existing_runtime(args: argparse.Namespace) -> Runtime:
    """The store of a read command: never created by it (an empty one would answer with
    nothing, silently, from the wrong folder)."""
    settings = Settings.from_env(args.data_dir)
    if settings.database_url:
        if not _postgres_store_exists(settings):
            raise CliError(f"no trainledger store in PostgreSQL at "
                           f"{masked_url(settings.database_url)}: {POINT_ELSEWHERE}")
    else:
        db = settings.data_dir / SQLITE_FILE
        if not db.is_file():
            raise CliError(f"no trainledger store in {settings.data_dir.resolve()} (looked for "
                           f"{db.resolve()}): {POINT_ELSEWHERE}")
    return open_runtime(settings)


def _postgres_store_exists(settings: Settings) -> bool:
    import psycopg

    from services.config import postgres_env

    env = postgres_env(settings.database_url or "")
    try:
        with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                             port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                             password=env["POSTGRES_PASSWORD"] or None,
                             connect_timeout=5) as conn:
            row = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = "
                               "%s AND table_name = 'trainledger_events'",
                               (env["POSTGRES_SCHEMA"] or "public",)).fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"cannot reach PostgreSQL at {masked_url(settings.database_url or '')}:"
                       f" {first}") from None
    return row is not None


def _admin_ctx() -> Context:
    return Context(Source("admin", principal_id="cli"))


def resolve_athlete(rt: Runtime, athlete: str | None) -> str:
    """The athlete named by ``--athlete`` (an id, a unique prefix of one, or the exact name),
    or the only one on a single-athlete install."""
    rows = rt.directory.list("athlete", newest_first=False, limit=10_000)
    if athlete:
        found = ([r for r in rows if r["entity_id"] == athlete]
                 or [r for r in rows if str(r["entity_id"]).startswith(athlete.lower())]
                 or [r for r in rows if r["label"] == athlete])
        if len(found) == 1:
            return str(found[0]["entity_id"])
        if not found:
            raise CliError(f"no athlete {athlete!r} here (an id, a unique start of one, or the "
                           "exact name; `trainledger athletes list` shows them)")
        raise CliError(f"{athlete!r} matches {len(found)} athletes: "
                       + ", ".join(f"{r['entity_id']} ({r['label']})" for r in found[:5])
                       + "; give more of the id")
    if len(rows) == 1:
        return str(rows[0]["entity_id"])
    if not rows:
        raise CliError("no athlete yet: create one with `trainledger athletes add NAME`")
    raise CliError("several athletes here: say which with --athlete ID (or a unique start of "
                   "it, or the exact name)")


def progress_shown() -> bool:
    """Progress bars only on a terminal, never into pipes and logs."""
    return sys.stderr.isatty()


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    import uvicorn

    from services.api.app import create_app
    from services.workers import Workers

    settings = Settings.from_env(args.data_dir, kafka=args.kafka)
    if args.host not in (*settings.allowed_hosts, "0.0.0.0", "::"):  # noqa: S104
        settings = replace(settings, allowed_hosts=(*settings.allowed_hosts, args.host))
    rt = open_runtime(settings)
    _, where = settings.ensure_admin_token()
    store = (f"PostgreSQL ({masked_url(settings.database_url)})" if settings.database_url
             else f"SQLite in {settings.data_dir.resolve()}")
    delivery = (f"Kafka at {settings.kafka_bootstrap}, topic {settings.events_topic}"
                + (" (workers run separately)" if args.api_only
                   else " (relay, intake and projections in this process)")
                if settings.kafka_bootstrap else "in-process (no Kafka configured)")
    print(f"trainledger on http://{args.host}:{args.port}  (API docs: /docs)")
    print(f"event store: {store}")
    print(f"delivery:    {delivery}")
    print(f"hosts:       {', '.join(settings.allowed_hosts)}  (others get 400; "
          "TRAINLEDGER_ALLOWED_HOSTS)")
    print(f"admin token: {where}")
    sys.stdout.flush()
    api_only = bool(args.api_only and settings.kafka_bootstrap)
    workers = Workers(rt, relay=not api_only, views=[] if api_only else None,
                      intake=not api_only).start()
    try:
        # uvicorn shuts down gracefully on SIGTERM, then puts back the handler it found and
        # raises the signal again: Python's default one killed the process right there (exit
        # -15), before the workers were stopped and the store closed.  This one unwinds.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(create_app(rt), host=args.host, port=args.port, log_level="warning")
    finally:
        workers.stop()
        rt.close()
    return 0


def _run_workers(args: argparse.Namespace, relay: bool, views: list[str] | None,
                 intake: bool) -> int:
    import signal
    import threading

    from services.workers import Workers

    settings = Settings.from_env(args.data_dir, kafka=args.kafka)
    if not settings.kafka_bootstrap:
        raise CliError("no Kafka configured: pass --kafka HOST:PORT or set "
                       "TRAINLEDGER_KAFKA_BOOTSTRAP (without Kafka, `serve` feeds the views)")
    rt = open_runtime(settings)
    try:
        workers = Workers(rt, relay=relay, views=views, log_feed=False, intake=intake)
    except ValueError as exc:
        rt.close()
        raise CliError(str(exc)) from exc
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    what = ("relay" if relay else "intake" if intake
            else f"projections {', '.join(views or rt.views)}")
    print(f"trainledger {what} on {settings.kafka_bootstrap}, topic {settings.events_topic}",
          flush=True)
    workers.start()
    try:
        done.wait()
    finally:
        workers.stop()
        rt.close()
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    return _run_workers(args, relay=True, views=[], intake=False)


def cmd_project(args: argparse.Namespace) -> int:
    return _run_workers(args, relay=False, views=args.views or None, intake=False)


def cmd_intake(args: argparse.Namespace) -> int:
    return _run_workers(args, relay=False, views=[], intake=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from services.demo import seed_demo

    rt = _runtime(args)
    try:
        result = seed_demo(rt.app, progress=lambda line: print(
            f"  {line}", file=sys.stderr, flush=True) if progress_shown() else None)
        tokens = rt.tokens.list_for(result.athlete_id)
        verb = "seeded" if result.created else "already seeded; nothing duplicated for"
        print(f"demo {verb}: athlete {result.athlete_id}, {result.sessions} sessions")
        if not tokens:
            _, token = rt.tokens.issue("athlete", result.athlete_id, "demo")
            print(f"demo athlete's token: {token}")
        rt.feed.catch_up_all()
    finally:
        rt.close()
    return 0


PROFILE_FLAGS = ("sex", "birth_year", "max_hr", "resting_hr", "ftp_w", "timezone", "mass_unit",
                 "distance_unit", "first_day_of_week")


def cmd_athletes_add(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    try:
        profile: dict[str, Any] = {"name": args.name}
        profile.update({k: getattr(args, k) for k in PROFILE_FLAGS
                        if getattr(args, k) is not None})
        if args.body_mass is not None:
            from services.domain.validation import to_kg

            profile["body_mass_kg"] = to_kg(args.body_mass, args.mass_unit or "kg", "body_mass")
        athlete = rt.app.register_athlete(_admin_ctx(), profile)
        _token_id, token = rt.tokens.issue("athlete", str(athlete.id), "cli")
        print(f"athlete id: {athlete.id}")
        print(f"token:      {token}   (shown once; keep it safe)")
    finally:
        rt.close()
    return 0


def cmd_athletes_list(args: argparse.Namespace) -> int:
    rt = _existing_runtime(args)
    try:
        rows = rt.directory.list("athlete", newest_first=False, limit=10_000)
        print(f"{'id':36s}  name")
        for row in rows:
            print(f"{row['entity_id']}  {row['label']}")
    finally:
        rt.close()
    return 0


SESSIONS_ROW = "{:36s}  {:16s}  {:18s}  {:>8s}  {:>6s}  {:18s}  {}"


def cmd_sessions(args: argparse.Namespace) -> int:
    rt = _existing_runtime(args)
    try:
        athlete_id = resolve_athlete(rt, args.athlete)
        print(SESSIONS_ROW.format("id", "date", "sport", "duration", "TSS", "status", "title"))
        athlete = rt.app.athlete(athlete_id)
        for row in rt.directory.list("session", athlete_id, limit=args.limit):
            s = rt.app.session(row["entity_id"])
            tss, _ = session_tss(athlete, s)
            started = s.started_at.astimezone(ZoneInfo(s.timezone))
            minutes = "-" if s.duration_min is None else f"{s.duration_min:.0f} min"
            status = f"{s.status}, partial" if (s.device or {}).get("partial") else s.status
            print(SESSIONS_ROW.format(str(s.id), f"{started:%Y-%m-%d %H:%M}", s.sport[:18],
                                      minutes, "-" if tss is None else f"{tss:.0f}", status,
                                      s.title or ""))
    finally:
        rt.close()
    return 0


def cmd_workouts(args: argparse.Namespace) -> int:
    from datetime import date
    from pathlib import Path

    from services.domain.errors import NotFound
    from services.workouts import week_workouts, write_folder

    try:
        week = date.fromisoformat(args.week_start)
    except ValueError:
        raise CliError(f"WEEK_START {args.week_start!r} is not a date (YYYY-MM-DD)") from None
    rt = _existing_runtime(args)
    try:
        athlete_id = resolve_athlete(rt, args.athlete)
        try:
            files = week_workouts(rt.app, athlete_id, week)
        except NotFound:
            first = rt.app.athlete(athlete_id).profile["first_day_of_week"]
            raise CliError(f"no plan for the week of {week} (weeks start on {first}; "
                           "`GET /athletes/{id}/plans` lists the planned weeks)") from None
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise CliError(f"--out {out}: not a folder")
        for path in write_folder(files, out):
            print(path)
    finally:
        rt.close()
    print(f"{len(files)} workout files for the week of {week} in {out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import json
    import zipfile
    from pathlib import Path

    from ingest.fit.archive import is_archive
    from ingest.fit.batch import find_fit_files, import_archive, import_files

    rt = _runtime(args)
    try:
        athlete_id = resolve_athlete(rt, args.athlete)
        archives = [Path(p) for p in args.paths if is_archive(Path(p))]
        found = find_fit_files(Path(p) for p in args.paths if Path(p) not in archives)
        files = found.files
        if not files and not found.skipped and not archives:
            raise CliError("no FIT files found in " + ", ".join(args.paths))

        def progress(i: int, n: int, path: Path, result: Any) -> None:
            if args.json or not progress_shown():
                return
            bar = "#" * (30 * i // n)
            print(f"\r[{bar:<30}] {i}/{n} {result['status']:9s} {path.name[:40]:<40}",
                  end="" if i < n else "\n", file=sys.stderr, flush=True)

        def archive_progress(i: int, name: str, result: Any) -> None:
            if not args.json and progress_shown():
                print(f"\r{i:6d} entries  {result['status']:9s} {name[-50:]:<50}", end="",
                      file=sys.stderr, flush=True)

        source = Source("admin", principal_id="cli")
        results = found.skipped + import_files(rt, source, athlete_id, files,
                                               salvage=args.salvage, progress=progress,
                                               named=found.named)
        for archive in archives:
            try:
                results += import_archive(rt, source, athlete_id, archive, args.salvage,
                                          progress=archive_progress)
            except (zipfile.BadZipFile, OSError) as exc:
                results.append({"file": str(archive), "status": "rejected",
                                "reason": f"{archive}: not a readable zip archive ({exc})"})
            if not args.json and progress_shown():
                print(file=sys.stderr)
    finally:
        rt.close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        for r in results:
            if r["status"] in ("rejected", "skipped", "pending"):
                print(f"{r['status']:9s} {r.get('reason', r['file'])}")
            for note in r.get("notes", []):
                print(f"note      {r['file']}: {note}")
            for made in r.get("sessions", []):
                if made["status"] != "existing":
                    print(f"{made['status']:9s} session {made['session_id']} "
                          f"(load: {made['load_source']}) from {r['file']}")
        print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 1 if any(r["status"] in ("rejected", "pending") for r in results) else 0


def cmd_watch(args: argparse.Namespace) -> int:
    import signal
    import threading
    from pathlib import Path

    from ingest.fit.watch import FolderWatcher

    folder = Path(args.folder)
    rt = _runtime(args)
    try:
        athlete_id = resolve_athlete(rt, args.athlete)

        def report(result: dict[str, Any]) -> None:
            print(f"{result['status']:9s} {result.get('reason') or result['file']}", flush=True)

        watcher = FolderWatcher(rt, athlete_id, folder, report)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        print(f"watching {folder.resolve()} for FIT files (every {args.interval:g} s; "
              "Ctrl-C stops)", flush=True)
        watcher.run(stop, args.interval)
    finally:
        rt.close()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from services.domain.errors import NotFound
    from services.export import Exported, export_athlete

    rt = _existing_runtime(args)
    try:
        try:
            athlete_id = resolve_athlete(rt, args.athlete)
        except NotFound:
            raise CliError(f"no athlete {args.athlete!r} here "
                           "(`trainledger athletes list` shows them)") from None
        out = Path(args.out or f"trainledger-export-{athlete_id}")

        def progress(i: int, n: int, item: Exported) -> None:
            if not progress_shown():
                return
            what = "events" if item.path.suffix == ".jsonl" else "rows"
            print(f"\rexporting [{i}/{n}] {item.path.name} ({item.lines} {what})".ljust(60),
                  end="" if i < n else "\n", file=sys.stderr, flush=True)

        done = export_athlete(rt, athlete_id, out, args.views, progress)
    finally:
        rt.close()
    print(f"exported {done[0].lines} events and {len(done) - 1} views of athlete {athlete_id} "
          f"to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trainledger", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="data directory (default ./trainledger-data)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--data-dir", default=argparse.SUPPRESS)
    serve.add_argument("--kafka", metavar="HOST:PORT",
                       help="run relay and projections on this Kafka cluster, in this process")
    serve.add_argument("--api-only", action="store_true",
                       help="with Kafka: leave relay, intake and projections to their workers")
    serve.set_defaults(func=cmd_serve)

    relay = sub.add_parser("relay", help="publish stored events to the Kafka topic")
    relay.add_argument("--kafka", metavar="HOST:PORT")
    relay.add_argument("--data-dir", default=argparse.SUPPRESS)
    relay.set_defaults(func=cmd_relay)

    intake = sub.add_parser("intake", help="apply import requests from the intake topic")
    intake.add_argument("--kafka", metavar="HOST:PORT")
    intake.add_argument("--data-dir", default=argparse.SUPPRESS)
    intake.set_defaults(func=cmd_intake)

    project = sub.add_parser("project", help="feed views from the Kafka topic")
    project.add_argument("views", nargs="*", metavar="NAME", help="views (default: all)")
    project.add_argument("--kafka", metavar="HOST:PORT")
    project.add_argument("--data-dir", default=argparse.SUPPRESS)
    project.set_defaults(func=cmd_project)

    cli_replay.add_parser(sub, _runtime)
    cli_data.add_parsers(sub, _runtime)
    cli_dead_letters.add_parser(sub, _runtime)

    demo = sub.add_parser("demo", help="seed a realistic 12-week history (idempotent)")
    demo.add_argument("--data-dir", default=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    athletes = sub.add_parser("athletes", help="manage athletes")
    asub = athletes.add_subparsers(dest="action", required=True)
    add = asub.add_parser("add", help="create an athlete and print its token")
    add.add_argument("name", help="the athlete's name")
    add.add_argument("--sex", choices=("female", "male", "unspecified"), help="for HR zones")
    add.add_argument("--birth-year", type=int, help="e.g. 1990")
    add.add_argument("--body-mass", type=float, help="in --mass-unit (default kg)")
    add.add_argument("--max-hr", type=int, help="maximum heart rate, bpm")
    add.add_argument("--resting-hr", type=int, help="resting heart rate, bpm")
    add.add_argument("--ftp-w", type=int, help="functional threshold power (or CP), W")
    add.add_argument("--timezone", help="e.g. Europe/London (default UTC)")
    add.add_argument("--mass-unit", choices=("kg", "lb"), help="unit shown and entered")
    add.add_argument("--distance-unit", choices=("km", "mi"), help="unit shown and entered")
    add.add_argument("--first-day-of-week",
                     choices=("monday", "tuesday", "wednesday", "thursday", "friday",
                              "saturday", "sunday"), help="the day weeks start on")
    add.add_argument("--data-dir", default=argparse.SUPPRESS)
    add.set_defaults(func=cmd_athletes_add)
    lst = asub.add_parser("list", help="list athletes")
    lst.add_argument("--data-dir", default=argparse.SUPPRESS)
    lst.set_defaults(func=cmd_athletes_list)

    imp = sub.add_parser("import", help="import FIT files (files or folders, recursive) and "
                                        "Garmin Connect or Strava export archives (.zip)")
    imp.add_argument("paths", nargs="+", metavar="PATH",
                     help="FIT files, folders or export archives (.zip)")
    imp.add_argument("--athlete", help=ATHLETE_HELP)
    imp.add_argument("--json", action="store_true", help="per-file results as JSON")
    imp.add_argument("--salvage", action="store_true",
                     help="import the readable part of damaged files (CRC not checked)")
    imp.add_argument("--data-dir", default=argparse.SUPPRESS)
    imp.set_defaults(func=cmd_import)

    workouts = sub.add_parser("workouts", help="write a planned week as FIT workout files "
                                               "(one per planned session) for the watch")
    workouts.add_argument("week_start", metavar="WEEK_START",
                          help="the week's first day, YYYY-MM-DD")
    workouts.add_argument("--out", metavar="DIR", required=True, help="folder to write into")
    workouts.add_argument("--athlete", help=ATHLETE_HELP)
    workouts.add_argument("--data-dir", default=argparse.SUPPRESS)
    workouts.set_defaults(func=cmd_workouts)

    watch = sub.add_parser("watch", help="import FIT files as they appear in a folder")
    watch.add_argument("folder", metavar="DIR", help="the folder to watch")
    watch.add_argument("--athlete", help=ATHLETE_HELP)
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between scans")
    watch.add_argument("--data-dir", default=argparse.SUPPRESS)
    watch.set_defaults(func=cmd_watch)

    sessions = sub.add_parser("sessions", help="list an athlete's recent sessions")
    sessions.add_argument("--athlete", help=ATHLETE_HELP)
    sessions.add_argument("--limit", type=int, default=20,
                          help="how many, newest first (default 20)")
    sessions.add_argument("--data-dir", default=argparse.SUPPRESS)
    sessions.set_defaults(func=cmd_sessions)

    from projections.analytics import VIEWS

    export = sub.add_parser("export", help="export an athlete's events (JSON Lines) and views "
                                           "(CSV) into a folder")
    export.add_argument("--athlete", help=ATHLETE_HELP)
    export.add_argument("--out", metavar="DIR",
                        help="folder to write into (default ./trainledger-export-<athlete id>)")
    export.add_argument("--views", nargs="+", metavar="NAME", choices=list(VIEWS),
                        help=f"views to export (default all: {', '.join(VIEWS)})")
    export.add_argument("--data-dir", default=argparse.SUPPRESS)
    export.set_defaults(func=cmd_export)
    _fill_help(parser)
    return parser


ATHLETE_HELP = ("athlete id, a unique start of one, or the exact name (optional with a single "
                "athlete)")
COMMON_HELP = {
    "--data-dir": "data directory (default ./trainledger-data; or TRAINLEDGER_DATA_DIR)",
    "--kafka": "Kafka bootstrap server (or TRAINLEDGER_KAFKA_BOOTSTRAP)",
}


def _fill_help(parser: argparse.ArgumentParser) -> None:
    """The options every subcommand repeats get the same help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _fill_help(sub)
        elif action.help is None:
            for flag in action.option_strings:
                if flag in COMMON_HELP:
                    action.help = COMMON_HELP[flag]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, ConfigError, BackupError) as exc:
        print(f"trainledger: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        where = f"{exc.field}: " if exc.field else ""
        print(f"trainledger: {where}{exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`
        return 0


if __name__ == "__main__":
    # as ``python -m services.cli``: run the module under its own name, so that the
    # CliError the subcommands import from ``services.cli`` is the one main() catches
    from services import cli

    sys.exit(cli.main())
