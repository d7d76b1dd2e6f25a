"""``trainledger dead-letters``: the events views parked because they failed on them.

  trainledger dead-letters list  [--view NAME] [--athlete ID] [--json]
  trainledger dead-letters retry [--view NAME] [--athlete ID]    feed them to the view again
  trainledger dead-letters drop  --athlete ID [--view NAME] --yes  skip the failed event

A view that fails on an event parks it, and the athlete's later events wait behind it (other
athletes move on); the athlete's reads say ``stale``.  Fix the cause (an upgrade, a repaired
record), then ``retry``.  ``drop`` skips the failed event for good, with the events of the
same aggregate behind it (they can't apply without it), and retries the rest.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from projections import dead_letters
from projections.base import View, release_parked
from services.runtime import Runtime


def _views(rt: Runtime, name: str | None) -> list[View]:
    from services.cli import CliError

    views: dict[str, View] = {**rt.views, rt.directory.view.name: rt.directory.view}
    if name is None:
        return list(views.values())
    if name not in views:
        raise CliError(f"unknown view {name!r}; views: {', '.join(views)}")
    return [views[name]]


def cmd_list(args: argparse.Namespace, rt: Runtime) -> int:
    if args.view is not None:
        _views(rt, args.view)  # a known view
    rows = dead_letters.listing(rt.tables, args.view, args.athlete)
    if args.json:
        print(json.dumps([asdict(p) for p in rows], indent=2))
        return 0
    if not rows:
        print("no parked events")
        return 0
    print(f"{'view':10s} {'athlete':36s} {'event':44s} {'parked at':25s} error")
    for p in rows:
        event = f"{p.topic.rsplit(':', 1)[-1]} v{p.version}"
        print(f"{p.view:10s} {p.athlete_id or '(no athlete)':36s} {event[:44]:44s} "
              f"{p.parked_at:25s} {p.error or '(waiting behind the failed event)'}")
    return 0


def _athletes(rt: Runtime, view: View, athlete: str | None) -> list[str]:
    found = {p.athlete_id for p in dead_letters.listing(rt.tables, view.name, athlete)}
    return sorted(found - {dead_letters.NOBODY})


def cmd_retry(args: argparse.Namespace, rt: Runtime) -> int:
    stuck = 0
    for view in _views(rt, args.view):
        for athlete in _athletes(rt, view, args.athlete):
            applied, held = release_parked(rt.tables, view, rt.app, athlete)
            stuck += held
            print(f"{view.name} {athlete}: {applied} applied, {held} still parked")
    return 1 if stuck else 0


def cmd_drop(args: argparse.Namespace, rt: Runtime) -> int:
    from services.cli import CliError

    if not args.yes:
        raise CliError("dropping skips the failed event for good: add --yes")
    for view in _views(rt, args.view):
        with rt.tables.transaction() as tx:
            dropped = dead_letters.drop_failed(tx, view.name, args.athlete)
        if not dropped:
            continue
        applied, held = release_parked(rt.tables, view, rt.app, args.athlete)
        print(f"{view.name} {args.athlete}: {dropped} dropped, {applied} applied, "
              f"{held} still parked")
    return 0


def add_parser(sub: Any, runtime: Callable[[Any], Runtime]) -> None:
    def run(command: Callable[[argparse.Namespace, Runtime], int]) -> Callable[..., int]:
        def call(args: argparse.Namespace) -> int:
            rt = runtime(args)
            try:
                return command(args, rt)
            finally:
                rt.close()
        return call

    dl = sub.add_parser("dead-letters", help="events views parked: list, retry or drop them",
                        description=(__doc__ or "").replace("``", ""),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    dsub = dl.add_subparsers(dest="action", required=True)
    for action, command, text in (("list", cmd_list, "list parked events"),
                                  ("retry", cmd_retry, "feed parked events to the view again"),
                                  ("drop", cmd_drop, "skip an athlete's failed event")):
        p = dsub.add_parser(action, help=text)
        p.add_argument("--view", help="one view (default: every view)")
        p.add_argument("--athlete", required=action == "drop", metavar="ID",
                       help="one athlete's events")
        if action == "list":
            p.add_argument("--json", action="store_true", help="as JSON")
        if action == "drop":
            p.add_argument("--yes", action="store_true", help="confirm")
        p.add_argument("--data-dir", default=argparse.SUPPRESS)
        p.set_defaults(func=run(command))
