"""The articles of a run as the merge takes them: each with its validated extraction, numbered as a source, and
screened for facts that rest on text addressed to the model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from summarizer.extraction.records import Record
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article
from summarizer.ingest.injection import passage_spans, rests_on
from summarizer.ingest.quotes import article_key

__all__ = ["FACT_LISTS", "SourcedExtraction", "number_sources", "screen"]


@dataclass(frozen=True, slots=True)
class SourcedExtraction:
    """One article and its validated extraction, numbered as a source."""

    number: int
    article: Article
    record: Record
    extraction: ArticleExtraction


def _sort_key(article: Article) -> tuple[date, str]:
    return (article.published or date.max, article.source)


FACT_LISTS = ("parties", "mediators", "people", "demands", "casualties", "events", "outcomes")


def screen(sourced: Sequence[SourcedExtraction]) -> tuple[list[SourcedExtraction], list[str]]:
    """Leave out the facts whose evidence is text addressed to the model, with a notice per article that has
    such text (whether or not a fact rests on it)."""
    screened: list[SourcedExtraction] = []
    notices: list[str] = []
    for s in sourced:
        passages = s.article.directed
        if not passages:
            screened.append(s)
            continue
        key = article_key(s.article.title, s.article.text)
        spans = passage_spans(key, passages)
        kept: dict[str, list[object]] = {}
        for name in FACT_LISTS:
            items = getattr(s.extraction, name)
            kept[name] = [item for item in items if not rests_on(item.evidence, key, spans)]
        dropped = sum(len(getattr(s.extraction, name)) - len(kept[name]) for name in FACT_LISTS)
        screened.append(replace(s, extraction=s.extraction.model_copy(update=kept)))
        example = passages[0]
        example = example if len(example) <= 80 else example[:79] + "…"
        notices.append(
            f"source {s.number} contains text addressed to the model (“{example}”); "
            + (f"{dropped} fact(s) quoting it were left out" if dropped else "no fact rests on it")
        )
    return screened, notices


def number_sources(pairs: Iterable[tuple[Article, Record]]) -> list[SourcedExtraction]:
    """Validate each record's output and number the articles by publication date, then location."""
    ordered = sorted(pairs, key=lambda pair: _sort_key(pair[0]))
    return [
        SourcedExtraction(number=i, article=article, record=record, extraction=record.extraction())
        for i, (article, record) in enumerate(ordered, start=1)
    ]
