"""The fixture files of ``fit_fixtures`` (our own encoder), checked by other decoders, then
used to test ours where the corpus is not needed:

- fitdecode (CRC checked) and fitparse read every valid fixture, with the messages it was
  built with; both refuse every damaged one;
- fast == fitdecode and fitparse == fitdecode, value for value;
- the quirks are really there (compressed timestamps, big-endian definitions, developer
  fields, components, redefined local numbers, a 12-byte header, chained files);
- damaged fixtures raise FitError from every backend (a zero-size header with the same
  reason from each); salvage reads the truncated and the zero-size ones up to their last
  complete record.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import fitdecode
import fitparse
import numpy as np
import pytest
from fit_fixtures import (
    NAMES,
    STRENGTH_SETS,
    Fixture,
    by_name,
    damaged_fixtures,
    fixtures,
    rmssd,
    rr_intervals,
    valid_fixtures,
)
from fit_samples import row_differences

from ingest.fit import DecodedFit, FitError, decode
from ingest.fit.encode import crc16

VALID = [f.name for f in valid_fixtures()]
DAMAGED = [f.name for f in damaged_fixtures()]


def _frames(data: bytes) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE,
                                     keep_raw_chunks=True)
        return list(reader)


def _fitdecode_counts(data: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for frame in _frames(data):
        if isinstance(frame, fitdecode.FitDataMessage):
            name = _name(frame.global_mesg_num)
            counts[name] = counts.get(name, 0) + 1
    return counts


def _name(mesg_num: int) -> str:
    """Both decoders' messages named alike (fitparse's profile is older than fitdecode's)."""
    return NAMES.get(mesg_num, f"unknown_{mesg_num}")


def _fitparse_counts(data: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in fitparse.FitFile(data, check_crc=True).get_messages():
        name = _name(message.mesg_num)
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_there_is_a_fixture_of_every_kind() -> None:
    kinds = {f.kind for f in fixtures()}
    assert kinds == {"valid", "truncated", "zero_size", "corrupt"}
    types = {f.file_type for f in valid_fixtures()}
    assert {"activity", "weight", "workout", "monitoring_b"} <= types
    assert len({f.data for f in fixtures()}) == len(fixtures())
    assert all(len(f.data) < 64_000 for f in fixtures())  # small: tests stay fast


def test_fixtures_are_deterministic() -> None:
    from fit_fixtures import BUILDERS

    for build in BUILDERS:
        assert build.__wrapped__().data == build().data  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", VALID)
def test_fitdecode_and_fitparse_read_every_valid_fixture(name: str) -> None:
    fixture = by_name(name)
    assert _fitdecode_counts(fixture.data) == fixture.counts
    assert _fitparse_counts(fixture.data) == fixture.counts


@pytest.mark.parametrize("name", DAMAGED)
def test_fitdecode_and_fitparse_refuse_every_damaged_fixture(name: str) -> None:
    data = by_name(name).data
    with pytest.raises(fitdecode.FitError):
        _frames(data)
    with pytest.raises(fitparse.utils.FitParseError):
        list(fitparse.FitFile(data, check_crc=True).get_messages())


def _assert_same(ref: DecodedFit, got: DecodedFit, what: str) -> None:
    assert got.tables.keys() == ref.tables.keys(), what
    assert got.segments == ref.segments, what
    for name, table in ref.tables.items():
        _, diffs = row_differences(table.rows(), got.table(name).rows())
        assert not diffs, f"{what} {name}: {diffs}"


@pytest.mark.parametrize("backend", ["fast", "fitparse"])
@pytest.mark.parametrize("name", VALID)
def test_every_backend_equals_fitdecode(name: str, backend: Any) -> None:
    data = by_name(name).data
    ref = decode(data, backend="fitdecode")
    assert ref.crc_ok
    _assert_same(ref, decode(data, backend=backend), f"{backend} {name}")


@pytest.mark.parametrize("backend", ["fast", "fitdecode", "fitparse"])
@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_fixtures_raise_fit_error(name: str, backend: Any) -> None:
    with pytest.raises(FitError) as info:
        decode(by_name(name).data, backend=backend)
    assert info.value.reason


def test_our_crc_is_fitdecodes() -> None:
    from fitdecode.utils import compute_crc

    rng = np.random.default_rng(3)
    for n in (1, 2, 17, 4096, 10_001):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc16(data) == compute_crc(data)


# --- the quirks are there ----------------------------------------------------------------------


def _definitions(data: bytes) -> list[Any]:
    return [f for f in _frames(data) if isinstance(f, fitdecode.FitDefinitionMessage)]


def test_the_run_carries_device_quirks() -> None:
    data = by_name("run").data
    frames = _frames(data)
    data_frames = [f for f in frames if isinstance(f, fitdecode.FitDataMessage)]
    assert sum(1 for f in data_frames if f.chunk.bytes[0] & 0x80) >= 90  # compressed headers
    assert any(d.endian == ">" for d in _definitions(data))  # the laps
    locals_seen: dict[int, set[int]] = {}
    for d in _definitions(data):
        locals_seen.setdefault(d.local_mesg_num, set()).add(d.global_mesg_num)
    assert any(len(g) > 1 for g in locals_seen.values())  # a local number redefined
    fit = decode(data)
    ts = fit.table("record").columns["timestamp"]
    assert (np.diff(ts) > 0).all()  # compressed timestamps resolved
    assert "power" not in fit.table("record").columns  # invalid sentinels throughout
    assert fit.first("device_info")["product_name"] == "Forerunner 965"  # NUL-padded
    assert "mesg_65281" in fit.tables  # an unknown message, kept by name
    session = fit.first("session")
    assert session is not None
    assert session["total_elapsed_time"] - session["total_timer_time"] == 60  # a pause
    assert fit.first("user_profile")["default_max_heart_rate"] == 188


def test_the_ride_resolves_its_components() -> None:
    data = by_name("ride").data
    assert data[0] == 12  # the old header, without its CRC
    fit = decode(data)
    records = fit.table("record")
    speed = records.columns["speed"]
    assert np.nanmin(speed) > 6.9
    assert np.nanmax(speed) < 9.1
    distance = records.columns["distance"]
    assert (np.diff(distance) > 0).all()  # accumulated across the 12-bit rollover
    assert distance[-1] > 4096 / 16
    cycles = records.columns["total_cycles"]
    assert (np.diff(cycles[np.isfinite(cycles)]) > 0).all()  # accumulated past 255
    assert np.nanmin(records.columns["enhanced_altitude"]) > 480
    # the summary comes first in the file
    order = [f.name for f in _frames(data) if isinstance(f, fitdecode.FitDataMessage)]
    assert order.index("session") < order.index("record")


def test_strength_sets_keep_candidates_and_the_unknown_category() -> None:
    rows = decode(by_name("strength").data).table("set").rows()
    active = [r for r in rows if r["set_type"] == "active"]
    assert [r["repetitions"] for r in active] == [s[2] for s in STRENGTH_SETS]
    assert active[0]["category"] == (21, 8)  # two candidates: enum arrays stay ints
    assert active[0]["category_subtype"] == (None, None)
    assert active[4]["category"] == "unknown"  # 65534, a one-element array, named
    assert active[5]["category"] == (0, 28, 8)
    assert [r["duration"] for r in rows if r["set_type"] == "rest"] == [
        s[5] for s in STRENGTH_SETS if s[5] is not None]


def test_hrv_and_developer_fields() -> None:
    fit = decode(by_name("hrv").data)
    times = [v for row in fit.table("hrv").rows() for v in row["time"] if v is not None]
    assert times == pytest.approx(rr_intervals())
    assert 15 < rmssd(rr_intervals()) < 80
    stryd = by_name("stryd").data
    dev = [f for f in _frames(stryd) if isinstance(f, fitdecode.FitDataMessage)
           and f.name == "record"]
    names = {fld.name for fld in dev[0].fields
             if isinstance(fld.field_def, fitdecode.types.DevFieldDefinition)}
    assert names == {"Power", "Form Power", "Leg Spring Stiffness"}
    assert 240 <= dev[0].get_value("Power") <= 290


def test_chained_files_are_two_segments() -> None:
    fixture: Fixture = by_name("chained")
    assert decode(fixture.data).segments == 2
    assert sum(1 for f in _frames(fixture.data) if isinstance(f, fitdecode.FitHeader)) == 2


# --- salvage -----------------------------------------------------------------------------------


def test_the_truncated_fixture_salvages_its_complete_records() -> None:
    data = by_name("truncated").data
    with pytest.raises(FitError, match="truncated"):
        decode(data)
    fit = decode(data, salvage=True)
    assert fit.truncated
    assert not fit.crc_ok
    assert len(fit.table("record")) == 300
    assert len(fit.table("lap")) == 2  # the third was cut
    assert len(fit.table("session")) == 0


def test_salvage_equals_what_fitdecode_reads_before_the_cut() -> None:
    data = by_name("truncated").data
    rows: dict[str, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for frame in fitdecode.FitReader(io.BytesIO(data),
                                             check_crc=fitdecode.CrcCheck.DISABLED):
                if isinstance(frame, fitdecode.FitDataMessage):
                    rows[frame.name] = rows.get(frame.name, 0) + 1
        except fitdecode.FitError:
            pass
    fit = decode(data, salvage=True)
    assert {n: len(t) for n, t in fit.tables.items() if len(t)} == {
        ("mesg_65281" if n == "unknown_65281" else n): c for n, c in rows.items()}


@pytest.mark.parametrize("name", VALID)
def test_cuts_of_valid_fixtures_only_raise_fit_error_or_salvage(name: str) -> None:
    data = by_name(name).data
    for cut in sorted({data[0], len(data) // 3, len(data) // 2 + 1, len(data) - 3}):
        with pytest.raises(FitError):
            decode(data[:cut])
        fit = decode(data[:cut], salvage=True)
        assert fit.truncated


@pytest.mark.parametrize("name", ["zero_size", "zero_size_ride"])
def test_a_zero_size_header_is_named_alike_by_every_backend(name: str) -> None:
    data = by_name(name).data
    reasons = set()
    for backend in ("fast", "fitdecode", "fitparse"):
        with pytest.raises(FitError) as info:
            decode(data, backend=backend)  # type: ignore[arg-type]
        reasons.add(str(info.value))
    assert len(reasons) == 1, reasons
    reason = reasons.pop()
    assert f"data size of 0, yet {len(data) - 14} bytes follow" in reason
    assert "--salvage" in reason


def test_a_zero_size_header_salvages_to_its_last_complete_record() -> None:
    fit = decode(by_name("zero_size").data, salvage=True)
    assert fit.truncated
    assert not fit.crc_ok
    whole = decode(by_name("run").data)  # the same recording, finished
    assert len(fit.table("record")) == len(whole.table("record")) == 300
    assert len(fit.table("lap")) == 3
    assert len(fit.table("session")) == 0
    cut = by_name("zero_size_ride").data
    assert len(decode(cut[:-3], salvage=True).table("record")) == 119  # last one cut
    for backend in ("fitdecode", "fitparse"):  # they do not salvage; they say so alike
        with pytest.raises(FitError, match="only the fast backend salvages it"):
            decode(cut, backend=backend, salvage=True)  # type: ignore[arg-type]


def test_an_empty_file_with_a_zero_size_header_is_not_unfinished() -> None:
    from ingest.fit.encode import FitWriter

    empty = FitWriter().finish()
    assert empty[4:8] == bytes(4)
    assert decode(empty).segments == 1
    assert decode(empty + by_name("run").data).segments == 2  # then a chained file


@pytest.mark.parametrize("backend", ["fast", "fitdecode", "fitparse"])
def test_every_backend_keeps_developer_fields(backend: Any) -> None:
    fit = decode(by_name("stryd").data, backend=backend)
    assert fit.first("session")["developer:CP"] == 290  # type: ignore[index]
    records = fit.table("record").rows()
    assert len(records) == 200
    assert {k for k in records[0] if k.startswith("developer:")} == {
        "developer:Power", "developer:Form Power", "developer:Leg Spring Stiffness"}
    assert [r["developer:Power"] for r in records[:3]] == [265, 266, 268]
    assert records[0]["developer:Leg Spring Stiffness"] == pytest.approx(9.5)
    assert not any(k.startswith("developer:") for k in fit.first("file_id") or {})
