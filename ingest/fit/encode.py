"""A small FIT writer of our own: header, definition and data messages, CRC.

It shares no code with the decoders (``fast.py``, ``backends.py``) so that files it writes
check them independently.  It knows the wire format and the base types, not the profile:
callers give global message numbers, field numbers and raw (already scaled) values.

```python
w = FitWriter()
w.message(0, 0, [(0, ENUM, 4), (4, UINT32, fit_time(start))])  # file_id: an activity
w.message(1, 20, [(253, UINT32, t), (3, UINT8, 142)])  # a record (HR 142)
w.define(2, 20, [(3, 1, UINT8)])  # a record layout without timestamp...
w.compressed(2, t + 1, [143])  # ...written with a compressed-timestamp header
data = w.finish()
```

What real devices write can be written too: local message numbers redefined mid-file (a new
layout on a local number redefines it), big-endian definitions, invalid sentinels (``None``),
arrays (tuples) and NUL-padded strings, any unknown message or field number, developer fields,
chained files (``b"".join`` of finished files), a 12-byte header without CRC, and an
unfinished recording's header that gives a data size of 0 and no file CRC.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class BaseType:
    """A FIT base type: its id byte, size, ``struct`` code and invalid value."""

    name: str
    code: int
    size: int
    fmt: str
    invalid: Any


ENUM = BaseType("enum", 0x00, 1, "B", 0xFF)
SINT8 = BaseType("sint8", 0x01, 1, "b", 0x7F)
UINT8 = BaseType("uint8", 0x02, 1, "B", 0xFF)
SINT16 = BaseType("sint16", 0x83, 2, "h", 0x7FFF)
UINT16 = BaseType("uint16", 0x84, 2, "H", 0xFFFF)
SINT32 = BaseType("sint32", 0x85, 4, "i", 0x7FFFFFFF)
UINT32 = BaseType("uint32", 0x86, 4, "I", 0xFFFFFFFF)
STRING = BaseType("string", 0x07, 1, "s", b"")
FLOAT32 = BaseType("float32", 0x88, 4, "f", 0xFFFFFFFF)
FLOAT64 = BaseType("float64", 0x89, 8, "d", 0xFFFFFFFFFFFFFFFF)
UINT8Z = BaseType("uint8z", 0x0A, 1, "B", 0)
UINT16Z = BaseType("uint16z", 0x8B, 2, "H", 0)
UINT32Z = BaseType("uint32z", 0x8C, 4, "I", 0)
BYTE = BaseType("byte", 0x0D, 1, "B", 0xFF)

#: (field number, base type, value); a value is an int/float, ``None`` (invalid), a tuple
#: (an array), ``str``/``bytes`` (a string; ``Str`` gives its padded size) or ``Raw``.
Field = tuple[int, BaseType, Any]
#: a developer field: (field number, base type, developer data index, value)
DevField = tuple[int, BaseType, int, Any]


@dataclass(frozen=True)
class Str:
    """A string written NUL-padded to ``size`` bytes (devices reserve fixed widths)."""

    text: str
    size: int


@dataclass(frozen=True)
class Raw:
    """Bytes written as they are, with the field's declared size ``len(data)``."""

    data: bytes


def fit_time(when: datetime) -> int:
    """Seconds since the FIT epoch (1989-12-31 UTC)."""
    return int((when - FIT_EPOCH).total_seconds())


def semicircles(degrees: float) -> int:
    return round(degrees * 2**31 / 180.0)


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC_TABLE = _crc_table()  # CRC-16/ARC by byte (also the fast decoder's)


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC (reflected polynomial 0xA001), the checksum FIT uses."""
    for byte in data:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def _size(base: BaseType, value: Any) -> int:
    if isinstance(value, Raw):
        return len(value.data)
    if isinstance(value, Str):
        return value.size
    if base is STRING:
        return len(value.encode() if isinstance(value, str) else value or b"") + 1
    return base.size * (len(value) if isinstance(value, tuple) else 1)


def _pack(base: BaseType, value: Any, size: int, order: str) -> bytes:
    if isinstance(value, Raw):
        return value.data
    if base is STRING:
        text = value.text if isinstance(value, Str) else value
        raw = text.encode() if isinstance(text, str) else (text or b"")
        return raw[:size].ljust(size, b"\0")
    items = value if isinstance(value, tuple) else (value,)
    out = b""
    for item in items:
        if item is None and base.fmt in "fd":
            out += base.invalid.to_bytes(base.size, "big")
        else:
            out += struct.pack(order + base.fmt, base.invalid if item is None else item)
    return out


@dataclass(frozen=True)
class _Layout:
    mesg_num: int
    fields: tuple[tuple[int, int, BaseType], ...]  # (number, size, base type)
    dev_fields: tuple[tuple[int, int, int, BaseType], ...]  # (number, size, dev index, type)
    big_endian: bool


class FitWriter:
    """Appends definition and data messages; ``finish`` adds the header and CRC."""

    def __init__(self, protocol: int = 0x20, profile: int = 2132) -> None:
        self.protocol = protocol
        self.profile = profile
        self.body = bytearray()
        self._layouts: dict[int, _Layout] = {}
        self._last_time: int | None = None

    def define(self, local: int, mesg_num: int, fields: Sequence[tuple[int, int, BaseType]],
               dev_fields: Sequence[tuple[int, int, int, BaseType]] = (), *,
               big_endian: bool = False) -> None:
        """A definition message: ``fields`` as (number, size, base type), ``dev_fields`` as
        (number, size, developer data index, base type)."""
        layout = _Layout(mesg_num, tuple(fields), tuple(dev_fields), big_endian)
        order = ">" if big_endian else "<"
        header = 0x40 | (0x20 if dev_fields else 0) | local
        out = struct.pack(order + "BBBHB", header, 0, int(big_endian), mesg_num, len(fields))
        out += b"".join(struct.pack("BBB", n, s, b.code) for n, s, b in fields)
        if dev_fields:
            out += struct.pack("B", len(dev_fields))
            out += b"".join(struct.pack("BBB", n, s, i) for n, s, i, _b in dev_fields)
        self.body += out
        self._layouts[local] = layout

    def message(self, local: int, mesg_num: int, fields: Sequence[Field],
                dev: Sequence[DevField] = (), *, big_endian: bool = False) -> None:
        """A data message, preceded by a definition when ``local`` holds another layout."""
        sizes = tuple((n, _size(b, v), b) for n, b, v in fields)
        dev_sizes = tuple((n, _size(b, v), i, b) for n, b, i, v in dev)
        wanted = _Layout(mesg_num, sizes, dev_sizes, big_endian)
        if self._layouts.get(local) != wanted:
            self.define(local, mesg_num, sizes, dev_sizes, big_endian=big_endian)
        self._data(local, local, fields, dev)
        for n, _b, v in fields:
            if n == 253 and isinstance(v, int):
                self._last_time = v

    def compressed(self, local: int, timestamp: int, values: Sequence[Any],
                   dev_values: Sequence[Any] = ()) -> None:
        """A data message with a compressed-timestamp header (local 0-3, within 31 s of the
        last full timestamp); ``values`` follow the layout already defined on ``local``."""
        if local > 3 or self._last_time is None:
            raise ValueError("a compressed timestamp needs local 0-3 and a full one before")
        if not 0 <= timestamp - self._last_time < 32:
            raise ValueError("a compressed timestamp must be within 31 s of the last one")
        layout = self._layouts[local]
        fields = [(n, b, v) for (n, _s, b), v in zip(layout.fields, values, strict=True)]
        dev = [(n, b, i, v) for (n, _s, i, b), v in zip(layout.dev_fields, dev_values,
                                                          strict=True)]
        self._data(local, 0x80 | (local << 5) | (timestamp & 0x1F), fields, dev)
        self._last_time = timestamp

    def _data(self, local: int, header: int, fields: Sequence[Field],
              dev: Sequence[DevField]) -> None:
        layout = self._layouts[local]
        order = ">" if layout.big_endian else "<"
        out = bytearray([header])
        for (_n, size, _b), (_num, base, value) in zip(layout.fields, fields, strict=True):
            out += _pack(base, value, size, order)
        for (_n, size, _i, _b), (_num, base, _idx, value) in zip(layout.dev_fields, dev,
                                                                strict=True):
            out += _pack(base, value, size, order)
        self.body += out

    def raw(self, data: bytes) -> None:
        """Bytes appended as they are (for damaged files)."""
        self.body += data

    def finish(self, *, header_size: int = 14, data_size: int | None = None,
               file_crc: bool = True) -> bytes:
        """The whole file.  ``data_size=0, file_crc=False`` is what a device writes while
        recording; ``header_size=12`` is the old header without its own CRC."""
        size = len(self.body) if data_size is None else data_size
        header = struct.pack("<BBHI4s", header_size, self.protocol, self.profile, size, b".FIT")
        if header_size == 14:
            header += struct.pack("<H", crc16(header))
        data = header + bytes(self.body)
        return data + struct.pack("<H", crc16(data)) if file_crc else data

