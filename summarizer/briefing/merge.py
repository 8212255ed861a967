"""Merges per-article records into one briefing. Pure: no I/O, no clock but the ``generated`` argument.

Every fact keeps a citation (source number and evidence quote) for each article that states it. Facts are
merged only when they are the same fact: the same actor under another spelling, the same figure from the
same claimant, the same dated event told in other words. What differs is kept apart and shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from summarizer.briefing.casualties import reconcile
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
from summarizer.briefing.repeats import mark_figure_reports, mark_met_demands
from summarizer.briefing.similarity import Embeddings
from summarizer.briefing.sources import FACT_LISTS, SourcedExtraction, number_sources, screen
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
from summarizer.ingest.quotes import article_key, quote_found

T = TypeVar("T")


class _Merger:
    def __init__(self, sourced: Sequence[SourcedExtraction], aliases: AliasTable, embeddings: Embeddings) -> None:
        self.sourced = sourced
        self.resolver = EntityResolver(aliases)
        self.embeddings = embeddings
        self.unverified = 0
        self.date_problems: list[str] = []
        self.published = {s.number: s.article.published for s in sourced}
        self._articles = {s.number: s.article for s in sourced}
        self._texts: dict[int, str] = {}
        self._by_number = {s.number: s for s in sourced}
        self._citations: dict[int, dict[str, Citation]] = {}

    def _citations_of(self, sourced: SourcedExtraction) -> dict[str, Citation]:
        # One pass per article, while its text is in the processor's cache: a briefing's facts are merged kind
        # by kind, so looking each quote up on first use visits every article's text once per kind of fact.
        # One article often gives one sentence as evidence for several facts: it is searched and cited once.
        text = sourced.article.text
        citations: dict[str, Citation] = {}
        for name in FACT_LISTS:
            for item in getattr(sourced.extraction, name):
                quote = item.evidence
                if quote not in citations:
                    # Most quotes are exact; normalising the whole article is left for those that are not.
                    found = quote in text or quote_found(quote, self._normalised(sourced.number))
                    citations[quote] = Citation(sourced.number, quote, found)
        return citations

    def cite(self, number: int, quote: str) -> Citation:
        citations = self._citations.get(number)
        if citations is None:
            citations = self._citations[number] = self._citations_of(self._by_number[number])
        citation = citations[quote]
        if not citation.found:
            self.unverified += 1
        return citation

    def _normalised(self, number: int) -> str:
        if number not in self._texts:
            article = self._articles[number]
            self._texts[number] = article_key(article.title, article.text)
        return self._texts[number]

    def each(self, pick: Callable[[ArticleExtraction], list[T]]) -> Iterable[tuple[int, T]]:
        for s in self.sourced:
            for item in pick(s.extraction):
                yield s.number, item

    def observe_names(self) -> None:
        # Each way of naming an actor is observed once, with its count: sources repeat the same few names.
        named: Counter[tuple[str, tuple[str, ...], str | None, bool]] = Counter()
        for actors in (lambda e: e.parties, lambda e: e.mediators):
            named.update((a.name, tuple(a.spellings), a.name_en, False) for _, a in self.each(actors))
        named.update((p.name, tuple(p.spellings), p.name_en, True) for _, p in self.each(lambda e: e.people))
        for (name, spellings, english, person), times in named.items():
            self.resolver.observe(name, spellings, times, english=english, person=person)
        # Who claims a figure is resolved as the actors are ("DNM" is the Dravic National Movement).
        for claimant in dict.fromkeys(c.claimant for _, c in self.each(lambda e: e.casualties) if c.claimant):
            self.resolver.mention(claimant)
        self.resolver.link_fuzzy()

    def name(self, value: str | None) -> str | None:
        return self.resolver.resolve(value)

    def spellings_of(self, shown: str, name: str, spellings: Sequence[str]) -> list[str]:
        """``name`` and those of its ``spellings`` that name the same actor: not one the alias table keeps
        apart (an armed group given as a spelling of the state it fights)."""
        return [name, *(s for s in spellings if self.name(s) == shown)]

    def parties(self) -> list[PartyEntry]:
        slots: dict[str, tuple[list[PartyKind], list[str], list[str], list[Citation]]] = {}
        for number, party in self.each(lambda e: e.parties):
            name = self.name(party.name) or party.name
            kinds, roles, names, citations = slots.setdefault(name, ([], [], [], []))
            kinds.append(party.kind)
            roles.extend(part.strip() for part in party.role.split(";"))
            names.extend(self.spellings_of(name, party.name, party.spellings))
            citations.append(self.cite(number, party.evidence))
        return [
            PartyEntry(
                name=name,
                kind=Counter(kinds).most_common(1)[0][0],
                roles=distinct_texts(roles),
                names=unique(names),
                citations=cites,
            )
            for name, (kinds, roles, names, cites) in slots.items()
        ]

    def mediators(self) -> list[MediatorEntry]:
        slots: dict[str, tuple[list[MediatorRole], list[str], list[str], list[Citation]]] = {}
        for number, mediator in self.each(lambda e: e.mediators):
            name = self.name(mediator.name) or mediator.name
            roles, venues, names, citations = slots.setdefault(name, ([], [], [], []))
            roles.append(mediator.role)
            venues.append(mediator.venue or "")
            names.extend(self.spellings_of(name, mediator.name, mediator.spellings))
            citations.append(self.cite(number, mediator.evidence))
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
        for number, person in self.each(lambda e: e.people):
            name = self.name(person.name) or person.name
            titles, affiliations, names, citations = slots.setdefault(name, ([], [], [], []))
            titles.append(person.title or "")
            affiliations.append(self.name(person.affiliation) or "")
            names.extend(self.spellings_of(name, person.name, person.spellings))
            citations.append(self.cite(number, person.evidence))
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
            self.embeddings,
            compatible=lambda a, b: same_standing(a[2], b[2]),
            finer=lambda a, b: more_definite(a[2], b[2]),
        )
        told: dict[int, dict[DemandStatus, set[int]]] = {}
        for number, demand in self.each(lambda e: e.demands):
            by, of = self.name(demand.by) or demand.by, self.name(demand.of)
            index = clusters.add((by, of), demand.demand, (by, of, demand), self.cite(number, demand.evidence))
            told.setdefault(index, {}).setdefault(demand.status, set()).add(number)
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
        claims = [(claim, self.cite(number, claim.evidence)) for number, claim in self.each(lambda e: e.casualties)]
        return reconcile(claims, self.name, self.resolver.is_actor)

    def timeline(self) -> list[TimelineEntry]:
        clusters: Clusters[Event] = Clusters(self.embeddings, compatible=same_time, finer=more_precise)
        date_texts: dict[int, list[str]] = {}
        for number, event in self.each(lambda e: e.events):
            citation = self.cite(number, event.evidence)
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
        for number, outcome in self.each(lambda e: e.outcomes):
            # The same actors, not only the same status: "Pakistan extended its stay" is not "both resumed talks".
            parties = frozenset(filter(None, (self.name(p) for p in outcome.parties)))
            key = (outcome.status, parties)
            clusters.add(key, outcome.description, outcome, self.cite(number, outcome.evidence))
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
    return frozenset(filter(None, (merger.name(n) for n in names)))


def _mark_repeats(
    outcomes: Sequence[OutcomeEntry], timeline: Sequence[TimelineEntry], embeddings: Embeddings
) -> list[OutcomeEntry]:
    """``outcomes``, each that a timeline event tells too naming that event."""
    marked: list[OutcomeEntry] = []
    for outcome in outcomes:
        same = next((e.id for e in timeline if embeddings.same_fact(outcome.description, e.description)), None)
        marked.append(outcome.model_copy(update={"repeats": same}) if same else outcome)
    return marked


def _story(
    number: int, sourced: Sequence[SourcedExtraction], aliases: AliasTable, embeddings: Embeddings
) -> tuple[Story, list[str]]:
    """One story's facts, merged, and what the merge has to say about them."""
    merger = _Merger(sourced, aliases, embeddings)
    merger.observe_names()
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
            "outcomes": _mark_repeats(story.outcomes, story.timeline, embeddings),
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
        story, story_notices = _story(number, [by_number[n] for n in members], aliases, embeddings)
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
