"""Articles in, records out: cache first, then the endpoint (live or the loopback server for ``--replay``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from .briefing import Briefing, Failure
from .cache import ResponseCache, cache_key
from .config import Settings
from .daily import focus_on_day
from .entities import AliasTable
from .errors import ExtractionError, InputError, UserError
from .ingest import Article, load_articles
from .loopback import LoopbackServer
from .merge import merge, number_sources
from .prompts import PromptSet, load_prompts
from .records import Record, read_recordings, schema_hash

if TYPE_CHECKING:
    from .extract import Extractor

Outcome = Literal["cached", "fetched", "failed"]

#: Exit codes, as documented in the README.
EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """What became of one article."""

    article: Article
    outcome: Outcome
    record: Record | None = None
    error: str | None = None


@dataclass(slots=True)
class RunResult:
    """Every article's result, and the inputs that could not be read."""

    results: list[ArticleResult] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[tuple[Article, Record]]:
        """The articles that have a record, with it."""
        return [(r.article, r.record) for r in self.results if r.record is not None]

    @property
    def failures(self) -> list[Failure]:
        """Inputs left out, with the reason."""
        failed = [Failure(location=r.article.source, reason=r.error or "failed") for r in self.results if r.error]
        return [*(Failure(location=e.path, reason=str(e)) for e in self.input_errors), *failed]

    def count(self, outcome: Outcome) -> int:
        """How many articles ended with ``outcome``."""
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def exit_code(self) -> int:
        """0 all done; 1 some inputs left out; 3 nothing extracted (2 is for usage errors, raised earlier)."""
        if not self.records:
            return EXIT_FAILED
        return EXIT_PARTIAL if self.failures else EXIT_OK


Progress = Callable[[ArticleResult], None]


@contextlib.contextmanager
def replay_endpoint(settings: Settings, recordings_dir: Path, notices: list[str]) -> Iterator[Settings]:
    """Serve ``recordings_dir`` on a loopback port and yield settings pointing at it.

    Recordings made for another prompt or schema are still served, with a notice naming them."""
    recordings = read_recordings(recordings_dir)
    current_prompt, current_schema = load_prompts(settings.prompts_dir).hash, schema_hash()
    stale = sorted(
        Path(r.request.article_source).name
        for r in recordings.values()
        if (r.request.prompt_hash, r.request.schema_hash) != (current_prompt, current_schema)
    )
    if stale:
        notices.append(
            f"{len(stale)} recording(s) in {recordings_dir} were made for another prompt or schema "
            f"({', '.join(stale[:5])}{', …' if len(stale) > 5 else ''}); re-record them with `summarizer record`"
        )
    with LoopbackServer(recordings) as server:
        yield settings.replace(base_url=server.url, api_key=SecretStr("replay"))


class Pipeline:
    """Extracts articles through the cache. The endpoint is contacted only on a cache miss, or for every
    article with ``refresh`` (the answers are still cached)."""

    def __init__(self, settings: Settings, *, prompts: PromptSet | None = None, refresh: bool = False) -> None:
        self.settings = settings
        self.prompts = prompts or load_prompts(settings.prompts_dir)
        self.refresh = refresh
        self._cache = ResponseCache(settings.cache_dir)
        self._extractor: Extractor | None = None

    def close(self) -> None:
        """Release the cache and the HTTP client."""
        self._cache.close()
        if self._extractor is not None:
            self._extractor.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _extract(self, article: Article, key: str) -> Record:
        # Imported on first miss: a run served from the cache never loads openai or needs a key.
        from .extract import Extractor

        if self._extractor is None:
            self._extractor = Extractor(self.settings, self.prompts)
        return self._extractor.extract(article, key)

    def process(self, article: Article) -> ArticleResult:
        """One article's result. Raises ConfigError when no article can succeed (no key, key rejected)."""
        key = cache_key(article, self.settings, self.prompts)
        hit = None if self.refresh else self._cache.get(key)
        if hit is not None:
            return ArticleResult(article, "cached", hit)
        try:
            record = self._extract(article, key)
        except ExtractionError as exc:
            return ArticleResult(article, "failed", error=str(exc))
        self._cache.put(record)
        return ArticleResult(article, "fetched", record)

    def run(self, articles: Sequence[Article], progress: Progress | None = None) -> list[ArticleResult]:
        """Every article's result, in input order."""
        results: list[ArticleResult] = []
        for article in articles:
            result = self.process(article)
            results.append(result)
            if progress is not None:
                progress(result)
        return results


@contextlib.contextmanager
def open_pipeline(
    settings: Settings, *, replay: Path | None = None, notices: list[str] | None = None, refresh: bool = False
) -> Iterator[Pipeline]:
    """A pipeline for ``settings``; with ``replay``, one whose endpoint is a loopback server serving that
    recordings folder (its notices are appended to ``notices``)."""
    with contextlib.ExitStack() as stack:
        if replay is not None:
            settings = stack.enter_context(replay_endpoint(settings, replay, [] if notices is None else notices))
        yield stack.enter_context(Pipeline(settings, refresh=refresh))


def extract_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    replay: Path | None = None,
    progress: Progress | None = None,
    refresh: bool = False,
) -> RunResult:
    """Read the articles under ``paths`` and extract each (from the cache where possible, unless ``refresh``).

    With ``replay``, misses are answered by a loopback server serving that recordings folder."""
    loaded = load_articles(paths)
    run = RunResult(input_errors=loaded.errors)
    if not loaded.articles:
        return run
    with open_pipeline(settings, replay=replay, notices=run.notices, refresh=refresh) as pipeline:
        run.results = pipeline.run(loaded.articles, progress)
    return run


def brief(
    run: RunResult,
    *,
    aliases_files: Sequence[Path] = (),
    generated: datetime | None = None,
    title: str | None = None,
    day: date | None = None,
) -> Briefing:
    """The briefing for a finished run; inputs left out are listed in it.

    With ``day``, the daily briefing: the articles published that day, marked against earlier ones."""
    if not run.records:
        raise ExtractionError("no article could be extracted, so there is nothing to brief; see the errors above")
    records = run.records
    notices = list(run.notices)
    if day is not None:
        records = [(a, r) for a, r in records if a.published is not None and a.published <= day]
        if not any(a.published == day for a, _ in records):
            raise UserError(
                f"no article published on {day} among the inputs; check --date or the articles' published dates"
            )
        left = len(run.records) - len(records)
        if left:
            notices.append(f"{left} article(s) published later or with no known date are not in this daily briefing")
    briefing = merge(
        number_sources(records),
        generated=generated or datetime.now(UTC),
        aliases=AliasTable.load(*aliases_files),
        failures=run.failures,
        title=title,
    )
    if day is not None:
        briefing = focus_on_day(briefing, day)
    if notices:
        briefing = briefing.model_copy(update={"notices": [*notices, *briefing.notices]})
    return briefing
