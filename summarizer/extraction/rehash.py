"""``summarizer recordings rehash``: recordings renewed for the current prompt and schema, answers kept.

A recording names the prompt and schema it answered (their hashes) and the cache key it is stored under, which
hashes both. After a change to either, every recording is stale: served with a notice, and never a cache hit
for the current settings. When the change leaves the answers right (a shorter description, a reworded rule),
rehashing renews the hashes and the key and keeps everything else. The key is computed as ``summarizer record``
computes it, from the article as it is read now and the recording's own model, mode, temperature and
``max_tokens``. An answer the current schema no longer accepts is not renewed: it needs recording again or
editing, and the file is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from summarizer.config import Settings
from summarizer.errors import RecordingError, first_problem
from summarizer.extraction.cache import cache_key
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import FAILED_SUFFIX, Record, schema_hash
from summarizer.extraction.tasks import Task
from summarizer.ingest.articles import Article, load_articles


@dataclass(slots=True)
class RehashResult:
    """What a rehash did, file by file."""

    renewed: list[Path] = field(default_factory=list)
    current: list[Path] = field(default_factory=list)
    """Already made for the current prompt and schema, under the right key: left as they are."""
    problems: list[str] = field(default_factory=list)
    """One line per recording that could not be renewed, naming the file and the fix."""
    stories: list[Path] = field(default_factory=list)
    """Recordings of a story's top line, left to ``briefing.story_rehash``: their "article" is the story's
    facts, which only a briefing of its articles makes."""


def recording_files(directory: Path) -> list[Path]:
    """The recording files in ``directory`` (not the answers kept from failed requests)."""
    if not directory.is_dir():
        raise RecordingError(f"{directory}: no such recordings directory; give the folder the recordings are in")
    return [p for p in sorted(directory.glob("*.json")) if not p.name.endswith(FAILED_SUFFIX)]


def articles_by_id(paths: Sequence[Path | str], settings: Settings, *, strict: bool) -> dict[str, Article]:
    """The articles under ``paths`` by id; with ``strict``, the first that cannot be read is an InputError."""
    loaded = load_articles(paths, max_chars=settings.max_article_chars)
    if loaded.errors and strict:
        raise loaded.errors[0]
    return {a.id: a for a in loaded.articles}


def renewed(
    record: Record, article: Article, settings: Settings, prompts: PromptSet, task: Task | None = None
) -> Record:
    """``record`` as made for ``prompts`` and the current schema (``task``'s prompts and schema, for a request
    other than an extraction): new hashes and key, the rest as it was."""
    if task is not None:
        prompts = task.prompts
    request = record.request
    # model_copy, not replace: a recording's max_tokens of None must stay None, not become the default.
    asked = settings.model_copy(
        update={
            "model": request.model,
            "mode": request.mode,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
    )
    hashed = task.schema_hash if task is not None else schema_hash()
    return record.model_copy(
        update={
            "key": cache_key(article, asked, prompts, task=task),
            "request": request.model_copy(update={"prompt_hash": prompts.hash, "schema_hash": hashed}),
        }
    )


def rehash_recordings(
    directory: Path, settings: Settings, prompts: PromptSet, articles: Sequence[Path | str] = ()
) -> RehashResult:
    """Renew every recording in ``directory`` for ``prompts`` and the current schema, rewriting only the
    files that change. Each recording's article is found among ``articles`` (files or folders) by its id, or
    else read from the recording's ``article_source``."""
    files = recording_files(directory)
    given = articles_by_id(articles, settings, strict=True) if articles else {}
    result = RehashResult()
    for path in files:
        record = Record.from_json(path.read_text(encoding="utf-8"), str(path))
        if record.request.task != "extract":
            result.stories.append(path)
            continue
        try:
            record.extraction()
        except ValidationError as exc:
            result.problems.append(
                f"{path}: the answer does not fit the current schema ({first_problem(exc, 'output')}); record it "
                "again with `summarizer record`, or edit it"
            )
            continue
        article = given.get(record.request.article_id) or source_article(record, settings)
        if article is None:
            result.problems.append(
                f"{path}: its article {record.request.article_id} is not among the articles given nor at "
                f"{record.request.article_source}; pass the folder holding it"
            )
            continue
        fresh = renewed(record, article, settings, prompts)
        (result.renewed if write_renewed(path, record, fresh) else result.current).append(path)
    return result


def write_renewed(path: Path, record: Record, fresh: Record) -> bool:
    """Write ``fresh`` over ``record``'s file at ``path`` when it differs; True when it was written."""
    if fresh == record:
        return False
    path.write_text(fresh.to_json(), encoding="utf-8")
    return True


def source_article(record: Record, settings: Settings) -> Article | None:
    """The recording's article read from its ``article_source`` (relative to the working folder), if that is
    still the same article."""
    source = Path(record.request.article_source)
    if not source.is_file():
        return None
    return articles_by_id([source], settings, strict=False).get(record.request.article_id)
