"""The top line of a story, "Key developments", picked from its merged facts by rank when no model writes it:
what the most sources say first, then what is most recent, then what settles things (agreements, failures,
figures) before what is only stated. Every bullet is a fact of the story, cited as the fact is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from summarizer.briefing.model import Cited, DemandEntry, KeyPoint, OutcomeEntry, Story, TimelineEntry
from summarizer.briefing.similarity import Embeddings

C = TypeVar("C", bound=Cited)

MOST = 5
"""How many bullets a picked top line has at most."""

_OUTCOME_WEIGHT = {"agreed": 3, "failed": 3, "implemented": 2, "rejected": 3, "proposed": 1, "unknown": 0}
_DEMAND_WEIGHT = {"met": 3, "rejected": 3, "under_negotiation": 2, "stated": 0}


def with_ids(entries: Sequence[C], prefix: str) -> list[C]:
    """``entries`` numbered ``prefix1``, ``prefix2``… in order."""
    return [entry.model_copy(update={"id": f"{prefix}{i}"}) for i, entry in enumerate(entries, start=1)]


@dataclass(frozen=True, slots=True)
class _Candidate:
    fact: Cited
    text: str
    """The bullet."""
    core: str
    """What the fact says, without its date or status: what two bullets are compared on."""
    weight: int
    when: date

    def rank(self) -> tuple[int, int, int]:
        return (len(self.fact.source_numbers), self.when.toordinal(), self.weight)


def _day(value: str) -> date:
    """A day for a partial ISO date (``2025``, ``2025-10``, ``2025-10-25``), late in its span, for recency."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return date(*parts)
    return date(parts[0], 12, 31) if len(parts) == 1 else date(parts[0], parts[1], 28)


def _candidates(story: Story, published: Mapping[int, date | None]) -> list[_Candidate]:
    def latest(fact: Cited) -> date:
        return max((published.get(n) or date.min for n in fact.source_numbers), default=date.min)

    found: list[_Candidate] = []
    for event in story.timeline:
        found.append(_Candidate(event, event_text(event), event.description, 1, _day(event.date)))
    for outcome in story.outcomes:
        weight = _OUTCOME_WEIGHT.get(outcome.status, 0)
        found.append(_Candidate(outcome, _outcome_text(outcome), outcome.description, weight, latest(outcome)))
    for demand in story.demands:
        weight = _DEMAND_WEIGHT.get(demand.status, 0)
        if weight:
            found.append(_Candidate(demand, demand_text(demand), demand.demand, weight, latest(demand)))
    return found


def event_text(event: TimelineEntry) -> str:
    """An event in one line: its date or span, then what happened."""
    when = f"{event.date} to {event.end_date}" if event.end_date else event.date
    return f"{when}: {event.description}"


def _outcome_text(outcome: OutcomeEntry) -> str:
    return f"{outcome.description} ({outcome.status.replace('_', ' ')})"


def demand_text(demand: DemandEntry) -> str:
    """A demand in one line: who of whom, what, and where it stands."""
    of = f" of {demand.of}" if demand.of else ""
    return f"{demand.by} demands{of}: {demand.demand} ({demand.status.replace('_', ' ')})"


def picked_key_points(
    story: Story, published: Mapping[int, date | None], embeddings: Embeddings | None = None
) -> list[KeyPoint]:
    """Up to ``MOST`` of the story's facts, by rank, none telling what a bullet above it already tells."""
    embeddings = embeddings or Embeddings()
    ranked = sorted(_candidates(story, published), key=_Candidate.rank, reverse=True)
    picked: list[_Candidate] = []
    for candidate in ranked:
        if len(picked) == MOST:
            break
        if any(embeddings.same_fact(candidate.core, p.core) for p in picked):
            continue
        picked.append(candidate)
    return [KeyPoint(text=c.text, facts=[c.fact.id], sources=c.fact.source_numbers) for c in picked]
