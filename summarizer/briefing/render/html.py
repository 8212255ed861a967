"""Renders a briefing as one self-contained HTML page (inline CSS, no scripts, no remote assets).

The page has the Markdown's sections and wording. Every string from an article or a model reaches the page through
Jinja's autoescaping; the template never marks data as safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from summarizer.briefing.model import Briefing, Cited, DemandEntry, IncidentEntry
from summarizer.briefing.render.wording import Detail, figure, incident_sources, intro, place, range_text, reported_on

_WEB_URL = re.compile(r"https?://", re.IGNORECASE)


def plain(text: str) -> str:
    """Text with its runs of whitespace made single spaces; escaping is left to the template."""
    return " ".join(text.split())


def citation_links(fact: Cited) -> list[tuple[str, int, str]]:
    """One ``(label, source number, quotes)`` triple per distinct source, ascending; a source's quotes one a
    line, each not found in its article so marked. The label is ``[n?]`` when none of them was found."""
    quotes: dict[int, list[str]] = {}
    for citation in fact.citations:
        mark = "" if citation.found else " (not found in the article)"
        quotes.setdefault(citation.source, []).append(f"“{plain(citation.quote)}”{mark}")
    unfound = fact.unfound_sources
    return [(f"[{n}?]" if n in unfound else f"[{n}]", n, "\n".join(dict.fromkeys(quotes[n]))) for n in sorted(quotes)]


def also_written(names: Iterable[str], shown: str) -> list[str]:
    """The other spellings of an entity, in the sources' order."""
    return [n for n in names if n != shown]


def demand_groups(demands: Iterable[DemandEntry]) -> list[tuple[str, list[DemandEntry]]]:
    """Demands grouped by who makes them, groups in order of first appearance."""
    groups: dict[str, list[DemandEntry]] = {}
    for demand in demands:
        groups.setdefault(demand.by, []).append(demand)
    return list(groups.items())


def together_text(incident: IncidentEntry) -> str:
    """Every range of the incident, one after another."""
    return "; ".join(range_text(r, escape=plain) for r in incident.ranges)


def is_web_url(url: str | None) -> bool:
    """True for an http:// or https:// URL, the only kind the page links to."""
    return url is not None and _WEB_URL.match(url) is not None


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("summarizer.briefing.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        citation_links=citation_links,
        also_written=also_written,
        demand_groups=demand_groups,
        is_web_url=is_web_url,
        together_text=together_text,
        incident_sources=incident_sources,
        reported_on=reported_on,
        figure=lambda claim: figure(claim, escape=plain),
        place=lambda location: place(location, escape=plain),
    )
    return env


def to_html(briefing: Briefing, detail: Detail = "compact") -> str:
    """The briefing as a single HTML page: one section per kind of fact, citation links on every fact, then the
    sources, each with the anchor ``source-n`` that the ``[n]`` links point to."""
    titles = {s.number: plain(s.title) for s in briefing.sources}
    return (
        _environment()
        .get_template("briefing.html.j2")
        .render(briefing=briefing, titles=titles, intro=intro(briefing), detail=detail)
    )
