"""The record of one extraction: what was asked, what came back, and where it came from.

A record is at once a cache entry and a recording file: ``fixtures/recordings/*.json`` hold exactly what the
cache holds, so a fixture can be read in review and replayed through the same path as a live answer.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from summarizer.errors import RecordingError, first_problem
from summarizer.extraction.schema import SCHEMA_VERSION, ArticleExtraction
from summarizer.hashing import canonical_json, digest

RECORD_FORMAT = "summarizer.record/1"
Origin = Literal["recorded", "authored", "batch"]
CHARS_PER_TOKEN = 4
"""The rough size of a token, for the few estimates made before an endpoint has counted (never for cost)."""
_WHITESPACE_RUN = re.compile(r"\s{2,}")


def estimate_tokens(text: str) -> int:
    """A rough token count of ``text``, for what no endpoint has counted: a token every four characters, and
    one for each run of whitespace, since tokenizers of the BPE kind encode a line's indentation (as in indented
    JSON) in one token, not one every four spaces."""
    runs = _WHITESPACE_RUN.findall(text)
    chars = len(text) - sum(len(run) for run in runs) + CHARS_PER_TOKEN * len(runs)
    return math.ceil(chars / CHARS_PER_TOKEN)


@cache
def schema_hash() -> str:
    """Changes whenever the extraction schema (fields, types or descriptions) changes. Computed once per
    process: generating the JSON Schema takes milliseconds, and every cache key needs it."""
    return digest("s1-", SCHEMA_VERSION, canonical_json(ArticleExtraction.model_json_schema()))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Usage(_Frozen):
    """Token counts as the endpoint reported them, summed over every attempt for the article."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    """Of the prompt tokens, those the provider served from its prompt cache (``prompt_tokens_details``), which
    are billed at the cached rate."""

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> Usage:
        """Usage with its total filled in."""
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
            cached_tokens=cached_tokens,
        )


class RequestInfo(_Frozen):
    """What was asked: enough to tell whether a record still answers the current settings."""

    article_id: str
    article_title: str
    article_source: str
    model: str
    mode: str
    temperature: float
    max_tokens: int | None = None
    prompt_hash: str
    schema_hash: str
    task: Literal["extract", "synthesize"] = Field(default="extract", exclude_if=lambda task: task == "extract")
    """What was asked: an article's extraction, or a story's top line (whose "article" is the story's facts).
    Left out of an extraction's JSON, so records written before there were two tasks read the same."""


class ResponseInfo(_Frozen):
    """What the endpoint said about its answer."""

    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    """None when no endpoint produced the answer (an authored record)."""
    attempts: int = 1
    """Requests sent for this article, re-asks and transport retries included."""


class Record(_Frozen):
    """One article's extraction, as cached and as recorded."""

    format: Literal["summarizer.record/1"] = "summarizer.record/1"
    origin: Origin
    """``recorded`` from a live endpoint, ``batch`` from the endpoint's Batch API (as it came, priced at the batch
    rate), or ``authored`` by hand as the answer a careful model should give."""
    key: str
    """The cache key the record was stored under."""
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    request: RequestInfo
    response: ResponseInfo
    output: dict[str, Any]
    """The model's JSON answer, decoded but otherwise as returned."""

    def extraction(self) -> ArticleExtraction:
        """The output validated against the current schema."""
        return ArticleExtraction.model_validate(self.output)

    def to_json(self) -> str:
        """Readable, stable JSON: the text of a recording file and of a cache entry."""
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "record") -> Record:
        """Parse a record, naming ``where`` in the error when it is malformed."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise RecordingError(
                f"{where}: not a {RECORD_FORMAT} record ({first_problem(exc, '')}); re-record it or fix the field"
            ) from None


FAILED_SUFFIX = ".failed.json"
"""What ``summarizer record`` writes beside the recordings for an article it could not record."""


def read_recordings(directory: Path, task: str | None = "extract") -> dict[str, Record]:
    """Every record of ``task`` (any task with None) in ``directory``, by article id (the ``.failed.json`` notes
    beside them left out)."""
    if not directory.is_dir():
        raise RecordingError(f"{directory}: no such recordings directory; check --replay / --recordings")
    found: dict[str, Record] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name.endswith(FAILED_SUFFIX):
            continue
        record = Record.from_json(path.read_text(encoding="utf-8"), str(path))
        if task is not None and record.request.task != task:
            continue
        found[record.request.article_id] = record
    return found


def recording_stem(article_source: str, article_id: str) -> str:
    """The source file's stem, or the article id when the source is not a plain file name."""
    stem = Path(article_source).stem
    plain = stem and stem.replace("_", "").replace("-", "").isalnum()
    return stem if plain else article_id


def recording_filename(record: Record) -> str:
    """``<source file stem>.json``, or ``<article id>.json`` when the source is not a plain file; a story's top
    line, ``story_<id of its facts>.json``, so that several stories' recordings share a folder."""
    if record.request.task == "synthesize":
        return f"story_{record.request.article_id}.json"
    return f"{recording_stem(record.request.article_source, record.request.article_id)}.json"
