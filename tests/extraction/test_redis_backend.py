"""The Redis backend against a real redis-server on loopback: the disk cache's keys and bytes, the commands on
either backend, a Redis that cannot be reached or is lost mid-run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.config import Settings
from summarizer.errors import ConfigError
from summarizer.extraction.cache import ResponseCache, entry_bytes
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.redis_backend import RECORDS, RedisStore, public_url
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, error_lines, free_port, wait_for
from tests.redis_server import RedisServer

runner = CliRunner()


def test_records_have_the_disk_caches_keys_and_bytes(redis_server: RedisServer, tmp_path: Path) -> None:
    articles, served = example_variants(3, ARTICLES, RECORDINGS)
    with LoopbackServer(served) as server:
        disk = Settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "disk")
        with Pipeline(disk) as pipeline:
            on_disk = pipeline.run(articles)
        with Pipeline(disk.replace(cache_url=redis_server.url, cache_dir=tmp_path / "spool")) as pipeline:
            in_redis = pipeline.run(articles)
            again = pipeline.run(articles)
    assert [r.outcome for r in in_redis] == ["fetched"] * 3
    assert [r.outcome for r in again] == ["cached"] * 3
    client = redis_server.client()
    with ResponseCache(tmp_path / "disk") as cache:
        for disk_result, redis_result in zip(on_disk, in_redis, strict=True):
            assert disk_result.record is not None and redis_result.record is not None
            assert disk_result.record.key == redis_result.record.key, "one key, whichever backend"
            stored = client.get(RECORDS + redis_result.record.key)
            assert stored == entry_bytes(redis_result.record)
            assert cache.get(disk_result.record.key) is not None


def test_cache_commands_and_replay_on_redis(redis_server: RedisServer, tmp_path: Path) -> None:
    url = ["--cache-url", redis_server.url]
    out = tmp_path / "briefing.md"
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), *url, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("#")
    info = runner.invoke(app, ["cache", "info", *url])
    assert info.exit_code == 0
    assert info.stdout.startswith(f"{redis_server.url}: 6 record(s)"), "five articles and the story's top line"
    redis_server.client().set("arq:queue:other", b"kept")  # what else the database holds is left alone
    cleared = runner.invoke(app, ["cache", "clear", *url])
    assert cleared.stdout.strip() == f"{redis_server.url}: removed 6 record(s)"
    assert runner.invoke(app, ["cache", "info", *url]).stdout.startswith(f"{redis_server.url}: 0 record(s)")
    assert redis_server.client().get("arq:queue:other") == b"kept"


def test_unreachable_redis_is_one_line_naming_the_url_without_its_password(tmp_path: Path) -> None:
    url = f"redis://reader:s3cret-pw@127.0.0.1:{free_port()}/0"
    result = runner.invoke(app, ["extract", str(ARTICLES), "--replay", str(RECORDINGS), "--cache-url", url])
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith(f"error: redis://***@127.0.0.1:{url.rsplit(':', 1)[1]}: cannot reach Redis (")
    assert "SUMMARIZER_CACHE_URL" in line
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_url_of_another_scheme_is_refused_before_anything_is_sent() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLES), "--cache-url", "http://127.0.0.1:6379"])
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "cache_url" in line


def test_public_url_hides_the_password() -> None:
    assert public_url("redis://:pw@host:6380/2") == "redis://***@host:6380/2"
    assert public_url("redis://host:6379/0") == "redis://host:6379/0"
    with pytest.raises(ConfigError, match=r"cannot reach Redis"):
        RedisStore(f"redis://:pw@127.0.0.1:{free_port()}/0", Path("spool"))


def test_records_fetched_after_redis_is_lost_are_spooled_and_written_on_the_next_run(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    articles, served = example_variants(12, ARTICLES, RECORDINGS)
    with LoopbackServer(served, latency=0.3) as server:
        settings = Settings(
            base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache", cache_url=redis_server.url
        ).replace(concurrency=3)

        def lose_redis() -> None:
            wait_for(lambda: server.stats.completions >= 3, "the first answers")
            redis_server.stop()

        loser = threading.Thread(target=lose_redis)
        loser.start()
        with Pipeline(settings) as pipeline:
            results = pipeline.run(articles)
            notices = pipeline.notices()
        loser.join()
        assert [r.outcome for r in results] == ["fetched"] * 12, "losing Redis stops no article"
        spool = tmp_path / "cache" / "redis-spool"
        with ResponseCache(spool) as kept:
            spooled = kept.info().entries
        assert spooled >= 6, "what was fetched after the loss is kept locally"
        assert any(f"{spooled} record(s) Redis could not take are kept in the local spool" in n for n in notices)
        assert any(n.startswith(f"lost Redis at {redis_server.url} during the run") for n in notices)

        redis_server.start()  # back, and empty: it keeps nothing on disk
        sent = server.stats.completions
        with Pipeline(settings) as pipeline:
            assert pipeline.notices() == [
                f"wrote {spooled} record(s) kept in the local spool {spool} to Redis at {redis_server.url}"
            ]
            rerun = pipeline.run(articles)
        assert sum(r.outcome == "cached" for r in rerun) == spooled, "every spooled record answers the re-run"
        assert server.stats.completions - sent == 12 - spooled, "only what Redis lost with itself is fetched again"
        with ResponseCache(spool) as kept:
            assert kept.info().entries == 0
