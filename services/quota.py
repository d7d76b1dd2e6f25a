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
    Tally(rt, athlete_id).check(incoming, what)


class Tally:
    """Quota checks of one athlete's files, one (:func:`check`) or many in a row (a bulk
    import): the usage is read once every ``REREAD`` files and counted up by each file
    accepted, which can only overstate it (a duplicate stores nothing more); it is read
    again before a file is refused, so a file is refused exactly when a fresh read of the
    usage would refuse it."""

    REREAD = 64

    def __init__(self, rt: Runtime, athlete_id: str) -> None:
        self.rt = rt
        self.athlete_id = athlete_id
        self.used: int | None = None
        self.counted = 0

    def check(self, incoming: int, what: str) -> None:
        """As :func:`check`; the file is counted when it passes."""
        quota = self.rt.settings.quota_bytes
        if (self.used is None or self.counted >= self.REREAD
                or self.used + incoming > quota):
            self.used, self.counted = usage(self.rt, self.athlete_id), 0
        if self.used + incoming > quota:
            raise OverQuota(f"storage quota of {describe(quota)} per athlete exceeded: "
                            f"{self.used} bytes stored, {what} adds {incoming}")
        self.used += incoming
        self.counted += 1
