"""Whether an evidence quote is found word for word in its article.

Models and scrapers disagree on typography (curly or straight quotes, en or em dashes, line breaks), so both
sides are compared in one normal form; the words themselves must match exactly.
"""

from __future__ import annotations

import re

_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"})


def quote_key(text: str) -> str:
    """``text`` with quotes and dashes made plain, whitespace collapsed, case folded."""
    return re.sub(r"\s+", " ", text.translate(_TYPOGRAPHY)).strip().casefold()


def article_key(title: str, text: str) -> str:
    """The normal form of an article (title and body) that quotes are searched in."""
    return quote_key(f"{title}\n{text}")


def quote_found(quote: str, article: str) -> bool:
    """True when ``quote`` occurs in ``article``, an :func:`article_key`, word for word."""
    return quote_key(quote) in article
