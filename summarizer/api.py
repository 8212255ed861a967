"""The Python API: plain functions over the pipeline, for services that call the summarizer directly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from .briefing import Briefing
from .config import Settings, load_settings
from .errors import ExtractionError, InputError
from .ingest import Article, article_id, normalise_text
from .pipeline import RunResult, brief, extract_paths, open_pipeline
from .schema import ArticleExtraction


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
    return Article(
        id=article_id(body),
        title=title or body.split("\n", 1)[0][:120],
        text=body,
        source=source,
        published=date.fromisoformat(published) if published else None,
        outlet=outlet,
        url=url,
    )


def extract_article(
    article: Article, settings: Settings | None = None, *, replay: Path | None = None
) -> ArticleExtraction:
    """The validated extraction of one article, from the cache or the endpoint.

    Raises ``ExtractionError`` when the endpoint gives no valid answer, ``ConfigError`` on bad settings."""
    with open_pipeline(settings or load_settings(), replay=replay) as pipeline:
        result = pipeline.process(article)
    if result.record is None:
        raise ExtractionError(f"{article.source}: {result.error}")
    return result.record.extraction()


def extract_files(
    paths: Sequence[Path | str], settings: Settings | None = None, *, replay: Path | None = None
) -> RunResult:
    """Every article under ``paths`` extracted; unreadable inputs and failures are listed, not raised."""
    return extract_paths(paths, settings or load_settings(), replay=replay)


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
    run = extract_paths(paths, settings or load_settings(), replay=replay)
    return brief(run, aliases_files=aliases_files, generated=generated, title=title, day=day)
