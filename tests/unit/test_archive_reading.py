"""Reading export archives (``ingest.fit.archive``): the bounds on entries, on the total
decompressed and on nesting, each refusal named; a ``.zip`` that is not one raises."""

from __future__ import annotations

import io
import zipfile

import pytest
from support_archives import garmin_export, nested, runs, strava_export, zipped

from ingest.fit.archive import ArchiveLimits, Entry, read_archive, unsafe_name

ROOMY = ArchiveLimits(entries=1000, entry_bytes=10**8, fit_bytes=10**6, total_bytes=10**9)


def _read(archive: bytes, limits: ArchiveLimits = ROOMY) -> list[Entry]:
    return list(read_archive(io.BytesIO(archive), limits))


def test_garmin_and_strava_exports_give_their_fit_files_in_memory() -> None:
    fits = runs(4)
    garmin = _read(garmin_export(fits))
    assert [e.data for e in garmin if e.status == "fit"] == [fits[0], fits[2], fits[1], fits[3]]
    strava = _read(strava_export(fits, gpx=1, tcx=1))
    assert [e.data for e in strava if e.status == "fit"] == fits  # .fit.gz and .fit
    assert [(e.name, e.status) for e in strava if e.status != "fit"] == [
        ("activities/7000.gpx", "skipped"), ("activities/8000.tcx.gz", "skipped")]


def test_the_entry_count_counts_nested_archives_and_refuses_unread() -> None:
    archive = garmin_export(runs(6), parts=2)  # 4 outer entries, 3 in each part
    assert len(_read(archive, ArchiveLimits(10, 10**8, 10**6, 10**9))) == 6
    refused = _read(archive, ArchiveLimits(9, 10**8, 10**6, 10**9))
    assert [e.status for e in refused] == ["fit"] * 3 + ["refused"]
    assert refused[-1].reason == (
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip/: 3 entries, past the "
        "limit of 9 (TRAINLEDGER_ARCHIVE_MAX_ENTRIES); none read")


def test_the_total_decompressed_is_bounded_and_each_entry_past_it_named() -> None:
    fits = runs(3)
    size = len(fits[0])
    found = _read(zipped({f"{i}.fit": f for i, f in enumerate(fits)}),
                  ArchiveLimits(100, 10**8, 10**6, 2 * size + 10))
    assert [e.status for e in found] == ["fit", "fit", "refused"]
    assert found[2].reason == (
        f"2.fit: {size} bytes decompressed, over the 10 bytes left of the archive's total "
        f"(TRAINLEDGER_ARCHIVE_MAX_TOTAL, {2 * size + 10} bytes)")


def test_a_nested_archive_is_bounded_and_nesting_stops() -> None:
    inner = {"a.fit": runs(1)[0]}
    assert [e.status for e in _read(nested(3, inner))] == ["fit"]
    (deep,) = _read(nested(4, inner))
    assert deep.reason == ("deeper.zip/deeper.zip/deeper.zip: archives nested more than 3 "
                           "deep, refused")
    archive = nested(2, inner)
    inner_size = zipfile.ZipFile(io.BytesIO(archive)).getinfo("deeper.zip").file_size
    (big,) = _read(archive, ArchiveLimits(100, inner_size - 1, 10**6, 10**9))
    assert big.reason == (f"deeper.zip: {inner_size} bytes decompressed, over "
                          f"TRAINLEDGER_ARCHIVE_MAX_ENTRY ({inner_size - 1} bytes)")


@pytest.mark.parametrize(("name", "why"), [
    ("../a.fit", "a path climbing out of the archive (..)"),
    ("a/../../b.fit", "a path climbing out of the archive (..)"),
    ("a\\..\\b.fit", "a path climbing out of the archive (..)"),
    ("/etc/a.fit", "an absolute path"), ("C:/a.fit", "an absolute path"),
    ("activities/a..b.fit", None), ("activities/123.fit.gz", None)])
def test_unsafe_names(name: str, why: str | None) -> None:
    assert unsafe_name(name) == why


def test_not_a_zip_raises() -> None:
    with pytest.raises(zipfile.BadZipFile):
        _read(b"PK not a zip")
