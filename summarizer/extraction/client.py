"""Asks an OpenAI-compatible endpoint for articles' records, concurrently. With ``failures`` (which names
their errors) and ``completions`` (which reads their answers), the only module that imports openai/instructor.

Two kinds of fault, two mechanisms, one inside the other. instructor sends an answer that fails validation back
to the model with the reasons (a re-ask), a bounded number of times. Every request it sends, the first and each
re-ask, goes through ``Extractor._send``, which retries transport faults (network, 429, 5xx) with exponential
backoff and jitter, honouring ``Retry-After``: a fault repeats that one request, never the re-asks before it.
Everything sent for one article, waits included, ends within ``retry_budget``.

``_send`` also copes with servers' ways with tools: a server that refuses or ignores a ``tool_choice`` naming the
tool gets ``"required"`` from then on, and one that left the tools out of the prompt (a chat template without
tool support) ends the run with the mode to use instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx2  # openai's HTTP client library: DefaultAsyncHttpxClient is an httpx2.AsyncClient
import instructor
import openai
from instructor.core import IncompleteOutputException
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from summarizer.config import NO_KEY, Settings
from summarizer.errors import ConfigError, ExtractionError
from summarizer.extraction import completions
from summarizer.extraction.backend import Limiter
from summarizer.extraction.budget import Budget
from summarizer.extraction.failures import (
    CONNECT_TIMEOUT,
    Backoff,
    BudgetSpent,
    PastDeadline,
    ToolsDropped,
    classify,
    describe,
    fault_text,
    is_transport_fault,
    root_cause,
)
from summarizer.extraction.guide import system_message
from summarizer.extraction.limits import RateLimiter, Slot
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import CHARS_PER_TOKEN, Record, RequestInfo, ResponseInfo
from summarizer.extraction.tally import Tally
from summarizer.extraction.tasks import Task, extraction_task
from summarizer.ingest.articles import Article
from summarizer.logs import redact

_log = logging.getLogger(__name__)


# instructor gives a plain model a new wrapper class on every request, and its schema cache is keyed by class:
# the tool schema was rebuilt each time, about half the client's CPU a request. Wrapped once per answer model,
# with instructor's public ``openai_schema``, every request reuses one class and one cached schema.
_response_model = functools.cache(instructor.openai_schema)

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


_FIRST_COMPLETION_GUESS = 1000
_LOGGED_ANSWER_CHARS = 4000
"""How much of a rejected answer ``-v`` shows; ``summarizer record`` keeps the whole of the last one."""


# instructor's hooks and the HTTP client's event hooks belong to the shared client, but run on the task
# of the article being extracted: these name that article's tally and the rate-limit slot of its request.
_current_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("current_tally", default=None)
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
        limiter: Limiter | None = None,
        backoff_initial: float = 1.0,
        endpoint_name: str | None = None,
        task: Task | None = None,
    ) -> None:
        """``task`` says what is asked (default: an article's extraction, with ``prompts``)."""
        if settings.api_key is None:
            raise ConfigError(NO_KEY)
        self.settings = settings
        self.endpoint_name = endpoint_name or settings.base_url or "the OpenAI API"
        """How errors name the endpoint."""
        self.task = task or extraction_task(prompts)
        self.prompts = self.task.prompts
        self.limiter: Limiter = limiter or RateLimiter(settings.rpm, settings.tpm)
        self.budget = Budget.for_settings(settings)
        """The run's cost and token caps, kept before each request; None without caps."""
        self._backoff_initial = backoff_initial
        self._completion_tokens_seen = 0
        self._completions_seen = 0
        self._tools = settings.mode == "tools"
        self._name_the_tool = True
        """Whether tool_choice names the tool; False once the server has refused or ignored that."""
        # One connection per concurrent request, so none waits for a pooled connection.
        limits = httpx2.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        # The request hook sees every HTTP request the client sends, whichever layer retried it; the response
        # hook every answer's rate-limit headers, a 429's included.
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [self._before_request],
            "response": [self._after_response],
        }
        http_client = openai.DefaultAsyncHttpxClient(event_hooks=hooks, limits=limits, verify=tls_context())
        self._openai = openai.AsyncOpenAI(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            timeout=httpx2.Timeout(settings.timeout, connect=min(settings.timeout, CONNECT_TIMEOUT)),
            max_retries=0,  # _send owns transport retries, so they are counted and bounded in one place
            http_client=http_client,
        )
        mode = _MODES[settings.mode]
        # instructor calls `_send` for each request, re-asks included, so a transport fault repeats one request.
        self._client = instructor.AsyncInstructor(
            client=self._openai, create=instructor.patch(create=self._send, mode=mode), mode=mode
        )
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

    async def _after_response(self, response: httpx2.Response) -> None:
        self.limiter.observe(_current_slot.get(), response.headers)

    def messages(self, article: Article) -> list[ChatCompletionMessageParam]:
        """The chat messages sent for ``article`` (in ``json_schema`` mode the system message carries the field
        guide)."""
        user = self.prompts.render_user(
            title=article.title,
            text=article.text,
            published=article.published.isoformat() if article.published else None,
            outlet=article.outlet,
        )
        system = system_message(self.prompts, self.settings.mode, self.task.response_model)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

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
            schema_hash=self.task.schema_hash,
            task=self.task.name,
        )

    async def _send(self, **kwargs: Any) -> Any:
        """One request as instructor makes it (the first, or a re-ask), with the tool_choice the server takes."""
        tally = _current_tally.get()
        assert tally is not None, "requests are sent from extract() only"
        if not self._name_the_tool and isinstance(kwargs.get("tool_choice"), dict):
            kwargs = {**kwargs, "tool_choice": "required"}
        if tally.capture:
            raise completions.RequestBuilt(kwargs)
        if tally.given is not None:
            answer, tally.given = tally.given, None
            tally.attempts += 1
            tally.last_answer = answer
            self._count(answer, tally)
            return answer
        try:
            answer = await self._post(kwargs, tally)
        except openai.BadRequestError as exc:
            if not (isinstance(kwargs.get("tool_choice"), dict) and "tool_choice" in str(exc)):
                raise
            kwargs = self._stop_naming_the_tool(kwargs, "refused")
            answer = await self._post(kwargs, tally)
        if self._tools and completions.in_words(answer):
            dropped = completions.tools_left_out(kwargs, answer)
            if dropped is not None:
                raise dropped
            if isinstance(kwargs.get("tool_choice"), dict):
                answer = await self._post(self._stop_naming_the_tool(kwargs, "ignored"), tally)
        return answer

    def _stop_naming_the_tool(self, kwargs: dict[str, Any], how: str) -> dict[str, Any]:
        if self._name_the_tool:
            self._name_the_tool = False
            _log.info(
                '%s %s the tool_choice that names the tool; sending tool_choice "required" from now on',
                self.endpoint_name,
                how,
            )
        return {**kwargs, "tool_choice": "required"}

    async def _post(self, kwargs: dict[str, Any], tally: Tally) -> Any:
        """One request, sent again on transport faults while attempts and the article's budget last."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transport_fault),
            stop=stop_after_attempt(self.settings.max_attempts) | PastDeadline(tally.deadline),
            wait=Backoff(self._backoff_initial),
            before_sleep=self._on_retry,
            reraise=True,
        )
        return await retrying(self._once, kwargs, tally)

    async def _once(self, kwargs: dict[str, Any], tally: Tally) -> Any:
        if self.budget is None:
            return await self._create(kwargs, tally)
        # The caps are kept before sending: a request that does not fit is never sent (budget.py).
        size = len(json.dumps(kwargs, default=str).encode("utf-8"))
        return await self.budget.spend(size, lambda: self._create(kwargs, tally), completions.usage_of)

    async def _create(self, kwargs: dict[str, Any], tally: Tally) -> Any:
        left = tally.deadline - time.monotonic()
        if left <= 0:
            raise BudgetSpent(self.settings.retry_budget, waiting=False)
        tally.attempts += 1
        _log.debug("%s: request %d", tally.article_id, tally.attempts)
        try:
            async with asyncio.timeout(left) as budget:
                answer = await self._openai.chat.completions.create(**kwargs)
        except TimeoutError:
            if budget.expired():
                raise BudgetSpent(self.settings.retry_budget, waiting=True) from None
            raise
        tally.last_answer = answer
        self._count(answer, tally)
        return answer

    def _count(self, answer: object, tally: Tally) -> None:
        # openai hands back the decoded JSON as it is when the body is JSON but not an object.
        usage = answer.usage if isinstance(answer, ChatCompletion) else None
        if usage is None:
            return
        tally.answered += 1
        tally.prompt_tokens += usage.prompt_tokens or 0
        tally.completion_tokens += usage.completion_tokens or 0
        tally.cached_tokens += completions.cached_of(usage)
        _log.debug(
            "%s: answer %s, %d prompt + %d completion tokens",
            tally.article_id,
            getattr(answer, "id", "?"),
            usage.prompt_tokens or 0,
            usage.completion_tokens or 0,
        )
        self._completions_seen += 1
        self._completion_tokens_seen += usage.completion_tokens or 0
        slot = _current_slot.get()
        if slot is not None:
            self.limiter.settle(slot, usage.total_tokens or 0)

    def _on_parse_error(self, error: Exception, *_: Any, **__: Any) -> None:
        tally = _current_tally.get()
        if tally is None:
            return
        tally.rejected += 1
        tally.last_rejection = error
        tally.raw_answer = completions.raw_answer(tally.last_answer)
        last = tally.rejected > self.settings.max_reasks
        _log.info(
            "%s: the answer failed validation (%s); %s",
            tally.article_id,
            self._redacted(describe(error)),
            "no re-asks left" if last else "re-asking with the errors",
        )
        clipped = completions.clip(tally.raw_answer or "", _LOGGED_ANSWER_CHARS)
        _log.debug("%s: the rejected answer: %s", tally.article_id, self._redacted(clipped))

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

    async def request_body(self, article: Article) -> dict[str, Any]:
        """The body of the first request :meth:`extract` would send for ``article``, as instructor builds it
        (messages, tool or response format, sampling parameters), without sending it: a Batch API line."""
        tally = Tally(article.id, deadline=time.monotonic() + self.settings.retry_budget, capture=True)
        try:
            await self.extract(article, "", tally=tally)
        except Exception as exc:
            built = completions.built_request(exc)
            if built is None:
                raise
            return built.body
        raise AssertionError("the request was sent instead of built")

    async def extract(self, article: Article, key: str, *, answer: object = None, tally: Tally | None = None) -> Record:
        """One article's record (for the synthesis task, one story's), stored under ``key``. With ``answer`` (a
        ``ChatCompletion`` the Batch API gave for the first request), that answer is validated as a live one is,
        and only re-asks are sent. Raises an ExtractionError subclass when none could be had (its ``usage`` says
        what the attempts cost, its ``raw_answer`` the last answer rejected), and ConfigError when the endpoint
        rejects the key or the model, or cannot take the mode."""
        tally = tally or Tally(article.id, deadline=time.monotonic() + self.settings.retry_budget, given=answer)
        kwargs: dict[str, Any] = {"temperature": self.settings.temperature}
        if self.settings.max_tokens is not None:
            kwargs["max_tokens"] = self.settings.max_tokens
        # Re-asks follow a rejected answer only: a request that failed in transport was retried in _send already.
        reasks = AsyncRetrying(
            retry=retry_if_exception(lambda exc: exc is tally.last_rejection),
            stop=stop_after_attempt(self.settings.max_reasks + 1),
            reraise=True,
        )
        token = _current_tally.set(tally)
        try:
            extraction: BaseModel
            completion: ChatCompletion
            extraction, completion = await self._client.create_with_completion(
                model=self.settings.model,
                messages=[completions.jinja_literal(m) for m in self.messages(article)],
                response_model=_response_model(self.task.response_model),
                max_retries=reasks,
                context=self.task.context(article),
                **kwargs,
            )
        except Exception as exc:
            if tally.capture:
                raise
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
            output=completions.decoded_output(completion, extraction),
        )

    def _classify(self, exc: Exception, tally: Tally) -> ConfigError | ExtractionError:
        # A cut-off answer or one in words never reaches validation, so it is not the rejected one: it is the last.
        unread = isinstance(root_cause(exc), IncompleteOutputException | ToolsDropped)
        raw = completions.raw_answer(tally.last_answer) if unread else tally.raw_answer
        return classify(
            exc,
            where=self.endpoint_name,
            timeout=self.settings.timeout,
            attempts=tally.attempts,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            redacted=self._redacted,
            max_tokens=self.settings.max_tokens,
            raw_answer=raw,
        )
