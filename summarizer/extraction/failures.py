"""What went wrong with a request, in words: which faults are retried (and after how long), and the one line
an ``ExtractionError`` says, naming the endpoint and the fix, never an error's repr.

A fault before the server has the request (no connection, a connection refused, reset or dropped, an error
status asking to come back later) is retried: nothing was lost. A read timeout is not: the server has the
request and is still generating (or still queued behind others on a server with few slots), and sending it again
starts the generation over while the abandoned one may still hold the slot.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx2
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException, ResponseParsingError
from openai.types.chat import ChatCompletion
from pydantic import ValidationError
from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.stop import stop_base

from summarizer.errors import (
    CapReached,
    ConfigError,
    ExtractionError,
    InvalidResponseError,
    TransportError,
    first_problem,
)

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
"""The longest wait between two attempts, whatever the server's ``Retry-After`` asks."""


CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection (at most ``--timeout``): a server that takes longer is down or unreachable, and
is tried again; ``--timeout`` is how long a server that has the request may take to answer."""


class BudgetSpent(Exception):
    """The article's retry budget ran out; ``waiting`` when a request was still unanswered at that moment."""

    def __init__(self, budget: float, *, waiting: bool) -> None:
        super().__init__(f"the retry budget of {budget:g} s is spent")
        self.budget = budget
        self.waiting = waiting


class ToolsDropped(Exception):
    """The server answered a tool-mode request in words, and counted too few prompt tokens for the tools to have
    been in the prompt: its chat template for the model has no place for tools."""

    def __init__(self, prompt_tokens: int, tool_tokens: int) -> None:
        super().__init__(f"{prompt_tokens:,} prompt tokens, fewer than the tool schema alone takes, {tool_tokens:,}")
        self.prompt_tokens = prompt_tokens
        self.tool_tokens = tool_tokens


def root_cause(exc: BaseException) -> BaseException:
    """instructor wraps a failed request in InstructorRetryException; the openai error is its cause."""
    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


_BEFORE_THE_SERVER_HAS_IT = (httpx2.ConnectTimeout, httpx2.WriteTimeout, httpx2.PoolTimeout)


def is_generating_timeout(exc: BaseException) -> bool:
    """True for a read timeout: the connection is open and the server has the request, but no answer came. A
    timeout in connecting, sending or waiting for a pooled connection is not one."""
    cause = root_cause(exc)
    if not isinstance(cause, openai.APITimeoutError):
        return False
    return not any(isinstance(e, _BEFORE_THE_SERVER_HAS_IT) for e in _chain(cause))


def is_transport_fault(exc: BaseException) -> bool:
    """True for faults worth retrying as they are: network errors and timeouts before the server has the request,
    408/409/429, 5xx, and a response body that is not JSON at all (cut off on the way, not a model's mistake to
    re-ask about). Not a read timeout (``is_generating_timeout``)."""
    cause = root_cause(exc)
    if is_generating_timeout(cause):
        return False
    if isinstance(cause, openai.APIConnectionError | json.JSONDecodeError):  # includes APITimeoutError
        return True
    return isinstance(cause, openai.APIStatusError) and cause.status_code in _RETRY_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date), if the fault carried one; its ``retry-after-ms``
    first, which OpenAI sends with a 429 and its own clients read first, since whole seconds round a wait up."""
    cause = root_cause(exc)
    if not isinstance(cause, openai.APIStatusError):
        return None
    try:
        return max(0.0, float(cause.response.headers.get("retry-after-ms", "")) / 1000)
    except ValueError:
        pass
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


class Backoff:
    """Exponential backoff with jitter, replaced by the server's ``Retry-After`` when it sends one."""

    def __init__(self, initial: float) -> None:
        self._exponential = wait_exponential_jitter(multiplier=initial, max=MAX_BACKOFF)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc) if exc else None
        return min(hinted, MAX_BACKOFF) if hinted is not None else float(self._exponential(state))


class PastDeadline(stop_base):
    """Stop retrying when the next attempt would start after ``deadline``."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() + (retry_state.upcoming_sleep or 0.0) >= self.deadline


def first_line(exc: BaseException) -> str:
    """The exception's message, its first line only."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def describe(exc: BaseException) -> str:
    """One line: the first validation error with its location, or the exception's first line."""
    if isinstance(exc, ValidationError):
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        return f"{first_problem(exc, 'answer')}{more}"
    return first_line(exc)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def _status_text(cause: openai.APIStatusError) -> str:
    """The error message the server put in its body, not the client's ``Error code: 404 - {...}``."""
    body = cause.body
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, str) and message.strip():
        return message.strip().splitlines()[0][:300]
    return cause.response.reason_phrase or f"status {cause.status_code}"


def fault_text(cause: BaseException, where: str, timeout: float) -> str:
    """What a failed request met, in words: a name that does not resolve, a refused connection, a timeout,
    the server's own message for an HTTP error."""
    if is_generating_timeout(cause):
        return (
            f"{where} is generating slower than --timeout allows: no answer within {timeout:g} s; "
            "raise --timeout or lower --concurrency"
        )
    if isinstance(cause, openai.APITimeoutError):
        connecting = any(isinstance(e, httpx2.ConnectTimeout) for e in _chain(cause))
        what = f"no connection within {min(timeout, CONNECT_TIMEOUT):g} s" if connecting else "the request was not sent"
        return f"cannot reach {where}: {what}; check --base-url and that the server is up"
    if isinstance(cause, openai.APIConnectionError):
        chain = _chain(cause)
        if any(isinstance(e, socket.gaierror) for e in chain):
            return f"cannot reach {where}: its host name does not resolve; check --base-url"
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return f"cannot reach {where}: connection refused, nothing listens there; check --base-url"
        return f"cannot reach {where}: {first_line(chain[-1])}"
    if isinstance(cause, openai.APIStatusError):
        return f"{where} answered {cause.status_code}: {_status_text(cause)}"
    if isinstance(cause, json.JSONDecodeError):
        return f"{where} sent an answer that is not JSON (cut off on the way?)"
    return first_line(cause)


_LOOP_SPAN = 40
_LOOP_WINDOW = 4000


def _repeating(text: str) -> bool:
    """True when the text ends in a loop: its last stretch occurs twice more just before it."""
    tail = text[-_LOOP_SPAN:]
    return len(text) >= 4 * _LOOP_SPAN and text[:-_LOOP_SPAN].count(tail, -_LOOP_WINDOW) >= 2


def cut_off_text(completion: object, max_tokens: int | None, text: str) -> str:
    """Why an answer ended with ``finish_reason: length``: the ``max_tokens`` cap reached, or the server's
    context filled first; ``text`` is the answer as far as it went."""
    usage = completion.usage if isinstance(completion, ChatCompletion) else None
    looping = " while repeating itself" if _repeating(text) else ""
    if usage is None:
        return (
            f"the answer was cut off{looping} (finish_reason length, no token counts from the server); "
            "raise --max-tokens or the server's context size"
        )
    prompt, produced = usage.prompt_tokens or 0, usage.completion_tokens or 0
    if max_tokens is not None and produced >= max_tokens:
        return (
            f"the answer was cut off at --max-tokens {max_tokens:,}{looping} (a looping model stops there); "
            "raise --max-tokens if the article needs a longer answer"
        )
    cap = f" before --max-tokens {max_tokens:,}" if max_tokens is not None else ""
    return (
        f"the answer was cut off{looping} when the server's context filled ({prompt:,} prompt + {produced:,} "
        f"completion tokens{cap}); give the server a larger context (see docs/local-servers.md) or lower --max-tokens"
    )


def _no_tool_call(cause: BaseException) -> bool:
    return isinstance(cause, ResponseParsingError) and "No tool calls" in str(cause)


def classify(
    exc: Exception,
    *,
    where: str,
    timeout: float,
    attempts: int,
    prompt_tokens: int,
    completion_tokens: int,
    redacted: Callable[[str], str],
    max_tokens: int | None = None,
    raw_answer: str | None = None,
) -> ConfigError | ExtractionError:
    """The error to raise for a request that failed for good: ConfigError when no article can succeed (key
    rejected, tools left out of the prompt), else the ExtractionError subclass of the fault, with what the
    attempts cost, the last answer that failed (``raw_answer``) and the fault itself among its causes."""
    cause = root_cause(exc)
    if isinstance(cause, CapReached):
        return CapReached(
            str(cause), attempts=attempts, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    if isinstance(cause, openai.AuthenticationError):
        return ConfigError(f"{where} rejected the API key (401); check OPENAI_API_KEY")
    if isinstance(cause, openai.PermissionDeniedError):
        return ConfigError(f"{where} refused access (403); check the key's permissions for the model")
    if isinstance(cause, ToolsDropped):
        return ConfigError(
            f"{where} left the tools out of the prompt ({cause}): its chat template for this model has no tool "
            "support; use --mode json_schema (or --mode json)"
        )
    error: type[ExtractionError] = ExtractionError
    if is_transport_fault(exc):
        error, message = TransportError, f"gave up after {attempts} attempt(s): {fault_text(cause, where, timeout)}"
    elif is_generating_timeout(cause):
        error, message = TransportError, fault_text(cause, where, timeout)
    elif isinstance(cause, BudgetSpent):
        error, waiting = TransportError, f" while {where} was still generating" if cause.waiting else ""
        message = (
            f"gave up after {attempts} attempt(s): the article's retry budget of {cause.budget:g} s ran out{waiting}"
            "; raise SUMMARIZER_RETRY_BUDGET or lower --concurrency"
        )
    elif isinstance(cause, openai.APIStatusError):
        message = fault_text(cause, where, timeout)
    elif isinstance(cause, AssertionError) and "Unable to generate a response" in str(cause):
        # instructor's way of reporting a refusal in tool mode: the model answered in words, not a call.
        error, message = InvalidResponseError, f"the model refused: {first_line(cause)}"
    elif isinstance(cause, IncompleteOutputException):
        error, message = InvalidResponseError, cut_off_text(cause.last_completion, max_tokens, raw_answer or "")
    elif isinstance(exc, InstructorRetryException) and _no_tool_call(cause):
        error = InvalidResponseError
        message = (
            f"the model answered in words, not with the tool, {attempts} time(s); "
            "use --mode json_schema (or --mode json) with this server"
        )
    elif isinstance(exc, InstructorRetryException):
        error = InvalidResponseError
        message = f"answer failed validation after {attempts} attempt(s): {describe(cause)}"
    else:
        message = f"unexpected failure: {type(cause).__name__}: {first_line(cause)}"
    return error(
        redacted(message),
        attempts=attempts,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        causes=(cause,),
        raw_answer=redacted(raw_answer) if raw_answer is not None else None,
    )
