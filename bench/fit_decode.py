"""FIT decoding throughput: bare fitparse, bare fitdecode and our fast path, over the corpus.

    python -m bench.fit_decode [--corpus DIR] [--repeat N] [--no-fitparse] [--limit N]

Every valid file of the shared sample corpus (``../shared/fit-samples``, or
``$TRAINLEDGER_FIT_SAMPLES``, or ``--corpus``) is decoded in the same run by:

``fitparse``      ``fitparse.FitFile(...)`` with its defaults (CRC checked), every message read
``fitdecode``     ``fitdecode.FitReader(..., check_crc=CrcCheck.RAISE)``, every frame read
``fast+crc``      ``ingest.fit.fast.decode_fast(data, check_crc=True)``: every message type
                  decoded to columns, CRC checked
``fast-nocrc``    the same without computing the CRC

Files are read into memory first; only decoding is timed. A file a library cannot read is
left out of that library's totals (and named). MB/s is bytes decoded / seconds, records/s
counts ``record`` messages (from MANIFEST.tsv). Ratios are against fitdecode on the same files.
Everything runs in one process, one after the other. To stay under two minutes, fitparse (the
slowest, ~0.1 MB/s) is timed on every 4th file by default (``--fitparse-every 1`` for all);
every ratio is against fitdecode's time on exactly the same files (times are kept per file).
The fast path keeps the best of ``--repeat`` passes per file; from the second pass on, the
per-layout plans it caches are warm (as in a process that imports many files; with the caches
cleared before every file it is ~10% slower).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _corpus(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("TRAINLEDGER_FIT_SAMPLES")
    return Path(env) if env else REPO / ".." / "shared" / "fit-samples"


def _load(corpus: Path, limit: int | None) -> list[tuple[str, bytes, int]]:
    with (corpus / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["expected"] == "valid"]
    if limit:
        rows = rows[:limit]
    return [(r["path"], (corpus / r["path"]).read_bytes(), int(r["n_records"] or 0)) for r in rows]


def _fitparse(data: bytes) -> None:
    import fitparse

    for _ in fitparse.FitFile(io.BytesIO(data)).get_messages():
        pass


def _fitdecode(data: bytes) -> None:
    import fitdecode

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE):
            pass


def _fast_crc(data: bytes) -> None:
    from ingest.fit.fast import decode_fast

    decode_fast(data, check_crc=True)


def _fast_nocrc(data: bytes) -> None:
    from ingest.fit.fast import decode_fast

    decode_fast(data, check_crc=False, compute_crc=False)


def _run(
    fn: Callable[[bytes], None], files: list[tuple[str, bytes, int]], repeat: int
) -> tuple[dict[str, float], set[str]]:
    """Seconds per file (best of ``repeat`` passes), and the files that failed."""
    failed: set[str] = set()
    best: dict[str, float] = {}
    for _ in range(repeat):
        for path, data, _n in files:
            if path in failed:
                continue
            t0 = time.perf_counter()
            try:
                fn(data)
            except Exception:  # a library that cannot read a file: left out of its totals
                failed.add(path)
                best.pop(path, None)
                continue
            secs = time.perf_counter() - t0
            best[path] = min(secs, best.get(path, secs))
    return best, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="folder with MANIFEST.tsv")
    ap.add_argument("--repeat", type=int, default=3, help="passes of the fast path (best)")
    ap.add_argument(
        "--fitparse-every",
        type=int,
        default=4,
        help="time fitparse on every Nth file only (1 = all; it is the slowest by far)",
    )
    ap.add_argument("--no-fitparse", action="store_true", help="skip fitparse")
    ap.add_argument("--limit", type=int, help="only the first N valid files")
    args = ap.parse_args(argv)
    corpus = _corpus(args.corpus)
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"no FIT corpus at {corpus}", file=sys.stderr)
        return 2
    files = _load(corpus, args.limit)
    warm: list[Callable[[bytes], None]] = [_fitdecode, _fast_crc, _fast_nocrc]
    for fn in warm:
        fn(files[0][1])
    paths: list[tuple[str, Callable[[bytes], None], list[tuple[str, bytes, int]], int]] = [
        ("fitdecode", _fitdecode, files, 1),
        ("fast+crc", _fast_crc, files, args.repeat),
        ("fast-nocrc", _fast_nocrc, files, args.repeat),
    ]
    if not args.no_fitparse:
        paths.insert(0, ("fitparse", _fitparse, files[:: max(1, args.fitparse_every)], 1))
    results = {name: (_run(fn, subset, rep), subset) for name, fn, subset, rep in paths}
    mb_all = sum(len(d) for _, d, _ in files) / 1e6
    print(f"{len(files)} valid files, {mb_all:.2f} MB, {sum(n for *_, n in files)} records")
    (fd_times, fd_failed), _ = results["fitdecode"]
    if fd_failed:
        print(f"fitdecode cannot read {sorted(fd_failed)}: left out of the ratios")
    print(
        f"{'backend':<11} {'files':>5} {'MB':>6} {'MB/s':>8} {'records/s':>10} "
        f"{'seconds':>8} {'x fitdecode':>11}"
    )
    for name, ((times, failed), subset) in results.items():
        ok = [(p, d, n) for p, d, n in subset if p in times]
        secs = sum(times.values())
        mb = sum(len(d) for _, d, _ in ok) / 1e6
        recs = sum(n for *_, n in ok)
        # ratio against fitdecode's time on exactly the same files
        same = [p for p, _, _ in ok if p in fd_times]
        ratio = sum(fd_times[p] for p in same) / sum(times[p] for p in same) if same else 0.0
        print(
            f"{name:<11} {len(ok):5d} {mb:6.2f} {mb / secs:8.2f} {recs / secs:10.0f} "
            f"{secs:8.2f} {ratio:10.1f}x"
        )
        for p in sorted(failed):
            print(f"  {name} cannot read {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
