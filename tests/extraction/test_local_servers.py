"""The client against servers that are not OpenAI: the loopback server plays their quirks (a tool_choice object
refused or ignored, the tools left out of the prompt, a request held while generating, a loop to the context
limit, a garbage answer), and each ends in an extraction or in one line that says why and what to change."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from summarizer.config import Settings
from summarizer.errors import ConfigError, InvalidResponseError, TransportError
from summarizer.extraction.client import Extractor
from summarizer.extraction.cost import fixed_prompt_estimate
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record, estimate_tokens
from summarizer.ingest.articles import Article, load_articles
from summarizer.replay.faults import FaultKind, FaultPlan, Quirks
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, ROOT, free_port, scripted_endpoint

BRACES = ROOT / "fixtures" / "braces"


def extract_one(settings: Settings, article: Article, **options: Any) -> Record:
    async def go() -> Record:
        async with Extractor(settings, load_prompts(), **options) as extractor:
            return await extractor.extract(article, "k-test")

    return asyncio.run(go())


def extract_two(settings: Settings, articles: list[Article]) -> list[Record]:
    """Two articles one after the other through one Extractor, as a run sends them."""

    async def go() -> list[Record]:
        async with Extractor(settings, load_prompts()) as extractor:
            return [await extractor.extract(a, f"k-{a.id}") for a in articles]

    return asyncio.run(go())


@pytest.fixture
def article() -> Article:
    return load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]


def _serving(recordings: dict[str, Record], *steps: FaultKind | None, **options: Any) -> LoopbackServer:
    timing = {k: options.pop(k) for k in ("hang", "slow_delay", "retry_after") if k in options}
    return LoopbackServer(recordings, faults=FaultPlan(schedule=steps, **timing), **options)


# Tools.


def test_a_server_that_ignores_the_named_tool_choice_gets_required_from_then_on(
    recordings: dict[str, Record], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    articles = load_articles([ARTICLES]).articles[:2]
    with (
        caplog.at_level("INFO", logger="summarizer"),
        LoopbackServer(recordings, quirks=Quirks(tool_choice="ignore")) as server,
    ):
        first, second = extract_two(settings.replace(base_url=server.url), articles)
    assert first.output == recordings[articles[0].id].output and second.output == recordings[articles[1].id].output
    assert (first.response.attempts, second.response.attempts) == (2, 1), "asked again once, then at once"
    assert server.stats.requests == 3 and server.stats.completions == 3
    assert [r.message for r in caplog.records].count(
        f'{server.url} ignored the tool_choice that names the tool; sending tool_choice "required" from now on'
    ) == 1


def test_a_server_that_refuses_the_named_tool_choice_gets_required(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    with LoopbackServer(recordings, quirks=Quirks(tool_choice="refuse")) as server:
        record = extract_one(settings.replace(base_url=server.url), article)
    assert record.output == recordings[article.id].output
    assert record.response.attempts == 2 and server.stats.requests == 2 and server.stats.completions == 1


def test_a_server_that_dropped_the_tools_ends_the_run_with_the_mode_to_use(tmp_path: Path) -> None:
    articles = load_articles([ARTICLES]).articles
    from summarizer.extraction.records import read_recordings

    with LoopbackServer(read_recordings(ROOT / "fixtures" / "recordings"), quirks=Quirks(drop_tools=True)) as server:
        settings = Settings(api_key=FAKE_KEY, base_url=server.url, cache_dir=tmp_path / "cache", concurrency=1)
        started = time.monotonic()
        with Pipeline(settings) as pipeline, pytest.raises(ConfigError) as caught:
            pipeline.run(articles)
    message = str(caught.value)
    assert message.startswith(f"{server.url} left the tools out of the prompt (")
    assert message.endswith("use --mode json_schema (or --mode json)") and "\n" not in message
    assert server.stats.requests == 1, "the first answer tells; nothing more is sent"
    assert time.monotonic() - started < 10


def test_the_same_server_in_json_schema_mode_extracts(recordings: dict[str, Record], settings: Settings) -> None:
    article = load_articles([ARTICLES]).articles[0]
    with LoopbackServer(recordings, quirks=Quirks(drop_tools=True, tool_choice="ignore")) as server:
        record = extract_one(settings.replace(base_url=server.url, mode="json_schema"), article)
    assert record.output == recordings[article.id].output and record.response.attempts == 1


# Time.


def test_a_request_held_while_generating_fails_once_with_the_fix(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    # The `slow` fault holds the connection open and answers late, as a busy one-slot server does.
    with _serving(recordings, "slow", "slow", "slow", slow_delay=30) as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            extract_one(settings.replace(base_url=server.url, timeout=0.5, max_attempts=5), article)
        took = time.monotonic() - started
    assert str(caught.value) == (
        f"{server.url} is generating slower than --timeout allows: no answer within 0.5 s; "
        "raise --timeout or lower --concurrency"
    )
    assert caught.value.attempts == 1 and server.stats.requests == 1, "not sent again as to a dead server"
    assert took < 5


def test_a_server_that_is_not_there_is_tried_again(settings: Settings, article: Article) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(TransportError) as caught:
        extract_one(settings.replace(base_url=url, max_attempts=3), article, backoff_initial=0.01)
    assert caught.value.attempts == 3
    assert str(caught.value).startswith(f"gave up after 3 attempt(s): cannot reach {url}: connection refused")


def test_a_transport_fault_in_a_re_ask_repeats_the_re_ask_not_the_sequence(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    received: list[dict[str, Any]] = []
    good = _tool_answer(recordings[article.id].output)
    with _scripted([(200, _tool_answer({"summary": "<h1 class="})), (503, b"{}"), (200, good)], received) as url:
        record = extract_one(settings.replace(base_url=url, max_reasks=1), article, backoff_initial=0.01)
    assert record.output == recordings[article.id].output and record.response.attempts == 3
    first, reask, retried = (r["messages"] for r in received)
    assert len(reask) > len(first) and "summary is markup" in json.dumps(reask[len(first) :])
    assert retried == reask, "the retry sends the re-ask again"


def test_the_whole_article_stays_within_its_retry_budget(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    with _serving(recordings, "invalid", "slow", slow_delay=30) as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            extract_one(settings.replace(base_url=server.url, timeout=20, retry_budget=1.0), article)
        took = time.monotonic() - started
    assert 1.0 <= took < 4
    assert str(caught.value) == (
        f"gave up after 2 attempt(s): the article's retry budget of 1 s ran out while {server.url} was still "
        "generating; raise SUMMARIZER_RETRY_BUDGET or lower --concurrency"
    )


def test_no_retry_starts_after_the_budget(recordings: dict[str, Record], settings: Settings, article: Article) -> None:
    unavailable: list[FaultKind | None] = ["503"] * 20
    with _serving(recordings, *unavailable, retry_after=0.4) as server:
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"gave up after \d attempt\(s\): .* answered 503"):
            extract_one(settings.replace(base_url=server.url, retry_budget=1.0, max_attempts=20), article)
    assert time.monotonic() - started < 1.5 and server.stats.requests <= 4


# Answers that end too early or too late.


@pytest.mark.parametrize(
    ("max_tokens", "reason"),
    [
        (600, "the answer was cut off at --max-tokens 600 while repeating itself (a looping model stops there); "
              "raise --max-tokens if the article needs a longer answer"),
        (None, "the answer was cut off while repeating itself when the server's context filled ("),
        (20_000, "the answer was cut off while repeating itself when the server's context filled ("),
    ],
)  # fmt: skip
def test_a_loop_is_cut_off_and_the_error_says_by_what(
    max_tokens: int | None, reason: str, recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    loose = settings.model_copy(update={"max_tokens": max_tokens})
    with (
        _serving(recordings, "loop", quirks=Quirks(context=8192)) as server,
        pytest.raises(InvalidResponseError) as caught,
    ):
        extract_one(loose.replace(base_url=server.url), article)
    assert str(caught.value).startswith(reason)
    assert caught.value.attempts == 1, "a cut-off answer is not re-asked"
    assert caught.value.raw_answer is not None and caught.value.raw_answer.startswith('{"summary": "The talks will')
    if max_tokens is None or max_tokens > 8192:
        assert str(caught.value).endswith(
            "give the server a larger context (see docs/local-servers.md) or lower --max-tokens"
        )
        assert caught.value.prompt_tokens + caught.value.completion_tokens == 8192


def test_the_default_cap_stops_a_loop_inside_an_8k_context(recordings: dict[str, Record], settings: Settings) -> None:
    article = load_articles([ARTICLES]).articles[0]
    with (
        _serving(recordings, "loop", quirks=Quirks(context=8192)) as server,
        pytest.raises(InvalidResponseError, match=r"cut off at --max-tokens 4,096") as caught,
    ):
        extract_one(settings.replace(base_url=server.url), article)
    assert caught.value.prompt_tokens + caught.value.completion_tokens < 8192


# Garbage.


def test_garbage_is_re_asked_then_failed_and_never_cached(recordings: dict[str, Record], tmp_path: Path) -> None:
    articles = load_articles([ARTICLES]).articles[:1]
    with _serving(recordings, "garbage", "garbage", "garbage") as server:
        settings = Settings(api_key=FAKE_KEY, base_url=server.url, cache_dir=tmp_path / "cache", max_reasks=2)
        with Pipeline(settings) as pipeline:
            [result] = pipeline.run(articles)
            assert pipeline.cached(articles[0])[1] is None, "nothing cached"
    assert result.outcome == "failed" and result.record is None and result.attempts == 3
    assert result.error is not None and result.error.startswith(
        "answer failed validation after 3 attempt(s): answer: Value error, summary is markup or code, not prose"
    )
    assert "the answer names no actor" in result.error
    assert result.exception is not None and result.exception.raw_answer == '{"summary": "<h1 class="}'


def test_garbage_then_a_sound_answer_is_an_extraction(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    with _serving(recordings, "garbage") as server:
        record = extract_one(settings.replace(base_url=server.url), article)
    assert record.output == recordings[article.id].output and record.response.attempts == 2


def test_a_quote_not_in_the_article_is_re_asked_with_the_reason(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    good = recordings[article.id].output
    invented = [{**good["parties"][0], "evidence": "Both sides signed a lasting peace treaty."}, *good["parties"][1:]]
    received: list[dict[str, Any]] = []
    answers = [(200, _tool_answer({**good, "parties": invented})), (200, _tool_answer(good))]
    with _scripted(answers, received) as url:
        record = extract_one(settings.replace(base_url=url), article)
    assert record.output == good and record.response.attempts == 2
    reask = json.dumps(received[1]["messages"][len(received[0]["messages"]) :])
    assert "1 evidence quote(s) not in the article: parties.0.evidence 'Both sides signed a lasting peace" in reask


def test_the_rejected_answer_is_in_the_verbose_log(
    recordings: dict[str, Record], settings: Settings, article: Article, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="summarizer"), _serving(recordings, "garbage") as server:
        extract_one(settings.replace(base_url=server.url), article)
    assert f'{article.id}: the rejected answer: {{"summary": "<h1 class="}}' in [r.message for r in caplog.records]


# What the model is sent.


@pytest.mark.parametrize("mode", ["tools", "json", "json_schema", "md_json"])
def test_template_delimiters_in_an_article_reach_the_server_as_written(mode: str, settings: Settings) -> None:
    article = load_articles([BRACES / "article.md"]).articles[0]
    assert "{{ placeholder }}" in article.text and "{% if withdrawal %}" in article.text
    output = json.loads((BRACES / "output.json").read_text(encoding="utf-8"))
    received: list[dict[str, Any]] = []
    answer = _tool_answer(output) if mode == "tools" else _content_answer(output, fenced=mode == "md_json")
    with _scripted([(200, answer)], received) as url:
        record = extract_one(settings.replace(base_url=url, mode=mode), article)
    assert record.output == output
    [request] = received
    user = request["messages"][1]["content"]
    assert article.text in user and article.title in user


def test_the_field_guide_is_sent_where_the_schema_is_only_a_grammar(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    systems = {}
    for mode in ("tools", "json_schema"):
        received: list[dict[str, Any]] = []
        answer = (
            _tool_answer(recordings[article.id].output)
            if mode == "tools"
            else _content_answer(recordings[article.id].output)
        )
        with _scripted([(200, answer)], received) as url:
            extract_one(settings.replace(base_url=url, mode=mode), article)
        systems[mode] = received[0]["messages"][0]["content"]
    guide = "- figure_text (string, required): The article's words for the number"
    assert guide in systems["json_schema"] and guide not in systems["tools"]
    assert systems["json_schema"].startswith(systems["tools"])


@pytest.mark.parametrize("mode", ["tools", "json", "json_schema", "md_json"])
def test_the_cost_line_s_overhead_follows_the_mode(
    mode: str, recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    output = recordings[article.id].output
    received: list[dict[str, Any]] = []
    answer = _tool_answer(output) if mode == "tools" else _content_answer(output, fenced=mode == "md_json")
    with _scripted([(200, answer)], received) as url:
        extract_one(settings.replace(base_url=url, mode=mode), article)
    [request] = received
    prompts = load_prompts()
    published = article.published.isoformat() if article.published else None
    filled = prompts.render_user(title=article.title, text=article.text, published=published, outlet=article.outlet)
    empty = prompts.render_user(title="", text="", published=None, outlet=None)
    # What reaches the model's prompt: the messages, and the tools where the server renders them into it. A
    # json_schema response format is a grammar on local servers, not prompt.
    texts = [str(m["content"]).replace(filled, empty) for m in request["messages"]]
    assert sum(filled in str(m["content"]) for m in request["messages"]) == 1
    sent = sum(estimate_tokens(text) for text in texts)
    if mode == "tools":
        sent += estimate_tokens(json.dumps(request["tools"][0]["function"]["parameters"], separators=(",", ":")))
    estimate = fixed_prompt_estimate(prompts, mode)
    assert estimate == pytest.approx(sent, rel=0.03)
    assert mode != "json_schema" or estimate < fixed_prompt_estimate(prompts, "tools") * 0.7


# A scripted endpoint: fixed answers in order, every request body kept.


def _tool_answer(output: dict[str, Any]) -> bytes:
    call = {"id": "c1", "type": "function", "function": {"name": "ArticleExtraction", "arguments": json.dumps(output)}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return _completion(message, "tool_calls")


def _content_answer(output: dict[str, Any], *, fenced: bool = False) -> bytes:
    text = json.dumps(output)
    return _completion({"role": "assistant", "content": f"```json\n{text}\n```" if fenced else text}, "stop")


def _completion(message: dict[str, Any], finish: str) -> bytes:
    answer = {"id": "a1", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "finish_reason": finish, "message": message}],
              "usage": {"prompt_tokens": 3000, "completion_tokens": 500, "total_tokens": 3500}}  # fmt: skip
    return json.dumps(answer).encode()


def _scripted(
    answers: list[tuple[int, bytes]], received: list[dict[str, Any]]
) -> contextlib.AbstractContextManager[str]:
    """An endpoint giving ``answers`` (status, body) in order, the last one again once they run out, keeping
    each request's JSON in ``received``."""
    return scripted_endpoint(answers, lambda body: received.append(json.loads(body)))
