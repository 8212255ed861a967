"""Daily mode: the briefing of one day's articles, with what is new against earlier days' reports marked.

The day's articles and the earlier ones are merged together first, so that names, claims and events are
matched the same way; then only the facts a day's article states are kept. A fact is new when no earlier
report states it; an incident's figures have changed when today's claims differ from earlier ones; a demand's
status has changed when an earlier report gave the same demand another status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from rapidfuzz import fuzz

from summarizer.briefing.facts import SAME_TEXT
from summarizer.briefing.model import Briefing, Cited, DemandEntry, IncidentEntry, Story
from summarizer.briefing.topline import picked_key_points

F = TypeVar("F", bound=Cited)


def _mark(facts: Sequence[F], today: set[int]) -> list[F]:
    kept: list[F] = []
    for fact in facts:
        numbers = set(fact.source_numbers)
        if numbers & today:
            kept.append(fact.model_copy(update={"new": not (numbers - today)}))
    return kept


def _previous_status(demand: DemandEntry, earlier: Sequence[DemandEntry], today: set[int]) -> DemandEntry:
    # A line that joins earlier reports of the demand with today's: its status moved when no earlier source
    # gives the status it now has. The latest earlier source's status is what it was.
    told = demand.told_statuses()
    before = [(max(set(numbers) - today), status) for status, numbers in told.items() if set(numbers) - today]
    if before and demand.status not in {status for _, status in before}:
        return demand.model_copy(update={"previous_status": max(before)[1]})
    for old in earlier:
        if (
            (old.by, old.of) == (demand.by, demand.of)
            and old.status != demand.status
            and fuzz.token_set_ratio(old.demand, demand.demand) >= SAME_TEXT
        ):
            return demand.model_copy(update={"previous_status": old.status})
    return demand


def _story_on_day(story: Story, today: set[int], published: dict[int, date | None]) -> Story | None:
    """The part of ``story`` that today's sources state, or None when they state none of it."""
    earlier_only = [d for d in story.demands if not set(d.source_numbers) & today]
    demands = [_previous_status(d, earlier_only, today) for d in _mark(story.demands, today)]
    casualties = _mark(story.casualties, today)
    incidents: list[IncidentEntry] = []
    for incident in story.incidents:
        claims = [c for c in story.casualties if c.incident == incident.number]
        kinds_today = {c.kind for c in claims if set(c.source_numbers) & today}
        if not kinds_today:
            continue
        earlier_kinds = {c.kind for c in claims if not set(c.source_numbers) & today}
        changed = any(c.new for c in casualties if c.incident == incident.number) and bool(kinds_today & earlier_kinds)
        incidents.append(incident.model_copy(update={"changed": changed}))
    parties, mediators, people = (_mark(x, today) for x in (story.parties, story.mediators, story.people))
    timeline, outcomes = _mark(story.timeline, today), _mark(story.outcomes, today)
    if not set(story.sources) & today:
        return None
    focused = story.model_copy(
        update={
            "parties": parties,
            "mediators": mediators,
            "people": people,
            "demands": demands,
            "casualties": casualties,
            "incidents": incidents,
            "timeline": timeline,
            "outcomes": outcomes,
        }
    )
    return focused.model_copy(update={"key_points": picked_key_points(focused, published)})


def cited_sources(story: Story) -> set[int]:
    """Every source a fact of ``story`` cites."""
    facts: list[Cited] = [
        *story.parties, *story.mediators, *story.people, *story.demands,
        *story.casualties, *story.timeline, *story.outcomes,
    ]  # fmt: skip
    return {n for fact in facts for n in fact.source_numbers}


def focus_on_day(briefing: Briefing, day: date) -> Briefing:
    """The part of ``briefing`` that ``day``'s articles state, marked against the earlier articles in it.

    Sources published after ``day`` or with no known date must not be in ``briefing``; earlier sources stay in
    its source list (marked ``earlier``) so that the comparison can be checked. Stories that no article of the
    day tells are left out."""
    today = {s.number for s in briefing.sources if s.published == day}
    published = {s.number: s.published for s in briefing.sources}
    stories = [f for f in (_story_on_day(story, today, published) for story in briefing.stories) if f is not None]
    cited = set().union(*(cited_sources(story) for story in stories)) if stories else set()
    sources = [
        s.model_copy(update={"earlier": s.number not in today})
        for s in briefing.sources
        if s.number in today or s.number in cited
    ]
    return briefing.model_copy(
        update={"title": f"Daily briefing, {day.isoformat()}", "day": day, "sources": sources, "stories": stories}
    )
