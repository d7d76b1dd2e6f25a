"""The fast FIT decoder: a Python walk over record headers, then NumPy per message layout.

How it works:

1. ``_walk`` steps over the records in Python, doing as little as possible per data message
   (one table lookup of its size by header byte, one list append; in a run of one repeated
   header, 16 records at a time). Definition messages are parsed there, each distinct one once
   per file (what its bytes say is cached for the process: files of one device repeat them);
   definitions with identical layouts (message number, byte order, fields, sizes, base types,
   developer bytes) are merged into one layout, so a file that redefines the same message
   hundreds of times still has a handful of layouts.
2. Message types with more than ``_SMALL`` messages are read with NumPy, a layout at a time:
   its messages' bytes are gathered into one (n, record size) matrix. The layout's plain
   numeric fields (no subfields, components or enum, and a name no other field of the layout
   gives) are rendered together as one (fields, n) float64 matrix: invalid values, scale,
   offset and dates in a few NumPy calls per base type. The other fields are rendered one by
   one. What a layout's plan is (``_plan``) depends on its fields only and is cached.
3. State that runs across messages is computed over the whole file with vectorised scans:
   compressed-header timestamps (the 5-bit offset counts from the last timestamp of any message,
   reset per chained file) and accumulated components (``compressed_speed_distance`` ->
   ``distance``, ``cycles`` -> ``total_cycles``...; they restart at every definition holding the
   field, as fitdecode does).
4. Values follow the rules in ``decoded.py``, mirroring fitdecode: subfields, components, scale
   and offset, enum names, dates. Message types with few messages are read with ``struct`` and
   rendered a message at a time in plain Python (NumPy's per-call cost would dominate):
   ``_plain_row`` when no value depends on other messages, else the renderer of
   ``backends.py`` (accumulated components, ``hr`` with ``event_timestamp_12``), which also
   takes the rare layouts NumPy does not expand.
5. The CRC (CRC-16/ARC, as the FIT SDK) is checked in NumPy: blocks of the data are run in
   parallel, two bytes per step through a 65536-entry table, and the block CRCs are combined with
   "append n zero bytes" tables (the CRC with a zero start is linear). Headers and other spans
   under 64 bytes go through the byte table of ``encode.py`` in Python.
6. With ``salvage``, the walk stops at the end of the data when that falls inside a record, a
   chained file's header or before the CRC; the complete records before it are decoded as usual.

The profile (names, types, scales, components, subfields) is fitdecode's ``profile`` module.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import accumulate, pairwise
from operator import itemgetter
from typing import Any

import numpy as np
from fitdecode import profile as _profile

from ingest.fit.backends import (
    MESG_NUM_HR,
    MessageRenderer,
    component_raw,
    process_type,
    render,
    scale_offset,
    table_from_rows,
)
from ingest.fit.backends import _numeric as _numeric_value
from ingest.fit.decoded import (
    FIT_DATETIME_MIN,
    FIT_EPOCH,
    DecodedFit,
    FitError,
    Kind,
    Table,
    finish_column,
    row_value,
)
from ingest.fit.encode import CRC_TABLE
from ingest.fit.encode import crc16 as _crc16_python

__all__ = ["crc16", "crc_ok", "decode_fast"]

_MESSAGES: dict[int, Any] = _profile.MESSAGE_TYPES
_BYTE = 0x0D
_STRING = 0x07
_TIMESTAMP = 253
_HR_TS = 9  # hr.event_timestamp
_HR_TS12 = 10  # hr.event_timestamp_12

# base type id -> (numpy code without byte order, size, invalid value or None for NaN)
_NUMPY: dict[int, tuple[str, int, Any]] = {
    0x00: ("u1", 1, 0xFF),
    0x01: ("i1", 1, 0x7F),
    0x02: ("u1", 1, 0xFF),
    0x83: ("i2", 2, 0x7FFF),
    0x84: ("u2", 2, 0xFFFF),
    0x85: ("i4", 4, 0x7FFFFFFF),
    0x86: ("u4", 4, 0xFFFFFFFF),
    0x07: ("u1", 1, None),
    0x88: ("f4", 4, None),
    0x89: ("f8", 8, None),
    0x0A: ("u1", 1, 0),
    0x8B: ("u2", 2, 0),
    0x8C: ("u4", 4, 0),
    0x0D: ("u1", 1, None),
    0x8E: ("i8", 8, 0x7FFFFFFFFFFFFFFF),
    0x8F: ("u8", 8, 0xFFFFFFFFFFFFFFFF),
    0x90: ("u8", 8, 0),
}
_TYPE_SIZE = {bt: size for bt, (_code, size, _invalid) in _NUMPY.items()}
_MAX_EXACT = float(1 << 53)
# Tables with at most this many messages go through the plain-Python renderer: for a handful of
# messages NumPy's per-call overhead costs more than it saves.
_SMALL = 24


# --- CRC ---------------------------------------------------------------------------------------


_T8 = np.array(CRC_TABLE, dtype=np.uint16)
_STATES = np.arange(65536, dtype=np.uint32)
_S1 = ((_STATES >> 8) ^ _T8[_STATES & 0xFF]).astype(np.uint16)  # state after one zero byte
_S2: np.ndarray = _S1[_S1]  # state s after the 16-bit word w: _S2[s ^ w]


_ZERO_STATE = np.zeros(1, dtype=np.uint16)
_SHORT = 64


@cache
def _zero_words(log2: int) -> np.ndarray:
    """State map for appending 2**log2 zero words."""
    if log2 == 0:
        return _S2
    half = _zero_words(log2 - 1)
    out: np.ndarray = half[half]
    return out


def crc16(data: bytes | np.ndarray) -> int:
    """The FIT CRC (CRC-16/ARC, start 0) of ``data``, computed with NumPy."""
    if len(data) < _SHORT:  # a header: NumPy's cost per call would dominate
        return _crc16_python(data if isinstance(data, bytes) else data.tobytes())
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    n = len(buf)
    words_n = (n + 1) // 2
    # Few steps over many short blocks: NumPy's cost is per call, not per element.
    block_log = 2 if words_n < 4096 else 3
    block = 1 << block_log
    blocks = -(-words_n // block)
    padded = np.zeros(blocks * block * 2, dtype=np.uint8)
    padded[len(padded) - n :] = buf  # leading zeros leave a zero-start CRC unchanged
    # word j of every block, contiguous: one np.take per step
    words = np.ascontiguousarray(padded.view("<u2").reshape(blocks, block).T)
    state = np.take(_S2, words[0])
    for j in range(1, block):
        state ^= words[j]
        state = np.take(_S2, state)
    level = block_log
    while len(state) > 1:
        if len(state) & 1:  # a zero block in front changes nothing
            state = np.concatenate((_ZERO_STATE, state))
        state = _zero_words(level)[state[0::2]] ^ state[1::2]
        level += 1
    return int(state[0])


# --- the walk over records ---------------------------------------------------------------------


@dataclass
class _Layout:
    global_num: int
    endian: str
    fields: tuple[tuple[int, int, int], ...]  # (field number, size, base type id)
    dev_size: int
    size: int  # whole record, header byte included
    lid: int
    dev: tuple[tuple[int, int, int], ...] = ()  # (field number, size, developer data index)


@dataclass
class _Definition:
    msg_index: int  # data messages before it
    segment: int
    layout: _Layout


@dataclass
class _Walk:
    starts: list[int] = field(default_factory=list)  # offset of every data message
    # after each definition, the layout of each of the 16 local message numbers (-1: none)
    local_layouts: list[int] = field(default_factory=list)
    definitions: list[_Definition] = field(default_factory=list)
    layouts: list[_Layout] = field(default_factory=list)
    segment_first: list[int] = field(default_factory=list)  # first message index per segment
    crc_spans: list[tuple[int, int]] = field(default_factory=list)  # (start, crc offset)
    header_crcs: list[tuple[int, int]] = field(default_factory=list)  # (header offset, crc)
    truncated: bool = False  # salvage stopped early: the data was cut off


_RUN = 16
_RUNS = [bytes([h]) * _RUN for h in range(256)]


def _walk(data: bytes, salvage: bool = False) -> _Walk:
    """Step over the records of every chained FIT file in ``data``.

    With ``salvage``, data that ends early (a file header, a record or the CRC cut off) ends the
    walk after the last complete record, with ``truncated`` set, instead of raising."""
    n = len(data)
    w = _Walk()
    layouts: dict[Any, _Layout] = {}  # by definition bytes and by layout
    if n < 12:
        raise FitError("not a FIT file: shorter than a FIT header", 0)
    pos = 0
    while pos < n:
        if n - pos < 12 or (data[pos + 8 : pos + 12] == b".FIT" and n - pos < data[pos]):
            if salvage and pos:  # a chained file cut inside its header
                w.truncated = True
                break
            raise FitError(f"truncated FIT header ({n - pos} trailing bytes)", pos)
        body, end = _file_header(data, pos, w)
        if salvage and end == body and n - body > 2 and data[body + 10 : body + 14] != b".FIT":
            end = n  # data size 0 (an unfinished recording): its records run to the end
        if end + 2 > n and not salvage:
            raise FitError(
                f"truncated FIT file: header announces {end + 2 - pos} bytes, {n - pos} are there",
                pos,
            )
        stop = min(end, n)
        w.segment_first.append(len(w.starts))
        reached = _records(data, body, stop, w, layouts, salvage)
        if reached != end or end + 2 > n:
            w.truncated = True
            break
        w.crc_spans.append((pos, end))
        pos = end + 2
    return w


def _file_header(data: bytes, pos: int, w: _Walk) -> tuple[int, int]:
    """(first data byte, end of the data) of the FIT file whose header is at ``pos``."""
    hs = data[pos]
    if data[pos + 8 : pos + 12] != b".FIT" or hs < 12:
        raise FitError("not a FIT file (no .FIT header)", pos)
    if hs not in (12, 14):
        raise FitError(f"unsupported FIT header size {hs}", pos)
    if hs == 14:
        hcrc = data[pos + 12] | (data[pos + 13] << 8)
        if hcrc:
            w.header_crcs.append((pos, hcrc))
    return pos + hs, pos + hs + int.from_bytes(data[pos + 4 : pos + 8], "little")


def _records(
    data: bytes,
    p: int,
    end: int,
    w: _Walk,
    layouts: dict[Any, _Layout],
    salvage: bool,
) -> int:
    """Walk the records of one FIT file's data up to ``end``; return where the walk stopped
    (``end``, or with ``salvage`` the start of a record that crosses it).

    Data messages cost one size lookup by header byte and one append; in a run of one repeated
    header, _RUN records are taken at a time once their headers are checked."""
    starts = w.starts
    append = starts.append
    extend = starts.extend
    step = [0] * 256  # record size by header byte, 0 for definitions and undefined
    local_layout = [-1] * 16
    prev = -1  # the last header
    while p < end:
        h = data[p]
        s = step[h]
        if s:
            if h == prev:
                q = p + _RUN * s
                if q <= end and data[p:q:s] == _RUNS[h]:
                    extend(range(p, q, s))
                    p = q
                    continue
            append(p)
            prev = h
            p += s
            continue
        if h & 0xC0 != 0x40:
            local = (h >> 5) & 3 if h & 0x80 else h & 0x0F
            raise FitError(f"data message for undefined local message {local}", p)
        got = _definition(data, p, end, layouts, w)
        if got is None:
            if salvage:
                return p
            raise FitError("definition message crosses the end of the data", p)
        lay, q = got
        local = h & 0x0F
        local_layout[local] = lay.lid
        size = lay.size
        step[local] = step[local | 0x10] = step[local | 0x20] = step[local | 0x30] = size
        if local < 4:
            base = 0x80 | (local << 5)
            step[base : base + 32] = [size] * 32
        w.local_layouts.extend(local_layout)
        w.definitions.append(_Definition(len(starts), len(w.segment_first) - 1, lay))
        p = q
    if p != end:  # the last data message crosses the end
        last = starts.pop()
        if salvage:
            return last
        raise FitError("last record crosses the end of the data", last)
    return p


def _definition(
    data: bytes, p: int, end: int, layouts: dict[Any, _Layout], w: _Walk
) -> tuple[_Layout, int] | None:
    """The layout of the definition message at ``p`` and the offset after it (None if it
    crosses ``end``). Identical layouts are shared; identical definitions are parsed once."""
    if p + 6 > end:
        return None
    q = p + 6 + 3 * data[p + 5]
    if data[p] & 0x20:  # developer fields
        if q + 1 > end:
            return None
        q += 1 + 3 * data[q]
    if q > end:
        return None
    raw = data[p + 2 : q]  # from the byte order on: the same bytes give the same layout
    lay = layouts.get(raw)
    if lay is None:
        lay = _parse_definition(data, p, q, layouts, w)
        layouts[raw] = lay
    return lay, q


def _parse_definition(
    data: bytes, p: int, q: int, layouts: dict[Any, _Layout], w: _Walk
) -> _Layout:
    got = _definition_key(data[p + 2 : q])
    if isinstance(got, str):
        raise FitError(got, p)
    key, size = got
    lay = layouts.get(key)
    if lay is None:
        gnum, big, fields, dev_fields = key
        dev = size - 1 - sum(size for _n, size, _b in fields)
        lay = _Layout(gnum, ">" if big else "<", fields, dev, size, len(w.layouts), dev_fields)
        layouts[key] = lay
        w.layouts.append(lay)
    return lay


_LayoutKey = tuple[int, bool, tuple[tuple[int, int, int], ...], tuple[tuple[int, int, int], ...]]


@lru_cache(maxsize=4096)
def _definition_key(raw: bytes) -> tuple[_LayoutKey, int] | str:
    """A definition message from its byte order on: (message number, big-endian, fields,
    developer fields) and the record size; or why it cannot be read. Cached: files of one
    device repeat their definitions."""
    big = raw[0] != 0
    gnum = int.from_bytes(raw[1:3], "big" if big else "little")
    end = 4 + 3 * raw[3]
    nums, sizes, types = raw[4:end:3], raw[5:end:3], raw[6:end:3]
    if 0 in sizes:
        return f"field {nums[sizes.index(0)]} declared with size 0"
    # an unknown type, or a size that is not a multiple of the type's: bytes, as fitdecode does
    fields = tuple(
        (num, size, bt if size % _TYPE_SIZE.get(bt, 256) == 0 else _BYTE)
        for num, size, bt in zip(nums, sizes, types, strict=True)
    )
    dev_sizes = raw[end + 2 :: 3]  # after the count byte: (number, size, index) each
    if 0 in dev_sizes:
        return "developer field declared with size 0"
    dev_fields = tuple(zip(raw[end + 1 :: 3], dev_sizes, raw[end + 3 :: 3], strict=True))
    return (gnum, big, fields, dev_fields), 1 + sum(sizes) + sum(dev_sizes)


def _crc_error(data: bytes, buf: np.ndarray, w: _Walk) -> FitError | None:
    """The first header or file CRC that does not match, as an error; None if all do."""
    for pos, stored in w.header_crcs:
        if crc16(buf[pos : pos + 12]) != stored:
            return FitError("CRC mismatch in the FIT header", pos)
    for start, end in w.crc_spans:
        stored = data[end] | (data[end + 1] << 8)
        computed = crc16(buf[start:end])
        if computed != stored:
            return FitError(
                f"CRC mismatch: file says 0x{stored:04X}, data gives 0x{computed:04X}", end
            )
    return None


def crc_ok(data: bytes) -> bool:
    """Whether every header and file CRC in ``data`` matches (False if unreadable)."""
    try:
        w = _walk(data)
    except FitError:
        return False
    return _crc_error(data, np.frombuffer(data, dtype=np.uint8), w) is None


# --- raw values --------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One field of one layout, all messages: kind "num" (scalar number), "arr" (n, count)
    numbers, "bytes" (n, size) uint8 or "str"."""

    kind: str
    v: Any
    valid: np.ndarray  # (n,) for num/bytes/str; (n, count) for arr
    bt: int


def _read_layout(lay: _Layout, rec: np.ndarray, skip: frozenset[int]) -> list[_Raw | None]:
    """Each field's raw values over the layout's messages (None for the fields in ``skip``)."""
    n = len(rec)
    raws: list[_Raw | None] = []
    off = 1
    for fi, (_num, size, bt) in enumerate(lay.fields):
        code, bsize, invalid = _NUMPY[bt]
        if fi in skip:
            raws.append(None)
        elif bt == _BYTE:
            v = rec[:, off : off + size]
            raws.append(_Raw("bytes", v, ~(v == 0xFF).all(axis=1), bt))
        elif bt == _STRING:
            strs = [
                b.split(b"\0", 1)[0].decode("utf-8", errors="replace") or None
                for b in np.ascontiguousarray(rec[:, off : off + size])
                .view(f"V{size}")[:, 0]
                .tolist()
            ]
            valid = np.fromiter((s is not None for s in strs), dtype=bool, count=n)
            raws.append(_Raw("str", strs, valid, bt))
        else:
            count = size // bsize
            arr = (
                np.ascontiguousarray(rec[:, off : off + size])
                .view(np.dtype(lay.endian + code))
                .reshape(n, count)
            )
            ok = ~np.isnan(arr) if invalid is None else arr != invalid
            if count == 1:
                raws.append(_Raw("num", arr[:, 0], ok[:, 0], bt))
            else:
                raws.append(_Raw("arr", arr, ok, bt))
        off += size
    return raws


_STRUCT_CODES = {
    "u1": "B",
    "i1": "b",
    "u2": "H",
    "i2": "h",
    "u4": "I",
    "i4": "i",
    "u8": "Q",
    "i8": "q",
    "f4": "f",
    "f8": "d",
}


@lru_cache(maxsize=4096)
def _py_plan(
    endian: str, fields: tuple[tuple[int, int, int], ...]
) -> tuple[struct.Struct, tuple[tuple[str, int, Any], ...] | None, tuple[Any, ...]]:
    """For plain-Python reads of a layout: a struct reader, each field's (kind, element count,
    invalid value) -- None when every field is one number -- and each number's invalid value."""
    fmt = [endian]
    plan: list[tuple[str, int, Any]] = []
    for _num, size, bt in fields:
        code, bsize, invalid = _NUMPY[bt]
        if bt == _BYTE:
            fmt.append(f"{size}s")
            plan.append(("bytes", 1, b"\xff" * size))
        elif bt == _STRING:
            fmt.append(f"{size}s")
            plan.append(("str", 1, None))
        else:
            count = size // bsize
            fmt.append(f"{count}{_STRUCT_CODES[code]}")
            plan.append(("num" if count == 1 else "arr", count, invalid))
    numbers = all(kind == "num" for kind, _c, _i in plan)
    invalids = tuple(invalid for _k, _c, invalid in plan)
    return struct.Struct("".join(fmt)), None if numbers else tuple(plan), invalids


def _read_python(lay: _Layout, data: bytes, starts: list[int]) -> list[list[Any]]:
    """The raw values of each message: None where invalid (NaN for floats), arrays and bytes as
    tuples, strings cut at the first NUL."""
    st, plan, invalids = _py_plan(lay.endian, lay.fields)
    unpack = st.unpack_from
    if plan is None:  # one number per field
        return [
            [None if x == bad or x != x else x for x, bad in zip(row, invalids, strict=True)]
            for row in (unpack(data, start + 1) for start in starts)
        ]
    out: list[list[Any]] = []
    for start in starts:
        flat = unpack(data, start + 1)
        vals: list[Any] = []
        i = 0
        for kind, count, invalid in plan:
            if kind == "num":
                x = flat[i]
                vals.append(None if x == invalid or x != x else x)
            elif kind == "arr":
                vals.append(
                    tuple(None if x == invalid or x != x else x for x in flat[i : i + count])
                )
            elif kind == "bytes":
                b = flat[i]
                vals.append(None if b == invalid else tuple(b))
            else:
                vals.append(flat[i].split(b"\0", 1)[0].decode("utf-8", errors="replace") or None)
            i += count
        out.append(vals)
    return out


# --- values ------------------------------------------------------------------------------------


@dataclass
class _Val:
    """Values of one name over a layout's messages: numeric (float64 + kind) or objects."""

    kind: Kind
    num: np.ndarray | None  # float64, NaN where invalid
    obj: np.ndarray | None  # object, None where invalid

    def valid(self) -> np.ndarray:
        if self.num is not None:
            ok: np.ndarray = ~np.isnan(self.num)
            return ok
        assert self.obj is not None
        return np.array([x is not None for x in self.obj.tolist()], dtype=bool)

    def any_valid(self) -> bool:
        if self.num is not None:
            return not np.isnan(self.num).all()
        assert self.obj is not None
        return any(x is not None for x in self.obj.tolist())

    def objects(self) -> np.ndarray:
        if self.obj is not None:
            return self.obj
        assert self.num is not None
        out = np.empty(len(self.num), dtype=object)
        out[:] = [row_value(self.kind, x) for x in self.num.tolist()]
        return out


def _obj_array(values: Iterable[Any], count: int = -1) -> np.ndarray:
    """A 1-D object array of ``values`` (a tuple stays one element)."""
    out: np.ndarray = np.fromiter(values, dtype=np.dtype(object), count=count)
    return out


def _map_unique(values: np.ndarray, valid: np.ndarray, fn: Any) -> _Val:
    """Apply a Python function to each distinct valid value."""
    out = np.empty(len(values), dtype=object)
    if values.dtype.kind in "ui" and values.dtype.itemsize == 1:
        # bytes (most enums): a 256-entry table
        codes = values.view(np.uint8)
        seen = np.zeros(256, dtype=bool)
        seen[codes[valid]] = True
        table = np.empty(256, dtype=object)
        signed = values.dtype.kind == "i"
        for code in np.flatnonzero(seen).tolist():
            table[code] = fn(code - 256 if signed and code >= 128 else code)
        out = table[codes]
        out[~valid] = None
    elif valid.any():
        uniq, inv = np.unique(values[valid], return_inverse=True)
        mapped = _obj_array([fn(x) for x in uniq.tolist()])
        out[valid] = mapped[inv]
    return _Val("object", None, out)


def _numeric(f: np.ndarray, valid: np.ndarray, kind: Kind, type_name: str) -> _Val:
    """float64 values (invalid rows arbitrary) + the type processors of fitdecode."""
    f = np.where(valid, f, np.nan)
    if type_name == "bool":
        return _Val("bool", np.where(valid, (f != 0).astype(np.float64), np.nan), None)
    if type_name == "date_time":
        return _Val("time", np.where(f >= FIT_DATETIME_MIN, f + FIT_EPOCH, f), None)
    if type_name == "local_date_time":
        return _Val("time", f + FIT_EPOCH, None)
    if type_name == "localtime_into_day":
        return _Val("tod", f, None)
    return _Val(kind, f, None)


def _render_num(fld: Any, v: np.ndarray, valid: np.ndarray) -> _Val:
    """A scalar numeric raw column through render + scale/offset + processors."""
    type_name = fld.type.name
    exotic = bool(fld.type.enum)
    if not exotic and v.dtype.kind in "iu" and v.dtype.itemsize == 8 and valid.any():
        exotic = bool((np.abs(v[valid].astype(np.float64)) >= _MAX_EXACT).any())
    if exotic:
        return _map_unique(
            v, valid, lambda x: process_type(type_name, scale_offset(fld, render(fld, x)))
        )
    return _render_num_plain(fld, v, valid, type_name)


def _render_num_plain(fld: Any, v: np.ndarray, valid: np.ndarray, type_name: str) -> _Val:
    f = v.astype(np.float64)
    kind: Kind = "float" if v.dtype.kind == "f" else "int"
    if fld.scale:
        f = f / fld.scale
        kind = "float"
    if fld.offset:
        f = f - fld.offset
        if isinstance(fld.offset, float):
            kind = "float"
    return _numeric(f, valid, kind, type_name)


def _render_tuples(fld: Any, raw: _Raw, rows: np.ndarray) -> _Val:
    """Arrays and bytes: tuples, scaled element-wise; bool of a tuple is True (fitdecode).
    Equal rows share one tuple: on many rows, each distinct row is made once."""
    v = _at(raw.v, rows)
    ok = _at(raw.valid, rows)
    distinct = _distinct_rows(v) if len(v) > _MANY else None
    if distinct is not None:
        first, inv = distinct
        v, ok = v[first], ok[first]
    if fld.scale or fld.offset:
        v = v.astype(np.float64)
        if fld.scale:
            v = v / fld.scale
        if fld.offset:
            v = v - fld.offset
    cells = v.astype(object)
    if raw.kind == "arr":
        cells[~ok] = None
    # zip builds the row tuples in C from one list per element position
    out = _obj_array(zip(*cells.T.tolist(), strict=True), len(v))
    if raw.kind == "bytes":
        out[~ok] = None
    if fld.type.name in _PROCESSED:
        out = _obj_array([process_type(fld.type.name, x) for x in out.tolist()])
    return _Val("object", None, out if distinct is None else out[inv])


_MANY = 256


def _distinct_rows(v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For the rows of a 2-D array (16 bytes a row at most, else None): the index of one row of
    each distinct value, and for each row the number of its value."""
    n = len(v)
    row_bytes = np.ascontiguousarray(v).view(np.uint8).reshape(n, -1)
    width = row_bytes.shape[1]
    if width > 16:
        return None
    padded = np.zeros((n, 16), dtype=np.uint8)
    padded[:, :width] = row_bytes
    keys = padded.view(np.uint64)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    ordered = keys[order]
    new = np.ones(n, dtype=bool)
    np.any(ordered[1:] != ordered[:-1], axis=1, out=new[1:])
    inv = np.empty(n, dtype=np.intp)
    inv[order] = np.cumsum(new) - 1
    return order[new], inv


_PROCESSED = frozenset({"bool", "date_time", "local_date_time", "localtime_into_day"})


def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]``, without a copy when ``rows`` are all the rows (they are sorted)."""
    return values if len(rows) == len(values) else values[rows]


def _render_field(fld: Any, raw: _Raw, rows: np.ndarray) -> _Val:
    if raw.kind == "num":
        return _render_num(fld, _at(raw.v, rows), _at(raw.valid, rows))
    if raw.kind == "str":
        strs = [raw.v[i] for i in rows.tolist()]
        if fld.type.name in _PROCESSED:
            strs = [process_type(fld.type.name, s) for s in strs]
        return _Val("object", None, _obj_array(strs))
    return _render_tuples(fld, raw, rows)


def _component_bits(c: Any, raw: _Raw) -> tuple[np.ndarray, np.ndarray] | None:
    """(int64 raw component values, valid) over all the layout's messages; None to skip."""
    bo, bits = c.bit_offset or 0, c.bits
    mask = (1 << bits) - 1
    if raw.kind == "num":
        return (raw.v.astype(np.int64) >> bo) & mask, raw.valid
    size = raw.v.shape[1]
    if bo and bo >= size * 8:
        return None
    j0 = bo // 8
    j1 = min(size, (bo + bits + 7) // 8)
    acc = np.zeros(len(raw.v), dtype=np.int64)
    for j in range(j1 - 1, j0 - 1, -1):
        acc = (acc << 8) | raw.v[:, j].astype(np.int64)
    return (acc >> (bo - 8 * j0)) & mask, raw.valid


@lru_cache(maxsize=4096)
def _vectorisable(gnum: int, fields: tuple[tuple[int, int, int], ...]) -> bool:
    """Whether a layout's components can be expanded with NumPy."""
    mt = _MESSAGES.get(gnum)
    if mt is None:
        return True
    for num, size, bt in fields:
        fld = mt.fields.get(num)
        if fld is None:
            continue
        has = bool(fld.components) or any(s.components for s in fld.subfields or ())
        if not has:
            continue
        if bt == _BYTE:
            if size > 8 and any(
                (c.bits or 0) > 56
                for f in (fld, *(fld.subfields or ()))
                for c in f.components or ()
            ):
                return False
            continue
        code, bsize, _ = _NUMPY[bt]
        if code[0] == "f" or bsize == 8 or size != bsize or bt == _STRING:
            return False
        for f in (fld, *(fld.subfields or ())):
            for c in f.components or ():
                if c.def_num not in mt.fields:
                    return False
    return True


def _subfield_groups(
    fld: Any, lay: _Layout, raws: list[_Raw | None], n: int
) -> list[tuple[Any, np.ndarray]]:
    """[(field or subfield, row indices)] as fitdecode resolves subfields per message."""
    if not fld.subfields:
        return [(fld, np.arange(n))]
    sel = np.full(n, -1, dtype=np.int64)
    for si, sub in enumerate(fld.subfields):
        hit = np.zeros(n, dtype=bool)
        for ref in sub.ref_fields:
            for (num, _size, _bt), raw in zip(lay.fields, raws, strict=True):
                if num == ref.def_num and raw is not None and raw.kind == "num":
                    hit |= raw.valid & (raw.v == ref.raw_value)
        sel[(sel < 0) & hit] = si
    groups: list[tuple[Any, np.ndarray]] = []
    for si in (np.flatnonzero(np.bincount(sel + 1)) - 1).tolist():  # np.unique imports numpy.ma
        rows = np.flatnonzero(sel == si)
        groups.append((fld if si < 0 else fld.subfields[si], rows))
    return groups


# --- the plan of a layout: what can be rendered as a block, which names need merging ------------


@dataclass(frozen=True)
class _Block:
    """A layout's plain numeric fields (no subfields, components or enum, and a name no other
    field of the layout can give), rendered together as a (fields, messages) float64 matrix.
    Fields are grouped by base type: ``groups`` holds (dtype, byte columns of the record, first
    and end matrix row, invalid value or None for NaN)."""

    fields: tuple[int, ...]  # positions in the layout, in matrix order
    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    groups: tuple[tuple[np.dtype[Any], np.ndarray, int, int, Any], ...]
    scale: np.ndarray | None  # (k, 1) divisors, None when nothing is scaled
    offset: np.ndarray | None  # (k, 1)
    typed: tuple[tuple[int, str], ...]  # (matrix row, type name) of bool and time fields


@dataclass(frozen=True)
class _Plan:
    block: _Block
    unique: frozenset[str]  # names only one field of the layout can give: no merging needed
    skip_raw: frozenset[int]  # block fields that no subfield refers to: no _Raw needed


@cache
def _field_names(gnum: int, num: int) -> tuple[str, ...]:
    """Every name field ``num`` of message type ``gnum`` can give (none if unknown)."""
    mt = _MESSAGES[gnum]
    fld = mt.fields.get(num)
    return () if fld is None else tuple(_names(mt, fld))


def _names(mt: Any, fld: Any) -> list[str]:
    """Every name a field can give: its own, its subfields', its components' targets'."""
    out: list[str] = []
    for f in (fld, *(fld.subfields or ())):
        out.append(f.name)
        for c in f.components or ():
            target = mt.fields.get(c.def_num)
            if target is not None:
                out.extend(t.name for t in (target, *(target.subfields or ())))
    return out


def _block_field(fld: Any, size: int, bt: int) -> bool:
    code, bsize, _ = _NUMPY[bt]
    return not (
        fld.subfields
        or fld.components
        or fld.type.enum
        or bt in (_BYTE, _STRING)
        or size != bsize
        or (bsize == 8 and code[0] != "f")  # 64-bit ints may not fit a float64
        or abs(fld.offset or 0) >= 1 << 31
    )


def _block_kind(fld: Any, bt: int) -> Kind:
    """The kind of a block field's column, as ``_render_num_plain`` and ``_numeric`` give it."""
    type_name = fld.type.name
    if type_name in ("date_time", "local_date_time"):
        return "time"
    if type_name == "localtime_into_day":
        return "tod"
    if type_name == "bool":
        return "bool"
    floating = _NUMPY[bt][0][0] == "f" or fld.scale or isinstance(fld.offset, float)
    return "float" if floating else "int"


@lru_cache(maxsize=4096)
def _plan(
    gnum: int, endian: str, fields: tuple[tuple[int, int, int], ...], compressed: bool
) -> _Plan:
    """What can be rendered as a block in a layout; ``compressed``: some of its messages have
    compressed-header timestamps."""
    mt = _MESSAGES[gnum]
    counts: dict[str, int] = {"timestamp": 1} if compressed else {}
    for num, _s, _b in fields:
        for nm in _field_names(gnum, num):
            counts[nm] = counts.get(nm, 0) + 1
    unique = frozenset(nm for nm, c in counts.items() if c == 1)
    offsets = list(accumulate((size for _n, size, _b in fields), initial=1))
    chosen: dict[int, list[tuple[int, Any]]] = {}  # base type -> [(position, field)]
    for fi, (num, size, bt) in enumerate(fields):
        fld = mt.fields.get(num)
        plain = fld is not None and fld.name in unique and _block_field(fld, size, bt)
        if plain and gnum != MESG_NUM_HR:
            chosen.setdefault(bt, []).append((fi, fld))
    pos: list[int] = []
    flds: list[Any] = []
    kinds: list[Kind] = []
    groups = []
    for bt, members in chosen.items():
        code, _size, invalid = _NUMPY[bt]
        cols = np.array([c for fi, _ in members for c in range(offsets[fi], offsets[fi + 1])])
        groups.append((np.dtype(endian + code), cols, len(pos), len(pos) + len(members), invalid))
        pos.extend(fi for fi, _ in members)
        flds.extend(f for _, f in members)
        kinds.extend(_block_kind(f, bt) for _, f in members)
    scale = [float(f.scale or 1) for f in flds]
    offset = [float(f.offset or 0) for f in flds]
    block = _Block(
        tuple(pos),
        tuple(f.name for f in flds),
        tuple(kinds),
        tuple(groups),
        np.array(scale).reshape(-1, 1) if any(x != 1 for x in scale) else None,
        np.array(offset).reshape(-1, 1) if any(offset) else None,
        tuple((j, f.type.name) for j, f in enumerate(flds) if f.type.name in _PROCESSED),
    )
    keep = _subfield_refs(gnum)
    skip = frozenset(fi for fi in pos if fields[fi][0] not in keep)
    return _Plan(block, unique, skip)


@cache
def _subfield_refs(gnum: int) -> frozenset[int]:
    """The fields whose raw values a layout needs even in its block: those that subfields of
    the message type refer to, and the timestamp (for compressed timestamps)."""
    fields = _MESSAGES[gnum].fields.values()
    refs = {r.def_num for f in fields for sub in f.subfields or () for r in sub.ref_fields}
    return frozenset({*refs, _TIMESTAMP})


def _block_values(b: _Block, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The block's (fields, messages) float64 values, NaN where invalid, and whether each field
    has a valid value."""
    out = np.empty((len(b.fields), len(rec)))
    ok = np.empty(out.shape, dtype=bool)
    for dtype, cols, lo, hi, invalid in b.groups:
        v = np.take(rec, cols, axis=1).view(dtype).T
        out[lo:hi] = v
        if invalid is None:
            np.logical_not(np.isnan(v), out=ok[lo:hi])
        else:
            np.not_equal(v, invalid, out=ok[lo:hi])
    if b.scale is not None:
        out /= b.scale
    if b.offset is not None:
        out -= b.offset
    out[~ok] = np.nan
    for j, type_name in b.typed:  # the type processors of fitdecode, as _numeric
        row = out[j]
        if type_name == "date_time":
            np.add(row, FIT_EPOCH, out=row, where=row >= FIT_DATETIME_MIN)
        elif type_name == "local_date_time":
            row += FIT_EPOCH
        elif type_name == "bool":
            row[ok[j]] = row[ok[j]] != 0
    return out, np.asarray(ok.any(axis=1))


# --- one message type, vectorised --------------------------------------------------------------


@dataclass
class _Pending:
    """A component slot waiting for accumulation and rendering."""

    comp: Any
    rows: np.ndarray  # layout rows where this subfield/field group applies
    x: np.ndarray  # int64 over all layout rows
    ok: np.ndarray
    order: int


@dataclass
class _Slot:
    order: int
    name_rows: list[tuple[Any, np.ndarray]]  # (target field/subfield, rows)
    val: list[_Val]  # parallel to name_rows, each over those rows
    pending: _Pending | None = None


# a name's values in one layout: (table positions, or None for all rows of the table; values)
_Piece = tuple[np.ndarray | None, _Val]


def _fast_table(
    gnum: int,
    parts: list[_Part],
    defs: list[_Definition],
    compressed: np.ndarray,
    hr_start: np.ndarray | None = None,
) -> Table:
    """Vectorised rows for one message type, from its layouts' messages.

    ``hr_start`` (hr messages only): the start time each message's event_timestamp_12 counts
    from, per message index."""
    mt = _MESSAGES.get(gnum)
    name = mt.name if mt is not None else f"mesg_{gnum}"
    total = sum(len(part.idx) for part in parts)
    positions = _positions([part.idx for part in parts])
    if mt is None:
        return Table(name, {}, {}, total)
    pieces: dict[str, list[_Piece]] = {}
    per_layout: list[list[_Slot]] = []
    acc_parts: dict[int, list[tuple[np.ndarray, np.ndarray, _Pending, int]]] = {}
    for part, pos in zip(parts, positions, strict=True):
        assert part.plan is not None
        block = part.plan.block
        if block.fields:
            values, has = _block_values(block, part.rec)
            for j in np.flatnonzero(has).tolist():
                val = _Val(block.kinds[j], values[j], None)
                pieces.setdefault(block.names[j], []).append((pos, val))
        per_layout.append(_slots(mt, part, compressed, acc_parts))

    for dest, acc in acc_parts.items():
        _accumulate(gnum, dest, acc, defs)

    for part, slots, pos in zip(parts, per_layout, positions, strict=True):
        _merge(mt, part, slots, pos, pieces, hr_start)

    columns: dict[str, np.ndarray] = {}
    kinds: dict[str, Kind] = {}
    for fname, col_parts in pieces.items():
        kinds[fname], columns[fname] = finish_column(*_column(col_parts, total))
    return Table(name, columns, kinds, total)


def _positions(idxs: list[np.ndarray]) -> list[np.ndarray | None]:
    """For each layout's message indices, their rows in the table (the messages of every layout
    in file order); None for a table of one layout."""
    if len(idxs) == 1:
        return [None]
    rank = np.empty(sum(len(idx) for idx in idxs), dtype=np.intp)
    # sorted runs, one per layout: a merge (timsort) is what "stable" does with them
    rank[np.argsort(np.concatenate(idxs), kind="stable")] = np.arange(len(rank))
    bounds = np.cumsum([0, *(len(idx) for idx in idxs)]).tolist()
    return [rank[a:b] for a, b in pairwise(bounds)]


def _slots(
    mt: Any,
    part: _Part,
    compressed: np.ndarray,
    acc_parts: dict[int, list[tuple[np.ndarray, np.ndarray, _Pending, int]]],
) -> list[_Slot]:
    """The rendered fields (and pending components) of a layout's fields outside its block."""
    lay, idx, raws, plan = part.lay, part.idx, part.raws, part.plan
    assert plan is not None
    n = len(idx)
    slots: list[_Slot] = []
    for fi, ((num, _size, _bt), raw) in enumerate(zip(lay.fields, raws, strict=True)):
        base = mt.fields.get(num)
        if base is None or raw is None or fi in plan.block.fields:
            continue
        groups = _subfield_groups(base, lay, raws, n)
        for fld, rows in groups:
            for ci, c in enumerate(fld.components or ()):
                bits = _component_bits(c, raw)
                if bits is None:
                    continue
                x, ok = bits
                order = fi * 1024 + ci
                pend = _Pending(c, rows, x.copy(), ok, order)
                slots.append(_Slot(order, [], [], pend))
                if c.accumulate:
                    acc_parts.setdefault(c.def_num, []).append((idx, ok, pend, c.bits))
        for fld, rows in groups:
            slots.append(_Slot(fi * 1024 + 1000, [(fld, rows)], [_render_field(fld, raw, rows)]))
    comp = compressed[idx]
    if (comp >= 0).any():
        rows = np.flatnonzero(comp >= 0)
        ts = comp[rows].astype(np.float64)
        slots.append(
            _Slot(
                1 << 30,
                [(_profile.FIELD_TYPE_TIMESTAMP, rows)],
                [_numeric(ts, np.ones(len(rows), bool), "int", "date_time")],
            )
        )
    slots.sort(key=lambda s: s.order)
    return slots


def _merge(
    mt: Any,
    part: _Part,
    slots: list[_Slot],
    pos: np.ndarray | None,
    pieces: dict[str, list[_Piece]],
    hr_start: np.ndarray | None,
) -> None:
    """Render a layout's components, then add its values to ``pieces``: where several fields
    give a name, the first valid value in fitdecode's order wins."""
    lay, idx, raws, plan = part.lay, part.idx, part.raws, part.plan
    assert plan is not None
    unique = plan.unique
    n = len(idx)
    hr12 = hr_start is not None and any(num == _HR_TS12 for num, _s, _b in lay.fields)
    filled: dict[str, np.ndarray] = {}
    merged: dict[str, list[tuple[np.ndarray, _Val]]] = {}
    for slot in slots:
        if slot.pending is not None:
            start = None
            fi = slot.order // 1024
            if hr_start is not None and fi < len(lay.fields) and lay.fields[fi][0] == _HR_TS12:
                start = hr_start[idx]
            slot.name_rows, slot.val = _render_component(mt, lay, raws, slot.pending, n, start)
        if hr12:
            slot.val = [
                _hr_datetime(val) if fld.def_num == _HR_TS else val
                for (fld, _rows), val in zip(slot.name_rows, slot.val, strict=True)
            ]
        for (fld, rows), val in zip(slot.name_rows, slot.val, strict=True):
            fname = fld.name
            if fname in unique:
                if val.any_valid():
                    at = rows if pos is None else pos[rows]
                    pieces.setdefault(fname, []).append(
                        (None if len(rows) == n and pos is None else at, val)
                    )
                continue
            got = filled.setdefault(fname, np.zeros(n, dtype=bool))
            ok = val.valid() & ~got[rows]
            if not ok.any():
                continue
            take_rows = rows[ok]
            got[take_rows] = True
            sub = _Val(
                val.kind,
                None if val.num is None else val.num[ok],
                None if val.obj is None else val.obj[ok],
            )
            merged.setdefault(fname, []).append((take_rows, sub))
    for fname, got_parts in merged.items():
        for rows, val in got_parts:
            pieces.setdefault(fname, []).append((rows if pos is None else pos[rows], val))


def _column(parts: list[_Piece], total: int) -> tuple[Kind, np.ndarray]:
    """One column from its pieces (the kind is "object" when they disagree)."""
    ks = {val.kind for _, val in parts}
    kind: Kind = ks.pop() if len(ks) == 1 else "object"
    if len(parts) == 1 and parts[0][0] is None:
        val = parts[0][1]
        if kind != "object":
            assert val.num is not None
            return kind, val.num
        return kind, val.objects()
    if kind != "object":
        col = np.full(total, np.nan)
        for rows, val in parts:
            assert val.num is not None
            col[slice(None) if rows is None else rows] = val.num
    else:
        col = np.empty(total, dtype=object)
        for rows, val in parts:
            col[slice(None) if rows is None else rows] = val.objects()
    return kind, col


def _hr_datetime(val: _Val) -> _Val:
    """fitdecode's process_message_hr: every hr.event_timestamp becomes a date (it fails on an
    invalid one, and so do we)."""
    if val.num is None or val.kind not in ("int", "float") or np.isnan(val.num).any():
        raise FitError("hr message with an invalid event_timestamp")
    return _Val("time", val.num + FIT_EPOCH, None)


def _hr_starts(
    lays: list[tuple[_Layout, np.ndarray]],
    n: int,
    set_ts: np.ndarray,
    last_ts: np.ndarray,
    seg_of: np.ndarray,
) -> np.ndarray:
    """For each hr message, the time its event_timestamp_12 values count from: the last
    timestamp seen when the latest hr message with an event_timestamp field was read."""
    info: list[tuple[int, int, int, int]] = []  # (message, pos 9, pos 10, pos 253)
    for lay, idx in lays:
        nums = [num for num, _s, _b in lay.fields]
        p9 = nums.index(_HR_TS) if _HR_TS in nums else -1
        p10 = nums.index(_HR_TS12) if _HR_TS12 in nums else -1
        p253 = len(nums) - 1 - nums[::-1].index(_TIMESTAMP) if _TIMESTAMP in nums else -1
        info.extend((i, p9, p10, p253) for i in idx.tolist())
    info.sort()
    out = np.zeros(n, dtype=np.float64)
    start = 0
    seg = -1
    for i, p9, p10, p253 in info:
        if seg_of[i] != seg:
            seg, start = int(seg_of[i]), 0
        if p9 < 0:
            out[i] = start
            continue
        own = 0 <= p253 < p9 and set_ts[i] >= 0
        at9 = int(set_ts[i]) if own else int(last_ts[i])
        if p9 < p10 or p10 < 0:
            start = at9
            out[i] = start
        else:
            out[i] = start
            start = at9
    return out


def _render_component(
    mt: Any,
    lay: _Layout,
    raws: list[_Raw | None],
    p: _Pending,
    n: int,
    start: np.ndarray | None = None,
) -> tuple[list[tuple[Any, np.ndarray]], list[_Val]]:
    c = p.comp
    x = _at(p.x, p.rows)
    ok = _at(p.ok, p.rows)
    f = x.astype(np.float64)
    kind: Kind = "int"
    if c.scale:
        f = f / c.scale
        kind = "float"
    if c.offset:
        f = f - c.offset
        if isinstance(c.offset, float):
            kind = "float"
    if start is not None:
        f = f + start[p.rows]
    target = mt.fields[c.def_num]
    out_rows: list[tuple[Any, np.ndarray]] = []
    vals: list[_Val] = []
    for tf, sub_rows in _subfield_groups(target, lay, raws, n):
        if len(sub_rows) == n:  # all rows
            sel = np.ones(len(p.rows), dtype=bool)
        else:
            sel = np.isin(p.rows, sub_rows)
            if not sel.any():
                continue
        fs, oks = f[sel], ok[sel]
        if tf.type.enum:
            if kind == "int":
                val = _map_unique(
                    fs.astype(np.int64),
                    oks,
                    lambda v, tf=tf: process_type(tf.type.name, render(tf, v)),
                )
            else:
                val = _map_unique(
                    fs, oks, lambda v, tf=tf: process_type(tf.type.name, render(tf, v))
                )
        else:
            val = _numeric(fs, oks, kind, tf.type.name)
        out_rows.append((tf, p.rows[sel]))
        vals.append(val)
    return out_rows, vals


def _accumulate(
    gnum: int,
    dest: int,
    parts: list[tuple[np.ndarray, np.ndarray, _Pending, int]],
    defs: list[_Definition],
) -> None:
    """Accumulate component values into ``dest`` in file order, restarting at 0 at every
    definition of the message that holds a field with such a component."""
    mt = _MESSAGES[gnum]
    resets = [
        d.msg_index
        for d in defs
        if d.layout.global_num == gnum
        and any(
            c.accumulate and c.def_num == dest
            for num, _s, _b in d.layout.fields
            if (fld := mt.fields.get(num)) is not None
            for c in fld.components or ()
        )
    ]
    msg = np.concatenate([idx[p.rows] for idx, _, p, _ in parts])
    order = np.concatenate([np.full(len(p.rows), p.order) for _, _, p, _ in parts])
    x = np.concatenate([p.x[p.rows] for _, _, p, _ in parts])
    ok = np.concatenate([p.ok[p.rows] for _, _, p, _ in parts])
    bits = np.concatenate([np.full(len(p.rows), b) for _, _, p, b in parts])
    which = np.concatenate([np.full(len(p.rows), k) for k, (_, _, p, _) in enumerate(parts)])
    local = np.concatenate([np.arange(len(p.rows)) for _, _, p, _ in parts])
    sel = np.flatnonzero(ok)
    srt = sel[np.lexsort((order[sel], msg[sel]))]
    if len(srt) == 0:
        return
    xs = x[srt]
    if len(set(bits.tolist())) > 1:
        from ingest.fit.backends import accumulate

        accs = np.empty(len(srt), dtype=np.int64)
        acc = 0
        group = np.searchsorted(np.array(resets, dtype=np.int64), msg[srt], side="right")
        last = -1
        for k, (xv, b, g) in enumerate(
            zip(xs.tolist(), bits[srt].tolist(), group.tolist(), strict=True)
        ):
            if g != last:
                acc, last = 0, g
            acc = accumulate(xv, acc, b)
            accs[k] = acc
    else:
        top = 1 << int(bits[0])
        group = np.searchsorted(np.array(resets, dtype=np.int64), msg[srt], side="right")
        first = np.ones(len(srt), dtype=bool)
        first[1:] = group[1:] != group[:-1]
        prev = np.empty_like(xs)
        prev[1:] = xs[:-1]
        delta = np.where(first, xs, (xs - prev) % top)
        cs = np.cumsum(delta)
        start = np.maximum.accumulate(np.where(first, np.arange(len(srt)), 0))
        accs = cs - cs[start] + delta[start]
    for k, (_, _, p, _) in enumerate(parts):
        mine = which[srt] == k
        vals = p.x.copy()
        vals[p.rows[local[srt][mine]]] = accs[mine]
        p.x = vals


def _compressed_timestamps(
    n: int, set_ts: np.ndarray, offsets: np.ndarray, seg_of: np.ndarray, seg_first: list[int]
) -> np.ndarray:
    """Timestamps of compressed-header messages (-1 elsewhere)."""
    out = np.full(n, -1, dtype=np.int64)
    comp = np.flatnonzero(offsets >= 0)
    if len(comp) == 0:
        return out
    anchor = set_ts >= 0
    anchor_val = np.where(anchor, set_ts, 0)
    anchor[np.array(seg_first, dtype=np.int64)[np.array(seg_first) < n]] = True
    a_idx = np.maximum.accumulate(np.where(anchor, np.arange(n), 0))
    a = a_idx[comp]
    base = anchor_val[a]
    o = offsets[comp].astype(np.int64)
    first = np.ones(len(comp), dtype=bool)
    first[1:] = a[1:] != a[:-1]
    prev_low = np.empty_like(o)
    prev_low[1:] = o[:-1]
    prev_low = np.where(first, base & 31, prev_low)
    delta = (o - prev_low) % 32
    cs = np.cumsum(delta)
    start = np.maximum.accumulate(np.where(first, np.arange(len(comp)), 0))
    out[comp] = base + cs - cs[start] + delta[start]
    _ = seg_of
    return out


# --- the whole file ----------------------------------------------------------------------------


def decode_fast(
    data: bytes, check_crc: bool = True, compute_crc: bool = True, salvage: bool = False
) -> DecodedFit:
    """Decode FIT bytes with the NumPy fast path.

    ``check_crc`` raises FitError on a CRC mismatch; otherwise ``crc_ok`` reports it (unless
    ``compute_crc`` is False, which skips the CRC entirely and reports True: for benchmarks).

    ``salvage``: when the data ends early (a record or a chained file's header cut off, a header
    announcing more bytes than there are or none at all, the CRC missing) decode the complete
    records before the cut instead of raising, and set ``truncated``; CRC mismatches do not
    raise either. Both give ``crc_ok`` False. Bytes that do not start with a FIT header still
    raise FitError.
    """
    try:
        return _decode(data, check_crc, compute_crc, salvage)
    except FitError:
        raise
    except Exception as exc:  # garbage can trip any step; callers only see FitError
        raise FitError(f"corrupt FIT data: {type(exc).__name__}: {exc}") from exc


def _decode(data: bytes, check_crc: bool, compute_crc: bool, salvage: bool) -> DecodedFit:
    w = _walk(data, salvage)
    buf = np.frombuffer(data, dtype=np.uint8)
    ok = not w.truncated and _crc_ok(data, buf, w, check_crc and not salvage, compute_crc)
    starts, offsets, seg_of, by_global = _index(w, buf)
    n = len(starts)

    # raw values: NumPy per layout for big message types, plain Python for the small ones
    set_ts = np.full(n, -1, dtype=np.int64)  # the timestamp field of each message, or -1
    fast_parts: dict[int, list[_Part]] = {}
    slow_parts: dict[int, list[tuple[_Layout, np.ndarray, list[list[Any]]]]] = {}
    for g, items in by_global.items():
        if sum(len(idx) for _, idx in items) > _SMALL and all(
            _vectorisable(la.global_num, la.fields) for la, _ in items
        ):
            fast_parts[g] = [
                _read_numpy(la, idx, buf, starts, offsets, set_ts) for la, idx in items
            ]
        else:
            slow_parts[g] = [_read_slow(la, idx, data, starts, set_ts) for la, idx in items]
    compressed = _compressed_timestamps(n, set_ts, offsets, seg_of, w.segment_first)

    # tables, in the order of their first message
    tables: dict[str, Table] = {}
    last_ts: np.ndarray | None = None  # made when needed
    first = {g: min(int(idx[0]) for _, idx in items) for g, items in by_global.items()}
    names: dict[int, str] = {}
    for g in sorted(by_global, key=first.__getitem__):
        if g in fast_parts:
            parts = fast_parts[g]
            hr_start = None
            if g == MESG_NUM_HR:
                if last_ts is None:
                    last_ts = _last_timestamps(n, set_ts, w.segment_first)
                hr_start = _hr_starts([(p.lay, p.idx) for p in parts], n, set_ts, last_ts, seg_of)
            t = _fast_table(g, parts, w.definitions, compressed, hr_start)
        elif all(_plain_fields(g, la.fields) is not None for la, _, _ in slow_parts[g]):
            t = _plain_table(g, slow_parts[g], compressed)
        else:
            if last_ts is None:
                last_ts = _last_timestamps(n, set_ts, w.segment_first)
            t = _slow_table(g, slow_parts[g], w.definitions, compressed, seg_of, last_ts)
        tables[t.name] = t
        names[g] = t.name
    fields = described(tables)  # a field_description may follow the first messages using it
    for g, items in by_global.items():
        if fields and any(la.dev for la, _ in items):
            _developer_columns(tables[names[g]], items, buf, starts, fields)
    return DecodedFit(tables, len(w.segment_first), len(data), ok, w.truncated)


_BASE_TYPE_CODES = {name: code for code, name in
                    _profile.FIELD_TYPES["fit_base_type"].enum.items()}


def described(tables: dict[str, Table]) -> dict[tuple[int, int], tuple[str, int]]:
    """(developer data index, field number) -> (field name, base type id), from the
    ``field_description`` messages read so far (a later one of a field wins)."""
    out = {}
    for row in tables["field_description"].rows() if "field_description" in tables else ():
        index, num = row.get("developer_data_index"), row.get("field_definition_number")
        name, base = row.get("field_name"), row.get("fit_base_type_id")
        base = _BASE_TYPE_CODES.get(base, base) if isinstance(base, str) else base
        if isinstance(index, int) and isinstance(num, int) and name and isinstance(base, int):
            out[(index, num)] = (str(name), base)
    return out


def _developer_columns(table: Table, items: list[tuple[_Layout, np.ndarray]],
                       buf: np.ndarray, starts: np.ndarray,
                       fields: dict[tuple[int, int], tuple[str, int]]) -> None:
    """Add the message type's numeric one-value developer fields to ``table`` as columns
    ``developer:<field name>`` (the first valid field of a name in a message wins)."""
    order = np.sort(np.concatenate([idx for _, idx in items]))
    n = len(table)
    for lay, idx in items:
        rec, rows, off = None, np.searchsorted(order, idx), lay.size - lay.dev_size
        for num, size, index in lay.dev:
            name, bt = fields.get((index, num), ("", _BYTE))
            code, bsize, invalid = _NUMPY.get(bt, ("", 0, None))
            if name and bt not in (_BYTE, _STRING) and size == bsize:
                rec = _rows(buf, starts[idx], lay.size) if rec is None else rec
                v = np.ascontiguousarray(rec[:, off : off + size]).view(
                    np.dtype(lay.endian + code))[:, 0]
                ok = ~np.isnan(v) if invalid is None else v != invalid
                key = f"developer:{name}"
                if key not in table.columns:
                    table.columns[key] = np.full(n, np.nan)
                    table.kinds[key] = "float" if code[0] == "f" else "int"
                col = table.columns[key]
                free = ok & np.isnan(col[rows])
                col[rows[free]] = v[free].astype(np.float64)
            off += size
    for key in [k for k in table.columns if k.startswith("developer:")]:
        table.kinds[key], table.columns[key] = finish_column(table.kinds[key], table.columns[key])


def _crc_ok(data: bytes, buf: np.ndarray, w: _Walk, check: bool, compute: bool) -> bool:
    """Whether the CRCs match; a mismatch raises with ``check``. Not computed (True) when
    neither ``check`` nor ``compute``."""
    if not (check or compute):
        return True
    error = _crc_error(data, buf, w)
    if error is not None and check:
        raise error
    return error is None


def _index(
    w: _Walk, buf: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, list[tuple[_Layout, np.ndarray]]]]:
    """For every data message: its offset, the time offset of its compressed header (-1 for a
    normal header) and its chained file; and the messages of each layout, by message type."""
    n = len(w.starts)
    starts = np.fromiter(w.starts, dtype=np.int64, count=n)
    hdr = buf[starts]
    offsets = _TIME_OFFSET[hdr]
    # the layout of each message: its definition's local -> layout map, at its local number
    epoch = _repeat_index([d.msg_index for d in w.definitions], n)
    layout_of = np.array(w.local_layouts, dtype=np.int32)[epoch * 16 + _LOCAL[hdr]]
    seg_of = _repeat_index(w.segment_first, n)
    order = np.argsort(
        layout_of.astype(np.uint16 if len(w.layouts) < 1 << 16 else np.int64), kind="stable"
    )
    bounds = np.searchsorted(layout_of[order], np.arange(len(w.layouts) + 1))
    by_global: dict[int, list[tuple[_Layout, np.ndarray]]] = {}
    for lay in w.layouts:
        idx = order[bounds[lay.lid] : bounds[lay.lid + 1]]
        if len(idx):
            by_global.setdefault(lay.global_num, []).append((lay, idx))
    return starts, offsets, seg_of, by_global


# by header byte: the local message number, and the time offset of a compressed header
_LOCAL = np.array([(h >> 5) & 3 if h & 0x80 else h & 0x0F for h in range(256)], dtype=np.int64)
_TIME_OFFSET = np.array([h & 0x1F if h & 0x80 else -1 for h in range(256)], dtype=np.int64)


def _repeat_index(firsts: list[int], n: int) -> np.ndarray:
    """For n items split into runs starting at ``firsts`` (ascending), each item's run number
    (runs before the first start count as run 0)."""
    if not firsts:
        return np.zeros(n, dtype=np.int64)
    bounds = np.array([*firsts, n], dtype=np.int64)
    bounds[0] = 0
    return np.repeat(np.arange(len(firsts)), np.diff(bounds))


def _last_timestamps(n: int, set_ts: np.ndarray, seg_first: list[int]) -> np.ndarray:
    """The last timestamp field value before each message (0 at the start of a segment)."""
    before = np.zeros(n, dtype=np.int64)
    if n == 0:
        return before
    has = set_ts >= 0
    reset = np.zeros(n, dtype=bool)
    reset[np.array([s for s in seg_first if s < n], dtype=np.int64)] = True
    key = np.where(has | reset, np.arange(n), -1)
    src = np.maximum.accumulate(key)
    incl = np.where(has[src], set_ts[src], 0)  # includes the message itself
    before[1:] = incl[:-1]
    before[reset] = 0
    return before


def _rows(buf: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """The (len(starts), size) matrix of the bytes at each start: rows gathered from a view
    whose row i is the ``size`` bytes from offset i."""
    windows = np.ndarray((len(buf) - size + 1, size), np.uint8, buffer=buf, strides=(1, 1))
    rows: np.ndarray = windows[starts]
    return rows


@dataclass
class _Part:
    """The messages of one layout, read with NumPy."""

    lay: _Layout
    idx: np.ndarray  # message indices
    raws: list[_Raw | None]  # per field (None: in the block, not needed)
    rec: np.ndarray  # (messages, record size) bytes
    plan: _Plan | None  # None for a message type the profile does not know


def _read_numpy(
    lay: _Layout,
    idx: np.ndarray,
    buf: np.ndarray,
    starts: np.ndarray,
    offsets: np.ndarray,
    set_ts: np.ndarray,
) -> _Part:
    """A layout's messages read with NumPy; their timestamps go into ``set_ts``."""
    rec = _rows(buf, starts[idx], lay.size)
    plan = None
    if lay.global_num in _MESSAGES:
        plan = _plan(lay.global_num, lay.endian, lay.fields, bool((offsets[idx] >= 0).any()))
    raws = _read_layout(lay, rec, frozenset() if plan is None else plan.skip_raw)
    for (num, _s, _b), raw in zip(lay.fields, raws, strict=True):
        if num == _TIMESTAMP and raw is not None and raw.kind == "num":
            set_ts[idx[raw.valid]] = raw.v[raw.valid].astype(np.int64)
    return _Part(lay, idx, raws, rec, plan)


def _read_slow(
    lay: _Layout, idx: np.ndarray, data: bytes, starts: np.ndarray, set_ts: np.ndarray
) -> tuple[_Layout, np.ndarray, list[list[Any]]]:
    """A layout's messages read in plain Python; their timestamps go into ``set_ts``."""
    values = _read_python(lay, data, starts[idx].tolist())
    for k, (num, _s, _b) in enumerate(lay.fields):
        if num == _TIMESTAMP and lay.fields[k][2] not in (_BYTE, _STRING):
            for i, vals in zip(idx.tolist(), values, strict=True):
                ts = vals[k]
                if ts is not None and not isinstance(ts, tuple):
                    set_ts[i] = int(ts)
    return lay, idx, values


def _slow_table(
    g: int,
    parts: list[tuple[_Layout, np.ndarray, list[list[Any]]]],
    defs: list[_Definition],
    compressed: np.ndarray,
    seg_of: np.ndarray,
    last_ts: np.ndarray,
) -> Table:
    """One message type through the renderer of ``backends.py``, a message at a time in file
    order, with its state across messages (accumulators, hr start times, per chained file)."""
    # (segment, message index, 0 for a definition / 1 for a message, payload)
    events: list[tuple[int, int, int, Any]] = [
        (d.segment, d.msg_index, 0, d.layout) for d in defs if d.layout.global_num == g
    ]
    for lay, idx, values in parts:
        nums = [num for num, _s, _b in lay.fields]
        events.extend(
            (seg, i, 1, (list(zip(nums, vals, strict=True)), last, ts))
            for seg, i, vals, last, ts in zip(
                seg_of[idx].tolist(),
                idx.tolist(),
                values,
                last_ts[idx].tolist(),
                compressed[idx].tolist(),
                strict=True,
            )
        )
    events.sort(key=itemgetter(0, 1, 2))
    r = MessageRenderer()
    rows: list[dict[str, Any]] = []
    seg = -1
    for segment, _i, what, payload in events:
        if segment != seg:
            seg = segment
            r.reset()
        if what == 0:
            r.definition(g, (num for num, _s, _b in payload.fields))
            continue
        natives, r.last_timestamp, ts = payload
        rows.append(r.message(g, natives, None if ts < 0 else ts))
    return _rows_table(r.name(g), rows)


_AS_IS, _NAMED, _RENDERED = 0, 1, 2  # how a plain field's value comes from its raw value
_PlainField = tuple[Any, str, int, dict[Any, Any]]


@lru_cache(maxsize=4096)
def _plain_fields(
    gnum: int, fields: tuple[tuple[int, int, int], ...]
) -> tuple[_PlainField, ...] | None:
    """For each field of a layout: its profile field (None where unknown), its name, and how
    its value comes from its raw value: ``_AS_IS`` (no subfields, components, enum, scale,
    offset or type processor), ``_NAMED`` (only an enum: its name in the dict that follows, or
    the raw value) or ``_RENDERED`` -- if the layout's messages need no state from other
    messages (no accumulated components, not hr); else None."""
    mt = _MESSAGES.get(gnum)
    if mt is None:
        return ((None, "", _RENDERED, {}),) * len(fields)
    if gnum == MESG_NUM_HR:
        return None
    out: list[_PlainField] = []
    for num, _s, _b in fields:
        fld = mt.fields.get(num)
        if fld is None:
            out.append((None, "", _RENDERED, {}))
            continue
        for c in (c for f in (fld, *(fld.subfields or ())) for c in f.components or ()):
            if c.accumulate or c.def_num not in mt.fields:
                return None
        plain = not (
            fld.subfields
            or fld.components
            or fld.scale
            or fld.offset
            or fld.type.name in _PROCESSED
        )
        enum = fld.type.enum
        how = _RENDERED if not plain else _NAMED if enum else _AS_IS
        out.append((fld, fld.name, how, enum or {}))
    return tuple(out)


def _plain_table(
    g: int, parts: list[tuple[_Layout, np.ndarray, list[list[Any]]]], compressed: np.ndarray
) -> Table:
    """A small table whose layouts all have ``_plain_fields``: what ``MessageRenderer`` gives,
    without its state across messages."""
    msgs: list[tuple[int, tuple[_PlainField, ...], list[int], list[Any], int]] = []
    for lay, idx, values in parts:
        fields = _plain_fields(g, lay.fields)
        assert fields is not None
        nums = [num for num, _s, _b in lay.fields]
        msgs.extend(
            (i, fields, nums, vals, ts)
            for i, vals, ts in zip(idx.tolist(), values, compressed[idx].tolist(), strict=True)
        )
    if len(parts) > 1:
        msgs.sort(key=itemgetter(0))
    mt = _MESSAGES.get(g)
    known = {} if mt is None else mt.fields
    rows = [_plain_row(known, fields, nums, vals, ts) for _i, fields, nums, vals, ts in msgs]
    return _rows_table(f"mesg_{g}" if mt is None else mt.name, rows)


_TS_TYPE = _profile.FIELD_TYPE_TIMESTAMP.type.name


def _plain_row(
    known: dict[int, Any],
    fields: tuple[_PlainField, ...],
    nums: list[int],
    vals: list[Any],
    ts: int,
) -> dict[str, Any]:
    """``MessageRenderer.message`` for a message without accumulated components: subfields,
    components, enum names, scale and offset, type processors; the first valid value of a name
    wins (a field's components come before it); ``ts`` (if not -1) is the timestamp of a
    compressed header. ``known``: the fields of the message type by number."""
    row: dict[str, Any] = {}
    natives: set[tuple[int, Any]] | None = None
    for (fld, name, how, names), raw in zip(fields, vals, strict=True):
        if fld is None or raw is None:
            continue
        if how != _RENDERED:
            if name not in row:
                row[name] = raw if how == _AS_IS else names.get(raw, raw)
            continue
        f = fld
        if fld.subfields:
            natives = natives or set(zip(nums, vals, strict=True))
            f = _resolve_subfield(fld, natives)
        for c in f.components or ():
            try:
                craw = component_raw(c, raw)
            except ValueError:  # past the end of the value
                continue
            target = known[c.def_num]
            if target.subfields:
                natives = natives or set(zip(nums, vals, strict=True))
                target = _resolve_subfield(target, natives)
            v = process_type(target.type.name, render(target, scale_offset(c, craw)))
            if v is not None and target.name not in row:
                row[target.name] = v
        v = process_type(f.type.name, scale_offset(f, render(f, raw)))
        if v is not None and f.name not in row:
            row[f.name] = v
    if ts >= 0 and "timestamp" not in row:
        row["timestamp"] = process_type(_TS_TYPE, ts)
    return row


def _resolve_subfield(fld: Any, natives: set[tuple[int, Any]]) -> Any:
    """``resolve_subfield`` with the message's (field number, raw value) pairs as a set."""
    for sub, refs in _subfield_refs_of(fld):
        for ref in refs:
            if ref in natives:
                return sub
    return fld


@cache
def _subfield_refs_of(fld: Any) -> tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...]:
    """Each subfield of ``fld`` with the (field number, raw value) pairs that select it."""
    return tuple(
        (sub, tuple((ref.def_num, ref.raw_value) for ref in sub.ref_fields))
        for sub in fld.subfields
    )


# the kind ``table_from_rows`` gives values of these types (ints: when below 2**53, else
# "object"); values of several kinds make an "object" column, but for dates and ints
_TYPE_KINDS: dict[type, Kind] = {
    int: "int",
    bool: "bool",
    float: "float",
    dt.datetime: "time",
    dt.time: "tod",
    str: "object",
    tuple: "object",
}


def _column_kind(values: list[Any]) -> Kind | None:
    """The kind ``table_from_rows`` gives a column of these values (None: ask it)."""
    kinds: set[Kind] = set()
    for v in values:
        if v is not None:
            kind = _TYPE_KINDS.get(type(v))
            if kind is None:
                return None
            if kind == "int" and not -_MAX_EXACT < v < _MAX_EXACT:
                kind = "object"
            kinds.add(kind)
    if len(kinds) == 1:
        return kinds.pop()
    return None if "time" in kinds else "object"  # dates mixed with ints: its rules


def _rows_table(name: str, rows: list[dict[str, Any]]) -> Table:
    """``table_from_rows`` for the few rows of a small table: the same columns and kinds, with
    the numeric columns made in one NumPy call."""
    n = len(rows)
    values: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            col = values.get(key)
            if col is None:
                col = values[key] = [None] * n
            col[i] = value
    kinds: dict[str, Kind] = {}
    numeric: list[list[float]] = []
    objects: list[list[Any]] = []
    for key, values_of_key in values.items():
        kind = _column_kind(values_of_key)
        if kind is None:
            return table_from_rows(name, rows)
        kinds[key] = kind
        if kind == "object":
            objects.append(values_of_key)
        elif kind in ("int", "float", "bool"):
            numeric.append([np.nan if v is None else v for v in values_of_key])
        else:
            numeric.append(
                [np.nan if v is None else _numeric_value(kind, v) for v in values_of_key]
            )
    nums = iter(np.array(numeric, dtype=np.float64).reshape(len(numeric), n))
    objs = np.empty((len(objects), n), dtype=object)
    for j, values_of_key in enumerate(objects):
        for i, v in enumerate(values_of_key):
            objs[j, i] = v  # one by one: a tuple stays one element
    obj_rows = iter(objs)
    columns: dict[str, np.ndarray] = {}
    for key, kind in kinds.items():
        if kind == "object":
            columns[key] = next(obj_rows)
        else:
            num = next(nums)
            # a time column of dates before 1978 is relative seconds, and ints are below 2**53
            # (larger ones are objects): only then does finish_column change anything
            early = kind == "time" and not (num >= FIT_DATETIME_MIN).any()
            kinds[key], columns[key] = finish_column(kind, num) if early else (kind, num)
    return Table(name, columns, kinds, n)
