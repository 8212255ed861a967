"""Benchmark of the shared layer: several workers over one Redis, the HTTP service, and jobs on its workers,
against the loopback endpoint answering after a real model's delay.

    .venv/bin/python benchmarks/shared.py            # the full run (about six minutes)
    .venv/bin/python benchmarks/shared.py --quick    # fewer articles (about three minutes)

Every process is a real one: `summarizer extract`, `summarizer api` and `summarizer worker` as a user starts
them, a real `redis-server` on a free loopback port (no persistence), and the loopback endpoint (the replay
server with `--latency` seconds per answer) counting every request it receives. The phases:

- one request per article: three `summarizer extract --cache-url` processes on the same `--articles`
  articles, started together, against one alone on the same articles; the endpoint counts the requests.
- one rate limit: three processes on another `--articles` articles with `--rpm` shared through Redis; the most
  requests the endpoint saw in any 60-second window, against the limit.
- the service: `--concurrent` briefing requests at once, all for articles already cached, against one
  `summarizer api`; failures, p50 and p99 latency.
- jobs: one `--job-articles` briefing submitted to the service, finished by one worker, then (into an empty
  Redis) by two; the time from submission to the answer, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
import redis  # noqa: E402

from summarizer.ingest.articles import Article  # noqa: E402
from summarizer.replay.server import LoopbackServer  # noqa: E402
from summarizer.replay.synthetic import example_variants, write_variants  # noqa: E402

ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = ROOT / "fixtures" / "recordings"
KEY = "benchmark-key"
TOKEN = "benchmark-token"  # noqa: S105 (a throwaway token for the loopback service)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, keeping nothing on disk; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed: apt-get install redis-server")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(directory), "--loglevel", "warning"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(500):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


def environment(server: LoopbackServer, cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.url, "SUMMARIZER_CACHE_DIR": str(cache_dir),
            "SUMMARIZER_API_TOKEN": TOKEN}  # fmt: skip


def summarizer(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "summarizer", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: S603


def extract_together(count: int, articles_file: Path, url: str, server: LoopbackServer, tmp: Path,
                     *extra: str) -> float:  # fmt: skip
    """Wall seconds for ``count`` `summarizer extract` processes started together on the same articles."""
    start = time.perf_counter()
    procs = [summarizer("extract", str(articles_file), "--cache-url", url, "-q", "-o", os.devnull, *extra,
                        env=environment(server, tmp / f"worker{n}")) for n in range(count)]  # fmt: skip
    for proc in procs:
        _, stderr = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"a worker failed ({proc.returncode}): {stderr}")
    return time.perf_counter() - start


def span(arrivals: list[float]) -> float:
    """Seconds from the first request the endpoint saw to the last: the fetching, without the start-up."""
    return max(arrivals) - min(arrivals) if arrivals else 0.0


def most_in_window(arrivals: list[float], window: float) -> int:
    times = sorted(arrivals)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def payload(articles: list[Article]) -> list[dict[str, Any]]:
    return [{"text": a.text, "title": a.title, "published": a.published.isoformat() if a.published else None,
             "outlet": a.outlet} for a in articles]  # fmt: skip


@contextmanager
def service(server: LoopbackServer, url: str, tmp: Path, *extra: str) -> Iterator[str]:
    """`summarizer api` on a free port; yields its base URL once it answers."""
    port = free_port()
    proc = summarizer("api", "--port", str(port), "--cache-url", url, *extra, env=environment(server, tmp / "api"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def concurrent_briefings(base: str, body: dict[str, Any], count: int) -> tuple[list[float], int]:
    """Seconds each of ``count`` simultaneous briefing requests took, and how many failed."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx2.Limits(max_connections=count)
    async with httpx2.AsyncClient(timeout=300, limits=limits) as client:

        async def one() -> tuple[float, bool]:
            start = time.perf_counter()
            response = await client.post(f"{base}/v1/briefings", json=body, headers=headers)
            return time.perf_counter() - start, response.status_code == 200

        outcomes = await asyncio.gather(*(one() for _ in range(count)))
    return [t for t, _ in outcomes], sum(1 for _, ok in outcomes if not ok)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def job_seconds(server: LoopbackServer, url: str, tmp: Path, articles: list[Article], workers: int) -> float:
    """Seconds from submitting one briefing of ``articles`` to having its answer, with ``workers`` workers."""
    flush(url)
    env = environment(server, tmp / f"jobs{workers}")
    procs = [summarizer("worker", "--cache-url", url, "-q", env=env) for _ in range(workers)]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with service(server, url, tmp) as base:
            time.sleep(15)  # the workers warm up meanwhile; a worker is started once, not per job
            start = time.perf_counter()
            body = {"articles": payload(articles), "wait": False}
            job = httpx2.post(f"{base}/v1/briefings", json=body, headers=headers, timeout=60).json()
            while (status := httpx2.get(job["status_url"], headers=headers, timeout=60).json())["status"] not in (
                "complete",
                "failed",
            ):
                time.sleep(0.2)
            if status["status"] != "complete":
                sys.exit(f"the job failed: {status}")
            httpx2.get(status["result_url"], headers=headers, timeout=60).raise_for_status()
            return time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer articles")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per answer (default 1.0)")
    parser.add_argument("--articles", type=int, default=None, help="articles for the workers (default 300)")
    parser.add_argument("--rpm", type=int, default=None, help="shared requests-per-minute limit (default 150)")
    parser.add_argument("--concurrent", type=int, default=50, help="simultaneous service requests (default 50)")
    parser.add_argument("--job-articles", type=int, default=None, help="articles in the job (default 500)")
    parser.add_argument("--phases", default="workers,rpm,service,jobs", help="phases to run (default: all)")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    count = args.articles or (60 if args.quick else 300)
    rpm = args.rpm or (30 if args.quick else 150)
    job_count = args.job_articles or (100 if args.quick else 500)
    everything, served = example_variants(2 * count + job_count, ARTICLES, RECORDINGS)
    shared, limited, job = everything[:count], everything[count : 2 * count], everything[2 * count :]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="summarizer-shared-") as folder:
        tmp = Path(folder)
        shared_file, _ = write_variants(shared, {a.id: served[a.id] for a in shared}, tmp / "shared")
        limited_file, _ = write_variants(limited, {a.id: served[a.id] for a in limited}, tmp / "limited")
        (tmp / "redis").mkdir()
        with redis_server(tmp / "redis") as url, LoopbackServer(served, latency=args.latency) as server:
            if "workers" in phases or "service" in phases:
                rows += workers_phase(count, args.latency, shared_file, url, server, tmp)
            if "rpm" in phases:
                rows += rpm_phase(count, rpm, limited_file, url, server, tmp)
            if "service" in phases:
                rows += service_phase(shared[:20], args.concurrent, url, server, tmp)
            if "jobs" in phases:
                one = job_seconds(server, url, tmp, job, workers=1)
                two = job_seconds(server, url, tmp, job, workers=2)
                rows += [
                    (f"job of {job_count} articles, one worker (2 chunks at a time)", f"{one:.1f} s"),
                    (f"job of {job_count} articles, two workers", f"{two:.1f} s"),
                    ("two workers / one worker (target about 0.5)", f"{two / one:.2f}"),
                ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def workers_phase(count: int, latency: float, articles_file: Path, url: str, server: LoopbackServer,
                  tmp: Path) -> list[tuple[str, str]]:  # fmt: skip
    """One worker on the articles, then (into an empty Redis) three together on the same ones."""
    before = server.stats.completions
    alone = extract_together(1, articles_file, url, server, tmp)
    sent_alone = server.stats.completions - before
    span_alone = span(server.stats.arrivals[before:])
    flush(url)
    together = extract_together(3, articles_file, url, server, tmp)
    sent_together = server.stats.completions - before - sent_alone
    span_together = span(server.stats.arrivals[before + sent_alone :])
    return [
        (f"one worker, {count} articles, latency {latency:g} s, concurrency 8", f"{alone:.1f} s, "
         f"{sent_alone} requests"),
        ("three workers on the same articles over one Redis", f"{together:.1f} s, {sent_together} requests"),
        ("requests / articles (target 1, not 3)", f"{sent_together / count:.2f}"),
        ("first to last request at the endpoint: one worker / three", f"{span_alone:.1f} s / "
         f"{span_together:.1f} s"),
        ("three workers / one worker (wall time, start-up included)", f"{together / alone:.2f}"),
    ]  # fmt: skip


def rpm_phase(count: int, rpm: int, articles_file: Path, url: str, server: LoopbackServer,
              tmp: Path) -> list[tuple[str, str]]:  # fmt: skip
    """Three workers on other articles under one shared --rpm; the busiest 60 s window at the endpoint."""
    before = len(server.stats.arrivals)
    took = extract_together(3, articles_file, url, server, tmp, "--rpm", str(rpm))
    arrivals = server.stats.arrivals[before:]
    return [
        (f"three workers, {count} other articles, --rpm {rpm} shared", f"{took:.1f} s, {len(arrivals)} requests"),
        ("most requests at the endpoint in any 60 s window (limit)", f"{most_in_window(arrivals, 60.0)} ({rpm})"),
    ]


def service_phase(cached: list[Article], concurrent: int, url: str, server: LoopbackServer,
                  tmp: Path) -> list[tuple[str, str]]:  # fmt: skip
    """One request alone, then ``concurrent`` at once, all for articles already in the cache."""
    with service(server, url, tmp) as base:
        body = {"articles": payload(cached), "format": "json"}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        httpx2.post(f"{base}/v1/briefings", json=body, headers=headers, timeout=300).raise_for_status()
        sent = server.stats.completions
        single = min(asyncio.run(concurrent_briefings(base, body, 1))[0][0] for _ in range(3))
        times, failed = asyncio.run(concurrent_briefings(base, body, concurrent))
    return [
        (f"service: one briefing of {len(cached)} cached articles alone (best of 3)", f"{single:.2f} s"),
        (f"service: {concurrent} concurrent briefings of {len(cached)} cached articles",
         f"{failed} failed, {server.stats.completions - sent} requests to the endpoint"),
        ("service latency p50 / p99 / max", f"{statistics.median(times):.2f} s / "
         f"{percentile(times, 0.99):.2f} s / {max(times):.2f} s"),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
