"""The written top line: each story's merged facts sent to the model as numbered lines, and its answer (a
``Synthesis``) turned into the story's key developments, cited through the facts each bullet names.

The request goes through the same pipeline as an article's (cache, retries, re-asks, cost, recordings): its
"article" is the story's fact sheet, so the same facts give the same cache key and the same recording. Where no
top line can be written (no endpoint, an answer that stays ungrounded after its re-asks, a failure), the story
keeps its picked top line and the briefing says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from summarizer.briefing.folding import fold_same_facts
from summarizer.briefing.model import (
    Briefing,
    CasualtyEntry,
    Cited,
    DemandEntry,
    KeyPoint,
    MediatorEntry,
    OutcomeEntry,
    PartyEntry,
    PersonEntry,
    Story,
    TimelineEntry,
)
from summarizer.briefing.topline import demand_text, event_text
from summarizer.config import Settings
from summarizer.errors import ConfigError, first_problem
from summarizer.extraction.cost import PriceTable, price_usage
from summarizer.extraction.pipeline import EndpointFactory, open_pipeline
from summarizer.extraction.records import Record
from summarizer.extraction.synthesis import Synthesis, synthesis_context
from summarizer.extraction.tasks import listed_facts, load_synthesis_task
from summarizer.ingest.articles import Article, article_id, normalise_text

_log = logging.getLogger(__name__)


def _words(values: Sequence[str]) -> str:
    return ", ".join(v.replace("_", " ") for v in values)


def _event(e: TimelineEntry) -> str:
    other = f" (other sources date it {', '.join(e.conflicts_with)})" if e.conflicts_with else ""
    return f"{event_text(e)}{other}"


def _casualty(c: CasualtyEntry) -> str:
    numbers = [str(n) for n in (c.low, c.best, c.high) if n is not None]
    figure = c.figure_text
    if numbers and not any(ch.isdigit() for ch in figure):
        figure += f" ({'-'.join(dict.fromkeys(numbers))})"
    about = [c.kind.replace("_", " "), c.victims.replace("_", " ")]
    about += [x for x in (c.side, c.location, c.when) if x]
    return f"{c.claimant or 'the outlet itself'} says {figure} ({', '.join(about)})"


def _fact_text(fact: Cited) -> tuple[str, str]:
    """A fact's kind and what it states, in one line."""
    if isinstance(fact, TimelineEntry):
        return "event", _event(fact)
    if isinstance(fact, OutcomeEntry):
        parties = f"; {', '.join(fact.parties)}" if fact.parties else ""
        return "outcome", f"{fact.description} ({fact.status.replace('_', ' ')}{parties})"
    if isinstance(fact, DemandEntry):
        return "demand", demand_text(fact)
    if isinstance(fact, CasualtyEntry):
        return "casualty claim", _casualty(fact)
    if isinstance(fact, PartyEntry):
        roles = f"; {', '.join(fact.roles)}" if fact.roles else ""
        return "party", f"{fact.name} ({fact.kind.replace('_', ' ')}{roles})"
    if isinstance(fact, MediatorEntry):
        venues = f"; at {', '.join(fact.venues)}" if fact.venues else ""
        return "mediator", f"{fact.name} ({_words(fact.roles)}{venues})"
    if isinstance(fact, PersonEntry):
        about = [*fact.titles, *([fact.affiliation] if fact.affiliation else [])]
        return "person", f"{fact.name} ({', '.join(about)})" if about else fact.name
    raise TypeError(f"not a fact of a story: {type(fact).__name__}")


def story_facts(story: Story) -> list[Cited]:
    """Every fact of ``story`` a top line may rest on, in the order the briefing shows them."""
    return [
        *story.timeline,
        *story.outcomes,
        *story.demands,
        *story.casualties,
        *story.parties,
        *story.mediators,
        *story.people,
    ]


def _local(fact_id: str) -> str:
    """``E3`` for ``1.E3``: the id within its story."""
    return fact_id.rpartition(".")[2]


def fact_sheet(story: Story) -> str:
    """The story's facts as the synthesis request lists them, one line each:
    ``E3 | event | what it states | 2 sources``. Ids and counts are the story's own, not the briefing's, so
    the same story gives the same sheet (and cache entry) alone or beside other stories."""
    lines = []
    for fact in story_facts(story):
        kind, text = _fact_text(fact)
        text = " ".join(text.replace("|", "/").split())
        count = len(fact.source_numbers)
        lines.append(f"{_local(fact.id)} | {kind} | {text} | {count} {'sources' if count > 1 else 'source'}")
    return "\n".join(lines)


def sheet_article(story: Story, briefing: Briefing) -> Article:
    """The story's fact sheet as the "article" a synthesis request sends: its id is the sheet's, so the same
    facts are the same cache entry and the same recording."""
    text = normalise_text(fact_sheet(story))
    latest = max((s.published for s in briefing.sources if s.number in story.sources and s.published), default=None)
    return Article(
        id=article_id(text),
        title=story.title,
        text=text,
        source=f"story {story.number}",
        published=latest,
    )


def written_key_points(story: Story, synthesis: Synthesis) -> list[KeyPoint]:
    """The story's key developments as the model wrote them, each citing every source of the facts it names."""
    by_id = {_local(fact.id): fact for fact in story_facts(story)}
    points = []
    for bullet in synthesis.key_developments:
        facts = [by_id[f].id for f in dict.fromkeys(bullet.facts) if f in by_id]
        sources = sorted({n for f in bullet.facts if f in by_id for n in by_id[f].source_numbers})
        points.append(KeyPoint(text=bullet.text, facts=facts, sources=sources))
    return points


@dataclass(slots=True)
class TopLines:
    """The briefing with its written top lines, and the records of the synthesis requests behind them."""

    briefing: Briefing
    records: list[tuple[Article, Record]]
    notices: list[str]
    """Why some story's top line is picked rather than written (also in the briefing's notices)."""


def check_answer(record: Record, article: Article) -> Synthesis:
    """The record's answer, checked against the fact sheet it was asked about (a cached answer included)."""
    return Synthesis.model_validate(record.output, context=synthesis_context(listed_facts(article.text)))


async def awrite_top_lines(
    briefing: Briefing,
    settings: Settings,
    *,
    endpoint: EndpointFactory | None = None,
    refresh: bool = False,
) -> TopLines:
    """``briefing`` with each story's top line written by the model from its facts (cache first). A story
    whose top line cannot be written keeps the picked one, and a notice says why."""
    stories = [s for s in briefing.stories if story_facts(s)]
    if not stories:
        return TopLines(briefing, [], [])
    notices: list[str] = []
    try:
        task = load_synthesis_task(settings.prompts_dir)
        articles = [sheet_article(story, briefing) for story in stories]
        with open_pipeline(settings, endpoint=endpoint, refresh=refresh, task=task) as pipeline:
            results = await pipeline.arun(articles)
    except ConfigError as exc:
        notice = f"the key developments are picked from the facts, not written: {exc}"
        return TopLines(briefing.model_copy(update={"notices": [*briefing.notices, notice]}), [], [notice])
    written: dict[int, Story] = {}
    records: list[tuple[Article, Record]] = []
    for story, article, result in zip(stories, articles, results, strict=True):
        if result.record is None:
            notices.append(f"story {story.number}: the key developments are picked, not written: {result.error}")
            continue
        records.append((article, result.record))
        try:
            synthesis = check_answer(result.record, article)
        except ValidationError as exc:
            reason = first_problem(exc, "the answer")
            notices.append(f"story {story.number}: the key developments are picked, not written: {reason}")
            continue
        story = story.model_copy(
            update={"key_points": written_key_points(story, synthesis), "key_points_written": True}
        )
        written[story.number] = fold_same_facts(story, synthesis.same_facts)
    _log.info("key developments written for %d of %d stor(ies)", len(written), len(stories))
    update: dict[str, object] = {
        "stories": [written.get(s.number, s) for s in briefing.stories],
        "notices": [*briefing.notices, *notices],
    }
    fetched = [(r.request.model, r.response.usage, r.response.attempts) for _, r in records]
    if briefing.cost is not None and fetched:
        update["cost"] = briefing.cost.plus(price_usage(fetched, PriceTable.load(settings.prices_file)))
    return TopLines(briefing.model_copy(update=update), records, notices)
