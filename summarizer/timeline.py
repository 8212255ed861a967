"""Flags dated events that may be one event given different dates by different sources.

Two day-precise events a few days apart, told by different sources, may be one event dated differently when
their descriptions are nearly the same, or when both are the same kind of singular event (a ceasefire, an
airstrike, an explosion, a border closure). Both dates stay in the timeline, each naming the other, so the
reader sees the disagreement and its sources instead of a date picked silently.
"""

from __future__ import annotations

import re
from datetime import date

from rapidfuzz import fuzz

from .briefing import TimelineEntry

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


def event_kinds(text: str) -> set[str]:
    """The kinds of singular event a description names."""
    lowered = text.casefold()
    return {kind for kind, words in EVENT_KINDS.items() if any(re.search(rf"\b{w}\b", lowered) for w in words)}


def _days_apart(a: str, b: str) -> int:
    return abs((date.fromisoformat(a) - date.fromisoformat(b)).days)


def _may_be_one_event(a: TimelineEntry, b: TimelineEntry) -> bool:
    if a.precision != "day" or b.precision != "day" or a.date == b.date:
        return False
    if _days_apart(a.date, b.date) > WINDOW_DAYS or set(a.source_numbers) & set(b.source_numbers):
        return False
    return bool(event_kinds(a.description) & event_kinds(b.description)) or (
        fuzz.token_sort_ratio(a.description, b.description) >= NEARLY_SAME
    )


def flag_conflicts(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """``entries`` with ``conflicts_with`` set on events that other sources may date differently."""
    flagged: list[TimelineEntry] = []
    for entry in entries:
        others = sorted({other.date for other in entries if _may_be_one_event(entry, other)})
        flagged.append(entry.model_copy(update={"conflicts_with": others}) if others else entry)
    return flagged
