"""Whether an evidence quote is found word for word in its article.

Models and scrapers disagree on typography (curly or straight quotes, en or em dashes, line breaks, no-break
spaces, invisible characters such as zero-width spaces and soft hyphens), so both sides are compared in one
normal form; the words themselves must match exactly.
"""

from __future__ import annotations

import re

from summarizer.ingest.cleanup import INVISIBLE

_SPACES = re.compile(r"\s+")


def quote_key(text: str) -> str:
    """``text`` with quotes and dashes made plain, invisible characters removed, whitespace collapsed, case
    folded."""
    # Chained str.replace, not str.translate: translate with a mapping is ten times slower on long articles.
    text = INVISIBLE.sub("", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACES.sub(" ", text.replace("\u2014", "-").replace("\u2013", "-")).strip().casefold()


def article_key(title: str, text: str) -> str:
    """The normal form of an article (title and body) that quotes are searched in."""
    return quote_key(f"{title}\n{text}")


def quote_found(quote: str, article: str) -> bool:
    """True when ``quote`` occurs in ``article``, an :func:`article_key`, word for word."""
    return quote_key(quote) in article
