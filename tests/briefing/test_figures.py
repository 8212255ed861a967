"""Casualty figures as said: a number given only as ``best`` is shown, a bound ("at least", "up to") stays in every
line, and a claimant named with and without a title is one claimant."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from summarizer.briefing.casualties import claimant_key, figure_bounds, reconcile
from summarizer.briefing.merge import merge_records
from summarizer.briefing.model import CasualtyEntry, Citation
from summarizer.briefing.render import render
from summarizer.briefing.render.wording import figure, range_text
from summarizer.extraction.records import Record, RequestInfo, ResponseInfo
from summarizer.extraction.schema import ArticleExtraction, CasualtyClaim, CasualtyKind, Victims
from summarizer.ingest.articles import make_article


def plain(text: str) -> str:
    return text


def claim(
    figure_text: str,
    low: int | None = None,
    best: int | None = None,
    high: int | None = None,
    claimant: str | None = None,
    victims: Victims = Victims.SOLDIERS,
) -> CasualtyClaim:
    return CasualtyClaim(
        kind=CasualtyKind.KILLED, figure_text=figure_text, low=low, best=best, high=high, victims=victims,
        when="2026-03", location="Orm river", claimant=claimant, evidence=f"{figure_text} soldiers were killed",
    )  # fmt: skip


def entry(c: CasualtyClaim) -> CasualtyEntry:
    return CasualtyEntry(
        kind=c.kind, figure_text=c.figure_text, low=c.low, best=c.best, high=c.high, victims=c.victims, side=None,
        location=c.location, when=c.when, claimant=c.claimant, citations=[Citation(source=1, quote=c.evidence)],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("c", "shown"),
    [
        (claim("55,000", best=55000), "“55,000” (55000)"),
        (claim("23", best=23), "“23”"),
        (claim("at least seven", best=7), "“at least seven” (at least 7)"),
        (claim("more than 30", best=30), "“more than 30” (at least 30)"),
        (claim("200+", best=200), "“200+” (at least 200)"),
        (claim("up to 40", best=40), "“up to 40” (at most 40)"),
        (claim("nearly 50", best=50), "“nearly 50” (at most 50)"),
        (claim("at least seven", low=7, best=7), "“at least seven” (at least 7)"),
        (claim("seven", low=7, best=7), "“seven” (7)"),
        (claim("over 200", low=200), "“over 200” (at least 200)"),
        (claim("up to 40", high=40), "“up to 40” (at most 40)"),
        (claim("between 10 and 20", low=10, high=20), "“between 10 and 20” (10 to 20)"),
        (claim("about 300", best=300), "“about 300” (300)"),
        (claim("dozens"), "“dozens” (no number given)"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.figure_text,
)
def test_a_claims_figure_shows_its_number_and_its_bound(c: CasualtyClaim, shown: str) -> None:
    assert figure(entry(c), plain) == shown


def test_bounds_read_from_the_words_only_where_the_numbers_leave_an_end_open() -> None:
    # Both ends given: the numbers are the claim, whatever the words.
    assert figure_bounds("at least 7", 7, None, 9) == (7, 9)
    assert figure_bounds("7", None, 7, None) == (7, 7)
    assert figure_bounds("at least 7", None, 7, None) == (7, None)
    assert figure_bounds("up to 7", None, 7, 7) == (None, 7)
    assert figure_bounds("dozens", None, None, None) == (None, None)


def together(*claims: CasualtyClaim) -> str:
    cited = [(c, Citation(source=n, quote=c.evidence)) for n, c in enumerate(claims, start=1)]
    _, [incident] = reconcile(cited, lambda name: name)
    return "; ".join(range_text(r, plain) for r in incident.ranges)


KILLED = "killed, soldiers:"


@pytest.mark.parametrize(
    ("claims", "line"),
    [
        ((claim("at least seven", best=7),), f"{KILLED} at least 7 (“at least seven”)"),
        ((claim("at least seven", low=7, best=7), claim("9", best=9)), f"{KILLED} at least 7 (“at least seven”, “9”)"),
        ((claim("up to 40", high=40),), f"{KILLED} at most 40 (“up to 40”)"),
        ((claim("up to 40", best=40), claim("25", best=25)), f"{KILLED} 25 to 40 (“up to 40”, “25”)"),
        ((claim("seven", best=7), claim("7", low=7, best=7, high=7)), f"{KILLED} 7 (“seven”, “7”)"),
        ((claim("55,000", best=55000), claim("60,000", best=60000)), f"{KILLED} 55000 to 60000 (“55,000”, “60,000”)"),
    ],
)
def test_the_taken_together_line_keeps_every_bound(claims: tuple[CasualtyClaim, ...], line: str) -> None:
    assert together(*claims) == line


@pytest.mark.parametrize(
    ("titled", "bare"),
    [
        ("President Lorn Vasse", "Lorn Vasse"),
        ("Defence Minister Ilse Varga", "Ilse Varga"),
        ("Lt Gen Oris Halme", "Gen. Oris Halme"),
        ("Maj. Gen. Oris Halme", "Oris Halme"),
        ("army spokesman Dariu Kest", "Dariu Kest"),
        ("Deputy Prime Minister Mara Kell", "Mara Kell"),
        ("Mr. Dariu Kest", "Dariu Kest"),
    ],
)
def test_a_claimant_with_and_without_titles_is_one_claimant(titled: str, bare: str) -> None:
    assert claimant_key(titled) == claimant_key(bare)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("President Lorn Vasse", "President Mara Vasse"),
        ("Minister of Defence", "Defence"),
        ("spokesman for the army", "the army"),
        ("the major powers", "powers"),
        ("the army's director general", "general"),
    ],
)
def test_titles_are_set_aside_only_before_a_name(one: str, other: str) -> None:
    assert claimant_key(one) != claimant_key(other)


def test_a_titled_and_an_untitled_claimant_give_one_claim_not_a_dispute() -> None:
    claims = [claim("12", best=12, claimant="President Lorn Vasse"), claim("12", best=12, claimant="Lorn Vasse"),
              claim("12", best=12, claimant="Lorn Vasse")]  # fmt: skip
    cited = [(c, Citation(source=n, quote=c.evidence)) for n, c in enumerate(claims, start=1)]
    entries, [incident] = reconcile(cited, lambda name: name)
    assert [(e.claimant, [c.source for c in e.citations]) for e in entries] == [("Lorn Vasse", [1, 2, 3])]
    assert incident.disputed == []


def test_a_surname_under_two_titles_stays_two_claimants() -> None:
    claims = [claim("12", best=12, claimant="General Vasse"), claim("12", best=12, claimant="Senator Vasse")]
    cited = [(c, Citation(source=n, quote=c.evidence)) for n, c in enumerate(claims, start=1)]
    entries, _ = reconcile(cited, lambda name: name)
    assert [e.claimant for e in entries] == ["General Vasse", "Senator Vasse"]


def _record(article_id: str, title: str, source: str, output: dict[str, Any]) -> Record:
    request = RequestInfo(
        article_id=article_id, article_title=title, article_source=source, model="m", mode="tools", temperature=0,
        prompt_hash="p", schema_hash="s",
    )  # fmt: skip
    return Record(origin="authored", key=source, request=request, response=ResponseInfo(), output=output)


def test_every_rendered_line_keeps_the_bound_and_the_best_only_number() -> None:
    texts = {
        "a.txt": ("Clashes on the Orm", "At least seven soldiers were killed near the Orm river in March."),
        "b.txt": ("Orm toll rises", "The army said 55,000 rounds were fired and 9 soldiers were killed near the Orm."),
    }
    figures = {"a.txt": claim("At least seven", best=7), "b.txt": claim("9", best=9, claimant="General Oris Halme")}
    pairs = []
    for source, (title, text) in texts.items():
        article = make_article(text, title=title, published="2026-03-20", source=source)
        c = figures[source]
        extraction = {"summary": "Soldiers were killed.", "casualties": [{**dataclasses.asdict(c), "evidence": text}]}
        output = ArticleExtraction.model_validate(extraction).model_dump(mode="json")
        pairs.append((article, _record(article.id, title, source, output)))
    briefing = merge_records(pairs, generated=datetime(2026, 3, 21, tzinfo=UTC))
    compact, full = render(briefing, "md"), render(briefing, "md", "full")
    assert "“At least seven” (at least 7)" in compact and "“9” |" in compact
    assert "taken together, not summed: killed, soldiers: at least 7 (“At least seven”, “9”)" in full
    assert "no number given" not in compact + full
    html = render(briefing, "html", "full")
    assert "killed, soldiers: at least 7" in html


def _claim_output(claimant: str, evidence: str) -> dict[str, Any]:
    return {"kind": "killed", "figure_text": "11", "low": 11, "best": 11, "high": 11, "victims": "soldiers",
            "when": "2026-03", "location": "Vintra", "claimant": claimant, "evidence": evidence}  # fmt: skip


def test_claimants_are_resolved_as_the_actors_are() -> None:
    from tests.briefing.test_merge import brief, party, source

    one = source(1, "Ukraine and the Dravic National Movement said 11 soldiers died. Colonel Teodor Brask spoke.",
                 parties=[party("Dravic National Movement", kind="armed_group"), party("Ukraine")],
                 people=[{"name": "Teodor Brask", "title": "Colonel", "evidence": "Colonel Teodor Brask spoke"}],
                 casualties=[_claim_output("Dravic National Movement", "said 11 soldiers died")])  # fmt: skip
    two = source(2, "Ukraine and the Dravic National Movement. The DNM says 11 soldiers died. "
                 "Army spokesman Colonel Teodor Brask confirmed 11 deaths.",
                 parties=[party("Dravic National Movement", kind="armed_group"), party("Ukraine")],
                 casualties=[_claim_output("DNM", "says 11 soldiers died"),
                             _claim_output("Army spokesman Colonel Teodor Brask", "confirmed 11 deaths")])  # fmt: skip
    three = source(3, "Ukraine and the Dravic National Movement. Kyiv says 11 soldiers died, the army says 11 died.",
                   parties=[party("Dravic National Movement", kind="armed_group"), party("Ukraine")],
                   casualties=[_claim_output("Kyiv", "Kyiv says 11 soldiers died"),
                               _claim_output("the army", "the army says 11 died")])  # fmt: skip
    [story] = brief(one, two, three).stories
    by_claimant = {c.claimant: sorted(c.source_numbers) for c in story.casualties}
    assert by_claimant == {
        "Dravic National Movement": [1, 2],  # an initialism of a listed party is that party
        "Teodor Brask": [2],  # titles before a listed person's name are set aside
        "Ukraine": [3],  # a capital standing for a listed country is that country
        "the army": [3],  # a claimant no record lists as an actor keeps its words
    }
