"""Where a run keeps its records and counts its requests: the local cache and the in-memory limits by default, or a
Redis server shared by several workers (``cache_url``), which adds one request per article across them.

The pipeline sees only the protocols here, so that either backend serves ``cache info``, ``cache clear``, replay
and every run alike."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from summarizer.extraction.cache import CacheInfo
from summarizer.extraction.limits import Slot
from summarizer.extraction.records import Record


class RecordStore(Protocol):
    """Records by cache key, stored as the bytes of their recording files (``cache.entry_bytes``)."""

    @property
    def location(self) -> str:
        """The store as messages name it (a folder, or a URL without its password)."""
        ...

    def get(self, key: str) -> Record | None:
        """The record stored under ``key``, or None (also for an entry that no longer parses)."""
        ...

    def put(self, record: Record) -> None:
        """Store ``record`` under its own key."""
        ...

    def info(self) -> CacheInfo:
        """Entry count and size."""
        ...

    def clear(self) -> int:
        """Remove every record; returns how many there were."""
        ...

    def notices(self) -> list[str]:
        """What a run on this store should tell its user (records written from a spool, say)."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


class Limiter(Protocol):
    """The requests-per-minute and tokens-per-minute window every request of a run passes (see ``limits``)."""

    waited: float

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        ...

    async def acquire(self, tokens: int = 0) -> Slot:
        """Wait until a request estimated at ``tokens`` may be sent, and count it as sent now."""
        ...

    def sent(self, slot: Slot) -> None:
        """Move ``slot`` to now, when its request has left."""
        ...

    def settle(self, slot: Slot, tokens: int) -> None:
        """Count ``slot`` for the ``tokens`` the endpoint reported instead of its estimate."""
        ...

    def observe(self, slot: Slot | None, headers: Mapping[str, str]) -> None:
        """Take the limits the endpoint reports in the ``x-ratelimit-*`` ``headers`` of the answer to ``slot``'s
        request, when they are there."""
        ...


@runtime_checkable
class Claim(Protocol):
    """One worker's right to fetch one article, or the record another worker fetched meanwhile."""

    record: Record | None
    """The record another worker stored while this one waited; None when this worker is to fetch it."""
    busy: bool
    """Another worker is fetching the article, and the caller asked not to wait."""

    async def release(self) -> None:
        """Give the article up (fetched and stored, or failed), so that a waiting worker goes on."""
        ...


class Claims(Protocol):
    """One request per article across workers."""

    def claim(
        self, key: str, *, refresh: bool = False, wait: bool = True
    ) -> contextlib.AbstractAsyncContextManager[Claim]:
        """Wait until no other worker is fetching the article under ``key`` (without ``wait``, a busy claim at
        once instead); then either its record (stored meanwhile) or this worker's claim on it, released on
        leaving."""
        ...

    async def aclose(self) -> None:
        """Close the connections opened in the running event loop."""
        ...


@dataclass(slots=True)
class Backend:
    """A run's store, and for a shared backend its claims and its shared limiter."""

    store: RecordStore
    claims: Claims | None = None
    limiter: Limiter | None = None

    async def aclose_loop(self) -> None:
        """Close what the shared parts opened in the running event loop (each run of a pipeline has its own)."""
        if self.claims is not None:
            await self.claims.aclose()
        closer = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()
