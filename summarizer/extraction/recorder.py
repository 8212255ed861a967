"""``summarizer record``: fresh answers from an endpoint, written as recording files and cached.

An article that fails gets a ``<stem>.failed.json`` note beside the recordings instead: the error, what the
attempts cost, and the last answer rejected, as the model wrote it, for the user to see what the model made of the
article. ``read_recordings`` leaves the notes out, and recording the article later removes its note."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from summarizer.config import Settings
from summarizer.errors import CapReached, RecordingError
from summarizer.extraction.pipeline import extract_paths
from summarizer.extraction.records import FAILED_SUFFIX, recording_filename, recording_stem
from summarizer.extraction.results import ArticleResult, Progress, RunResult

FAILURE_FORMAT = "summarizer.failure/1"


def failure_note(result: ArticleResult, settings: Settings) -> str:
    """The ``.failed.json`` text for a failed article: which article, the settings that matter, the error, the
    attempts and tokens spent, and ``raw_answer`` (null when no answer came back, or none was rejected)."""
    article, failure = result.article, result.exception
    note = {
        "format": FAILURE_FORMAT,
        "article_id": article.id,
        "article_title": article.title,
        "article_source": article.source,
        "model": settings.model,
        "mode": settings.mode,
        "max_tokens": settings.max_tokens,
        "error": result.error,
        "attempts": result.attempts,
        "prompt_tokens": failure.prompt_tokens if failure else 0,
        "completion_tokens": failure.completion_tokens if failure else 0,
        "raw_answer": failure.raw_answer if failure else None,
    }
    return json.dumps(note, indent=2, ensure_ascii=False) + "\n"


def record_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    directory: Path,
    *,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> RunResult:
    """Ask the endpoint for every article under ``paths`` (the cache is not read, so each answer is fresh),
    write each record to ``directory`` as it arrives, and cache it. Failures are listed in the result, and each
    leaves its ``.failed.json`` note in ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"{directory}: cannot create ({exc.strerror}); choose another --to") from None

    def keep(result: ArticleResult) -> None:
        note = directory / f"{recording_stem(result.article.source, result.article.id)}{FAILED_SUFFIX}"
        if result.record is not None:
            (directory / recording_filename(result.record)).write_text(result.record.to_json(), encoding="utf-8")
            note.unlink(missing_ok=True)
        elif result.outcome == "failed" and not isinstance(result.exception, CapReached):
            # An article the cap left unsent has nothing to show; a later run records it.
            note.write_text(failure_note(result, settings), encoding="utf-8")
        if progress is not None:
            progress(result)

    return extract_paths(paths, settings, progress=keep, on_total=on_total, refresh=True)
