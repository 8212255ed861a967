"""``summarizer recordings rehash`` on the stories' top lines: renewed for a changed synthesis prompt while the
facts they answer stand, named and left alone once the merged facts have changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer import build_briefing, load_settings
from summarizer.app.cli import app
from summarizer.briefing.written import sheet_article
from summarizer.extraction.cache import cache_key
from summarizer.extraction.records import Record, read_recordings
from summarizer.extraction.tasks import load_synthesis_task
from tests.conftest import ARTICLES, RECORDINGS, error_lines, reworded_prompts

runner = CliRunner()


@pytest.fixture
def changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the recordings, with the synthesis prompt reworded and made the settings' prompts."""
    reworded_prompts(tmp_path / "prompts", monkeypatch, "synthesize_system.md", "Prefer the latest figures.")
    copy = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, copy)
    return copy


def _story(folder: Path) -> tuple[Path, Record]:
    [path] = folder.glob("story_*.json")
    return path, Record.from_json(path.read_text(encoding="utf-8"))


def test_a_story_top_line_is_renewed_for_a_changed_synthesis_prompt(changed: Path, tmp_path: Path) -> None:
    path, before = _story(changed)
    prompts_dir = tmp_path / "prompts"
    task = load_synthesis_task(prompts_dir)
    settings = load_settings(environ={}, cache_dir=tmp_path / "c", prompts_dir=prompts_dir)
    picked = build_briefing([ARTICLES], settings, replay=changed, synthesis=False)
    sheet = sheet_article(picked.stories[0], picked)
    # Stale: a live run under the new prompt would look it up under another key; the replay says so.
    assert before.key != cache_key(sheet, settings, task.prompts, task=task)
    assert any("another prompt" in n for n in picked.notices)

    result = runner.invoke(app, ["recordings", "rehash", str(changed), str(ARTICLES)])
    assert result.exit_code == 0, result.output
    assert "1 recording(s) renewed (1 of them stories' top lines), 5 already current" in result.output
    _, after = _story(changed)
    assert after.request.prompt_hash == task.prompts.hash != before.request.prompt_hash
    assert after.key == cache_key(sheet, settings, task.prompts, task=task)
    assert after.output == before.output and after.origin == before.origin and after.created == before.created
    briefing = build_briefing([ARTICLES], settings, replay=changed)
    assert briefing.stories[0].key_points_written and not any("another prompt" in n for n in briefing.notices)
    assert [p.text for p in briefing.stories[0].key_points] == [k["text"] for k in after.output["key_developments"]]
    assert path.exists() and len(read_recordings(changed, task=None)) == 6


def test_a_story_whose_facts_changed_is_named_and_left_alone(changed: Path) -> None:
    path, _ = _story(changed)
    untouched = path.read_text(encoding="utf-8")
    # One article's answer loses its events: the story's fact sheet is not the one its top line answers.
    first = sorted(changed.glob("0*.json"))[0]
    record = json.loads(first.read_text(encoding="utf-8"))
    record["output"]["events"] = []
    first.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["recordings", "rehash", str(changed), str(ARTICLES)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = error_lines(result)
    assert str(path) in line and "record it again with `summarizer record`" in line
    assert path.read_text(encoding="utf-8") == untouched
