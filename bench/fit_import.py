"""FIT import throughput beside fitdecode in the same run: decode, and a 10-year archive
imported end to end.

    python -m bench.fit_import [--activities N] [--years Y] [--records MIN MAX] [--mix N]
                               [--sample N] [--statuses FILE] [--corpus DIR] [--no-corpus]
                               [--seed S]

1. **Decode**, each in a FRESH process (cold caches, as a CLI run or a worker's first file):
   ``fitdecode`` (``CrcCheck.RAISE``) and ``fast+crc`` (``ingest.fit.fast.decode_fast``, every
   message type to columns, CRC checked) read the same files once: a fixture mix of
   ``--mix`` runs of 50 KB-1 MB (``tests/fit_fixtures.py``: compressed timestamps, local
   numbers redefined, big-endian laps, invalid sentinels, NUL-padded strings, unknown
   messages and fields, summary last), then the corpus's valid files when present
   (``../shared/fit-samples``, ``$TRAINLEDGER_FIT_SAMPLES`` or ``--corpus``).
2. **10-year archive**: ``--activities`` runs over ``--years`` years (default 3000 over 10),
   re-timed and re-serialed from the fixtures (a new watch every two years; 7-36 KB each,
   ``--records`` for longer ones),
   in a Strava bulk export (``activities/*.fit.gz``, a few ``.gpx``) whose last 5 % are also
   in a nested Garmin part as other bytes (the same activities: answered ``duplicate`` by
   identity).  It is imported end to end as ``trainledger import EXPORT.zip`` does, into a
   fresh SQLite store, with the in-process view feed running as under ``trainledger serve``:
   every file's status is recorded (``--statuses FILE`` keeps each one), then the time until
   every view's lag is zero is given separately.
3. **Import rate against fitdecode**: the import's throughput over the whole archive (FIT
   bytes over the time until every file's status was recorded: reading the archive,
   decoding, planning, events, stored files, and every commit, which group commit shares
   among the files of a group) against fitdecode's, decoding a random ``--sample`` of the
   same files in a fresh process.

Targets: decode (fast+crc) >= 50x fitdecode, on the fixture mix and on the corpus; import >= 20x
fitdecode (the last line says which are met).  The machine is
shared: compare figures from runs made back to back.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import io
import json
import math
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.fit_decode import REPO, _corpus, _fast_crc, _fitdecode, _load

DECODERS = {"fitdecode": _fitdecode, "fast+crc": _fast_crc}
MODULES = {"fitdecode": "fitdecode", "fast+crc": "ingest.fit.fast"}  # imported untimed
# fast+crc against fitdecode on the fixture mix and on the corpus (when present); the import
TARGETS = {"fast+crc": 50.0, "fast+crc on the corpus": 50.0, "import": 20.0}


def fixtures() -> Any:
    """``tests/fit_fixtures.py`` (the tests' own FIT writer), importable from the bench."""
    if str(REPO / "tests") not in sys.path:
        sys.path.insert(0, str(REPO / "tests"))
    return importlib.import_module("fit_fixtures")


def fixture_mix(count: int, rng: random.Random) -> list[bytes]:
    """``count`` runs of 50 KB to 1 MB (log-uniform), each started a day apart."""
    ff = fixtures()
    sizes = [math.exp(rng.uniform(math.log(50_000), math.log(1_000_000))) for _ in range(count)]
    return [ff.activity(ff.START + timedelta(days=i), 3_800_000_000 + i, max(1, round(s / 24)))
            for i, s in enumerate(sizes)]


def decode_in_fresh_process(backend: str, folder: Path) -> dict[str, Any]:
    """Seconds ``backend`` takes to decode every file of ``folder`` once, in a new process."""
    argv = [sys.executable, "-m", "bench.fit_import", "--decode-child", backend, str(folder)]
    done = subprocess.run(argv, capture_output=True, text=True,  # noqa: S603 (our module)
                          check=True, cwd=REPO)
    return dict(json.loads(done.stdout))


def _decode_child(backend: str, folder: Path) -> int:
    files = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    importlib.import_module(MODULES[backend])  # as a CLI or worker has at its first file
    decode = DECODERS[backend]
    seconds, failed = 0.0, []
    for name, data in files:
        t0 = time.perf_counter()
        try:
            decode(data)
        except Exception:  # a file this library cannot read: left out, and named
            failed.append(name)
            continue
        seconds += time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "failed": failed,
                      "bytes": sum(len(d) for n, d in files if n not in failed)}))
    return 0


def compare_decoders(files: list[tuple[str, bytes]], what: str) -> dict[str, dict[str, Any]]:
    """Each decoder's run (seconds, bytes, failed) on ``files``, printed with its ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files:
            (Path(tmp) / name.replace("/", "_")).write_bytes(data)
        runs = {b: decode_in_fresh_process(b, Path(tmp)) for b in DECODERS}
    base = runs["fitdecode"]["seconds"]
    megabytes = sum(len(d) for _, d in files) / 1e6
    print(f"decode, {what}: {len(files)} files, {megabytes:.1f} MB, each backend in a fresh "
          "process")
    for name, run in runs.items():
        note = f"  (could not read {len(run['failed'])})" if run["failed"] else ""
        print(f"  {name:10s} {run['bytes'] / 1e6 / run['seconds']:8.2f} MB/s "
              f"{base / run['seconds']:8.1f}x fitdecode{note}")
    return runs


def ten_years(activities: int, years: int, rng: random.Random,
              records: tuple[int, int] = (300, 1500)) -> tuple[bytes, int]:
    """The archive's bytes and how many distinct activities it holds."""
    ff = fixtures()
    first = datetime(2016, 1, 4, 6, 30, tzinfo=UTC)
    # one watch records one activity at a time: at most one run a day (a run lasts up to
    # about two hours), at a random time of the morning or afternoon
    days = rng.sample(range(365 * years), min(activities, 365 * years))
    starts = sorted(first + timedelta(days=d, minutes=rng.randrange(0, 600)) for d in days)
    garmin: dict[str, bytes] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("activities.csv", "Activity ID,Activity Date\n")
        for i, start in enumerate(starts):
            serial = 3_700_000_000 + (start - first).days // 730  # a new watch every 2 years
            data = ff.activity(start.replace(microsecond=0), serial, rng.randint(*records))
            out.writestr(f"activities/{10_000 + i}.fit.gz", gzip.compress(data, 1, mtime=0))
            if i >= activities * 0.95:
                garmin[f"ada_{20_000 + i}.fit"] = ff.reexport(replace(ff.by_name("run"),
                                                                      data=data))
        for i in range(3):
            out.writestr(f"activities/{90_000 + i}.gpx", "<gpx/>")
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as part:
            for name, data in garmin.items():
                part.writestr(name, data)
        out.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip",
                     inner.getvalue())
    return buffer.getvalue(), len(starts)


def import_archive_end_to_end(archive: bytes, activities: int, sample: int,
                              rng: random.Random, statuses_to: Path | None = None) -> float:
    """Import the archive; print statuses, times and the view lag; returns the import's
    ratio to fitdecode on a random sample of its files."""
    from ingest.fit.archive import read_archive
    from ingest.fit.batch import archive_limits, import_archive
    from services.config import Settings
    from services.domain.base import Context, Source
    from services.runtime import open_runtime
    from services.workers import Workers

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.zip"
        path.write_bytes(archive)
        rt = open_runtime(Settings(data_dir=Path(tmp) / "store", admin_token="bench"))
        workers = Workers(rt, relay=False, intake=False).start()  # the view feed of `serve`
        try:
            athlete = str(rt.app.register_athlete(Context(Source("admin")), {"name": "B"}).id)
            t0, cpu0, thread0 = time.perf_counter(), time.process_time(), time.thread_time()
            results = import_archive(rt, Source("admin", principal_id="bench"), athlete, path)
            imported_s = time.perf_counter() - t0
            cpu_s, thread_s = time.process_time() - cpu0, time.thread_time() - thread0
            statuses: dict[str, int] = {}
            for r in results:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            t1 = time.perf_counter()
            behind = max(rt.view_lag().values(), default=0)
            while any(rt.view_lag().values()):
                time.sleep(0.05)
            settle_s = time.perf_counter() - t1
            sessions = len(rt.directory.list("session", athlete, limit=activities * 2))
            fits = {e.name: e.data for e in read_archive(path, archive_limits(rt.settings))
                    if e.status == "fit"}
        finally:
            workers.stop()
            rt.close()
    if statuses_to is not None:
        statuses_to.write_text(json.dumps(results, indent=1, default=str))
    megabytes = sum(len(d) for d in fits.values()) / 1e6
    print(f"archive: {len(archive) / 1e6:.1f} MB zipped, {len(results)} entries, "
          f"{megabytes:.1f} MB of FIT, {activities} activities")
    print(f"  every file's status recorded in {imported_s:.1f} s "
          f"({len(fits) / imported_s:.1f} files/s): {statuses}; sessions: {sessions}")
    print(f"  CPU: {thread_s:.1f} s in the importing thread, {cpu_s:.1f} s in the process (its "
          "threads: the view feed, file writers; not a decode-ahead worker process)")
    print(f"  then views at zero lag after {settle_s:.1f} s more (the most behind was "
          f"{behind} events; end to end {imported_s + settle_s:.1f} s)")
    picked = rng.sample(sorted(fits), min(sample, len(fits)))
    runs = compare_decoders([(n, fits[n]) for n in picked], f"random sample of {len(picked)}")
    fitdecode_mb_s = runs["fitdecode"]["bytes"] / 1e6 / runs["fitdecode"]["seconds"]
    ratio = megabytes / imported_s / fitdecode_mb_s
    print(f"  import     {megabytes / imported_s:8.2f} MB/s {ratio:8.1f}x fitdecode (the whole "
          "archive's FIT bytes over the import's time, commits included)")
    return float(ratio)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--activities", type=int, default=3000, help="in the archive (3000)")
    ap.add_argument("--years", type=int, default=10, help="the archive spans (10)")
    ap.add_argument("--mix", type=int, default=12, help="fixture files of 50 KB-1 MB (12)")
    ap.add_argument("--sample", type=int, default=50, help="random files for the import "
                                                          "ratio (50)")
    ap.add_argument("--records", type=int, nargs=2, default=(300, 1500), metavar=("MIN", "MAX"),
                    help="records per archived run, 24 bytes each (300 1500: 7-36 KB)")
    ap.add_argument("--statuses", type=Path, metavar="FILE",
                    help="write every archived file's import result here (JSON)")
    ap.add_argument("--corpus", help="folder with MANIFEST.tsv")
    ap.add_argument("--no-corpus", action="store_true", help="leave the corpus out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--decode-child", nargs=2, metavar=("BACKEND", "DIR"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.decode_child:
        return _decode_child(args.decode_child[0], Path(args.decode_child[1]))
    rng = random.Random(args.seed)
    runs = compare_decoders([(f"mix{i:03d}.fit", d) for i, d in
                             enumerate(fixture_mix(args.mix, rng))], "fixture mix")
    ratios = {name: runs["fitdecode"]["seconds"] / run["seconds"] for name, run in runs.items()}
    corpus = _corpus(args.corpus)
    if not args.no_corpus and (corpus / "MANIFEST.tsv").is_file():
        on_corpus = compare_decoders([(p, d) for p, d, _ in _load(corpus, None)],
                                     f"corpus {corpus}")
        ratios["fast+crc on the corpus"] = (on_corpus["fitdecode"]["seconds"]
                                            / on_corpus["fast+crc"]["seconds"])
    archive, activities = ten_years(args.activities, args.years, rng, tuple(args.records))
    ratios["import"] = import_archive_end_to_end(archive, activities, args.sample, rng,
                                                 args.statuses)
    verdicts = [f"{name} >= {target:g}x {'met' if ratios[name] >= target else 'NOT MET'} "
                f"({ratios[name]:.1f}x)" for name, target in TARGETS.items() if name in ratios]
    print("targets: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
