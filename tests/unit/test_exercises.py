"""Exercise catalogue: coverage of the FIT profile, lookups, search and the generator."""

from __future__ import annotations

import ast
import dataclasses
import json
import uuid
from pathlib import Path

import pytest
from fitdecode import profile as fit_profile

from services.domain import build_exercise_catalogue as builder
from services.domain import exercises as exercises_module
from services.domain.exercises import (
    CUSTOM_PREFIX,
    Exercise,
    all_exercises,
    exercise_for_fit,
    get_exercise,
    is_custom_exercise_id,
    new_custom_exercise_id,
    search_exercises,
)

CATEGORIES: dict[int, str] = {
    int(k): str(v) for k, v in fit_profile.FIELD_TYPES["exercise_category"].enum.items()
}
NAME_ENUMS: dict[str, dict[int, str]] = {
    str(t).removesuffix("_exercise_name"): {int(k): str(v) for k, v in ft.enum.items()}
    for t, ft in fit_profile.FIELD_TYPES.items()
    if str(t).endswith("_exercise_name")
}
FIT_NAMES: list[tuple[int, str, int, str]] = [
    (cat_value, category, name_value, name)
    for cat_value, category in sorted(CATEGORIES.items())
    for name_value, name in sorted(NAME_ENUMS.get(category, {}).items())
]
LEGACY_ID = "bench_press.legacy_press"
LEGACY: dict[str, object] = {
    "id": LEGACY_ID,
    "name": "Legacy press",
    "category": "bench_press",
    "fit_category": 0,
    "fit_name": 9999,
}


def _write(path: Path, exercises: list[dict[str, object]]) -> None:
    path.write_text(json.dumps({"fit_profile": "0.0", "exercises": exercises}), "utf-8")


def _ids(path: Path) -> list[str]:
    return [e["id"] for e in json.loads(path.read_text("utf-8"))["exercises"]]


# --- coverage of the FIT profile ---------------------------------------------------


def test_profile_sanity() -> None:
    assert CATEGORIES[0] == "bench_press"
    assert CATEGORIES[65534] == "unknown"
    assert len(NAME_ENUMS) >= 51
    assert set(NAME_ENUMS) <= set(CATEGORIES.values()), "name enum without a category"


@pytest.mark.parametrize(("value", "category"), sorted(CATEGORIES.items()))
def test_every_fit_category_has_an_entry(value: int, category: str) -> None:
    entry = exercise_for_fit(value, None)
    assert entry.fit_category == value
    assert entry.fit_name is None
    assert entry.id == category
    assert entry.category == category
    assert get_exercise(category) == entry


def test_every_fit_exercise_name_maps_to_its_entry() -> None:
    assert len(FIT_NAMES) > 1500
    for cat_value, category, name_value, name in FIT_NAMES:
        entry = exercise_for_fit(cat_value, name_value)
        assert (entry.fit_category, entry.fit_name) == (cat_value, name_value), name
        assert entry.category == category
        assert entry.id == f"{category}.{name}"


def test_catalogue_size_matches_profile() -> None:
    assert len(all_exercises()) == len(CATEGORIES) + len(FIT_NAMES)


def test_ids_and_fit_codes_are_unique_and_sorted() -> None:
    exercises = all_exercises()
    assert len({e.id for e in exercises}) == len(exercises)
    codes = [(e.fit_category, -1 if e.fit_name is None else e.fit_name) for e in exercises]
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    assert not any(e.id.startswith(CUSTOM_PREFIX) for e in exercises)
    assert all(e.name[:1].isupper() or e.name[:1].isdigit() for e in exercises)


def test_catalogue_records_profile_version() -> None:
    data = json.loads(builder.CATALOGUE_PATH.read_text("utf-8"))
    assert data["fit_profile"] == builder.profile_version() == "21.171"


# --- lookups ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "name", "expected"),
    [
        (0, 1, Exercise("bench_press.barbell_bench_press", "Barbell bench press",
                        "bench_press", 0, 1)),
        (28, 2, Exercise("squat.back_squats", "Back squats", "squat", 28, 2)),
        (21, 1, Exercise("pull_up.30_degree_lat_pulldown", "30 degree lat pulldown",
                         "pull_up", 21, 1)),
        (52, 1, Exercise("run_indoor.treadmill", "Treadmill", "run_indoor", 52, 1)),
        (53, 0, Exercise("bike_outdoor.bike", "Bike", "bike_outdoor", 53, 0)),
    ],
)  # fmt: skip
def test_known_fit_codes(category: int, name: int, expected: Exercise) -> None:
    assert exercise_for_fit(category, name) == expected
    assert get_exercise(expected.id) == expected


def test_display_names() -> None:
    assert exercise_for_fit(0, None).name == "Bench press"
    assert get_exercise("curl.ez_bar_preacher_curl") == exercise_for_fit(7, 19)
    assert exercise_for_fit(7, 19).name == "EZ bar preacher curl"
    assert exercise_for_fit(5, 88).name == "L sit"


def test_fallback_to_category_when_name_unknown() -> None:
    bench = exercise_for_fit(0, None)
    assert exercise_for_fit(0, 65535) == bench  # FIT "invalid" exercise_name
    assert exercise_for_fit(0, 9999) == bench
    # cardio_sensors has no exercise-name enum: any name resolves to the category.
    assert exercise_for_fit(34, 0).id == "cardio_sensors"


@pytest.mark.parametrize(("category", "name"), [(48, None), (51, 0), (65535, 3), (-1, None)])
def test_fallback_to_unknown_when_category_unknown(category: int, name: int | None) -> None:
    entry = exercise_for_fit(category, name)
    assert entry.id == "unknown"
    assert (entry.fit_category, entry.fit_name) == (65534, None)
    assert exercise_for_fit(65534, None) == entry


def test_get_exercise_misses() -> None:
    assert get_exercise("no_such_exercise") is None
    assert get_exercise("") is None
    assert get_exercise(new_custom_exercise_id()) is None


def test_all_exercises_is_loaded_once_and_frozen() -> None:
    exercises = all_exercises()
    assert exercises is all_exercises()
    assert isinstance(exercises, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        exercises[0].name = "changed"  # type: ignore[misc]


# --- search ----------------------------------------------------------------------


def test_search_is_case_insensitive_on_name_and_id() -> None:
    by_name = search_exercises("BARBELL Bench Press", limit=50)
    assert get_exercise("bench_press.barbell_bench_press") in by_name
    by_id = search_exercises("bench_press.barbell_", limit=50)
    assert by_id
    assert all(e.id.startswith("bench_press.barbell_") for e in by_id)
    assert all("bench press" in e.name.lower() or "bench_press" in e.id for e in by_name + by_id)


def test_search_ranks_name_prefix_matches_first() -> None:
    results = search_exercises("squat", limit=200)
    starts = [e.name.lower().startswith("squat") for e in results]
    assert starts[0]
    assert starts == sorted(starts, reverse=True)


def test_search_limit_and_empty() -> None:
    assert len(search_exercises("press")) == 20
    assert len(search_exercises("press", limit=3)) == 3
    assert search_exercises("press", limit=0) == []
    assert search_exercises("") == []
    assert search_exercises("   ") == []
    assert search_exercises("zzzz-no-such-thing") == []


# --- custom exercise ids -----------------------------------------------------------


def test_custom_exercise_ids() -> None:
    assert CUSTOM_PREFIX == "custom:"
    assert is_custom_exercise_id(new_custom_exercise_id())
    assert is_custom_exercise_id(f"custom:{uuid.uuid4().hex}")
    assert not is_custom_exercise_id("custom:")
    assert not is_custom_exercise_id("custom:not-a-uuid")
    assert not is_custom_exercise_id(f"custom:{uuid.uuid4()}")  # hyphenated form
    assert not is_custom_exercise_id(f"custom:{uuid.uuid4().hex.upper()}")
    assert not is_custom_exercise_id("bench_press.barbell_bench_press")
    assert new_custom_exercise_id() != new_custom_exercise_id()


# --- generator -------------------------------------------------------------------


def test_generator_is_idempotent() -> None:
    current = builder.CATALOGUE_PATH.read_text("utf-8")
    assert builder.render(builder.build(builder.CATALOGUE_PATH)) == current
    assert builder.main(["--check"]) == 0


def test_generator_from_scratch_matches_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "catalogue.json"
    assert builder.main(["--output", str(out)]) == 0
    assert out.read_text("utf-8") == builder.CATALOGUE_PATH.read_text("utf-8")


def test_generator_never_drops_existing_ids(tmp_path: Path) -> None:
    out = tmp_path / "catalogue.json"
    existing = json.loads(builder.CATALOGUE_PATH.read_text("utf-8"))["exercises"]
    _write(out, [LEGACY, *existing])
    assert builder.main(["--check", "--output", str(out)]) == 1
    assert builder.main(["--output", str(out)]) == 0
    ids = _ids(out)
    assert set(ids) == {e["id"] for e in existing} | {LEGACY_ID}
    assert LEGACY in json.loads(out.read_text("utf-8"))["exercises"]
    assert ids.index(LEGACY_ID) == ids.index("bench_press.alternating_dumbbell_chest_press") + 1
    assert builder.main(["--check", "--output", str(out)]) == 0  # stable afterwards


def test_generator_keeps_existing_entries_verbatim(tmp_path: Path) -> None:
    out = tmp_path / "catalogue.json"
    renamed: dict[str, object] = {
        "id": "bench_press.old_barbell_bench_press",
        "name": "Flat bench",
        "category": "bench_press",
        "fit_category": 0,
        "fit_name": 1,
    }
    _write(out, [renamed])
    catalogue = builder.build(out)
    entries = catalogue["exercises"]
    assert renamed in entries
    # FIT code (0, 1) is already catalogued under the old id: no second entry is added.
    assert [e["id"] for e in entries if (e["fit_category"], e["fit_name"]) == (0, 1)] == [
        renamed["id"]
    ]
    assert "bench_press.barbell_bench_press" not in {e["id"] for e in entries}
    assert len(entries) == len(all_exercises())
    assert catalogue["fit_profile"] == builder.profile_version()


def test_generator_rejects_id_reused_for_another_fit_code(tmp_path: Path) -> None:
    out = tmp_path / "catalogue.json"
    clash: dict[str, object] = {**LEGACY, "id": "bench_press.barbell_bench_press"}
    _write(out, [clash])
    with pytest.raises(ValueError, match="already used"):
        builder.build(out)


def test_merge_function_is_idempotent_on_current_json() -> None:
    loaded = builder.load_catalogue(builder.CATALOGUE_PATH)
    assert loaded is not None
    generated = builder.generate_entries()
    once = builder.merge_catalogue(loaded, generated, builder.profile_version())
    twice = builder.merge_catalogue(once, generated, builder.profile_version())
    assert once == twice == loaded
    assert builder.merge_catalogue(None, generated, builder.profile_version()) == loaded


def test_runtime_module_does_not_import_fitdecode() -> None:
    source = Path(exercises_module.__file__).read_text("utf-8")
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
    }
    assert "fitdecode" not in imported
