"""``summarizer record``: fresh answers from an endpoint, written as recording files and cached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from summarizer.config import Settings
from summarizer.errors import RecordingError
from summarizer.extraction.pipeline import extract_paths
from summarizer.extraction.records import recording_filename
from summarizer.extraction.results import ArticleResult, Progress, RunResult


def record_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    directory: Path,
    *,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> RunResult:
    """Ask the endpoint for every article under ``paths`` (the cache is not read, so each answer is fresh),
    write each record to ``directory`` as it arrives, and cache it. Failures are listed in the result."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"{directory}: cannot create ({exc.strerror}); choose another --to") from None

    def keep(result: ArticleResult) -> None:
        if result.record is not None:
            path = directory / recording_filename(result.record)
            path.write_text(result.record.to_json(), encoding="utf-8")
        if progress is not None:
            progress(result)

    return extract_paths(paths, settings, progress=keep, on_total=on_total, refresh=True)
