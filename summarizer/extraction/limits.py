"""Requests-per-minute and tokens-per-minute limits, shared by every request of a run: the run's own settings
(``--rpm``, ``--tpm``) and the endpoint's limits as its ``x-ratelimit-*`` headers report them.

The settings are kept with a sliding-window log rather than a token bucket: providers count what was sent in
the last minute, and a log can replace a request's token estimate with the tokens the endpoint reports once the
answer is in, so the limit follows real usage instead of guesses.

The endpoint's headers (OpenAI's: ``x-ratelimit-limit-*``, ``-remaining-*`` and ``-reset-*`` for requests and
tokens) say how much of each limit was left when a request was counted, and how long until it is all back. The
limiter takes each limit as OpenAI keeps it, a bucket refilled evenly until the reset time, and lets a request go
once it fits in what the latest report left, refilled since, less what was sent after it (each request counted at
its estimate until its answer reports its tokens). The report is the endpoint's own count, so it also holds what
others sharing the key spent. A waiting request goes as soon as an answer's tokens or a newer report make room.
Headers absent, only the settings pace.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_GUARD = 0.02
"""Seconds added to a wait for the endpoint's limits, against the clocks of the two sides drifting apart."""
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float | None:
    """Seconds in a reset time as OpenAI writes it (Go's duration format: ``6m0s``, ``1.5s``, ``20ms``), or in
    plain seconds; None when it is neither."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


@dataclass(slots=True, eq=False)
class Slot:
    """One request in the window: when it was sent and the tokens it is counted for."""

    at: float
    tokens: int


@dataclass(frozen=True, slots=True)
class Report:
    """What the endpoint said about one of its limits, when it counted a request."""

    limit: int
    remaining: int
    at: float
    """When it counted (the request's send time, on the limiter's clock)."""
    reset: float
    """Seconds from ``at`` until all of the limit is back."""

    def left(self, now: float) -> float:
        """What is left at ``now``, refilled evenly since the report, before anything sent after it."""
        if self.reset <= 0 or now >= self.at + self.reset:
            return float(self.limit)
        return self.remaining + (now - self.at) * (self.limit - self.remaining) / self.reset

    def fits_after(self, now: float, need: float) -> float:
        """Seconds after ``now`` until ``need`` is left; infinite when it never is on this report alone."""
        if need <= self.left(now):
            return 0.0
        if need > self.limit or self.reset <= 0:
            return math.inf
        rate = (self.limit - self.remaining) / self.reset
        return self.at + (need - self.remaining) / rate - now


def read_reports(headers: Mapping[str, str], at: float) -> dict[str, Report]:
    """The ``requests`` and ``tokens`` limits reported in ``headers`` (names in any case); those absent or
    unreadable left out."""
    lower = {k.lower(): v for k, v in headers.items()}
    reports: dict[str, Report] = {}
    for kind in ("requests", "tokens"):
        try:
            limit = int(float(lower[f"x-ratelimit-limit-{kind}"]))
            remaining = int(float(lower[f"x-ratelimit-remaining-{kind}"]))
        except (KeyError, ValueError):
            continue
        reset = parse_duration(lower.get(f"x-ratelimit-reset-{kind}", ""))
        if limit > 0 and reset is not None:
            reports[kind] = Report(limit, max(0, min(remaining, limit)), at, reset)
    return reports


class RateLimiter:
    """Waits, before each request, until sending it keeps the last ``period`` seconds within ``rpm`` requests
    and ``tpm`` tokens, and within the endpoint's own limits once it has reported them. ``None`` means no limit
    of the run's own. A single request estimated above a limit is sent once the window is empty, rather than
    never."""

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.period = period
        self._clock = clock
        self._window: deque[Slot] = deque()
        self._tokens = 0
        self._lock = asyncio.Lock()  # first come, first served: a large request is not starved by small ones
        self._reports: dict[str, Report] = {}
        self._changed: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self.waited = 0.0
        """Seconds requests spent waiting for the limits, summed."""

    @property
    def active(self) -> bool:
        """Whether any limit is set, or reported."""
        return self.rpm is not None or self.tpm is not None or bool(self._reports)

    @property
    def reported(self) -> dict[str, Report]:
        """The endpoint's latest report of each of its limits."""
        return dict(self._reports)

    def _expire(self, now: float) -> None:
        while self._window and self._window[0].at <= now - self.period:
            self._tokens -= self._window.popleft().tokens
        for kind, report in list(self._reports.items()):
            if report.at <= now - self.period:  # a minute on, the limit has come back whatever was spent then
                del self._reports[kind]

    def _window_delay(self, now: float, limit: int | None, costs: list[int], cost: int) -> float:
        """Seconds until a request costing ``cost`` keeps the window within ``limit``; ``costs`` are the
        window's, oldest first."""
        if limit is None or not costs or sum(costs) + cost <= limit:
            return 0.0
        excess = sum(costs) + cost - limit
        for slot, spent in zip(self._window, costs, strict=True):
            excess -= spent
            if excess <= 0:
                return slot.at + self.period - now
        return self._window[-1].at + self.period - now

    def _reported_delay(self, now: float, kind: str, costs: list[int], cost: int) -> float:
        report = self._reports.get(kind)
        if report is None:
            return 0.0
        since = sum(spent for slot, spent in zip(self._window, costs, strict=True) if slot.at > report.at)
        # A request estimated above the whole limit goes once all of it is back, rather than never.
        delay = report.fits_after(now, since + min(cost, report.limit))
        if math.isinf(delay):  # more than the limit is out since the report: wait for a newer one, or its expiry
            delay = report.at + self.period - now
        return delay + _GUARD if delay > 0 else 0.0

    def _delay(self, now: float, tokens: int) -> float:
        """Seconds until a request of ``tokens`` fits; 0 when it fits now."""
        self._expire(now)
        if not self.active:
            return 0.0
        requests = [1] * len(self._window)
        spent = [slot.tokens for slot in self._window]
        delays = (
            self._window_delay(now, self.rpm, requests, 1),
            self._window_delay(now, self.tpm, spent, tokens),
            self._reported_delay(now, "requests", requests, 1),
            self._reported_delay(now, "tokens", spent, tokens),
        )
        return max(0.0, *delays)

    def _event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._changed[0] is not loop:
            self._changed = (loop, asyncio.Event())
        return self._changed[1]

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed[1].set()

    async def acquire(self, tokens: int = 0) -> Slot:
        """Wait until a request estimated at ``tokens`` may be sent, and count it as sent now. A wait ends early
        when an answer's tokens or the endpoint's report change what fits."""
        async with self._lock:
            while True:
                now = self._clock()
                delay = self._delay(now, tokens)
                if delay <= 0:
                    break
                changed = self._event()
                changed.clear()
                try:
                    async with asyncio.timeout(delay):
                        await changed.wait()
                except TimeoutError:
                    pass
                self.waited += max(0.0, self._clock() - now)
            slot = Slot(now, tokens)
            self._window.append(slot)
            self._tokens += tokens
            return slot

    def sent(self, slot: Slot) -> None:
        """Move ``slot`` to now, when its request has left: the endpoint counts a request when it arrives, and a
        request stamped in :meth:`acquire` can leave tens of milliseconds later (a busy event loop, a new
        connection). Waiting requests then wait for the later time."""
        now = self._clock()
        if now <= slot.at:
            return
        # Keep the window in time order: walk in from the newest end, where a just-sent slot belongs.
        index = len(self._window) - 1
        while index >= 0 and self._window[index] is not slot:
            index -= 1
        if index < 0:
            return  # already expired out of the window
        del self._window[index]
        slot.at = now
        index = len(self._window)
        while index > 0 and self._window[index - 1].at > now:
            index -= 1
        self._window.insert(index, slot)

    def settle(self, slot: Slot, tokens: int) -> None:
        """Count ``slot`` for the ``tokens`` the endpoint reported instead of its estimate."""
        if slot.at > self._clock() - self.period:  # still in the window, so still in the total
            self._tokens += tokens - slot.tokens
        slot.tokens = tokens
        self._notify()

    def observe(self, slot: Slot | None, headers: Mapping[str, str]) -> None:
        """Take the endpoint's report of its limits from the ``headers`` of the answer to ``slot``'s request (a
        429 included); headers without one change nothing."""
        at = slot.at if slot is not None else self._clock()
        reports = read_reports(headers, at)
        for kind, report in reports.items():
            current = self._reports.get(kind)
            if current is None or report.at >= current.at:  # answers can arrive out of order
                self._reports[kind] = report
        if reports:
            self._notify()
