"""The FIT decoder: three backends, one result, on every file of the shared corpus.

- fast == fitdecode, value for value, for every table of every valid sample;
- fitparse == fitdecode on every valid sample fitparse can read (it cannot read one: a COROS
  file declaring fields with sizes that are not a multiple of their type's size);
- every corrupt sample raises FitError from each backend;
- truncations and bit flips of real samples (of our fixture files without the corpus) raise
  nothing but FitError (hypothesis).

The fixture files are compared the same way in ``test_fit_fixtures.py``, everywhere.

fitdecode's results are computed once per session (it is the slow one) and shared.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from typing import Any

import numpy as np
import pytest
from fit_fixtures import by_name, valid_fixtures
from fit_samples import (
    Sample,
    corrupt_samples,
    require_corpus,
    row_differences,
    samples,
    valid_samples,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.fit import DecodedFit, FitError, Table, decode
from ingest.fit.decoded import BACKEND_ENV, resolve_backend
from ingest.fit.fast import crc16, decode_fast

# Files fitparse 1.2.0 cannot read, and why (checked below so the list stays true).
FITPARSE_CANNOT = {
    "python-fitparse/coros-pace-2-cycling-misaligned-fields.fit": "Invalid field size",
}

VALID = [s.path for s in valid_samples()]
CORRUPT = [s.path for s in corrupt_samples()]


def _sample(path: str) -> Sample:
    return next(s for s in samples() if s.path == path)


@cache
def _reference(path: str) -> DecodedFit:
    return decode(_sample(path).read(), backend="fitdecode")


def _assert_same(ref: DecodedFit, got: DecodedFit, what: str) -> int:
    assert got.tables.keys() == ref.tables.keys(), what
    assert got.segments == ref.segments, what
    assert got.file_size == ref.file_size, what
    compared = 0
    for name, table in ref.tables.items():
        other = got.table(name)
        assert len(other) == len(table), f"{what} {name}"
        n, diffs = row_differences(table.rows(), other.rows())
        assert not diffs, f"{what} {name}: {diffs}"
        compared += n
    return compared


@pytest.fixture
def corpus() -> None:
    require_corpus()


@pytest.mark.usefixtures("corpus")
def test_manifest_lists_the_corpus() -> None:
    assert len(VALID) == 106
    assert CORRUPT
    assert all(s.size == len(s.read()) for s in samples()[:5])


@pytest.mark.parametrize("path", VALID)
@pytest.mark.usefixtures("corpus")
def test_fast_equals_fitdecode(path: str) -> None:
    data = _sample(path).read()
    ref = _reference(path)
    got = decode(data, backend="fast")
    assert _assert_same(ref, got, f"fast {path}") > 0 or not ref.tables
    # columns agree with rows, whatever the backend
    for table in got.tables.values():
        for col in table.columns.values():
            assert len(col) == len(table)


@pytest.mark.parametrize("path", VALID)
@pytest.mark.usefixtures("corpus")
def test_fitparse_equals_fitdecode(path: str) -> None:
    data = _sample(path).read()
    if path in FITPARSE_CANNOT:
        with pytest.raises(FitError, match=FITPARSE_CANNOT[path]):
            decode(data, backend="fitparse")
        return
    _assert_same(_reference(path), decode(data, backend="fitparse"), f"fitparse {path}")


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("backend", ["fast", "fitdecode", "fitparse"])
@pytest.mark.parametrize("path", CORRUPT)
def test_corrupt_samples_raise_fit_error(path: str, backend: Any) -> None:
    with pytest.raises(FitError) as info:
        decode(_sample(path).read(), backend=backend)
    assert info.value.reason


@pytest.mark.usefixtures("corpus")
def test_crc_unchecked_is_reported() -> None:
    path = "python-fitparse/activity-filecrc.fit"
    if path not in CORRUPT:
        pytest.skip("sample missing")
    data = _sample(path).read()
    for backend in ("fast", "fitdecode", "fitparse"):
        got = decode(data, backend=backend, check_crc=False)
        assert got.crc_ok is False, backend
    with pytest.raises(FitError, match="CRC"):
        decode(data, backend="fast")


def test_crc16_matches_fitdecode() -> None:
    from fitdecode.utils import compute_crc

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 15, 16, 17, 63, 64, 65, 1000, 8191, 8192, 70001):  # short: < 64 bytes
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc16(data) == compute_crc(data)


def test_contract_helpers() -> None:
    data = by_name("run").data
    fit = decode(data)
    file_id = fit.first("file_id")
    assert file_id is not None
    assert isinstance(file_id["time_created"], dt.datetime)
    assert file_id["time_created"].tzinfo is dt.UTC
    assert fit.first("no_such_message") is None
    empty = fit.table("no_such_message")
    assert isinstance(empty, Table)
    assert len(empty) == 0
    assert empty.rows() == []
    records = fit.table("record")
    assert records.kinds["timestamp"] == "time"
    assert records.columns["timestamp"].dtype == np.float64
    assert fit.crc_ok
    assert fit.segments == 1
    assert fit.file_size == len(data)


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert resolve_backend(None) == "fast"
    monkeypatch.setenv(BACKEND_ENV, "fitdecode")
    assert resolve_backend(None) == "fitdecode"
    assert resolve_backend("fitparse") == "fitparse"
    monkeypatch.setenv(BACKEND_ENV, "nope")
    with pytest.raises(ValueError, match="unknown FIT backend"):
        resolve_backend(None)


def test_not_fit_at_all() -> None:
    for data in (b"", b"hello", b"x" * 100):
        for backend in ("fast", "fitdecode", "fitparse"):
            with pytest.raises(FitError):
                decode(data, backend=backend)


def test_a_bad_definition_is_named_at_its_own_offset_in_every_file() -> None:
    """What a definition's bytes say is cached for the process; where it is is not."""
    bad = bytes([0x40, 0, 0, 20, 0, 1, 3, 0, 2])  # record, local 0: field 3 of size 0
    good = bytes([0x41, 0, 0, 20, 0, 1, 3, 1, 2])  # record, local 1: field 3, one byte
    for records, offset in ((bad, 12), (good + bad, 21), (good + good + bad, 30)):
        header = bytes([12, 0x10, 0x54, 0x08]) + len(records).to_bytes(4, "little") + b".FIT"
        with pytest.raises(FitError, match="field 3 declared with size 0") as raised:
            decode_fast(header + records + b"\0\0")
        assert raised.value.offset == offset


# --- fuzzing: damage never escapes as anything but FitError ------------------------------------

_SMALL_VALID = sorted((s for s in valid_samples() if s.size <= 60_000), key=lambda s: s.size)
_FUZZ_SOURCES = [s.path for s in _SMALL_VALID[:: max(1, len(_SMALL_VALID) // 12)]] or [
    f.name for f in valid_fixtures()]


@cache
def _fuzz_bytes(path: str) -> bytes:
    return _sample(path).read() if samples() else by_name(path).data


def _decode_or_fit_error(data: bytes, backend: str) -> None:
    try:
        decode(data, backend=backend)  # type: ignore[arg-type]
    except FitError as exc:
        if not exc.reason:
            raise AssertionError("FitError without a reason") from exc


_FUZZ = settings(
    max_examples=int(os.environ.get("FIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_FUZZ
@given(
    which=st.integers(min_value=0),
    cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_truncations_only_raise_fit_error(which: int, cut: float) -> None:
    if not _FUZZ_SOURCES:
        pytest.skip("no small samples")
    data = _fuzz_bytes(_FUZZ_SOURCES[which % len(_FUZZ_SOURCES)])
    truncated = data[: int(len(data) * cut)]
    for backend in ("fast", "fitdecode"):
        # a cut between two chained files leaves a valid file: success or FitError, nothing else
        _decode_or_fit_error(truncated, backend)


@_FUZZ
@given(
    which=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), min_size=1, max_size=4),
    crc=st.booleans(),
)
def test_bit_flips_only_raise_fit_error(
    which: int, flips: list[tuple[float, int]], crc: bool
) -> None:
    if not _FUZZ_SOURCES:
        pytest.skip("no small samples")
    data = bytearray(_fuzz_bytes(_FUZZ_SOURCES[which % len(_FUZZ_SOURCES)]))
    for where, bit in flips:
        data[min(len(data) - 1, int(len(data) * where))] ^= 1 << bit
    try:
        got = decode_fast(bytes(data), check_crc=crc)
    except FitError as exc:
        if not exc.reason:
            raise AssertionError("FitError without a reason") from exc
    else:
        for table in got.tables.values():
            table.rows()
