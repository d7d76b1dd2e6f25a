"""Decoding ahead (``ingest.fit.ahead``): a worker process decodes and plans an archive's
files while the import records earlier ones; the fit handler gets, for each file, what
``prepare`` would have made itself, and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

from support_archives import runs

from ingest.fit.ahead import DecodeAhead
from ingest.fit.archive import Entry
from ingest.fit.importer import FitHandler, Prepared, fit_content_hash, prepare
from services.config import Settings
from services.runtime import open_runtime


def test_the_handler_gets_what_prepare_makes_for_each_file_past_the_first(
        tmp_path: Path) -> None:
    fits = runs(5)
    broken = bytearray(fits[2])
    broken[len(broken) // 2] ^= 0xFF
    entries = [Entry(f"activities/{i}.fit", "fit", data)
               for i, data in enumerate([*fits, bytes(broken)])]
    entries.insert(3, Entry("activities/9.gpx", "skipped", reason="GPX/TCX"))
    rt = open_runtime(Settings(data_dir=tmp_path, admin_token="ahead"))
    try:
        handler = rt.intake.handlers["fit"]
        assert isinstance(handler, FitHandler)
        given: dict[str, Prepared] = {}
        with DecodeAhead(handler, salvage=False, ahead=2, start_after=2,
                         patient=True) as ahead:
            for entry in ahead.entries(entries):
                key = (entry.name, fit_content_hash(entry.data), False)
                if key in handler.ready:
                    given[entry.name] = handler.ready[key]
        assert ahead.used == 4  # every FIT file past the first two
        assert sorted(given) == [f"activities/{i}.fit" for i in (2, 3, 4, 5)]
        for entry in entries:
            if entry.name in given:
                assert given[entry.name] == prepare(entry.name, entry.data)
        assert "CRC" in str(given["activities/5.fit"].rejected)
        assert handler.ready == {}  # results not taken by their file are taken back
    finally:
        rt.close()
