"""``summarizer recordings rehash``: recordings renewed for a changed prompt, answers kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.config import load_settings
from summarizer.extraction.cache import cache_key
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record, read_recordings, schema_hash
from summarizer.ingest.articles import load_articles
from tests.conftest import ARTICLES, RECORDINGS, error_lines, reworded_prompts

runner = CliRunner()


@pytest.fixture
def changed_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the prompts with the system prompt reworded, made the settings' prompts."""
    return reworded_prompts(tmp_path / "prompts", monkeypatch, "extract_system.md", "Be brief.")


def test_rehash_renews_hashes_and_keys_and_keeps_the_answers(tmp_path: Path, changed_prompts: Path) -> None:
    copy = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, copy)
    before = read_recordings(copy)
    prompts = load_prompts(changed_prompts)
    assert all(r.request.prompt_hash != prompts.hash for r in before.values())

    result = runner.invoke(app, ["recordings", "rehash", str(copy), str(ARTICLES)])
    assert result.exit_code == 0, result.output
    # The story's top line answers the same facts with the same synthesis prompt: it is current.
    assert "5 recording(s) renewed, 1 already current" in result.output

    after = read_recordings(copy)
    settings = load_settings(environ={}, prompts_dir=changed_prompts)
    for article in load_articles([ARTICLES]).articles:
        old, new = before[article.id], after[article.id]
        assert new.request.prompt_hash == prompts.hash and new.request.schema_hash == schema_hash()
        # The key a live run under these prompts looks the article up by: a recording imported as a cache entry
        # is a hit.
        assert new.key == cache_key(article, settings, prompts) != old.key
        assert new.output == old.output and new.created == old.created and new.origin == old.origin
        assert new.model_copy(update={"key": old.key, "request": old.request}) == old

    again = runner.invoke(app, ["recordings", "rehash", str(copy), str(ARTICLES)])
    assert again.exit_code == 0 and "0 recording(s) renewed, 6 already current" in again.output


def test_rehash_finds_articles_by_their_recorded_source(tmp_path: Path, changed_prompts: Path) -> None:
    # The recordings name their articles as fixtures/articles/<name>, relative to the working folder.
    shutil.copytree(ARTICLES, tmp_path / "fixtures" / "articles")
    copy = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, copy)
    result = runner.invoke(app, ["recordings", "rehash", str(copy)])
    assert result.exit_code == 0, result.output
    assert all(r.request.prompt_hash == load_prompts(changed_prompts).hash for r in read_recordings(copy).values())


def test_a_recording_that_cannot_be_renewed_is_named_and_left_alone(tmp_path: Path, changed_prompts: Path) -> None:
    copy = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, copy)
    first, second, *_ = sorted(copy.glob("*.json"))
    broken = json.loads(first.read_text(encoding="utf-8"))
    broken["output"]["casualties"] = [{"kind": "killed", "figure_text": "12"}]
    first.write_text(json.dumps(broken, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    untouched = first.read_text(encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(ARTICLES / f"{second.stem}.txt", tmp_path / "elsewhere")

    # Only the second recording's article is given, and the others' sources are not under this folder.
    result = runner.invoke(app, ["recordings", "rehash", str(copy), str(tmp_path / "elsewhere")])
    assert result.exit_code == 1
    errors = error_lines(result)
    assert len(errors) == 5 and "Traceback" not in result.output
    assert any(str(first) in line and "does not fit the current schema" in line for line in errors)
    assert sum("pass the folder holding it" in line for line in errors) == 3
    # With one article of five, the story's facts are not those its top line answers.
    assert sum("story_" in line and "record it again" in line for line in errors) == 1
    assert first.read_text(encoding="utf-8") == untouched
    assert (
        Record.from_json(second.read_text(encoding="utf-8")).request.prompt_hash == load_prompts(changed_prompts).hash
    )
    assert "1 recording(s) renewed" in result.output


def test_rehash_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["recordings", "rehash", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "nowhere" in line and "recordings" in line
