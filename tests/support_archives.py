"""Export archives built in the test from our own FIT fixtures: a Garmin Connect data export
(nested ``UploadedFiles_*.zip``), a Strava bulk export (``activities/*.fit.gz``), and the
hostile entries a safety test needs (zip bombs, ``../`` names, symlinks); and what the
import tests read back (statuses counted)."""

from __future__ import annotations

import gzip
import io
import stat
import zipfile
from dataclasses import replace
from datetime import timedelta

from fit_fixtures import START, activity, by_name, reexport

SERIAL = 3_900_000_001


def runs(n: int, serial: int = SERIAL) -> list[bytes]:
    """``n`` runs of one device, a day apart from the fixtures' start."""
    return [activity(START + timedelta(days=i), serial) for i in range(n)]


def other_bytes(data: bytes) -> bytes:
    """The same activity in other bytes, as another service's copy of it would be."""
    return reexport(replace(by_name("run"), data=data))


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def garmin_export(fits: list[bytes], parts: int = 2) -> bytes:
    """A Garmin Connect data export: JSON beside the FIT files, which sit in ``parts`` nested
    ``UploadedFiles_0-_Part<k>.zip``."""
    folder = "DI_CONNECT/DI-Connect-Uploaded-Files"
    entries = {"DI_CONNECT/DI-Connect-User/user_profile.json": b'{"userName": "ada"}',
               "DI_CONNECT/DI-Connect-Fitness/ada_0_summarizedActivities.json": b"[]"}
    for k in range(parts):
        inner = {f"ada@example.com_{1000 + i}.fit": data
                 for i, data in enumerate(fits) if i % parts == k}
        entries[f"{folder}/UploadedFiles_0-_Part{k + 1}.zip"] = zipped(inner)
    return zipped(entries)


def strava_export(fits: list[bytes], gpx: int = 2, tcx: int = 1) -> bytes:
    """A Strava bulk export: ``activities/<id>.fit.gz`` (every third one plain ``.fit``),
    ``gpx`` GPX and ``tcx`` gzipped TCX files, and the CSV files."""
    entries = {"activities.csv": b"Activity ID,Activity Date\n", "profile.csv": b"Ada\n"}
    for i, data in enumerate(fits):
        if i % 3 == 2:
            entries[f"activities/{5000 + i}.fit"] = data
        else:
            entries[f"activities/{5000 + i}.fit.gz"] = gzip.compress(data, mtime=0)
    for i in range(gpx):
        entries[f"activities/{7000 + i}.gpx"] = b"<gpx/>"
    for i in range(tcx):
        entries[f"activities/{8000 + i}.tcx.gz"] = gzip.compress(b"<tcx/>", mtime=0)
    return zipped(entries)


def symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: external_attr holds the mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def hostile_export(good: bytes, bomb_bytes: int) -> bytes:
    """A Strava-like export with one good file and every kind of entry that must be refused:
    ``../`` and absolute names, a symlink, a deflate bomb, a gzip bomb, and a deflate bomb
    whose headers understate its size (``liar.fit``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activities/good.fit", good)
        zf.writestr("../escape.fit", good)
        zf.writestr("activities/../../escape2.fit", good)
        zf.writestr("/etc/absolute.fit", good)
        zf.writestr(symlink_entry("activities/link.fit", "/etc/passwd"), "/etc/passwd")
        zf.writestr("activities/bomb.fit", b"\0" * bomb_bytes)
        zf.writestr("activities/liar.fit", b"\0" * bomb_bytes)
        zf.writestr("activities/bomb.fit.gz", gzip.compress(b"\0" * bomb_bytes, mtime=0))
    return understate(out.getvalue(), "activities/liar.fit")


def understate(archive: bytes, name: str, size: int = 100) -> bytes:
    """The archive with ``name``'s uncompressed size given as ``size`` in both its local
    header and the central directory (a bomb that lies about itself)."""
    data = bytearray(archive)
    local = zipfile.ZipFile(io.BytesIO(archive)).getinfo(name).header_offset
    data[local + 22:local + 26] = size.to_bytes(4, "little")
    for at in _central_entries(archive):
        length = int.from_bytes(archive[at + 28:at + 30], "little")
        if archive[at + 46:at + 46 + length] == name.encode():
            data[at + 24:at + 28] = size.to_bytes(4, "little")
    return bytes(data)


def _central_entries(data: bytes) -> list[int]:
    found, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        found.append(at)
        at = data.find(b"PK\x01\x02", at + 46)
    return found


def nested(levels: int, inner: dict[str, bytes]) -> bytes:
    """``inner`` zipped, then zipped again ``levels - 1`` times, each as ``deeper.zip``."""
    data = zipped(inner)
    for _ in range(levels - 1):
        data = zipped({"deeper.zip": data})
    return data


def statuses(results: list[dict[str, object]]) -> dict[str, int]:
    """How many files of an import's results have each status."""
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return counts
