"""What every request carries before the article: pinned, since it is paid for once per article."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.config import Settings
from summarizer.extraction.cost import fitted_overhead, fixed_prompt_estimate
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.prompts import load_prompts
from summarizer.ingest.articles import load_articles
from tests.conftest import ARTICLES

MAX_OVERHEAD = 1600
"""Tokens of system prompt, user template and schema (as ``tools`` mode sends it) a request may carry."""
MAX_OVERHEAD_JSON = 2200
"""The same in ``json`` and ``md_json`` mode, where instructor writes the schema indented into the system
message: every line of it costs a token of indentation more."""
TITLE_LINES = 40
"""What the measured intercept holds beyond the fixed overhead: each article's title, date and outlet lines."""


@pytest.mark.parametrize(
    ("mode", "bound"),
    [
        ("tools", MAX_OVERHEAD),
        ("json_schema", MAX_OVERHEAD),
        ("json", MAX_OVERHEAD_JSON),
        ("md_json", MAX_OVERHEAD_JSON),
    ],
)
def test_the_fixed_overhead_stays_within_its_bound(mode: str, bound: int) -> None:
    assert fixed_prompt_estimate(load_prompts(), mode) <= bound


@pytest.mark.parametrize("mode", ["tools", "json"])
def test_the_overhead_the_endpoint_counts_stays_within_its_bound(mode: str, settings: Settings, tmp_path: Path) -> None:
    # The loopback server counts what it was sent (messages, and tools or response format) as an endpoint
    # bills it; the intercept of prompt tokens against article length is what a request costs before its
    # article, measured rather than estimated.
    articles = load_articles([ARTICLES]).articles
    with Pipeline(settings.replace(mode=mode, cache_dir=tmp_path / mode)) as pipeline:
        results = pipeline.run(articles)
    points = []
    for result in results:
        assert result.record is not None and result.record.response.usage is not None
        points.append((len(result.article.text), result.record.response.usage.prompt_tokens))
    measured = fitted_overhead(points)
    assert measured is not None
    bound = MAX_OVERHEAD if mode == "tools" else MAX_OVERHEAD_JSON
    assert fixed_prompt_estimate(load_prompts(), mode) <= measured <= bound + TITLE_LINES
