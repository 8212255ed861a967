"""The Batch API path, end to end against the loopback server: submit, status, collect, then brief from the cache,
and what it makes of failed lines, invalid answers, expired and stuck batches."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from summarizer.app.cli import app
from summarizer.extraction.batch.jobs import BatchStore, input_line, split_lines
from summarizer.extraction.cache import ResponseCache
from summarizer.extraction.cost import PriceTable, price_usage
from summarizer.extraction.records import Record, Usage
from summarizer.replay.batches import BatchFaults
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS

runner = CliRunner()


class _Listening(LoopbackServer):
    """Keeps every live chat-completions body it is sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bodies: list[dict[str, Any]] = []

    def __enter__(self) -> _Listening:
        self.start()
        return self

    def answer(self, handler: Any, request: dict[str, Any]) -> None:
        self.bodies.append(request)
        super().answer(handler, request)


def _run(*args: str, server: LoopbackServer, cache: Path) -> Result:
    return runner.invoke(app, [*args, "--base-url", server.url, "--cache-dir", str(cache)])


def _records(cache: Path) -> list[Record]:
    with ResponseCache(cache) as store:
        keys = list(store._cache.iterkeys())
        found = [store.get(k) for k in keys]
    return [r for r in found if r is not None]


def _briefing(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    briefing: dict[str, Any] = json.loads(result.stdout)
    # The batch's half price, the time of writing and the records' origin are the only things that may differ.
    for varying in ("cost", "generated"):
        briefing.pop(varying, None)
    for source in briefing["sources"]:
        source["origin"] = "batch" if source.pop("origin") == "batch" else "live"
    return briefing


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)


def test_submit_status_collect_then_brief_gives_the_live_briefing(
    recordings: dict[str, Record], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batch_cache, live_cache = tmp_path / "batch", tmp_path / "live"
    with _Listening(recordings) as server:
        submitted = _run("batch", "submit", str(ARTICLES), server=server, cache=batch_cache)
        assert submitted.exit_code == 0, submitted.output
        (batch_id,) = submitted.stdout.split()
        assert "5 submitted in 1 batch(es)" in submitted.stderr
        assert server.bodies == [], "submitting sends no chat completion"
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "building a request is no failure"
        status = _run("batch", "status", server=server, cache=batch_cache)
        assert status.exit_code == 0 and f"{batch_id}: completed (5/5 done)" in status.stdout
        collected = _run("batch", "collect", batch_id, server=server, cache=batch_cache)
        assert collected.exit_code == 0, collected.output
        assert "5 answered by the batch, 0 re-asked live" in collected.stderr
        assert "(Batch API)" in collected.stderr
        assert server.bodies == [], "every answer came from the batch"
        from_batch = _briefing(
            _run("brief", str(ARTICLES), "-f", "json", "--no-synthesis", server=server, cache=batch_cache)
        )
        assert server.bodies == [], "the briefing is made from the cache"
        live = _briefing(_run("brief", str(ARTICLES), "-f", "json", "--no-synthesis", server=server, cache=live_cache))
        input_file = server.desk.files[server.desk.batches[batch_id].input_file_id][1]
    assert {s["origin"] for s in from_batch["sources"]} == {"batch"}
    assert {s["origin"] for s in live["sources"]} == {"live"}
    for source in [*from_batch["sources"], *live["sources"]]:
        del source["origin"]
    assert from_batch == live
    lines = [json.loads(line) for line in input_file.decode().splitlines()]
    records = {r.key: r for r in _records(batch_cache)}
    assert {line["custom_id"] for line in lines} == set(records), "custom_id is the cache key"
    assert {r.origin for r in records.values()} == {"batch"}
    # The batch asks exactly what the live path sent.
    assert sorted((line["body"] for line in lines), key=json.dumps) == sorted(server.bodies, key=json.dumps)
    again = _run("batch", "submit", str(ARTICLES), server=server, cache=batch_cache)
    assert "0 submitted" in again.stderr and "5 already cached" in again.stderr
    for path in batch_cache.rglob("*"):
        assert not path.is_file() or FAKE_KEY.encode() not in path.read_bytes(), path


def test_failed_lines_are_asked_live_and_invalid_answers_re_asked(
    recordings: dict[str, Record], tmp_path: Path
) -> None:
    faults = BatchFaults(failed_lines=1, invalid_lines=1)
    with _Listening(recordings, batches=faults) as server:
        assert _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).exit_code == 0
        collected = _run("batch", "collect", server=server, cache=tmp_path)
    assert collected.exit_code == 0, collected.output
    assert "3 answered by the batch, 1 re-asked live after failing validation, 1 asked live" in collected.stderr
    assert "the batch answered 500" in collected.stderr
    assert len(server.bodies) == 2, "one live request for the failed line, one re-ask"
    reask = next(b for b in server.bodies if len(b["messages"]) > 2)
    assert any("validation" in str(m.get("content", "")).lower() for m in reask["messages"][2:])
    origins = sorted(r.origin for r in _records(tmp_path))
    assert origins == ["batch", "batch", "batch", "recorded", "recorded"]


def test_an_expired_batch_keeps_what_it_answered_and_the_rest_is_asked_live(
    recordings: dict[str, Record], tmp_path: Path
) -> None:
    with _Listening(recordings, batches=BatchFaults(outcome="expired")) as server:
        assert _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).exit_code == 0
        collected = _run("batch", "collect", server=server, cache=tmp_path)
    assert collected.exit_code == 0, collected.output
    assert "(expired): 2 answered by the batch, 0 re-asked live after failing validation, 3 asked live" in (
        collected.stderr
    )
    assert "batch_expired" in collected.stderr
    assert len(server.bodies) == 3


def test_a_batch_stuck_in_progress_waits_and_a_cancelled_one_is_collected(
    recordings: dict[str, Record], tmp_path: Path
) -> None:
    with _Listening(recordings, batches=BatchFaults(outcome="in_progress")) as server:
        (batch_id,) = _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).stdout.split()
        waiting = _run("batch", "collect", server=server, cache=tmp_path)
        assert waiting.exit_code == 1
        assert f"batch {batch_id} is in_progress (2/5 done); collect it again later" in waiting.stderr
        assert _records(tmp_path) == [] and server.bodies == []
        # A new process finds the batch from its state file.
        assert BatchStore(tmp_path).load(batch_id).state == "pending"
        cancelled = _run("batch", "cancel", batch_id, server=server, cache=tmp_path)
        assert cancelled.exit_code == 0 and "cancelled" in cancelled.stdout
        collected = _run("batch", "collect", server=server, cache=tmp_path)
    assert collected.exit_code == 0, collected.output
    assert "2 answered by the batch" in collected.stderr and "3 asked live" in collected.stderr
    assert BatchStore(tmp_path).load(batch_id).state == "collected"
    nothing = _run("batch", "collect", server=server, cache=tmp_path)
    assert "no batch to collect" in nothing.stderr


def test_a_collect_cut_short_resumes_where_it_stopped(recordings: dict[str, Record], tmp_path: Path) -> None:
    with _Listening(recordings) as server:
        (batch_id,) = _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).stdout.split()
        first = _run("batch", "collect", server=server, cache=tmp_path)
        assert first.exit_code == 0
        # As if the process had been killed after writing two records: the state is still pending.
        store = BatchStore(tmp_path)
        state = store.load(batch_id)
        store.save(state.model_copy(update={"state": "pending"}))
        with ResponseCache(tmp_path) as cache:
            for key in list(state.requests)[2:]:
                cache._cache.delete(key)
        resumed = _run("batch", "collect", server=server, cache=tmp_path)
    assert resumed.exit_code == 0, resumed.output
    assert "3 answered by the batch" in resumed.stderr and "2 already cached" in resumed.stderr
    assert len(_records(tmp_path)) == 5


def test_jobs_are_split_at_the_request_and_size_limits(recordings: dict[str, Record], tmp_path: Path) -> None:
    lines = [input_line(f"k{i}", {"n": "x" * i}) for i in range(10)]
    assert [len(job) for job in split_lines(lines, max_requests=4)] == [4, 4, 2]
    by_size = list(split_lines(lines, max_bytes=2 * len(lines[-1])))
    assert all(sum(map(len, job)) <= 2 * len(lines[-1]) for job in by_size) and sum(map(len, by_size)) == 10
    with _Listening(recordings) as server:
        submitted = _run("batch", "submit", str(ARTICLES), "--max-requests", "2", server=server, cache=tmp_path)
        assert len(submitted.stdout.split()) == 3
        collected = _run("batch", "collect", server=server, cache=tmp_path)
    assert collected.exit_code == 0 and collected.stderr.count("answered by the batch") == 3
    assert len(_records(tmp_path)) == 5


def test_batch_answers_are_priced_at_the_batch_rate() -> None:
    usage = Usage.of(1_000_000, 1_000_000)
    prices = PriceTable.load()
    live = price_usage([("gpt-4o-mini", usage, 1)], prices)
    batch = price_usage([("gpt-4o-mini", usage, 1, True)], prices)
    assert live.usd is not None and batch.usd == pytest.approx(live.usd / 2)
    assert [m.model for m in batch.models] == ["gpt-4o-mini (Batch API)"]


def test_an_unknown_batch_id_is_one_line_naming_the_fix(server: LoopbackServer, tmp_path: Path) -> None:
    result = _run("batch", "collect", "batch_nope", server=server, cache=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no batch batch_nope was submitted") and "batch status" in result.stderr


def test_collect_wait_polls_until_the_batch_has_ended(recordings: dict[str, Record], tmp_path: Path) -> None:
    with _Listening(recordings, batches=BatchFaults(processing=1.0)) as server:
        assert _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).exit_code == 0
        collected = _run("batch", "collect", "--wait", "0.3", server=server, cache=tmp_path)
    assert collected.exit_code == 0, collected.output
    assert "in_progress (0/5 done); asking again in 0.3 s" in collected.stderr
    assert "5 answered by the batch" in collected.stderr


def test_a_batch_is_followed_at_the_endpoint_it_was_submitted_to(recordings: dict[str, Record], tmp_path: Path) -> None:
    with _Listening(recordings) as server, _Listening(recordings) as other:
        (batch_id,) = _run("batch", "submit", str(ARTICLES), server=server, cache=tmp_path).stdout.split()
        elsewhere = _run("batch", "status", server=other, cache=tmp_path)
    assert elsewhere.exit_code == 2
    assert elsewhere.stderr.strip() == (
        f"error: batch {batch_id} was submitted to {server.url}, not {other.url}; run it --base-url {server.url}"
    )


def test_a_rejected_key_is_one_line_and_nothing_is_kept(recordings: dict[str, Record], tmp_path: Path) -> None:
    with LoopbackServer(recordings, require_key="another-test-key") as guarded:
        result = _run("batch", "submit", str(ARTICLES), server=guarded, cache=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {guarded.url} rejected the API key (401); check OPENAI_API_KEY"
    assert BatchStore(tmp_path).all() == []


def test_brief_batch_submits_waits_collects_and_briefs(recordings: dict[str, Record], tmp_path: Path) -> None:
    with _Listening(recordings) as server:
        result = _run(
            "brief", str(ARTICLES), "--batch", "-f", "json", "--no-synthesis", server=server, cache=tmp_path / "batch"
        )
        assert "5 answered by the batch" in result.stderr
        assert server.bodies == []
        from_batch = _briefing(result)
        live = _briefing(
            _run("brief", str(ARTICLES), "-f", "json", "--no-synthesis", server=server, cache=tmp_path / "live")
        )
    for source in [*from_batch["sources"], *live["sources"]]:
        del source["origin"]
    assert from_batch == live
    both = runner.invoke(app, ["brief", str(ARTICLES), "--batch", "--replay", str(RECORDINGS)])
    assert both.exit_code == 2 and "--batch and --replay do not go together" in both.stderr


@pytest.mark.parametrize("mode", ["json", "json_schema", "md_json"])
def test_every_mode_goes_through_a_batch_as_it_goes_live(
    mode: str, recordings: dict[str, Record], tmp_path: Path
) -> None:
    with _Listening(recordings) as server:
        assert _run("batch", "submit", str(ARTICLES), "--mode", mode, server=server, cache=tmp_path).exit_code == 0
        collected = _run("batch", "collect", "--mode", mode, server=server, cache=tmp_path)
        assert collected.exit_code == 0, collected.output
        assert "5 answered by the batch" in collected.stderr
        input_file = next(iter(server.desk.batches.values())).input_file_id
        lines = [json.loads(line) for line in server.desk.files[input_file][1].decode().splitlines()]
        live = _run("extract", str(ARTICLES), "--mode", mode, server=server, cache=tmp_path / "live")
        assert live.exit_code == 0
    assert sorted((line["body"] for line in lines), key=json.dumps) == sorted(server.bodies, key=json.dumps)


def test_an_endpoint_without_a_batch_api_is_one_line_naming_the_way_out(tmp_path: Path) -> None:
    from tests.conftest import scripted_endpoint

    not_found = json.dumps({"error": {"message": "404 page not found", "type": "not_found"}}).encode()
    with scripted_endpoint([(404, not_found)]) as url:
        result = runner.invoke(app, ["batch", "submit", str(ARTICLES), "--base-url", url, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {url} answered 404: 404 page not found; it may have no Batch API: brief live (`summarizer brief` "
        "without --batch)"
    )
