"""Stories kept apart, facts told in other words merged, and the top line, on the example articles and on the
synthetic story written for the tests (fixtures/synthetic: fictional names, authored recordings)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from summarizer import build_briefing, load_settings, render
from summarizer.briefing.model import Briefing, Cited, Story
from summarizer.briefing.stories import group_stories
from tests.briefing.test_merge import brief, party, source
from tests.conftest import ARTICLES, RECORDINGS, ROOT

SYNTHETIC = ROOT / "fixtures" / "synthetic"
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def _facts(story: Story) -> list[Cited]:
    return [
        *story.parties, *story.mediators, *story.people, *story.demands,
        *story.casualties, *story.timeline, *story.outcomes,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def both_recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recordings of the examples and of the synthetic story in one folder."""
    recordings = tmp_path_factory.mktemp("recordings")
    for folder in (RECORDINGS, SYNTHETIC / "recordings"):
        for path in folder.glob("*.json"):
            shutil.copy(path, recordings / path.name)
    return recordings


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, both_recordings: Path) -> Briefing:
    settings = load_settings(cache_dir=tmp_path_factory.mktemp("cache"))
    return build_briefing([ARTICLES, SYNTHETIC / "articles"], settings, replay=both_recordings)


def test_two_unrelated_stories_are_two_sections_whose_actors_do_not_mix(both: Briefing) -> None:
    assert len(both.stories) == 2
    example, synthetic = sorted(both.stories, key=lambda s: len(s.sources), reverse=True)
    titles = {s.number: s.location for s in both.sources}
    assert {Path(titles[n]).parent.name for n in example.sources} == {"articles"}
    assert all("synthetic" in titles[n] for n in synthetic.sources) and len(synthetic.sources) == 5
    assert sorted([*example.sources, *synthetic.sources]) == [s.number for s in both.sources]
    example_actors = {p.name for p in example.parties} | {m.name for m in example.mediators}
    synthetic_actors = {p.name for p in synthetic.parties} | {m.name for m in synthetic.mediators}
    assert not example_actors & synthetic_actors
    assert "Pakistan" in example_actors and "Caldria" in synthetic_actors
    for story in both.stories:  # every fact of a story cites only that story's sources
        assert {n for fact in _facts(story) for n in fact.source_numbers} <= set(story.sources)
    markdown = render(both, "md")
    assert markdown.count("\n## Stories\n") == 1 and "\n### Key developments\n" in markdown


def test_the_synthetic_story_alone_is_one_story_with_one_entry_per_actor(tmp_path: Path) -> None:
    # Five outlets, as plain text and as saved pages full of furniture and invisible characters, naming the
    # actors by initialisms (DNM, M.C.C., NPD), other languages' names and transliterations (Yalo Serin).
    settings = load_settings(cache_dir=tmp_path / "cache")
    briefing = build_briefing([SYNTHETIC / "articles"], settings, replay=SYNTHETIC / "recordings")
    [story] = briefing.stories
    pages = [s.number for s in briefing.sources if s.location.endswith(".html")]
    assert len(pages) == 2 and not any(s.published_inferred for s in briefing.sources)
    actors = {
        "parties": {"Caldria": [1, 2, 3, 4, 5], "Dravic National Movement": [1, 2, 3, 4, 5]},
        "mediators": {"Meridian Cooperation Council": [1, 2, 3, 4, 5], "Lorvania": [1, 2, 3]},
        "people": {
            "Ilse Marrondt": [1, 2, 3, 4, 5], "Anselm Korvath": [1, 2, 3, 4, 5], "Miren Oskarra": [1, 2, 3, 5],
            "Tomas Arvelo": [1, 2, 5], "Teodor Brask": [1, 4], "Jalo Serrin": [1, 2, 3, 4],
        },
    }  # fmt: skip
    for kind, expected in actors.items():
        entries = getattr(story, kind)
        assert {e.name: e.source_numbers for e in entries} == expected, kind
    movement = next(p for p in story.parties if p.name == "Dravic National Movement")
    assert {"DNM", "Dravik National Movement", "Narodni Pokret Dravice", "NPD"} <= set(movement.names)
    assert "Yalo Serin" in next(p for p in story.people if p.name == "Jalo Serrin").names
    assert {c.claimant for c in story.casualties} == {
        "Caldrian army", "Dravic National Movement", "Meridian Cooperation Council", "Teodor Brask"}  # fmt: skip
    citations = [c for fact in _facts(story) for c in fact.citations]
    assert citations and all(c.found for c in citations), "every evidence quote is found in its article"
    assert {c.source for c in citations} >= set(pages)
    assert briefing.notices == []


def test_the_example_articles_are_one_story(tmp_path: Path) -> None:
    briefing = build_briefing([ARTICLES], load_settings(cache_dir=tmp_path / "c"), replay=RECORDINGS)
    [story] = briefing.stories
    assert story.sources == [1, 2, 3, 4, 5] and story.period == "2025-10-30 to 2025-11-06"


def test_grouping_compares_an_article_only_with_stories_that_share_an_actor() -> None:
    items = [
        (1, frozenset({"Caldria", "Dravic National Movement"}), "Caldria and the rebels open talks in Bellmere", None),
        (2, frozenset({"Norland", "Estmark"}), "Norland and Estmark trade fire over the strait", None),
        (
            3,
            frozenset({"Caldria", "Dravic National Movement", "Lorvania"}),
            "Caldria and the rebels agree a truce",
            None,
        ),
    ]
    assert group_stories(items) == [[1, 3], [2]]


def test_demands_told_in_other_words_become_one_line_with_every_source() -> None:
    one = source(1, "The rebels must hand over their heavy weapons before any talks on autonomy, Caldria said.",
                 parties=[party("Caldria"), party("Dravic National Movement")],
                 demands=[{"by": "Caldria", "of": "Dravic National Movement", "status": "stated",
                           "demand": "The rebels must hand over their heavy weapons before any talks on autonomy.",
                           "evidence": "The rebels must hand over their heavy weapons"}])  # fmt: skip
    two = source(2, "The movement must surrender its heavy weapons first. Troops must leave the highlands.",
                 parties=[party("Caldria"), party("Dravic National Movement")],
                 demands=[{"by": "Caldria", "of": "Dravic National Movement", "status": "stated",
                           "demand": "The movement must surrender its heavy weapons before autonomy talks can start.",
                           "evidence": "The movement must surrender its heavy weapons first"},
                          {"by": "Dravic National Movement", "of": "Caldria", "status": "stated",
                           "demand": "Government troops must withdraw from the highlands.",
                           "evidence": "Troops must leave the highlands"}])  # fmt: skip
    [story] = brief(one, two).stories
    weapons = [d for d in story.demands if "heavy weapons" in d.demand]
    assert len(weapons) == 1 and weapons[0].source_numbers == [1, 2]
    assert weapons[0].variants == ["The movement must surrender its heavy weapons before autonomy talks can start."]
    assert {c.quote for c in weapons[0].citations} == {
        "The rebels must hand over their heavy weapons",
        "The movement must surrender its heavy weapons first",
    }
    assert len(story.demands) == 2, "a different demand stays its own line"


def test_an_event_dated_coarsely_by_one_source_joins_the_same_event_dated_precisely() -> None:
    events = [
        {"date": "2026-04", "date_text": "in April", "precision": "month",
         "description": "Both sides agreed to exchange prisoners within two weeks.", "evidence": "exchange prisoners"},
        {"date": "2026-04-16", "date_text": "on Thursday", "precision": "day",
         "description": "The two sides agreed to swap prisoners within two weeks.", "evidence": "swap prisoners"},
        {"date": "2026-05-04", "date_text": "May 4", "precision": "day",
         "description": "The two sides agreed to swap prisoners within two weeks.", "evidence": "swap again"},
    ]  # fmt: skip
    one = source(1, "They agreed to exchange prisoners.", parties=[party("Caldria")], events=events[:1])
    two = source(2, "They agreed to swap prisoners. Later they will swap again.", parties=[party("Caldria")],
                 events=events[1:])  # fmt: skip
    [story] = brief(one, two).stories
    swap = [e for e in story.timeline if e.date == "2026-04-16"]
    assert len(swap) == 1 and swap[0].source_numbers == [1, 2] and swap[0].precision == "day"
    assert [e.date for e in story.timeline] == ["2026-04-16", "2026-05-04"], "another day is another event"


def _cited_facts_of_the_story(story: Story) -> None:
    ids = {fact.id for fact in _facts(story)}
    for point in story.key_points:
        assert point.facts and set(point.facts) <= ids
        assert point.sources and set(point.sources) <= set(story.sources)
        cited = {n for fact in _facts(story) if fact.id in point.facts for n in fact.source_numbers}
        assert point.sources == sorted(cited), "a bullet cites every source of the facts it rests on"
    assert len({p.text for p in story.key_points}) == len(story.key_points)


def test_the_top_line_is_written_from_each_storys_own_facts(both: Briefing) -> None:
    for story in both.stories:
        assert 3 <= len(story.key_points) <= 7 and story.key_points_written
        _cited_facts_of_the_story(story)
    markdown = render(both, "md")
    assert "not written by a model" not in markdown
    html = render(both, "html")
    assert html.index("Key developments") < html.index("Where each side stands")


def test_without_synthesis_the_top_line_is_picked_and_labelled(tmp_path: Path, both_recordings: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache")
    briefing = build_briefing([ARTICLES, SYNTHETIC / "articles"], settings, replay=both_recordings, synthesis=False)
    for story in briefing.stories:
        assert 1 <= len(story.key_points) <= 5 and not story.key_points_written
        _cited_facts_of_the_story(story)
    assert render(briefing, "md").count("not written by a model") == 2


def test_a_story_of_one_article_still_gets_a_top_line(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "c")
    briefing = build_briefing([ARTICLES / "001_f0f75ebd766b140c.txt"], settings, replay=RECORDINGS)
    [story] = briefing.stories
    assert story.key_points and render(briefing, "md").index("## Key developments") < render(briefing, "md").index(
        "## Timeline"
    )


def test_the_compact_briefing_says_each_fact_once_outside_the_top_line(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "c")
    briefing = build_briefing([ARTICLES], settings, replay=RECORDINGS)
    compact, full = render(briefing, "md"), render(briefing, "md", "full")
    [story] = briefing.stories
    detail = compact.split("## Key figures")[1].split("## Sources")[0]
    reports = [event for event in story.timeline if event.figures]
    # The events that only report figures ("the military said it had killed 18") are the figures table's rows.
    assert len(reports) == 2 and all(f"reported {event.date}" in detail for event in reports)
    for event in story.timeline:
        assert detail.count(event.description) == (0 if event.figures else 1), event.description
    for outcome in story.outcomes:
        assert detail.count(outcome.description) == (0 if outcome.repeats else 1), outcome.description
    for demand in story.demands:
        assert detail.count(demand.demand) == (0 if demand.repeats else 1), demand.demand
    # The articles as their sites give them: without the front matter (dates worked out) the fixtures add.
    articles = sum(len(FRONT_MATTER.sub("", p.read_text(encoding="utf-8"), count=1)) for p in ARTICLES.glob("*.txt"))
    # Measured: 0.39 of the articles' characters (0.90 before facts were merged and the layout made compact).
    assert len(compact) <= 0.40 * articles
    assert len(full) > len(compact) and all(v in full for e in story.timeline for v in e.variants)
