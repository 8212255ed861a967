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


# A frozen dataclass's __init__ sets each field through object.__setattr__, at twice the cost of setting its slots
# directly; a briefing builds a citation for every quote of every source (about 100,000 at 5,000 records).
_SOURCE, _QUOTE, _FOUND = (Citation.__dict__[name].__set__ for name in ("source", "quote", "found"))


def _citation(source: int, quote: str, found: bool) -> Citation:
    citation = object.__new__(Citation)
    _SOURCE(citation, source)
    _QUOTE(citation, quote)
    _FOUND(citation, found)
    return citation


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
                citations[quote] = _citation(number, quote, True)
                continue
            normalised = normalised or article_key(s.article.title, text)
            found = quote_found(quote, normalised)
            citations[quote] = _citation(number, quote, found)
            if not found:
                unfound.add(quote)
        if unfound:
            unverified += sum(quote in unfound for quote in quotes)
        by_source[number] = citations
    return Quotes(by_source, unverified)
