"""Requests-per-minute and tokens-per-minute limits shared by every worker on one Redis: a provider's quota is the
organisation's, not one process's.

The same sliding-window log as ``limits.RateLimiter``, kept in Redis (a sorted set of the requests in the
window, a hash of their tokens, their total) and changed only by Lua scripts, so that checking the window and
counting a request in it is one atomic step whichever worker takes it. The scripts read Redis's own clock, so
that workers on machines whose clocks disagree still share one window. The limits a provider reports in its
``x-ratelimit-limit-*`` headers tighten the configured ones for every worker (``observe``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript

from summarizer.extraction.limits import RateLimiter, Slot
from summarizer.extraction.redis_backend import FAULTS, PREFIX, Health, LoopClient

_log = logging.getLogger(__name__)

RATES = PREFIX + "rate:"

# KEYS: window (zset member -> ms), tokens (hash member -> tokens), total (string), limits (hash rpm/tpm)
# ARGV: rpm (0: none), tpm (0: none), period ms, tokens, member
# Returns {1, now} once the request is counted, or {0, ms to wait}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm, period, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local seen = redis.call('HMGET', KEYS[4], 'rpm', 'tpm')
if seen[1] then local p = tonumber(seen[1]); if rpm == 0 or p < rpm then rpm = p end end
if seen[2] then local p = tonumber(seen[2]); if tpm == 0 or p < tpm then tpm = p end end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - period)
if #old > 0 then
  local gone = 0
  for _, m in ipairs(old) do gone = gone + tonumber(redis.call('HGET', KEYS[2], m) or '0') end
  for _, m in ipairs(old) do redis.call('HDEL', KEYS[2], m) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
  redis.call('DECRBY', KEYS[3], gone)
end
local n = redis.call('ZCARD', KEYS[1])
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
local delay = 0
if rpm > 0 and n >= rpm then
  local first = redis.call('ZRANGE', KEYS[1], n - rpm, n - rpm, 'WITHSCORES')
  delay = tonumber(first[2]) + period - now
end
if tpm > 0 and n > 0 and total + tokens > tpm then
  local excess = total + tokens - tpm
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local d = tonumber(all[#all]) + period - now
  for i = 1, #all, 2 do
    excess = excess - tonumber(redis.call('HGET', KEYS[2], all[i]) or '0')
    if excess <= 0 then d = tonumber(all[i + 1]) + period - now; break end
  end
  if d > delay then delay = d end
end
if delay > 0 then return {0, delay + 1} end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], tokens)
redis.call('INCRBY', KEYS[3], tokens)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], period * 2) end
return {1, now}
"""

# KEYS: window; ARGV: member. Moves a request still in the window to now, when it has left.
_SENT = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 1
"""

# KEYS: window, tokens, total; ARGV: member, tokens. Counts a request still in the window for its real tokens.
_SETTLE = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local before = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[3], tonumber(ARGV[2]) - before)
return 1
"""

_HEADERS = {"rpm": "x-ratelimit-limit-requests", "tpm": "x-ratelimit-limit-tokens"}
MARGIN = 0.5
"""Seconds a request is counted for beyond the period. A provider counts a request when it arrives, and workers
on different machines reach it with different delays (under load, one worker's request can arrive tens of
milliseconds later than another's sent at the same time); the margin keeps the limit at the provider too, for
a sixtieth of the throughput at a minute's period."""
OBSERVED_FOR = 3600
"""Seconds a limit read from a provider's headers holds without being seen again."""


@dataclass(slots=True, eq=False)
class SharedSlot(Slot):
    """A request counted in the shared window, under ``member``."""

    member: str = ""


class SharedRateLimiter:
    """``RateLimiter``'s interface (``acquire``, ``sent``, ``settle``) over a window in Redis that every worker
    with the same ``name`` (one per endpoint and model) shares; a request stays in it for ``period`` plus
    ``margin`` seconds. While Redis is lost, the worker falls back to
    an in-memory window of the same limits, so that it goes on within them alone."""

    def __init__(
        self,
        client: LoopClient,
        name: str,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        period: float = 60.0,
        margin: float = MARGIN,
        health: Health | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.period = period
        self.margin = margin
        self.name = name
        self._client = client
        self._health = health or Health(client.url)
        self._clock = clock
        base = f"{RATES}{name}:"
        self._keys = [base + "window", base + "tokens", base + "total", base + "limits"]
        self._scripts: dict[int, tuple[AsyncScript, AsyncScript, AsyncScript]] = {}
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._local = RateLimiter(rpm, tpm, period=period, clock=clock)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.waited = 0.0
        """Seconds requests spent waiting for the limits, summed."""

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.rpm is not None or self.tpm is not None

    def _scripts_for_loop(self) -> tuple[AsyncScript, AsyncScript, AsyncScript]:
        client = self._client.get()
        scripts = self._scripts.get(id(client))
        if scripts is None:
            self._scripts.clear()  # the previous loop's client is gone
            scripts = (client.register_script(_ACQUIRE), client.register_script(_SENT), client.register_script(_SETTLE))
            self._scripts[id(client)] = scripts
        return scripts

    def _fifo(self) -> asyncio.Lock:
        # First come, first served within this worker, as in RateLimiter; one lock per event loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self, tokens: int = 0) -> Slot:
        """Wait until a request estimated at ``tokens`` fits every worker's window, and count it in now."""
        async with self._fifo():
            member = uuid.uuid4().hex
            while not self._health.down:
                acquire = self._scripts_for_loop()[0]
                try:
                    window = int((self.period + self.margin) * 1000)
                    args: list[int | str] = [self.rpm or 0, self.tpm or 0, window, tokens, member]
                    counted, value = await acquire(keys=self._keys, args=args)
                except FAULTS as exc:
                    self._health.lose(exc)
                    break
                if counted:
                    return SharedSlot(self._clock(), tokens, member)
                delay = int(value) / 1000
                self.waited += delay
                await asyncio.sleep(delay)
        # Redis is lost: this worker keeps to the limits by itself until it is back.
        before = self._local.waited
        slot = await self._local.acquire(tokens)
        self.waited += self._local.waited - before
        return slot

    def _later(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        # `sent` and `settle` are called from synchronous code in the client; the update goes on meanwhile.
        task = asyncio.get_running_loop().create_task(self._quietly(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        try:
            await call()
        except FAULTS as exc:
            self._health.lose(exc)

    def sent(self, slot: Slot) -> None:
        """Move ``slot`` to now (Redis's now) once its request has left."""
        if not isinstance(slot, SharedSlot):
            self._local.sent(slot)
            return
        script = self._scripts_for_loop()[1]
        self._later(lambda: script(keys=self._keys[:1], args=[slot.member]))

    def settle(self, slot: Slot, tokens: int) -> None:
        """Count ``slot`` for the ``tokens`` the endpoint reported, in every worker's window."""
        if not isinstance(slot, SharedSlot):
            self._local.settle(slot, tokens)
            return
        slot.tokens = tokens
        script = self._scripts_for_loop()[2]
        self._later(lambda: script(keys=self._keys[:3], args=[slot.member, tokens]))

    def observe(self, slot: Slot | None, headers: Mapping[str, str]) -> None:
        """Take the limits a provider reports (``x-ratelimit-limit-requests``, ``x-ratelimit-limit-tokens``) as
        the shared ones when they are tighter than the configured ones; other headers are ignored."""
        seen: dict[str, int] = {}
        for field, header in _HEADERS.items():
            with contextlib.suppress(KeyError, ValueError):
                value = int(headers[header])
                if value > 0:
                    seen[field] = value
        if not seen or self._health.down:
            return
        client = self._client.get()

        async def store() -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(self._keys[3], mapping=seen)
                pipe.expire(self._keys[3], OBSERVED_FOR)
                await pipe.execute()

        self._later(store)

    async def aclose(self) -> None:
        """Finish the updates still on their way, then close the running loop's connections."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._scripts.clear()
        await self._client.aclose()
