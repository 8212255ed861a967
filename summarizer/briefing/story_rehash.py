"""Recordings of the stories' top lines renewed for the current synthesis prompt and schema, answers kept.

A story's top line answers its fact sheet, which only a briefing of the story's articles makes. After a change to
the synthesis prompt or schema that leaves the answers right, the articles' recordings in the same folder are
briefed again (as ``summarizer brief --replay`` would, without a server), and each story recording whose sheet a
story still gives gets the new hashes and key. A recording whose sheet no story gives any more (the merged facts
changed, so its fact ids may now mean other facts) is not renewed: it needs recording again, or writing anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from summarizer.briefing.entities import AliasTable
from summarizer.briefing.merge import merge_records
from summarizer.briefing.written import check_answer, sheet_article
from summarizer.config import Settings
from summarizer.errors import first_problem
from summarizer.extraction.records import Record
from summarizer.extraction.rehash import articles_by_id, recording_files, renewed, source_article, write_renewed
from summarizer.extraction.tasks import load_synthesis_task
from summarizer.ingest.articles import Article


@dataclass(slots=True)
class StoryRehashResult:
    """What a rehash of the story recordings did, file by file."""

    renewed: list[Path] = field(default_factory=list)
    current: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line per story recording that could not be renewed, naming the file and the fix."""


def rehash_story_recordings(
    directory: Path, settings: Settings, articles: Sequence[Path | str] = (), aliases: AliasTable | None = None
) -> StoryRehashResult:
    """Renew every story recording in ``directory`` for the current synthesis prompt and schema, from a
    briefing of the article recordings beside it (their articles found among ``articles`` by id, or at each
    recording's ``article_source``)."""
    result = StoryRehashResult()
    records = [
        (path, Record.from_json(path.read_text(encoding="utf-8"), str(path))) for path in recording_files(directory)
    ]
    stories = [(path, r) for path, r in records if r.request.task == "synthesize"]
    if not stories:
        return result
    given = articles_by_id(articles, settings, strict=True) if articles else {}
    pairs: list[tuple[Article, Record]] = []
    for _, record in records:
        if record.request.task == "extract" and _fits(record):
            article = given.get(record.request.article_id) or source_article(record, settings)
            if article is not None:
                pairs.append((article, record))
    sheets: dict[str, Article] = {}
    if pairs:
        briefing = merge_records(pairs, generated=datetime.now(UTC), aliases=aliases or AliasTable.load())
        sheets = {a.id: a for a in (sheet_article(story, briefing) for story in briefing.stories)}
    task = load_synthesis_task(settings.prompts_dir)
    for path, record in stories:
        sheet = sheets.get(record.request.article_id)
        if sheet is None:
            result.problems.append(
                f"{path}: no story of the {len(pairs)} article recording(s) beside it gives the facts it answers "
                "(their merge has changed); record it again with `summarizer record`, or write it anew"
            )
            continue
        fresh = renewed(record, sheet, settings, task.prompts, task)
        try:
            check_answer(fresh, sheet)
        except ValidationError as exc:
            result.problems.append(
                f"{path}: the answer does not hold for the current synthesis schema "
                f"({first_problem(exc, 'output')}); record it again with `summarizer record`, or edit it"
            )
            continue
        (result.renewed if write_renewed(path, record, fresh) else result.current).append(path)
    return result


def _fits(record: Record) -> bool:
    # An answer the schema no longer accepts is named by the articles' rehash; the stories are told without it.
    try:
        record.extraction()
    except ValidationError:
        return False
    return True
