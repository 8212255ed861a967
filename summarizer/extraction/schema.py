"""The extraction schema: what the model must return for one article.

The attribute docstrings are the field descriptions in the JSON Schema the model is shown, so they are written
for the model, and kept short: every request carries them. A field whose name and type say enough has none;
what every item shares (the evidence quote, the date format) is described once, under ``$defs``, and the system
prompt holds the rules that cut across fields. ``ArticleExtraction.model_json_schema`` writes the schema compact
(``schema_json.py``). ``schemas/article_extraction.json`` is generated from these models (``summarizer schema``).

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
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode
from typing_extensions import TypeAliasType

from summarizer.extraction.schema_json import CompactJsonSchema
from summarizer.ingest.quotes import article_key, quote_found

SCHEMA_VERSION = "1"

# Grammar converters (llama.cpp's, for one) turn a JSON Schema into a grammar for constrained decoding, and some
# support only plain character classes: `\d` there turns the pattern into "any string".
ISO_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
"""An ISO date at day, month or year precision, written with classes every grammar converter supports."""

# Named types are written once under the schema's $defs, with their description, and referred to from each field
# that uses them.
Text = TypeAliasType("Text", Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)])
NonEmpty = Text
"""Text that is not empty once stripped. Written ``Text`` in the schema: each of the many fields of this type
repeats the reference to it."""
Quote = TypeAliasType(
    "Quote",
    Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=3),
        Field(description="A short quote copied word for word from the article."),
    ],
)
EnglishName = TypeAliasType(
    "EnglishName",
    Annotated[str, Field(description="Its usual name in English news.")],
)
IsoDate = TypeAliasType(
    "IsoDate",
    Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=ISO_DATE_PATTERN),
        Field(description="YYYY-MM-DD, YYYY-MM or YYYY, as precise as the article allows."),
    ],
)

# A date that matches ISO_DATE_PATTERN is at the precision its length gives: YYYY-MM-DD, YYYY-MM or YYYY.
_ISO_LENGTH = {"day": 10, "month": 7, "year": 4}


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
    """A side in the conflict or the talks."""

    name: NonEmpty
    name_en: EnglishName | None = None
    kind: PartyKind
    role: NonEmpty
    """Its part in the story, in a few words."""
    spellings: list[NonEmpty] = Field(default_factory=list)
    evidence: Quote


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Mediator:
    """A third party to the talks or a ceasefire."""

    name: NonEmpty
    name_en: EnglishName | None = None
    spellings: list[NonEmpty] = Field(default_factory=list)
    role: MediatorRole
    """host: talks on its soil."""
    venue: str | None = None
    """The city of the talks."""
    evidence: Quote


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Person:
    """A named individual who acts or speaks."""

    name: NonEmpty
    name_en: EnglishName | None = None
    title: str | None = None
    """Office or rank."""
    affiliation: str | None = None
    spellings: list[NonEmpty] = Field(default_factory=list)
    evidence: Quote


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Demand:
    """Something one party demands of another."""

    by: NonEmpty
    """The demanding party (not a person)."""
    of: str | None = None
    demand: NonEmpty
    """In one sentence."""
    status: DemandStatus
    """stated: the article only reports it."""
    evidence: Quote


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class CasualtyClaim:
    """A claim of people killed, wounded or captured."""

    kind: CasualtyKind
    figure_text: NonEmpty
    """The article's words for the number."""
    low: int | None = Field(default=None, ge=0)
    """The lowest the words allow."""
    best: int | None = Field(default=None, ge=0)
    """The number stated; no invented precision."""
    high: int | None = Field(default=None, ge=0)
    """The highest the words allow; null if open-ended."""
    victims: Victims
    side: str | None = None
    """Whose people they were."""
    location: str | None = None
    when: IsoDate | None = None
    claimant: str | None = None
    """Who claims it; null in the article's own voice."""
    evidence: Quote

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        # Every pair the claim gives, in order: this runs for every claim of every record a briefing reads.
        low, best, high = self.low, self.best, self.high
        if (
            (low is not None and best is not None and low > best)
            or (best is not None and high is not None and best > high)
            or (low is not None and high is not None and low > high)
        ):
            raise ValueError("low <= best <= high must hold for a casualty claim's numbers")
        return self


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Event:
    """Something that happened or is scheduled."""

    date: IsoDate
    end_date: IsoDate | None = None
    """The last day of a span."""
    precision: Precision
    date_text: NonEmpty
    """The article's words for the date."""
    description: NonEmpty
    """In one sentence."""
    location: str | None = None
    evidence: Quote

    @model_validator(mode="after")
    def _iso_at_precision(self) -> Self:
        # The field's pattern has checked the form, so the length tells the precision: no second regular
        # expression for every event of every record a briefing reads.
        length = _ISO_LENGTH[self.precision]
        for value in (self.date, self.end_date):
            if value is None:
                continue
            if len(value) != length:
                raise ValueError(f"date {value!r} is not ISO at {self.precision} precision")
            if self.precision is Precision.DAY:
                date.fromisoformat(value)
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError("end_date must not be before date")
        return self


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Outcome:
    """An agreement, decision or result."""

    description: NonEmpty
    """In one sentence."""
    parties: list[NonEmpty] = Field(default_factory=list)
    """The parties bound or involved."""
    status: OutcomeStatus
    evidence: Quote


class ArticleExtraction(BaseModel):
    """What one news article reports about a conflict and its talks."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore", frozen=True)

    summary: NonEmpty
    """Two or three neutral sentences."""
    parties: list[Party] = Field(default_factory=list)
    mediators: list[Mediator] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    demands: list[Demand] = Field(default_factory=list)
    casualties: list[CasualtyClaim] = Field(default_factory=list)
    """One per distinct figure and claimant."""
    events: list[Event] = Field(default_factory=list)
    """In the article's order."""
    outcomes: list[Outcome] = Field(default_factory=list)

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = CompactJsonSchema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The JSON Schema the model is shown (and ``schemas/article_extraction.json``), compact by default
        (``CompactJsonSchema``): every caller, instructor included, writes the same schema."""
        return super().model_json_schema(by_alias, ref_template, schema_generator, mode, **kwargs)

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
