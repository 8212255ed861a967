"""What went wrong with a request, in words: which faults are retried (and after how long), and the one line
an ``ExtractionError`` says, naming the endpoint and the fix, never an error's repr."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import ValidationError
from tenacity import RetryCallState, wait_exponential_jitter

from summarizer.errors import ConfigError, ExtractionError, InvalidResponseError, TransportError, first_problem

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
"""The longest wait between two attempts, whatever the server's ``Retry-After`` asks."""


def root_cause(exc: BaseException) -> BaseException:
    """instructor wraps a failed request in InstructorRetryException; the openai error is its cause."""
    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def is_transport_fault(exc: BaseException) -> bool:
    """True for faults worth retrying as they are: network errors, timeouts, 408/409/429, 5xx, and a response
    body that is not JSON at all (cut off on the way, not a model's mistake to re-ask about)."""
    cause = root_cause(exc)
    if isinstance(cause, openai.APIConnectionError | json.JSONDecodeError):  # includes APITimeoutError
        return True
    return isinstance(cause, openai.APIStatusError) and cause.status_code in _RETRY_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date), if the fault carried one."""
    cause = root_cause(exc)
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


class Backoff:
    """Exponential backoff with jitter, replaced by the server's ``Retry-After`` when it sends one."""

    def __init__(self, initial: float) -> None:
        self._exponential = wait_exponential_jitter(multiplier=initial, max=MAX_BACKOFF)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc) if exc else None
        return min(hinted, MAX_BACKOFF) if hinted is not None else float(self._exponential(state))


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
    if isinstance(cause, openai.APITimeoutError):
        return f"{where} sent no answer within {timeout:g} s; raise --timeout or lower --concurrency"
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


def classify(
    exc: Exception,
    *,
    where: str,
    timeout: float,
    attempts: int,
    prompt_tokens: int,
    completion_tokens: int,
    redacted: Callable[[str], str],
) -> ConfigError | ExtractionError:
    """The error to raise for a request that failed for good: ConfigError when no article can succeed (key
    rejected), else the ExtractionError subclass of the fault, with what the attempts cost and the fault
    itself among its causes."""
    cause = root_cause(exc)
    if isinstance(cause, openai.AuthenticationError):
        return ConfigError(f"{where} rejected the API key (401); check OPENAI_API_KEY")
    if isinstance(cause, openai.PermissionDeniedError):
        return ConfigError(f"{where} refused access (403); check the key's permissions for the model")
    error: type[ExtractionError] = ExtractionError
    if is_transport_fault(exc):
        error, message = TransportError, f"gave up after {attempts} attempt(s): {fault_text(cause, where, timeout)}"
    elif isinstance(cause, openai.APIStatusError):
        message = fault_text(cause, where, timeout)
    elif isinstance(cause, AssertionError) and "Unable to generate a response" in str(cause):
        # instructor's way of reporting a refusal in tool mode: the model answered in words, not a call.
        error, message = InvalidResponseError, f"the model refused: {first_line(cause)}"
    elif isinstance(cause, IncompleteOutputException):
        error, message = InvalidResponseError, "the answer was cut off (finish_reason length); raise max_tokens"
    elif isinstance(exc, InstructorRetryException):
        error = InvalidResponseError
        message = f"answer failed the schema after {attempts} attempt(s): {describe(cause)}"
    else:
        message = f"unexpected failure: {type(cause).__name__}: {first_line(cause)}"
    return error(
        redacted(message),
        attempts=attempts,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        causes=(cause,),
    )
