"""Merges per-article records into one briefing. Pure: no I/O, no clock but the ``generated`` argument.

Every fact keeps a citation (source number and evidence quote) for each article that states it. Facts are
merged only when they are the same fact: the same actor under another spelling, the same figure from the
same claimant, the same dated event told in other words. What differs is kept apart and shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from typing import Protocol, TypeVar

from summarizer.briefing.casualties import reconcile
from summarizer.briefing.citing import Quotes, cite_sources
from summarizer.briefing.dates import date_disagreement
from summarizer.briefing.entities import AliasTable, EntityResolver
from summarizer.briefing.facts import (
    Clusters,
    distinct_texts,
    more_definite,
    more_precise,
    most_common,
    same_standing,
    same_time,
    unique,
)
from summarizer.briefing.model import (
    Briefing,
    CasualtyEntry,
    Citation,
    DemandEntry,
    Failure,
    IncidentEntry,
    MediatorEntry,
    OutcomeEntry,
    PartyEntry,
    PersonEntry,
    Source,
    Story,
    TimelineEntry,
)
from summarizer.briefing.repeats import mark_figure_reports, mark_met_demands, mark_told_outcomes
from summarizer.briefing.similarity import Embeddings
from summarizer.briefing.sources import SourcedExtraction, number_sources, screen
from summarizer.briefing.stories import group_stories, period, story_title
from summarizer.briefing.timeline import flag_conflicts
from summarizer.briefing.topline import picked_key_points, with_ids
from summarizer.extraction.records import Record
from summarizer.extraction.schema import (
    ArticleExtraction,
    Demand,
    DemandStatus,
    Event,
    MediatorRole,
    Outcome,
    PartyKind,
)
from summarizer.ingest.articles import Article

T = TypeVar("T")


class _Evidenced(Protocol):
    @property
    def evidence(self) -> str: ...


F = TypeVar("F", bound=_Evidenced)


class _Merger:
    def __init__(self, sourced: Sequence[SourcedExtraction], aliases: AliasTable, embeddings: Embeddings) -> None:
        self.sourced = sourced
        self.resolver = EntityResolver(aliases)
        self.embeddings = embeddings
        self.date_problems: list[str] = []
        self.published = {s.number: s.article.published for s in sourced}
        # Bound once: a briefing resolves names a few hundred thousand times, and a call less each time counts.
        self.name: Callable[[str | None], str | None] = self.resolver.resolve

    @cached_property
    def _quotes(self) -> Quotes:
        # Every quote of every source looked up in one pass, when the first fact is cited: merged kind by kind,
        # the facts would visit every article's text once per kind.
        return cite_sources(self.sourced)

    @property
    def unverified(self) -> int:
        """How many facts cite a quote not found word for word in its article."""
        return self._quotes.unverified

    def cited(self, pick: Callable[[ArticleExtraction], list[F]]) -> Iterator[tuple[F, Citation]]:
        """Each fact ``pick`` gives of every source, with its citation (whose ``source`` is the source's number)."""
        by_number = self._quotes.by_source
        for s in self.sourced:
            citations = by_number[s.number]
            for item in pick(s.extraction):
                yield item, citations[item.evidence]

    def each(self, pick: Callable[[ArticleExtraction], list[T]]) -> Iterator[T]:
        for s in self.sourced:
            yield from pick(s.extraction)

    def observe_names(self) -> None:
        # Each way of naming an actor is observed once, with its count: sources repeat the same few names.
        named: Counter[tuple[str, tuple[str, ...], str | None, bool]] = Counter()
        for actors in (lambda e: e.parties, lambda e: e.mediators):
            named.update((a.name, tuple(a.spellings), a.name_en, False) for a in self.each(actors))
        named.update((p.name, tuple(p.spellings), p.name_en, True) for p in self.each(lambda e: e.people))
        for (name, spellings, english, person), times in named.items():
            self.resolver.observe(name, spellings, times, english=english, person=person)
        # Who claims a figure is resolved as the actors are ("DNM" is the Dravic National Movement).
        for claimant in dict.fromkeys(c.claimant for c in self.each(lambda e: e.casualties) if c.claimant):
            self.resolver.mention(claimant)
        self.resolver.link_fuzzy()

    def spellings_of(self, shown: str, name: str, spellings: Sequence[str]) -> list[str]:
        """``name`` and those of its ``spellings`` that name the same actor: not one the alias table keeps
        apart (an armed group given as a spelling of the state it fights)."""
        # Most actors come with no other spelling: no generator for them.
        return [name, *(s for s in spellings if self.name(s) == shown)] if spellings else [name]

    def parties(self) -> list[PartyEntry]:
        slots: dict[str, tuple[list[PartyKind], list[str], list[str], list[Citation]]] = {}
        for party, citation in self.cited(lambda e: e.parties):
            name = self.name(party.name) or party.name
            kinds, roles, names, citations = slots.setdefault(name, ([], [], [], []))
            kinds.append(party.kind)
            roles.append(party.role)
            names.extend(self.spellings_of(name, party.name, party.spellings))
            citations.append(citation)
        return [
            PartyEntry(
                name=name,
                kind=Counter(kinds).most_common(1)[0][0],
                # Split once per distinct role: the parts come in the same first-seen order as split per fact.
                roles=distinct_texts(part.strip() for role in dict.fromkeys(roles) for part in role.split(";")),
                names=unique(names),
                citations=cites,
            )
            for name, (kinds, roles, names, cites) in slots.items()
        ]

    def mediators(self) -> list[MediatorEntry]:
        slots: dict[str, tuple[list[MediatorRole], list[str], list[str], list[Citation]]] = {}
        for mediator, citation in self.cited(lambda e: e.mediators):
            name = self.name(mediator.name) or mediator.name
            roles, venues, names, citations = slots.setdefault(name, ([], [], [], []))
            roles.append(mediator.role)
            venues.append(mediator.venue or "")
            names.extend(self.spellings_of(name, mediator.name, mediator.spellings))
            citations.append(citation)
        return [
            MediatorEntry(
                name=name,
                roles=list(dict.fromkeys(roles)),
                venues=unique(venues),
                names=unique(names),
                citations=cites,
            )
            for name, (roles, venues, names, cites) in slots.items()
        ]

    def people(self) -> list[PersonEntry]:
        slots: dict[str, tuple[list[str], list[str], list[str], list[Citation]]] = {}
        for person, citation in self.cited(lambda e: e.people):
            name = self.name(person.name) or person.name
            titles, affiliations, names, citations = slots.setdefault(name, ([], [], [], []))
            titles.append(person.title or "")
            affiliations.append(self.name(person.affiliation) or "")
            names.extend(self.spellings_of(name, person.name, person.spellings))
            citations.append(citation)
        return [
            PersonEntry(
                name=name,
                titles=unique(titles),
                affiliation=most_common(affiliations),
                names=unique(names),
                citations=cites,
            )
            for name, (titles, affiliations, names, cites) in slots.items()
        ]

    def demands(self) -> list[DemandEntry]:
        clusters: Clusters[tuple[str, str | None, Demand]] = Clusters(
            self.embeddings, compatible=same_standing, finer=more_definite
        )
        told: dict[int, dict[DemandStatus, set[int]]] = {}
        for demand, citation in self.cited(lambda e: e.demands):
            by, of = self.name(demand.by) or demand.by, self.name(demand.of)
            index = clusters.add((by, of), demand.demand, (by, of, demand), citation)
            told.setdefault(index, {}).setdefault(demand.status, set()).add(citation.source)
        # Entries are built once per group, with all its citations: not once per fact and then copied.
        return sorted(
            (
                DemandEntry(
                    by=by,
                    of=of,
                    demand=demand.demand,
                    status=demand.status,
                    variants=variants,
                    statuses={k: sorted(v) for k, v in told[i].items()} if len(told[i]) > 1 else {},
                    citations=cites,
                )
                for i, ((_, _, (by, of, demand), cites), variants) in enumerate(
                    zip(clusters.groups, clusters.variants, strict=True)
                )
            ),
            key=lambda d: (d.by, d.of or "", d.status),
        )

    def casualties(self) -> tuple[list[CasualtyEntry], list[IncidentEntry]]:
        claims = list(self.cited(lambda e: e.casualties))
        return reconcile(claims, self.name, self.resolver.is_actor)

    def timeline(self) -> list[TimelineEntry]:
        clusters: Clusters[Event] = Clusters(self.embeddings, compatible=same_time, finer=more_precise)
        date_texts: dict[int, list[str]] = {}
        for event, citation in self.cited(lambda e: e.events):
            number = citation.source
            problem = date_disagreement(event, self.published[number])
            if problem:
                self.date_problems.append(f"source {number}: {problem}")
            index = clusters.add((event.date[:4],), event.description, event, citation)
            date_texts.setdefault(index, []).append(event.date_text)
        entries = [
            TimelineEntry(
                date=event.date,
                end_date=event.end_date,
                precision=event.precision,
                description=event.description,
                date_texts=unique(date_texts[i]),
                variants=clusters.variants[i],
                citations=cites,
            )
            for i, (_, _, event, cites) in enumerate(clusters.groups)
        ]
        return sorted(flag_conflicts(entries), key=lambda e: (e.date, e.precision != "day"))

    def outcomes(self) -> list[OutcomeEntry]:
        clusters: Clusters[Outcome] = Clusters(self.embeddings)
        for outcome, citation in self.cited(lambda e: e.outcomes):
            # The same actors, not only the same status: "the rebels extended the talks" is not "both signed".
            parties = frozenset(filter(None, map(self.name, outcome.parties)))
            key = (outcome.status, parties)
            clusters.add(key, outcome.description, outcome, citation)
        return [
            OutcomeEntry(
                description=outcome.description,
                status=outcome.status,
                parties=unique(self.name(p) for p in outcome.parties),
                variants=variants,
                citations=cites,
            )
            for (_, _, outcome, cites), variants in zip(clusters.groups, clusters.variants, strict=True)
        ]


def merge_records(
    pairs: Iterable[tuple[Article, Record]],
    *,
    generated: datetime,
    aliases: AliasTable | None = None,
    failures: Sequence[Failure] = (),
    title: str | None = None,
) -> Briefing:
    """The briefing for articles and their records: :func:`number_sources`, then :func:`merge`."""
    return merge(number_sources(pairs), generated=generated, aliases=aliases, failures=failures, title=title)


def _actors(merger: _Merger, sourced: SourcedExtraction) -> frozenset[str]:
    names = [*(p.name for p in sourced.extraction.parties), *(m.name for m in sourced.extraction.mediators)]
    return frozenset(filter(None, map(merger.name, names)))


def _story(number: int, merger: _Merger) -> tuple[Story, list[str]]:
    """One story's facts, merged by ``merger`` (its names observed), and what the merge has to say about them."""
    sourced, embeddings = merger.sourced, merger.embeddings
    parties, mediators, people = merger.parties(), merger.mediators(), merger.people()
    demands, (casualties, incidents) = merger.demands(), merger.casualties()
    timeline, outcomes = merger.timeline(), merger.outcomes()
    notices: list[str] = []
    if merger.unverified:
        notices.append(
            f"{merger.unverified} evidence quote(s) were not found word for word in their article; "
            "their citations are marked [n?]"
        )
    notices.extend(f"date check, {problem}; the timeline keeps the record's date" for problem in merger.date_problems)
    for first, second in merger.resolver.refused:
        notices.append(f"kept {first!r} and {second!r} apart: the alias table declares them distinct actors")
    story = Story(
        number=number,
        title=story_title(
            [s.article.title for s in sourced],
            [f"{s.article.title}. {s.extraction.summary}" for s in sourced],
            embeddings,
        ),
        period=period([s.article.published for s in sourced]),
        sources=[s.number for s in sourced],
        parties=with_ids(parties, f"{number}.P"),
        mediators=with_ids(mediators, f"{number}.M"),
        people=with_ids(people, f"{number}.W"),
        demands=with_ids(demands, f"{number}.D"),
        casualties=with_ids(casualties, f"{number}.C"),
        incidents=incidents,
        timeline=with_ids(timeline, f"{number}.E"),
        outcomes=with_ids(outcomes, f"{number}.O"),
    )
    story = story.model_copy(
        update={
            "outcomes": mark_told_outcomes(story.outcomes, story.timeline, embeddings),
            "timeline": mark_figure_reports(story.timeline, story.casualties),
            "demands": mark_met_demands(story.demands, story.timeline),
        }
    )
    published = {s.number: s.article.published for s in sourced}
    return story.model_copy(update={"key_points": picked_key_points(story, published, embeddings)}), notices


def merge(
    sourced: Sequence[SourcedExtraction],
    *,
    generated: datetime,
    aliases: AliasTable | None = None,
    failures: Sequence[Failure] = (),
    title: str | None = None,
) -> Briefing:
    """The briefing for ``sourced``: articles grouped into stories, then, per story, entities resolved, facts
    merged, every fact cited, and the key developments picked."""
    sourced, notices = screen(sourced)
    aliases = aliases or AliasTable.load()
    embeddings = Embeddings()
    everyone = _Merger(sourced, aliases, embeddings)
    everyone.observe_names()
    groups = group_stories(
        [
            (s.number, _actors(everyone, s), f"{s.article.title}. {s.extraction.summary}", s.article.published)
            for s in sourced
        ],
        embeddings,
    )
    by_number = {s.number: s for s in sourced}
    stories: list[Story] = []
    for number, members in enumerate(groups, start=1):
        if len(members) == len(sourced):
            # One story holds every source, in their order: its names are those already resolved for grouping.
            merger = everyone
        else:
            merger = _Merger([by_number[n] for n in members], aliases, embeddings)
            merger.observe_names()
        story, story_notices = _story(number, merger)
        stories.append(story)
        prefix = f"story {number}: " if len(groups) > 1 else ""
        notices.extend(prefix + notice for notice in story_notices)
    sources = [
        Source(
            number=s.number,
            article_id=s.article.id,
            title=s.article.title,
            location=s.article.source,
            outlet=s.article.outlet,
            url=s.article.url,
            published=s.article.published,
            published_inferred=s.article.published_inferred,
            origin=s.record.origin,
            summary=s.extraction.summary,
        )
        for s in sourced
    ]
    span = period([s.article.published for s in sourced])
    return Briefing(
        title=title or (f"Briefing ({span})" if span else "Briefing"),
        generated=generated,
        sources=sources,
        stories=stories,
        failures=list(failures),
        notices=notices,
    )
