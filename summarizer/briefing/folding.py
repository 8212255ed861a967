"""Facts the model names as the same (``Synthesis.same_facts``) folded into one line each.

Static embeddings join paraphrases that share words; "hand over heavy weapons" and "surrender artillery" share
none, and stay two lines until the model, which reads them, says they are one fact. A group becomes its best
attested member (an event before an outcome, then the most sources) carrying every member's citations, quotes
included, and the others' wordings as variants. Nothing is resolved silently: a member dated otherwise becomes a
date conflict on the line, and members whose demanding party differs, or whose statuses disagree (one that says
nothing, such as ``stated``, agrees with any), are not folded together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, cast

from summarizer.briefing.facts import UNSAID
from summarizer.briefing.model import Citation, Cited, DemandEntry, KeyPoint, OutcomeEntry, Story, TimelineEntry
from summarizer.extraction.schema import DemandStatus

F = TypeVar("F", bound=Cited)


def _local(fact_id: str) -> str:
    return fact_id.rpartition(".")[2]


def _citations(facts: Sequence[Cited]) -> list[Citation]:
    seen: set[tuple[int, str]] = set()
    out: list[Citation] = []
    for fact in facts:
        for c in fact.citations:
            if (c.source, c.quote) not in seen:
                seen.add((c.source, c.quote))
                out.append(c)
    return sorted(out, key=lambda c: c.source)


def _new(facts: Sequence[Cited]) -> bool | None:
    """New only when every member is: a fact another source reported earlier is not new."""
    flags = [f.new for f in facts]
    return None if all(f is None for f in flags) else all(bool(f) for f in flags)


def _text(fact: Cited) -> str:
    if isinstance(fact, TimelineEntry | OutcomeEntry):
        return fact.description
    if isinstance(fact, DemandEntry):
        return fact.demand
    return ""


def _variants(head: Cited, others: Sequence[Cited]) -> list[str]:
    own = _text(head)
    told = [*getattr(head, "variants", [])]
    for other in others:
        told += [_text(other), *getattr(other, "variants", [])]
    return [v for v in dict.fromkeys(told) if v and v != own]


def _fold(head: F, others: Sequence[F | Cited]) -> F:
    update: dict[str, object] = {
        "citations": _citations([head, *others]),
        "new": _new([head, *others]),
        "variants": _variants(head, others),
    }
    if isinstance(head, TimelineEntry):
        # "2025-10" holds "2025-10-29": only a date that cannot be the head's is a disagreement.
        dates = [
            o.date
            for o in others
            if isinstance(o, TimelineEntry) and not (o.date.startswith(head.date) or head.date.startswith(o.date))
        ]
        update["conflicts_with"] = list(dict.fromkeys([*head.conflicts_with, *dates]))
        texts = [t for o in others if isinstance(o, TimelineEntry) for t in o.date_texts]
        update["date_texts"] = list(dict.fromkeys([*head.date_texts, *texts]))
    if isinstance(head, DemandEntry):
        told: dict[DemandStatus, set[int]] = {}
        for member in [head, *others]:
            if isinstance(member, DemandEntry):
                for status, numbers in member.told_statuses().items():
                    told.setdefault(status, set()).update(numbers)
        update["statuses"] = {k: sorted(v) for k, v in told.items()} if len(told) > 1 else {}
    if isinstance(head, OutcomeEntry):
        parties = [p for o in others if isinstance(o, OutcomeEntry) for p in o.parties]
        update["parties"] = list(dict.fromkeys([*head.parties, *parties]))
    return head.model_copy(update=update)


def _rank(fact: Cited) -> tuple[int, int, int]:
    definite = isinstance(fact, DemandEntry) and fact.status not in UNSAID
    return (isinstance(fact, TimelineEntry), definite, len(fact.source_numbers))


def _standings(demands: list[Cited]) -> list[list[Cited]]:
    """Demands by one party, as the lines they may become: one, when at most one status that says where a
    demand stands is among them (see ``facts.UNSAID``); else one line per status."""
    statuses: dict[str, list[Cited]] = {}
    for fact in demands:
        statuses.setdefault(cast(DemandEntry, fact).status, []).append(fact)
    if len(statuses.keys() - UNSAID) <= 1:
        return [demands]
    return list(statuses.values())


def _parts(members: list[Cited]) -> list[list[Cited]]:
    """The members that may become one line: demands by the same party whose statuses agree (see
    ``_standings``); events with the outcomes of the commonest status (outcomes of another status apart, among
    themselves)."""
    demands: dict[str, list[Cited]] = {}
    outcomes: dict[str, list[Cited]] = {}
    events: list[Cited] = []
    for fact in members:
        if isinstance(fact, DemandEntry):
            demands.setdefault(fact.by, []).append(fact)
        elif isinstance(fact, OutcomeEntry):
            outcomes.setdefault(fact.status, []).append(fact)
        elif isinstance(fact, TimelineEntry):
            events.append(fact)
    by_size = sorted(outcomes.values(), key=len, reverse=True)
    if events:
        by_size = [events + (by_size[0] if by_size else []), *by_size[1:]]
    standings = [part for by in demands.values() for part in _standings(by)]
    return [part for part in [*standings, *by_size] if len(part) > 1]


def fold_same_facts(story: Story, groups: Sequence[Sequence[str]]) -> Story:
    """``story`` with each group of same facts (ids local to the story, ``E3``) folded into one fact; key
    developments and outcome repeats that named a folded fact name the line it went into."""
    by_local = {_local(f.id): f for f in [*story.timeline, *story.outcomes, *story.demands]}
    into: dict[str, str] = {}
    heads: dict[str, Cited] = {}
    for group in groups:
        members = [by_local[i] for i in dict.fromkeys(group) if i in by_local]
        for part in _parts(members):
            head = max(part, key=_rank)
            others = [f for f in part if f is not head]
            heads[head.id] = _fold(head, others)
            into.update({o.id: head.id for o in others})
    if not into:
        return story

    def kept(facts: Sequence[F]) -> list[F]:
        return [cast(F, heads.get(f.id, f)) for f in facts if f.id not in into]

    outcomes = [
        o.model_copy(update={"repeats": into.get(o.repeats, o.repeats)}) if o.repeats else o
        for o in kept(story.outcomes)
    ]
    folded = story.model_copy(
        update={"timeline": kept(story.timeline), "outcomes": outcomes, "demands": kept(story.demands)}
    )
    by_id = {f.id: f for f in [*folded.timeline, *folded.outcomes, *folded.demands]}
    return folded.model_copy(update={"key_points": [_remapped(p, into, by_id) for p in story.key_points]})


def _remapped(point: KeyPoint, into: dict[str, str], by_id: dict[str, Cited]) -> KeyPoint:
    """``point`` naming the lines its facts went into, and citing every source those lines now have."""
    facts = list(dict.fromkeys(into.get(f, f) for f in point.facts))
    sources = set(point.sources) | {n for f in facts if f in by_id for n in by_id[f].source_numbers}
    return point.model_copy(update={"facts": facts, "sources": sorted(sources)})
