"""The written top line end to end: the second call over the loopback server, its cache, its re-asks, its
cost, and the picked top line it falls back to."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer import build_briefing, load_settings, render
from summarizer.app.api import awrite_key_points, write_key_points
from summarizer.app.cli import app
from summarizer.briefing.model import Briefing
from summarizer.briefing.written import fact_sheet, sheet_article
from summarizer.extraction.records import Record, read_recordings
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS

runner = CliRunner()


@pytest.fixture
def picked(tmp_path: Path) -> Briefing:
    settings = load_settings(cache_dir=tmp_path / "picked")
    return build_briefing([ARTICLES], settings, replay=RECORDINGS, synthesis=False)


def _story_recording() -> Record:
    [record] = read_recordings(RECORDINGS, task="synthesize").values()
    return record


def test_the_examples_open_with_a_written_cited_top_line(tmp_path: Path) -> None:
    briefing = build_briefing([ARTICLES], load_settings(cache_dir=tmp_path / "c"), replay=RECORDINGS)
    [story] = briefing.stories
    assert story.key_points_written and 3 <= len(story.key_points) <= 7
    answer = _story_recording().output["key_developments"]
    assert [p.text for p in story.key_points] == [b["text"] for b in answer]
    ids = {fact.id for fact in [*story.timeline, *story.outcomes, *story.demands, *story.casualties]}
    ids |= {fact.id for fact in [*story.parties, *story.mediators, *story.people]}
    for point, bullet in zip(story.key_points, answer, strict=True):
        # Facts the answer named as the same are one line now: a bullet names that line.
        assert point.facts and set(point.facts) <= ids and len(point.facts) <= len(bullet["facts"])
    markdown = render(briefing, "md")
    first = markdown.index("## Key developments")
    assert first < markdown.index("## Key figures") and "not written by a model" not in markdown
    assert briefing.cost is not None and briefing.cost.requests == 6, "five articles and one top line"


def test_the_sheet_is_the_storys_own_facts_whatever_its_number(picked: Briefing) -> None:
    [story] = picked.stories
    renumbered = story.model_copy(update={"number": 2})
    assert fact_sheet(story) == fact_sheet(renumbered)
    assert sheet_article(story, picked).id == _story_recording().request.article_id


def test_an_ungrounded_answer_is_re_asked_then_the_picked_top_line_is_kept(picked: Briefing, tmp_path: Path) -> None:
    record = _story_recording()
    bad = json.loads(json.dumps(record.output))
    bad["key_developments"][0]["text"] = "The fighting killed 99 people on 3 March."
    recordings = {record.request.article_id: record.model_copy(update={"output": bad})}
    settings = load_settings(cache_dir=tmp_path / "c", api_key=FAKE_KEY, max_reasks=1)
    with LoopbackServer(recordings) as server:
        written = write_key_points(picked, settings.replace(base_url=server.url))
        asked = server.stats.completions
    assert asked == 2, "the first answer and one re-ask"
    [story] = written.stories
    assert not story.key_points_written and story.key_points == picked.stories[0].key_points
    [notice] = [n for n in written.notices if n.startswith("story 1:")]
    assert "picked, not written" in notice and "99" in notice and "\n" not in notice
    assert "not written by a model" in render(written, "md")


def test_a_written_top_line_is_cached_like_a_record(picked: Briefing, tmp_path: Path) -> None:
    record = _story_recording()
    settings = load_settings(cache_dir=tmp_path / "c", api_key=FAKE_KEY)
    with LoopbackServer({record.request.article_id: record}) as server:
        first = write_key_points(picked, settings.replace(base_url=server.url))
        again = write_key_points(picked, settings.replace(base_url=server.url))
        assert server.stats.completions == 1
    assert first.stories == again.stories and first.stories[0].key_points_written


def test_without_an_endpoint_the_top_line_is_picked_with_a_notice(picked: Briefing, tmp_path: Path) -> None:
    written = asyncio.run(awrite_key_points(picked, load_settings(cache_dir=tmp_path / "empty")))
    assert written.stories == picked.stories
    assert any("picked from the facts, not written" in n and "OPENAI_API_KEY" in n for n in written.notices)


def test_no_synthesis_on_the_command_line_picks(tmp_path: Path) -> None:
    args = ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--quiet"]
    written = runner.invoke(app, args)
    picked = runner.invoke(app, [*args, "--no-synthesis"])
    assert written.exit_code == picked.exit_code == 0, written.output + picked.output
    assert "not written by a model" in picked.stdout and "not written by a model" not in written.stdout


def test_a_story_without_its_recording_keeps_the_picked_top_line(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, folder)
    for path in folder.glob("story_*.json"):
        path.unlink()
    briefing = build_briefing([ARTICLES], load_settings(cache_dir=tmp_path / "c"), replay=folder)
    assert not briefing.stories[0].key_points_written
    assert any("no recording" in n for n in briefing.notices)
