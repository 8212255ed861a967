"""Asks an OpenAI-compatible endpoint for articles' records, concurrently. The only module that imports
openai/instructor.

Two kinds of fault, two mechanisms: transport faults (network, timeouts, 429, 5xx) are retried by tenacity
with exponential backoff and jitter, honouring ``Retry-After``; answers that fail the schema are sent back to
the model with the validation errors by instructor's re-ask, a bounded number of times.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import json
import logging
import re
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
import instructor
import openai
import pydantic
from instructor.core import IncompleteOutputException, InstructorRetryException
from instructor.v2.core.function_calls import response_schema
from instructor.v2.providers.openai.client import from_openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from summarizer.config import Settings
from summarizer.errors import ConfigError, ExtractionError, InvalidResponseError, TransportError, first_problem
from summarizer.extraction.limits import RateLimiter, Slot
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import (
    CHARS_PER_TOKEN,
    LOOPBACK_FINGERPRINT,
    Origin,
    Record,
    RequestInfo,
    ResponseInfo,
    Usage,
    schema_hash,
)
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article
from summarizer.logs import redact

# instructor logs every failed attempt at ERROR level; with no handler configured Python would print those
# multi-line messages to stderr. The outcome is reported once, by the caller, instead.
logging.getLogger("instructor").addHandler(logging.NullHandler())
_log = logging.getLogger(__name__)


_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}


def _check_each_model_once() -> None:
    """instructor walks the response model's whole type tree for async validators several times per request:
    about 13 ms of CPU for this schema, which caps a concurrent run at a few dozen requests a second. A class's
    validators do not change, so each class is walked once. If instructor moves the function, nothing is
    patched and only speed is lost."""
    import instructor.v2.core.patch as patch_module
    import instructor.v2.validation.async_validators as validators_module

    original = getattr(validators_module, "reject_async_validators", None)
    if original is None or getattr(original, "memoised", False):
        return
    checked: weakref.WeakSet[type] = weakref.WeakSet()

    def check_once(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in checked:
            return
        original(response_model)
        if isinstance(response_model, type):
            checked.add(response_model)

    check_once.memoised = True  # type: ignore[attr-defined]
    validators_module.reject_async_validators = check_once
    if getattr(patch_module, "reject_async_validators", None) is original:
        patch_module.reject_async_validators = check_once  # type: ignore[attr-defined]


_check_each_model_once()


# openai's ``create`` walks every request's parameters against its typed definitions before sending them, to
# rename aliased keys and encode files: about 1 ms of CPU a request for this schema and prompt, a tenth of the
# client's work in a concurrent run. A chat request built here has nothing to rename or encode, so it is posted
# as given, through the client's documented ``post`` for raw requests (same headers, auth, timeouts).
#
# This ``create`` is also where every request and answer is counted: instructor's hook of the request's
# arguments inspects its handler's signature on every call. (instructor also keeps its own running total of
# usage, unused here. Handing it answers without ``usage`` would not save that work: it then tries to import
# another provider's SDK on every answer, a search of the whole import path when that SDK is not installed.)
def _send_as_given(
    client: openai.AsyncOpenAI, sending: Callable[[], None], answered: Callable[[ChatCompletion], None]
) -> None:
    """Make ``client.chat.completions.create`` (what instructor calls) post its parameters unwalked, calling
    ``sending`` before each request and ``answered`` with each answer before instructor sees it."""

    async def create(**kwargs: Any) -> ChatCompletion:
        options: openai.RequestOptions = {}
        if "extra_headers" in kwargs:
            options["headers"] = kwargs.pop("extra_headers")
        if "extra_query" in kwargs:
            options["params"] = kwargs.pop("extra_query")
        extra_body = kwargs.pop("extra_body", None) or {}
        if "timeout" in kwargs:
            options["timeout"] = kwargs.pop("timeout")
        given = {**kwargs, **extra_body}  # as openai merges ``extra_body`` into the body
        body = {key: value for key, value in given.items() if not isinstance(value, openai.Omit | openai.NotGiven)}
        if body.get("stream"):
            raise ValueError("streaming is not supported by this client")
        content = encoder.encode(body)
        sending()
        response = await client.post("/chat/completions", cast_to=httpx2.Response, content=content, options=options)
        completion = _completion(response)
        answered(completion)
        return completion

    encoder = _BodyEncoder()
    client.chat.completions.create = create  # type: ignore[method-assign,assignment]


def _plain(value: object) -> object:
    # As openai's encoder does for the objects a request may carry besides plain JSON.
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_unset=True, by_alias=True)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(value: Any) -> str:
    # What openai sends: compact, UTF-8 as is, no NaN.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain)


class _BodyEncoder:
    """Encodes request bodies as openai does, remembering the parameters that repeat from request to request.

    The tool definition (or the response format) carries the schema, 11 KB of JSON and the same in every
    request: encoding it took about 0.2 ms a request, most of encoding the body. It is encoded when it changes;
    each request compares it with a copy of the last one (about 10 µs)."""

    _REPEATED = frozenset({"tools", "tool_choice", "response_format"})

    def __init__(self) -> None:
        self._last: dict[str, tuple[Any, str]] = {}

    def encode(self, body: dict[str, Any]) -> bytes:
        """``body`` as JSON bytes, its keys in order."""
        members = (f"{_json(key)}:{self._repeated(key, value) if key in self._REPEATED else _json(value)}"
                   for key, value in body.items())  # fmt: skip
        return ("{" + ",".join(members) + "}").encode()

    def _repeated(self, key: str, value: Any) -> str:
        last = self._last.get(key)
        if last is not None and last[0] == value:
            return last[1]
        # A copy, so that a caller changing its object in place is seen as a change.
        text = _json(value)
        self._last[key] = (copy.deepcopy(value), text)
        return text


def _completion(response: httpx2.Response) -> ChatCompletion:
    """The answer as a ``ChatCompletion``. openai builds it field by field in Python without validating (about
    0.3 ms a request, a twentieth of the client's work); pydantic validates and builds it from the bytes in a
    tenth of that. An answer that does not fit the type (other endpoints are looser) is built as openai builds
    it; a body that is not a JSON object raises ``json.JSONDecodeError``, a transport fault."""
    try:
        return ChatCompletion.model_validate_json(response.content)
    except ValidationError:
        data = response.json()
    if not isinstance(data, dict):
        raise json.JSONDecodeError("the answer is not a JSON object", response.text, 0)
    return ChatCompletion.construct(**data)


# instructor wraps a plain model in a new class on every request, which defeats its own schema cache: about
# 30 ms of CPU a request for this schema, the whole budget of a concurrent run. Wrapped once here instead.
_RESPONSE_MODEL = response_schema(ArticleExtraction)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verifying TLS context, built once per process and shared by every client: loading the
    CA certificates takes about 30 ms, which each new client (each run with misses, each API call) would
    otherwise pay again."""
    return httpx2.create_ssl_context()


_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_BACKOFF = 30.0
_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


def _root_cause(exc: BaseException) -> BaseException:
    """instructor wraps a failed request in InstructorRetryException; the openai error is its cause."""
    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def is_transport_fault(exc: BaseException) -> bool:
    """True for faults worth retrying as they are: network errors, timeouts, 408/409/429, 5xx, and a response
    body that is not JSON at all (cut off on the way, not a model's mistake to re-ask about)."""
    cause = _root_cause(exc)
    if isinstance(cause, openai.APIConnectionError | json.JSONDecodeError):  # includes APITimeoutError
        return True
    return isinstance(cause, openai.APIStatusError) and cause.status_code in _RETRY_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date), if the fault carried one."""
    cause = _root_cause(exc)
    if not isinstance(cause, openai.APIStatusError):
        return None
    value = cause.response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class _Backoff:
    """Exponential backoff with jitter, replaced by the server's ``Retry-After`` when it sends one."""

    def __init__(self, initial: float) -> None:
        self._exponential = wait_exponential_jitter(multiplier=initial, max=_MAX_BACKOFF)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc) if exc else None
        return min(hinted, _MAX_BACKOFF) if hinted is not None else float(self._exponential(state))


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


def _origin(completion: ChatCompletion) -> Origin:
    fingerprint = completion.system_fingerprint or ""
    if fingerprint == LOOPBACK_FINGERPRINT + "authored":
        return "authored"
    return "recorded"


def _describe(exc: BaseException) -> str:
    """One line: the first validation error with its location, or the exception's first line."""
    if isinstance(exc, ValidationError):
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        return f"{first_problem(exc, 'answer')}{more}"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


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
    ) -> None:
        if settings.api_key is None:
            raise ConfigError(
                "no API key: set OPENAI_API_KEY (any value for a local server given with --base-url), "
                "or use --replay DIR to serve recorded responses"
            )
        self.settings = settings
        self.prompts = prompts
        self.limiter = limiter or RateLimiter(settings.rpm, settings.tpm)
        self._schema_hash = schema_hash()
        self._backoff_initial = backoff_initial
        self._completion_tokens_seen = 0
        self._completions_seen = 0
        # One connection per concurrent request, so none waits for a pooled connection.
        limits = httpx2.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        # aiohttp's transport costs the least CPU a request. Under rate limits, the run is bound by the limits
        # and httpx's own transport is used instead: its trace hook tells when a request's body has left, and
        # that is when the limiter counts it.
        http_client = (
            openai.DefaultAsyncHttpxClient(
                event_hooks={"request": [self._before_request]}, limits=limits, verify=tls_context()
            )
            if self.limiter.active
            else openai.DefaultAioHttpClient(limits=limits, verify=tls_context())
        )
        self._openai = openai.AsyncOpenAI(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=0,  # tenacity owns transport retries, so they are counted and bounded in one place
            http_client=http_client,
        )
        _send_as_given(self._openai, self._on_request, self._on_response)
        self._client = from_openai(self._openai, mode=_MODES[settings.mode])
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

    def _on_request(self) -> None:
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
            _describe(error),
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
            self._redacted(_first_line(_root_cause(exc))),
            wait,
        )

    def _redacted(self, text: str) -> str:
        key = self.settings.api_key
        return redact(text, [key.get_secret_value()] if key is not None else [])

    def _on_response(self, completion: ChatCompletion) -> None:
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
            wait=_Backoff(self._backoff_initial),
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
            origin=_origin(completion),
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
        cause = _root_cause(exc)
        where = self.settings.base_url or "the OpenAI API"
        if isinstance(cause, openai.AuthenticationError):
            return ConfigError(f"{where} rejected the API key (401); check OPENAI_API_KEY")
        if isinstance(cause, openai.PermissionDeniedError):
            return ConfigError(f"{where} refused access (403); check the key's permissions for the model")
        attempts = tally.attempts
        error: type[ExtractionError] = ExtractionError
        if is_transport_fault(exc):
            error, message = TransportError, f"gave up after {attempts} attempt(s): {_first_line(cause)}"
        elif isinstance(cause, openai.APIStatusError):
            message = f"{where} answered {cause.status_code}: {_first_line(cause)}"
        elif isinstance(cause, AssertionError) and "Unable to generate a response" in str(cause):
            # instructor's way of reporting a refusal in tool mode: the model answered in words, not a call.
            error, message = InvalidResponseError, f"the model refused: {_first_line(cause)}"
        elif isinstance(cause, IncompleteOutputException):
            error, message = InvalidResponseError, "the answer was cut off (finish_reason length); raise max_tokens"
        elif isinstance(exc, InstructorRetryException):
            error = InvalidResponseError
            message = f"answer failed the schema after {attempts} attempt(s): {_describe(cause)}"
        else:
            message = f"unexpected failure: {type(cause).__name__}: {_first_line(cause)}"
        return error(
            self._redacted(message),
            attempts=attempts,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
        )
