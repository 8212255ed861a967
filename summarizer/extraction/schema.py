"""The extraction schema: what the model must return for one article.

The attribute docstrings are the field descriptions in the JSON Schema the model is shown, so they are written
for the model. ``schemas/article_extraction.json`` is generated from these models (``summarizer schema``).

Validated plainly, an extraction is checked for its shape only: that is how records already accepted are read back.
A model's answer is validated with ``context=answer_context(title, text)`` (instructor's validation context), and
must then also be sound: a summary in prose, at least one actor, and every evidence quote found in the article.
An answer that is not is sent back to the model with the reasons, like any other validation error.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from summarizer.ingest.quotes import article_key, quote_found

SCHEMA_VERSION = "1"

# Grammar converters (llama.cpp's, for one) turn a JSON Schema into a grammar for constrained decoding, and some
# support only plain character classes: `\d` there turns the pattern into "any string".
ISO_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
"""An ISO date at day, month or year precision, written with classes every grammar converter supports."""

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]
IsoDate = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ISO_DATE_PATTERN)]

_ISO_BY_PRECISION = {
    "day": re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    "month": re.compile(r"^[0-9]{4}-[0-9]{2}$"),
    "year": re.compile(r"^[0-9]{4}$"),
}


# An item's English name (`name_en`) is a plain string, empty when not given, not an optional: the schema is sent
# with every request, and an optional's "anyOf" costs more of the prompt than the field's description.

# The items are frozen dataclasses with slots, not models: a briefing validates every item of every record
# (over a hundred thousand at 5,000 records). Built from JSON they took a tenth less time than models, and
# half the time to free; their JSON Schema is the same.
_ITEM = ConfigDict(use_attribute_docstrings=True, extra="ignore")


class PartyKind(StrEnum):
    """What sort of actor a party is."""

    STATE = "state"
    GOVERNMENT = "government"
    ARMED_GROUP = "armed_group"
    MILITARY = "military"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    OTHER = "other"


class MediatorRole(StrEnum):
    """How a third party takes part in the talks."""

    HOST = "host"
    MEDIATOR = "mediator"
    BROKER = "broker"
    FACILITATOR = "facilitator"
    OBSERVER = "observer"


class DemandStatus(StrEnum):
    """Where a demand stands according to the article."""

    STATED = "stated"
    UNDER_NEGOTIATION = "under_negotiation"
    AGREED = "agreed"
    MET = "met"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class CasualtyKind(StrEnum):
    """What happened to the people counted."""

    KILLED = "killed"
    WOUNDED = "wounded"
    CAPTURED = "captured"


class Victims(StrEnum):
    """Who the people counted were."""

    SOLDIERS = "soldiers"
    CIVILIANS = "civilians"
    MILITANTS = "militants"
    MIXED = "mixed"
    UNSPECIFIED = "unspecified"


class Precision(StrEnum):
    """How precisely a date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class OutcomeStatus(StrEnum):
    """Where an agreement or outcome stands."""

    AGREED = "agreed"
    PROPOSED = "proposed"
    IMPLEMENTED = "implemented"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Party:
    """A country, government, armed group or organisation that is a side in the conflict or the talks."""

    name: NonEmpty
    """The party's fullest name as this article writes it, e.g. "Colombia", "FARC", "African Union"."""
    name_en: str = ""
    """Usual English name (as wire services write it)."""
    kind: PartyKind
    """What sort of actor it is."""
    role: NonEmpty
    """Its role in this story in a few words, e.g. "negotiating party", "rebel group the government blames"."""
    spellings: list[NonEmpty] = Field(default_factory=list)
    """Every other name this article uses for the same party, exactly as written (e.g. "Bogotá", "the rebels")."""
    evidence: Quote
    """A short quote copied word for word from the article that shows this party's part in the story."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Mediator:
    """A third party that hosts, mediates, brokers or facilitates the talks or a ceasefire."""

    name: NonEmpty
    """The mediator's name as this article writes it, e.g. "Norway", "United Nations"."""
    name_en: str = ""
    """Usual English name (as wire services write it)."""
    spellings: list[NonEmpty] = Field(default_factory=list)
    """Other names for it in this article, as written."""
    role: MediatorRole
    """How it takes part: host (talks on its soil), mediator, broker (of a deal), facilitator, observer."""
    venue: str | None = None
    """The city where it hosts or mediates, if the article says, e.g. "Geneva", "Havana"."""
    evidence: Quote
    """A short quote copied word for word from the article naming this mediator and its role."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Person:
    """A named individual who acts or speaks in the story."""

    name: NonEmpty
    """The person's name as written in the article."""
    name_en: str = ""
    """Usual English name (as wire services write it)."""
    title: str | None = None
    """Their office or rank as the article gives it, e.g. "Defence Minister", "Lt. Gen."."""
    affiliation: str | None = None
    """The party, government or body they belong to, e.g. "Colombia", "FARC"."""
    spellings: list[NonEmpty] = Field(default_factory=list)
    """Other spellings of the name in this article, exactly as written."""
    evidence: Quote
    """A short quote copied word for word from the article that names this person."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Demand:
    """Something one party demands of another."""

    by: NonEmpty
    """The party making the demand (a party name as in `parties`, not a person)."""
    of: str | None = None
    """The party the demand is made of, if any."""
    demand: NonEmpty
    """What is demanded, in one plain sentence."""
    status: DemandStatus
    """Where the demand stands according to this article; "stated" when the article only reports it."""
    evidence: Quote
    """A short quote copied word for word from the article stating the demand."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class CasualtyClaim:
    """A claim that people were killed, wounded or captured. Keep each claim as the article states it."""

    kind: CasualtyKind
    """Killed, wounded or captured."""
    figure_text: NonEmpty
    """The article's own words for the number, e.g. "dozens", "over 300", "12", "several"."""
    low: int | None = Field(default=None, ge=0)
    """The lowest number the words allow; null when the article gives no number (as for "dozens" or "several")."""
    best: int | None = Field(default=None, ge=0)
    """The number stated; null when the article gives none. Never invent precision for vague words."""
    high: int | None = Field(default=None, ge=0)
    """The highest number the words allow; null when open-ended ("over 300") or not given."""
    victims: Victims
    """Who was counted: soldiers, civilians, militants, a mix, or unspecified."""
    side: str | None = None
    """Whose people they were (e.g. "Colombia", "FARC"), if the article says."""
    location: str | None = None
    """Where it happened, if the article says."""
    when: IsoDate | None = None
    """When it happened: an ISO date (YYYY-MM-DD), month (YYYY-MM) or year (YYYY), resolved if the article
    allows; null if it does not say."""
    claimant: str | None = None
    """Who makes the claim (e.g. "the army", "a rebel spokesman"); null when the article states it in its own voice."""
    evidence: Quote
    """A short quote copied word for word from the article containing the figure."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        numbers = [n for n in (self.low, self.best, self.high) if n is not None]
        if numbers != sorted(numbers):
            raise ValueError("low <= best <= high must hold for a casualty claim's numbers")
        return self


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Event:
    """A dated event: something that happened, or is scheduled, on a day, in a month or in a year."""

    date: IsoDate
    """ISO date at the given precision: YYYY-MM-DD for a day, YYYY-MM for a month, YYYY for a year. Resolve
    relative words ("Thursday", "last month") against the article's publication date when one is given."""
    end_date: IsoDate | None = None
    """For a span of days, the ISO date of its last day; otherwise null."""
    precision: Precision
    """How precisely the article fixes the date."""
    date_text: NonEmpty
    """The article's own words for the date, e.g. "Thursday", "October 25", "earlier this month"."""
    description: NonEmpty
    """What happened, in one plain sentence."""
    location: str | None = None
    """Where it happened, if the article says."""
    evidence: Quote
    """A short quote copied word for word from the article describing the event and its date."""

    @model_validator(mode="after")
    def _iso_at_precision(self) -> Self:
        for value in (self.date, self.end_date):
            if value is None:
                continue
            if not _ISO_BY_PRECISION[self.precision].match(value):
                raise ValueError(f"date {value!r} is not ISO at {self.precision} precision")
            if self.precision is Precision.DAY:
                date.fromisoformat(value)
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError("end_date must not be before date")
        return self


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Outcome:
    """An agreement, decision or result of the talks or the conflict."""

    description: NonEmpty
    """What was agreed, decided or came about, in one plain sentence."""
    parties: list[NonEmpty] = Field(default_factory=list)
    """The parties bound by or involved in it."""
    status: OutcomeStatus
    """Agreed, proposed, implemented, failed, or unknown."""
    evidence: Quote
    """A short quote copied word for word from the article stating it."""


class ArticleExtraction(BaseModel):
    """Everything a careful analyst records from one news article about a conflict and its talks.

    Only what the article itself says: no outside knowledge, no guesses. Every item carries an evidence quote
    copied word for word from the article. Lists may be empty.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore", frozen=True)

    summary: NonEmpty
    """Two or three neutral sentences on what the article reports, without boilerplate or opinion."""
    parties: list[Party] = Field(default_factory=list)
    """The sides in the conflict or the talks (countries, governments, armed groups), not the mediators."""
    mediators: list[Mediator] = Field(default_factory=list)
    """Third parties hosting, mediating, brokering or facilitating."""
    people: list[Person] = Field(default_factory=list)
    """Named individuals with their titles and affiliations."""
    demands: list[Demand] = Field(default_factory=list)
    """Demands made by one party of another."""
    casualties: list[CasualtyClaim] = Field(default_factory=list)
    """Claims of people killed, wounded or captured, one per distinct figure and claimant."""
    events: list[Event] = Field(default_factory=list)
    """Dated events, in the article's order."""
    outcomes: list[Outcome] = Field(default_factory=list)
    """Agreements, decisions and results."""

    @model_validator(mode="after")
    def _sound_answer(self, info: ValidationInfo) -> Self:
        article = info.context.get(_ARTICLE) if isinstance(info.context, dict) else None
        if isinstance(article, str):
            problems = [*_summary_problems(self.summary), *_actor_problems(self), *_quote_problems(self, article)]
            if problems:
                raise ValueError("; ".join(problems))
        return self


_ARTICLE = "summarizer_article"
"""The validation-context key under which an answer's article waits, in the normal form quotes are looked up in."""


def answer_context(title: str, text: str) -> dict[str, Any]:
    """The validation context that makes ``ArticleExtraction`` check an answer against its article (title and
    text as sent): prose summary, at least one actor, every evidence quote found in the article."""
    return {_ARTICLE: article_key(title, text)}


_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|&(?:[a-z]+|#[0-9]+);|```|^\s*[\[{]")
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_SUMMARY_WORDS = 6
"""Fewer words than this is no summary ("None reported", a heading): two or three sentences are many more."""
_MIN_LETTER_SHARE = 0.6
_LISTED_QUOTES = 3
_QUOTE_SHOWN = 60


def _clip(quote: str) -> str:
    return quote if len(quote) <= _QUOTE_SHOWN else quote[: _QUOTE_SHOWN - 1] + "…"


def _summary_problems(summary: str) -> list[str]:
    fix = "write two or three plain sentences on what the article reports"
    if _MARKUP.search(summary):
        return [f"summary is markup or code, not prose ({fix})"]
    words = len(_WORD.findall(summary))
    if words < MIN_SUMMARY_WORDS:
        return [f"summary has {words} word(s), not sentences ({fix})"]
    printed = [c for c in summary if not c.isspace()]
    if sum(c.isalpha() for c in printed) < _MIN_LETTER_SHARE * len(printed):
        return [f"summary is mostly figures and symbols, not prose ({fix})"]
    return []


def _actor_problems(extraction: ArticleExtraction) -> list[str]:
    if extraction.parties or extraction.mediators or extraction.people:
        return []
    return ["the answer names no actor (list the parties, mediators or people the article names)"]


def _quote_problems(extraction: ArticleExtraction, article: str) -> list[str]:
    lists: dict[str, list[Any]] = {
        "parties": extraction.parties, "mediators": extraction.mediators, "people": extraction.people,
        "demands": extraction.demands, "casualties": extraction.casualties, "events": extraction.events,
        "outcomes": extraction.outcomes,
    }  # fmt: skip
    missing = [
        f"{name}.{index}.evidence {_clip(item.evidence)!r}"
        for name, items in lists.items()
        for index, item in enumerate(items)
        if not quote_found(item.evidence, article)
    ]
    if not missing:
        return []
    more = f" and {len(missing) - _LISTED_QUOTES} more" if len(missing) > _LISTED_QUOTES else ""
    return [
        f"{len(missing)} evidence quote(s) not in the article: {', '.join(missing[:_LISTED_QUOTES])}{more} "
        "(copy each quote word for word from the article, or leave the item out)"
    ]
