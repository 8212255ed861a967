"""The briefing as Markdown: one section per kind of fact, a citation on every line, then the sources."""

from __future__ import annotations

import re
from collections.abc import Iterable

from summarizer.briefing.model import (
    Briefing,
    CasualtyEntry,
    Cited,
    DemandEntry,
    Source,
    TimelineEntry,
)
from summarizer.briefing.render.wording import figure, incident_heading, incident_sources, intro, place, range_text

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: str) -> str:
    """Escape article- or model-derived text for Markdown so that it shows as written."""
    # Runs of whitespace become one space. Most text has none: a scan is cheaper than splitting it into words.
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def cites(fact: Cited) -> str:
    """The fact's sources as ``[1][3]``, after a *new* mark in a daily briefing when no earlier report has it."""
    unfound, numbers = fact.unfound_sources, fact.source_numbers
    if unfound:
        shown = "".join(f"[{n}?]" if n in unfound else f"[{n}]" for n in numbers)
    else:  # nearly always: the numbers joined at once, not formatted one by one (a fact can have thousands)
        shown = "[" + "][".join(map(str, numbers)) + "]"
    return f"*new* {shown}" if fact.new else shown


def _also(names: Iterable[str], shown: str) -> str:
    others = [n for n in names if n != shown]
    return f"; also written {', '.join(md(n) for n in others)}" if others else ""


def _casualty_lines(briefing: Briefing) -> list[str]:
    lines: list[str] = []
    for incident in briefing.incidents:
        claims = [c for c in briefing.casualties if c.incident == incident.number]
        lines.append(f"- **{incident_heading(incident, md)}**")
        lines.extend("  " + _casualty_line(c) for c in claims)
        if len(claims) > 1:
            together = "; ".join(range_text(r, md) for r in incident.ranges)
            sources = "".join(f"[{n}]" for n in incident_sources(incident))
            lines.append(f"  - taken together, not summed: {together} {sources}")
    lines.extend(_casualty_line(c) for c in briefing.casualties if c.incident == 0)
    return lines


def _casualty_line(claim: CasualtyEntry) -> str:
    victims = "" if claim.victims == "unspecified" else f" {claim.victims}"
    whose = f" ({md(claim.side)})" if claim.side else ""
    where = place(claim.location, md)
    when = f", {claim.when}" if claim.when else ""
    who = f"claimed by {md(claim.claimant)}" if claim.claimant else "stated by the outlet"
    return f"- {claim.kind}: {figure(claim, md)}{victims}{whose}{where}{when}; {who} {cites(claim)}"


def _timeline_line(event: TimelineEntry) -> str:
    span = f"{event.date} to {event.end_date}" if event.end_date else event.date
    precision = "" if event.precision == "day" else f" ({event.precision})"
    conflict = f" (other sources date this {', '.join(event.conflicts_with)})" if event.conflicts_with else ""
    return f"- **{span}**{precision}: {md(event.description)}{conflict} {cites(event)}"


def _source_line(source: Source) -> str:
    parts = [f"{source.number}. {md(source.title)}"]
    if source.outlet:
        parts.append(md(source.outlet))
    if source.published:
        parts.append(
            f"published {source.published}" + (" (inferred from the text)" if source.published_inferred else "")
        )
    else:
        parts.append("publication date unknown")
    if source.url:
        parts.append(f"<{source.url}>")
    parts.append(f"file `{source.location}`")
    parts.append(f"{source.origin} record")
    if source.earlier:
        parts.append("earlier report, for comparison")
    return ", ".join(parts)


def to_markdown(briefing: Briefing) -> str:
    """The briefing as Markdown: one section per kind of fact, a citation on every line, then the sources."""
    lines = [f"# {md(briefing.title)}", ""]
    lines.append(f"_{intro(briefing)}. Every line ends with its sources, numbered as in “Sources”._")
    lines.append("")

    def section(title: str, body: list[str]) -> None:
        lines.extend([f"## {title}", "", *(body or ["_None reported._"]), ""])

    section("Summary by source", [f"- {md(s.summary)} [{s.number}]" for s in briefing.sources if not s.earlier])
    section(
        "Parties",
        [
            f"- **{md(p.name)}** ({p.kind.replace('_', ' ')}): {'; '.join(md(r) for r in p.roles)}"
            f"{_also(p.names, p.name)} {cites(p)}"
            for p in briefing.parties
        ],
    )
    section(
        "Mediators",
        [
            f"- **{md(m.name)}**: {', '.join(m.roles)}"
            + (f"; in {', '.join(md(v) for v in m.venues)}" if m.venues else "")
            + f"{_also(m.names, m.name)} {cites(m)}"
            for m in briefing.mediators
        ],
    )
    section(
        "People",
        [
            f"- **{md(p.name)}**"
            + (f", {' / '.join(md(t) for t in p.titles)}" if p.titles else "")
            + (f" ({md(p.affiliation)})" if p.affiliation else "")
            + f"{_also(p.names, p.name)} {cites(p)}"
            for p in briefing.people
        ],
    )
    demand_lines: list[str] = []
    by_party: dict[str, list[DemandEntry]] = {}
    for d in briefing.demands:
        by_party.setdefault(d.by, []).append(d)
    for by, demands in by_party.items():
        demand_lines.append(f"- **{md(by)}**")
        for d in demands:
            of = f"of {md(d.of)}: " if d.of else ""
            was = f", was {d.previous_status.replace('_', ' ')}" if d.previous_status else ""
            demand_lines.append(f"  - {of}{md(d.demand)} ({d.status.replace('_', ' ')}{was}) {cites(d)}")
    section("Demands", demand_lines)
    section("Casualty claims", _casualty_lines(briefing))
    section("Timeline", [_timeline_line(e) for e in briefing.timeline])
    section(
        "Outcomes and agreements",
        [
            f"- {md(o.description)} ({o.status}"
            + (f"; {', '.join(md(p) for p in o.parties)}" if o.parties else "")
            + f") {cites(o)}"
            for o in briefing.outcomes
        ],
    )
    if briefing.failures:
        section("Left out", [f"- `{f.location}`: {md(f.reason)}" for f in briefing.failures])
    if briefing.notices:
        section("Notes", [f"- {md(n)}" for n in briefing.notices])
    if briefing.cost is not None:
        section("Cost", [md(briefing.cost.describe())])
    section("Sources", [_source_line(s) for s in briefing.sources])
    return "\n".join(lines).rstrip() + "\n"
