"""Wording shared by the formats: how figures, places, ranges and incidents are said. Each function takes the
format's escape for text from an article or a model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from summarizer.briefing.casualties import figure_bounds
from summarizer.briefing.model import Briefing, CasualtyEntry, CasualtyRange, IncidentEntry, Story

Escape = Callable[[str], str]
Detail = Literal["compact", "full"]
"""How much a briefing shows: each fact once (compact), or every wording, role and summary too (full)."""


def intro(briefing: Briefing) -> str:
    """How many articles the briefing covers (and, daily, how many earlier ones it compares with)."""
    if briefing.day is None:
        return f"{len(briefing.sources)} article(s)"
    earlier = sum(1 for s in briefing.sources if s.earlier)
    return (
        f"{len(briefing.sources) - earlier} article(s) published {briefing.day}, "
        f"compared with {earlier} earlier report(s); facts no earlier report gives are marked new"
    )


def figure(claim: CasualtyEntry, escape: Escape, unnumbered: str = " (no number given)") -> str:
    """The claim's figure as quoted, with the number it stands for (``“over 200” (at least 200)``). A figure
    given only as ``best`` is that number, or one end of a range when its words say so ("at least seven");
    words with no number ("dozens") are followed by ``unnumbered``."""
    words = f"“{escape(claim.figure_text)}”"
    low, high = figure_bounds(claim.figure_text, claim.low, claim.best, claim.high)
    if low is not None and low == high:
        return f"{words} ({low})" if str(low) != claim.figure_text.strip() else words
    if low is not None and high is not None:
        return f"{words} ({low} to {high})"
    if low is not None:
        return f"{words} (at least {low})"
    if high is not None:
        return f"{words} (at most {high})"
    return f"{words}{unnumbered}"


_PREPOSITIONS = frozenset({"in", "near", "at", "along", "on", "across", "inside", "outside", "around"})


def place(location: str | None, escape: Escape) -> str:
    """`` in <location>`` (or `` near <location>`` when it starts with a preposition); empty when unknown."""
    if not location:
        return ""
    first = location.split()[0].casefold()
    return f" {escape(location)}" if first in _PREPOSITIONS else f" in {escape(location)}"


def range_text(r: CasualtyRange, escape: Escape) -> str:
    """What the claims on one incident say together, e.g. "killed, soldiers: 23 (“several”, “23”)"."""
    victims = "" if r.victims == "unspecified" else f", {r.victims}"
    # The range's ends already carry each figure's bound (see casualties.figure_bounds): an open end is said.
    if r.low is None and r.high is None:
        amount = "no number given"
    elif r.low == r.high:
        amount = str(r.low)
    elif r.high is None:
        amount = f"at least {r.low}"
    elif r.low is None:
        amount = f"at most {r.high}"
    else:
        amount = f"{r.low} to {r.high}"
    words = ", ".join(f"“{escape(f)}”" for f in r.figures)
    return f"{r.kind}{victims}: {amount} ({words})"


def incident_heading(incident: IncidentEntry, escape: Escape, reported: str | None = None) -> str:
    """ "Incident 1: 2026-04, Vintra; sources give different figures for killed". An
    incident with no date of its own gives the day it was ``reported`` on, when an event says it."""
    disputed = f"; sources give different figures for {', '.join(incident.disputed)}" if incident.disputed else ""
    changed = "; figures changed since earlier reports" if incident.changed else ""
    return f"Incident {incident.number}: {_when_where(incident, escape, reported)}{disputed}{changed}"


def _when_where(incident: IncidentEntry, escape: Escape, reported: str | None) -> str:
    when = incident.when or (f"reported {reported}" if reported else "date not given")
    where = escape(incident.location) if incident.location else "place not given"
    return f"{when}, {where}"


def short_heading(incident: IncidentEntry, escape: Escape, reported: str | None = None) -> str:
    """The incident as a row of the figures table: "2026-04, Vintra (⚠ figures differ: killed)"; the dates and
    places as :func:`incident_heading` says them."""
    flags = [f"figures differ: {', '.join(incident.disputed)}"] if incident.disputed else []
    flags += ["changed since earlier reports"] if incident.changed else []
    return _when_where(incident, escape, reported) + (f" (⚠ {'; '.join(flags)})" if flags else "")


def reported_on(story: Story) -> dict[str, str]:
    """The date each casualty claim was reported on, by claim id, where an event of the timeline that only
    reports it (``TimelineEntry.figures``) gives one."""
    return {claim: event.date for event in story.timeline for claim in event.figures}


def first_reported(claims: Iterable[CasualtyEntry], reported: dict[str, str]) -> str | None:
    """The earliest day any of ``claims`` (an incident's) was reported on, by ``reported_on``, or None."""
    days = [reported[c.id] for c in claims if c.id in reported]
    return min(days) if days else None


def incident_sources(incident: IncidentEntry) -> list[int]:
    """Every source any of the incident's ranges rests on, ascending."""
    return sorted({n for r in incident.ranges for n in r.sources})
