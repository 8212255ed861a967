"""The HTML briefing: structure and citations, escaping of hostile text, and a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer import build_briefing, load_settings
from summarizer.app.cli import app
from summarizer.briefing.model import (
    Briefing,
    CasualtyEntry,
    Citation,
    DemandEntry,
    Failure,
    KeyPoint,
    MediatorEntry,
    OutcomeEntry,
    PartyEntry,
    PersonEntry,
    Source,
    Story,
    TimelineEntry,
)
from summarizer.briefing.render import Detail, render
from summarizer.briefing.render.html import is_web_url, to_html
from summarizer.extraction.schema import (
    CasualtyKind,
    DemandStatus,
    MediatorRole,
    OutcomeStatus,
    PartyKind,
    Precision,
    Victims,
)
from tests.conftest import ARTICLES, RECORDINGS

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
FACT_SECTIONS = ("key", "figures", "demands", "who", "timeline", "outcomes")
# Every tag the template writes; anything else in the page came from data that was not escaped.
TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p", "section",
                 "article", "ul", "ol", "li", "strong", "span", "a", "cite", "code", "details", "summary", "q", "br",
                 "table", "thead", "tbody", "tr", "th", "td"}  # fmt: skip


@dataclass
class Item:
    """One ``<li>`` in a fact section and the citation links directly inside it."""

    section: str
    classes: list[str]
    links: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """What the tests look at in a page: tags, attributes, ids, links, list items per section, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.items: list[Item] = []
        self.conflicts: dict[str, int] = {}
        self.text: list[str] = []
        self._section = ""
        self._open: list[Item] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in values.items())
        classes = values.get("class", "").split()
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "section":
            # A story's sections are numbered after it: "timeline-1".
            self._section = values.get("id", "").rsplit("-", 1)[0] if "facts" in classes else ""
        elif tag == "li" and self._section:
            self._open.append(Item(self._section, classes))
            self.items.append(self._open[-1])
        elif tag == "a":
            self.links.append((values.get("href", ""), values.get("title", "")))
            if self._open and values.get("href", "").startswith("#source-"):
                self._open[-1].links.append(values["href"])
        if "conflict" in classes:
            self.conflicts[self._section] = self.conflicts.get(self._section, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = ""
        elif tag == "li" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def plain(self) -> str:
        return "".join(self.text)


@pytest.fixture
def example(tmp_path: Path) -> Briefing:
    return build_briefing([ARTICLES], load_settings(cache_dir=tmp_path / "c"), replay=RECORDINGS, generated=WHEN)


def test_example_briefing_links_every_fact_to_its_sources(example: Briefing) -> None:
    html = to_html(example, "full")
    [story] = example.stories
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html and '<meta charset="utf-8">' in html
    assert ("meta", "name", "viewport") in page.attrs
    assert set(page.tags) <= TEMPLATE_TAGS

    targets = [href for href, _ in page.links if href.startswith("#")]
    assert targets and all(href.startswith("#source-") and href[1:] in page.ids for href in targets)
    assert {f"source-{s.number}" for s in example.sources} <= page.ids

    assert {i.section for i in page.items} == set(FACT_SECTIONS)
    assert all(set(i.classes) & {"fact", "group"} for i in page.items)
    facts = [i for i in page.items if "fact" in i.classes]
    assert all(i.links for i in facts), [i for i in facts if not i.links]
    expected = {"key": len(story.key_points), "figures": len(story.casualties), "demands": len(story.demands),
                "who": len(story.parties) + len(story.mediators) + len(story.people),
                "timeline": len(story.timeline), "outcomes": len(story.outcomes)}  # fmt: skip
    counted = {s: sum(1 for i in facts if i.section == s and "together" not in i.classes) for s in FACT_SECTIONS}
    assert counted == expected

    # Each citation link carries its evidence quotes in its title.
    titles = "\n".join(title for _, title in page.links)
    for fact in [*story.parties, *story.demands, *story.casualties, *story.timeline, *story.outcomes]:
        for citation in fact.citations:
            assert f"“{' '.join(citation.quote.split())}”" in titles

    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert not [a for a in page.attrs if a[1] in {"src", "srcset", "action", "formaction"}]
    assert re.findall(r"https?://", html) == []  # the example sources have no URL, so nothing remote at all
    assert "2025-10-17" in page.plain and "2025-10-19" in page.plain
    assert page.conflicts.get("timeline", 0) == sum(1 for e in story.timeline if e.conflicts_with)
    assert page.plain.count("(inferred from the text)") == sum(s.published_inferred for s in example.sources)


def test_html_format_through_render_and_the_command(example: Briefing, tmp_path: Path) -> None:
    assert render(example, "html") == to_html(example)
    out = tmp_path / "briefing.html"
    result = CliRunner().invoke(
        app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-f", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'id="source-5"' in text and "Tehrik-e-Taliban Pakistan" in text


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
BREAKOUT = '" onmouseover="alert(1)" x="'
JS_URL = "javascript:alert(1)"
WEB_URL = "https://example.org/a?x=1&y=<b>"


def hostile_source(number: int, title: str, url: str, published: date | None, inferred: bool = False) -> Source:
    return Source(number=number, article_id=f"a{number}", title=title, location=f"{SCRIPT}.txt", outlet=SCRIPT,
                  url=url, published=published, published_inferred=inferred, origin="authored",
                  summary=f"{SCRIPT} {IMG}")  # fmt: skip


def hostile_briefing() -> Briefing:
    cites = [Citation(source=1, quote=f"He said {SCRIPT} {BREAKOUT}"), Citation(source=2, quote=IMG)]
    story = Story(
        number=1,
        title=f"Story {SCRIPT}",
        sources=[1, 2, 3],
        key_points=[KeyPoint(text=f"Point {SCRIPT}", facts=["1.E1"], sources=[1, 2])],
        parties=[PartyEntry(citations=cites, name=SCRIPT, kind=PartyKind.ARMED_GROUP, roles=[IMG],
                            names=[SCRIPT, IMG])],
        mediators=[MediatorEntry(citations=cites, name=IMG, roles=[MediatorRole.HOST], venues=[SCRIPT], names=[IMG])],
        people=[PersonEntry(citations=cites, name=SCRIPT, titles=[IMG], affiliation=BREAKOUT, names=[SCRIPT])],
        demands=[DemandEntry(citations=cites, by=SCRIPT, of=IMG, demand=BREAKOUT, status=DemandStatus.STATED)],
        casualties=[CasualtyEntry(citations=cites, kind=CasualtyKind.KILLED, figure_text=SCRIPT, low=None, best=None,
                                  high=None, victims=Victims.CIVILIANS, side=IMG, location=SCRIPT, when="2025-10",
                                  claimant=IMG)],
        timeline=[TimelineEntry(citations=cites, date="2025-10-17", end_date=None, precision=Precision.DAY,
                                description=IMG, date_texts=[SCRIPT], conflicts_with=["2025-10-19"])],
        outcomes=[OutcomeEntry(citations=cites, description=SCRIPT, status=OutcomeStatus.AGREED, parties=[IMG])],
    )  # fmt: skip
    return Briefing(
        title=f"Talks {SCRIPT}",
        generated=WHEN,
        sources=[hostile_source(1, f"Title {IMG}", JS_URL, date(2025, 11, 6)),
                 hostile_source(2, BREAKOUT, WEB_URL, date(2025, 11, 6), inferred=True),
                 hostile_source(3, "Three", "JavaScript:alert(3)", None)],
        stories=[story],
        failures=[Failure(location=f"{IMG}.txt", reason=SCRIPT)],
        notices=[IMG],
    )  # fmt: skip


@pytest.mark.parametrize("detail", ["compact", "full"])
def test_hostile_text_is_escaped_and_only_web_urls_are_links(detail: Detail) -> None:
    html = to_html(hostile_briefing(), detail)
    page = Page(html)
    assert set(page.tags) <= TEMPLATE_TAGS, set(page.tags) - TEMPLATE_TAGS
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not [a for a in page.attrs if a[1].startswith("on") or a[1] in {"src", "x"}]
    hrefs = [href for href, _ in page.links]
    assert not [h for h in hrefs if not h.startswith(("#source-", "https://"))]
    assert hrefs.count(WEB_URL) == 1  # the web URL is a link, with its & and < intact once parsed
    # Shown as written, not dropped: the text, the quotes in the titles, the refused URLs as plain text.
    for hostile in (SCRIPT, IMG, BREAKOUT, JS_URL, "JavaScript:alert(3)"):
        assert hostile in page.plain
    assert ("#source-1", f"“He said {SCRIPT} {BREAKOUT}”") in page.links
    assert ("#source-2", f"“{IMG}”") in page.links
    assert page.conflicts == {"timeline": 1} and "2025-10-19" in page.plain
    assert "published 2025-11-06 (inferred from the text)" in page.plain and "publication date unknown" in page.plain
    assert all(f"source-{n}" in page.ids for n in (1, 2, 3))


@pytest.mark.parametrize(
    ("url", "linked"),
    [("https://example.org/x", True), ("HTTP://example.org", True), (JS_URL, False), ("JavaScript:x", False),
     (" https://example.org", False), ("data:text/html,hi", False), ("//example.org", False), ("ftp://x", False),
     (None, False)],
)  # fmt: skip
def test_only_http_and_https_urls_are_linked(url: str | None, linked: bool) -> None:
    assert is_web_url(url) is linked


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]  # fmt: skip
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (apt-get install chromium)")
def test_a_headless_browser_loads_the_page_and_draws_it_at_phone_width(example: Briefing, tmp_path: Path) -> None:
    page = tmp_path / "briefing.html"
    page.write_text(to_html(example), encoding="utf-8")
    dumped = _chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert example.title in dumped.stdout and 'id="source-1"' in dumped.stdout

    shot = tmp_path / "shot.png"
    drawn = _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=412,900", page.as_uri())
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 412
    assert len(png) > 20_000, "a blank page is about 3 KB; text at phone width is far more"
