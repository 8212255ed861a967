"""The briefing: the merged, cited account of a set of articles. ``--format json`` is this model's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter

from pydantic import BaseModel, ConfigDict, Field, with_config

from summarizer.extraction.cost import CostReport
from summarizer.extraction.results import Failure as Failure  # re-exported: a briefing lists them
from summarizer.extraction.schema import (
    CasualtyKind,
    DemandStatus,
    MediatorRole,
    OutcomeStatus,
    PartyKind,
    Precision,
    Victims,
)

BRIEFING_FORMAT = "summarizer.briefing/2"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


# A plain dataclass with slots, not a model: a briefing holds one citation per fact per source (over a million
# at 50,000 records). A model instance took 520 bytes and 2.5 µs to build, this 96 bytes and under 1 µs: merge
# builds citations from validated extractions, so they are not validated again. A briefing read from JSON
# still validates each citation (``extra="forbid"`` included), and its JSON and schema are as a model's.
@with_config(ConfigDict(extra="forbid", use_attribute_docstrings=True))
@dataclass(frozen=True, slots=True)
class Citation:
    """One source's support for a fact: the source's number and the quote it gives."""

    source: int
    """The number of the source in ``Briefing.sources`` (1-based), shown as [n]."""
    quote: str
    """The evidence quote from that source."""
    found: bool = True
    """False when the quote is not in the source's text, even with quotes, dashes and spacing made plain: the
    model may have paraphrased or invented it. Shown as ``[n?]``."""


_SOURCE, _FOUND = attrgetter("source"), attrgetter("found")


class Cited(_Model):
    """A fact with the sources that state it."""

    id: str = ""
    """The fact's id in the briefing (``1.E3``: story 1, its third event), which the key developments cite."""
    citations: list[Citation] = Field(min_length=1)
    new: bool | None = None
    """In a daily briefing: True when no earlier report states this fact; None outside daily mode."""

    @property
    def source_numbers(self) -> list[int]:
        """The distinct source numbers, ascending."""
        # Read in C: a fact of a large briefing has thousands of citations, and renderers ask for them often.
        return sorted(set(map(_SOURCE, self.citations)))

    @property
    def unfound_sources(self) -> set[int]:
        """The sources whose every quote for this fact was not found in their text."""
        if all(map(_FOUND, self.citations)):
            return set()
        unfound = {c.source for c in self.citations if not c.found}
        # Almost every quote is found: the second pass runs only for the facts that have an unfound one.
        return unfound - {c.source for c in self.citations if c.found} if unfound else unfound


class Source(_Model):
    """One article the briefing draws on."""

    earlier: bool = False
    """In a daily briefing: an earlier day's report, listed only for comparison."""

    number: int
    article_id: str
    title: str
    location: str
    """The file (or file:line) the article was read from."""
    outlet: str | None = None
    url: str | None = None
    published: date | None = None
    published_inferred: bool = False
    """True when the publication date was inferred from the text, not given by the outlet."""
    origin: str
    """How its record was made: ``recorded`` from a live endpoint, ``batch`` from its Batch API, or ``authored``
    by hand."""
    summary: str


class PartyEntry(Cited):
    """One real-world actor, whatever the spelling."""

    name: str
    kind: PartyKind
    roles: list[str]
    names: list[str]
    """Every spelling the sources use."""


class MediatorEntry(Cited):
    """A third party, with how and where it takes part."""

    name: str
    roles: list[MediatorRole]
    venues: list[str]
    names: list[str]


class PersonEntry(Cited):
    """A named individual."""

    name: str
    titles: list[str]
    affiliation: str | None
    names: list[str]


class DemandEntry(Cited):
    """A demand, by whom and of whom, and where it stands."""

    by: str
    of: str | None
    demand: str
    status: DemandStatus
    previous_status: DemandStatus | None = None
    """In a daily briefing: the status earlier reports gave, when it has changed."""
    variants: list[str] = Field(default_factory=list)
    """Other sources' wordings of the same fact (each source's quote is in its citation)."""
    repeats: str | None = None
    """The id of the timeline event that tells a demand met ("the army accepted the rebels' request for a
    truce"), from the same passages: the compact briefing says it once, there."""
    statuses: dict[DemandStatus, list[int]] = Field(default_factory=dict)
    """When the line joins sources that give the demand different statuses (some only state it, others say it
    is under negotiation): the sources that give each. Empty when every source gives ``status``."""

    def told_statuses(self) -> dict[DemandStatus, list[int]]:
        """The sources that give each status, ``statuses`` or every source giving ``status``."""
        return self.statuses or {self.status: self.source_numbers}


class CasualtyEntry(Cited):
    """One casualty claim; the same figure from several sources is one entry with several citations."""

    kind: CasualtyKind
    figure_text: str
    low: int | None
    best: int | None
    high: int | None
    victims: Victims
    side: str | None
    location: str | None
    when: str | None
    claimant: str | None
    """Who makes the claim; None when the outlet states it in its own voice."""
    incident: int = 0
    """The number of the incident (in its story's ``incidents``) the claim is about."""


class CasualtyRange(_Model):
    """What the claims about one incident say together about one kind of casualty among one group of victims.
    Numbers are never summed across claims; vague words stay words."""

    kind: CasualtyKind
    victims: Victims
    low: int | None
    """The lowest number any claim gives; None when no claim gives a number."""
    best: int | None
    """The number every numeric claim agrees on; None when they differ or give none."""
    high: int | None
    """The highest number any claim allows; None when a claim is open-ended ("over 200") or none gives one."""
    figures: list[str]
    """Every claim's own words, numeric or not."""
    sources: list[int]


class IncidentEntry(_Model):
    """Casualty claims about what appears to be one incident (same month, compatible place)."""

    number: int
    when: str | None
    location: str | None
    ranges: list[CasualtyRange]
    disputed: list[CasualtyKind] = Field(default_factory=list)
    """Kinds of casualty on which sources give different figures."""
    changed: bool = False
    """In a daily briefing: today's figures differ from earlier reports' on this incident."""


class TimelineEntry(Cited):
    """A dated event. Events that look alike but carry different dates are kept apart and flagged."""

    date: str
    end_date: str | None
    precision: Precision
    description: str
    date_texts: list[str]
    conflicts_with: list[str] = Field(default_factory=list)
    """Dates other sources give for what may be the same event."""
    variants: list[str] = Field(default_factory=list)
    """Other sources' wordings of the same fact (each source's quote is in its citation)."""
    figures: list[str] = Field(default_factory=list)
    """The ids of the casualty claims this event only reports ("the military said it had killed 18
    militants"), when it is nothing more: the compact briefing says it once, in the figures table."""


class OutcomeEntry(Cited):
    """An agreement, decision or result."""

    description: str
    status: OutcomeStatus
    parties: list[str]
    variants: list[str] = Field(default_factory=list)
    """Other sources' wordings of the same fact (each source's quote is in its citation)."""
    repeats: str | None = None
    """The id of the timeline event that tells the same thing, when one does: the compact briefing says it
    once, there."""


class KeyPoint(_Model):
    """One bullet of "Key developments": a development in a sentence, with the facts it rests on."""

    text: str
    facts: list[str]
    """The ids of the facts it rests on."""
    sources: list[int]
    """Every source of those facts, ascending."""


class Story(_Model):
    """The facts of one story: articles about the same actors and events. A run's articles may tell several."""

    number: int
    title: str
    period: str | None = None
    """The first and last publication dates of its articles (``2025-10-30 to 2025-11-06``)."""
    sources: list[int]
    """The numbers of its articles in ``Briefing.sources``."""
    key_points: list[KeyPoint] = Field(default_factory=list)
    """The top line: 3 to 7 developments, most important first."""
    key_points_written: bool = False
    """True when a model wrote the key developments from the facts; False when they were picked by rank (the
    number of sources, recency, kind of fact)."""
    parties: list[PartyEntry]
    mediators: list[MediatorEntry]
    people: list[PersonEntry]
    demands: list[DemandEntry]
    casualties: list[CasualtyEntry]
    """Distinct claims; the same figure from several sources is one claim with several citations."""
    incidents: list[IncidentEntry] = Field(default_factory=list)
    timeline: list[TimelineEntry]
    outcomes: list[OutcomeEntry]


class Briefing(_Model):
    """The merged account of a set of articles, one story after another; every fact cites its sources."""

    format: str = BRIEFING_FORMAT
    title: str
    day: date | None = None
    """The day of a daily briefing (``brief --date``); None for a briefing of every article given."""
    generated: datetime
    sources: list[Source]
    """Every article, numbered across the stories."""
    stories: list[Story]
    failures: list[Failure] = Field(default_factory=list)
    """Inputs left out, with the reason."""
    notices: list[str] = Field(default_factory=list)
    """Things the reader should know about how the briefing was made."""
    cost: CostReport | None = None
    """Tokens and dollars the records behind the briefing cost when they were fetched."""
