"""Requests-per-minute and tokens-per-minute limits enforced as OpenAI enforces them, for the loopback server.

Each limit is a bucket that holds one minute's allowance and refills evenly, so that a client may spend a full
minute's allowance at once and then as fast as it comes back (OpenAI's limits work this way: its
``x-ratelimit-reset-*`` headers say how long until the bucket is full again). A request is counted when it
arrives: one request, and the tokens its answer will report (prompt and completion). A request that does not
fit is answered 429 at once, with ``Retry-After`` and the ``x-ratelimit-*`` headers, and still counts as a
request, as OpenAI's documentation says an unsuccessful one does; its tokens are not counted, since nothing is
generated. Every answer, 429 or not, carries the headers, which describe the buckets just after the request was
counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def go_duration(seconds: float) -> str:
    """``seconds`` written as OpenAI writes a reset time (Go's duration format): ``20ms``, ``1.5s``, ``6m0s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours >= 1:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes >= 1:
        return f"{int(minutes)}m{text}"
    return text


@dataclass(frozen=True, slots=True)
class Limits:
    """What the server allows per minute; None leaves that limit out."""

    rpm: int | None = None
    tpm: int | None = None
    period: float = 60.0
    """The seconds a bucket takes to refill from empty (a minute, as the limits' names say)."""

    def __post_init__(self) -> None:
        for name, value in (("rpm", self.rpm), ("tpm", self.tpm)):
            if value is not None and value < 1:
                raise ValueError(f"{name} is {value}; give 1 or more, or leave it out")
        if self.period <= 0:
            raise ValueError(f"period is {self.period}; give a number of seconds above 0")

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.rpm is not None or self.tpm is not None

    def describe(self) -> str:
        """One line, for ``serve`` to print on start."""
        if not self.active:
            return "limits: none"
        parts = [f"{self.rpm:,} requests" if self.rpm else "", f"{self.tpm:,} tokens" if self.tpm else ""]
        return f"limits: {' and '.join(p for p in parts if p)} per {self.period:g} s, enforced with 429s"


class _Bucket:
    def __init__(self, limit: int, period: float, now: float) -> None:
        self.limit = limit
        self.rate = limit / period
        self.level = float(limit)
        self._at = now

    def refill(self, now: float) -> None:
        self.level = min(float(self.limit), self.level + (now - self._at) * self.rate)
        self._at = now

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` fits (after ``refill``)."""
        return max(0.0, (cost - self.level) / self.rate)

    def reset(self) -> float:
        """Seconds until the bucket is full again."""
        return (self.limit - self.level) / self.rate


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request may be answered, the headers that go with the answer, and when to come back if not."""

    admitted: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    limit: str = ""
    """Which limit refused it: ``requests`` or ``tokens``."""


class Quota:
    """The buckets of one server. Thread-safe: handler threads call ``admit`` at once."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        now = clock()
        self._requests = _Bucket(limits.rpm, limits.period, now) if limits.rpm else None
        self._tokens = _Bucket(limits.tpm, limits.period, now) if limits.tpm else None
        self._lock = threading.Lock()
        self.admitted_tokens = 0
        """Tokens of every request admitted so far."""

    def admit(self, tokens: int) -> Verdict:
        """Count a request whose answer will report ``tokens``, if it fits; the verdict either way."""
        with self._lock:
            now = self._clock()
            for bucket in (self._requests, self._tokens):
                if bucket is not None:
                    bucket.refill(now)
            waits: list[tuple[float, str]] = []
            if self._requests is not None and self._requests.level < 1:
                waits.append((self._requests.wait_for(1), "requests"))
            if self._tokens is not None and self._tokens.level < tokens:
                waits.append((self._tokens.wait_for(tokens), "tokens"))
            if self._requests is not None and self._requests.level >= 1:
                self._requests.level -= 1  # a refused request still counts, as it does at OpenAI
            if not waits:
                self.admitted_tokens += tokens
                if self._tokens is not None:
                    self._tokens.level -= tokens
            headers = self._headers()
            if not waits:
                return Verdict(True, headers)
            wait, limit = max(waits)
            return Verdict(False, headers, wait, limit)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, bucket in (("requests", self._requests), ("tokens", self._tokens)):
            if bucket is None:
                continue
            headers[f"x-ratelimit-limit-{name}"] = str(bucket.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(max(0, math.floor(bucket.level)))
            headers[f"x-ratelimit-reset-{name}"] = go_duration(bucket.reset())
        return headers


def retry_headers(seconds: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds, as HTTP has it, and the ``retry-after-ms`` OpenAI's clients read first."""
    return {"Retry-After": str(math.ceil(seconds)), "retry-after-ms": str(math.ceil(seconds * 1000))}
