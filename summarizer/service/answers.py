"""The service's answers, made through the Python API the same way whether a request is answered at once or by a
worker's job: a briefing rendered as asked, or every article's record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from summarizer.app.api import abrief_articles, aextract_articles
from summarizer.briefing.render import render_bytes
from summarizer.config import Settings
from summarizer.extraction.results import RunResult
from summarizer.ingest.articles import Article
from summarizer.service.models import (
    BriefingRequest,
    ExtractionOut,
    ExtractionRequest,
    ExtractionsOut,
    Format,
    articles_of,
)

MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """A response body and its media type."""

    body: bytes
    media_type: str


def request_articles(request: ExtractionRequest, settings: Settings) -> tuple[list[Article], list[str]]:
    """The request's articles, cut to the settings' length, and the warnings that gave."""
    return articles_of(request, settings.max_article_chars)


async def briefing_answer(
    request: BriefingRequest, settings: Settings, articles: list[Article] | None = None
) -> Answer:
    """The briefing for ``request``'s articles (or ``articles``, already made from them), rendered as asked.
    Raises ExtractionError when no article could be extracted."""
    if articles is None:
        articles, _ = request_articles(request, settings)
    briefing = await abrief_articles(articles, settings, title=request.title, synthesis=request.synthesis)
    return Answer(render_bytes(briefing, request.format, request.detail), MEDIA_TYPES[request.format])


def extractions_out(run: RunResult) -> ExtractionsOut:
    """Every article's outcome in a run, as the service gives it."""
    results = [
        ExtractionOut(
            article=r.article.source,
            article_id=r.article.id,
            outcome=r.outcome,
            record=r.record.model_dump(mode="json") if r.record else None,
            error=None if r.record else r.error,
        )
        for r in run.results
    ]
    return ExtractionsOut(results=results, notices=run.notices)


async def extractions_answer(
    request: ExtractionRequest, settings: Settings, articles: list[Article] | None = None
) -> Answer:
    """Every article's record (or why there is none), as JSON."""
    if articles is None:
        articles, _ = request_articles(request, settings)
    run = await aextract_articles(articles, settings)
    body = extractions_out(run).model_dump(mode="json", exclude_none=True)
    return Answer(json.dumps(body, ensure_ascii=False).encode("utf-8"), MEDIA_TYPES["json"])
