"""Exercise search as a lifter types it: aliases, word starts, the athlete's own lifts."""

from __future__ import annotations

from services.domain.exercises import Exercise, get_exercise, search_exercises


def _names(query: str, **kwargs: object) -> list[str]:
    return [e.name for e in search_exercises(query, **kwargs)]  # type: ignore[arg-type]


def test_ohp_gives_the_overhead_press_first() -> None:
    assert _names("ohp")[0] == "Overhead press"
    assert "Military press" in _names("ohp")


def test_pull_up_spellings_find_pull_ups_and_chin_ups() -> None:
    for query in ("pull-up", "pullup", "pull up", "chin-up", "chinup"):
        names = _names(query, limit=40)
        assert "Pull up" in names, query
        assert "Chin up" in names, query


def test_chin_matches_word_starts_only() -> None:
    names = _names("chin", limit=200)
    assert names
    assert all("machine" not in n.lower() for n in names)
    assert "Chin up" in names


def test_back_squat_puts_the_athletes_own_lift_first() -> None:
    own = "squat.barbell_back_squat"
    assert _names("back squat")[0] != "Barbell back squat"
    found = search_exercises("back squat", history={own: 12, "squat.back_squats": 1})
    assert [e.id for e in found[:2]] == [own, "squat.back_squats"]


def test_rdl_finds_the_romanian_deadlift() -> None:
    assert _names("rdl")[0] == "Romanian deadlift"


def test_the_usual_variant_comes_first_so_enter_picks_it() -> None:
    usual = "pull_up.neutral_grip_chin_up"
    assert search_exercises("chin", history={usual: 30})[0].id == usual


def test_one_entry_per_name() -> None:
    names = _names("pull up", limit=50)
    assert len(names) == len({n.lower() for n in names})


def test_custom_exercises_are_searched_too() -> None:
    mine = Exercise("custom:" + "a" * 32, "Sled push heavy", "sled", 65534, None)
    assert search_exercises("sled push", extra=[mine])[0] == mine
    assert get_exercise(mine.id) is None
