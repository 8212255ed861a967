"""``summarizer record``: fresh answers from an endpoint, written as recording files and cached."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .cache import ResponseCache, cache_key
from .config import Settings
from .errors import ExtractionError, RecordingError
from .ingest import load_articles
from .pipeline import ArticleResult, Progress, RunResult
from .prompts import load_prompts
from .records import recording_filename


def record_paths(
    paths: Sequence[Path | str], settings: Settings, directory: Path, *, progress: Progress | None = None
) -> RunResult:
    """Ask the endpoint for every article under ``paths`` (the cache is not read, so each answer is fresh),
    write each record to ``directory`` and to the cache. Failures are listed in the result."""
    from .extract import Extractor

    loaded = load_articles(paths)
    run = RunResult(input_errors=loaded.errors)
    if not loaded.articles:
        return run
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"{directory}: cannot create ({exc.strerror}); choose another --to") from None
    prompts = load_prompts(settings.prompts_dir)
    extractor = Extractor(settings, prompts)
    try:
        with ResponseCache(settings.cache_dir) as cache:
            for article in loaded.articles:
                try:
                    record = extractor.extract(article, cache_key(article, settings, prompts))
                except ExtractionError as exc:
                    result = ArticleResult(article, "failed", error=str(exc))
                else:
                    (directory / recording_filename(record)).write_text(record.to_json(), encoding="utf-8")
                    cache.put(record)
                    result = ArticleResult(article, "fetched", record)
                run.results.append(result)
                if progress is not None:
                    progress(result)
    finally:
        extractor.close()
    return run
