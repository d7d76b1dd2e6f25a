"""Salvage mode: the complete records of a FIT file whose data ends early, instead of an error.

- the truncated samples of the corpus (nick.fit and two small ones) give their records, equal to
  what fitdecode reads before it stops;
- valid samples cut at many offsets give, for every message type, exactly the messages whose
  record lies wholly before the cut, equal to the first rows of the full decode (which message
  is complete is read off fitdecode's raw chunks of the full file, not from our decoder);
- without salvage the same bytes raise FitError; bytes that are not FIT raise even with it.

Our fixture files (``fit_fixtures``) are cut the same way and stand in for the corpus where
it is absent: the truncated fixture for nick.fit, the corrupt one for a CRC mismatch.
"""

from __future__ import annotations

import io
import warnings
from functools import cache
from typing import Any

import fitdecode
import numpy as np
import pytest
from fit_fixtures import by_name, fixtures
from fit_samples import corpus_dir, require_corpus, row_differences, samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.fit import DecodedFit, FitError, decode
from ingest.fit.backends import _fitdecode_row, tables_from_rows
from ingest.fit.decoded import Table

NICK = "python-fitparse/nick.fit"  # 403 KB of cycling; the last record runs into the CRC
NICK_RECORDS = 14_391  # observed; MANIFEST.tsv says the same
SMALL_TRUNCATED = [
    "python-fitparse/activity-unexpected-eof.fit",  # data and CRC cut off
    "python-fitparse/activity-settings-nodata.fit",  # a second chained file cut off
]
# valid samples to cut: chained files, compressed timestamps, accumulated and hr fields, arrays
CUT_SOURCES = [
    "python-fitparse/activity-settings.fit",
    "python-fitparse/antfs-dump.63.fit",
    "python-fitparse/compressed-speed-distance.fit",
    "GoldenCheetah/2018-10-03-08-23-16.fit",
    "tormoder-fit/activity_poolswim_with_hr.fit",
    "python-fitparse/sample_mulitple_header.fit",
    "muktihari-fit/chained_Activity_activity_poolswim.fit",
]
# fixture files to cut, everywhere: compressed timestamps, big-endian laps, components,
# developer fields, chained files
FIXTURE_CUTS = ["run", "ride", "stryd", "chained", "strength", "monitoring"]
CUT_FRACTIONS = (0.02, 0.13, 0.31, 0.5, 0.77, 0.96)


@cache
def _read(path: str) -> bytes:
    """A corpus sample by path, or a fixture file by name."""
    if path in {f.name for f in fixtures()}:
        return by_name(path).data
    require_corpus()
    if not any(s.path == path for s in samples()):
        pytest.skip(f"{path} not in the corpus")
    return (corpus_dir() / path).read_bytes()


def _assert_prefix(got: Table, full: Table, what: str) -> None:
    """``got`` holds exactly the first len(got) rows of ``full``."""
    _, diffs = row_differences(full.rows()[: len(got)], got.rows())
    assert not diffs, f"{what}: {diffs}"


def _fitdecode_until_error(data: bytes) -> dict[str, Table]:
    """The tables of the messages fitdecode yields before it gives up on the damaged end."""
    named: list[tuple[str, dict[str, Any]]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.DISABLED)
        try:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    named.append(_fitdecode_row(frame))
        except fitdecode.FitError:
            pass
    return tables_from_rows(named)


# --- the truncated samples ---------------------------------------------------------------------


def test_nick_salvages_its_records() -> None:
    data = _read(NICK)
    with pytest.raises(FitError, match="crosses the end"):
        decode(data)
    fit = decode(data, salvage=True)
    assert fit.truncated
    assert not fit.crc_ok
    records = fit.table("record")
    assert len(records) >= NICK_RECORDS
    ts = records.columns["timestamp"]
    assert not np.isnan(ts).any()
    assert (np.diff(ts) >= 0).all()  # about one record a second, never backwards
    assert (np.diff(ts) > 0).mean() > 0.99
    assert ts[-1] - ts[0] > 4.5 * 3600  # 12:23:38 to 17:02:21
    assert records.columns["heart_rate"][~np.isnan(records.columns["heart_rate"])].size > 1000


@pytest.mark.parametrize("path", [NICK, *SMALL_TRUNCATED, "truncated"])
def test_salvage_equals_what_fitdecode_reads(path: str) -> None:
    data = _read(path)
    fit = decode(data, salvage=True)
    assert fit.truncated
    assert not fit.crc_ok
    ref = _fitdecode_until_error(data)
    assert ref["record"]
    assert len(fit.table("record")) >= len(ref["record"])
    for name, table in ref.items():
        got = fit.table(name)
        assert len(got) >= len(table), name
        head = Table(name, {k: c[: len(table)] for k, c in got.columns.items()}, got.kinds)
        head.length = len(table)
        _, diffs = row_differences(table.rows(), head.rows())
        assert not diffs, f"{path} {name}: {diffs}"


@pytest.mark.parametrize("path", [*SMALL_TRUNCATED, "truncated"])
def test_small_truncated_samples_without_salvage_raise(path: str) -> None:
    with pytest.raises(FitError, match="truncated"):
        decode(_read(path))


# --- valid samples cut short -------------------------------------------------------------------


@cache
def _full(path: str) -> DecodedFit:
    return decode(_read(path))


@cache
def _layout(path: str) -> tuple[list[tuple[int, str]], set[int]]:
    """From fitdecode's raw chunks of the whole file: (end offset, table name) of every data
    message, and the offsets where a chained file ends (after its CRC)."""
    ends: list[tuple[int, str]] = []
    boundaries: set[int] = set()
    names = {t.name for t in _full(path).tables.values()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for frame in fitdecode.FitReader(io.BytesIO(_read(path)), keep_raw_chunks=True):
            end = frame.chunk.offset + len(frame.chunk.bytes)
            if isinstance(frame, fitdecode.FitDataMessage):
                num = frame.def_mesg.global_mesg_num
                mt = frame.def_mesg.mesg_type
                name = mt.name if mt is not None else f"mesg_{num}"
                assert name in names
                ends.append((end, name))
            elif isinstance(frame, fitdecode.FitCRC):
                boundaries.add(end)
    return ends, boundaries


def _cuts(path: str) -> list[int]:
    size = len(_read(path))
    ends, _ = _layout(path)
    header = _read(path)[0]
    cuts = {int(size * f) for f in CUT_FRACTIONS}
    cuts |= {header, size - 1, size - 2, size - 3}  # no records at all; CRC cut off
    cuts |= {ends[len(ends) // 3][0], ends[len(ends) // 2][0] + 1}  # at and just past a record
    return sorted(c for c in cuts if header <= c < size)


def _check_cut(path: str, cut: int) -> None:
    data = _read(path)[:cut]
    ends, boundaries = _layout(path)
    complete: dict[str, int] = {}
    for end, name in ends:
        if end <= cut:
            complete[name] = complete.get(name, 0) + 1
    fit = decode(data, salvage=True)
    what = f"{path} cut at {cut}"
    assert fit.truncated is (cut not in boundaries), what
    assert fit.crc_ok is (cut in boundaries), what
    assert {n for n, t in fit.tables.items() if len(t)} == set(complete), what
    full = _full(path)
    for name, k in complete.items():
        got = fit.table(name)
        assert len(got) == k, f"{what}: {name} has {len(got)} rows, {k} complete"
        _assert_prefix(got, full.table(name), f"{what} {name}")
    if cut not in boundaries:
        with pytest.raises(FitError):
            decode(data)
        with pytest.raises(FitError):
            decode(data, check_crc=False)  # not a CRC problem: only salvage reads on


@pytest.mark.parametrize("path", [*CUT_SOURCES, *FIXTURE_CUTS])
def test_cut_valid_files_give_their_complete_records(path: str) -> None:
    for cut in _cuts(path):
        _check_cut(path, cut)


def test_cut_inside_the_first_header_raises() -> None:
    data = _read("run")
    for cut in (0, 5, 11, data[0] - 1):
        with pytest.raises(FitError):
            decode(data[:cut], salvage=True)


@pytest.mark.parametrize("path", ["muktihari-fit/chained_Activity_activity_poolswim.fit",
                                  "chained"])
def test_cut_inside_a_chained_header_keeps_the_first_file(path: str) -> None:
    _, boundaries = _layout(path)
    first_end = min(boundaries)
    for extra in (0, 1, 6, 12, 13):
        _check_cut(path, first_end + extra)


_FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_FUZZ
@given(which=st.sampled_from(FIXTURE_CUTS[:4]), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_any_cut_gives_the_complete_records(which: str, cut: float) -> None:
    data = _read(which)
    _check_cut(which, max(data[0], int(len(data) * cut)))


# --- what salvage does not change --------------------------------------------------------------


def test_not_fit_raises_even_with_salvage() -> None:
    valid = _read("run")
    not_fit = [
        b"",
        b"hello",
        b"x" * 100,
        np.random.default_rng(5).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        valid[:8] + b".FTI" + valid[12:],  # damaged signature
    ]
    for data in not_fit:
        for backend in ("fast", "fitdecode", "fitparse"):
            with pytest.raises(FitError):
                decode(data, backend=backend, salvage=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["python-fitparse/activity-filecrc.fit", "corrupt"])
def test_crc_mismatch_under_salvage_reads_everything(path: str) -> None:
    data = _read(path)
    with pytest.raises(FitError, match="CRC"):
        decode(data)
    fit = decode(data, salvage=True)
    assert not fit.truncated
    assert not fit.crc_ok
    unchecked = decode(data, check_crc=False)
    assert {n: len(t) for n, t in fit.tables.items()} == {
        n: len(t) for n, t in unchecked.tables.items()
    }
    for backend in ("fitdecode", "fitparse"):  # they take salvage as check_crc=False
        other = decode(data, backend=backend, salvage=True)
        assert not other.crc_ok
        assert not other.truncated


@pytest.mark.parametrize("path", [CUT_SOURCES[-1], "chained"])
def test_valid_file_under_salvage_is_unchanged(path: str) -> None:
    fit = decode(_read(path), salvage=True)
    assert fit.crc_ok
    assert not fit.truncated
    full = _full(path)
    assert fit.segments == full.segments == 2
    for name, table in full.tables.items():
        assert len(fit.table(name)) == len(table)
        _assert_prefix(fit.table(name), table, name)


@pytest.mark.parametrize("path", [SMALL_TRUNCATED[0], "truncated"])
def test_other_backends_do_not_salvage_truncation(path: str) -> None:
    data = _read(path)
    for backend in ("fitdecode", "fitparse"):
        with pytest.raises(FitError):
            decode(data, backend=backend, salvage=True)  # type: ignore[arg-type]
