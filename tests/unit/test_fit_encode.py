"""The FIT writer (``ingest.fit.encode``): what it writes is read back by fitdecode with both
CRCs checked, byte layouts as the FIT protocol gives them, and misuse refused."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime

import fitdecode
import pytest

from ingest.fit.encode import (
    ENUM,
    FLOAT32,
    SINT32,
    STRING,
    UINT8,
    UINT16,
    UINT32,
    FitWriter,
    Raw,
    Str,
    crc16,
    fit_time,
    semicircles,
)

WHEN = datetime(2026, 5, 4, 6, 30, tzinfo=UTC)


def _messages(data: bytes) -> list[fitdecode.FitDataMessage]:
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        return [f for f in reader if isinstance(f, fitdecode.FitDataMessage)]


def test_header_and_crcs() -> None:
    w = FitWriter()
    w.message(0, 0, [(0, ENUM, 5), (4, UINT32, fit_time(WHEN))])
    data = w.finish()
    size, protocol, profile, data_size, magic, header_crc = struct.unpack("<BBHI4sH", data[:14])
    assert (size, protocol, profile, magic) == (14, 0x20, 2132, b".FIT")
    assert data_size == len(data) - 16
    assert header_crc == crc16(data[:12])
    assert crc16(data) == 0  # the file CRC closes the checksum
    [file_id] = _messages(data)
    assert file_id.get_value("type") == "workout"
    assert file_id.get_value("time_created") == WHEN


def test_values_arrays_strings_and_sentinels() -> None:
    w = FitWriter()
    w.message(0, 0, [(0, ENUM, 4)])
    w.message(1, 20, [(253, UINT32, fit_time(WHEN)), (0, SINT32, semicircles(-33.5)),
                      (3, UINT8, None), (13, UINT8, 20)], big_endian=True)
    w.message(2, 12, [(3, STRING, Str("Run", 16)), (0, ENUM, 1)])
    w.message(3, 78, [(0, UINT16, (812, None, 790))])
    w.message(4, 0xFF10, [(1, FLOAT32, 1.5), (2, UINT8, Raw(b"\x01\x02\x03"))])
    _, record, sport, hrv, unknown = _messages(w.finish())
    assert record.get_value("position_lat") == semicircles(-33.5)
    assert record.get_value("heart_rate") is None
    assert record.get_value("temperature") == 20
    assert sport.get_value("name") == "Run"
    assert hrv.get_value("time") == (0.812, None, 0.79)
    assert unknown.get_value(1) == 1.5
    assert unknown.get_value(2) == (1, 2, 3)


def test_a_new_layout_redefines_the_local_number_and_compressed_timestamps() -> None:
    w = FitWriter()
    t = fit_time(WHEN)
    w.message(0, 0, [(0, ENUM, 4)])
    w.message(0, 20, [(253, UINT32, t), (3, UINT8, 140)])  # local 0 again: redefined
    w.define(1, 20, [(3, 1, UINT8)])
    w.compressed(1, t + 7, [141])
    messages = _messages(w.finish())
    assert [m.name for m in messages] == ["file_id", "record", "record"]
    assert messages[2].get_value("timestamp") == datetime.fromtimestamp(
        WHEN.timestamp() + 7, UTC)
    with pytest.raises(ValueError, match="within 31 s"):
        w.compressed(1, t + 40, [142])
    with pytest.raises(ValueError, match="local 0-3"):
        FitWriter().compressed(0, t, [])


def test_unfinished_and_old_headers() -> None:
    w = FitWriter(protocol=0x10)
    w.message(0, 0, [(0, ENUM, 4)])
    unfinished = w.finish(data_size=0, file_crc=False)
    assert struct.unpack("<I", unfinished[4:8]) == (0,)
    assert len(unfinished) == 14 + len(w.body)
    old = w.finish(header_size=12)
    assert old[0] == 12
    assert [m.name for m in _messages(old)] == ["file_id"]
