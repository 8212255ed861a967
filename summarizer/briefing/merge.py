"""Merges per-article records into one briefing. Pure: no I/O, no clock but the ``generated`` argument.

Every fact keeps a citation (source number and evidence quote) for each article that states it. Facts are
merged only when they are the same fact: the same actor under another spelling, the same figure from the
same claimant, the same dated event told in other words. What differs is kept apart and shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from summarizer.briefing.casualties import reconcile
from summarizer.briefing.dates import date_disagreement
from summarizer.briefing.entities import AliasTable, EntityResolver
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
    TimelineEntry,
)
from summarizer.briefing.timeline import flag_conflicts
from summarizer.extraction.records import Record
from summarizer.extraction.schema import ArticleExtraction, Demand, Event, MediatorRole, Outcome, PartyKind
from summarizer.ingest.articles import Article
from summarizer.ingest.injection import passage_spans, rests_on
from summarizer.ingest.quotes import article_key, quote_found

T = TypeVar("T")

SAME_TEXT = 85.0
"""rapidfuzz token-set ratio above which two descriptions of one kind of fact are the same fact."""


@dataclass(frozen=True, slots=True)
class SourcedExtraction:
    """One article and its validated extraction, numbered as a source."""

    number: int
    article: Article
    record: Record
    extraction: ArticleExtraction


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    # Exact repeats go first, in C: an actor named by thousands of sources has a few distinct spellings.
    for value in dict.fromkeys(values):
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)


def _distinct_texts(values: Iterable[str], threshold: float = SAME_TEXT) -> list[str]:
    """Unique phrases, near-repeats folded into the longest of them ("negotiating party" into
    "negotiating party seeking an end to attacks"), in first-seen order."""
    kept: list[str] = []
    for value in _unique(values):
        for i, other in enumerate(kept):
            if fuzz.token_set_ratio(value.casefold(), other.casefold()) >= threshold:
                kept[i] = max(other, value, key=len)
                break
        else:
            kept.append(value)
    return kept


def _most_common(values: Iterable[str]) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def _sort_key(article: Article) -> tuple[date, str]:
    return (article.published or date.max, article.source)


class _Clusters(Generic[T]):
    """Groups items whose key is equal and whose text is similar; each group keeps every citation.

    Only groups of the same key are compared, and those in one call into rapidfuzz, so grouping stays fast
    when a briefing holds thousands of facts."""

    def __init__(self, threshold: float = SAME_TEXT) -> None:
        self.threshold = threshold
        self.groups: list[tuple[tuple[object, ...], str, T, list[Citation]]] = []
        self._exact: dict[tuple[tuple[object, ...], str], int] = {}
        self._by_key: dict[tuple[object, ...], tuple[list[str], list[int]]] = {}
        self._cited: list[set[tuple[int, str]]] = []

    def add(self, key: tuple[object, ...], text: str, item: T, citation: Citation) -> int:
        """Put ``item`` in the most similar group of its key (or a new one); returns the group's index."""
        same_key = self._by_key.get(key)
        if same_key is None:
            same_key = self._by_key[key] = ([], [])
        texts, indexes = same_key
        index = self._exact.get((key, text))
        if index is None:
            best = process.extractOne(text, texts, scorer=fuzz.token_set_ratio, score_cutoff=self.threshold)
            index = None if best is None else indexes[best[2]]
        if index is not None:
            if (citation.source, citation.quote) not in self._cited[index]:
                self._cited[index].add((citation.source, citation.quote))
                self.groups[index][3].append(citation)
            return index
        self.groups.append((key, text, item, [citation]))
        self._cited.append({(citation.source, citation.quote)})
        self._exact[key, text] = len(self.groups) - 1
        texts.append(text)
        indexes.append(len(self.groups) - 1)
        return len(self.groups) - 1


class _Merger:
    def __init__(self, sourced: Sequence[SourcedExtraction], aliases: AliasTable) -> None:
        self.sourced = sourced
        self.resolver = EntityResolver(aliases)
        self.unverified = 0
        self.date_problems: list[str] = []
        self.published = {s.number: s.article.published for s in sourced}
        self._articles = {s.number: s.article for s in sourced}
        self._texts: dict[int, str] = {}
        self._citations = {s.number: self._citations_of(s) for s in sourced}

    def _citations_of(self, sourced: SourcedExtraction) -> dict[str, Citation]:
        # One pass per article, while its text is in the processor's cache: a briefing's facts are merged kind
        # by kind, so looking each quote up on first use visits every article's text once per kind of fact.
        # One article often gives one sentence as evidence for several facts: it is searched and cited once.
        text = sourced.article.text
        citations: dict[str, Citation] = {}
        for name in _FACT_LISTS:
            for item in getattr(sourced.extraction, name):
                quote = item.evidence
                if quote not in citations:
                    # Most quotes are exact; normalising the whole article is left for those that are not.
                    found = quote in text or quote_found(quote, self._normalised(sourced.number))
                    citations[quote] = Citation(sourced.number, quote, found)
        return citations

    def cite(self, number: int, quote: str) -> Citation:
        citation = self._citations[number][quote]
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
        named: Counter[tuple[str, tuple[str, ...]]] = Counter()
        named.update((party.name, tuple(party.spellings)) for _, party in self.each(lambda e: e.parties))
        named.update((mediator.name, ()) for _, mediator in self.each(lambda e: e.mediators))
        named.update((person.name, tuple(person.spellings)) for _, person in self.each(lambda e: e.people))
        for (name, spellings), times in named.items():
            self.resolver.observe(name, spellings, times)
        self.resolver.link_fuzzy()

    def name(self, value: str | None) -> str | None:
        return self.resolver.resolve(value)

    def spellings_of(self, shown: str, name: str, spellings: Sequence[str]) -> list[str]:
        """``name`` and those of its ``spellings`` that name the same actor: not one the alias table keeps
        apart ("TTP" given as a spelling of Pakistan)."""
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
                roles=_distinct_texts(roles),
                names=_unique(names),
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
            names.append(mediator.name)
            citations.append(self.cite(number, mediator.evidence))
        return [
            MediatorEntry(
                name=name,
                roles=list(dict.fromkeys(roles)),
                venues=_unique(venues),
                names=_unique(names),
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
                titles=_unique(titles),
                affiliation=_most_common(affiliations),
                names=_unique(names),
                citations=cites,
            )
            for name, (titles, affiliations, names, cites) in slots.items()
        ]

    def demands(self) -> list[DemandEntry]:
        clusters: _Clusters[tuple[str, str | None, Demand]] = _Clusters()
        for number, demand in self.each(lambda e: e.demands):
            by, of = self.name(demand.by) or demand.by, self.name(demand.of)
            citation = self.cite(number, demand.evidence)
            clusters.add((by, of, demand.status), demand.demand, (by, of, demand), citation)
        # Entries are built once per group, with all its citations: not once per fact and then copied.
        return sorted(
            (
                DemandEntry(by=by, of=of, demand=demand.demand, status=demand.status, citations=cites)
                for _, _, (by, of, demand), cites in clusters.groups
            ),
            key=lambda d: (d.by, d.of or "", d.status),
        )

    def casualties(self) -> tuple[list[CasualtyEntry], list[IncidentEntry]]:
        claims = [(claim, self.cite(number, claim.evidence)) for number, claim in self.each(lambda e: e.casualties)]
        return reconcile(claims, self.name)

    def timeline(self) -> list[TimelineEntry]:
        clusters: _Clusters[Event] = _Clusters(threshold=70.0)
        date_texts: dict[int, list[str]] = {}
        for number, event in self.each(lambda e: e.events):
            citation = self.cite(number, event.evidence)
            problem = date_disagreement(event, self.published[number])
            if problem:
                self.date_problems.append(f"source {number}: {problem}")
            index = clusters.add((event.date, event.end_date, event.precision), event.description, event, citation)
            date_texts.setdefault(index, []).append(event.date_text)
        entries = [
            TimelineEntry(
                date=event.date,
                end_date=event.end_date,
                precision=event.precision,
                description=event.description,
                date_texts=_unique(date_texts[i]),
                citations=cites,
            )
            for i, (_, _, event, cites) in enumerate(clusters.groups)
        ]
        return sorted(flag_conflicts(entries), key=lambda e: (e.date, e.precision != "day"))

    def outcomes(self) -> list[OutcomeEntry]:
        clusters: _Clusters[Outcome] = _Clusters()
        for number, outcome in self.each(lambda e: e.outcomes):
            clusters.add((outcome.status,), outcome.description, outcome, self.cite(number, outcome.evidence))
        return [
            OutcomeEntry(
                description=outcome.description,
                status=outcome.status,
                parties=_unique(self.name(p) for p in outcome.parties),
                citations=cites,
            )
            for _, _, outcome, cites in clusters.groups
        ]


_FACT_LISTS = ("parties", "mediators", "people", "demands", "casualties", "events", "outcomes")


def _screen(sourced: Sequence[SourcedExtraction]) -> tuple[list[SourcedExtraction], list[str]]:
    """Leave out the facts whose evidence is text addressed to the model, with a notice per article that has
    such text (whether or not a fact rests on it)."""
    screened: list[SourcedExtraction] = []
    notices: list[str] = []
    for s in sourced:
        passages = s.article.directed
        if not passages:
            screened.append(s)
            continue
        key = article_key(s.article.title, s.article.text)
        spans = passage_spans(key, passages)
        kept: dict[str, list[object]] = {}
        for name in _FACT_LISTS:
            items = getattr(s.extraction, name)
            kept[name] = [item for item in items if not rests_on(item.evidence, key, spans)]
        dropped = sum(len(getattr(s.extraction, name)) - len(kept[name]) for name in _FACT_LISTS)
        screened.append(replace(s, extraction=s.extraction.model_copy(update=kept)))
        example = passages[0]
        example = example if len(example) <= 80 else example[:79] + "…"
        notices.append(
            f"source {s.number} contains text addressed to the model (“{example}”); "
            + (f"{dropped} fact(s) quoting it were left out" if dropped else "no fact rests on it")
        )
    return screened, notices


def number_sources(pairs: Iterable[tuple[Article, Record]]) -> list[SourcedExtraction]:
    """Validate each record's output and number the articles by publication date, then location."""
    ordered = sorted(pairs, key=lambda pair: _sort_key(pair[0]))
    return [
        SourcedExtraction(number=i, article=article, record=record, extraction=record.extraction())
        for i, (article, record) in enumerate(ordered, start=1)
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


def merge(
    sourced: Sequence[SourcedExtraction],
    *,
    generated: datetime,
    aliases: AliasTable | None = None,
    failures: Sequence[Failure] = (),
    title: str | None = None,
) -> Briefing:
    """The briefing for ``sourced``: entities resolved, facts merged, every fact cited."""
    sourced, screened = _screen(sourced)
    merger = _Merger(sourced, aliases or AliasTable.load())
    merger.observe_names()
    parties, mediators, people = merger.parties(), merger.mediators(), merger.people()
    demands, (casualties, incidents) = merger.demands(), merger.casualties()
    timeline, outcomes = merger.timeline(), merger.outcomes()
    notices = screened
    if merger.unverified:
        notices.append(
            f"{merger.unverified} evidence quote(s) were not found word for word in their article; "
            "their citations are marked [n?]"
        )
    notices.extend(f"date check, {problem}; the timeline keeps the record's date" for problem in merger.date_problems)
    for first, second in merger.resolver.refused:
        notices.append(f"kept {first!r} and {second!r} apart: the alias table declares them distinct actors")
    inferred = [s.number for s in sourced if s.article.published_inferred]
    if inferred:
        numbers = ", ".join(str(n) for n in inferred)
        notices.append(f"the publication dates of sources {numbers} are inferred from their text, not given")
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
    days = sorted({s.article.published for s in sourced if s.article.published})
    span = f" ({days[0]} to {days[-1]})" if len(days) > 1 else f" ({days[0]})" if days else ""
    return Briefing(
        title=title or f"Briefing{span}",
        generated=generated,
        sources=sources,
        parties=parties,
        mediators=mediators,
        people=people,
        demands=demands,
        casualties=casualties,
        incidents=incidents,
        timeline=timeline,
        outcomes=outcomes,
        failures=list(failures),
        notices=notices,
    )
