"""What an import reports per session: its id, whether it was made now, its load source."""

from __future__ import annotations

from typing import Any

from projections.sessions import session_load
from services.application import TrainingLog
from services.commands import ImportOutcome


def session_results(app: TrainingLog, outcome: ImportOutcome) -> list[dict[str, Any]]:
    """One entry per session of the import: ``session_id``, ``status`` (``created``,
    ``updated``: a partial session completed, or ``existing``: recorded by an earlier
    import) and ``load_source``, the load that feeds
    fatigue as the views compute it (``srpe``, ``trimp_edwards`` or ``none``)."""
    out: list[dict[str, Any]] = []
    for session_id, status in outcome.sessions.items():
        session = outcome.recorded.get(session_id) or app.session(session_id)
        row = session_load(outcome.athlete or app.athlete(session.athlete_id), session)
        out.append({"session_id": session_id, "status": status,
                    "load_source": row.load_source})
    return out
