"""Checks the dates a model resolved against what dateparser reads in the article's own words.

The model resolves relative dates ("last month", "October 25") against the publication date it is given.
dateparser reads the same phrase against the same date; where both give a date, they must agree at the
precision the phrase supports. Weekday names and words like "today" are left to the model: in news they
usually mean the current week, which no rule without context gets right.

A date without a year is read as the latest one not after publication, as dateparser reads it, unless the event
is scheduled ("will meet on Feb. 1", "talks are set for March 3", "due", "next"): then it is the nearer of that
reading and the earliest one not before publication, so that a meeting due next week is not read as last year's
and a past date a scheduled event refers back to is not read as next year's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal

from summarizer.extraction.schema import Event, Precision

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

_CONTEXTUAL = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tonight|yesterday|tomorrow|week|weekend|after|before|later|prior)\b",
    re.IGNORECASE,
)
_PERIODS = {"day": Precision.DAY, "month": Precision.MONTH, "year": Precision.YEAR}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_PLAIN = [
    re.compile(rf"^(?:on\s+)?{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?$", re.IGNORECASE),
    re.compile(
        rf"^(?:on\s+)?(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?(?:\s+(?P<year>\d{{4}}))?$",
        re.IGNORECASE,
    ),
    re.compile(rf"^(?:in\s+)?{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?$", re.IGNORECASE),
]  # fmt: skip


# Words that tell of an event as still to come: future tense, plans, timetables. None of "due to" alone (a
# cause), "the next day" (a past narrative's) or "would have" (a past conditional) counts.
_SCHEDULED = re.compile(
    r"\b(?:will|shall|won't|(?:is|are|was|were) (?:due|set|scheduled|expected|slated|planned|going) to|"
    r"(?:is|are|be) due\b|due (?:on|in|for|by|next)|scheduled|slated|set (?:for|to)|upcoming|forthcoming|"
    r"(?:is|are) to|plans? to|planned for|to be held|ahead of|would(?! have)|"
    r"next (?!day\b|morning\b|evening\b|night\b|to\b))|\w'll\b",
    re.IGNORECASE,
)
Prefer = Literal["past", "future"]


@cache
def _parser(base: date, prefer: Prefer = "past") -> DateDataParser:
    from dateparser.date import DateDataParser  # slow to import; only briefings with dates need it

    settings = {"RELATIVE_BASE": datetime(base.year, base.month, base.day), "PREFER_DATES_FROM": prefer}
    return DateDataParser(languages=["en"], settings=settings)


@lru_cache(maxsize=4096)
def _plain_parts(phrase: str) -> tuple[int, int | None, int | None] | None:
    """Month, day and year of a plain absolute date phrase, or None when the phrase is not one."""
    for pattern in _PLAIN:
        match = pattern.match(phrase.strip())
        if match is not None:
            parts = match.groupdict()
            day, year = parts.get("day"), parts.get("year")
            return _MONTHS[parts["month"].lower()], int(day) if day else None, int(year) if year else None
    return None


def _plain_date(phrase: str, published: date, prefer: Prefer = "past") -> tuple[str, Precision] | None:
    """The common absolute forms ("October 25", "25 October 2025", "October") read directly, as dateparser
    reads them (a date without a year is the latest one not after ``published``, or with ``prefer="future"``
    the earliest one not before it) but a thousand times faster."""
    parts = _plain_parts(phrase)
    if parts is None:
        return None
    month, day, year = parts
    if year is None:
        year = published.year
        given, today = (month, day or 1), (published.month, published.day if day else 1)
        if prefer == "past" and given > today:
            year -= 1
        elif prefer == "future" and given < today:
            year += 1
    if day is None:
        return f"{year:04d}-{month:02d}", Precision.MONTH
    try:
        return date(year, month, day).isoformat(), Precision.DAY
    except ValueError:
        return None


def _read(phrase: str, published: date, prefer: Prefer) -> tuple[str, Precision] | None:
    plain = _plain_date(phrase, published, prefer)
    if plain is not None:
        return plain
    data = _parser(published, prefer).get_date_data(phrase)
    precision = _PERIODS.get(str(data.period))
    if data.date_obj is None or precision is None:
        return None
    width = {Precision.DAY: 10, Precision.MONTH: 7, Precision.YEAR: 4}[precision]
    return data.date_obj.date().isoformat()[:width], precision


def _distance(read: tuple[str, Precision], published: date) -> timedelta:
    """How far ``published`` lies from the day, month or year ``read`` names (nothing when inside it)."""
    iso, precision = read
    year = int(iso[:4])
    if precision is Precision.DAY:
        first = last = date.fromisoformat(iso)
    elif precision is Precision.MONTH:
        month = int(iso[5:7])
        first = date(year, month, 1)
        last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    else:
        first, last = date(year, 1, 1), date(year, 12, 31)
    return max(first - published, published - last, timedelta(0))


@lru_cache(maxsize=4096)
def read_date(phrase: str, published: date, scheduled: bool = False) -> tuple[str, Precision] | None:
    """The ISO date and precision dateparser reads in ``phrase`` relative to ``published``; None when it reads
    none, or when the phrase depends on context (weekdays, "today"). For a ``scheduled`` event, a phrase that
    reads as a past date and as a future one (a date without a year) is the nearer of the two."""
    if _CONTEXTUAL.search(phrase):
        return None
    past = _read(phrase, published, "past")
    if not scheduled or past is None:
        return past
    future = _read(phrase, published, "future")
    if future is None or future == past:
        return past
    # On a tie the future reading wins: the sentence puts the event ahead.
    return min((future, past), key=lambda read: _distance(read, published))


@lru_cache(maxsize=16384)
def _tells_of_the_future(text: str) -> bool:
    # Cached: sources repeat the same sentences, and the pattern's many alternatives make each search slow.
    return _SCHEDULED.search(text) is not None


def is_scheduled(event: Event) -> bool:
    """Whether the event's own sentence, or its description, tells of it as still to come."""
    return _tells_of_the_future(event.evidence) or _tells_of_the_future(event.description)


def date_disagreement(event: Event, published: date | None) -> str | None:
    """Why ``event``'s date does not match its own words, or None when it does (or cannot be checked)."""
    if published is None:
        return None
    read = read_date(event.date_text, published, is_scheduled(event))
    if read is None:
        return None
    iso, precision = read
    if precision == event.precision and iso != event.date:
        return f"“{event.date_text}” reads as {iso}, not {event.date}"
    if precision != event.precision and not event.date.startswith(iso) and not iso.startswith(event.date):
        return f"“{event.date_text}” reads as {iso} ({precision}), not {event.date} ({event.precision})"
    return None
