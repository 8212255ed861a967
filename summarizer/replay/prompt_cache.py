"""The replay server's stand-in for a provider's automatic prompt caching, so that runs report ``cached_tokens``
as OpenAI's API does.

OpenAI caches a prompt's prefix once the prompt is 1,024 tokens or longer; a later request that starts with the
same bytes is served the cached part, counted in ``usage.prompt_tokens_details.cached_tokens`` and billed at the
cached rate. Hits come in steps of 128 tokens from 1,024 up, and a prefix unused for a few minutes is evicted.
The prompt is read in the order a provider lays it out: the tools (or response format) first, then the messages.

A provider compares the prefix token by token; here it is compared part by part (the schema, then each message
whole), and the tokens of the parts matched are rounded down to the step. The difference is the few tokens a
message shares with another beyond the end of the last message they share, which the rounding all but always
drops anyway; in return, requests that arrive together get the same hits whatever order they are read in, so
that a run's counts do not depend on the timing of its requests.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence

from summarizer.extraction.records import estimate_tokens

MIN_CACHED_TOKENS = 1024
"""The shortest prefix a provider caches (OpenAI: 1,024 tokens)."""
CACHE_STEP_TOKENS = 128
"""Cached tokens come in steps of this many (OpenAI: 128)."""
_PRUNE_AT = 100_000


class PromptCache:
    """Prompt prefixes seen, by chained hash, with when each was last used. Thread-safe."""

    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        """``ttl``: seconds a prefix stays cached after its last use (OpenAI: five to ten minutes)."""
        self.ttl = ttl
        self._clock = clock
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def cached_tokens(self, parts: Sequence[str], prompt_tokens: int) -> int:
        """The tokens of the prompt made of ``parts`` (in the provider's order) that a provider would serve from
        its cache, given the prompts before it; then this prompt's prefixes are cached in turn.
        ``prompt_tokens`` is what the prompt is billed as, which no hit exceeds."""
        chained = hashlib.sha256()
        prefixes: list[bytes] = []
        for part in parts:
            chained.update(len(part).to_bytes(8, "big") + part.encode("utf-8"))
            prefixes.append(chained.copy().digest())
        now = self._clock()
        with self._lock:
            matched = 0
            for prefix in prefixes:
                used = self._seen.get(prefix)
                if used is None or now - used > self.ttl:
                    break
                matched += 1
            for prefix in prefixes:
                self._seen[prefix] = now
            if len(self._seen) > _PRUNE_AT:
                self._seen = {p: t for p, t in self._seen.items() if now - t <= self.ttl}
        if not matched:
            return 0
        hit = min(estimate_tokens("".join(parts[:matched])), prompt_tokens)
        hit = hit // CACHE_STEP_TOKENS * CACHE_STEP_TOKENS
        return hit if hit >= MIN_CACHED_TOKENS else 0
