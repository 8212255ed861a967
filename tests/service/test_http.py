"""The HTTP service over real HTTP on loopback: briefings and extractions through the same pipeline and cache,
the token, the limits and their one-line refusals, the provider key never echoed, jobs run by arq workers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.config import Settings
from summarizer.ingest.articles import load_articles
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from summarizer.service.http import Limits
from tests.conftest import ARTICLES, DEADLINE, FAKE_KEY, RECORDINGS, error_lines
from tests.redis_server import RedisServer
from tests.service.running import running_service, running_workers

TOKEN = "service-token-for-tests-81d2"
runner = CliRunner()


def _payload(count: int | None = None) -> list[dict[str, Any]]:
    articles = load_articles([ARTICLES]).articles if count is None else example_variants(count, ARTICLES, RECORDINGS)[0]
    return [
        {"text": a.text, "title": a.title, "published": a.published.isoformat() if a.published else None,
         "outlet": a.outlet}
        for a in articles
    ]  # fmt: skip


def _settings(server: LoopbackServer, tmp_path: Path, **changes: Any) -> Settings:
    return Settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache").replace(**changes)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_briefings_in_each_format_from_the_same_pipeline_and_cache(server: LoopbackServer, tmp_path: Path) -> None:
    with running_service(_settings(server, tmp_path), token=TOKEN) as url:
        answer = httpx2.post(f"{url}/v1/briefings", json={"articles": _payload()}, headers=_auth(), timeout=DEADLINE)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        briefing = answer.json()
        assert len(briefing["sources"]) == 5 and briefing["stories"]
        assert briefing["stories"][0]["key_points_written"], "the model wrote the top line"
        assert server.stats.completions == 6, "five articles and the story's top line"
        for fmt, start in (("md", "#"), ("html", "<!DOCTYPE html>")):
            rendered = httpx2.post(f"{url}/v1/briefings", json={"articles": _payload(), "format": fmt},
                                   headers=_auth(), timeout=DEADLINE)  # fmt: skip
            assert rendered.status_code == 200
            assert rendered.text.lstrip().lower().startswith(start.lower())
        assert server.stats.completions == 6, "the other formats came from the cache"
        extracted = httpx2.post(f"{url}/v1/extractions", json={"articles": _payload()}, headers=_auth(), timeout=30)
        results = extracted.json()["results"]
        assert [r["outcome"] for r in results] == ["cached"] * 5
        assert all(r["record"]["format"] == "summarizer.record/1" for r in results)
        for body in (answer.text, extracted.text):
            assert FAKE_KEY not in body


def test_every_refusal_is_a_4xx_with_one_line(server: LoopbackServer, tmp_path: Path) -> None:
    limits = Limits(max_body=200_000, max_articles=3)
    with running_service(_settings(server, tmp_path), token=TOKEN, limits=limits) as url:

        def post(body: Any, headers: dict[str, str] | None = None, path: str = "/v1/briefings") -> httpx2.Response:
            return httpx2.post(f"{url}{path}", json=body, headers=_auth() if headers is None else headers, timeout=30)

        cases = [
            (post({"articles": _payload()[:1]}, headers={}), 401, "missing or wrong bearer token"),
            (post({"articles": _payload()[:1]}, headers={"Authorization": "Bearer nope"}), 401, "bearer token"),
            (post({"articles": _payload()[:4]}), 413, "4 articles in one request; at most 3"),
            (post({"articles": [{"text": "x" * 250_000}]}), 413, "bytes; at most 200000"),
            (post({"articles": []}), 422, "articles: List should have at least 1 item"),
            (post({"articles": [{"title": "no text"}]}), 422, "articles.0.text: Field required"),
            (post({"articles": [{"text": "   "}]}), 422, "articles[0]"),
            (post({"articles": [{"text": "A report.", "published": "yesterday"}]}), 422, "articles.0.published"),
            (post({"articles": [{"text": "A report."}], "format": "pdf"}), 422, "format"),
            (post({"articles": [{"text": "A report."}], "wait": False}), 422, "needs a job queue"),
        ]
        missing_job = httpx2.get(f"{url}/v1/jobs/nothing", headers=_auth(), timeout=30)
        not_json = httpx2.post(f"{url}/v1/extractions", content=b"{", headers={**_auth(), "content-type":
                               "application/json"}, timeout=30)  # fmt: skip
    for response, status, words in cases:
        assert response.status_code == status, response.text
        reason = response.json()["error"]
        assert words in reason and "\n" not in reason, reason
    assert missing_job.status_code == 404
    assert not_json.status_code == 422 and "\n" not in not_json.json()["error"]
    assert server.stats.completions == 0, "nothing refused was sent"


def test_health_and_openapi_need_no_token_and_show_no_key(server: LoopbackServer, tmp_path: Path) -> None:
    with running_service(_settings(server, tmp_path), token=TOKEN) as url:
        health = httpx2.get(f"{url}/healthz", timeout=30)
        schema = httpx2.get(f"{url}/openapi.json", timeout=30)
        docs = httpx2.get(f"{url}/docs", timeout=30)
    assert health.json() == {"status": "ok", "cache": "local", "jobs": False}
    assert {"/v1/briefings", "/v1/extractions", "/healthz", "/v1/jobs/{job}"} <= set(schema.json()["paths"])
    assert docs.status_code == 200
    for response in (health, schema, docs):
        assert FAKE_KEY not in response.text and server.url not in response.text


def test_a_key_the_endpoint_refuses_is_a_503_that_does_not_echo_it(recordings: Any, tmp_path: Path) -> None:
    with (
        LoopbackServer(recordings, require_key="the-right-key") as server,
        running_service(_settings(server, tmp_path)) as url,
    ):
        answer = httpx2.post(f"{url}/v1/briefings", json={"articles": _payload()[:1]}, timeout=DEADLINE)
    assert answer.status_code == 503, answer.text
    assert FAKE_KEY not in answer.text and FAKE_KEY[-6:] not in answer.text


def test_no_article_extracted_is_a_502_naming_the_first_failure(server: LoopbackServer, tmp_path: Path) -> None:
    with running_service(_settings(server, tmp_path)) as url:
        unknown = {"articles": [{"text": "A dispatch with no recording, about talks that did not take place."}]}
        answer = httpx2.post(f"{url}/v1/briefings", json=unknown, timeout=DEADLINE)
    assert answer.status_code == 502
    reason = answer.json()["error"]
    assert reason.startswith("no article could be extracted; the first failure: ") and "no recording" in reason
    assert "\n" not in reason and FAKE_KEY not in reason


def test_the_service_refuses_to_start_off_loopback_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARIZER_API_TOKEN", raising=False)
    result = runner.invoke(app, ["api", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "SUMMARIZER_API_TOKEN" in line


def test_a_long_request_is_a_job_that_workers_finish(redis_server: RedisServer, tmp_path: Path) -> None:
    _, served = example_variants(30, ARTICLES, RECORDINGS)
    with LoopbackServer(served, latency=0.1) as server:
        settings = _settings(server, tmp_path, cache_url=redis_server.url)
        limits = Limits(answer_at_once=10)
        with running_service(settings, token=TOKEN, limits=limits) as url, running_workers(settings, count=2):
            body = {"articles": _payload(30), "format": "md", "title": "Thirty dispatches"}
            submitted = httpx2.post(f"{url}/v1/briefings", json=body, headers=_auth(), timeout=30)
            assert submitted.status_code == 202, submitted.text
            job = submitted.json()
            assert job["status"] == "queued" and job["chunks"] == 2
            assert submitted.headers["location"] == job["status_url"]
            deadline = time.monotonic() + DEADLINE
            while (status := httpx2.get(job["status_url"], headers=_auth(), timeout=30).json())["status"] != "complete":
                assert status["status"] != "failed", status
                assert time.monotonic() < deadline, status
                time.sleep(0.1)
            result = httpx2.get(status["result_url"], headers=_auth(), timeout=30)
            unauthorised = httpx2.get(status["result_url"], timeout=30)
    assert result.status_code == 200 and result.headers["content-type"].startswith("text/markdown")
    assert result.text.startswith("# Thirty dispatches")
    assert server.stats.completions == 30, "each article asked once, across the chunks and the finish"
    assert unauthorised.status_code == 401
    stored = redis_server.client().get(f"summarizer:job:{job['job']}")
    assert isinstance(stored, bytes) and json.loads(stored)["articles"] == 30, "the job is kept in Redis"


def test_a_job_whose_endpoint_refuses_the_key_fails_in_one_line(
    redis_server: RedisServer, recordings: Any, tmp_path: Path
) -> None:
    with LoopbackServer(recordings, require_key="the-right-key") as server:
        settings = _settings(server, tmp_path, cache_url=redis_server.url)
        with running_service(settings) as url, running_workers(settings):
            submitted = httpx2.post(f"{url}/v1/extractions", json={"articles": _payload(), "wait": False}, timeout=30)
            assert submitted.status_code == 202
            deadline = time.monotonic() + DEADLINE
            while (status := httpx2.get(submitted.json()["status_url"], timeout=30).json())["status"] != "failed":
                assert status["status"] != "complete" and time.monotonic() < deadline, status
                time.sleep(0.1)
            result = httpx2.get(f"{url}/v1/jobs/{status['job']}/result", timeout=30)
    assert "\n" not in status["error"] and "key" in status["error"]
    assert FAKE_KEY not in status["error"]
    assert result.status_code == 409 and result.json()["error"].startswith(f"job {status['job']} failed: ")
