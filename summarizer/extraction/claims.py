"""One request per article across workers: a worker fetches an article only while it holds the article's Redis
lock (redis-py's ``Lock``, with a timeout); the others wait for the record instead of asking again.

The lock lasts ``timeout`` seconds and its holder renews it every third of that while it fetches, so a fetch may
take as long as it needs, while the lock of a worker that died (killed, its machine gone) expires within
``timeout`` and a waiting worker takes the article over."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio
import redis.asyncio.lock
from redis.exceptions import LockError

from summarizer.errors import RecordingError
from summarizer.extraction.cache import entry_record
from summarizer.extraction.records import Record
from summarizer.extraction.redis_backend import FAULTS, PREFIX, RECORDS, LoopClient, RedisStore

_log = logging.getLogger(__name__)

LOCKS = PREFIX + "lock:"
_LOCK_FAULTS: tuple[type[BaseException], ...] = (LockError, *FAULTS)
POLL = 0.1
"""Seconds between a waiting worker's looks at the record and the lock."""


@dataclass(slots=True)
class RedisClaim:
    """A worker's turn at one article: ``record`` when another worker stored it, ``busy`` when another holds it
    and the caller asked not to wait, neither when this worker is to fetch it."""

    record: Record | None = None
    busy: bool = False
    lock: redis.asyncio.lock.Lock | None = None

    async def release(self) -> None:
        """Give the lock up (a lock that expired or a lost Redis is no longer this worker's to give)."""
        if self.lock is None:
            return
        lock, self.lock = self.lock, None
        with contextlib.suppress(*_LOCK_FAULTS):
            await lock.release()


class RedisClaims:
    """Claims on articles, by cache key, in the Redis that ``store`` uses."""

    def __init__(self, client: LoopClient, store: RedisStore, *, timeout: float = 30.0, poll: float = POLL) -> None:
        self._client = client
        self._store = store
        self.timeout = timeout
        self.poll = poll

    async def _stored(self, client: redis.asyncio.Redis, key: str) -> Record | None:
        raw = await client.get(RECORDS + key)
        if raw is None:
            return None
        try:
            return entry_record(raw, key)
        except RecordingError:
            return None

    async def _turn(self, key: str, *, refresh: bool, wait: bool) -> RedisClaim:
        """Wait for this worker's turn at ``key``: the record, busy (without ``wait``), or the lock held."""
        client = self._client.get()
        lock = client.lock(LOCKS + key, timeout=self.timeout, blocking=False)
        waited = False
        while not await lock.acquire(blocking=False):
            if not wait:
                return RedisClaim(busy=True)
            waited = True
            while await client.exists(LOCKS + key):
                await asyncio.sleep(self.poll)
            # The holder stores the record before it lets go; a holder that failed or died stored none.
            record = await self._stored(client, key)
            if record is not None:
                return RedisClaim(record)
        # Stored by another worker since this one looked in the cache, so not to be asked for again (with
        # ``refresh``, only if it was stored while this worker waited).
        if not refresh or waited:
            record = await self._stored(client, key)
            if record is not None:
                with contextlib.suppress(*_LOCK_FAULTS):
                    await lock.release()
                return RedisClaim(record)
        return RedisClaim(lock=lock)

    async def _renew(self, lock: redis.asyncio.lock.Lock, done: asyncio.Event) -> None:
        # Stopped by ``done`` rather than cancelled: a cancellation landing inside a Redis call is not always
        # seen by the caller, and the lock would be renewed for ever.
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.timeout / 3)
                return
            try:
                await lock.reacquire()
            except _LOCK_FAULTS as exc:
                _log.warning("lost the claim %s (%s)", lock.name, exc)
                return

    @contextlib.asynccontextmanager
    async def claim(self, key: str, *, refresh: bool = False, wait: bool = True) -> AsyncIterator[RedisClaim]:
        """This worker's turn at the article under ``key`` (see ``RedisClaim``), the lock renewed while the
        caller fetches and released on leaving. While Redis is lost, every worker fetches on its own."""
        turn = RedisClaim()
        if not self._store.health.down:
            try:
                turn = await self._turn(key, refresh=refresh, wait=wait)
            except FAULTS as exc:
                self._store.health.lose(exc)
        if turn.lock is None:
            yield turn
            return
        done = asyncio.Event()
        renewing = asyncio.create_task(self._renew(turn.lock, done))
        try:
            yield turn
        finally:
            done.set()
            await renewing
            await turn.release()

    async def aclose(self) -> None:
        """Close the running loop's connections."""
        await self._client.aclose()
