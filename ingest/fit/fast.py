"""The fast FIT decoder: a Python walk over record headers, then NumPy per message layout.

How it works:

1. ``_walk`` steps over the records in Python, doing as little as possible per data message
   (one table lookup of its size by header byte, one list append). Definition messages are
   parsed there; definitions with identical layouts (message number, byte order, fields, sizes,
   base types, developer bytes) are merged into one layout, so a file that redefines the same
   message hundreds of times still has a handful of layouts.
2. Each layout's messages are gathered into one (n, record size) byte matrix and read at once
   through a NumPy structured dtype (byte order from the definition).
3. State that runs across messages is computed over the whole file with vectorised scans:
   compressed-header timestamps (the 5-bit offset counts from the last timestamp of any message,
   reset per chained file) and accumulated components (``compressed_speed_distance`` ->
   ``distance``, ``cycles`` -> ``total_cycles``...; they restart at every definition holding the
   field, as fitdecode does).
4. Values follow the rules in ``decoded.py``, mirroring fitdecode: subfields, components, scale
   and offset, enum names, dates. The rare message types whose rules need per-message state
   beyond that (``hr``, with ``event_timestamp_12``) or whose layout is exotic go through the
   plain-Python renderer of ``backends.py`` instead, fed with the raw values read here.
5. The CRC (CRC-16/ARC, as the FIT SDK) is checked in NumPy: blocks of the data are run in
   parallel, two bytes per step through a 65536-entry table, and the block CRCs are combined with
   "append n zero bytes" tables (the CRC with a zero start is linear).

The profile (names, types, scales, components, subfields) is fitdecode's ``profile`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from fitdecode import profile as _profile
from fitdecode import types as _types

from ingest.fit.backends import (
    MESG_NUM_HR,
    MessageRenderer,
    process_type,
    render,
    scale_offset,
    table_from_rows,
)
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
_MAX_EXACT = float(1 << 53)
# Tables with at most this many messages go through the plain-Python renderer: for a handful of
# messages NumPy's per-call overhead costs more than it saves.
_SMALL = 24


# --- CRC ---------------------------------------------------------------------------------------


def _byte_table() -> np.ndarray:
    t = np.zeros(256, dtype=np.uint16)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t[i] = c
    return t


_T8 = _byte_table()
_STATES = np.arange(65536, dtype=np.uint32)
_S1 = ((_STATES >> 8) ^ _T8[_STATES & 0xFF]).astype(np.uint16)  # state after one zero byte
_S2: np.ndarray = _S1[_S1]  # state s after the 16-bit word w: _S2[s ^ w]


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
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    n = len(buf)
    if n == 0:
        return 0
    words_n = (n + 1) // 2
    # Few steps over many short blocks: NumPy's cost is per call, not per element.
    block_log = 2 if words_n < 4096 else 3
    block = 1 << block_log
    blocks = -(-words_n // block)
    blocks = 1 << (blocks - 1).bit_length()
    padded = np.zeros(blocks * block * 2, dtype=np.uint8)
    padded[len(padded) - n :] = buf  # leading zeros leave a zero-start CRC unchanged
    words = padded.view("<u2").reshape(blocks, block)
    state = np.zeros(blocks, dtype=np.uint16)
    for j in range(block):
        state = _S2[state ^ words[:, j]]
    level = block_log
    while len(state) > 1:
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


@dataclass
class _Definition:
    msg_index: int  # data messages before it
    segment: int
    layout: _Layout


@dataclass
class _Walk:
    starts: list[int] = field(default_factory=list)
    def_positions: list[int] = field(default_factory=list)
    epoch_layouts: list[list[int]] = field(default_factory=list)
    definitions: list[_Definition] = field(default_factory=list)
    layouts: list[_Layout] = field(default_factory=list)
    segment_first: list[int] = field(default_factory=list)  # first message index per segment
    crc_spans: list[tuple[int, int]] = field(default_factory=list)  # (start, crc offset)
    header_crcs: list[tuple[int, int]] = field(default_factory=list)  # (header offset, crc)


_RUN = 16
_RUNS = [bytes([h]) * _RUN for h in range(256)]


def _walk(data: bytes) -> _Walk:
    n = len(data)
    w = _Walk()
    keys: dict[tuple[Any, ...], _Layout] = {}
    starts = w.starts
    append = starts.append
    extend = starts.extend
    pos = 0
    if n < 12:
        raise FitError("not a FIT file: shorter than a FIT header", 0)
    while pos < n:
        if n - pos < 12:
            raise FitError(f"truncated FIT header ({n - pos} trailing bytes)", pos)
        hs = data[pos]
        if data[pos + 8 : pos + 12] != b".FIT" or hs < 12:
            raise FitError("not a FIT file (no .FIT header)", pos)
        if hs not in (12, 14):
            raise FitError(f"unsupported FIT header size {hs}", pos)
        if n - pos < hs:
            raise FitError("truncated FIT header", pos)
        if hs == 14:
            hcrc = data[pos + 12] | (data[pos + 13] << 8)
            if hcrc:
                w.header_crcs.append((pos, hcrc))
        body = pos + hs
        end = body + int.from_bytes(data[pos + 4 : pos + 8], "little")
        if end + 2 > n:
            raise FitError(
                f"truncated FIT file: header announces {end + 2 - pos} bytes, {n - pos} are there",
                pos,
            )
        segment = len(w.segment_first)
        w.segment_first.append(len(starts))
        w.crc_spans.append((pos, end))
        step = [0] * 256
        local_layout = [-1] * 16
        p = body
        prev = -1
        while p < end:
            h = data[p]
            s = step[h]
            if s:
                if h == prev:
                    # in a run of identical headers: try to take _RUN records at once
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
            # definition message
            if p + 6 > end:
                raise FitError("definition message crosses the end of the data", p)
            big = data[p + 2] != 0
            gnum = int.from_bytes(data[p + 3 : p + 5], "big" if big else "little")
            nf = data[p + 5]
            q = p + 6
            if q + 3 * nf > end:
                raise FitError("definition message crosses the end of the data", p)
            fields: list[tuple[int, int, int]] = []
            total = 1
            for i in range(q, q + 3 * nf, 3):
                num, size, bt = data[i], data[i + 1], data[i + 2]
                info = _NUMPY.get(bt)
                if info is None:
                    bt = _BYTE
                elif size % info[1]:
                    bt = _BYTE  # odd size for the type: bytes, as fitdecode does
                if size == 0:
                    raise FitError(f"field {num} declared with size 0", p)
                fields.append((num, size, bt))
                total += size
            q += 3 * nf
            dev = 0
            if h & 0x20:
                if q + 1 > end:
                    raise FitError("definition message crosses the end of the data", p)
                nd = data[q]
                q += 1
                if q + 3 * nd > end:
                    raise FitError("definition message crosses the end of the data", p)
                for i in range(q + 1, q + 3 * nd, 3):
                    if data[i] == 0:
                        raise FitError("developer field declared with size 0", p)
                    dev += data[i]
                q += 3 * nd
            key = (gnum, big, tuple(fields), dev)
            lay = keys.get(key)
            if lay is None:
                lay = _Layout(gnum, ">" if big else "<", tuple(fields), dev, total + dev, len(keys))
                keys[key] = lay
                w.layouts.append(lay)
            local = h & 0x0F
            local_layout[local] = lay.lid
            size = lay.size
            step[local] = step[local | 0x10] = step[local | 0x20] = step[local | 0x30] = size
            if local < 4:
                base = 0x80 | (local << 5)
                for t in range(base, base + 32):
                    step[t] = size
            w.def_positions.append(p)
            w.epoch_layouts.append(local_layout.copy())
            w.definitions.append(_Definition(len(starts), segment, lay))
            p = q
        if p != end:
            raise FitError("last record crosses the end of the data", starts[-1] if starts else p)
        pos = end + 2
    return w


def _check_crc(data: bytes, buf: np.ndarray, w: _Walk) -> bool:
    for pos, stored in w.header_crcs:
        if crc16(buf[pos : pos + 12]) != stored:
            raise FitError("CRC mismatch in the FIT header", pos)
    for start, end in w.crc_spans:
        stored = data[end] | (data[end + 1] << 8)
        computed = crc16(buf[start:end])
        if computed != stored:
            raise FitError(
                f"CRC mismatch: file says 0x{stored:04X}, data gives 0x{computed:04X}", end
            )
    return True


def crc_ok(data: bytes) -> bool:
    """Whether every header and file CRC in ``data`` matches (False if unreadable)."""
    try:
        w = _walk(data)
        return _check_crc(data, np.frombuffer(data, dtype=np.uint8), w)
    except FitError:
        return False


# --- raw values --------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One field of one layout, all messages: kind "num" (scalar number), "arr" (n, count)
    numbers, "bytes" (n, size) uint8 or "str"."""

    kind: str
    v: Any
    valid: np.ndarray  # (n,) for num/bytes/str; (n, count) for arr
    bt: int

    def python(self) -> list[Any]:
        """fitdecode's raw values as Python objects."""
        if self.kind == "num":
            out: list[Any] = self.v.tolist()
            for i in np.flatnonzero(~self.valid).tolist():
                out[i] = None
            return out
        if self.kind == "str":
            return list(self.v)
        obj = self.v.astype(object)
        if self.kind == "arr":
            obj[~self.valid] = None
            return [tuple(r) for r in obj.tolist()]
        rows = [tuple(r) for r in obj.tolist()]
        return [r if ok else None for r, ok in zip(rows, self.valid.tolist(), strict=True)]


def _read_layout(lay: _Layout, rec: np.ndarray) -> list[_Raw]:
    n = len(rec)
    raws: list[_Raw] = []
    off = 1
    for _num, size, bt in lay.fields:
        code, bsize, invalid = _NUMPY[bt]
        if bt == _BYTE:
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

    def objects(self) -> np.ndarray:
        if self.obj is not None:
            return self.obj
        assert self.num is not None
        out = np.empty(len(self.num), dtype=object)
        out[:] = [row_value(self.kind, x) for x in self.num.tolist()]
        return out


def _obj_array(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _map_unique(values: np.ndarray, valid: np.ndarray, fn: Any) -> _Val:
    """Apply a Python function to each distinct valid value."""
    out = np.empty(len(values), dtype=object)
    if valid.any():
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
    """Arrays and bytes: tuples, scaled element-wise; bool of a tuple is True (fitdecode)."""
    type_name = fld.type.name
    v = raw.v[rows]
    ok = raw.valid[rows]
    if fld.scale or fld.offset:
        f = v.astype(np.float64)
        if fld.scale:
            f = f / fld.scale
        if fld.offset:
            f = f - fld.offset
        obj = f.astype(object)
    else:
        obj = v.astype(object)
    if raw.kind == "arr":
        obj[~ok] = None
        vals: list[Any] = [tuple(r) for r in obj.tolist()]
    else:
        vals = [
            tuple(r) if good else None for r, good in zip(obj.tolist(), ok.tolist(), strict=True)
        ]
    vals = [process_type(type_name, x) for x in vals] if type_name in _PROCESSED else vals
    return _Val("object", None, _obj_array(vals))


_PROCESSED = frozenset({"bool", "date_time", "local_date_time", "localtime_into_day"})


def _render_field(fld: Any, raw: _Raw, rows: np.ndarray) -> _Val:
    if raw.kind == "num":
        return _render_num(fld, raw.v[rows], raw.valid[rows])
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


def _vectorisable(lay: _Layout) -> bool:
    """Whether a layout's components can be expanded with NumPy."""
    mt = _MESSAGES.get(lay.global_num)
    if mt is None:
        return True
    for num, size, bt in lay.fields:
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
    fld: Any, lay: _Layout, raws: list[_Raw], n: int
) -> list[tuple[Any, np.ndarray]]:
    """[(field or subfield, row indices)] as fitdecode resolves subfields per message."""
    if not fld.subfields:
        return [(fld, np.arange(n))]
    sel = np.full(n, -1, dtype=np.int64)
    for si, sub in enumerate(fld.subfields):
        hit = np.zeros(n, dtype=bool)
        for ref in sub.ref_fields:
            for (num, _size, _bt), raw in zip(lay.fields, raws, strict=True):
                if num == ref.def_num and raw.kind == "num":
                    hit |= raw.valid & (raw.v == ref.raw_value)
        sel[(sel < 0) & hit] = si
    groups: list[tuple[Any, np.ndarray]] = []
    for si in np.unique(sel).tolist():
        rows = np.flatnonzero(sel == si)
        groups.append((fld if si < 0 else fld.subfields[si], rows))
    return groups


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


def _fast_table(
    gnum: int,
    lays: list[tuple[_Layout, np.ndarray, list[_Raw]]],
    defs: list[_Definition],
    compressed: np.ndarray,
    hr_start: np.ndarray | None = None,
) -> Table:
    """Vectorised rows for one message type: lays = [(layout, message indices, raws)].

    ``hr_start`` (hr messages only): the start time each message's event_timestamp_12 counts
    from, per message index."""
    mt = _MESSAGES.get(gnum)
    name = mt.name if mt is not None else f"mesg_{gnum}"
    all_idx = np.sort(np.concatenate([idx for _, idx, _ in lays]))
    total = len(all_idx)
    if mt is None:
        return Table(name, {}, {}, total)
    per_layout: list[tuple[np.ndarray, list[_Slot]]] = []
    acc_parts: dict[int, list[tuple[np.ndarray, np.ndarray, _Pending, int]]] = {}
    for lay, idx, raws in lays:
        n = len(idx)
        slots: list[_Slot] = []
        for fi, ((num, _size, _bt), raw) in enumerate(zip(lay.fields, raws, strict=True)):
            base = mt.fields.get(num)
            if base is None:
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
                slots.append(
                    _Slot(fi * 1024 + 1000, [(fld, rows)], [_render_field(fld, raw, rows)])
                )
        if (compressed[idx] >= 0).any():
            rows = np.flatnonzero(compressed[idx] >= 0)
            ts = compressed[idx][rows].astype(np.float64)
            slots.append(
                _Slot(
                    1 << 30,
                    [(_profile.FIELD_TYPE_TIMESTAMP, rows)],
                    [_numeric(ts, np.ones(len(rows), bool), "int", "date_time")],
                )
            )
        per_layout.append((idx, slots))

    for dest, parts in acc_parts.items():
        _accumulate(gnum, dest, parts, defs)

    # render components, then merge names: the first valid value of a name wins
    pieces: dict[str, list[tuple[np.ndarray, _Val]]] = {}
    for (lay, idx, raws), (_, slots) in zip(lays, per_layout, strict=True):
        n = len(idx)
        slots.sort(key=lambda s: s.order)
        filled: dict[str, np.ndarray] = {}
        merged: dict[str, list[tuple[np.ndarray, _Val]]] = {}
        for slot in slots:
            if slot.pending is not None:
                start = None
                fi = slot.order // 1024
                if hr_start is not None and fi < len(lay.fields) and lay.fields[fi][0] == _HR_TS12:
                    start = hr_start[idx]
                slot.name_rows, slot.val = _render_component(mt, lay, raws, slot.pending, n, start)
            if hr_start is not None and any(num == _HR_TS12 for num, _s, _b in lay.fields):
                slot.val = [
                    _hr_datetime(val) if fld.def_num == _HR_TS else val
                    for (fld, _rows), val in zip(slot.name_rows, slot.val, strict=True)
                ]
            for (fld, rows), val in zip(slot.name_rows, slot.val, strict=True):
                fname = fld.name
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
        pos = np.searchsorted(all_idx, idx)
        for fname, got_parts in merged.items():
            for rows, val in got_parts:
                pieces.setdefault(fname, []).append((pos[rows], val))

    columns: dict[str, np.ndarray] = {}
    kinds: dict[str, Kind] = {}
    for fname, col_parts in pieces.items():
        ks = {val.kind for _, val in col_parts}
        kind: Kind = ks.pop() if len(ks) == 1 else "object"
        if kind != "object":
            col = np.full(total, np.nan)
            for rows, val in col_parts:
                assert val.num is not None
                col[rows] = val.num
        else:
            col = np.empty(total, dtype=object)
            for rows, val in col_parts:
                col[rows] = val.objects()
        kinds[fname], columns[fname] = finish_column(kind, col)
    return Table(name, columns, kinds, total)


def _hr_datetime(val: _Val) -> _Val:
    """fitdecode's process_message_hr: every hr.event_timestamp becomes a date (it fails on an
    invalid one, and so do we)."""
    if val.num is None or val.kind not in ("int", "float") or np.isnan(val.num).any():
        raise FitError("hr message with an invalid event_timestamp")
    return _Val("time", val.num + FIT_EPOCH, None)


def _hr_starts(
    lays: list[tuple[_Layout, np.ndarray, list[_Raw]]],
    n: int,
    set_ts: np.ndarray,
    last_ts: np.ndarray,
    seg_of: np.ndarray,
) -> np.ndarray:
    """For each hr message, the time its event_timestamp_12 values count from: the last
    timestamp seen when the latest hr message with an event_timestamp field was read."""
    info: list[tuple[int, int, int, int]] = []  # (message, pos 9, pos 10, pos 253)
    for lay, idx, _raws in lays:
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
    raws: list[_Raw],
    p: _Pending,
    n: int,
    start: np.ndarray | None = None,
) -> tuple[list[tuple[Any, np.ndarray]], list[_Val]]:
    c = p.comp
    x = p.x[p.rows]
    ok = p.ok[p.rows]
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


def decode_fast(data: bytes, check_crc: bool = True, compute_crc: bool = True) -> DecodedFit:
    """Decode FIT bytes with the NumPy fast path.

    ``check_crc`` raises FitError on a CRC mismatch; otherwise ``crc_ok`` reports it (unless
    ``compute_crc`` is False, which skips the CRC entirely and reports True: for benchmarks).
    """
    try:
        return _decode(data, check_crc, compute_crc)
    except FitError:
        raise
    except Exception as exc:  # garbage can trip any step; callers only see FitError
        raise FitError(f"corrupt FIT data: {type(exc).__name__}: {exc}") from exc


def _decode(data: bytes, check_crc: bool, compute_crc: bool) -> DecodedFit:
    w = _walk(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    ok = True
    if check_crc:
        _check_crc(data, buf, w)
    elif compute_crc:
        try:
            _check_crc(data, buf, w)
        except FitError:
            ok = False
    n = len(w.starts)
    starts = np.array(w.starts, dtype=np.int64)
    hdr = buf[starts].astype(np.int64)
    compressed_hdr = (hdr & 0x80) != 0
    local = np.where(compressed_hdr, (hdr >> 5) & 3, hdr & 0x0F).astype(np.int64)
    epoch = np.searchsorted(np.array(w.def_positions, dtype=np.int64), starts) - 1
    layout_of = (
        np.array(w.epoch_layouts, dtype=np.int64).reshape(-1, 16)[epoch, local]
        if n
        else np.zeros(0, np.int64)
    )
    offsets = np.where(compressed_hdr, hdr & 0x1F, -1).astype(np.int64)
    seg_of = (
        np.searchsorted(np.array(w.segment_first, dtype=np.int64), np.arange(n), side="right") - 1
    )

    # raw values per layout
    order = np.argsort(layout_of, kind="stable")
    bounds = np.searchsorted(layout_of[order], np.arange(len(w.layouts) + 1))
    raws_of: dict[int, tuple[np.ndarray, list[_Raw]]] = {}
    set_ts = np.full(n, -1, dtype=np.int64)
    for lay in w.layouts:
        idx = order[bounds[lay.lid] : bounds[lay.lid + 1]]
        if len(idx) == 0:
            continue
        rec = buf[starts[idx][:, None] + np.arange(lay.size)]
        raws = _read_layout(lay, rec)
        raws_of[lay.lid] = (idx, raws)
        for (num, _s, _b), raw in zip(lay.fields, raws, strict=True):
            if num == _TIMESTAMP and raw.kind == "num":
                set_ts[idx[raw.valid]] = raw.v[raw.valid].astype(np.int64)
    compressed = _compressed_timestamps(n, set_ts, offsets, seg_of, w.segment_first)

    # tables
    by_global: dict[int, list[_Layout]] = {}
    for lay in w.layouts:
        if lay.lid in raws_of:
            by_global.setdefault(lay.global_num, []).append(lay)
    first_msg = {g: min(int(raws_of[la.lid][0][0]) for la in lays) for g, lays in by_global.items()}
    tables: dict[str, Table] = {}
    last_ts: np.ndarray | None = None
    hr_start: np.ndarray | None = None
    for g in sorted(by_global, key=first_msg.__getitem__):
        lays = by_global[g]
        count = sum(len(raws_of[la.lid][0]) for la in lays)
        if count > _SMALL and all(_vectorisable(la) for la in lays):
            parts = [(la, *raws_of[la.lid]) for la in lays]
            if g == MESG_NUM_HR:
                if last_ts is None:
                    last_ts = _last_timestamps(n, set_ts, w.segment_first)
                hr_start = _hr_starts(parts, n, set_ts, last_ts, seg_of)
            t = _fast_table(
                g, parts, w.definitions, compressed, hr_start if g == MESG_NUM_HR else None
            )
        else:
            if last_ts is None:
                last_ts = _last_timestamps(n, set_ts, w.segment_first)
            t = _slow_table(g, lays, raws_of, w.definitions, compressed, seg_of, last_ts)
        tables[t.name] = t
    return DecodedFit(tables, len(w.segment_first), len(data), ok)


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


def _slow_table(
    g: int,
    lays: list[_Layout],
    raws_of: dict[int, tuple[np.ndarray, list[_Raw]]],
    defs: list[_Definition],
    compressed: np.ndarray,
    seg_of: np.ndarray,
    last_ts: np.ndarray,
) -> Table:
    """One message type through the plain-Python renderer, in file order."""
    events: list[tuple[int, int, int, Any]] = []
    for d in defs:
        if d.layout.global_num == g:
            events.append((d.segment, d.msg_index, 0, d.layout))
    for lay in lays:
        idx, raws = raws_of[lay.lid]
        cols = [r.python() for r in raws]
        nums = [num for num, _s, _b in lay.fields]
        for k, i in enumerate(idx.tolist()):
            natives = [(num, col[k]) for num, col in zip(nums, cols, strict=True)]
            events.append((int(seg_of[i]), i, 1, natives))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    r = MessageRenderer()
    rows: list[dict[str, Any]] = []
    seg = -1
    for segment, i, what, payload in events:
        if segment != seg:
            seg = segment
            r.reset()
        if what == 0:
            r.definition(g, (num for num, _s, _b in payload.fields))
            continue
        r.last_timestamp = int(last_ts[i])
        ts = int(compressed[i])
        rows.append(r.message(g, payload, None if ts < 0 else ts))
    return table_from_rows(r.name(g), rows)


_ = _types
