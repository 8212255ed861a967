"""Several workers over one Redis: one request per article, one rate limit, and a worker killed mid-run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from summarizer.config import Settings
from summarizer.extraction.limits import Slot
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.redis_backend import LoopClient, limits_name
from summarizer.extraction.results import ArticleResult
from summarizer.extraction.shared_limits import SharedRateLimiter
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants, write_variants
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, wait_for
from tests.extraction.test_concurrency import PERIOD, TOLERANCE, most_in_window
from tests.redis_server import RedisServer

SUMMARY = re.compile(r"(\d+) article\(s\): (\d+) cached, (\d+) fetched, (\d+) failed")


def _worker(articles: Path, server: LoopbackServer, redis_url: str, **env: str) -> subprocess.Popen[str]:
    """``summarizer extract`` in a process of its own, as a cron job on another machine would run it."""
    environ = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": server.url, **env}
    command = [sys.executable, "-m", "summarizer", "extract", str(articles), "--cache-url", redis_url,
               "--concurrency", "4", "-o", os.devnull]  # fmt: skip
    return subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _summary(stderr: str) -> tuple[int, int, int]:
    match = SUMMARY.search(stderr)
    assert match is not None, stderr
    return int(match[2]), int(match[3]), int(match[4])


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    """``work(n)`` for each of ``count`` workers at once, each on its own thread with its own event loop."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_three_workers_on_the_same_articles_send_one_request_each(redis_server: RedisServer, tmp_path: Path) -> None:
    articles, served = example_variants(30, ARTICLES, RECORDINGS)
    runs: list[list[ArticleResult]] = []
    with LoopbackServer(served, latency=0.3) as server:
        settings = Settings(base_url=server.url, api_key=FAKE_KEY, cache_url=redis_server.url, concurrency=4)

        def work(number: int) -> None:
            # Workers share nothing but Redis: each has its own pipeline, connections and local folder.
            with Pipeline(settings.replace(cache_dir=tmp_path / f"cache{number}")) as pipeline:
                runs.append(pipeline.run(articles))

        _in_threads(3, work)
    assert server.stats.completions == 30, "30 articles, 30 requests, not 90"
    assert max(server.stats.by_article.values()) == 1
    assert len(runs) == 3 and all(r.record is not None for run in runs for r in run)
    fetched = [sum(r.outcome == "fetched" for r in run) for run in runs]
    assert sum(fetched) == 30
    assert sum(1 for n in fetched if n) >= 2, "the workers shared the fetching rather than waiting on one"


def test_the_rate_limit_holds_across_workers(redis_server: RedisServer, tmp_path: Path) -> None:
    articles, served = example_variants(18, ARTICLES, RECORDINGS)
    results: list[list[ArticleResult]] = []
    with LoopbackServer(served) as server:
        settings = Settings(base_url=server.url, api_key=FAKE_KEY, cache_url=redis_server.url, concurrency=6)

        def work(number: int) -> None:
            # Each worker has its own event loop, connections and limiter: they share only what is in Redis.
            limiter = SharedRateLimiter(
                LoopClient(redis_server.url), limits_name(settings), rpm=4, period=PERIOD, margin=TOLERANCE
            )
            own = settings.replace(cache_dir=tmp_path / f"cache{number}")
            with Pipeline(own, limiter=limiter) as pipeline:
                results.append(pipeline.run(articles[number * 6 :] + articles[: number * 6]))

        _in_threads(3, work)
    assert all(r.record is not None for run in results for r in run)
    assert len(server.stats.arrivals) == 18
    assert most_in_window(server.stats.arrivals, PERIOD - TOLERANCE) <= 4, "4 per window, all workers together"


def test_tokens_are_settled_in_the_shared_window(redis_server: RedisServer) -> None:
    import asyncio

    async def run() -> tuple[float, float]:
        one = SharedRateLimiter(LoopClient(redis_server.url), "t", tpm=100, period=PERIOD)
        two = SharedRateLimiter(LoopClient(redis_server.url), "t", tpm=100, period=PERIOD)
        slot: Slot = await one.acquire(90)
        one.settle(slot, 20)  # the answer was smaller than its estimate
        await one.aclose()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await two.acquire(70)  # fits beside the 20 counted, not beside the 90 estimated
        fitted = loop.time() - start
        start = loop.time()
        await two.acquire(70)  # 160 > 100: waits for the window to move on
        waited = loop.time() - start
        await two.aclose()
        return fitted, waited

    fitted, waited = asyncio.run(run())
    assert fitted < 0.1
    assert waited > PERIOD / 2


def test_a_worker_killed_mid_run_leaves_the_rest_to_the_others(redis_server: RedisServer, tmp_path: Path) -> None:
    articles, served = example_variants(20, ARTICLES, RECORDINGS)
    articles_file, _ = write_variants(articles, served, tmp_path / "in")
    with LoopbackServer(served, latency=0.5) as server:
        env = {"SUMMARIZER_LOCK_TIMEOUT": "1.5"}
        workers = [
            _worker(articles_file, server, redis_server.url, SUMMARIZER_CACHE_DIR=str(tmp_path / f"c{n}"), **env)
            for n in range(2)
        ]
        wait_for(lambda: server.stats.completions >= 4, "the workers to start fetching")
        workers[0].send_signal(signal.SIGKILL)
        for worker in workers[1:]:
            _, stderr = worker.communicate(timeout=120)
            assert worker.returncode == 0, stderr
            _, _, failed = _summary(stderr)
            assert failed == 0
        workers[0].wait(timeout=10)
        assert workers[0].returncode == -signal.SIGKILL
        sent = server.stats.completions
        assert sent <= 20 + 4, "at most the killed worker's requests in flight are asked again"
        settings = Settings(base_url=server.url, api_key=FAKE_KEY, cache_url=redis_server.url, cache_dir=tmp_path)
        with Pipeline(settings) as pipeline:
            rerun = pipeline.run(articles)
    assert [r.outcome for r in rerun] == ["cached"] * 20, "the re-run finds every article stored"
    assert server.stats.completions == sent


def test_limits_a_provider_reports_tighten_the_shared_ones(redis_server: RedisServer) -> None:
    import asyncio

    async def run() -> tuple[float, float]:
        reader = SharedRateLimiter(LoopClient(redis_server.url), "h", rpm=100, period=PERIOD)
        reader.observe(None, {"x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "1"})
        await reader.aclose()  # the reading is in Redis once the update is done
        other = SharedRateLimiter(LoopClient(redis_server.url), "h", rpm=100, period=PERIOD)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await other.acquire()
        await other.acquire()
        two = loop.time() - start
        await other.acquire()  # a third within the window waits: the provider allows two
        three = loop.time() - start
        await other.aclose()
        return two, three

    two, three = asyncio.run(run())
    assert two < 0.1
    assert three > PERIOD * 0.8
