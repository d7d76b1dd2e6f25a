"""Mutated FIT files, in small (``python -m bench.fuzz --fit N`` runs thousands): the real
samples (our fixture files when the corpus is absent) truncated, bit-flipped, with bytes
inserted or deleted, header fields corrupted, records swapped or duplicated, spliced; most
with the data size and CRCs put right again so that the decoder reads the damage instead of
stopping at a checksum (see bench/fuzz.py).

- decoding them (``ingest.fit.decode``, strict and salvaging) raises nothing but FitError, and
  planning them as the intake does (``importer.prepare``) raises nothing at all, each within a
  time limit (SIGALRM);
- uploading them answers 202 with a result per file, each imported / duplicate / skipped /
  rejected within the limit, and leaves no partial data: every event recorded comes from a
  file answered "imported", whose session is ended with one set per active set message.

A failure names the mutant (SEED/INDEX, sample, mutations): ``python -m bench.fuzz --fit-case
SEED/INDEX --max-size 64000`` makes it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from conftest import ADMIN
from fastapi.testclient import TestClient
from fit_fixtures import fixtures

from bench.fuzz import FINAL, check_decode, load_samples, mutants, upload_batch
from services.runtime import Runtime
from services.workers import Workers

SEED = 20261125
MAX_SIZE = 64_000  # samples up to 64 kB: 67 of the 113, decoding stays fast
TIMEOUT = 5.0  # seconds a file may take, decoding or in the intake


@pytest.fixture(scope="module")
def samples() -> list[tuple[str, bytes]]:
    """The corpus's samples up to MAX_SIZE, or without the corpus our fixture files."""
    return load_samples(MAX_SIZE) or [(f.filename, f.data) for f in fixtures()]


def test_decoding_mutants_raises_only_fit_error(samples: list[tuple[str, bytes]]) -> None:
    outcomes = []
    cases = list(mutants(SEED, 400, samples))
    for i, m in enumerate(cases):  # every fourth also on fitdecode (the fast one's reference)
        outcomes += check_decode(m, ("fast", "fitdecode") if i % 4 == 0 else ("fast",), TIMEOUT)
    failed = [o for o in outcomes if o.failed]
    assert not failed, "\n".join(
        f"{o.call} -> {o.result}: {o.mutant.describe()}\n{o.detail}" for o in failed[:5])
    results: dict[str, Counter[str]] = {}
    for o in outcomes:
        results.setdefault(o.call, Counter())[o.result] += 1
    # the mutants reach past the checks: a good share decode, strict and salvaging
    assert results["decode[fast,strict]"]["ok"] >= 40, results
    assert results["decode[fast,salvage]"]["ok"] >= 100, results
    assert results["prepare[strict]"]["planned"] >= 30, results


@pytest.fixture(scope="module")
def intake(runtime: Runtime) -> Iterator[None]:
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield
    workers.stop()


@pytest.mark.usefixtures("intake")
def test_uploaded_mutants_get_an_answer_each_and_leave_no_partial_data(
    client: TestClient, runtime: Runtime, samples: list[tuple[str, bytes]]
) -> None:
    cases = list(mutants(SEED, 200, samples, start=1000))
    outcomes = []
    for start in range(0, len(cases), 10):
        outcomes += upload_batch(client, runtime, ADMIN, cases[start:start + 10], TIMEOUT)
    bad = [o for o in outcomes if o.problems]
    assert not bad, "\n".join(
        f"{o.mutant.describe()} -> {o.status}: {'; '.join(o.problems)}" for o in bad[:5])
    statuses = Counter(o.status for o in outcomes)
    assert set(statuses) <= set(FINAL)
    assert statuses["imported"] >= 10, statuses
    assert statuses["rejected"] >= 100, statuses
    assert max(o.seconds for o in outcomes) < TIMEOUT
