"""The analytic views per athlete, each with ``as_of`` (what the view said at that moment)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query

from projections.analytics import VIEWS, history_as_of
from services.api.security import CallerDep

router = APIRouter(tags=["views"])

AS_OF = ("An ISO 8601 instant, or a date (the end of that day in the athlete's time zone): "
         "the answer built from the events recorded by then, evaluated for that day. "
         "Default: now. At most a year ahead.")


def answer(caller: CallerDep, name: str, athlete_id: str, as_of: str | None) -> dict[str, Any]:
    caller.check_read(athlete_id)
    rt = caller.runtime
    day, recorded_by, history = history_as_of(
        rt.app, rt.tables, lambda: rt.directory.feed.catch_up(rt.directory.view), athlete_id,
        as_of)
    return {"athlete_id": athlete_id, "view": name, "day": day.isoformat(),
            "recorded_by": recorded_by.isoformat() if recorded_by else None,
            **VIEWS[name](history, day)}


def _route(name: str) -> Callable[..., dict[str, Any]]:
    def endpoint(athlete_id: str, caller: CallerDep,
                 as_of: str | None = Query(None, description=AS_OF)) -> dict[str, Any]:
        return answer(caller, name, athlete_id, as_of)

    endpoint.__name__ = f"{name}_view"
    return endpoint


for _name, _compute in VIEWS.items():
    router.add_api_route(
        f"/athletes/{{athlete_id}}/views/{_name}", _route(_name), methods=["GET"],
        summary=f"The {_name} view", description=inspect.getdoc(inspect.getmodule(_compute))
        if _name != "load" else inspect.getdoc(_compute),
    )
