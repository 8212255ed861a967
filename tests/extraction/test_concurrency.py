"""The concurrency limit and the rate limits, checked where they matter: at the server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from summarizer.config import Settings
from summarizer.extraction.limits import RateLimiter, Slot
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.records import Record
from summarizer.ingest.articles import Article
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS

PERIOD = 0.5  # the limiter's window, shortened from a minute so the test takes seconds
TOLERANCE = 0.05  # request send → arrival at the server


def variants(count: int) -> tuple[list[Article], dict[str, Record]]:
    return example_variants(count, ARTICLES, RECORDINGS)


def most_in_window(arrivals: list[float], window: float) -> int:
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


def settings_for(server: LoopbackServer, tmp_path: Path, **changes: object) -> Settings:
    return Settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache").replace(**changes)


@pytest.mark.parametrize("limit", [1, 5])
def test_no_more_requests_in_flight_than_the_limit(limit: int, tmp_path: Path) -> None:
    articles, served = variants(4 * limit + 3)
    with LoopbackServer(served, latency=0.05) as server:
        pipeline = Pipeline(settings_for(server, tmp_path, concurrency=limit))
        results = pipeline.run(articles)
        pipeline.close()
    assert [r.outcome for r in results] == ["fetched"] * len(articles)
    assert [r.article.id for r in results] == [a.id for a in articles], "results come back in input order"
    assert server.stats.max_in_flight == limit, "the limit is reached and never passed"


class _SendLog(RateLimiter):
    """Records how far each request's send time moved from the time the limiter let it go."""

    def __init__(self, **limits: Any) -> None:
        super().__init__(**limits)
        self.moves: list[float] = []

    def sent(self, slot: Slot) -> None:
        stamped = slot.at
        super().sent(slot)
        self.moves.append(slot.at - stamped)


def test_requests_per_minute_are_obeyed(tmp_path: Path) -> None:
    articles, served = variants(12)
    with LoopbackServer(served) as server:
        limiter = _SendLog(rpm=4, period=PERIOD)
        with Pipeline(settings_for(server, tmp_path, concurrency=12), limiter=limiter) as pipeline:
            results = pipeline.run(articles)
    assert all(r.outcome == "fetched" for r in results)
    assert len(server.stats.arrivals) == 12
    assert most_in_window(server.stats.arrivals, PERIOD - TOLERANCE) <= 4
    assert limiter.waited > 0, "12 requests at 4 per window had to wait"
    assert len(limiter.moves) == 12 and all(move >= 0 for move in limiter.moves), "each counted when it left"


def test_a_request_is_counted_from_when_it_left() -> None:
    now = [0.0]
    limiter = RateLimiter(rpm=2, period=10.0, clock=lambda: now[0])
    first, second = asyncio.run(limiter.acquire()), asyncio.run(limiter.acquire())
    now[0] = 0.3
    limiter.sent(first)  # the first request left after the second: the window stays in time order
    assert (first.at, second.at) == (0.3, 0.0)
    assert limiter._delay(now[0], 0) == pytest.approx(9.7)  # the place frees when the older one, at 0.0, expires
    now[0] = 10.1
    assert limiter._delay(now[0], 0) == 0.0
    now[0] = 20.0
    limiter.sent(second)  # long expired: nothing to move
    assert second.at == 0.0


def test_tokens_per_minute_are_obeyed(tmp_path: Path) -> None:
    articles, served = variants(6 * 5)
    same_story = [a for a in articles if a.text.startswith(articles[0].text.split("\n\n")[0])][:6]
    with LoopbackServer(served) as server:
        with Pipeline(settings_for(server, tmp_path / "probe")) as probe:
            (first,) = probe.run(same_story[:1])
        assert first.record is not None and first.record.response.usage is not None
        usage = first.record.response.usage
        # With max_tokens set, each request is estimated at no less than it costs, so the window never overflows.
        tokens_per_minute = int(2.5 * usage.total_tokens)
        limiter = RateLimiter(tpm=tokens_per_minute, period=PERIOD)
        limited = settings_for(server, tmp_path, concurrency=6, max_tokens=usage.completion_tokens)
        before = len(server.stats.arrivals)
        with Pipeline(limited, limiter=limiter) as pipeline:
            results = pipeline.run(same_story[1:])
    assert all(r.outcome == "fetched" for r in results)
    arrivals = server.stats.arrivals[before:]
    assert len(arrivals) == 5
    assert most_in_window(arrivals, PERIOD - TOLERANCE) <= 2, "2.5 requests' tokens per window admit two"
    assert limiter.waited > 0
