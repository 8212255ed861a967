"""What the HTTP service takes and gives, as Pydantic models (their schemas are the OpenAPI document's)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from summarizer.ingest.articles import Article, make_article

Format = Literal["json", "md", "html"]
JobStatus = Literal["queued", "running", "complete", "failed"]


class ArticleIn(BaseModel):
    """One article, as text; the same text is the same article (and cache entry) however it comes in."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The article's text (plain text or Markdown).")
    title: str | None = Field(default=None, description="Its headline; the first line when it reads as one.")
    published: date | None = Field(default=None, description="The day it was published (YYYY-MM-DD).")
    outlet: str | None = Field(default=None, description="Who published it.")
    url: str | None = Field(default=None, description="Where it was published.")

    def article(self, number: int, max_chars: int, warnings: list[str]) -> Article:
        """The ``Article``, named ``articles[number]`` in messages. Raises InputError for an empty text."""
        return make_article(
            self.text,
            title=self.title,
            published=self.published,
            outlet=self.outlet,
            url=self.url,
            source=f"articles[{number}]",
            max_chars=max_chars,
            warnings=warnings,
        )


class ExtractionRequest(BaseModel):
    """Articles to extract into records."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1, description="The articles, each extracted once.")
    wait: bool | None = Field(
        default=None,
        description="true: answer when done; false: 202 with a job to poll; unset: a job when there are more "
        "articles than the service answers at once.",
    )


class BriefingRequest(ExtractionRequest):
    """Articles to merge into one cited briefing."""

    format: Format = Field(default="json", description="json (the briefing model), md or html.")
    title: str | None = Field(default=None, description="The briefing's title; made from the facts when unset.")
    detail: Literal["compact", "full"] = Field(
        default="compact", description="compact: each fact once; full: every wording, role and summary too."
    )
    synthesis: bool = Field(
        default=True,
        description="Have the model write each story's key developments from its facts (false: pick them by rank).",
    )


class ExtractionOut(BaseModel):
    """What became of one article: its record, or why there is none."""

    article: str
    article_id: str
    outcome: Literal["cached", "fetched", "failed"]
    record: dict[str, object] | None = None
    error: str | None = None


class ExtractionsOut(BaseModel):
    """Every article's outcome, in the order given, and what the run had to say."""

    results: list[ExtractionOut]
    notices: list[str] = []


class JobOut(BaseModel):
    """A long request's job: poll ``status_url``; once complete, the answer is at ``result_url``."""

    job: str
    status: JobStatus
    articles: int
    chunks_done: int
    chunks: int
    status_url: str
    result_url: str | None = None
    error: str | None = None


class Problem(BaseModel):
    """Why a request was refused, in one line."""

    error: str


def articles_of(request: ExtractionRequest, max_chars: int) -> tuple[list[Article], list[str]]:
    """The request's articles and the warnings making them gave (a text cut to length); InputError, naming
    ``articles[N]``, for one that cannot be used."""
    warnings: list[str] = []
    made = [item.article(n, max_chars, warnings) for n, item in enumerate(request.articles)]
    return made, warnings
