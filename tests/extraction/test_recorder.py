"""``summarizer record``: an article that fails leaves a note beside the recordings with the last rejected answer."""

from __future__ import annotations

import json
from pathlib import Path

from summarizer.config import Settings
from summarizer.extraction.recorder import FAILURE_FORMAT, record_paths
from summarizer.extraction.records import Record, read_recordings
from summarizer.replay.faults import FaultPlan
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY

SOURCE = ARTICLES / "004_29d29f48ff22ceaf.txt"


def test_a_failed_article_leaves_a_note_that_a_later_recording_removes(
    recordings: dict[str, Record], tmp_path: Path
) -> None:
    target = tmp_path / "recorded"
    settings = Settings(api_key=FAKE_KEY, cache_dir=tmp_path / "cache", max_reasks=1, mode="json")
    with LoopbackServer(recordings, faults=FaultPlan({"garbage": 1.0})) as server:
        run = record_paths([SOURCE], settings.replace(base_url=server.url), target)
    [result] = run.results
    note = target / "004_29d29f48ff22ceaf.failed.json"
    assert result.outcome == "failed" and sorted(p.name for p in target.iterdir()) == [note.name]
    written = json.loads(note.read_text(encoding="utf-8"))
    assert written["format"] == FAILURE_FORMAT and written["article_id"] == result.article.id
    assert written["raw_answer"] == '{"summary": "<h1 class="}', "the last answer rejected, as the model wrote it"
    assert written["error"] == result.error and written["attempts"] == 2 and written["mode"] == "json"
    assert written["prompt_tokens"] > 0 and FAKE_KEY not in note.read_text(encoding="utf-8")
    assert read_recordings(target) == {}, "a note is not a recording"

    with LoopbackServer(recordings) as server:
        again = record_paths([SOURCE], settings.replace(base_url=server.url), target)
    assert again.results[0].outcome == "fetched"
    assert sorted(p.name for p in target.iterdir()) == ["004_29d29f48ff22ceaf.json"]
    assert list(read_recordings(target)) == [result.article.id]
