"""The fitdecode and fitparse backends: each library's messages turned into a DecodedFit."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np

from ingest.fit.decoded import (
    FIT_DATETIME_MIN,
    FIT_EPOCH,
    DecodedFit,
    FitError,
    Kind,
    Table,
    finish_column,
)

_MAX_EXACT = 1 << 53


def _kind_of(value: Any) -> Kind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -_MAX_EXACT < value < _MAX_EXACT else "object"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "time"
    if isinstance(value, dt.time):
        return "tod"
    return "object"


def _numeric(kind: Kind, value: Any) -> float:
    if kind == "time":
        if isinstance(value, int):
            return float(value)
        return float(value.timestamp())
    if kind == "tod":
        if value == dt.time.max:
            return 86400.0
        return float(value.hour * 3600 + value.minute * 60 + value.second)
    return float(value)


def table_from_rows(name: str, rows: list[dict[str, Any]]) -> Table:
    """Build a Table whose rows() gives back ``rows`` (None values must be left out)."""
    seen: dict[str, set[Kind]] = {}
    for row in rows:
        for key, value in row.items():
            seen.setdefault(key, set()).add(_kind_of(value))
    kinds: dict[str, Kind] = {}
    for key, ks in seen.items():
        if len(ks) == 1:
            kinds[key] = next(iter(ks))
        elif ks == {"time", "int"} and all(
            isinstance(v, dt.datetime) or 0 <= v < FIT_DATETIME_MIN
            for row in rows
            if (v := row.get(key)) is not None
        ):
            kinds[key] = "time"  # dates and relative date_time seconds
        else:
            kinds[key] = "object"
    columns: dict[str, np.ndarray] = {}
    for key, kind in kinds.items():
        if kind == "object":
            col = np.empty(len(rows), dtype=object)
            col[:] = [row.get(key) for row in rows]
        else:
            col = np.full(len(rows), np.nan)
            for i, row in enumerate(rows):
                v = row.get(key)
                if v is not None:
                    col[i] = _numeric(kind, v)
        kinds[key], columns[key] = finish_column(kind, col)
    return Table(name, columns, kinds, len(rows))


def tables_from_rows(named_rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Table]:
    """Group (message name, row) pairs into tables, keeping file order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for name, row in named_rows:
        grouped.setdefault(name, []).append(row)
    return {name: table_from_rows(name, rows) for name, rows in grouped.items()}


# --- fitdecode ---------------------------------------------------------------------------------


def decode_fitdecode(data: bytes, check_crc: bool = True) -> DecodedFit:
    """Decode with fitdecode (CRC errors raise when ``check_crc``)."""
    import fitdecode

    crc = fitdecode.CrcCheck.RAISE if check_crc else fitdecode.CrcCheck.READONLY
    named: list[tuple[str, dict[str, Any]]] = []
    segments = 0
    crc_ok = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = fitdecode.FitReader(
                io.BytesIO(data), check_crc=crc, error_handling=fitdecode.ErrorHandling.IGNORE
            )
            for frame in reader:
                if isinstance(frame, fitdecode.FitHeader):
                    segments += 1
                    if frame.crc_matched is False:
                        crc_ok = False
                elif isinstance(frame, fitdecode.FitCRC):
                    if not frame.matched:
                        crc_ok = False
                elif isinstance(frame, fitdecode.FitDataMessage):
                    named.append(_fitdecode_row(frame))
    except fitdecode.FitCRCError as exc:
        raise FitError(f"CRC mismatch: {exc}") from exc
    except fitdecode.FitHeaderError as exc:
        raise FitError(f"bad FIT header: {exc}") from exc
    except fitdecode.FitEOFError as exc:
        raise FitError(f"truncated FIT file: {exc}", exc.offset) from exc
    except fitdecode.FitParseError as exc:
        raise FitError(f"corrupt FIT data: {exc}", exc.offset) from exc
    except fitdecode.FitError as exc:
        raise FitError(f"FIT decoding failed: {exc}") from exc
    except Exception as exc:  # the library can trip over garbage in many ways
        raise FitError(f"FIT decoding failed: {type(exc).__name__}: {exc}") from exc
    if segments == 0:
        raise FitError("not a FIT file: empty", 0)
    return DecodedFit(tables_from_rows(named), segments, len(data), crc_ok)


def developer_value(name: Any, value: Any) -> tuple[str, Any] | None:
    """A developer field as the row keeps it: ``developer:<name>`` with its number, for a
    named field of one numeric value (arrays, strings and bytes are dropped)."""
    if not name or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"developer:{name}", value


def _fitdecode_row(frame: Any) -> tuple[str, dict[str, Any]]:
    row: dict[str, Any] = {}
    developer: list[tuple[str, Any]] = []
    for fd in frame.fields:
        field = fd.field
        if field is None or fd.value is None:
            continue
        if getattr(field, "field_type", "") == "devfield":
            if (kept := developer_value(field.name, fd.value)) is not None:
                developer.append(kept)
            continue
        if fd.name not in row:
            row[fd.name] = fd.value
    for key, value in developer:
        row.setdefault(key, value)
    mt = frame.def_mesg.mesg_type
    name = mt.name if mt is not None else f"mesg_{frame.def_mesg.global_mesg_num}"
    return name, row


# --- the value rules in plain Python, one message at a time --------------------------------------
#
# A mirror of what fitdecode 0.11 does to a data message once its raw values are read (subfields,
# components with accumulation, scale/offset, enum names, its DefaultDataProcessor), followed by
# our row rule (unknown and developer fields dropped; the first valid value of a name wins). The
# fitparse backend feeds it fitparse's raw values; the fast path feeds it the rare messages it does
# not vectorise (``hr``).

MESG_NUM_HR = 132
FIELD_NUM_TIMESTAMP = 253
FIELD_NUM_HR_EVENT_TIMESTAMP = 9
FIELD_NUM_HR_EVENT_TIMESTAMP_12 = 10


def accumulate(raw: int, acc: int, bits: int) -> int:
    """FIT's rolling accumulation (compressed timestamps, accumulated components)."""
    top = 1 << bits
    mask = top - 1
    value = raw + (acc & ~mask)
    if raw < (acc & mask):
        value += top
    return value


def scale_offset(field: Any, value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(scale_offset(field, x) for x in value)
    if isinstance(value, int | float):
        if field.scale:
            value = float(value) / field.scale
        if field.offset:
            value = value - field.offset
    return value


def render(field: Any, value: Any) -> Any:
    enum = field.type.enum
    if enum and isinstance(value, Hashable) and value in enum:
        return enum[value]
    return value


def process_type(type_name: str, value: Any) -> Any:
    """fitdecode's DefaultDataProcessor, by type name."""
    if value is None:
        return None
    try:
        if type_name == "bool":
            return bool(value)
        if type_name == "date_time":
            if value >= FIT_DATETIME_MIN:
                return dt.datetime.fromtimestamp(FIT_EPOCH + value, dt.UTC)
            return value
        if type_name == "local_date_time":
            return dt.datetime.fromtimestamp(FIT_EPOCH + value, dt.UTC)
        if type_name == "localtime_into_day":
            if value >= 86400:
                return dt.time.max
            m, s = divmod(value, 60)
            h, m = divmod(m, 60)
            return dt.time(h, m, s)
    except (TypeError, ValueError, OverflowError) as exc:
        raise FitError(f"cannot read a {type_name} from {value!r}") from exc
    return value


def resolve_subfield(field: Any, natives: list[tuple[int, Any]]) -> Any:
    if field.subfields:
        for sub in field.subfields:
            for ref in sub.ref_fields:
                for num, raw in natives:
                    if num == ref.def_num and ref.raw_value == raw:
                        return sub
    return field


def component_raw(component: Any, raw: Any) -> Any:
    """The component's bits of ``raw``; raises ValueError when they lie past its end."""
    if raw is None:
        return None
    if isinstance(raw, tuple):
        if component.bit_offset and component.bit_offset >= len(raw) << 3:
            raise ValueError("component past the end")
        num = 0
        for x in reversed(raw):
            if not isinstance(x, int):
                raise FitError(f"cannot expand components of {raw!r}")
            num = (num << 8) + x
        raw = num
    if isinstance(raw, int):
        return (raw >> component.bit_offset) & ((1 << component.bits) - 1)
    return raw


class MessageRenderer:
    """Per-file state and the rules that turn one message's raw values into a row."""

    def __init__(self) -> None:
        from fitdecode import profile

        self.messages: dict[int, Any] = profile.MESSAGE_TYPES
        self.timestamp_field = profile.FIELD_TYPE_TIMESTAMP
        self.reset()

    def reset(self) -> None:
        """A new chained FIT file begins."""
        self.accumulators: dict[int, dict[int, int]] = {}
        self.ts_accumulator = 0
        self.last_timestamp: Any = 0
        self.hr_start: Any = 0

    def name(self, global_num: int) -> str:
        mt = self.messages.get(global_num)
        return mt.name if mt is not None else f"mesg_{global_num}"

    def definition(self, global_num: int, field_nums: Iterable[int]) -> None:
        """A definition message: accumulated components of its fields restart at 0."""
        mt = self.messages.get(global_num)
        if mt is None:
            return
        for num in field_nums:
            field = mt.fields.get(num)
            if field is not None and field.components:
                for c in field.components:
                    if c.accumulate:
                        self.accumulators.setdefault(global_num, {})[c.def_num] = 0

    def compressed_timestamp(self, time_offset: int) -> int:
        self.ts_accumulator = accumulate(time_offset, self.ts_accumulator, 5)
        return self.ts_accumulator

    def message(
        self,
        global_num: int,
        natives: list[tuple[int, Any]],
        compressed_ts: int | None,
    ) -> dict[str, Any]:
        """One data message: ``natives`` are (field number, raw value) in definition order,
        ``compressed_ts`` the timestamp from a compressed header (None if a normal header)."""
        mt = self.messages.get(global_num)
        out: list[tuple[Any, Any]] = []  # (field or None, value), fitdecode's order
        is_hr = global_num == MESG_NUM_HR
        for num, raw in natives:
            field = mt.fields.get(num) if mt is not None else None
            value: Any = raw
            if field is not None and mt is not None:
                field = resolve_subfield(field, natives)
                if field.components:
                    hr12 = is_hr and num == FIELD_NUM_HR_EVENT_TIMESTAMP_12
                    for c in field.components:
                        try:
                            craw = component_raw(c, raw)
                        except ValueError:
                            continue
                        if c.accumulate and craw is not None:
                            accs = self.accumulators.get(global_num)
                            if accs is None or c.def_num not in accs:
                                raise FitError(f"no accumulator for component {c.name}")
                            craw = accumulate(craw, accs[c.def_num], c.bits)
                            accs[c.def_num] = craw
                        craw = scale_offset(c, craw)
                        target = mt.fields.get(c.def_num)
                        if target is None:
                            raise FitError(f"component {c.name} of an unknown field")
                        target = resolve_subfield(target, natives)
                        cval = render(target, craw)
                        if hr12:
                            try:
                                cval += self.hr_start
                            except TypeError as exc:
                                raise FitError("bad hr.event_timestamp_12") from exc
                        out.append((target, cval))
                value = scale_offset(field, render(field, raw))
            if num == FIELD_NUM_TIMESTAMP and raw is not None:
                self.last_timestamp = value
                self.ts_accumulator = raw
            elif is_hr and num == FIELD_NUM_HR_EVENT_TIMESTAMP:
                self.hr_start = self.last_timestamp
            out.append((field, value))
        if compressed_ts is not None:
            out.append((self.timestamp_field, compressed_ts))
        row: dict[str, Any] = {}
        hr_fix = is_hr and any(n == FIELD_NUM_HR_EVENT_TIMESTAMP_12 for n, _ in natives)
        for field, value in out:
            if field is None:
                continue
            v = process_type(field.type.name, value)
            if hr_fix and field.def_num == FIELD_NUM_HR_EVENT_TIMESTAMP:
                try:
                    v = dt.datetime.fromtimestamp(FIT_EPOCH + v, dt.UTC)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise FitError("bad hr.event_timestamp") from exc
            if v is not None and field.name not in row:
                row[field.name] = v
        return row


# --- fitparse ----------------------------------------------------------------------------------


def decode_fitparse(data: bytes, check_crc: bool = True) -> DecodedFit:
    """Decode with fitparse: its raw values, rendered onto the 2025 profile by field number."""
    import fitparse
    import fitparse.utils
    from fitparse.records import DataMessage, DefinitionMessage, DevFieldDefinition

    class _FitFile(fitparse.FitFile):  # type: ignore[misc]
        segments = 0

        def _parse_file_header(self) -> None:
            self.segments += 1
            super()._parse_file_header()

    renderer = MessageRenderer()
    named: list[tuple[str, dict[str, Any]]] = []
    try:
        ff = _FitFile(io.BytesIO(data), check_crc=check_crc)
        seen_segments = ff.segments
        for m in ff.get_messages(with_definitions=True):
            if ff.segments != seen_segments:
                seen_segments = ff.segments
                renderer.reset()
            if isinstance(m, DefinitionMessage):
                renderer.definition(m.mesg_num, (f.def_num for f in m.field_defs))
                continue
            if not isinstance(m, DataMessage):
                continue
            natives = [
                (f.field_def.def_num, f.raw_value)
                for f in m.fields
                if f.field_def is not None and not isinstance(f.field_def, DevFieldDefinition)
            ]
            offset = m.header.time_offset
            ts = None if offset is None else renderer.compressed_timestamp(offset)
            num = m.def_mesg.mesg_num
            row = renderer.message(num, natives, ts)
            for f in m.fields:
                if isinstance(f.field_def, DevFieldDefinition) and f.raw_value is not None \
                        and (kept := developer_value(f.field_def.name, f.raw_value)):
                    row.setdefault(*kept)
            named.append((renderer.name(num), row))
        segments = ff.segments
    except FitError:
        raise
    except fitparse.utils.FitCRCError as exc:
        raise FitError(f"CRC mismatch: {exc}") from exc
    except fitparse.utils.FitHeaderError as exc:
        raise FitError(f"bad FIT header: {exc}") from exc
    except fitparse.utils.FitEOFError as exc:
        raise FitError(f"truncated FIT file: {exc}") from exc
    except fitparse.utils.FitParseError as exc:
        raise FitError(f"corrupt FIT data: {exc}") from exc
    except Exception as exc:  # the library can trip over garbage in many ways
        raise FitError(f"FIT decoding failed: {type(exc).__name__}: {exc}") from exc
    crc_ok = True
    if not check_crc:
        from ingest.fit.fast import crc_ok as _crc_ok

        crc_ok = _crc_ok(data)
    return DecodedFit(tables_from_rows(named), segments, len(data), crc_ok)
