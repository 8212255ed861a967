"""The Python API: plain functions over the pipeline, for services that call the summarizer directly.

Each function has an async twin (``a`` prefix) for callers that run an event loop; the plain ones start a
loop of their own, so they cannot be called from inside a running one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from summarizer.briefing.daily import focus_on_day
from summarizer.briefing.entities import AliasTable
from summarizer.briefing.merge import merge_records
from summarizer.briefing.model import Briefing
from summarizer.config import Settings, load_settings
from summarizer.errors import ExtractionError, InputError, UserError
from summarizer.extraction.cost import PriceTable, records_cost
from summarizer.extraction.pipeline import EndpointFactory, aextract_paths, open_pipeline
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.results import Progress, RunResult
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article, article_id, normalise_text
from summarizer.ingest.injection import directed_passages


def replayed(recordings: Path | None) -> EndpointFactory | None:
    """The replay server for ``recordings`` as a run's endpoint; None (the settings' own endpoint) without."""
    if recordings is None:
        return None
    from summarizer.replay.endpoint import replay

    return replay(recordings)


def make_article(
    text: str,
    *,
    title: str = "",
    published: str | None = None,
    outlet: str | None = None,
    url: str | None = None,
    source: str = "<api>",
) -> Article:
    """An article from text held in memory (the same normalisation as files get)."""
    body = normalise_text(text)
    if not body:
        raise InputError(source, "no article text", "pass non-empty text")
    heading = title or body.split("\n", 1)[0][:120]
    return Article(
        id=article_id(body),
        title=heading,
        text=body,
        directed=tuple(directed_passages(heading, body)),
        source=source,
        published=date.fromisoformat(published) if published else None,
        outlet=outlet,
        url=url,
    )


async def aextract_article(
    article: Article, settings: Settings | None = None, *, replay: Path | None = None
) -> ArticleExtraction:
    """The validated extraction of one article, from the cache or the endpoint.

    Raises ``ExtractionError`` when the endpoint gives no valid answer, ``ConfigError`` on bad settings."""
    with open_pipeline(settings or load_settings(), endpoint=replayed(replay)) as pipeline:
        result = await pipeline.aprocess(article)
    if result.record is None:
        raise ExtractionError(f"{article.source}: {result.error}")
    return result.record.extraction()


def extract_article(
    article: Article, settings: Settings | None = None, *, replay: Path | None = None
) -> ArticleExtraction:
    """``aextract_article`` for callers without an event loop."""
    return asyncio.run(aextract_article(article, settings, replay=replay))


async def aextract_files(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Every article under ``paths`` extracted, ``settings.concurrency`` at a time; unreadable inputs and
    failures are listed, not raised. ``progress`` sees each article's result as it arrives."""
    return await aextract_paths(paths, settings or load_settings(), endpoint=replayed(replay), progress=progress)


def extract_files(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """``aextract_files`` for callers without an event loop."""
    return asyncio.run(aextract_files(paths, settings, replay=replay, progress=progress))


async def abuild_briefing(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | None = None,
    aliases_files: Sequence[Path] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
) -> Briefing:
    """``build_briefing`` for callers that run an event loop."""
    run = await aextract_paths(paths, settings or load_settings(), endpoint=replayed(replay))
    return brief(run, aliases_files=aliases_files, generated=generated, title=title, day=day)


def build_briefing(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | None = None,
    aliases_files: Sequence[Path] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
) -> Briefing:
    """The merged briefing for the articles under ``paths``; inputs left out are listed in ``failures``.

    With ``day``, the daily briefing of the articles published that day, what is new against earlier ones
    marked."""
    return asyncio.run(
        abuild_briefing(
            paths, settings, replay=replay, aliases_files=aliases_files, generated=generated, title=title, day=day
        )
    )


def brief(
    run: RunResult,
    *,
    aliases_files: Sequence[Path] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
) -> Briefing:
    """The briefing for a finished run; inputs left out are listed in it.

    With ``day``, the daily briefing: the articles published that day, marked against earlier ones."""
    if not run.records:
        raise ExtractionError("no article could be extracted, so there is nothing to brief; see the errors above")
    records = run.records
    notices = list(run.notices)
    if day is not None:
        records = [(a, r) for a, r in records if a.published is not None and a.published <= day]
        if not any(a.published == day for a, _ in records):
            raise UserError(
                f"no article published on {day} among the inputs; check --date or the articles' published dates"
            )
        left = len(run.records) - len(records)
        if left:
            notices.append(f"{left} article(s) published later or with no known date are not in this daily briefing")
    briefing = merge_records(
        records,
        generated=generated or datetime.now(UTC),
        aliases=AliasTable.load(*aliases_files),
        failures=run.failures,
        title=title,
    )
    settings = run.settings or Settings()
    cost = records_cost(records, PriceTable.load(settings.prices_file), load_prompts(settings.prompts_dir))
    briefing = briefing.model_copy(update={"cost": cost})
    if day is not None:
        briefing = focus_on_day(briefing, day)
    if notices:
        briefing = briefing.model_copy(update={"notices": [*notices, *briefing.notices]})
    return briefing
