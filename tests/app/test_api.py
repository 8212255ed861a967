"""End to end through the API: replay, cache, and what sends new requests."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from summarizer import build_briefing, extract_files, load_settings, render
from summarizer.briefing.model import Cited
from summarizer.config import Settings
from summarizer.extraction.prompts import bundled_prompts_dir, load_prompts
from summarizer.extraction.records import Record
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, free_port

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_replay_is_cached_for_replays_and_never_answers_a_live_run(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache")
    replayed = build_briefing([ARTICLES], settings, replay=RECORDINGS, generated=WHEN)
    assert len(replayed.sources) == 5 and replayed.failures == []
    assert {s.origin for s in replayed.sources} == {"authored"}, "replayed records keep their recordings' origin"

    again = extract_files([ARTICLES], settings, replay=RECORDINGS)
    assert again.count("cached") == 5 and again.spent() is None
    assert render(build_briefing([ARTICLES], settings, replay=RECORDINGS, generated=WHEN), "json") == render(
        replayed, "json"
    )

    gone = settings.replace(base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=FAKE_KEY, max_attempts=1)
    live = extract_files([ARTICLES], gone)
    assert live.count("cached") == 0 and live.count("failed") == 5


def test_cache_hit_needs_no_key(settings: Settings) -> None:
    extract_files([ARTICLES], settings)
    run = extract_files([ARTICLES], load_settings(cache_dir=settings.cache_dir))  # no key, no endpoint
    assert run.count("cached") == 5 and run.exit_code == 0


def test_changed_model_or_prompt_sends_new_requests(settings: Settings, server: LoopbackServer, tmp_path: Path) -> None:
    extract_files([ARTICLES], settings)
    assert server.stats.completions == 5
    extract_files([ARTICLES], settings)
    assert server.stats.completions == 5, "same input: every article from the cache"

    extract_files([ARTICLES], settings.replace(model="another-model"))
    assert server.stats.completions == 10, "another model: all five asked again"

    prompts = tmp_path / "prompts"
    shutil.copytree(bundled_prompts_dir(), prompts)
    system = prompts / "extract_system.md"
    system.write_text(system.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    load_prompts.cache_clear()
    run = extract_files([ARTICLES], settings.replace(prompts_dir=prompts))
    assert server.stats.completions == 15, "another prompt: all five asked again"
    assert run.count("fetched") == 5


def test_stale_recordings_are_served_with_a_notice(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(bundled_prompts_dir(), prompts)
    (prompts / "extract_system.md").write_text("A different prompt.", encoding="utf-8")
    settings = load_settings(cache_dir=tmp_path / "cache", prompts_dir=prompts)
    run = extract_files([ARTICLES], settings, replay=RECORDINGS)
    assert run.count("fetched") == 5
    [notice] = run.notices
    assert "5 recording(s)" in notice and "another prompt or schema" in notice


def test_missing_and_empty_files_do_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    settings = load_settings(cache_dir=tmp_path / "cache")
    paths = [ARTICLES / "000_c7654b6822704fd4.txt", tmp_path / "missing.txt", tmp_path / "empty.txt"]
    run = extract_files(paths, settings, replay=RECORDINGS)
    assert run.count("fetched") == 1
    assert [f.location for f in run.failures] == [str(tmp_path / "missing.txt"), str(tmp_path / "empty.txt")]
    assert run.exit_code == 1
    briefing = build_briefing(paths, settings, replay=RECORDINGS)
    assert len(briefing.sources) == 1 and len(briefing.failures) == 2


def test_an_article_without_a_recording_is_listed_as_failed(tmp_path: Path) -> None:
    (tmp_path / "new.txt").write_text("Fresh news\nSomething happened today.\n", encoding="utf-8")
    settings = load_settings(cache_dir=tmp_path / "cache")
    briefing = build_briefing([ARTICLES, tmp_path / "new.txt"], settings, replay=RECORDINGS)
    [failure] = briefing.failures
    assert failure.location == str(tmp_path / "new.txt") and "no recording" in failure.reason


def test_every_citation_quote_is_in_its_article(recordings: dict[str, Record], tmp_path: Path) -> None:
    briefing = build_briefing([ARTICLES], load_settings(cache_dir=tmp_path / "c"), replay=RECORDINGS)
    assert not any("not found word for word" in n for n in briefing.notices)
    [story] = briefing.stories
    sections: list[Sequence[Cited]] = [
        story.parties, story.mediators, story.people, story.demands, story.casualties, story.timeline, story.outcomes,
    ]  # fmt: skip
    facts = [fact for section in sections for fact in section]
    assert facts and all(fact.citations for fact in facts)
    numbers = {s.number for s in briefing.sources}
    assert all(c.source in numbers for fact in facts for c in fact.citations)
