"""The shared FIT sample corpus: where it is, and what MANIFEST.tsv says about each file.

The corpus lives outside the repo (``../shared/fit-samples`` from the repo root); set
``TRAINLEDGER_FIT_SAMPLES`` to use another folder. Under ``CI=true`` a missing corpus fails the
tests that need it; elsewhere they are skipped.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
ENV = "TRAINLEDGER_FIT_SAMPLES"


@dataclass(frozen=True)
class Sample:
    path: str  # relative to the corpus folder
    size: int  # bytes
    sport: str
    n_records: int
    parses_with_fitparse: str
    expected: str  # "valid" or "corrupt"

    @property
    def valid(self) -> bool:
        return self.expected == "valid"

    def read(self) -> bytes:
        return (corpus_dir() / self.path).read_bytes()


def corpus_dir() -> Path:
    env = os.environ.get(ENV)
    return Path(env) if env else REPO / ".." / "shared" / "fit-samples"


@cache
def samples() -> tuple[Sample, ...]:
    """Every sample listed in MANIFEST.tsv; empty when the corpus is missing."""
    manifest = corpus_dir() / "MANIFEST.tsv"
    if not manifest.is_file():
        return ()
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return tuple(
        Sample(
            path=r["path"],
            size=int(r["bytes"]),
            sport=r["sport"],
            n_records=int(r["n_records"] or 0),
            parses_with_fitparse=r["parses_with_fitparse"],
            expected=r["expected"],
        )
        for r in rows
    )


def require_corpus() -> None:
    """Skip (or, under CI=true, fail) when the corpus is not there."""
    if samples():
        return
    msg = f"FIT sample corpus not found at {corpus_dir()} (set {ENV})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def valid_samples() -> list[Sample]:
    return [s for s in samples() if s.valid]


def corrupt_samples() -> list[Sample]:
    return [s for s in samples() if not s.valid]


def values_equal(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal, with floats compared at a relative tolerance (NaN equals NaN), element-wise in
    tuples; bool and int are kept apart."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=rel, abs_tol=0.0) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(values_equal(x, y, rel) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def row_differences(
    a: list[dict[str, Any]], b: list[dict[str, Any]], limit: int = 5
) -> tuple[int, list[str]]:
    """(number of values compared, up to ``limit`` descriptions of differences)."""
    diffs: list[str] = []
    if len(a) != len(b):
        diffs.append(f"{len(a)} rows != {len(b)} rows")
        return 0, diffs
    compared = 0
    for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
        if ra.keys() != rb.keys():
            diffs.append(f"row {i}: keys {sorted(ra.keys() ^ rb.keys())} differ")
        for k in ra.keys() & rb.keys():
            compared += 1
            if not values_equal(ra[k], rb[k]):
                diffs.append(f"row {i} {k}: {ra[k]!r} != {rb[k]!r}")
        if len(diffs) >= limit:
            break
    return compared, diffs[:limit]
