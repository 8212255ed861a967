"""A killed extraction resumes from the cache, and two extractions can share one cache directory at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import diskcache

from summarizer.extraction.cache import ResponseCache, cache_key
from summarizer.extraction.pipeline import extract_paths
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record
from summarizer.ingest.articles import load_articles
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants, write_variants
from tests.conftest import ARTICLES, DEADLINE, FAKE_KEY, RECORDINGS, settings_for, wait_for


def extract_command(paths: Sequence[Path], server: LoopbackServer, cache: Path) -> list[str]:
    return [
        sys.executable, "-m", "summarizer", "extract", *(str(p) for p in paths), "--base-url", server.url,
        "--cache-dir", str(cache), "--concurrency", "8", "-q", "-o", os.devnull,
    ]  # fmt: skip


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            command, env={**os.environ, "OPENAI_API_KEY": FAKE_KEY}, stdout=subprocess.DEVNULL, stderr=stderr
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def cached_records(cache: Path) -> dict[str, Record]:
    """Every entry in the cache by key; each must parse as the record stored under that key."""
    with diskcache.Cache(str(cache)) as raw:
        keys = [str(key) for key in raw]
    records: dict[str, Record] = {}
    with ResponseCache(cache) as responses:
        assert responses.info().entries == len(keys)
        for key in keys:
            record = responses.get(key)
            assert record is not None, f"cache entry {key} is not a whole record"
            assert record.key == key
            records[key] = record
    return records


def test_a_killed_run_resumes_with_only_the_unfinished_articles(tmp_path: Path) -> None:
    articles, served = example_variants(200, ARTICLES, RECORDINGS)
    ids = {a.id for a in articles}
    articles_file, _ = write_variants(articles, served, tmp_path / "input")
    cache = tmp_path / "shared-cache"
    log = tmp_path / "killed.stderr"
    with LoopbackServer(served, latency=0.05) as server:
        proc = start(extract_command([articles_file], server, cache), log)
        try:
            wait_for(lambda: server.stats.completions >= 60 or proc.poll() is not None, "60 completions")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            stop(proc)
        assert proc.returncode == -signal.SIGKILL, f"the run ended on its own: {log.read_text()}"
        wait_for(lambda: server.stats.in_flight == 0, "the killed run's requests to drain")
        answered = server.stats.completions
        before = dict(server.stats.by_article)
        assert 60 <= answered < 200, "the run was killed part-way"

        records = cached_records(cache)
        done = {r.request.article_id for r in records.values()}
        assert 0 < len(records) < 200
        assert len(done) == len(records) <= answered
        assert done <= ids
        assert all(before.get(article, 0) >= 1 for article in done)

        run = extract_paths([articles_file], settings_for(server, cache))
        after = dict(server.stats.by_article)
        resent = server.stats.completions - answered

    assert len(run.results) == 200 and not run.failures
    assert all(r.record is not None for r in run.results)
    assert {r.article.id for r in run.results} == ids
    assert run.count("cached") == len(records)
    assert run.count("fetched") == 200 - len(records)
    assert {r.article.id for r in run.results if r.outcome == "cached"} == done
    assert resent == 200 - len(records), "only the unfinished articles were sent again"
    assert {a: after.get(a, 0) - before.get(a, 0) for a in ids} == {a: int(a not in done) for a in ids}
    assert len(cached_records(cache)) == 200


def test_two_runs_share_one_cache_directory_at_once(tmp_path: Path) -> None:
    articles, served = example_variants(120, ARTICLES, RECORDINGS)
    ids = {a.id for a in articles}
    halves = [articles[:80], articles[40:]]
    files = [
        write_variants(half, {a.id: served[a.id] for a in half}, tmp_path / f"half-{n}")[0]
        for n, half in enumerate(halves)
    ]
    everything, _ = write_variants(articles, served, tmp_path / "all")
    cache = tmp_path / "shared-cache"
    # Each run fetches for about 80 / 8 x 0.5 = 5 s, well beyond the second process's start-up lag, so the two
    # overlap however the machine schedules them (at 0.1 s a run could finish before the other began).
    with LoopbackServer(served, latency=0.5) as server:
        procs = [start(extract_command([f], server, cache), tmp_path / f"run-{n}.stderr") for n, f in enumerate(files)]
        try:
            for proc in procs:
                proc.wait(timeout=DEADLINE)
        finally:
            for proc in procs:
                stop(proc)
        for n, proc in enumerate(procs):
            assert proc.returncode == 0, (tmp_path / f"run-{n}.stderr").read_text()
        assert set(server.stats.by_article) == ids
        assert server.stats.max_in_flight > 8, "both runs had requests in flight at the same time"

        settings = settings_for(server, cache)
        prompts = load_prompts(settings.prompts_dir)
        expected = {cache_key(a, settings, prompts): a.id for a in load_articles([everything]).articles}
        records = cached_records(cache)
        assert len(records) == 120
        assert set(records) == set(expected)
        assert all(record.request.article_id == expected[key] for key, record in records.items())

        answered = server.stats.completions
        run = extract_paths([everything], settings)
        assert server.stats.completions == answered, "the third run sent nothing"

    assert len(run.results) == 120 and not run.failures
    assert run.count("cached") == 120 and run.count("fetched") == 0
    assert {r.article.id for r in run.results} == ids
