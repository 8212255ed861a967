"""The real client over real HTTP against the loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from summarizer.config import Settings
from summarizer.errors import ConfigError, ExtractionError, InvalidResponseError, TransportError
from summarizer.extraction.client import Extractor, tls_context
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record
from summarizer.ingest.articles import Article, load_articles
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, ROOT, scripted_endpoint


def extract_one(settings: Settings, article: Article, **options: Any) -> Record:
    """One article through a fresh Extractor, as the pipeline uses it."""

    async def go() -> Record:
        async with Extractor(settings, load_prompts(), **options) as extractor:
            return await extractor.extract(article, "k-test")

    return asyncio.run(go())


@pytest.fixture
def article() -> Article:
    return load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]


@pytest.mark.parametrize("mode", ["tools", "json", "json_schema", "md_json"])
def test_each_mode_round_trips_the_recording(
    mode: str, settings: Settings, server: LoopbackServer, recordings: dict[str, Record], article: Article
) -> None:
    record = extract_one(settings.replace(mode=mode), article)
    expected = recordings[article.id]
    assert record.output == expected.output
    assert record.extraction() == expected.extraction()
    assert record.origin == "recorded", "the client does not tell a replayed answer from a live one"
    assert record.request.article_id == article.id and record.request.mode == mode
    assert record.response.usage is not None and record.response.usage.total_tokens > 0
    assert record.response.attempts == 1
    assert server.stats.completions == 1


def test_transport_faults_are_retried(recordings: dict[str, Record], settings: Settings, article: Article) -> None:
    with LoopbackServer(recordings, fail_first=2) as flaky:
        record = extract_one(settings.replace(base_url=flaky.url), article, backoff_initial=0.01)
    assert flaky.stats.injected_failures == 2
    assert record.response.attempts == 3


def test_transport_retries_are_bounded(recordings: dict[str, Record], settings: Settings, article: Article) -> None:
    with (
        LoopbackServer(recordings, fail_first=100) as down,
        pytest.raises(ExtractionError, match=r"gave up after 3 attempt") as caught,
    ):
        extract_one(settings.replace(base_url=down.url, max_attempts=3), article, backoff_initial=0.01)
    assert down.stats.injected_failures == 3
    assert caught.value.attempts == 3 and caught.value.prompt_tokens == 0, "no answer, so no tokens billed"


def test_schema_failures_are_reasked_then_reported(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    good = recordings[article.id]
    broken_claim = {"kind": "killed", "figure_text": "23", "low": 30, "best": 23, "victims": "soldiers",
                    "evidence": "losing 23 soldiers"}  # fmt: skip
    broken = good.model_copy(update={"output": {**good.output, "casualties": [broken_claim]}})
    with (
        LoopbackServer({article.id: broken}) as server,
        pytest.raises(InvalidResponseError, match=r"after 3 attempt.*low <= best <= high") as caught,
    ):
        extract_one(settings.replace(base_url=server.url, max_reasks=2), article)
    assert server.stats.completions == 3, "one request and two re-asks"
    assert caught.value.prompt_tokens > 0 and caught.value.completion_tokens > 0, "failed answers are billed too"


def test_missing_recording_is_an_extraction_error(settings: Settings) -> None:
    from summarizer.app.api import make_article

    with pytest.raises(ExtractionError, match="no recording for article"):
        extract_one(settings, make_article("An article nobody recorded."))


def test_rejected_key_is_a_config_error(recordings: dict[str, Record], settings: Settings, article: Article) -> None:
    with (
        LoopbackServer(recordings, require_key="the-right-test-key") as guarded,
        pytest.raises(ConfigError, match="rejected the API key") as caught,
    ):
        extract_one(settings.replace(base_url=guarded.url), article)
    assert FAKE_KEY not in str(caught.value)


def test_no_key_names_every_way_out(settings: Settings) -> None:
    with pytest.raises(ConfigError) as caught:
        Extractor(Settings(cache_dir=settings.cache_dir), load_prompts())
    message = str(caught.value)
    assert all(part in message for part in ("OPENAI_API_KEY", "--base-url", "--replay"))


def test_clients_share_one_tls_context_so_the_certificates_are_loaded_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loads: list[object] = []
    real_load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real_load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls_context.cache_clear()
    settings = Settings(api_key=FAKE_KEY, base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path)
    Extractor(settings, load_prompts())
    after_one = len(loads)
    for changed in (settings, settings.replace(rpm=60), settings.replace(concurrency=2)):
        Extractor(changed, load_prompts())
    assert after_one > 0 and len(loads) == after_one


def _answering(
    answers: bytes | list[bytes], received: list[bytes] | None = None
) -> contextlib.AbstractContextManager[str]:
    """An endpoint that answers each request with the next of ``answers`` (HTTP 200; the last one again once
    they run out), keeping the requests' bodies in ``received``."""
    bodies = [answers] if isinstance(answers, bytes) else answers
    return scripted_endpoint([(200, body) for body in bodies], received.append if received is not None else None)


def test_an_answer_looser_than_openai_s_type_is_still_read(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    # No "created" or "object", and a finish reason openai's type does not list, as some local servers answer.
    output = recordings[article.id].output
    call = {"id": "c1", "type": "function", "function": {"name": "ArticleExtraction", "arguments": json.dumps(output)}}
    answer = {"id": "local-1", "model": "local-model", "usage": {"prompt_tokens": 900, "completion_tokens": 300},
              "choices": [{"index": 0, "finish_reason": "eos",
                           "message": {"role": "assistant", "content": None, "tool_calls": [call]}}]}  # fmt: skip
    with _answering(json.dumps(answer).encode()) as url:
        record = extract_one(settings.replace(base_url=url), article)
    assert record.output == output and record.extraction() == recordings[article.id].extraction()
    assert record.response.model == "local-model" and record.response.finish_reason == "eos"
    assert record.response.usage is not None and record.response.usage.prompt_tokens == 900


def test_an_answer_cut_off_on_the_way_is_a_transport_fault(settings: Settings, article: Article) -> None:
    with (
        _answering(b'{"id": "cut') as url,
        pytest.raises(TransportError, match=r"gave up after 2 attempt") as caught,
    ):
        extract_one(settings.replace(base_url=url, max_attempts=2, max_reasks=0), article, backoff_initial=0.01)
    assert caught.value.attempts == 2


@pytest.mark.parametrize("body", [b"[]", b'"an answer"'])
def test_json_that_is_not_a_completion_is_an_invalid_response(
    body: bytes, settings: Settings, article: Article, recwarn: pytest.WarningsRecorder
) -> None:
    with _answering(body) as url, pytest.raises(InvalidResponseError, match=r"after 1 attempt") as caught:
        extract_one(settings.replace(base_url=url, max_reasks=0), article)
    assert caught.value.attempts == 1 and caught.value.prompt_tokens == 0
    assert [str(w.message) for w in recwarn if "handler" in str(w.message)] == [], "the hooks read any answer"


def _tool_answer(output: dict[str, Any], usage: tuple[int, int] | None = None) -> bytes:
    call = {"id": "c1", "type": "function", "function": {"name": "ArticleExtraction", "arguments": json.dumps(output)}}
    choice = {"index": 0, "finish_reason": "tool_calls",
              "message": {"role": "assistant", "content": None, "tool_calls": [call]}}  # fmt: skip
    answer: dict[str, Any] = {"id": "a1", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}
    if usage is not None:
        prompt, completion = usage
        answer["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion}  # fmt: skip
    return json.dumps(answer).encode()


def test_tokens_and_requests_are_summed_over_a_re_ask(
    recordings: dict[str, Record], settings: Settings, article: Article
) -> None:
    good = recordings[article.id].output
    failing = {**good, "casualties": [{"kind": "killed", "figure_text": "many", "low": "many"}]}
    answers = [_tool_answer(failing, (1000, 100)), _tool_answer(good, (1300, 120))]
    with _answering(answers) as url:
        record = extract_one(settings.replace(base_url=url, max_reasks=1), article)
    assert record.output == good and record.response.attempts == 2
    assert record.response.usage is not None
    assert (record.response.usage.prompt_tokens, record.response.usage.completion_tokens) == (2300, 220)


def test_each_request_carries_its_article_and_the_schema(recordings: dict[str, Record], settings: Settings) -> None:
    articles = load_articles([ARTICLES]).articles[:2]
    received: list[bytes] = []

    async def extract_both(url: str) -> None:
        async with Extractor(settings.replace(base_url=url), load_prompts()) as extractor:
            for a in articles:
                await extractor.extract(a, f"k-{a.id}")

    with _answering([_tool_answer(recordings[a.id].output) for a in articles], received) as url:
        asyncio.run(extract_both(url))
    assert len(received) == 2
    sent = [json.loads(body) for body in received]
    for parsed, a in zip(sent, articles, strict=True):
        assert a.text.splitlines()[0] in parsed["messages"][1]["content"]
        [tool] = parsed["tools"]
        assert tool["function"]["name"] == "ArticleExtraction" and "casualties" in json.dumps(tool)
    assert sent[0]["tools"] == sent[1]["tools"] and sent[0]["messages"] != sent[1]["messages"]


# Run in a fresh interpreter, so that what the libraries look like is not what other tests left behind.
_LIBRARIES_AS_SHIPPED = """
import inspect, json, logging, sys, types
from pathlib import Path

from summarizer.config import Settings
from summarizer.extraction.client import Extractor
from summarizer.extraction.prompts import load_prompts

settings = Settings(api_key="a-key-for-no-request", base_url="http://127.0.0.1:9/v1", cache_dir=Path(sys.argv[1]))
extractor = Extractor(settings, load_prompts())
changed = []
libraries = {"instructor", "openai", "httpx2", "httpcore2", "tenacity", "pydantic"}
for name, module in list(sys.modules.items()):
    if module is None or name.partition(".")[0] not in libraries:
        continue
    namespaces = [(name, vars(module))]
    namespaces += [(f"{name}.{key}", vars(value)) for key, value in list(vars(module).items())
                   if inspect.isclass(value) and value.__module__ == name]
    for where, namespace in namespaces:
        for key, value in list(namespace.items()):
            if isinstance(value, classmethod | staticmethod | types.MethodType):
                value = value.__func__
            if isinstance(value, types.FunctionType) and (value.__module__ or "").startswith("summarizer"):
                changed.append(f"{where}.{key}")
completions = extractor._openai.chat.completions
if "create" in vars(completions) or completions.create.__func__ is not type(completions).create:
    changed.append("AsyncOpenAI().chat.completions.create")
loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.Logger.manager.loggerDict
                                  if name.partition(".")[0] in libraries)]
changed += [f"handlers of logger {logger.name!r}" for logger in loggers if logger.handlers]
print(json.dumps(changed))
"""


def test_the_client_leaves_openai_and_instructor_as_they_ship(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LIBRARIES_AS_SHIPPED, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], "library code replaced, or a handler added to a library's or the root logger"
