"""Provider prompt caching: the prefix every request shares is stable and first, the loopback server counts its
cached part as OpenAI does, and the cost prices that part at the cached rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from summarizer.config import Settings
from summarizer.extraction.cost import PriceTable, fixed_prompt_estimate
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record
from summarizer.extraction.results import RunResult
from summarizer.ingest.articles import load_articles
from summarizer.replay.prompt_cache import CACHE_STEP_TOKENS, MIN_CACHED_TOKENS, PromptCache
from tests.conftest import ARTICLES, scripted_endpoint


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_prefix_is_cached_from_1024_tokens_in_steps_of_128() -> None:
    cache = PromptCache()
    schema, system = "s" * 4000, "y" * 2000  # 1,000 and 500 tokens at four characters a token
    assert cache.cached_tokens([schema, system, "article one"], 1600) == 0, "nothing cached before"
    # Schema and system prompt, 1,500 tokens, are served from the cache: 1,408 in steps of 128.
    article = "z" * 600
    assert cache.cached_tokens([schema, system, article], 1700) == 1408
    assert cache.cached_tokens([schema, system, article], 1700) == 1536, "the whole prompt, rounded down"
    # A hit never exceeds what the prompt is billed as, and a shared prefix under 1,024 tokens is not cached.
    assert cache.cached_tokens([schema, system, article], 1200) == 1152
    assert cache.cached_tokens([schema, "another system prompt"], 1100) == 0
    assert cache.cached_tokens(["x" + schema, system], 1600) == 0, "a prefix matches from the first byte"


def test_a_prefix_unused_for_its_lifetime_is_evicted() -> None:
    clock = _Clock()
    cache = PromptCache(ttl=300, clock=clock)
    parts = ["s" * 6000, "article"]
    cache.cached_tokens(parts, 1600)
    clock.now = 299
    assert cache.cached_tokens(parts, 1600) == 1408
    clock.now = 299 + 301
    assert cache.cached_tokens(parts, 1600) == 0


@pytest.mark.parametrize("concurrency", [1, 8])
def test_cached_tokens_are_counted_and_priced_end_to_end(concurrency: int, settings: Settings) -> None:
    articles = load_articles([ARTICLES]).articles
    run = RunResult(settings=settings)
    with Pipeline(settings.replace(concurrency=concurrency)) as pipeline:
        run.results = pipeline.run(articles)
    usages = [r.spent for r in run.results]
    assert all(u is not None for u in usages)
    cached = sorted(u.cached_tokens for u in usages if u is not None)
    # The first request to arrive finds nothing cached; every later one shares the tools and system prompt.
    assert cached[0] == 0 and len(set(cached[1:])) == 1
    shared = cached[1]
    assert shared >= MIN_CACHED_TOKENS and shared % CACHE_STEP_TOKENS == 0
    # What is cached is the tools and system prompt, rounded down: about the fixed overhead, never more.
    fixed = fixed_prompt_estimate(load_prompts())
    assert fixed - CACHE_STEP_TOKENS - 50 < shared <= fixed + 50

    spent = run.spent()
    assert spent is not None and spent.cached_tokens == 4 * shared
    price = PriceTable.load().price(settings.model)
    assert price is not None and price.cached_input is not None and price.cached_input < price.input
    expected = (
        (spent.prompt_tokens - spent.cached_tokens) * price.input
        + spent.cached_tokens * price.cached_input
        + spent.completion_tokens * price.output
    ) / 1_000_000
    assert spent.usd == pytest.approx(expected, abs=1e-6)
    uncached = (spent.prompt_tokens * price.input + spent.completion_tokens * price.output) / 1_000_000
    assert spent.usd is not None and spent.usd < uncached
    share = f"{spent.cached_tokens / spent.prompt_tokens:.0%}"
    assert f"prompt ({spent.cached_tokens:,} cached, {share})" in spent.describe()


def test_the_shared_prefix_is_byte_stable_and_first(recordings: dict[str, Record], settings: Settings) -> None:
    articles = load_articles([ARTICLES]).articles[:2]
    received: list[dict[str, Any]] = []
    answers = [(200, _tool_answer(recordings[a.id].output)) for a in articles]
    endpoint = scripted_endpoint(answers, lambda body: received.append(json.loads(body)))
    with endpoint as url, Pipeline(settings.replace(base_url=url, concurrency=1)) as pipeline:
        results = pipeline.run(articles)
    assert all(r.record is not None for r in results)
    first, second = received
    # What a provider lays out first: the tools, then the system message, then the user message, whose template
    # starts with the same words whatever the article.
    assert json.dumps(first["tools"]) == json.dumps(second["tools"])
    assert first["tool_choice"] == second["tool_choice"]
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["messages"][0] == second["messages"][0]
    head = load_prompts().user_template.split("$")[0]
    assert head and all(r["messages"][1]["content"].startswith(head) for r in received)


def _tool_answer(output: dict[str, Any]) -> bytes:
    call = {"id": "c1", "type": "function", "function": {"name": "ArticleExtraction", "arguments": json.dumps(output)}}
    answer = {"id": "a1", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "finish_reason": "tool_calls",
                           "message": {"role": "assistant", "content": None, "tool_calls": [call]}}],
              "usage": {"prompt_tokens": 2000, "completion_tokens": 500, "total_tokens": 2500}}  # fmt: skip
    return json.dumps(answer).encode()


def test_a_price_without_a_cached_rate_prices_cached_tokens_as_input(tmp_path: Path) -> None:
    table = tmp_path / "prices.toml"
    table.write_text(
        '[models."plain"]\ninput = 1.0\noutput = 2.0\n\n[models."cheap-cache"]\ninput = 1.0\noutput = 2.0\n'
        "cached_input = 0.25\n",
        encoding="utf-8",
    )
    prices = PriceTable.load(table)
    plain, cheap = prices.price("plain"), prices.price("cheap-cache")
    assert plain is not None and cheap is not None
    assert plain.dollars(1_000_000, 0, cached_tokens=400_000) == pytest.approx(1.0)
    assert cheap.dollars(1_000_000, 1_000_000, cached_tokens=400_000) == pytest.approx(0.6 + 0.1 + 2.0)
