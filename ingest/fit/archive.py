"""Reading an export archive safely: a Garmin Connect data export (nested
``DI_CONNECT/.../UploadedFiles_*.zip`` holding ``.fit``) or a Strava bulk export
(``activities/*.fit.gz``, ``*.fit``).

Entries are read into memory, never extracted to paths.  Every read is bounded (the
decompressed size of an entry, whatever its header claims, and of the whole archive, and the
number of entries, nested archives included); an entry over a bound, a symlink, a name that
climbs out (``../``, absolute) or an unreadable one is refused and reported by its name.
GPX and TCX entries are counted and reported as skipped; other entries are ignored.
"""

from __future__ import annotations

import gzip
import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

NOT_FIT = (".gpx", ".tcx", ".gpx.gz", ".tcx.gz")
MAX_DEPTH = 3  # the export, its UploadedFiles zips, and one more level


@dataclass(frozen=True)
class ArchiveLimits:
    """``entries`` counted over nested archives too; ``entry_bytes`` bounds a nested archive
    (held in memory), ``fit_bytes`` a FIT file; ``total_bytes`` all that is decompressed."""

    entries: int
    entry_bytes: int
    fit_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class Entry:
    """A FIT file found (``data``), or an entry skipped or refused, with the reason."""

    name: str
    status: str  # fit | skipped | refused
    data: bytes = b""
    reason: str | None = None


class _Budget:
    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.read = 0

    def left(self) -> int:
        return self.limits.total_bytes - self.read


def unsafe_name(name: str) -> str | None:
    """Why an entry's name may not be used, or None: absolute, a drive, or ``..``."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in parts:
        return "a path climbing out of the archive (..)"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _bounded(stream: _Readable, name: str, size: int | None, limit: int,
             what: str) -> bytes | Entry:
    if size is not None and size > limit:
        return Entry(name, "refused", reason=f"{name}: {size} bytes decompressed, over {what}")
    data = stream.read(limit + 1)
    if len(data) > limit:
        return Entry(name, "refused", reason=f"{name}: decompresses to over {what}")
    return data


def _limit(budget: _Budget, per_entry: int, setting: str) -> tuple[int, str]:
    if budget.left() < per_entry:
        left = max(budget.left(), 0)
        return left, (f"the {left} bytes left of the archive's total "
                      f"(TRAINLEDGER_ARCHIVE_MAX_TOTAL, {budget.limits.total_bytes} bytes)")
    return per_entry, f"{setting} ({per_entry} bytes)"


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget,
          per_entry: int, setting: str) -> bytes | Entry:
    limit, what = _limit(budget, per_entry, setting)
    try:
        with zf.open(info) as stream:
            data = _bounded(stream, name, info.file_size, limit, what)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError) as exc:
        return Entry(name, "refused", reason=f"{name}: unreadable entry ({exc})")
    if isinstance(data, bytes):
        budget.read += len(data)
    return data


def _gunzip(data: bytes, name: str, budget: _Budget) -> bytes | Entry:
    limit, what = _limit(budget, budget.limits.fit_bytes, "TRAINLEDGER_MAX_FIT_FILE")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = _bounded(stream, name, None, limit, what)
    except (OSError, EOFError, zlib.error) as exc:
        return Entry(name, "refused", reason=f"{name}: not a readable .gz ({exc})")
    if isinstance(out, bytes):
        budget.read += len(out)
    return out


def _walk(zf: zipfile.ZipFile, prefix: str, depth: int, budget: _Budget) -> Iterator[Entry]:
    infos = zf.infolist()
    budget.entries += len(infos)
    if budget.entries > budget.limits.entries:
        yield Entry(prefix or "archive", "refused", reason=(
            f"{prefix or 'the archive'}: {len(infos)} entries, past the limit of "
            f"{budget.limits.entries} (TRAINLEDGER_ARCHIVE_MAX_ENTRIES); none read"))
        return
    for info in infos:
        name = prefix + info.filename
        lower = info.filename.lower()
        if info.is_dir():
            continue
        why = unsafe_name(info.filename)
        if why is None and _is_symlink(info):
            why = "a symbolic link"
        if why is not None:
            yield Entry(name, "refused", reason=f"{name}: {why}, refused")
        elif lower.endswith(NOT_FIT):
            yield Entry(name, "skipped", reason=f"{name}: GPX/TCX, not imported (FIT only)")
        elif lower.endswith(".zip"):
            if depth >= MAX_DEPTH:
                yield Entry(name, "refused", reason=f"{name}: archives nested more than "
                                                    f"{MAX_DEPTH} deep, refused")
                continue
            data = _read(zf, info, name, budget, budget.limits.entry_bytes,
                         "TRAINLEDGER_ARCHIVE_MAX_ENTRY")
            if isinstance(data, Entry):
                yield data
                continue
            try:
                inner = zipfile.ZipFile(io.BytesIO(data))
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                yield Entry(name, "refused", reason=f"{name}: not a readable zip ({exc})")
                continue
            with inner:
                yield from _walk(inner, name + "/", depth + 1, budget)
        elif lower.endswith((".fit", ".fit.gz")):
            data = _read(zf, info, name, budget, budget.limits.fit_bytes,
                         "TRAINLEDGER_MAX_FIT_FILE")
            if isinstance(data, bytes) and lower.endswith(".gz"):
                data = _gunzip(data, name, budget)
            yield data if isinstance(data, Entry) else Entry(name, "fit", data)


def read_archive(archive: Path | IO[bytes], limits: ArchiveLimits) -> Iterator[Entry]:
    """Every FIT file of the archive, one at a time, and every entry skipped or refused;
    raises ``zipfile.BadZipFile`` if ``archive`` is not a zip at all."""
    with zipfile.ZipFile(archive) as zf:
        yield from _walk(zf, "", 1, _Budget(limits))


def is_archive(path: Path) -> bool:
    """A zip file named on the command line (a folder or a FIT file is not)."""
    return path.suffix.lower() == ".zip" and path.is_file()
