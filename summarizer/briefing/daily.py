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

from summarizer.briefing.merge import SAME_TEXT
from summarizer.briefing.model import Briefing, Cited, DemandEntry, IncidentEntry

F = TypeVar("F", bound=Cited)


def _mark(facts: Sequence[F], today: set[int]) -> list[F]:
    kept: list[F] = []
    for fact in facts:
        numbers = set(fact.source_numbers)
        if numbers & today:
            kept.append(fact.model_copy(update={"new": not (numbers - today)}))
    return kept


def _previous_status(demand: DemandEntry, earlier: Sequence[DemandEntry]) -> DemandEntry:
    for old in earlier:
        if (
            (old.by, old.of) == (demand.by, demand.of)
            and old.status != demand.status
            and fuzz.token_set_ratio(old.demand, demand.demand) >= SAME_TEXT
        ):
            return demand.model_copy(update={"previous_status": old.status})
    return demand


def focus_on_day(briefing: Briefing, day: date) -> Briefing:
    """The part of ``briefing`` that ``day``'s articles state, marked against the earlier articles in it.

    Sources published after ``day`` or with no known date must not be in ``briefing``; earlier sources stay in
    its source list (marked ``earlier``) so that the comparison can be checked."""
    today = {s.number for s in briefing.sources if s.published == day}
    earlier_only = [d for d in briefing.demands if not set(d.source_numbers) & today]
    demands = [_previous_status(d, earlier_only) for d in _mark(briefing.demands, today)]
    casualties = _mark(briefing.casualties, today)
    incidents: list[IncidentEntry] = []
    for incident in briefing.incidents:
        claims = [c for c in briefing.casualties if c.incident == incident.number]
        kinds_today = {c.kind for c in claims if set(c.source_numbers) & today}
        if not kinds_today:
            continue
        earlier_kinds = {c.kind for c in claims if not set(c.source_numbers) & today}
        changed = any(c.new for c in casualties if c.incident == incident.number) and bool(kinds_today & earlier_kinds)
        incidents.append(incident.model_copy(update={"changed": changed}))
    cited = {n for fact in [*demands, *casualties] for n in fact.source_numbers}
    parties, mediators, people = (_mark(x, today) for x in (briefing.parties, briefing.mediators, briefing.people))
    timeline, outcomes = _mark(briefing.timeline, today), _mark(briefing.outcomes, today)
    for section in (parties, mediators, people, timeline, outcomes):
        cited |= {n for fact in section for n in fact.source_numbers}
    sources = [
        s.model_copy(update={"earlier": s.number not in today})
        for s in briefing.sources
        if s.number in today or s.number in cited
    ]
    return briefing.model_copy(
        update={
            "title": f"Daily briefing, {day.isoformat()}",
            "day": day,
            "sources": sources,
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
