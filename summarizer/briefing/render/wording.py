"""Wording shared by the formats: how figures, places, ranges and incidents are said. Each function takes the
format's escape for text from an article or a model."""

from __future__ import annotations

from collections.abc import Callable

from summarizer.briefing.model import Briefing, CasualtyEntry, CasualtyRange, IncidentEntry

Escape = Callable[[str], str]


def intro(briefing: Briefing) -> str:
    """How many articles the briefing covers (and, daily, how many earlier ones it compares with)."""
    if briefing.day is None:
        return f"{len(briefing.sources)} article(s)"
    earlier = sum(1 for s in briefing.sources if s.earlier)
    return (
        f"{len(briefing.sources) - earlier} article(s) published {briefing.day}, "
        f"compared with {earlier} earlier report(s); facts no earlier report gives are marked new"
    )


def figure(claim: CasualtyEntry, escape: Escape) -> str:
    """The claim's figure as quoted, with the number it stands for (``“over 200” (at least 200)``)."""
    words = f"“{escape(claim.figure_text)}”"
    if claim.low is not None and claim.high is not None and claim.low == claim.high:
        return f"{words} ({claim.low})" if str(claim.low) != claim.figure_text.strip() else words
    if claim.low is not None and claim.high is not None:
        return f"{words} ({claim.low} to {claim.high})"
    if claim.low is not None:
        return f"{words} (at least {claim.low})"
    if claim.high is not None:
        return f"{words} (at most {claim.high})"
    return f"{words} (no number given)"


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
    if r.low is None and r.high is None:
        amount = "no number given"
    elif r.best is not None and r.low == r.high == r.best:
        amount = str(r.best)
    elif r.high is None:
        amount = f"at least {r.low}"
    else:
        amount = f"{r.low} to {r.high}"
    words = ", ".join(f"“{escape(f)}”" for f in r.figures)
    return f"{r.kind}{victims}: {amount} ({words})"


def incident_heading(incident: IncidentEntry, escape: Escape) -> str:
    """ "Incident 1: 2025-10, Pakistan-Afghanistan border; sources give different figures for killed"."""
    when = incident.when or "date not given"
    where = escape(incident.location) if incident.location else "place not given"
    disputed = f"; sources give different figures for {', '.join(incident.disputed)}" if incident.disputed else ""
    changed = "; figures changed since earlier reports" if incident.changed else ""
    return f"Incident {incident.number}: {when}, {where}{disputed}{changed}"


def incident_sources(incident: IncidentEntry) -> list[int]:
    """Every source any of the incident's ranges rests on, ascending."""
    return sorted({n for r in incident.ranges for n in r.sources})
