"""Comments stored before ``services/domain/comments.py`` still load: sessions and weeks share
one implementation, and each keeps the event topic its stored comments carry.

The comment events are written straight into the recorder under the topics, spelled out,
that the releases with a ``CommentAdded`` class on each aggregate stored, on both stores;
they are read back through the application, the API and the audit trail, and a new comment
is stored under the same topic.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from support_views import Athlete, squat

from services.runtime import Runtime

OLD_TOPICS = {"session": "services.domain.session:TrainingSession.CommentAdded",
              "plan": "services.domain.plan:WeeklyPlan.CommentAdded"}


def append_old_comment(runtime: Runtime, kind: str, aggregate_id: str, athlete_id: str,
                       text: str) -> str:
    """A comment event on a ``kind`` aggregate as the earlier release stored it (plain JSON
    state); returns its id."""
    last = runtime.app.recorder.select_events(UUID(aggregate_id), desc=True, limit=1)[0]
    comment_id = str(uuid5(NAMESPACE_URL, f"old-comment:{aggregate_id}"))
    at = {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()}
    state = {"timestamp": at, "occurred_at": at,
             "source": {"kind": "athlete", "principal_id": athlete_id},
             "comment_id": comment_id, "text": text}
    runtime.app.recorder.insert_events([StoredEvent(
        originator_id=UUID(aggregate_id), originator_version=last.originator_version + 1,
        topic=OLD_TOPICS[kind], state=json.dumps(state).encode())])
    return comment_id


def last_topic(runtime: Runtime, aggregate_id: str) -> str:
    return str(runtime.app.recorder.select_events(UUID(aggregate_id), desc=True,
                                                  limit=1)[0].topic)


@pytest.mark.parametrize("kind", ["session", "plan"])
def test_comments_stored_under_the_old_topics_load(client: TestClient, runtime: Runtime,
                                                    kind: str) -> None:
    a = Athlete(client)
    if kind == "session":
        aggregate_id = a.session(a.at(a.today(), 6), [squat(100)])["session_id"]
        path = f"/sessions/{aggregate_id}"
    else:
        plan = a.plan(a.week())
        aggregate_id = plan["plan_id"]
        path = f"/athletes/{a.id}/plans/{plan['week_start']}"
    old_id = append_old_comment(runtime, kind, aggregate_id, a.id, "Stored by the release before")

    # through the application
    loaded = (runtime.app.session(aggregate_id) if kind == "session"
              else runtime.app.plan(a.id, date.fromisoformat(plan["week_start"])))
    assert [c["comment_id"] for c in loaded.comment_list()] == [old_id]
    assert loaded.comment_list()[0]["by"] == {"kind": "athlete", "principal_id": a.id}

    # through the API, then a new comment beside it, stored under the same topic
    assert [c["text"] for c in a.post(path, {}, method="GET")["comments"]] == [
        "Stored by the release before"]
    after = a.post(f"{path}/comments", {"text": "Written now"})
    assert [c["text"] for c in after["comments"]] == ["Stored by the release before",
                                                      "Written now"]
    assert last_topic(runtime, aggregate_id) == OLD_TOPICS[kind]

    # through the audit trail, by its short and its qualified type name
    qualified = OLD_TOPICS[kind].split(":")[1]
    for name in ("CommentAdded", qualified):
        trail = client.get(f"/athletes/{a.id}/events", params={"type": name},
                           headers=a.me).json()
        assert [e["payload"]["text"] for e in trail["events"]] == [
            "Stored by the release before", "Written now"]
