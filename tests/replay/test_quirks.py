"""The loopback server playing local servers: its quirks (tool_choice refused or ignored, tools dropped, a context
size) and the faults a small model adds (a loop to the limit, garbage), as a plain HTTP client sees them."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest

from summarizer.extraction.records import Record
from summarizer.ingest.articles import Article, load_articles
from summarizer.replay.answers import GARBAGE_OUTPUT, TOOL_CHOICE_REFUSED
from summarizer.replay.faults import FaultKind, FaultPlan, Quirks
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, free_port, interruptible

TOOL = "ArticleExtraction"
NAMED: dict[str, Any] = {"type": "function", "function": {"name": TOOL}}


@pytest.fixture
def article() -> Article:
    return load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]


def _request(article: Article, tool_choice: object = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "test-model",
        "messages": [{"role": "user", "content": f"Extract.\n<article_text>\n{article.text}\n</article_text>"}],
        **extra,
    }
    if tool_choice is not None:
        body["tools"] = [{"type": "function", "function": {"name": TOOL, "parameters": {"type": "object"}}}]
        body["tool_choice"] = tool_choice
    return body


def _post(server: LoopbackServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {FAKE_KEY}", "Content-Type": "application/json"}
        connection.request("POST", f"{parts.path}/chat/completions", body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _serving(recordings: dict[str, Record], *steps: FaultKind | None, **quirks: Any) -> LoopbackServer:
    return LoopbackServer(recordings, faults=FaultPlan(schedule=steps), quirks=Quirks(**quirks))


def test_a_refusing_server_answers_400_to_a_named_tool_and_takes_required(
    recordings: dict[str, Record], article: Article
) -> None:
    with _serving(recordings, tool_choice="refuse") as server:
        refused = _post(server, _request(article, NAMED))
        taken = _post(server, _request(article, "required"))
    assert refused[0] == 400 and refused[1]["error"]["message"] == TOOL_CHOICE_REFUSED
    assert taken[0] == 200 and taken[1]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == TOOL


def test_an_ignoring_server_answers_a_named_tool_in_words_and_required_with_the_tool(
    recordings: dict[str, Record], article: Article
) -> None:
    with _serving(recordings, tool_choice="ignore") as server:
        _, ignored = _post(server, _request(article, NAMED))
        _, required = _post(server, _request(article, "required"))
    words = ignored["choices"][0]["message"]
    assert not words.get("tool_calls") and recordings[article.id].output["summary"] in words["content"]
    [call] = required["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == recordings[article.id].output


def test_a_server_that_drops_the_tools_answers_in_words_and_bills_no_tools(
    recordings: dict[str, Record], article: Article
) -> None:
    # An authored recording carries no usage, so both servers estimate the prompt from what they were sent.
    big_tools = {"type": "object", "description": "x" * 8000}
    body = _request(article, "required")
    body["tools"][0]["function"]["parameters"] = big_tools
    with _serving(recordings) as keeps, _serving(recordings, drop_tools=True) as drops:
        _, kept = _post(keeps, body)
        _, dropped = _post(drops, body)
    assert kept["choices"][0]["message"]["tool_calls"]
    assert not dropped["choices"][0]["message"].get("tool_calls") and dropped["choices"][0]["message"]["content"]
    assert kept["usage"]["prompt_tokens"] - dropped["usage"]["prompt_tokens"] >= 2000


@pytest.mark.parametrize(("max_tokens", "expected"), [(500, 500), (None, None), (100_000, None)])
def test_a_loop_runs_to_max_tokens_or_the_context(
    max_tokens: int | None, expected: int | None, recordings: dict[str, Record], article: Article
) -> None:
    extra = {"max_tokens": max_tokens} if max_tokens is not None else {}
    with _serving(recordings, "loop", context=6000) as server:
        status, body = _post(server, _request(article, **extra))
    assert status == 200 and body["choices"][0]["finish_reason"] == "length"
    usage = body["usage"]
    if expected is None:
        assert usage["prompt_tokens"] + usage["completion_tokens"] == 6000, "the context filled"
    else:
        assert usage["completion_tokens"] == expected
    text = body["choices"][0]["message"]["content"]
    assert len(text) == 4 * usage["completion_tokens"] and text.count("The talks will resume") > 10


def test_length_is_cut_at_the_request_s_cap(recordings: dict[str, Record], article: Article) -> None:
    with _serving(recordings, "length") as server:
        _, body = _post(server, _request(article, max_tokens=321))
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 321


@pytest.mark.parametrize("tools", [True, False])
def test_garbage_is_json_that_passes_the_schema(tools: bool, recordings: dict[str, Record], article: Article) -> None:
    from summarizer.extraction.schema import ArticleExtraction

    with _serving(recordings, "garbage") as server:
        _, body = _post(server, _request(article, NAMED if tools else None))
    message = body["choices"][0]["message"]
    payload = message["tool_calls"][0]["function"]["arguments"] if tools else message["content"]
    assert json.loads(payload) == GARBAGE_OUTPUT
    assert ArticleExtraction.model_validate_json(payload).summary == "<h1 class="


def test_quirks_are_checked() -> None:
    with pytest.raises(ValueError, match="tool_choice 'maybe': use one of accept, refuse, ignore"):
        Quirks(tool_choice="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context is 0"):
        Quirks(context=0)


def test_serve_plays_the_quirks_it_is_given_and_says_so(article: Article) -> None:
    port = free_port()
    command = [sys.executable, "-m", "summarizer", "serve", "--recordings", str(RECORDINGS), "--port", str(port),
               "--tool-choice", "refuse", "--context", "4096"]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        assert proc.stderr is not None
        assert f"127.0.0.1:{port}/v1" in proc.stderr.readline()
        assert proc.stderr.readline().startswith("faults: none")
        assert proc.stderr.readline().strip() == "server: tool_choice naming the tool: refuse; context 4,096 tokens"
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("POST", parts.path, body=json.dumps(_request(article, NAMED)).encode())
        assert connection.getresponse().status == 400
        connection.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


def test_serve_help_lists_every_fault_kind_and_quirk() -> None:
    from typer.testing import CliRunner

    from summarizer.app.cli import app
    from summarizer.replay.faults import FAULT_KINDS, TOOL_CHOICE_QUIRKS

    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "300"}, terminal_width=300)
    assert result.exit_code == 0
    listed = result.stdout.split("(repeatable):", 1)[1].split(". Example", 1)[0]
    assert [kind.strip() for kind in listed.split(",")] == list(FAULT_KINDS)
    assert f"<{'|'.join(TOOL_CHOICE_QUIRKS)}>" in result.stdout
    assert "--drop-tools" in result.stdout and "--context" in result.stdout
