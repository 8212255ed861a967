"""The Python API: plain functions over the pipeline, for services that call the summarizer directly.

Each function has an async twin (``a`` prefix) for callers that run an event loop; the plain ones start a
loop of their own, so they cannot be called from inside a running one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from summarizer.briefing.daily import focus_on_day
from summarizer.briefing.entities import AliasTable
from summarizer.briefing.merge import merge_records
from summarizer.briefing.model import Briefing
from summarizer.briefing.written import TopLines, awrite_top_lines
from summarizer.config import Settings, load_settings
from summarizer.errors import ExtractionError, UserError
from summarizer.extraction.cost import PriceTable, records_cost
from summarizer.extraction.pipeline import EndpointFactory, aextract_paths, open_pipeline
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import recording_filename
from summarizer.extraction.results import Progress, RunResult
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article, make_article


def replayed(recordings: Path | str | None) -> EndpointFactory | None:
    """The replay server for the recordings folder ``recordings`` as a run's endpoint; None (the settings' own
    endpoint) without."""
    if recordings is None:
        return None
    from summarizer.replay.endpoint import replay

    return replay(recordings)


async def aextract_article(
    article: Article, settings: Settings | None = None, *, replay: Path | str | None = None
) -> ArticleExtraction:
    """The validated extraction of one article, from the cache or the endpoint.

    Raises ``ExtractionError`` when the endpoint gives no valid answer (its ``causes`` hold what went wrong),
    ``ConfigError`` on bad settings."""
    with open_pipeline(settings or load_settings(), endpoint=replayed(replay)) as pipeline:
        result = await pipeline.aprocess(article)
    if result.record is None:
        failure = result.exception or ExtractionError(result.error or "failed")
        raise type(failure)(
            f"{article.source}: {failure}",
            attempts=failure.attempts,
            prompt_tokens=failure.prompt_tokens,
            completion_tokens=failure.completion_tokens,
            causes=failure.causes,
            raw_answer=failure.raw_answer,
        )
    return result.record.extraction()


def extract_article(
    article: Article, settings: Settings | None = None, *, replay: Path | str | None = None
) -> ArticleExtraction:
    """``aextract_article`` for callers without an event loop."""
    return asyncio.run(aextract_article(article, settings, replay=replay))


async def aextract_files(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    refresh: bool = False,
) -> RunResult:
    """Every article under ``paths`` extracted, ``settings.concurrency`` at a time, from the cache where
    possible (never with ``refresh``); unreadable inputs and failures are listed, not raised. With ``replay``
    (a recordings folder), misses are answered from those recordings. ``on_total`` hears how many articles
    were read before any is extracted; ``progress`` sees each article's result as it arrives."""
    return await aextract_paths(
        paths,
        settings or load_settings(),
        endpoint=replayed(replay),
        progress=progress,
        on_total=on_total,
        refresh=refresh,
    )


async def aextract_articles(
    articles: Sequence[Article],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    progress: Progress | None = None,
    refresh: bool = False,
) -> RunResult:
    """Articles already in memory (from ``make_article``) extracted as ``aextract_files`` extracts files: from
    the cache where possible, ``settings.concurrency`` at a time, failures listed, not raised."""
    settings = settings or load_settings()
    run = RunResult(settings=settings)
    with open_pipeline(settings, endpoint=replayed(replay), notices=run.notices, refresh=refresh) as pipeline:
        run.results = await pipeline.arun(articles, progress)
    return run


async def abrief_articles(
    articles: Sequence[Article],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    aliases_files: Sequence[Path | str] = (),
    generated: datetime | None = None,
    title: str | None = None,
    synthesis: bool = True,
) -> Briefing:
    """The merged briefing for articles already in memory, as ``build_briefing`` makes one for files (its key
    developments written by the model, or picked with ``synthesis=False``)."""
    settings = settings or load_settings()
    aliases = check_briefing_inputs(settings, aliases_files)
    run = await aextract_articles(articles, settings, replay=replay)
    return await _abriefed(run, settings, aliases, replay, generated, title, None, synthesis)


def extract_files(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    refresh: bool = False,
) -> RunResult:
    """``aextract_files`` for callers without an event loop."""
    return asyncio.run(
        aextract_files(paths, settings, replay=replay, progress=progress, on_total=on_total, refresh=refresh)
    )


async def abuild_briefing(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    aliases_files: Sequence[Path | str] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
    synthesis: bool = True,
) -> Briefing:
    """``build_briefing`` for callers that run an event loop."""
    settings = settings or load_settings()
    aliases = check_briefing_inputs(settings, aliases_files)
    run = await aextract_files(paths, settings, replay=replay)
    return await _abriefed(run, settings, aliases, replay, generated, title, day, synthesis)


async def _abriefed(
    run: RunResult,
    settings: Settings,
    aliases: AliasTable,
    replay: Path | str | None,
    generated: datetime | None,
    title: str | None,
    day: date | None,
    synthesis: bool,
) -> Briefing:
    """The briefing of a finished run, its key developments written unless ``synthesis`` is off."""
    briefing = brief(run, aliases=aliases, generated=generated, title=title, day=day)
    if synthesis:
        briefing = await awrite_key_points(briefing, settings, replay=replay)
    return briefing


def build_briefing(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    *,
    replay: Path | str | None = None,
    aliases_files: Sequence[Path | str] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
    synthesis: bool = True,
) -> Briefing:
    """The merged briefing for the articles under ``paths``; inputs left out are listed in ``failures``.

    With ``day``, the daily briefing of the articles published that day, what is new against earlier ones
    marked. Each story's key developments are written by the model from its facts (``awrite_key_points``), or
    picked by rank with ``synthesis=False``. Alias and price files are read before any request, so that a
    mistake in them costs nothing."""
    return asyncio.run(
        abuild_briefing(
            paths,
            settings,
            replay=replay,
            aliases_files=aliases_files,
            generated=generated,
            title=title,
            day=day,
            synthesis=synthesis,
        )
    )


async def awrite_key_points(
    briefing: Briefing, settings: Settings | None = None, *, replay: Path | str | None = None, refresh: bool = False
) -> Briefing:
    """``briefing`` with each story's key developments written by the model from the story's facts, in a
    second structured call per story (cache first; with ``replay``, from those recordings). A story whose top
    line cannot be written (no endpoint, an answer not grounded in the facts after its re-asks) keeps its
    picked one, with a notice saying why; the requests' cost is added to the briefing's."""
    written = await awrite_top_lines(briefing, settings or load_settings(), endpoint=replayed(replay), refresh=refresh)
    return written.briefing


def record_key_points(briefing: Briefing, settings: Settings, directory: Path) -> TopLines:
    """Ask the endpoint afresh for each story's key developments and write each answer to ``directory`` as a
    recording file (``story-N.json``), beside the articles' recordings; its notices say which story got none."""

    async def fresh() -> TopLines:
        return await awrite_top_lines(briefing, settings, refresh=True)

    written = asyncio.run(fresh())
    for _, record in written.records:
        (directory / recording_filename(record)).write_text(record.to_json(), encoding="utf-8")
    return written


def write_key_points(
    briefing: Briefing, settings: Settings | None = None, *, replay: Path | str | None = None, refresh: bool = False
) -> Briefing:
    """``awrite_key_points`` for callers without an event loop."""
    return asyncio.run(awrite_key_points(briefing, settings, replay=replay, refresh=refresh))


def check_briefing_inputs(settings: Settings, aliases_files: Sequence[Path | str] = ()) -> AliasTable:
    """Read what a briefing needs besides the records (the alias files, the price table), raising the usual
    one-line ConfigError for a bad one; called before any request is sent."""
    PriceTable.load(settings.prices_file)
    return AliasTable.load(*(Path(p) for p in aliases_files))


def brief(
    run: RunResult,
    *,
    aliases: AliasTable | None = None,
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
) -> Briefing:
    """The briefing for a finished run; inputs left out are listed in it. ``aliases`` defaults to the bundled
    table.

    With ``day``, the daily briefing: the articles published that day, marked against earlier ones. Raises
    ExtractionError (its ``causes`` the articles' failures) when no article has a record."""
    if not run.records:
        raise ExtractionError(
            "no article could be extracted, so there is nothing to brief; see the errors above",
            causes=tuple(r.exception for r in run.results if r.exception is not None),
        )
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
        aliases=aliases or AliasTable.load(),
        failures=run.failures,
        title=title,
    )
    settings = run.settings or Settings()
    prompts = load_prompts(settings.prompts_dir)
    cost = records_cost(records, PriceTable.load(settings.prices_file), prompts, settings.mode)
    briefing = briefing.model_copy(update={"cost": cost})
    if day is not None:
        briefing = focus_on_day(briefing, day)
    if notices:
        briefing = briefing.model_copy(update={"notices": [*notices, *briefing.notices]})
    return briefing


__all__ = [
    "abrief_articles",
    "abuild_briefing",
    "aextract_article",
    "aextract_articles",
    "aextract_files",
    "awrite_key_points",
    "brief",
    "build_briefing",
    "check_briefing_inputs",
    "extract_article",
    "extract_files",
    "make_article",
    "record_key_points",
    "replayed",
    "write_key_points",
]
