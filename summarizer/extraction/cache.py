"""The on-disk response cache (diskcache). Entries are records, stored as the same JSON as recording files.

Entries are the record's UTF-8 bytes, not a str: sqlite3 hands back a str decoded from UTF-8, which pydantic
then encodes back to UTF-8 to parse it; that round trip doubled the cost of reading a record on a warm run.
Entries stored as str (by earlier versions) are still read."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import diskcache

from summarizer.config import Settings
from summarizer.errors import ConfigError, RecordingError
from summarizer.extraction.guide import GUIDED_MODES, guide_hash
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import Record, schema_hash
from summarizer.extraction.tasks import Task
from summarizer.hashing import canonical_json, digest
from summarizer.ingest.articles import Article

KEY_VERSION = "k2-"


def cache_key(
    article: Article, settings: Settings, prompts: PromptSet, *, namespace: str | None = None, task: Task | None = None
) -> str:
    """A versioned hash of everything that changes the answer: the article as sent (its text, through the id
    already hashed from it, title, date, outlet), the model, the prompt, the schema and the sampling
    parameters. The endpoint's address and the API key are left out on purpose: the same model answers the
    same, wherever it is served. A stand-in endpoint's answers (the replay server's) carry its ``namespace``,
    so that they never answer a live run. ``task`` (default: extraction with ``prompts``) gives the schema; a
    task other than extraction is named in the key, so that its answers and an article's never share one."""
    parts: dict[str, object] = {
        "article": article.id,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "outlet": article.outlet,
        "model": settings.model,
        "mode": settings.mode,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "prompt": prompts.hash,
        "schema": task.schema_hash if task is not None else schema_hash(),
    }
    if task is not None and task.name != "extract":
        parts["task"] = task.name
    # max_reasks is left out: a record is cached only once an answer passed, and that answer is the same
    # whatever the limit above the re-ask it came at; a higher limit only turns failures (never cached) into
    # records. The field guide goes in only for the modes that send it, so the others keep their keys.
    if settings.mode in GUIDED_MODES:
        parts["guide"] = guide_hash(task.response_model) if task is not None else guide_hash()
    if namespace is not None:
        parts["namespace"] = namespace
    return digest(KEY_VERSION, canonical_json(parts), length=32)


def entry_bytes(record: Record) -> bytes:
    """What the cache stores for ``record``: the text of its recording file, in UTF-8."""
    return record.to_json().encode("utf-8")


def entry_record(raw: str | bytes, key: str) -> Record:
    """The record in a stored entry. Raises RecordingError when the entry is not a record."""
    return Record.from_json(raw, f"cache entry {key}")


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What ``summarizer cache info`` shows."""

    location: str
    """The cache's folder, or its Redis URL (without a password)."""
    entries: int
    size_bytes: int


_STORAGE_FAULTS = (OSError, sqlite3.Error, diskcache.Timeout)
_T = TypeVar("_T")


class ResponseCache:
    """Records by cache key. Safe for several processes at once: diskcache writes each entry in one SQLite
    transaction, so an entry is either whole or absent. A directory that cannot be opened, read or written
    (a file, no permission, a full disk, a damaged database) raises ConfigError, naming it and the fix."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache = self._storage("open", lambda: diskcache.Cache(str(directory)))

    def _storage(self, doing: str, call: Callable[[], _T]) -> _T:
        """``call()``, its storage faults raised as the one-line ConfigError."""
        try:
            return call()
        except _STORAGE_FAULTS as exc:
            raise ConfigError(
                f"{self.directory}: cannot {doing} the cache ({exc or type(exc).__name__}); give another "
                "--cache-dir (or cache_dir in the settings), or free disk space / fix its permissions"
            ) from None

    def get(self, key: str) -> Record | None:
        """The record stored under ``key``, or None (also for an entry that no longer parses)."""
        raw = self._storage("read", lambda: self._cache.get(key))
        if not isinstance(raw, bytes | str):
            return None
        try:
            return entry_record(raw, key)
        except RecordingError:
            return None

    def put(self, record: Record) -> None:
        """Store ``record`` under its own key."""
        self._storage("write", lambda: self._cache.set(record.key, entry_bytes(record)))

    def info(self) -> CacheInfo:
        """Entry count and size on disk."""
        return self._storage("read", lambda: CacheInfo(self.location, len(self._cache), int(self._cache.volume())))

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        return self._storage("clear", lambda: int(self._cache.clear()))

    @property
    def location(self) -> str:
        """The cache's folder, as messages name it."""
        return str(self.directory)

    def notices(self) -> list[str]:
        """What a run on this cache should tell its user: nothing, for a local cache."""
        return []

    def close(self) -> None:
        """Release the database handle."""
        self._cache.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
