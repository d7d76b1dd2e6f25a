"""Generate ``exercise_catalogue.json`` from the FIT profile bundled with fitdecode.

Run ``python -m services.domain.build_exercise_catalogue`` (add ``--check`` in CI).

Every FIT ``exercise_category`` value gets a category entry (id = enum name, ``fit_name``
null) and every value of the matching ``<category>_exercise_name`` enum gets an exercise
entry (id = ``"<category>.<name>"``). Ids are stable public identifiers, so the output is
merged into the existing file: existing entries are kept verbatim and only FIT codes that
are not yet catalogued are added. Nothing is ever removed or renamed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypedDict, TypeGuard

from fitdecode import profile as fit_profile

CATALOGUE_PATH = Path(__file__).with_name("exercise_catalogue.json")
NAME_ENUM_SUFFIX = "_exercise_name"

# Display spellings for tokens that are not plain lower-case words ("EZ bar", "L sit").
_SPELLINGS = {
    **{t: t.upper() for t in ("ez", "ghd", "kbs", "rdl", "trx")},
    **{letter: letter.upper() for letter in "iltuvwxy"},  # shape names: "T push up", "V up"
    "swiss": "Swiss",
}


class ExerciseEntry(TypedDict):
    id: str
    name: str
    category: str
    fit_category: int
    fit_name: int | None


class Catalogue(TypedDict):
    fit_profile: str
    exercises: list[ExerciseEntry]


def profile_version() -> str:
    """Return the FIT SDK version from the header of fitdecode's generated profile."""
    header = Path(fit_profile.__file__).read_text(encoding="utf-8")[:2000]
    match = re.search(r"SDK VERSION (\d+\.\d+)", header)
    if match is None:
        raise RuntimeError("cannot find the FIT SDK version in fitdecode/profile.py")
    return match.group(1)


def humanize(enum_name: str) -> str:
    """``"close_grip_ez_bar_biceps_curl"`` -> ``"Close grip EZ bar biceps curl"``."""
    words = [_SPELLINGS.get(w, w) for w in enum_name.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _enum(type_name: str) -> dict[int, str]:
    return {int(k): str(v) for k, v in fit_profile.FIELD_TYPES[type_name].enum.items()}


def name_enums() -> dict[str, dict[int, str]]:
    """Map each exercise category name to its ``<category>_exercise_name`` enum.

    Raises if a name enum matches no category, so a profile upgrade that introduces an
    unexpected naming scheme fails loudly instead of silently dropping exercises.
    """
    categories = set(_enum("exercise_category").values())
    result: dict[str, dict[int, str]] = {}
    for type_name in sorted(str(t) for t in fit_profile.FIELD_TYPES):
        if not type_name.endswith(NAME_ENUM_SUFFIX):
            continue
        category = type_name.removesuffix(NAME_ENUM_SUFFIX)
        if category not in categories:
            raise RuntimeError(f"{type_name} matches no exercise_category value")
        result[category] = _enum(type_name)
    return result


def categories_without_names() -> list[str]:
    """Category names that have no ``<category>_exercise_name`` enum in the profile."""
    named = name_enums()
    return [c for _, c in sorted(_enum("exercise_category").items()) if c not in named]


def generate_entries() -> list[ExerciseEntry]:
    """Build the catalogue entries straight from the FIT profile (no merging)."""
    named = name_enums()
    entries: list[ExerciseEntry] = []
    for cat_value, category in sorted(_enum("exercise_category").items()):
        entries.append(
            ExerciseEntry(
                id=category,
                name=humanize(category),
                category=category,
                fit_category=cat_value,
                fit_name=None,
            )
        )
        for name_value, name in sorted(named.get(category, {}).items()):
            entries.append(
                ExerciseEntry(
                    id=f"{category}.{name}",
                    name=humanize(name),
                    category=category,
                    fit_category=cat_value,
                    fit_name=name_value,
                )
            )
    return entries


def _sort_key(entry: ExerciseEntry) -> tuple[int, int, str]:
    fit_name = entry["fit_name"]
    return (entry["fit_category"], -1 if fit_name is None else fit_name, entry["id"])


def merge_catalogue(
    existing: Catalogue | None, generated: Iterable[ExerciseEntry], fit_profile_version: str
) -> Catalogue:
    """Merge freshly generated entries into an existing catalogue.

    Existing entries are kept unchanged. A generated entry is added only when its
    ``(fit_category, fit_name)`` code is not catalogued yet, so an SDK rename of an enum
    value keeps the old id. A new entry whose id is already taken by a different FIT code
    is a conflict that needs a human decision and raises ``ValueError``.
    """
    kept = list(existing["exercises"]) if existing is not None else []
    by_id = {e["id"]: e for e in kept}
    if len(by_id) != len(kept):
        raise ValueError("existing catalogue contains duplicate ids")
    codes = {(e["fit_category"], e["fit_name"]) for e in kept}
    merged = [e.copy() for e in kept]
    for entry in generated:
        code = (entry["fit_category"], entry["fit_name"])
        if code in codes:
            continue
        if entry["id"] in by_id:
            other = by_id[entry["id"]]
            raise ValueError(
                f"id {entry['id']!r} for FIT code {code} is already used by "
                f"{(other['fit_category'], other['fit_name'])}; resolve by hand"
            )
        merged.append(entry.copy())
        by_id[entry["id"]] = entry
        codes.add(code)
    merged.sort(key=_sort_key)
    return Catalogue(fit_profile=fit_profile_version, exercises=merged)


def _is_code(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_entry(raw: object) -> ExerciseEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"catalogue entry is not an object: {raw!r}")
    ident, name, category = raw.get("id"), raw.get("name"), raw.get("category")
    fit_category, fit_name = raw.get("fit_category"), raw.get("fit_name")
    if not (isinstance(ident, str) and isinstance(name, str) and isinstance(category, str)):
        raise ValueError(f"bad string field in catalogue entry {raw!r}")
    if not _is_code(fit_category) or not (fit_name is None or _is_code(fit_name)):
        raise ValueError(f"bad FIT code in catalogue entry {raw!r}")
    return ExerciseEntry(
        id=ident, name=name, category=category, fit_category=fit_category, fit_name=fit_name
    )


def load_catalogue(path: Path) -> Catalogue | None:
    """Read a catalogue file, or return ``None`` when it does not exist."""
    if not path.exists():
        return None
    raw: object = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("exercises"), list):
        raise ValueError(f"{path} is not an exercise catalogue")
    version = raw.get("fit_profile")
    return Catalogue(
        fit_profile=version if isinstance(version, str) else "",
        exercises=[_as_entry(e) for e in raw["exercises"]],
    )


def render(catalogue: Catalogue) -> str:
    """Serialise deterministically: one entry per line keeps diffs reviewable."""
    lines = [json.dumps(dict(e), ensure_ascii=False) for e in catalogue["exercises"]]
    body = ",\n    ".join(lines)
    version = json.dumps(catalogue["fit_profile"])
    return f'{{\n  "fit_profile": {version},\n  "exercises": [\n    {body}\n  ]\n}}\n'


def build(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Return the catalogue stored at ``path`` merged with the current FIT profile."""
    return merge_catalogue(load_catalogue(path), generate_entries(), profile_version())


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=CATALOGUE_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    args = parser.parse_args(argv)
    output: Path = args.output
    catalogue = build(output)
    text = render(catalogue)
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if args.check:
        if text != current:
            print(f"{output} is out of date; rerun the generator", file=sys.stderr)
            return 1
        return 0
    if text != current:
        _write_atomic(output, text)
    missing = ", ".join(categories_without_names()) or "none"
    print(
        f"{output}: {len(catalogue['exercises'])} entries, FIT profile "
        f"{catalogue['fit_profile']}; categories without a name enum: {missing}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
