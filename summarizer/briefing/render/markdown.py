"""The briefing as Markdown, for a reader with 30 seconds: per story, the key developments first, then the
figures, where each side stands, who is involved, the timeline and the outcomes, each fact once with all its
sources; the sources last. ``detail="full"`` adds what a reviewer checks: every party's roles, every other
wording of a merged fact, each source's summary."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from summarizer.briefing.facts import UNSAID
from summarizer.briefing.model import (
    Briefing,
    CasualtyEntry,
    Cited,
    DemandEntry,
    Source,
    Story,
    TimelineEntry,
)
from summarizer.briefing.render.wording import (
    Detail,
    figure,
    first_reported,
    incident_heading,
    incident_sources,
    intro,
    place,
    range_text,
    reported_on,
    short_heading,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: str) -> str:
    """Escape article- or model-derived text for Markdown so that it shows as written."""
    # Runs of whitespace become one space. Most text has none: a scan is cheaper than splitting it into words.
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def cites(fact: Cited) -> str:
    """The fact's sources as ``[1][3]``, after a *new* mark in a daily briefing when no earlier report has it."""
    return _numbers(fact.source_numbers, fact.unfound_sources, fact.new)


def _numbers(numbers: Iterable[int], unfound: Collection[int] = (), new: bool | None = None) -> str:
    if unfound:
        shown = "".join(f"[{n}?]" if n in unfound else f"[{n}]" for n in numbers)
    else:  # nearly always: the numbers joined at once, not formatted one by one (a fact can have thousands)
        shown = "[" + "][".join(map(str, numbers)) + "]"
    return f"*new* {shown}" if new else shown


def _also(names: Iterable[str], shown: str, most: int | None = None) -> str:
    others = [n for n in names if n != shown]
    if not others:
        return ""
    more = "…" if most is not None and len(others) > most else ""
    return f" (also {', '.join(md(n) for n in others[:most])}{more})"


def _variants(fact: DemandEntry | TimelineEntry, detail: Detail) -> list[str]:
    if detail == "compact" or not fact.variants:
        return []
    return [f"  - also told as: {md(v)}" for v in fact.variants]


def _key_points(story: Story) -> list[str]:
    lines = [f"- {md(p.text)} {_numbers(p.sources)}" for p in story.key_points]
    if lines and not story.key_points_written:
        lines.append("")
        lines.append("_Picked from the facts by number of sources, recency and kind; not written by a model._")
    return lines


def _changes(story: Story) -> list[str]:
    """In a daily briefing: the demands whose status moved, the incidents whose figures changed, and how many
    facts no earlier report gives (marked *new* where they stand, so that none is said twice more)."""
    lines: list[str] = []
    for demand in story.demands:
        if demand.previous_status:
            was, now = demand.previous_status.replace("_", " "), demand.status.replace("_", " ")
            lines.append(f"- {md(demand.by)}: {md(demand.demand)} (was {was}, now {now}) {cites(demand)}")
    for incident in story.incidents:
        if incident.changed:
            lines.append(f"- figures changed: {incident_heading(incident, md)} {_numbers(incident_sources(incident))}")
    facts: list[Cited] = [*story.timeline, *story.outcomes, *story.demands, *story.casualties]
    new = sum(1 for fact in facts if fact.new)
    if new:
        lines.append(f"- {new} fact(s) no earlier report gives, marked *new* below")
    return lines


def _figures(story: Story) -> list[str]:
    """Each casualty claim as a row, under its incident; an incident on which sources differ is flagged."""
    if not story.casualties:
        return []
    lines = ["| Claim | Figure | Claimed by | Sources |", "|---|---|---|---|"]
    reported = reported_on(story)
    for incident in [*story.incidents, None]:
        number = incident.number if incident else 0
        claims = [c for c in story.casualties if c.incident == number]
        if not claims:
            continue
        heading = short_heading(incident, md, first_reported(claims, reported)) if incident else "Other claims"
        lines.append(f"| **{heading}** | | | |")
        for claim in claims:
            victims = "" if claim.victims == "unspecified" else f" {claim.victims}"
            whose = f" ({md(claim.side)})" if claim.side else ""
            # A claim dated more finely than its incident says its own day.
            if claim.when and (incident is None or claim.when != incident.when):
                whose += f", {claim.when}"
            who = md(claim.claimant) if claim.claimant else "the outlet"
            # Quoted words with no number ("dozens") say so themselves in a table row.
            lines.append(f"| {claim.kind}{victims}{whose} | {figure(claim, md, '')} | {who} | {cites(claim)} |")
    return lines


def _casualty_lines(story: Story) -> list[str]:
    lines: list[str] = []
    reported = reported_on(story)
    for incident in story.incidents:
        claims = [c for c in story.casualties if c.incident == incident.number]
        lines.append(f"- **{incident_heading(incident, md, first_reported(claims, reported))}**")
        lines.extend("  " + _casualty_line(c) for c in claims)
        if len(claims) > 1:
            together = "; ".join(range_text(r, md) for r in incident.ranges)
            sources = "".join(f"[{n}]" for n in incident_sources(incident))
            lines.append(f"  - taken together, not summed: {together} {sources}")
    lines.extend(_casualty_line(c) for c in story.casualties if c.incident == 0)
    return lines


def _casualty_line(claim: CasualtyEntry) -> str:
    victims = "" if claim.victims == "unspecified" else f" {claim.victims}"
    whose = f" ({md(claim.side)})" if claim.side else ""
    where = place(claim.location, md)
    when = f", {claim.when}" if claim.when else ""
    who = f"claimed by {md(claim.claimant)}" if claim.claimant else "stated by the outlet"
    return f"- {claim.kind}: {figure(claim, md)}{victims}{whose}{where}{when}; {who} {cites(claim)}"


def _stands(story: Story, detail: Detail) -> list[str]:
    """Each side's demands, one line per demand, under who makes them of whom."""
    lines: list[str] = []
    by_sides: dict[tuple[str, str | None], list[DemandEntry]] = {}
    for d in story.demands:
        if detail == "full" or d.repeats is None:
            by_sides.setdefault((d.by, d.of), []).append(d)
    for (by, of), demands in by_sides.items():
        lines.append(f"- **{md(by)} of {md(of)}**" if of else f"- **{md(by)}**")
        for d in demands:
            was = f", was {d.previous_status.replace('_', ' ')}" if d.previous_status else ""
            # A demand only stated, or of unknown status, says nothing by it; the compact briefing names the others.
            shown = detail == "full" or d.status not in UNSAID or was
            status = f" ({d.status.replace('_', ' ')}{was})" if shown else ""
            lines.append(f"  - {md(d.demand)}{status} {cites(d)}")
            lines.extend("  " + v for v in _variants(d, detail))
    return lines


def _who(story: Story, detail: Detail) -> list[str]:
    if detail == "full":
        return [
            *(
                f"- **{md(p.name)}** ({p.kind.replace('_', ' ')}): {'; '.join(md(r) for r in p.roles)}"
                f"{_also(p.names, p.name)} {cites(p)}"
                for p in story.parties
            ),
            *(
                f"- **{md(m.name)}**: {', '.join(m.roles)}"
                + (f"; in {', '.join(md(v) for v in m.venues)}" if m.venues else "")
                + f"{_also(m.names, m.name)} {cites(m)}"
                for m in story.mediators
            ),
            *(
                f"- **{md(p.name)}**"
                + (f", {' / '.join(md(t) for t in p.titles)}" if p.titles else "")
                + (f" ({md(p.affiliation)})" if p.affiliation else "")
                + f"{_also(p.names, p.name)} {cites(p)}"
                for p in story.people
            ),
        ]
    lines = []
    if story.parties:
        parties = "; ".join(f"{md(p.name)}{_also(p.names, p.name, 3)} {cites(p)}" for p in story.parties)
        lines.append(f"- **Parties:** {parties}")
    if story.mediators:
        mediators = "; ".join(
            f"{md(m.name)} ({', '.join(m.roles)}{'; ' + ', '.join(md(v) for v in m.venues) if m.venues else ''})"
            f" {cites(m)}"
            for m in story.mediators
        )
        lines.append(f"- **Mediators:** {mediators}")
    if story.people:
        people = "; ".join(
            f"{md(p.name)}{_person_detail(p.titles[:1], p.affiliation)} {cites(p)}" for p in story.people
        )
        lines.append(f"- **People:** {people}")
    return lines


def _person_detail(titles: list[str], affiliation: str | None) -> str:
    said = [*(md(t) for t in titles), *([md(affiliation)] if affiliation else [])]
    return f" ({', '.join(said)})" if said else ""


def _timeline_line(event: TimelineEntry) -> str:
    # The date's own form says its precision (2025, 2025-10, 2025-10-25).
    span = f"{event.date} to {event.end_date}" if event.end_date else event.date
    conflict = f" (⚠ other sources date this {', '.join(event.conflicts_with)})" if event.conflicts_with else ""
    return f"- **{span}**: {md(event.description)}{conflict} {cites(event)}"


def _source_line(source: Source, detail: Detail) -> str:
    parts = [f"{source.number}. {md(source.title)}"]
    if source.outlet:
        parts.append(md(source.outlet))
    if source.published:
        parts.append(f"{source.published}" + (" (date inferred)" if source.published_inferred else ""))
    else:
        parts.append("date unknown")
    if source.url:
        parts.append(f"<{source.url}>")
    if detail == "full":
        parts.append(f"`{source.location}`")
        parts.append(f"{source.origin} record")
    if source.earlier:
        parts.append("earlier report, for comparison")
    line = ", ".join(parts)
    # The compact briefing's top line and facts already say what each source's summary retells; the summaries
    # stay in the full briefing, the JSON, and the HTML's collapsed sources.
    return f"{line}. {md(source.summary)}" if detail == "full" else line


def _story_lines(story: Story, detail: Detail, level: str, daily: bool) -> list[str]:
    lines: list[str] = []

    def section(title: str, body: list[str]) -> None:
        if body:
            lines.extend([f"{level} {title}", "", *body, ""])

    section("Key developments", _key_points(story))
    if daily:
        section("What changed", _changes(story))
    section("Key figures", _figures(story) if detail == "compact" else _casualty_lines(story))
    section("Where each side stands", _stands(story, detail))
    section("Who", _who(story, detail))
    timeline: list[str] = []
    for event in story.timeline:
        if detail == "compact" and event.figures:
            continue  # told once, in the figures table, with the day it was reported
        timeline.append(_timeline_line(event))
        timeline.extend(_variants(event, detail))
    section("Timeline", timeline)
    outcomes = [
        # An outcome of unknown status says nothing by it; the compact briefing names the others.
        f"- {md(o.description)}{'' if o.status == 'unknown' and detail == 'compact' else f' ({o.status})'} {cites(o)}"
        for o in story.outcomes
        if detail == "full" or o.repeats is None
    ]
    section("Outcomes and agreements", outcomes)
    return lines


def to_markdown(briefing: Briefing, detail: Detail = "compact") -> str:
    """The briefing as Markdown; ``detail="full"`` keeps every wording, role and summary."""
    lines = [f"# {md(briefing.title)}", ""]
    lines.append(f"_{intro(briefing)}. [n] is a source, listed under “Sources”._")
    lines.append("")
    several = len(briefing.stories) > 1
    if several:
        lines.extend(["## Stories", ""])
        for story in briefing.stories:
            when = f", {story.period}" if story.period else ""
            lines.append(f"{story.number}. **{md(story.title)}**{when} {_numbers(story.sources)}")
        lines.append("")
    if not briefing.stories:
        lines.extend(["_No article could be extracted; nothing to brief._", ""])
    for story in briefing.stories:
        if several:
            when = f" ({story.period})" if story.period else ""
            lines.extend([f"## {story.number}. {md(story.title)}{when}", ""])
        lines.extend(_story_lines(story, detail, "###" if several else "##", briefing.day is not None))

    def section(title: str, body: list[str]) -> None:
        lines.extend([f"## {title}", "", *body, ""])

    if briefing.failures:
        section("Left out", [f"- `{f.location}`: {md(f.reason)}" for f in briefing.failures])
    if briefing.notices:
        section("Notes", [f"- {md(n)}" for n in briefing.notices])
    if briefing.cost is not None:
        section("Cost", [md(briefing.cost.describe())])
    section("Sources", [_source_line(s, detail) for s in briefing.sources])
    return "\n".join(lines).rstrip() + "\n"
