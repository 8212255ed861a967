"""``--verbose``: what the run does, request by request, on stderr, with every secret masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

#: The package's logger; modules log to children of it (``summarizer.extraction.client``, …).
LOGGER = "summarizer"
MASK = "[redacted]"
# Placeholder keys for local servers ("x", "none") are not secrets, and masking them would garble every line.
_SHORTEST_SECRET = 6
# The HTTP client logs one line per request (method, URL, status) at INFO; openai's own DEBUG lines carry
# whole request bodies (article text and schema) and stay off.
_LIBRARY_LOGGERS = ("httpx2", "httpx", "openai")
_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (of six characters or more) replaced by ``[redacted]``."""
    for secret in secrets:
        if len(secret) >= _SHORTEST_SECRET:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks the secrets in a record's final message, whatever put them there (arguments, exceptions)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = redact(message, self.secrets), None
        return True


def enable_verbose(secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """Send the package's DEBUG log and the HTTP client's request lines to ``stream`` (default stderr), with
    ``secrets`` masked. Returns the handler, for ``disable_verbose``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    handler.addFilter(RedactingFilter(secrets))
    own = logging.getLogger(LOGGER)
    own.setLevel(logging.DEBUG)
    own.addHandler(handler)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.setLevel(logging.INFO)
        library.addHandler(handler)
    return handler


def disable_verbose(handler: logging.Handler) -> None:
    """Undo ``enable_verbose``."""
    for name in (LOGGER, *_LIBRARY_LOGGERS):
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
