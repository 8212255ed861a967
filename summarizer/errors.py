"""One exception tree; every message says what went wrong and how to fix it, on one line.

```
SummarizerError
├── UserError                  misuse: fix the command, the settings or the input
│   ├── ConfigError            a setting is missing or invalid, or the endpoint refused the key
│   ├── InputError             an article file cannot be read or is empty
│   └── RecordingError         a recording file is malformed
└── ExtractionError            the endpoint did not give a valid record for an article
    ├── TransportError         the request failed after its retries (network, 429, 5xx, timeout)
    └── InvalidResponseError   the answer failed validation after its re-asks, or was cut off
```
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class ExitCode(IntEnum):
    """What the ``summarizer`` command's exit status means; the one table of them."""

    OK = 0
    """Every input was used."""
    PARTIAL = 1
    """Some inputs were left out (each named on stderr and in the briefing); the rest was done. From
    ``schema --check``: a schema file differs from the models."""
    USAGE = 2
    """The command, a setting or an input must change; nothing was sent."""
    FAILED = 3
    """No article could be extracted."""
    REGRESSION = 4
    """``eval --check``: a field scored below the baseline."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C; what was fetched is cached."""


class SummarizerError(Exception):
    """Base of every error the package raises on purpose."""

    exit_code: ExitCode = ExitCode.PARTIAL


class UserError(SummarizerError):
    """The command, settings or input must change."""

    exit_code = ExitCode.USAGE


class ConfigError(UserError):
    """A setting is missing or invalid."""


class InputError(UserError):
    """An article file cannot be used; the message names the file."""

    def __init__(self, path: str, problem: str, fix: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}; {fix}")


class RecordingError(UserError):
    """A recording file is malformed; the message names the file."""


class ExtractionError(SummarizerError):
    """No valid record could be obtained for one article. ``attempts`` and the token counts say what
    trying cost, since failed requests are billed too; ``causes`` holds what went wrong (the endpoint's
    error or the last validation error, or each article's ExtractionError for a whole run); ``raw_answer``
    is the last answer that was rejected, as the model wrote it, when there was one."""

    exit_code = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        causes: tuple[BaseException, ...] = (),
        raw_answer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.causes = causes
        self.raw_answer = raw_answer
        self.attempts = attempts
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class TransportError(ExtractionError):
    """The endpoint could not be reached or kept failing after the retries."""


class InvalidResponseError(ExtractionError):
    """The endpoint's answers kept failing validation after the re-asks, or one was cut off."""


class CapReached(ExtractionError):
    """Not sent: the request's worst case would pass the run's cost or token cap. The article is left for
    another run; what was done is kept."""


def first_problem(exc: ValidationError, top: str) -> str:
    """``where: what`` of a validation error's first problem, ``where`` a dotted path (``top`` when the
    problem is the whole value), so that every message about a malformed file or answer reads the same."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or top
    return f"{where}: {first['msg']}"
