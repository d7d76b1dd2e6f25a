"""Ranking exercises for a search box: word-start matching, gym aliases, the athlete's habits.

A query matches an exercise when every query word starts a word of its name, or starts
the name's words run together ("pullup" matches "Pull up", "chin" does not match
"Machine").  Aliases ("ohp", "rdl", "chin-up"...) add the names they stand for.  Matches
rank by how often the athlete used them, then by how well they match, then shortest name
first; one entry per name is kept (the athlete's, else the first in catalogue order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = ["ALIASES", "rank_matches", "words"]

T = TypeVar("T")

# alias (words run together) -> the names it stands for, best first
ALIASES: dict[str, tuple[str, ...]] = {
    "ohp": ("overhead press", "military press", "barbell shoulder press"),
    "rdl": ("romanian deadlift",),
    "sldl": ("stiff leg deadlift",),
    "pullup": ("pull up", "chin up"),
    "pullups": ("pull up", "chin up"),
    "chinup": ("chin up", "pull up"),
    "chinups": ("chin up", "pull up"),
    "bp": ("barbell bench press",),
    "dl": ("deadlift",),
    "bss": ("bulgarian split squat",),
}

_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    """Lower-case words of a name or query; punctuation and hyphens separate words."""
    return _WORD.findall(text.casefold())


def _tails(name_words: list[str]) -> list[str]:
    """The name's words run together from each word on: "pull up" -> pullup, up."""
    return ["".join(name_words[i:]) for i in range(len(name_words))]


def _quality(query_words: list[str], name_words: list[str]) -> int | None:
    """0 exact name, 1 name starts with the query, 2 every query word starts a word; or None."""
    if not query_words or not name_words:
        return None
    joined, name = "".join(query_words), "".join(name_words)
    if joined == name:
        return 0
    if name.startswith(joined) and name_words[0].startswith(query_words[0]):
        return 1
    tails = _tails(name_words)
    if all(any(t.startswith(q) for t in tails) for q in query_words):
        return 2
    return None


def _score(query: str, name: str) -> int | None:
    """How well ``name`` matches ``query`` or one of its aliases (lower is better)."""
    name_words = words(name)
    query_words = words(query)
    best = _quality(query_words, name_words)
    for rank, phrase in enumerate(ALIASES.get("".join(query_words), ())):
        found = _quality(words(phrase), name_words)
        if found is not None:
            score = 3 * rank + found
            best = score if best is None else min(best, score)
    return best


def rank_matches(
    query: str,
    entries: Iterable[tuple[str, str, T]],
    history: Mapping[str, float] | None = None,
    limit: int = 20,
) -> list[T]:
    """The ``(name, id, item)`` entries matching ``query``, best first (see module doc).

    ``history`` counts the athlete's sets per exercise id.
    """
    used = history or {}
    scored: list[tuple[float, int, int, int, str, T]] = []
    for position, (name, ident, item) in enumerate(entries):
        score = _score(query, name)
        if score is not None:
            scored.append((-used.get(ident, 0), score, len(name), position, name.casefold(), item))
    scored.sort(key=lambda row: row[:4])
    seen: set[str] = set()
    found: list[T] = []
    for row in scored:
        if row[4] in seen:
            continue
        seen.add(row[4])
        found.append(row[5])
        if len(found) >= limit:
            break
    return found
