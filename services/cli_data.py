"""``trainledger backup | restore | erase``: the data-safety commands.

  trainledger backup DEST [--data-dir D]                   everything, into a new directory
  trainledger restore SRC [--data-dir D] [--erasures DIR]  into an empty store, then re-erase
  trainledger erase ATHLETE_ID --yes [--data-dir D]        the right to erasure
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.config import Settings
from services.runtime import Runtime, open_runtime


def cmd_backup(args: argparse.Namespace, runtime: Callable[[Any], Runtime]) -> int:
    from services.backup import backup

    rt = runtime(args)
    try:
        manifest = backup(rt, Path(args.dest))
    finally:
        rt.close()
    print(f"backed up {manifest['events']:,} events ({manifest['store']}) into {args.dest}")
    return 0


def cmd_restore(args: argparse.Namespace, runtime: Callable[[Any], Runtime]) -> int:
    from services.backup import restore

    report = restore(Path(args.src), Settings.from_env(args.data_dir),
                     tuple(Path(p) for p in args.erasures or ()))
    print(f"restored {report.events:,} events; erased again: {report.erased_again}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from services.cli import CliError
    from services.erasure import ErasureIncomplete, erase_athlete

    if not args.yes:
        raise CliError("erasure cannot be undone: add --yes to erase this athlete")
    # not finishing pending erasures at start: this one reports its own as finished
    rt = open_runtime(Settings.from_env(args.data_dir), finish_erasures=False)
    try:
        report = erase_athlete(rt, args.athlete_id)
    except ErasureIncomplete as exc:
        raise CliError(str(exc)) from exc
    finally:
        rt.close()
    print(json.dumps({"athlete_id": report.athlete_id, "rows_deleted": report.rows_deleted,
                      "artifacts_deleted": report.artifacts_deleted}))
    return 0


def add_parsers(sub: Any, runtime: Callable[[Any], Runtime]) -> None:
    b = sub.add_parser("backup", help="back up the store, views, keys and device files")
    b.add_argument("dest", help="a new directory to write the backup into")
    b.add_argument("--data-dir", default=argparse.SUPPRESS)
    b.set_defaults(func=lambda args: cmd_backup(args, runtime))
    r = sub.add_parser("restore", help="restore a backup into an empty store")
    r.add_argument("src", help="the backup directory")
    r.add_argument("--erasures", action="append", metavar="DIR",
                   help="a data directory whose erasures.log to apply too (repeatable); "
                        "the first with a key file (keys/kek) gives the keys")
    r.add_argument("--data-dir", default=argparse.SUPPRESS)
    r.set_defaults(func=lambda args: cmd_restore(args, runtime))
    e = sub.add_parser("erase", help="erase an athlete for good (right to erasure)")
    e.add_argument("athlete_id", help="the athlete's full id")
    e.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    e.add_argument("--data-dir", default=argparse.SUPPRESS)
    e.set_defaults(func=cmd_erase)
