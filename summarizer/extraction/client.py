"""Asks an OpenAI-compatible endpoint for articles' records, concurrently. The only module that imports
openai/instructor.

Two kinds of fault, two mechanisms: transport faults (network, timeouts, 429, 5xx) are retried by tenacity
with exponential backoff and jitter, honouring ``Retry-After``; answers that fail the schema are sent back to
the model with the validation errors by instructor's re-ask, a bounded number of times.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any

import httpx2  # openai's HTTP client library: DefaultAsyncHttpxClient is an httpx2.AsyncClient
import instructor
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from summarizer.config import NO_KEY, Settings
from summarizer.errors import ConfigError, ExtractionError
from summarizer.extraction.failures import Backoff, classify, describe, fault_text, is_transport_fault, root_cause
from summarizer.extraction.limits import RateLimiter, Slot
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import (
    CHARS_PER_TOKEN,
    Record,
    RequestInfo,
    ResponseInfo,
    Usage,
    schema_hash,
)
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article
from summarizer.logs import redact

_log = logging.getLogger(__name__)


# instructor gives a plain model a new wrapper class on every request, and its schema cache is keyed by class:
# the tool schema was rebuilt each time, about half the client's CPU a request. Wrapped once here, with
# instructor's public ``openai_schema``, every request reuses one class and one cached schema.
_RESPONSE_MODEL = instructor.openai_schema(ArticleExtraction)

_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The HTTP client's default verifying TLS context, built once per process and shared by every client:
    loading the CA certificates takes about 30 ms, which each new client (each run with misses, each API call)
    would otherwise pay again."""
    return httpx2.create_ssl_context()


_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


def _payload(completion: ChatCompletion) -> str:
    message = completion.choices[0].message
    if message.tool_calls:
        call = message.tool_calls[0]
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        if isinstance(arguments, str):
            return arguments
    return message.content or ""


def _decoded_output(completion: ChatCompletion, extraction: ArticleExtraction) -> dict[str, Any]:
    """The model's JSON as returned; the validated extraction if the raw text is not a plain JSON object."""
    text = _payload(completion)
    fenced = _FENCED.search(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError:
        value = None
    return value if isinstance(value, dict) else extraction.model_dump(mode="json")


_FIRST_COMPLETION_GUESS = 1000


@dataclass(slots=True)
class _Tally:
    """One article's requests and tokens, every attempt counted (transport retries and re-asks)."""

    article_id: str
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answered: int = 0

    def usage(self) -> Usage | None:
        """Tokens summed over every answer; None when no answer came back."""
        return Usage.of(self.prompt_tokens, self.completion_tokens) if self.answered else None


# instructor's hooks and the HTTP client's event hooks belong to the shared client, but run on the task
# of the article being extracted: these name that article's tally and the rate-limit slot of its request.
_current_tally: contextvars.ContextVar[_Tally | None] = contextvars.ContextVar("current_tally", default=None)
_current_slot: contextvars.ContextVar[Slot | None] = contextvars.ContextVar("current_slot", default=None)


class Extractor:
    """Sends articles to one OpenAI-compatible endpoint and returns their records.

    Async: open it with ``async with`` inside the event loop that will use it (its connection pool belongs to
    that loop). Every HTTP request, retries and re-asks included, first passes ``limiter``."""

    def __init__(
        self,
        settings: Settings,
        prompts: PromptSet,
        *,
        limiter: RateLimiter | None = None,
        backoff_initial: float = 1.0,
        endpoint_name: str | None = None,
    ) -> None:
        if settings.api_key is None:
            raise ConfigError(NO_KEY)
        self.settings = settings
        self.endpoint_name = endpoint_name or settings.base_url or "the OpenAI API"
        """How errors name the endpoint."""
        self.prompts = prompts
        self.limiter = limiter or RateLimiter(settings.rpm, settings.tpm)
        self._schema_hash = schema_hash()
        self._backoff_initial = backoff_initial
        self._completion_tokens_seen = 0
        self._completions_seen = 0
        # One connection per concurrent request, so none waits for a pooled connection.
        limits = httpx2.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        # The request hook sees every HTTP request the client sends, whichever layer retried it.
        http_client = openai.DefaultAsyncHttpxClient(
            event_hooks={"request": [self._before_request]}, limits=limits, verify=tls_context()
        )
        self._openai = openai.AsyncOpenAI(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=0,  # tenacity owns transport retries, so they are counted and bounded in one place
            http_client=http_client,
        )
        self._client = instructor.from_openai(self._openai, mode=_MODES[settings.mode])
        self._client.on("completion:kwargs", self._on_request)
        self._client.on("completion:response", self._on_response)
        self._client.on("parse:error", self._on_parse_error)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._openai.close()

    async def __aenter__(self) -> Extractor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _completion_guess(self) -> int:
        if self.settings.max_tokens is not None:
            return self.settings.max_tokens
        if self._completions_seen:
            return self._completion_tokens_seen // self._completions_seen
        return _FIRST_COMPLETION_GUESS

    async def _before_request(self, request: httpx2.Request) -> None:
        estimate = len(request.content) // CHARS_PER_TOKEN + self._completion_guess()
        slot = await self.limiter.acquire(estimate)
        _current_slot.set(slot)

        # The slot was stamped when the limiter let the request go; opening a connection (a TLS handshake) can
        # hold it back for a while after that. The documented "trace" extension reports when the body is out.
        async def trace(event: str, _info: dict[str, Any]) -> None:
            if event.endswith("send_request_body.complete"):
                self.limiter.sent(slot)

        request.extensions = {**request.extensions, "trace": trace}

    def messages(self, article: Article) -> list[ChatCompletionMessageParam]:
        """The chat messages sent for ``article``."""
        user = self.prompts.render_user(
            title=article.title,
            text=article.text,
            published=article.published.isoformat() if article.published else None,
            outlet=article.outlet,
        )
        return [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": user}]

    def request_info(self, article: Article) -> RequestInfo:
        """What a record of ``article`` under the current settings says was asked."""
        s = self.settings
        return RequestInfo(
            article_id=article.id,
            article_title=article.title,
            article_source=article.source,
            model=s.model,
            mode=s.mode,
            temperature=s.temperature,
            max_tokens=s.max_tokens,
            prompt_hash=self.prompts.hash,
            schema_hash=self._schema_hash,
        )

    def _on_request(self, *_: Any, **__: Any) -> None:
        tally = _current_tally.get()
        if tally is not None:
            tally.attempts += 1
            _log.debug("%s: request %d", tally.article_id, tally.attempts)

    def _on_parse_error(self, error: Exception, *_: Any, **metadata: Any) -> None:
        tally = _current_tally.get()
        if tally is None:
            return
        last = metadata.get("is_last_attempt", False)
        _log.info(
            "%s: the answer failed the schema (%s); %s",
            tally.article_id,
            describe(error),
            "no re-asks left" if last else "re-asking with the errors",
        )

    def _on_retry(self, state: RetryCallState) -> None:
        tally = _current_tally.get()
        exc = state.outcome.exception() if state.outcome else None
        if tally is None or exc is None:
            return
        wait = state.upcoming_sleep
        _log.info(
            "%s: transport fault (%s); retrying in %.1f s",
            tally.article_id,
            self._redacted(fault_text(root_cause(exc), self.endpoint_name, self.settings.timeout)),
            wait,
        )

    def _redacted(self, text: str) -> str:
        key = self.settings.api_key
        return redact(text, [key.get_secret_value()] if key is not None else [])

    def _on_response(self, completion: object) -> None:
        # openai hands back the decoded JSON as it is when the body is JSON but not an object.
        if not isinstance(completion, ChatCompletion):
            return
        usage = completion.usage
        tally = _current_tally.get()
        if usage is None or tally is None:
            return
        tally.answered += 1
        tally.prompt_tokens += usage.prompt_tokens or 0
        tally.completion_tokens += usage.completion_tokens or 0
        _log.debug(
            "%s: answer %s, %d prompt + %d completion tokens",
            tally.article_id,
            getattr(completion, "id", "?"),
            usage.prompt_tokens or 0,
            usage.completion_tokens or 0,
        )
        self._completions_seen += 1
        self._completion_tokens_seen += usage.completion_tokens or 0
        slot = _current_slot.get()
        if slot is not None:
            self.limiter.settle(slot, usage.total_tokens or 0)

    async def extract(self, article: Article, key: str) -> Record:
        """One article's record, stored under ``key``. Raises an ExtractionError subclass when none could be
        had (its ``usage`` says what the attempts cost), and ConfigError when the endpoint rejects the key or
        the model."""
        tally = _Tally(article.id)
        kwargs: dict[str, Any] = {"temperature": self.settings.temperature}
        if self.settings.max_tokens is not None:
            kwargs["max_tokens"] = self.settings.max_tokens
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transport_fault),
            stop=stop_after_attempt(self.settings.max_attempts) | stop_after_delay(self.settings.retry_budget),
            wait=Backoff(self._backoff_initial),
            before_sleep=self._on_retry,
            reraise=True,
        )
        token = _current_tally.set(tally)
        try:
            extraction: ArticleExtraction
            completion: ChatCompletion
            extraction, completion = await retrying(
                self._client.chat.completions.create_with_completion,
                model=self.settings.model,
                messages=self.messages(article),
                response_model=_RESPONSE_MODEL,
                max_retries=self.settings.max_reasks,
                **kwargs,
            )
        except Exception as exc:
            raise self._classify(exc, tally) from None
        finally:
            _current_tally.reset(token)
        return Record(
            # An answer replayed from a recording looks like any other from here; the caller that chose the
            # endpoint knows which it was and marks it.
            origin="recorded",
            key=key,
            request=self.request_info(article),
            response=ResponseInfo(
                id=completion.id,
                model=completion.model,
                finish_reason=completion.choices[0].finish_reason,
                usage=tally.usage(),
                attempts=tally.attempts,
            ),
            output=_decoded_output(completion, extraction),
        )

    def _classify(self, exc: Exception, tally: _Tally) -> ConfigError | ExtractionError:
        return classify(
            exc,
            where=self.endpoint_name,
            timeout=self.settings.timeout,
            attempts=tally.attempts,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            redacted=self._redacted,
        )
