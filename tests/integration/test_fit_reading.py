"""Reading device files: one at a time (never the whole batch in memory), each within a
size limit (``TRAINLEDGER_MAX_FIT_FILE``); an upload retried with the same Idempotency-Key
is the same import.  No corpus needed: the bytes are made up (rejected as not FIT)."""

from __future__ import annotations

from pathlib import Path

from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from support_files import run_cli as bare_cli

from ingest.fit.batch import import_files
from ingest.fit.importer import FitResult
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime


def test_files_are_read_one_at_a_time(runtime: Runtime, tmp_path: Path) -> None:
    athlete_id = str(runtime.app.register_athlete(Context(Source("admin")), {"name": "R"}).id)
    files = [tmp_path / f"{i:02d}.fit" for i in range(12)]
    for path in files:
        path.write_bytes(b"not a FIT file " * 10)

    def progress(i: int, n: int, path: Path, result: FitResult) -> None:
        if i == 1:  # the last file goes while the first is recorded: it was not read yet
            files[-1].unlink()

    results = import_files(runtime, Source("admin", principal_id="t"), athlete_id, files,
                           progress=progress)
    assert results[-1]["status"] == "rejected"
    assert results[-1]["reason"] == f"{files[-1]}: no such file"
    assert all("not a FIT file" in r["reason"] or "no .FIT" in r["reason"]
               for r in results[:-1]), results[0]


def test_the_cli_refuses_a_file_over_the_limit_naming_it(settings: Settings,
                                                         tmp_path: Path) -> None:
    added = bare_cli(settings, "athletes", "add", "Cli")
    assert added.returncode == 0, added.stderr
    big = tmp_path / "big.fit"
    big.write_bytes(b"\0" * 1001)
    done = bare_cli(settings, "import", str(big), TRAINLEDGER_MAX_FIT_FILE="1000")
    assert done.returncode == 1
    assert f"{big}: larger than 1000 bytes (TRAINLEDGER_MAX_FIT_FILE)" in done.stdout
    assert "Traceback" not in done.stderr
    bad = bare_cli(settings, "import", str(big), TRAINLEDGER_MAX_FIT_FILE="lots")
    assert bad.returncode != 0
    assert "TRAINLEDGER_MAX_FIT_FILE" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_upload_retried_with_its_idempotency_key_is_the_same_import(
        client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    url = f"/athletes/{athlete_id}/imports/fit"
    files = [("files", ("a.fit", b"first file")), ("files", ("b.fit", b"second file"))]
    first = client.post(url, files=files, headers=bearer(token, **{"Idempotency-Key": "k1"}))
    again = client.post(url, files=files, headers=bearer(token, **{"Idempotency-Key": "k1"}))
    assert first.status_code == again.status_code == 202, again.text
    ids = [a["request"]["import_id"] for a in first.json()]
    assert [a["request"]["import_id"] for a in again.json()] == ids
    assert len(set(ids)) == 2
    other = client.post(url, files=[("files", ("c.fit", b"another file"))],
                        headers=bearer(token, **{"Idempotency-Key": "k1"}))
    assert other.status_code == 422, other.text
    assert "Idempotency-Key" in other.text
    fresh = client.post(url, files=files, headers=bearer(token))
    assert {a["request"]["import_id"] for a in fresh.json()}.isdisjoint(ids)
