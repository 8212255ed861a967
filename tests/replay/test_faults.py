"""Fault injection: the plan's draws, and what a plain HTTP client and the real openai client see for each kind."""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.errors import UserError
from summarizer.extraction.records import Record
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article, load_articles
from summarizer.replay.answers import REFUSAL_TEXT
from summarizer.replay.faults import FAULT_KINDS, FaultKind, FaultPlan
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, free_port, interruptible

TOOL = "ArticleExtraction"


@pytest.fixture
def article() -> Article:
    return load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]


def _messages(article: Article) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Extract.\n<article_text>\n{article.text}\n</article_text>"}]


def _request(article: Article, *, tools: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "test-model", "messages": _messages(article)}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": TOOL, "parameters": {"type": "object"}}}]
        body["tool_choice"] = {"type": "function", "function": {"name": TOOL}}
    return body


def _serving(recordings: dict[str, Record], *steps: FaultKind | None, **plan: Any) -> LoopbackServer:
    return LoopbackServer(recordings, faults=FaultPlan(schedule=steps, **plan))


@dataclass
class _Reply:
    status_code: int
    headers: dict[str, str]
    """Lower-cased names."""
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def _send(url: str, method: str = "POST", body: dict[str, Any] | None = None, timeout: float = 5.0) -> _Reply:
    """One request on a fresh connection with the standard library's client, which hides nothing: a dropped
    connection is RemoteDisconnected, a hang is TimeoutError, and the body comes back as bytes."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {FAKE_KEY}", "Content-Type": "application/json"}
        connection.request(method, parts.path, body=data, headers=headers)
        response = connection.getresponse()
        return _Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def _post(server: LoopbackServer, body: dict[str, Any], timeout: float = 5.0) -> _Reply:
    return _send(f"{server.url}/chat/completions", body=body, timeout=timeout)


@pytest.fixture
def client_for() -> Iterator[Any]:
    clients: list[openai.OpenAI] = []

    def make(server: LoopbackServer, timeout: float = 5.0) -> openai.OpenAI:
        client = openai.OpenAI(base_url=server.url, api_key=FAKE_KEY, max_retries=0, timeout=timeout)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _create(client: openai.OpenAI, article: Article, *, tools: bool = True) -> Any:
    extra: dict[str, Any] = {}
    if tools:
        extra = {"tools": _request(article)["tools"], "tool_choice": _request(article)["tool_choice"]}
    return client.chat.completions.create(model="test-model", messages=_messages(article), **extra)  # type: ignore[arg-type]


# The plan on its own: no HTTP.


def test_rates_with_a_seed_give_about_the_requested_share() -> None:
    plan = FaultPlan({"429": 0.05, "drop": 0.03, "timeout": 0.10}, seed=42)
    draws = Counter(plan.draw() for _ in range(10_000))
    assert abs(draws["429"] / 10_000 - 0.05) < 0.01
    assert abs(draws["drop"] / 10_000 - 0.03) < 0.01
    assert abs(draws["timeout"] / 10_000 - 0.10) < 0.015
    assert abs(draws[None] / 10_000 - 0.82) < 0.02
    assert set(draws) == {"429", "drop", "timeout", None}, "only the kinds asked for"
    assert plan.drawn == 10_000


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    def outcomes(seed: int) -> list[FaultKind | None]:
        plan = FaultPlan.from_options(rate=0.5, seed=seed)
        return [plan.draw() for _ in range(200)]

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)


def test_overall_rate_spreads_evenly_and_explicit_rates_win() -> None:
    everywhere = FaultPlan.from_options(rate=0.3)
    assert set(everywhere.rates) == set(FAULT_KINDS)
    assert all(rate == pytest.approx(0.3 / len(FAULT_KINDS)) for rate in everywhere.rates.values())
    some = FaultPlan.from_options(rate=0.3, kinds="429, drop,timeout", faults=["drop=0.2", "500=0.05"])
    assert some.rates == pytest.approx({"429": 0.1, "500": 0.05, "drop": 0.2, "timeout": 0.1})
    always = FaultPlan.from_options(rate=1.0, kinds="429,503", seed=1)
    draws = Counter(always.draw() for _ in range(2000))
    assert None not in draws and abs(draws["429"] - 1000) < 100, "a rate of 1 faults every request"


def test_schedule_comes_first_in_order_then_the_rates() -> None:
    plan = FaultPlan.from_options(schedule="503,ok,429,drop", faults=["500=1"])
    assert [plan.draw() for _ in range(6)] == ["503", None, "429", "drop", "500", "500"]
    assert [FaultPlan(schedule=["slow"]).draw() for _ in range(2)] == ["slow", "slow"], "each plan its own"
    quiet = FaultPlan(schedule=["slow"])
    assert [quiet.draw(), quiet.draw(), quiet.draw()] == ["slow", None, None]


def test_draws_are_thread_safe() -> None:
    limited: list[FaultKind | None] = ["429"] * 500
    dropped: list[FaultKind | None] = ["drop"] * 500
    plan = FaultPlan(schedule=limited + dropped)
    seen: list[FaultKind | None] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [plan.draw() for _ in range(125)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(seen) == {"429": 500, "drop": 500}, "every scheduled outcome drawn exactly once"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"faults": ["429"]}, "write KIND=RATE"),
        ({"faults": ["teapot=0.1"]}, "unknown fault kind 'teapot'"),
        ({"faults": ["429=lots"]}, "not a number"),
        ({"faults": ["429=0.7", "drop=0.7"]}, "add up to 1.4"),
        ({"faults": ["429=-0.1"]}, "between 0 and 1"),
        ({"rate": 1.5}, "--fault-rate 1.5"),
        ({"kinds": "429"}, "--fault-kinds needs --fault-rate"),
        ({"schedule": "503,oops"}, "--fault-schedule: unknown fault kind 'oops'"),
        ({"hang": -1.0}, "hang is -1.0"),
    ],
)
def test_bad_options_are_one_line_naming_the_fix(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        FaultPlan.from_options(**options)
    assert "\n" not in str(caught.value)


def test_describe_is_one_line() -> None:
    plan = FaultPlan.from_options(faults=["429=0.05", "drop=0.03"], schedule="503,ok", seed=3, retry_after=2)
    line = plan.describe()
    assert line == "faults: 8% of requests (429 5%, drop 3%); first requests 503,ok; seed 3, Retry-After 2 s"
    assert FaultPlan().describe() == "faults: none"


# Each kind over HTTP.


@pytest.mark.parametrize(("kind", "status", "error"), [("429", 429, openai.RateLimitError),
                                                       ("500", 500, openai.InternalServerError),
                                                       ("503", 503, openai.InternalServerError)])  # fmt: skip
def test_status_faults(
    kind: FaultKind,
    status: int,
    error: type[openai.APIStatusError],
    recordings: dict[str, Record],
    article: Article,
    client_for: Any,
) -> None:
    with _serving(recordings, kind, kind, retry_after=2) as server:
        plain = _post(server, _request(article))
        with pytest.raises(error) as caught:
            _create(client_for(server), article)
    assert plain.status_code == status and plain.json()["error"]["message"]
    expected_retry_after = "2" if kind in ("429", "503") else None
    assert plain.headers.get("retry-after") == expected_retry_after
    assert caught.value.status_code == status
    assert caught.value.response.headers.get("retry-after") == expected_retry_after


def test_drop_closes_the_connection_without_a_response(
    recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "drop", "drop") as server:
        with pytest.raises(http.client.RemoteDisconnected):
            _post(server, _request(article))
        with pytest.raises(openai.APIConnectionError) as caught:
            _create(client_for(server), article)
        assert _post(server, _request(article)).status_code == 200, "the server survives"
    assert not isinstance(caught.value, openai.APITimeoutError)


def test_timeout_holds_the_request_past_the_client_timeout(
    recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "timeout", "timeout", hang=30) as server:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            _post(server, _request(article), timeout=0.3)
        with pytest.raises(openai.APITimeoutError):
            _create(client_for(server, timeout=0.3), article)
        assert time.monotonic() - started < 5, "the client gave up; it was not answered"
        assert _post(server, _request(article)).status_code == 200, "held requests do not block the others"
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5, "stopping the server ends the held requests"


def _handler_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "process_request_thread" in t.name}


@pytest.mark.parametrize("kind", ["timeout", "slow"])
def test_held_request_ends_when_the_client_hangs_up(
    kind: FaultKind, recordings: dict[str, Record], article: Article
) -> None:
    with _serving(recordings, kind, hang=60, slow_delay=60) as server:
        before = _handler_threads()
        with pytest.raises(TimeoutError):
            _post(server, _request(article), timeout=0.2)
        deadline = time.monotonic() + 3
        while _handler_threads() - before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _handler_threads() - before, "the handler thread is free long before the hang ends"
        assert server.stats.completions == 0


def test_timeout_closes_after_the_hang(recordings: dict[str, Record], article: Article) -> None:
    with _serving(recordings, "timeout", hang=0.3) as server:
        started = time.monotonic()
        with pytest.raises(http.client.RemoteDisconnected):
            _post(server, _request(article), timeout=10)
    assert 0.3 <= time.monotonic() - started < 5


def test_slow_answers_correctly_after_the_delay(
    recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "slow", slow_delay=0.4) as server:
        started = time.monotonic()
        completion = _create(client_for(server), article)
        took = time.monotonic() - started
    assert took >= 0.4
    arguments = completion.choices[0].message.tool_calls[0].function.arguments
    assert json.loads(arguments) == recordings[article.id].output
    assert server.stats.completions == 1 and server.stats.faults == {"slow": 1}


def test_malformed_is_200_with_a_body_that_is_not_json(recordings: dict[str, Record], article: Article) -> None:
    with _serving(recordings, "malformed") as server:
        response = _post(server, _request(article))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.content.startswith(b'{"id": "chatcmpl-loopback-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_malformed_reaches_the_openai_client_as_a_json_error(
    recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "malformed") as server, pytest.raises(json.JSONDecodeError):
        _create(client_for(server), article)


@pytest.mark.parametrize("tools", [True, False])
def test_invalid_is_well_formed_but_fails_the_schema(
    tools: bool, recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "invalid") as server:
        completion = _create(client_for(server), article, tools=tools)
    choice = completion.choices[0]
    if tools:
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        [call] = choice.message.tool_calls
        assert call.function.name == TOOL
        payload = call.function.arguments
    else:
        assert choice.finish_reason == "stop" and not choice.message.tool_calls
        payload = choice.message.content
    assert isinstance(json.loads(payload), dict), "valid JSON"
    with pytest.raises(ValidationError) as caught:
        ArticleExtraction.model_validate_json(payload)
    failed = {str(e["loc"][0]) for e in caught.value.errors()}
    assert {"summary", "parties", "casualties"} <= failed


@pytest.mark.parametrize("tools", [True, False])
def test_length_is_a_truncated_answer(
    tools: bool, recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "length") as server:
        completion = _create(client_for(server), article, tools=tools)
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    payload = choice.message.tool_calls[0].function.arguments if tools else choice.message.content
    full = json.dumps(recordings[article.id].output, ensure_ascii=False)
    assert full.startswith(payload) and len(payload) < len(full), "the recorded answer, cut short"
    with pytest.raises(json.JSONDecodeError):
        json.loads(payload)


def test_refusal_has_the_refusal_and_neither_content_nor_tool_call(
    recordings: dict[str, Record], article: Article, client_for: Any
) -> None:
    with _serving(recordings, "refusal") as server:
        completion = _create(client_for(server), article)
    message = completion.choices[0].message
    assert message.refusal == REFUSAL_TEXT
    assert message.content is None and not message.tool_calls
    assert completion.choices[0].finish_reason == "stop"


# Counting, and surviving.


def test_stats_count_faults_by_kind_and_the_server_survives_them_all(
    recordings: dict[str, Record], article: Article, capfd: pytest.CaptureFixture[str]
) -> None:
    schedule: list[FaultKind | None] = [*FAULT_KINDS, None]
    with _serving(recordings, *schedule, hang=0.2, slow_delay=0.05) as server:
        for _ in schedule:
            with contextlib.suppress(OSError):  # drop and timeout
                _post(server, _request(article), timeout=5)
        assert _post(server, _request(article)).status_code == 200
    summary = server.stats.summary()
    # Requests go one at a time, but a dropped or timed-out one may still be leaving its handler when the next
    # arrives, so the most in flight is 1 or 2 depending on thread scheduling.
    assert summary["max_in_flight"] in {1, 2}
    assert {k: v for k, v in summary.items() if k != "max_in_flight"} == {
        "requests": len(FAULT_KINDS) + 2,
        "completions": 3,  # slow, ok, and the last one
        "not_found": 0,
        "faults_injected": len(FAULT_KINDS),
        "faults": dict.fromkeys(FAULT_KINDS, 1),
        "rate_limited": 0,  # no limits set: an injected 429 is a fault, not a refusal
    }
    assert list(summary["faults"]) == list(FAULT_KINDS)
    assert server.stats.describe().startswith(
        f"{len(FAULT_KINDS) + 2} request(s): 3 answered from recordings, {len(FAULT_KINDS)} fault(s) injected (429: 1"
    )
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == "", "no tracebacks or logs without --verbose"


def test_slow_answer_to_a_client_that_gave_up_is_quiet(
    recordings: dict[str, Record], article: Article, capfd: pytest.CaptureFixture[str]
) -> None:
    with _serving(recordings, "slow", slow_delay=0.5) as server:
        with pytest.raises(TimeoutError):
            _post(server, _request(article), timeout=0.1)
        time.sleep(0.7)  # the handler now writes to a closed connection
        assert _post(server, _request(article)).status_code == 200
    assert capfd.readouterr().err == ""


def test_verbose_logs_request_lines_never_headers(
    recordings: dict[str, Record], article: Article, capfd: pytest.CaptureFixture[str]
) -> None:
    with LoopbackServer(recordings, faults=FaultPlan(schedule=["drop", "429"]), verbose=True) as server:
        for _ in range(3):
            with contextlib.suppress(OSError):
                _post(server, _request(article))
    err = capfd.readouterr().err
    assert "POST /v1/chat/completions" in err and '" 429 ' in err
    assert FAKE_KEY not in err and "Authorization" not in err


def test_fail_first_still_leads_with_503s(recordings: dict[str, Record], article: Article) -> None:
    with LoopbackServer(recordings, fail_first=2, faults=FaultPlan(schedule=["429"], retry_after=3)) as server:
        assert server.injected_failures_left() == 2
        answers = [_post(server, _request(article)) for _ in range(4)]
        assert server.injected_failures_left() == 0
    assert [a.status_code for a in answers] == [503, 503, 429, 200]
    assert answers[0].headers["retry-after"] == "3", "the plan's Retry-After"
    assert server.stats.injected_failures == 3 and server.stats.faults == {"503": 2, "429": 1}
    with LoopbackServer(recordings, fail_first=1) as alone:
        assert _post(alone, _request(article)).headers["retry-after"] == "0", "as before: retry at once"


def test_faults_apply_to_chat_completions_only(recordings: dict[str, Record]) -> None:
    with _serving(recordings, "drop") as server:
        models = _send(f"{server.url}/models", "GET")
        assert models.status_code == 200
        assert server.faults.drawn == 0


# The serve command.


def test_serve_prints_the_plan_and_on_interrupt_the_counts(article: Article) -> None:
    port = free_port()
    command = [sys.executable, "-m", "summarizer", "serve", "--recordings", str(RECORDINGS), "--port", str(port),
               "--fault-schedule", "429,drop,ok", "--fault", "500=0.5", "--fault-seed", "1"]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        assert proc.stderr is not None
        assert f"127.0.0.1:{port}/v1" in proc.stderr.readline()
        plan = proc.stderr.readline()
        assert plan.startswith("faults: 50% of requests (500 50%); first requests 429,drop,ok; seed 1")
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        statuses = []
        for _ in range(3):
            try:
                statuses.append(_send(url, body=_request(article), timeout=10).status_code)
            except http.client.RemoteDisconnected:
                statuses.append(0)
        assert statuses == [429, 0, 200]
    finally:
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=10)
    assert "3 request(s): 1 answered from recordings, 2 fault(s) injected (429: 1, drop: 1)" in rest
    assert "Traceback" not in rest


def test_serve_bad_fault_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["serve", "--recordings", str(RECORDINGS), "--fault", "429=2"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: fault options: fault rate for 429 is 2.0")


def test_stats_route_reports_counts_without_counting_itself(recordings: dict[str, Record]) -> None:
    import urllib.request

    plan = FaultPlan(schedule=["503"])
    with LoopbackServer(recordings, faults=plan) as server:
        client = openai.OpenAI(base_url=server.url, api_key=FAKE_KEY, max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "<article_text>x</article_text>"}]
            )
        with urllib.request.urlopen(f"{server.url}/_stats", timeout=5) as response:
            first = json.load(response)
        with urllib.request.urlopen(f"{server.url}/_stats", timeout=5) as response:
            second = json.load(response)
    assert first["requests"] == 1 and first["faults"] == {"503": 1}
    assert second == first, "reading the counts is not a request"


def test_latency_counts_from_the_request_s_arrival_so_the_server_s_own_work_is_inside_it(
    recordings: dict[str, Record], article: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = LoopbackServer(recordings, latency=0.5)
    waits: list[float] = []
    real_lookup, real_wait = server._lookup, server._stopping.wait

    def slow_lookup(request: dict[str, Any]) -> tuple[str | None, Record | None]:
        time.sleep(0.2)
        return real_lookup(request)

    def recorded_wait(timeout: float | None = None) -> bool:
        waits.append(-1.0 if timeout is None else timeout)
        return real_wait(timeout)

    monkeypatch.setattr(server, "_lookup", slow_lookup)
    monkeypatch.setattr(server._stopping, "wait", recorded_wait)
    with server:
        response = _post(server, _request(article))
    assert response.status_code == 200
    assert len(waits) == 1 and 0 <= waits[0] <= 0.5 - 0.2
