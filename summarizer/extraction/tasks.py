"""What one kind of request asks the model for: its prompts, its answer's schema, and how an answer is checked.

Two tasks share the client, the cache, the retries, the cost accounting and the recordings: ``extract`` (one
article in, its ``ArticleExtraction`` out) and ``synthesize`` (a story's merged facts in, as numbered lines in the
article block, its ``Synthesis``, the written top line, out). A record says which task it answers, and the
schema hash and cache key differ by task, so one never answers for the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from summarizer.extraction.prompts import PromptSet, load_prompts
from summarizer.extraction.records import schema_hash
from summarizer.extraction.schema import ArticleExtraction, answer_context
from summarizer.extraction.synthesis import SYNTHESIS_VERSION, Synthesis, synthesis_context
from summarizer.hashing import canonical_json, digest
from summarizer.ingest.articles import Article

TaskName = Literal["extract", "synthesize"]


@dataclass(frozen=True, slots=True)
class Task:
    """One kind of request."""

    name: TaskName
    prompts: PromptSet
    response_model: type[BaseModel]
    schema_hash: str
    """Changes whenever the answer's schema does; part of every cache key and record."""
    context: Callable[[Article], dict[str, Any]]
    """The validation context an answer about the article is checked with."""


def extraction_task(prompts: PromptSet) -> Task:
    """Articles in, records out, with ``prompts``."""
    return Task(
        name="extract",
        prompts=prompts,
        response_model=ArticleExtraction,
        schema_hash=schema_hash(),
        context=lambda article: answer_context(article.title, article.text),
    )


@cache
def synthesis_schema_hash() -> str:
    """Changes whenever the ``Synthesis`` schema (fields, types or descriptions) does."""
    return digest("y1-", SYNTHESIS_VERSION, canonical_json(Synthesis.model_json_schema()))


FACT_LINE = re.compile(r"^(?P<id>[A-Z][0-9]+) \| (?P<kind>[a-z ]+) \| (?P<text>.*) \| [0-9]+ sources?$")
"""One fact of a story as the synthesis request lists it: ``E3 | event | 2025-10-25: … | 2 sources``."""


def listed_facts(text: str) -> dict[str, str]:
    """What each fact listed in ``text`` (a synthesis request's article block) states, by id."""
    facts: dict[str, str] = {}
    for line in text.splitlines():
        match = FACT_LINE.match(line.strip())
        if match:
            facts[match["id"]] = match["text"]
    return facts


def synthesis_task(prompts: PromptSet) -> Task:
    """A story's facts in, its written top line out, with ``prompts`` (``synthesize_system.md`` and
    ``synthesize_user.md``)."""
    return Task(
        name="synthesize",
        prompts=prompts,
        response_model=Synthesis,
        schema_hash=synthesis_schema_hash(),
        context=lambda article: synthesis_context(listed_facts(article.text)),
    )


def load_synthesis_task(prompts_dir: Path | None = None) -> Task:
    """The synthesis task with the prompts in ``prompts_dir`` (default: the bundled ones)."""
    return synthesis_task(load_prompts(prompts_dir, "synthesize"))
