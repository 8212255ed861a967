"""Articles in, records out: cache first, then the endpoint (live or the loopback server for ``--replay``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.config import NO_KEY, Settings
from summarizer.errors import ExtractionError
from summarizer.extraction.backend import Limiter, RecordStore
from summarizer.extraction.backends import open_backend
from summarizer.extraction.cache import cache_key
from summarizer.extraction.limits import RateLimiter
from summarizer.extraction.prompts import PromptSet, load_prompts
from summarizer.extraction.records import Origin, Record, Usage
from summarizer.extraction.results import ArticleResult, Progress, RunResult
from summarizer.ingest.articles import Article, load_articles

if TYPE_CHECKING:
    from summarizer.extraction.client import Extractor
    from summarizer.extraction.tasks import Task


_log = logging.getLogger(__name__)


class _Writes:
    """Records handed to the cache's writer thread, at most ``limit`` waiting at a time, and the first write
    that failed.

    A worker hands its record over and goes on to its next article. Waiting for the write instead cost each
    request 10 to 15 ms (at 32 in flight): the writes queue on one thread, and each needs the interpreter lock
    back from the event loop several times, between SQLite's statements."""

    def __init__(self, writer: ThreadPoolExecutor, cache: RecordStore, limit: int) -> None:
        self._writer = writer
        self._cache = cache
        self._room = asyncio.Semaphore(limit)
        self._pending: set[asyncio.Future[None]] = set()
        self.failure: BaseException | None = None

    async def put(self, record: Record) -> None:
        """Queue ``record``'s write, once there is room; raises the first failed write instead, so that a run
        stops fetching what it cannot keep."""
        self.check()
        await self._room.acquire()
        write = asyncio.get_running_loop().run_in_executor(self._writer, self._cache.put, record)
        self._pending.add(write)
        write.add_done_callback(self._done)

    def _done(self, write: asyncio.Future[None]) -> None:
        self._pending.discard(write)
        self._room.release()
        if not write.cancelled() and self.failure is None:
            self.failure = write.exception()

    async def settle(self) -> None:
        """Wait until every queued record is written (or has failed)."""
        if self._pending:
            await asyncio.wait(set(self._pending))

    def check(self) -> None:
        """Raise the first failed write, if any."""
        if self.failure is not None:
            raise self.failure


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A stand-in for the settings' own endpoint, such as the replay server.

    Its answers are cached apart from live ones (``cache_namespace`` is part of their keys), so that they never
    answer a later live run, and they cost nothing."""

    settings: Settings
    """Settings pointing at the stand-in."""
    name: str
    """How errors name it, in place of its throwaway loopback address."""
    cache_namespace: str
    """Keeps the stand-in's answers apart in the cache."""
    origins: Mapping[str, Origin] = field(default_factory=dict)
    """Where each article's answer came from, by article id (``authored`` for a hand-written recording)."""
    notices: tuple[str, ...] = ()
    """What a run through it should tell its user."""


EndpointFactory = Callable[[Settings], contextlib.AbstractContextManager[Endpoint]]
"""Opens a stand-in endpoint for the given settings; closing it stops the stand-in."""


class Pipeline:
    """Extracts articles through the cache, ``settings.concurrency`` requests at a time. The endpoint is
    contacted only on a cache miss, or for every article with ``refresh`` (the answers are still cached).

    Each record is written to the cache as it arrives, on a thread of its own that the run does not wait for;
    a run returns (or raises) only once every record it fetched is written. An interrupted run loses the
    requests in flight; a killed one also loses the records still queued for writing (at most
    ``settings.concurrency``).

    With ``stand_in`` (the replay server, say), misses go there, under its settings rather than ``settings``,
    and its answers are cached apart."""

    def __init__(
        self,
        settings: Settings,
        *,
        prompts: PromptSet | None = None,
        refresh: bool = False,
        limiter: Limiter | None = None,
        backoff_initial: float = 1.0,
        stand_in: Endpoint | None = None,
        task: Task | None = None,
    ) -> None:
        """``task`` says what is asked for each "article" (default: its extraction, with ``prompts``)."""
        if stand_in is not None:
            settings = stand_in.settings
        self.settings = settings
        self.stand_in = stand_in
        self.task = task
        self.prompts = task.prompts if task is not None else prompts or load_prompts(settings.prompts_dir)
        self.refresh = refresh
        # With ``cache_url``, Redis: records, one request per article and the limits shared with other workers.
        self._backend = open_backend(settings)
        self.limiter = limiter or self._backend.limiter or RateLimiter(settings.rpm, settings.tpm)
        self._backoff_initial = backoff_initial
        self._cache = self._backend.store
        # Records are written on their own thread: SQLite releases the GIL while it writes, so the event loop
        # goes on sending and parsing meanwhile. One thread, so that its connection is the one closed.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")
        self._writing = False
        self._closed = False

    def close(self) -> None:
        """Release the cache (again is harmless)."""
        if self._closed:
            return
        self._closed = True
        if self._writing:  # its thread holds a connection of its own; a run from the cache never started it
            self._writer.submit(self._cache.close).result()
        self._writer.shutdown()
        self._cache.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def cached(self, article: Article) -> tuple[str, Record | None]:
        """``article``'s cache key, and its record if the cache holds one (never with ``refresh``)."""
        namespace = self.stand_in.cache_namespace if self.stand_in is not None else None
        key = cache_key(article, self.settings, self.prompts, namespace=namespace, task=self.task)
        return key, None if self.refresh else self._cache.get(key)

    def notices(self) -> list[str]:
        """What the runs so far should tell their user about the cache (a spool written or filled, say)."""
        return self._cache.notices()

    async def _fetch(
        self, extractor: Extractor, writes: _Writes, article: Article, key: str, *, wait: bool = True
    ) -> ArticleResult | None:
        """The article fetched; with a shared backend, only while no other worker fetches it (its record once
        stored, or None at once when it is busy and not ``wait``)."""
        claims = self._backend.claims
        if claims is None:
            return await self._fetch_now(extractor, writes, article, key)
        async with claims.claim(key, refresh=self.refresh, wait=wait) as claim:
            if claim.busy:
                return None
            if claim.record is not None:
                _log.debug("%s (%s): fetched by another worker", article.id, article.source)
                return ArticleResult(article, "cached", claim.record)
            result = await self._fetch_now(extractor, writes, article, key)
            await writes.settle()  # stored before the claim is given up, so that the waiting workers find it
            return result

    async def _fetch_now(self, extractor: Extractor, writes: _Writes, article: Article, key: str) -> ArticleResult:
        stand_in = self.stand_in is not None
        try:
            record = await extractor.extract(article, key)
        except ExtractionError as exc:
            _log.info("%s (%s): failed: %s", article.id, article.source, exc)
            spent = Usage.of(exc.prompt_tokens, exc.completion_tokens)
            return ArticleResult(
                article, "failed", error=str(exc), exception=exc, spent=spent, attempts=exc.attempts, stand_in=stand_in
            )
        if self.stand_in is not None:
            record = record.model_copy(update={"origin": self.stand_in.origins.get(article.id, record.origin)})
        await writes.put(record)
        _log.debug("%s (%s): fetched in %d request(s)", article.id, article.source, record.response.attempts)
        attempts = record.response.attempts
        return ArticleResult(
            article, "fetched", record, spent=record.response.usage, attempts=attempts, stand_in=stand_in
        )

    async def arun(self, articles: Iterable[Article], progress: Progress | None = None) -> list[ArticleResult]:
        """Every article's result, in input order; ``progress`` sees each as it is done. Cache hits are
        answered first, without starting a client; misses go to the endpoint concurrently.

        Raises ConfigError when no article can succeed (no key, key rejected); records already fetched
        stay cached."""
        results: list[ArticleResult | None] = []
        misses: list[tuple[int, Article, str]] = []
        for article in articles:
            key, hit = self.cached(article)
            if hit is None:
                misses.append((len(results), article, key))
                results.append(None)
                continue
            _log.debug("%s (%s): cache hit", article.id, article.source)
            result = ArticleResult(article, "cached", hit)
            results.append(result)
            if progress is not None:
                progress(result)
        s = self.settings
        _log.info(
            "%d article(s): %d from the cache, %d to fetch from %s (model %s, mode %s, concurrency %d%s%s)",
            len(results),
            len(results) - len(misses),
            len(misses),
            s.base_url or "the OpenAI API",
            s.model,
            s.mode,
            s.concurrency,
            f", rpm {s.rpm}" if s.rpm else "",
            f", tpm {s.tpm}" if s.tpm else "",
        )
        if misses and self.settings.api_key is None and len(misses) < len(results):
            # What the cache holds is still worth a briefing; each article it lacks is named, with the fix.
            for index, article, _ in misses:
                results[index] = result = ArticleResult(article, "failed", error=f"not in the cache, and {NO_KEY}")
                if progress is not None:
                    progress(result)
            misses = []
        if misses:
            # Imported on the first miss: a run served from the cache never loads openai or needs a key.
            from summarizer.extraction.client import Extractor

            writes = _Writes(self._writer, self._cache, limit=self.settings.concurrency)
            self._writing = True
            async with Extractor(
                self.settings,
                self.prompts,
                limiter=self.limiter,
                backoff_initial=self._backoff_initial,
                endpoint_name=self.stand_in.name if self.stand_in is not None else None,
                task=self.task,
            ) as extractor:
                pending = iter(misses)
                busy: list[tuple[int, Article, str]] = []

                async def worker() -> None:
                    # Articles another worker is fetching are left for the end, and waited for then.
                    for index, article, key in pending:
                        result = await self._fetch(extractor, writes, article, key, wait=False)
                        if result is None:
                            busy.append((index, article, key))
                            continue
                        results[index] = result
                        if progress is not None:
                            progress(result)
                    while busy:
                        index, article, key = busy.pop(0)
                        result = await self._fetch(extractor, writes, article, key)
                        assert result is not None
                        results[index] = result
                        if progress is not None:
                            progress(result)

                workers = min(self.settings.concurrency, len(misses))
                try:
                    async with asyncio.TaskGroup() as group:
                        for _ in range(workers):
                            group.create_task(worker())
                except BaseExceptionGroup as group_error:
                    raise group_error.exceptions[0] from None
                finally:
                    await writes.settle()
                    await self._backend.aclose_loop()
            writes.check()
        return [r for r in results if r is not None]

    def run(self, articles: Iterable[Article], progress: Progress | None = None) -> list[ArticleResult]:
        """``arun`` for callers without an event loop of their own."""
        return asyncio.run(self.arun(articles, progress))

    async def aprocess(self, article: Article) -> ArticleResult:
        """One article's result."""
        return (await self.arun([article]))[0]

    def process(self, article: Article) -> ArticleResult:
        """One article's result, for callers without an event loop of their own."""
        return self.run([article])[0]


@contextlib.contextmanager
def open_pipeline(
    settings: Settings,
    *,
    endpoint: EndpointFactory | None = None,
    notices: list[str] | None = None,
    refresh: bool = False,
    task: Task | None = None,
) -> Iterator[Pipeline]:
    """A pipeline for ``settings`` (asking what ``task`` asks, by default extraction); with ``endpoint``, one
    whose misses go to that stand-in (its notices are appended to ``notices``)."""
    with contextlib.ExitStack() as stack:
        stand_in = None
        if endpoint is not None:
            stand_in = stack.enter_context(endpoint(settings))
            if notices is not None:
                notices.extend(stand_in.notices)
        pipeline = stack.enter_context(Pipeline(settings, refresh=refresh, stand_in=stand_in, task=task))
        yield pipeline
        if notices is not None:
            notices.extend(pipeline.notices())


async def aextract_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    endpoint: EndpointFactory | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    refresh: bool = False,
) -> RunResult:
    """Read the articles under ``paths`` and extract each (from the cache where possible, unless ``refresh``).

    With ``endpoint``, misses are answered by that stand-in (the replay server, say). ``on_total`` hears how
    many articles were read before any is extracted; ``progress`` sees each result as it comes."""
    loaded = load_articles(paths, max_chars=settings.max_article_chars)
    run = RunResult(input_errors=loaded.errors, notices=list(loaded.warnings), settings=settings)
    if on_total is not None:
        on_total(len(loaded.articles))
    if not loaded.articles:
        return run
    with open_pipeline(settings, endpoint=endpoint, notices=run.notices, refresh=refresh) as pipeline:
        run.results = await pipeline.arun(loaded.articles, progress)
    return run


def extract_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    endpoint: EndpointFactory | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    refresh: bool = False,
) -> RunResult:
    """``aextract_paths`` for callers without an event loop of their own."""
    return asyncio.run(
        aextract_paths(paths, settings, endpoint=endpoint, progress=progress, on_total=on_total, refresh=refresh)
    )
