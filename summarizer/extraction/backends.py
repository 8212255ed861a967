"""Which backend a run opens: the local cache in ``cache_dir``, or Redis at ``cache_url`` with its claims and its
shared limits. The Redis modules are imported only when a run asks for Redis."""

from __future__ import annotations

from summarizer.config import Settings
from summarizer.extraction.backend import Backend
from summarizer.extraction.cache import ResponseCache


def open_backend(settings: Settings) -> Backend:
    """The backend ``settings`` ask for: Redis at ``cache_url``, else the local cache in ``cache_dir``. Raises
    ConfigError, naming the URL (never its password) or the folder, when it cannot be reached."""
    if settings.cache_url is None:
        return Backend(ResponseCache(settings.cache_dir))
    return redis_backend(settings)


def redis_backend(settings: Settings) -> Backend:
    """The Redis backend for ``settings.cache_url``: its store, one claim per article, and the shared limits."""
    from summarizer.extraction.claims import RedisClaims
    from summarizer.extraction.redis_backend import SPOOL_DIR, LoopClient, RedisStore, limits_name
    from summarizer.extraction.shared_limits import SharedRateLimiter

    if settings.cache_url is None:
        raise ValueError("a Redis backend needs settings.cache_url")
    store = RedisStore(settings.cache_url, settings.cache_dir / SPOOL_DIR)
    claims = RedisClaims(LoopClient(settings.cache_url), store, timeout=settings.lock_timeout)
    limiter = None
    if settings.rpm is not None or settings.tpm is not None:
        limiter = SharedRateLimiter(
            LoopClient(settings.cache_url), limits_name(settings), settings.rpm, settings.tpm, health=store.health
        )
    return Backend(store, claims, limiter)
