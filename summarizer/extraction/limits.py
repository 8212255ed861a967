"""Requests-per-minute and tokens-per-minute limits, shared by every request of a run.

A sliding-window log rather than a token bucket: providers count what was sent in the last minute, and a log
can replace a request's token estimate with the tokens the endpoint reports once the answer is in, so the
tokens-per-minute limit follows real usage instead of guesses.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True, eq=False)
class Slot:
    """One request in the window: when it was sent and the tokens it is counted for."""

    at: float
    tokens: int


class RateLimiter:
    """Waits, before each request, until sending it keeps the last ``period`` seconds within ``rpm`` requests
    and ``tpm`` tokens. ``None`` means no limit. A single request estimated above ``tpm`` is sent once the
    window is empty, rather than never."""

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
        self.waited = 0.0
        """Seconds requests spent waiting for the limits, summed."""

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.rpm is not None or self.tpm is not None

    def _expire(self, now: float) -> None:
        while self._window and self._window[0].at <= now - self.period:
            self._tokens -= self._window.popleft().tokens

    def _delay(self, now: float, tokens: int) -> float:
        """Seconds until a request of ``tokens`` fits; 0 when it fits now."""
        self._expire(now)
        delay = 0.0
        if self.rpm is not None and len(self._window) >= self.rpm:
            delay = self._window[len(self._window) - self.rpm].at + self.period - now
        if self.tpm is not None and self._window and self._tokens + tokens > self.tpm:
            excess = self._tokens + tokens - self.tpm
            for slot in self._window:
                excess -= slot.tokens
                if excess <= 0:
                    delay = max(delay, slot.at + self.period - now)
                    break
            else:
                delay = max(delay, self._window[-1].at + self.period - now)
        return max(delay, 0.0)

    async def acquire(self, tokens: int = 0) -> Slot:
        """Wait until a request estimated at ``tokens`` may be sent, and count it as sent now."""
        async with self._lock:
            while True:
                now = self._clock()
                delay = self._delay(now, tokens)
                if delay <= 0:
                    break
                self.waited += delay
                await asyncio.sleep(delay)
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
