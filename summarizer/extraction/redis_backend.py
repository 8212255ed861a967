"""The Redis backend: records under the same keys and bytes as the local cache, so that several workers (on one
machine or many) share them, with a local spool for the answers Redis could not take.

An answer is paid for once it is in: when Redis goes away mid-run, the records that cannot be written go to a
diskcache spool under ``cache_dir``, and the next run against Redis writes them there first and says so."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import diskcache
import redis
import redis.asyncio
import redis.asyncio.retry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from summarizer.config import Settings
from summarizer.errors import ConfigError, RecordingError
from summarizer.extraction.cache import CacheInfo, entry_bytes, entry_record
from summarizer.extraction.records import Record
from summarizer.hashing import digest

_log = logging.getLogger(__name__)

PREFIX = "summarizer:"
RECORDS = PREFIX + "record:"
"""Records are stored at ``summarizer:record:<cache key>``, so that the database can hold other things (the
task queue's jobs) beside them."""
CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 10.0
RETRY_AFTER_LOSS = 5.0
"""Seconds a worker that lost Redis works locally before it tries Redis again, rather than paying a connection
timeout for every article."""
SPOOL_DIR = "redis-spool"
_RETRIES = 3
"""Times a call is sent again after a timeout or a dropped connection: a worker whose event loop was busy (the
first request builds instructor's schema) can time out on an answer Redis gave at once. A Redis that is gone
still fails within a second."""

FAULTS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


def public_url(url: str) -> str:
    """``url`` as messages may show it: the password (and a user's name with it) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def reason(exc: BaseException) -> str:
    """One line on why a Redis call failed, without the URL's password (redis-py's messages carry no URL)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.rstrip(".")


class Health:
    """Whether this worker can reach Redis now, shared by its store, claims and limiter; what a run should be
    told about losing it."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.lost: str | None = None
        """Why Redis was last lost during this run, if it was."""
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        """True while recently lost: work locally without trying Redis."""
        return time.monotonic() < self._down_until

    def lose(self, exc: BaseException) -> None:
        """Note that a call to Redis failed with ``exc``."""
        if self.lost is None:
            _log.warning("%s: lost Redis (%s); working locally", self.location, reason(exc))
        self.lost = reason(exc)
        self._down_until = time.monotonic() + RETRY_AFTER_LOSS


class RedisStore:
    """Records in Redis, as the local cache holds them; a local spool for those Redis could not take.

    Opening it checks that the server answers (ConfigError naming the URL otherwise) and writes what the spool
    holds from an earlier run."""

    def __init__(self, url: str, spool_dir: Path, health: Health | None = None) -> None:
        self.url = url
        self.location = public_url(url)
        self.health = health or Health(self.location)
        self.spool_dir = spool_dir
        self._spool: diskcache.Cache | None = None
        self._spooled = 0
        self._notices: list[str] = []
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                retry_on_timeout=True,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), _RETRIES),
            )
            self._client.ping()
        except FAULTS as exc:
            raise ConfigError(
                f"{self.location}: cannot reach Redis ({reason(exc)}); start redis-server there, or fix --cache-url "
                "(SUMMARIZER_CACHE_URL)"
            ) from None
        except ValueError as exc:  # redis-py's word for a URL it cannot parse
            raise ConfigError(f"{self.location}: not a Redis URL ({exc}); write it as redis://HOST:PORT/DB") from None
        self._write_spool()

    # The spool ---------------------------------------------------------------------------------------------

    def _open_spool(self) -> diskcache.Cache:
        if self._spool is None:
            try:
                self._spool = diskcache.Cache(str(self.spool_dir))
            except OSError as exc:
                raise ConfigError(
                    f"{self.spool_dir}: cannot open the local spool for Redis ({exc.strerror}); give another "
                    "--cache-dir"
                ) from None
        return self._spool

    def _write_spool(self) -> None:
        """Write the records an earlier run kept in the spool to Redis, and say so."""
        if not self.spool_dir.exists():
            return
        spool = self._open_spool()
        written = 0
        for key in list(spool.iterkeys()):
            raw = spool.get(key)
            if isinstance(raw, bytes):
                try:
                    self._client.set(RECORDS + str(key), raw)
                except FAULTS as exc:
                    self.health.lose(exc)
                    break
                written += 1
            spool.delete(key)
        if written:
            self._notices.append(
                f"wrote {written} record(s) kept in the local spool {self.spool_dir} to Redis at {self.location}"
            )

    def spooled(self) -> int:
        """Records waiting in the spool for Redis."""
        return len(self._open_spool()) if self.spool_dir.exists() else 0

    # The store ---------------------------------------------------------------------------------------------

    def get(self, key: str) -> Record | None:
        """The record under ``key``: from Redis, or while Redis is lost from the spool (else None)."""
        raw: object = None
        if not self.health.down:
            try:
                raw = self._client.get(RECORDS + key)
            except FAULTS as exc:
                self.health.lose(exc)
        if raw is None and self._spool is not None:
            raw = self._spool.get(key)
        if not isinstance(raw, bytes | str):
            return None
        try:
            return entry_record(raw, key)
        except RecordingError:
            return None

    def put(self, record: Record) -> None:
        """Store ``record`` in Redis; in the local spool when Redis cannot take it, so that it is not lost."""
        data = entry_bytes(record)
        if not self.health.down:
            try:
                self._client.set(RECORDS + record.key, data)
                return
            except FAULTS as exc:
                self.health.lose(exc)
        try:
            self._open_spool().set(record.key, data)
        except (OSError, diskcache.Timeout) as exc:
            raise ConfigError(
                f"{self.spool_dir}: cannot keep a record in the local spool while Redis at {self.location} is "
                f"unreachable ({exc}); free disk space or give another --cache-dir"
            ) from None
        self._spooled += 1

    def _keys(self) -> list[bytes]:
        return list(self._client.scan_iter(match=RECORDS + "*", count=1000))

    def info(self) -> CacheInfo:
        """Records in Redis and their size in bytes (the spool's are not counted)."""
        try:
            keys = self._keys()
            size = 0
            for start in range(0, len(keys), 1000):
                with self._client.pipeline(transaction=False) as pipe:
                    for key in keys[start : start + 1000]:
                        pipe.strlen(key)
                    size += sum(int(n) for n in pipe.execute())
        except FAULTS as exc:
            raise self._unreachable(exc, "read") from None
        return CacheInfo(self.location, len(keys), size)

    def clear(self) -> int:
        """Remove every record from Redis (nothing else in its database) and from the spool."""
        try:
            keys = self._keys()
            for start in range(0, len(keys), 1000):
                self._client.unlink(*keys[start : start + 1000])
        except FAULTS as exc:
            raise self._unreachable(exc, "clear") from None
        spooled = 0
        if self.spool_dir.exists():
            spooled = int(self._open_spool().clear())
        return len(keys) + spooled

    def _unreachable(self, exc: BaseException, doing: str) -> ConfigError:
        return ConfigError(f"{self.location}: cannot {doing} the cache in Redis ({reason(exc)}); is redis-server up?")

    def notices(self) -> list[str]:
        """The spool written at the start, and what this run had to spool."""
        notices = list(self._notices)
        if self.health.lost is not None:
            notices.append(f"lost Redis at {self.location} during the run ({self.health.lost}); worked on locally")
        if self._spooled:
            notices.append(
                f"{self._spooled} record(s) Redis could not take are kept in the local spool {self.spool_dir}; the "
                "next run against Redis writes them there"
            )
        return notices

    def close(self) -> None:
        """Release the connections and the spool."""
        self._client.close()
        if self._spool is not None:
            self._spool.close()


class LoopClient:
    """An asyncio Redis client for the running event loop: a pipeline may run in one loop after another (each
    ``Pipeline.run`` has its own), and a client's connections belong to the loop that opened them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: redis.asyncio.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> redis.asyncio.Redis:
        """The client for the running loop, opened on first use."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = redis.asyncio.Redis.from_url(
                self.url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                retry_on_timeout=True,
                retry=redis.asyncio.retry.Retry(ExponentialBackoff(cap=0.5, base=0.05), _RETRIES),
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the running loop's client, if it opened one."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._loop = None


def limits_name(settings: Settings) -> str:
    """Which shared budget a run draws on: one per endpoint and model, as providers count them (the key is
    left out: a budget is the organisation's, and a key is never stored)."""
    return digest("", settings.base_url or "openai", settings.model, length=16)
