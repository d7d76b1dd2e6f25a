"""A coach account, created by the admin; athletes grant coaches read-only access."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from services.domain.base import Context, TrainingAggregate
from services.domain.validation import check_text


class Coach(TrainingAggregate):
    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        name: str

    class Registered(TrainingAggregate.Created):
        name: str

        def apply(self, agg: Coach) -> None:
            agg.name = self.name

    @classmethod
    def register(cls, ctx: Context, name: str, coach_id: UUID | None = None) -> Coach:
        check_text(name, "name", max_len=200, required=True)
        return cls._start(cls.Registered, ctx, coach_id or uuid4(), name=name)
