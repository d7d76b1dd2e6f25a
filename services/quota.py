"""The storage quota of an athlete: stored device files, uploads waiting for the intake and
archives being uploaded.

Checked before an upload or import is queued (API) or recorded (CLI).  Concurrent uploads
may each pass the check and together go slightly over it; the next one is refused.
"""

from __future__ import annotations

from services.archive_uploads import ArchiveUploads
from services.domain.errors import OverQuota
from services.runtime import Runtime

GIB = 1024**3


def usage(rt: Runtime, athlete_id: str) -> int:
    """The bytes stored for the athlete that count against the quota."""
    return (rt.artifacts.stored_bytes(athlete_id) + rt.imports.pending_bytes(athlete_id)
            + ArchiveUploads(rt.settings.data_dir).stored_bytes(athlete_id))


def describe(size: int) -> str:
    return f"{size} bytes ({size / GIB:.2f} GiB)" if size >= GIB // 100 else f"{size} bytes"


def check(rt: Runtime, athlete_id: str, incoming: int, what: str = "this upload") -> None:
    """Raise :class:`OverQuota` if ``incoming`` more bytes would exceed the quota."""
    quota = rt.settings.quota_bytes
    used = usage(rt, athlete_id)
    if used + incoming > quota:
        raise OverQuota(f"storage quota of {describe(quota)} per athlete exceeded: "
                        f"{used} bytes stored, {what} adds {incoming}")
