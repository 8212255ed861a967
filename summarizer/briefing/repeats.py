"""Facts of one kind that another kind already tells: an outcome that a timeline event tells in other words, and,
from the same passages of the same sources, an event that only reports casualty figures (the figures table's
row) and a demand met (the event that met it). A compact briefing says each once; the JSON and the full
briefing keep both."""

from __future__ import annotations

import re
from collections.abc import Sequence

from summarizer.briefing.model import CasualtyEntry, Cited, DemandEntry, OutcomeEntry, TimelineEntry
from summarizer.briefing.similarity import Embeddings
from summarizer.extraction.schema import DemandStatus


def _overlap(a: str, b: str) -> bool:
    """Whether two casefolded quotes share their passage: one holds the other."""
    return a in b or b in a


def _states(description: str, figure_text: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(figure_text.strip().casefold()) + r"(?!\w)"
    return re.search(pattern, description.casefold()) is not None


def _reported_later(event: TimelineEntry, claim: CasualtyEntry) -> bool:
    # An event at the claim's own time is the incident itself ("shelling struck the market on 2 April, killing
    # 19"), which the timeline tells; one at another time, or a claim with none, is when it was said.
    if claim.when is None:
        return True
    return not (event.date.startswith(claim.when) or claim.when.startswith(event.date))


def mark_figure_reports(timeline: Sequence[TimelineEntry], casualties: Sequence[CasualtyEntry]) -> list[TimelineEntry]:
    """``timeline``, each event that only reports casualty claims naming them in ``figures``: every one of its
    citations rests on a passage that a claim's quote from the same source shares, its wording states each
    such claim's figure, and it is dated when the figure was given, not when the casualties happened. An event
    that also tells something else (the fighting the figures come from, cited elsewhere too) keeps its line."""
    by_source: dict[int, list[tuple[str, CasualtyEntry]]] = {}
    for claim in casualties:
        for citation in claim.citations:
            by_source.setdefault(citation.source, []).append((citation.quote.casefold(), claim))
    marked: list[TimelineEntry] = []
    for event in timeline:
        # Whether the event may report a claim depends on the two alone; a fact told by thousands of sources
        # asks it once per claim, not once per citation.
        reports: dict[str, bool] = {}
        told: dict[str, None] = {}
        for citation in event.citations:
            quote = citation.quote.casefold()
            claims = []
            for theirs, claim in by_source.get(citation.source, ()):
                if not _overlap(theirs, quote):
                    continue
                if claim.id not in reports:
                    reports[claim.id] = _states(event.description, claim.figure_text) and _reported_later(event, claim)
                if reports[claim.id]:
                    claims.append(claim.id)
            if not claims:
                told.clear()
                break
            told.update(dict.fromkeys(claims))
        marked.append(event.model_copy(update={"figures": list(told)}) if told else event)
    return marked


def _rests_on(fact: Cited, other: Cited) -> bool:
    """Whether every citation of ``fact`` quotes a passage that a citation of ``other`` from its source shares."""
    quotes: dict[int, list[str]] = {}
    for citation in other.citations:
        quotes.setdefault(citation.source, []).append(citation.quote.casefold())
    return all(any(_overlap(c.quote.casefold(), q) for q in quotes.get(c.source, ())) for c in fact.citations)


def mark_met_demands(demands: Sequence[DemandEntry], timeline: Sequence[TimelineEntry]) -> list[DemandEntry]:
    """``demands``, each met demand that rests wholly on the passages of a timeline event naming it in
    ``repeats``: the event tells what happened to it, with its date. A demand still open keeps its line."""
    if not any(d.status == DemandStatus.MET for d in demands):
        return list(demands)
    # Only events that cite a demand's first source can hold all its passages: a briefing of many stories'
    # worth of facts compares each demand with a few events, not with the whole timeline.
    by_source: dict[int, list[TimelineEntry]] = {}
    for entry in timeline:
        for number in entry.source_numbers:
            by_source.setdefault(number, []).append(entry)
    marked: list[DemandEntry] = []
    for demand in demands:
        event = None
        if demand.status == DemandStatus.MET:
            candidates = by_source.get(demand.citations[0].source, [])
            event = next((e for e in candidates if _rests_on(demand, e)), None)
        marked.append(demand.model_copy(update={"repeats": event.id}) if event else demand)
    return marked


def mark_told_outcomes(
    outcomes: Sequence[OutcomeEntry], timeline: Sequence[TimelineEntry], embeddings: Embeddings
) -> list[OutcomeEntry]:
    """``outcomes``, each that a timeline event tells too (the same fact by ``Embeddings.same_fact``) naming
    that event in ``repeats``."""
    marked: list[OutcomeEntry] = []
    for outcome in outcomes:
        same = next((e.id for e in timeline if embeddings.same_fact(outcome.description, e.description)), None)
        marked.append(outcome.model_copy(update={"repeats": same}) if same else outcome)
    return marked
