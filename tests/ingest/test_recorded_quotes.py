"""Clean-up removes no line that a recorded extraction quotes, and leaves the recorded articles' text (and so
their ids, which replay looks recordings up by) as recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summarizer.extraction.records import Record, read_recordings
from summarizer.ingest.articles import Article, load_articles
from summarizer.ingest.quotes import article_key, quote_found
from tests.conftest import ROOT

# Each recordings folder with the articles its records answer.
SETS = [(ROOT / "fixtures" / "recordings", ROOT / "fixtures" / "articles")]
_SYNTHETIC = ROOT / "fixtures" / "synthetic"
if (_SYNTHETIC / "recordings").is_dir():
    SETS.append((_SYNTHETIC / "recordings", _SYNTHETIC / "articles"))


def _evidence(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every evidence quote in a record's output, with where it sits (``events.2.evidence``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "evidence" and isinstance(item, str):
                yield f"{where}{key}", item
            else:
                yield from _evidence(item, f"{where}{key}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _evidence(item, f"{where}{index}.")


def _recorded() -> Iterator[tuple[str, Record, dict[str, Article]]]:
    for recordings, articles in SETS:
        by_source = {Path(a.source).name: a for a in load_articles([articles]).articles}
        for record in read_recordings(recordings).values():
            yield f"{recordings.relative_to(ROOT)}:{Path(record.request.article_source).name}", record, by_source


RECORDED = list(_recorded())


@pytest.mark.parametrize(("name", "record", "articles"), RECORDED, ids=[name for name, _, _ in RECORDED])
def test_every_recorded_evidence_quote_is_still_in_its_clean_article(
    name: str, record: Record, articles: dict[str, Article]
) -> None:
    article = articles.get(Path(record.request.article_source).name)
    assert article is not None, f"{name}: the recorded article is no longer read"
    key = article_key(article.title, article.text)
    quotes = list(_evidence(record.output, ""))
    assert quotes, f"{name}: a record without evidence quotes tests nothing"
    missing = [f"{where}: {quote!r}" for where, quote in quotes if not quote_found(quote, key)]
    assert missing == [], f"{name}: clean-up removed text these recorded quotes need"


@pytest.mark.parametrize(("name", "record", "articles"), RECORDED, ids=[name for name, _, _ in RECORDED])
def test_clean_up_leaves_each_recorded_article_as_recorded(
    name: str, record: Record, articles: dict[str, Article]
) -> None:
    article = articles[Path(record.request.article_source).name]
    # A changed id means the clean text changed: replay would no longer find the recording.
    assert (article.id, article.title) == (record.request.article_id, record.request.article_title), name
