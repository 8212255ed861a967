"""Every fact's citation: the number of its source and its evidence quote, looked up in the article's text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from summarizer.briefing.model import Citation
from summarizer.briefing.sources import FACT_LISTS, SourcedExtraction
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.quotes import article_key, quote_found

__all__ = ["Quotes", "cite_sources"]


@dataclass(frozen=True, slots=True)
class Quotes:
    """The citation of each evidence quote, by source number and quote, and how many facts cite a quote not
    found in their article."""

    by_source: dict[int, dict[str, Citation]]
    unverified: int


def _evidence(extraction: ArticleExtraction) -> list[str]:
    return [item.evidence for name in FACT_LISTS for item in getattr(extraction, name)]


def cite_sources(sourced: Sequence[SourcedExtraction]) -> Quotes:
    """A citation for each distinct quote of each source, checked against its article once: one article often
    gives one sentence as evidence for several facts. The facts whose quote is not found are counted once per
    fact, as each cites it."""
    by_source: dict[int, dict[str, Citation]] = {}
    unverified = 0
    for s in sourced:
        quotes = _evidence(s.extraction)
        text, number = s.article.text, s.number
        citations: dict[str, Citation] = {}
        unfound: set[str] = set()
        normalised = None
        for quote in dict.fromkeys(quotes):
            # Most quotes are exact; normalising the whole article is left for those that are not.
            if quote in text:
                citations[quote] = Citation(number, quote, True)
                continue
            normalised = normalised or article_key(s.article.title, text)
            found = quote_found(quote, normalised)
            citations[quote] = Citation(number, quote, found)
            if not found:
                unfound.add(quote)
        if unfound:
            unverified += sum(quote in unfound for quote in quotes)
        by_source[number] = citations
    return Quotes(by_source, unverified)
