"""FIT import throughput: bare fitparse and fitdecode decoding, our fast decoder, and our full
import into SQLite, on the same files in the same run.

    python -m bench.fit_import [--corpus DIR] [--no-fitparse] [--limit N]

(a) ``fitparse``  and (b) ``fitdecode`` (CRC raised) read every message of every valid sample
    (a file fitparse cannot read is left out of its total);
(c) ``fast+crc``  decodes every message type to columns with the CRC checked;
(d) ``import``    is what ``trainledger import`` does per file: decode, plan, write the
    session, sets and observations as events into a fresh SQLite store and store the file as a
    compressed artifact (one athlete; a file repeating an activity is still decoded and
    answered ``duplicate``).
Ratios are against fitdecode.  Targets: fast >= 50x fitdecode; import >= 20x fitdecode.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

from bench.fit_decode import _corpus, _fast_crc, _fitdecode, _fitparse, _load, _run
from ingest.fit.importer import import_fit
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import open_runtime


def full_import(files: list[tuple[str, bytes, int]]) -> tuple[float, dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        rt = open_runtime(Settings(data_dir=Path(tmp), admin_token="bench"))
        try:
            athlete = str(rt.app.register_athlete(Context(Source("admin")), {"name": "B"}).id)
            statuses: dict[str, int] = {}
            t0 = time.perf_counter()
            for path, data, _ in files:
                result = import_fit(rt.app, rt.artifacts, Source("device"), athlete, data, path)
                statuses[result.status] = statuses.get(result.status, 0) + 1
            return time.perf_counter() - t0, statuses
        finally:
            rt.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--corpus", help="folder with MANIFEST.tsv")
    ap.add_argument("--no-fitparse", action="store_true", help="skip fitparse (the slowest)")
    ap.add_argument("--limit", type=int, help="only the first N valid files")
    args = ap.parse_args(argv)
    corpus = _corpus(args.corpus)
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"no FIT corpus at {corpus}", file=sys.stderr)
        return 2
    files = _load(corpus, args.limit)
    megabytes = sum(len(d) for _, d, _ in files) / 1e6
    records = sum(n for *_, n in files)
    print(f"{len(files)} valid files, {megabytes:.2f} MB, {records} records")
    slow = [("fitdecode", _fitdecode)] + ([] if args.no_fitparse else [("fitparse", _fitparse)])
    seconds: dict[str, float] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=len(slow)) as pool:
        futures = {name: pool.submit(_run, fn, files, 1) for name, fn in slow}
        for name, future in futures.items():
            per_file, failed = future.result()
            seconds[name] = sum(per_file.values())
            if failed:
                print(f"  {name} could not read: {', '.join(sorted(failed))}")
    _fast_crc(files[0][1])  # warm the profile tables
    seconds["fast+crc"] = sum(_run(_fast_crc, files, 3)[0].values())
    full_import(files[:3])  # warm the store code
    seconds["import"], statuses = full_import(files)
    base = seconds["fitdecode"]
    print(f"{'path':10s} {'MB/s':>8s} {'records/s':>11s} {'x fitdecode':>12s}")
    for name in ("fitparse", "fitdecode", "fast+crc", "import"):
        if name in seconds:
            s = seconds[name]
            print(f"{name:10s} {megabytes / s:8.2f} {records / s:11,.0f} {base / s:11.1f}x")
    print(f"import results: {statuses}")
    fast_ok = base / seconds["fast+crc"] >= 50
    import_ok = base / seconds["import"] >= 20
    print(f"targets: fast >= 50x {'met' if fast_ok else 'NOT MET'}; "
          f"import >= 20x {'met' if import_ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
