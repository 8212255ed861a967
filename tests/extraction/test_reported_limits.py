"""The client paces itself from the endpoint's x-ratelimit headers when it sends them: checked at the limiter and
against the loopback server enforcing tokens per minute."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from summarizer.config import Settings
from summarizer.extraction.limits import RateLimiter, read_reports
from summarizer.extraction.pipeline import Pipeline
from summarizer.replay.quota import Limits
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS


def _headers(limit: int, remaining: int, reset: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit-Tokens": str(limit),
        "X-RateLimit-Remaining-Tokens": str(remaining),
        "X-RateLimit-Reset-Tokens": reset,
    }


def test_reports_are_read_from_openai_headers_and_bad_ones_left_out() -> None:
    reports = read_reports(_headers(60_000, 59_000, "1s"), at=5.0)
    assert set(reports) == {"tokens"}
    assert (reports["tokens"].limit, reports["tokens"].remaining, reports["tokens"].reset) == (60_000, 59_000, 1.0)
    assert read_reports(_headers(60_000, 59_000, "later"), at=0.0) == {}
    assert read_reports({"x-ratelimit-limit-requests": "many"}, at=0.0) == {}


def test_a_report_paces_what_follows_it_and_its_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    first = asyncio.run(limiter.acquire(400))
    assert limiter._delay(now[0], 5000) == 0.0, "nothing reported, no limit of its own: no wait"
    # The endpoint counted it and has 100 of 1,200 left, all back in 66 s: 1,100 come back in 66 s, 16.7 a second.
    limiter.observe(first, _headers(1200, 100, "1m6s"))
    assert limiter.active
    assert limiter._delay(now[0], 500) == pytest.approx(400 / (1100 / 66) + 0.02)
    now[0] = 30.0
    # 100 + 30 s x 16.7 = 600 left: 500 fit now, unless something was sent after the report.
    assert limiter._delay(now[0], 500) == 0.0
    sent_after = asyncio.run(limiter.acquire(300))
    assert sent_after.at == 30.0
    assert limiter._delay(now[0], 500) == pytest.approx(200 / (1100 / 66) + 0.02)


def test_a_request_larger_than_the_reported_limit_goes_once_all_of_it_is_back() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.observe(asyncio.run(limiter.acquire(0)), _headers(1000, 400, "36s"))
    assert limiter._delay(now[0], 5000) == pytest.approx(36 + 0.02)
    now[0] = 36.0
    assert limiter._delay(now[0], 5000) == 0.0


def test_a_request_waiting_for_the_limit_goes_as_soon_as_an_answer_frees_room() -> None:
    async def run() -> float:
        limiter = RateLimiter()
        slot = await limiter.acquire(900)
        limiter.observe(slot, _headers(1000, 100, "1m"))
        waiting = asyncio.create_task(limiter.acquire(500))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        # A later answer reports more left than the estimate allowed for: the waiting request goes at once.
        limiter.observe(slot, _headers(1000, 950, "3s"))
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(waiting, timeout=2)
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(run()) < 0.5


def test_the_pipeline_paces_itself_from_the_headers_with_no_limit_of_its_own(tmp_path: Path) -> None:
    articles, served = example_variants(7, ARTICLES, RECORDINGS)
    with LoopbackServer(served) as probe_server:
        probe = Settings(base_url=probe_server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "probe")
        with Pipeline(probe) as pipeline:
            usages = [r.record.response.usage for r in pipeline.run(articles) if r.record is not None]
    sizes = [u.total_tokens for u in usages if u is not None]
    # Room for two requests at once, refilled in 3 s: seven requests must be spread over about 7 s.
    tpm = int(2.2 * max(sizes))
    limits = Limits(tpm=tpm, period=3.0)
    with LoopbackServer(served, limits=limits) as server:
        settings = Settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache", concurrency=2)
        assert settings.tpm is None and settings.rpm is None
        with Pipeline(settings) as pipeline:
            results = pipeline.run(articles)
            limiter = pipeline.limiter
    assert [r.outcome for r in results] == ["fetched"] * 7
    assert server.stats.rate_limited == 0, "no request was sent that the endpoint had to refuse"
    assert isinstance(limiter, RateLimiter)
    assert limiter.waited > 0 and "tokens" in limiter.reported
    arrivals = sorted(server.stats.arrivals)
    assert arrivals[-1] - arrivals[0] >= (sum(sizes) - tpm - max(sizes)) / (tpm / limits.period)
