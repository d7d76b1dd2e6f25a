"""Comments on an aggregate (the athlete's or a coach's): one implementation for sessions and
planned weeks.

Each aggregate that derives from :class:`Commented` gets its own ``CommentAdded`` event class,
defined by the library on that aggregate (``services.domain.session:TrainingSession.CommentAdded``,
``services.domain.plan:WeeklyPlan.CommentAdded``): the topics stored events carry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4, uuid5

from services.domain.base import Context, TrainingAggregate
from services.domain.validation import check_text


class Commented(TrainingAggregate):
    """Base of the aggregates people comment on."""

    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        comments: list[dict[str, Any]]  # absent until the first comment

    class CommentAdded(TrainingAggregate.Event):
        """A comment (the athlete's or a coach's); who wrote it is the event's source."""

        comment_id: str
        text: str

        def apply(self, agg: Commented) -> None:
            agg.comments = [*getattr(agg, "comments", []), {
                "comment_id": self.comment_id, "text": self.text,
                "by": {k: v for k, v in self.source.items() if k in ("kind", "principal_id")},
                "at": self.occurred_at.isoformat()}]

    def add_comment(self, ctx: Context, text: str) -> str:
        """Comment on it; returns the comment's id."""
        comment_id = str(uuid5(self.id, f"comment:{ctx.request_id or uuid4()}"))
        if self.seen_request(ctx):
            return comment_id
        check_text(text, "text", max_len=4000, required=True, multiline=True)
        self._record(self.CommentAdded, ctx, comment_id=comment_id, text=text)
        return comment_id

    def comment_list(self) -> list[dict[str, Any]]:
        return list(getattr(self, "comments", []))
