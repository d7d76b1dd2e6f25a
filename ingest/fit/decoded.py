"""The decoded form of a FIT file, shared by every decoder backend.

Value rules (identical across backends; see README.md in this folder):

- Field names are those of the FIT profile bundled with fitdecode (SDK 21.171). Fields the
  profile does not know (``unknown_N``) are dropped.  Developer fields of one numeric value
  whose ``field_description`` names them are kept as ``developer:<field name>`` (raw value,
  no scale, as fitdecode gives them; after the message's own fields, the first of a name
  wins); arrays, strings and bytes are dropped.
- Numbers with a scale or offset in the profile are float64; other integers are ``int``.
- Invalid values are omitted from ``rows()``; in ``columns`` they are NaN (float columns)
  or None (object columns).
- Enums are the profile's value name when known, else the int. ``bool`` fields are bool.
- ``date_time`` / ``local_date_time`` fields: aware UTC ``datetime`` in rows, float64 seconds
  since the Unix epoch in columns (local times are reported as if they were UTC, as fitdecode
  does). A ``date_time`` below 0x10000000 is a count of seconds since the device powered on,
  not a date: rows hold it as ``int`` and columns as that number of seconds (a column value
  below 0x10000000 is such a count, anything above is a Unix time).
- ``localtime_into_day`` fields: ``datetime.time`` in rows, float64 seconds in columns.
- Arrays are tuples (None for invalid elements) in rows, object arrays of tuples in columns.
  An array whose elements are all invalid is a tuple of None (as fitdecode).
- Strings are ``str`` (cut at the first NUL; invalid UTF-8 replaced). Byte fields (and fields
  declared with a size that is not a multiple of their type's size) are tuples of ints, None
  when every byte is 0xFF.
- When several fields of one message share a name (a component and the field it expands to,
  e.g. ``speed`` -> ``enhanced_speed`` next to a native ``enhanced_speed``; the ten
  ``hr.event_timestamp`` of ``event_timestamp_12``), the first valid one in fitdecode's order
  wins.
- Subfields are resolved as fitdecode does (``file_id.product`` becomes ``garmin_product``
  when the manufacturer is Garmin, ...) and components are expanded (``record.timestamp``
  from compressed headers, ``speed`` -> ``enhanced_speed``, ``altitude`` ->
  ``enhanced_altitude``, ``compressed_speed_distance`` -> ``speed`` and ``distance``, ...).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

Backend = Literal["fast", "fitdecode", "fitparse"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
DEFAULT_BACKEND: Backend = "fast"
BACKEND_ENV = "TRAINLEDGER_FIT_BACKEND"

# Column kinds, in Table.kinds: how a column's values become row values.
#   "int"    float64 column (NaN = invalid), row value int (ints beyond 2**53: "object")
#   "float"  float64 column (NaN = invalid), row value float
#   "bool"   float64 column (NaN = invalid), row value bool
#   "time"   float64 seconds since the Unix epoch, row value aware UTC datetime
#            (or int for a relative date_time below 0x10000000, see above)
#   "tod"    float64 seconds into the day, row value datetime.time
#   "object" object column (None = invalid): str, bytes, enum name/int, tuple, big ints
Kind = Literal["int", "float", "bool", "time", "tod", "object"]

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
FIT_DATETIME_MIN = 0x10000000


class FitError(ValueError):
    """The bytes are not a (valid) FIT file.

    ``reason`` says what is wrong in words; ``offset`` is the byte offset where the problem was
    found, or None when it is about the file as a whole.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"{reason} (at byte {offset})")


def row_value(kind: Kind, value: Any) -> Any:
    """Turn one column element into its row value; None when invalid."""
    if kind == "object":
        return value
    v = float(value)
    if v != v:  # NaN
        return None
    if kind == "float":
        return v
    if kind == "int":
        return int(v)
    if kind == "bool":
        return bool(v)
    if kind == "time":
        if v < FIT_DATETIME_MIN:
            return int(v)  # seconds since the device powered on, not a date
        return dt.datetime.fromtimestamp(v, dt.UTC)
    # "tod"
    if v >= 86400:
        return dt.time.max
    m, s = divmod(int(v), 60)
    h, m = divmod(m, 60)
    return dt.time(h, m, s)


_MAX_EXACT = float(1 << 53)


def finish_column(kind: Kind, col: np.ndarray) -> tuple[Kind, np.ndarray]:
    """Normalise a column so that equal rows give equal kinds, whichever backend built it:
    ints too large for float64 become objects, a time column holding only relative
    date_times (below 0x10000000) becomes an int column."""
    if kind == "int":
        valid = col[~np.isnan(col)]
        if valid.size and np.abs(valid).max() >= _MAX_EXACT:
            obj = np.empty(len(col), dtype=object)
            obj[:] = [row_value("int", x) for x in col.tolist()]
            return "object", obj
    elif kind == "time":
        valid = col[~np.isnan(col)]
        if valid.size and valid.max() < FIT_DATETIME_MIN:
            return "int", col
    return kind, col


@dataclass
class Table:
    """All messages of one type, in file order."""

    name: str
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    kinds: dict[str, Kind] = field(default_factory=dict)
    length: int = 0

    def __len__(self) -> int:
        return self.length

    def rows(self) -> list[dict[str, Any]]:
        """The same data as one dict per message; absent and invalid fields are omitted."""
        out: list[dict[str, Any]] = [{} for _ in range(self.length)]
        for name, col in self.columns.items():
            kind = self.kinds[name]
            values = col.tolist()
            for row, value in zip(out, values, strict=True):
                if value is None:
                    continue
                v = row_value(kind, value)
                if v is not None:
                    row[name] = v
        return out


@dataclass
class DecodedFit:
    """A decoded FIT file (possibly several chained FIT files in one byte string)."""

    tables: dict[str, Table]
    segments: int
    file_size: int
    crc_ok: bool
    truncated: bool = False  # cut short: salvage decoded the complete records before the cut

    def table(self, name: str) -> Table:
        """The table of that message name; an empty Table if the file has none."""
        return self.tables.get(name) or Table(name)

    def first(self, name: str) -> dict[str, Any] | None:
        """The first message of that name as a row dict, or None."""
        t = self.tables.get(name)
        if t is None or len(t) == 0:
            return None
        head = Table(t.name, {k: c[:1] for k, c in t.columns.items()}, dict(t.kinds), 1)
        return head.rows()[0]


def unfinished_recording(data: bytes, salvaged: bool = False) -> FitError | None:
    """The fault of a file whose header gives a data size of 0 with records after it (a
    recording the device never finished: it fills the size in at the end), as an error
    naming it; None for any other file.  Every backend answers it alike, before decoding."""
    if len(data) < 12 or data[8:12] != b".FIT" or data[0] not in (12, 14):
        return None
    start = data[0]
    follow = len(data) - start
    if int.from_bytes(data[4:8], "little") or follow <= 2 \
            or data[start + 10 : start + 14] == b".FIT":  # an empty file, then a chained one
        return None
    what = (f"unfinished recording: the FIT header gives a data size of 0, yet {follow} "
            "bytes follow it")
    return FitError(what + ("; only the fast backend salvages it" if salvaged else
                            "; import it with --salvage (upload: salvage=true) to read its "
                            "complete records"), 4)


def resolve_backend(backend: str | None) -> Backend:
    """The backend to use: the argument, else $TRAINLEDGER_FIT_BACKEND, else "fast"."""
    name = backend if backend is not None else os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    for b in BACKENDS:
        if b == name:
            return b
    raise ValueError(f"unknown FIT backend {name!r}; expected one of {', '.join(BACKENDS)}")


def decode(
    data: bytes, backend: Backend | None = None, check_crc: bool = True, salvage: bool = False
) -> DecodedFit:
    """Decode FIT bytes (one file or several chained ones) into tables.

    ``backend`` None means $TRAINLEDGER_FIT_BACKEND, else "fast". With ``check_crc`` a CRC
    mismatch raises FitError; without it ``crc_ok`` tells. Any problem with the bytes raises
    FitError, whatever the backend.

    ``salvage``: a file whose data ends early (cut inside a record or a chained file's header,
    a header announcing more bytes than there are, the CRC missing or wrong) gives the messages
    of the complete records before the cut instead of raising, with ``truncated`` True and
    ``crc_ok`` False (a wrong CRC on complete data: ``crc_ok`` False, ``truncated`` False).
    Bytes that are not a FIT file (no FIT header) still raise. Only the fast backend salvages
    truncated data; fitdecode and fitparse take ``salvage`` as ``check_crc=False``.

    A header that gives a data size of 0 with records after it (an unfinished recording)
    raises the same reason from every backend (:func:`unfinished_recording`); with
    ``salvage`` the fast backend reads it to its last complete record (``truncated``).
    """
    name = resolve_backend(backend)
    if not salvage or name != "fast":
        fault = unfinished_recording(data, salvaged=salvage)
        if fault is not None:
            raise fault
    if name == "fast":
        from ingest.fit import fast

        return fast.decode_fast(bytes(data), check_crc=check_crc, salvage=salvage)
    from ingest.fit import backends

    check_crc = check_crc and not salvage
    if name == "fitdecode":
        return backends.decode_fitdecode(bytes(data), check_crc=check_crc)
    return backends.decode_fitparse(bytes(data), check_crc=check_crc)
