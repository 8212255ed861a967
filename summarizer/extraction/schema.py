"""The extraction schema: what the model must return for one article.

The attribute docstrings are the field descriptions in the JSON Schema the model is shown, so they are written
for the model. ``schemas/article_extraction.json`` is generated from these models (``summarizer schema --write``).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.dataclasses import dataclass

SCHEMA_VERSION = "1"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]

_ISO_BY_PRECISION = {
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "year": re.compile(r"^\d{4}$"),
}


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
    """The party's fullest name as this article writes it, e.g. "Pakistan", "Afghan Taliban", "Türkiye"."""
    kind: PartyKind
    """What sort of actor it is."""
    role: NonEmpty
    """Its role in this story in a few words, e.g. "negotiating party", "militant group Pakistan blames"."""
    spellings: list[NonEmpty] = Field(default_factory=list)
    """Every other name this article uses for the same party, exactly as written (e.g. "Kabul", "TTP")."""
    evidence: Quote
    """A short quote copied word for word from the article that shows this party's part in the story."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Mediator:
    """A third party that hosts, mediates, brokers or facilitates the talks or a ceasefire."""

    name: NonEmpty
    """The mediator's name as this article writes it, e.g. "Turkey", "Qatar"."""
    role: MediatorRole
    """How it takes part: host (talks on its soil), mediator, broker (of a deal), facilitator, observer."""
    venue: str | None = None
    """The city where it hosts or mediates, if the article says, e.g. "Istanbul", "Doha"."""
    evidence: Quote
    """A short quote copied word for word from the article naming this mediator and its role."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_ITEM)
class Person:
    """A named individual who acts or speaks in the story."""

    name: NonEmpty
    """The person's name as written in the article."""
    title: str | None = None
    """Their office or rank as the article gives it, e.g. "Defence Minister", "Lt. Gen."."""
    affiliation: str | None = None
    """The party, government or body they belong to, e.g. "Pakistan", "Afghan Taliban"."""
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
    """The article's own words for the number, e.g. "dozens", "over 200", "23", "several"."""
    low: int | None = Field(default=None, ge=0)
    """The lowest number the words allow; null when the article gives no number (as for "dozens" or "several")."""
    best: int | None = Field(default=None, ge=0)
    """The number stated; null when the article gives none. Never invent precision for vague words."""
    high: int | None = Field(default=None, ge=0)
    """The highest number the words allow; null when open-ended ("over 200") or not given."""
    victims: Victims
    """Who was counted: soldiers, civilians, militants, a mix, or unspecified."""
    side: str | None = None
    """Whose people they were (e.g. "Pakistan", "Tehrik-e-Taliban Pakistan"), if the article says."""
    location: str | None = None
    """Where it happened, if the article says."""
    when: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """When it happened: an ISO date (YYYY-MM-DD), month (YYYY-MM) or year (YYYY), resolved if the article
    allows; null if it does not say."""
    claimant: str | None = None
    """Who makes the claim (e.g. "Pakistani military"); null when the article states it in its own voice."""
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

    date: NonEmpty
    """ISO date at the given precision: YYYY-MM-DD for a day, YYYY-MM for a month, YYYY for a year. Resolve
    relative words ("Thursday", "last month") against the article's publication date when one is given."""
    end_date: str | None = None
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
