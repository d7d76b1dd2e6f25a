"""A planned slot as a FIT workout file, for the watch (written with our own ``encode.py``).

The FIT SDK's rules for a workout file: ``file_id`` (type ``workout``), one ``workout``
message (sport, name, ``num_valid_steps``), then ``workout_step`` messages with
``message_index`` 0, 1, 2… in order.  A slot becomes:

- a strength step: per exercise a work step (``duration_type`` ``reps``, the reps; the load
  as ``exercise_weight`` in kg with the athlete's unit as ``weight_display_unit``; the FIT
  ``exercise_category``/``exercise_name`` when the catalogue knows them), a rest step (its
  seconds, or ``open``: until the athlete goes on), and a repeat step
  (``repeat_until_steps_cmplt`` back to the work step, ``repeat_steps`` = the sets);
- an endurance step: ``time`` (ms) or ``distance`` (cm), and a custom target range: heart
  rate as bpm + 100, power as watts + 1000, pace as speed (mm/s), else ``open``;
- a slot without prescription: its title and one ``open`` step.

``file_id`` says who wrote it (manufacturer ``development``, ``product_name``
``trainledger``), with the slot's serial (:func:`services.domain.plan.slot_serial`) and a
creation time in the slot's week, so importing the file again is recognised as the slot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ingest.fit.encode import ENUM, STRING, UINT16, UINT32, UINT32Z, Field, FitWriter, fit_time
from services.domain.exercises import get_exercise

CREATOR = "trainledger"
DEVELOPMENT = 255  # FIT manufacturer: development
PRODUCT = 1
FILE_WORKOUT = 5
NAME_BYTES = 48  # string fields are kept short: watches show ~16-30 characters

#: FIT enums (profile SDK 21.171): sport, sub_sport
SPORTS = {"generic": 0, "running": 1, "cycling": 2, "fitness_equipment": 4, "swimming": 5,
          "training": 10, "walking": 11, "cross_country_skiing": 12, "rowing": 15,
          "hiking": 17, "paddling": 19, "e_biking": 21, "inline_skating": 30,
          "rock_climbing": 31}
#: a session sport that is a FIT sub-sport: (sport, sub_sport)
SUB_SPORTS = {"strength_training": (10, 20), "cardio_training": (10, 26),
              "flexibility_training": (10, 19), "yoga": (10, 43), "treadmill": (1, 1),
              "trail_running": (1, 3), "indoor_cycling": (2, 6), "lap_swimming": (5, 17),
              "open_water": (5, 18), "indoor_rowing": (15, 14)}
STRENGTH = SUB_SPORTS["strength_training"]
#: wkt_step_duration, wkt_step_target, intensity, fit_base_unit
TIME, DISTANCE, OPEN_DURATION, REPEAT_UNTIL_STEPS_CMPLT, REPS = 0, 1, 5, 6, 29
SPEED, HEART_RATE, OPEN_TARGET, POWER = 0, 1, 2, 4
INTENSITY = {"active": 0, "rest": 1, "warmup": 2, "cooldown": 3, "recovery": 4}
MASS_UNITS = {"kg": 1, "lb": 2}


def _text(value: str) -> str:
    """At most NAME_BYTES of UTF-8, cut on a character boundary."""
    return value.encode()[:NAME_BYTES].decode(errors="ignore")


def sport_codes(slot: dict[str, Any]) -> tuple[int, int]:
    """(sport, sub_sport) of a slot: its sport's FIT codes; without one, strength training
    when it prescribes strength, else generic."""
    sport = slot.get("sport")
    if sport in SPORTS:
        return SPORTS[sport], 0
    if sport in SUB_SPORTS:
        return SUB_SPORTS[sport]
    steps = slot.get("prescription") or []
    if not sport and any(s["kind"] == "strength" for s in steps):
        return STRENGTH
    return 0, 0


def slot_name(slot: dict[str, Any]) -> str:
    return slot.get("title") or f"{str(slot.get('role') or 'planned').capitalize()} session"


def _step(index: int, name: str | None, duration: tuple[int, int | None],
          target: tuple[int, int | None, int | None] = (OPEN_TARGET, None, None),
          intensity: str = "active", extra: tuple[Field, ...] = ()) -> list[Field]:
    dtype, dvalue = duration
    ttype, low, high = target
    fields: list[Field] = [(254, UINT16, index), (1, ENUM, dtype), (2, UINT32, dvalue),
                           (3, ENUM, ttype)]
    if ttype != OPEN_TARGET and dtype != REPEAT_UNTIL_STEPS_CMPLT:
        fields += [(4, UINT32, 0), (5, UINT32, low), (6, UINT32, high)]  # 0: custom range
    fields.append((7, ENUM, INTENSITY[intensity]))
    if name:
        fields.insert(1, (0, STRING, _text(name)))
    return [*fields, *extra]


def _repeat(index: int, back_to: int, times: int) -> list[Field]:
    return [(254, UINT16, index), (1, ENUM, REPEAT_UNTIL_STEPS_CMPLT), (2, UINT32, back_to),
            (4, UINT32, times)]


def _target(target: dict[str, Any] | None) -> tuple[int, int | None, int | None]:
    if not target:
        return OPEN_TARGET, None, None
    low, high = target["low"], target["high"]
    if target["type"] == "heart_rate":
        return HEART_RATE, round(low) + 100, round(high) + 100
    if target["type"] == "power":
        return POWER, round(low) + 1000, round(high) + 1000
    # pace (s/km): the slower pace is the lower speed
    return SPEED, round(1_000_000 / high), round(1_000_000 / low)


def workout_steps(slot: dict[str, Any], mass_unit: str,
                  exercise_name: Callable[[str], str]) -> list[list[Field]]:
    """The ``workout_step`` messages of a slot (see the module's docstring)."""
    out: list[list[Field]] = []
    for step in slot.get("prescription") or []:
        if step["kind"] == "endurance":
            duration = ((TIME, step["duration_s"] * 1000) if "duration_s" in step
                        else (DISTANCE, round(step["distance_m"] * 100)))
            out.append(_step(len(out), step.get("name"), duration, _target(step.get("target")),
                             step.get("intensity", "active")))
            continue
        exercise = get_exercise(step["exercise_id"])
        extra: list[Field] = []
        if exercise is not None:
            extra.append((10, UINT16, exercise.fit_category))
            if exercise.fit_name is not None:
                extra.append((11, UINT16, exercise.fit_name))
        if step.get("load_kg") is not None:
            extra += [(12, UINT16, round(step["load_kg"] * 100)),
                      (13, UINT16, MASS_UNITS.get(mass_unit, 1))]
        work = len(out)
        name = step.get("name") or exercise_name(step["exercise_id"])
        out.append(_step(work, name, (REPS, step["reps"]), extra=tuple(extra)))
        rest = step.get("rest_s")
        out.append(_step(len(out), "Rest", (OPEN_DURATION, None) if rest is None
                         else (TIME, rest * 1000), intensity="rest"))
        out.append(_repeat(len(out), work, step["sets"]))
    if not out:
        out.append(_step(0, slot_name(slot), (OPEN_DURATION, None)))
    return out


def workout_file(slot: dict[str, Any], serial: int, created: datetime, mass_unit: str = "kg",
                 exercise_name: Callable[[str], str] | None = None) -> bytes:
    """The FIT workout file of one planned slot.  ``serial`` and ``created`` go into
    ``file_id`` (they let an import recognise the slot); ``exercise_name`` names a custom
    exercise (catalogue names are known)."""
    def named(exercise_id: str) -> str:
        found = get_exercise(exercise_id)
        if found is not None:
            return found.name
        return exercise_name(exercise_id) if exercise_name else "Exercise"

    steps = workout_steps(slot, mass_unit, named)
    sport, sub_sport = sport_codes(slot)
    w = FitWriter()
    w.message(0, 0, [(0, ENUM, FILE_WORKOUT), (1, UINT16, DEVELOPMENT), (2, UINT16, PRODUCT),
                     (3, UINT32Z, serial), (4, UINT32, fit_time(created)),
                     (8, STRING, CREATOR)])
    w.message(1, 26, [(4, ENUM, sport), (11, ENUM, sub_sport), (6, UINT16, len(steps)),
                      (8, STRING, _text(slot_name(slot)))])
    for fields in steps:
        w.message(2, 27, fields)
    return w.finish()
