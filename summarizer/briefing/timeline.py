"""Flags dated events that may be one event given different dates by different sources.

Two day-precise events a few days apart, told by different sources, may be one event dated differently when
their descriptions are nearly the same, or when both are the same kind of singular event (a ceasefire, an
airstrike, an explosion, a border closure). Both dates stay in the timeline, each naming the other, so the
reader sees the disagreement and its sources instead of a date picked silently.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from datetime import date

from rapidfuzz import fuzz

from summarizer.briefing.model import TimelineEntry

NEARLY_SAME = 90.0
"""rapidfuzz token-sort ratio above which two descriptions tell the same event."""
WINDOW_DAYS = 7
"""How far apart two dates for one event may be."""
EVENT_KINDS: dict[str, frozenset[str]] = {
    "ceasefire": frozenset({"ceasefire", "cease-fire", "truce", "armistice"}),
    "airstrike": frozenset({"airstrike", "airstrikes", "air strike", "air strikes"}),
    "explosion": frozenset({"explosion", "explosions", "blast", "blasts", "bombing", "bombings"}),
    "closure": frozenset({"closed", "closure", "sealed"}),
}
"""Kinds of event that happen once in a story, with the words that name them."""


_KIND_PATTERNS = {
    kind: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")\b")
    for kind, words in EVENT_KINDS.items()
}


def event_kinds(text: str) -> set[str]:
    """The kinds of singular event a description names."""
    lowered = text.casefold()
    return {kind for kind, pattern in _KIND_PATTERNS.items() if pattern.search(lowered)}


def flag_conflicts(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """``entries`` with ``conflicts_with`` set on events that other sources may date differently."""
    # Only day-precise events within the window can conflict: sort them by day and compare neighbours.
    days = sorted((date.fromisoformat(e.date).toordinal(), i) for i, e in enumerate(entries) if e.precision == "day")
    ordinals = [d for d, _ in days]
    kinds = {i: event_kinds(entries[i].description) for _, i in days}
    sources = {i: set(entries[i].source_numbers) for _, i in days}
    flagged: list[TimelineEntry] = list(entries)
    for day, i in days:
        entry = entries[i]
        start, end = bisect_left(ordinals, day - WINDOW_DAYS), bisect_right(ordinals, day + WINDOW_DAYS)
        others = {
            entries[j].date
            for _, j in days[start:end]
            if entries[j].date != entry.date
            and not sources[i] & sources[j]
            and (kinds[i] & kinds[j] or fuzz.token_sort_ratio(entry.description, entries[j].description) >= NEARLY_SAME)
        }
        if others:
            flagged[i] = entry.model_copy(update={"conflicts_with": sorted(others)})
    return flagged
