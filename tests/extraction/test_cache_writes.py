"""Records are written behind the run: a run does not wait for each write, returns only once all are written,
holds back when writes fall behind, and stops with one clear line when the cache cannot be written."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import diskcache
import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.errors import ConfigError
from summarizer.extraction.cache import ResponseCache
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.records import Record
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from tests.conftest import ARTICLES, DEADLINE, RECORDINGS, error_lines, settings_for, wait_for


def test_a_run_returns_once_every_record_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles, served = example_variants(12, ARTICLES, RECORDINGS)
    real_put = ResponseCache.put

    def slow_put(self: ResponseCache, record: Record) -> None:
        time.sleep(0.03)  # every answer arrives long before its record is written
        real_put(self, record)

    monkeypatch.setattr(ResponseCache, "put", slow_put)
    cache = tmp_path / "cache"
    with LoopbackServer(served) as server, Pipeline(settings_for(server, cache, 12)) as pipeline:
        results = pipeline.run(articles)
        assert [r.outcome for r in results] == ["fetched"] * 12
        with ResponseCache(cache) as other:  # another connection, before the pipeline closes its own
            stored = [other.get(r.record.key) for r in results if r.record is not None]
    assert all(record is not None for record in stored) and len(stored) == 12


def test_fetching_holds_back_while_writes_fall_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles, served = example_variants(10, ARTICLES, RECORDINGS)
    release = threading.Event()
    real_put = ResponseCache.put

    def stuck_put(self: ResponseCache, record: Record) -> None:
        release.wait(DEADLINE)
        real_put(self, record)

    monkeypatch.setattr(ResponseCache, "put", stuck_put)
    cache = tmp_path / "cache"
    with LoopbackServer(served) as server, Pipeline(settings_for(server, cache, 2)) as pipeline:
        outcome: list[int] = []
        run = threading.Thread(target=lambda: outcome.append(len(pipeline.run(articles))))
        run.start()
        try:
            # Two writes held (one on the writer thread, one queued: the limit is the concurrency, 2), and
            # each worker holding the answer it cannot queue yet.
            wait_for(lambda: server.stats.completions >= 4, "four answers")
            time.sleep(0.3)
            assert server.stats.completions == 4, "no more requests while the writes are stuck"
        finally:
            release.set()
            run.join(DEADLINE)
        assert outcome == [10] and server.stats.completions == 10
    with ResponseCache(cache) as reopened:
        assert reopened.info().entries == 10


def test_a_cache_that_cannot_be_written_stops_the_run_with_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, served = example_variants(40, ARTICLES, RECORDINGS)
    real_set = diskcache.Cache.set
    writes: list[str] = []

    def filling_set(self: diskcache.Cache, key: str, value: bytes, *args: object, **kwargs: object) -> bool:
        if len(writes) >= 3:
            raise sqlite3.OperationalError("database or disk is full")
        writes.append(key)
        return bool(real_set(self, key, value))

    monkeypatch.setattr(diskcache.Cache, "set", filling_set)
    cache = tmp_path / "cache"
    with (
        LoopbackServer(served) as server,
        Pipeline(settings_for(server, cache, 4)) as pipeline,
        pytest.raises(ConfigError, match=r"cannot write the cache \(database or disk is full\).*--cache-dir"),
    ):
        pipeline.run(articles)
    assert server.stats.completions < 20, "the run stopped fetching what it could not keep"
    with ResponseCache(cache) as reopened:
        assert reopened.info().entries == 3, "the records written before the fault are kept"


def test_a_cache_directory_that_is_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "cache"
    not_a_directory.write_text("a file", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["extract", str(ARTICLES), "--replay", str(RECORDINGS), "--cache-dir", str(not_a_directory)]
    )
    assert result.exit_code == 2
    errors = error_lines(result)
    assert len(errors) == 1 and str(not_a_directory) in errors[0] and "--cache-dir" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("command", "method"), [("info", "volume"), ("clear", "clear")])
def test_cache_info_and_clear_on_a_damaged_database_are_one_line(
    command: str, method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def damaged(self: diskcache.Cache, *args: object, **kwargs: object) -> int:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(diskcache.Cache, method, damaged)
    cache = tmp_path / "cache"
    result = CliRunner().invoke(app, ["cache", command, "--cache-dir", str(cache)])
    assert result.exit_code == 2
    errors = error_lines(result)
    assert len(errors) == 1 and str(cache) in errors[0] and "malformed" in errors[0], result.stderr
    assert "Traceback" not in result.output
