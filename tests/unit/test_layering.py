"""The read side does not reach into the write side or the transport.

Every module under ``projections/`` is parsed (imports at any depth count: inside
functions, ``TYPE_CHECKING`` blocks, ``try`` blocks): none may import the write side's
application (``services.application``) or anything under ``ingest``.  Projections read
events through :class:`projections.source.EventSource` and Kafka through
:class:`projections.transport.Transport`, which the services side provides and injects.
The domain (``services.domain``) and the table helper (``services.tables``) stay allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECTIONS = ROOT / "projections"
FORBIDDEN = ("services.application", "ingest")


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def imported(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import in a module of ``package``, relative ones resolved;
    for ``from X import Y`` both ``X`` and ``X.Y`` (Y may be a submodule)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([base] if base else [])])
            out.append((node.lineno, base))
            out.extend((node.lineno, f"{base}.{alias.name}" if base else alias.name)
                       for alias in node.names)
    return out


def forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def test_the_checker_sees_every_kind_of_import() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from services.application import TrainingLog\n"
        "def f():\n    import ingest.kafka_io\n"
        "from services import application\n"
        "from ingest import envelope\n"
        "import services.domain.athlete\n"
        "from . import ingest as local\n"  # projections.ingest: not the top level's
        "try:\n    from ingest.relay import Relay\nexcept ImportError:\n    pass\n"
    )
    found = sorted({m for _, m in imported(source, "projections") if forbidden(m)})
    assert found == ["ingest", "ingest.envelope", "ingest.kafka_io", "ingest.relay",
                     "ingest.relay.Relay", "services.application",
                     "services.application.TrainingLog"]


def test_projections_import_neither_the_application_nor_ingest() -> None:
    files = sorted(PROJECTIONS.rglob("*.py"))
    assert files, "no projections modules found"
    offences = [f"{path.relative_to(ROOT)}:{line}: {module}"
                for path in files
                for line, module in imported(path.read_text(), _package(path))
                if forbidden(module)]
    assert not offences, "the read side reaches into the write side:\n" + "\n".join(offences)


def test_ingest_does_not_import_the_http_api() -> None:
    """The intake and the importers take the application's commands
    (``services.commands``), never the HTTP schemas: ``services.api`` maps onto those."""
    files = sorted((ROOT / "ingest").rglob("*.py"))
    assert files, "no ingest modules found"
    offences = [f"{path.relative_to(ROOT)}:{line}: {module}"
                for path in files
                for line, module in imported(path.read_text(), _package(path))
                if module == "services.api" or module.startswith("services.api.")]
    assert not offences, "ingest reaches into the HTTP API:\n" + "\n".join(offences)
