"""Small FIT files made on the spot (no corpus): an activity with a file_id and a session."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from ingest.fit.fast import crc16

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
ENUM, UINT16, UINT32, UINT32Z = 0x00, 0x84, 0x86, 0x8C
FIELD_FORMAT = {ENUM: "B", UINT16: "H", UINT32: "I", UINT32Z: "I"}


def _fit_time(when: datetime) -> int:
    return int((when - FIT_EPOCH).total_seconds())


def _message(local: int, global_num: int, fields: list[tuple[int, int, int]]) -> bytes:
    """A definition record, then its data record: ``fields`` are (number, base type, value)."""
    definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    for number, base, _ in fields:
        definition += struct.pack("<BBB", number, struct.calcsize(FIELD_FORMAT[base]), base)
    data = struct.pack("<B" + "".join(FIELD_FORMAT[b] for _, b, _ in fields), local,
                       *(v for _, _, v in fields))
    return definition + data


def activity_fit(started_at: datetime, minutes: int = 30, serial: int = 123456,
                 sport: int = 1) -> bytes:
    """A valid activity file (sport 1: running) of one session starting at ``started_at``."""
    start = _fit_time(started_at)
    records = _message(0, 0, [(0, ENUM, 4), (1, UINT16, 1), (2, UINT16, 1),
                              (3, UINT32Z, serial), (4, UINT32, start)])
    records += _message(1, 18, [(253, UINT32, start + minutes * 60), (2, UINT32, start),
                                (7, UINT32, minutes * 60_000), (8, UINT32, minutes * 60_000),
                                (5, ENUM, sport)])
    header = struct.pack("<BBHI4s", 14, 0x10, 2100, len(records), b".FIT")
    header += struct.pack("<H", crc16(header))
    body = header + records
    return body + struct.pack("<H", crc16(body))
