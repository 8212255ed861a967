"""What a new user meets in the first hour: the version, the help, mistakes caught before anything is paid
for, replays kept apart from live answers, and errors said in words."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import httpx2
import openai
import pytest
from typer.testing import CliRunner

import summarizer
from summarizer import ExtractionError, build_briefing, extract_article, extract_files, load_settings, make_article
from summarizer.app.cli import app
from summarizer.extraction.cache import ResponseCache
from summarizer.extraction.failures import fault_text
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, error_lines

runner = CliRunner()
ONE = ARTICLES / "000_c7654b6822704fd4.txt"
OTHER = ARTICLES / "001_f0f75ebd766b140c.txt"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"summarizer \d+\.\d+\.\d+\S*\n", result.stdout)


def test_help_shows_each_option_s_environment_variable_default_and_choices() -> None:
    result = runner.invoke(app, ["brief", "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0
    text = result.stdout
    for shown in [
        "env var: SUMMARIZER_MODEL",
        "default: (gpt-4o-mini)",
        "env var: OPENAI_BASE_URL",
        "<tools|json|json_schema|md_json>",
        "env var: SUMMARIZER_MODE",
        "default: (tools)",
        "<md|json|html>",
        "[default: md]",
        "--date YYYY-MM-DD",
        "env var: SUMMARIZER_CONCURRENCY",
        "default: (8)",
        "env var: SUMMARIZER_TIMEOUT",
        "default: (120.0)",
        "env var: SUMMARIZER_CACHE_DIR",
    ]:
        assert shown in text, shown
    assert not re.search(r"\S  +[.,;]|\s[.,;]$|\[\s*\]", text, re.MULTILINE), "no stray spaces or emptied brackets"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--date", "06/11/2025"], "write it as YYYY-MM-DD"),
        (["--aliases", "missing.yaml"], "missing.yaml: cannot read alias file"),
        (["--prices", "missing.toml"], "missing.toml"),
        (["-o", "no/such/folder/briefing.md"], "does not exist; create it or choose another --output"),
    ],
)
def test_a_mistyped_option_is_refused_before_any_request(
    server: LoopbackServer, extra: list[str], message: str, tmp_path: Path
) -> None:
    args = ["brief", str(ARTICLES), "--base-url", server.url, *extra]
    result = runner.invoke(app, args, env={"OPENAI_API_KEY": FAKE_KEY})
    assert result.exit_code == 2, result.output
    [line] = error_lines(result)
    assert message in line
    assert server.stats.completions == 0 and not server.stats.arrivals, "nothing was sent"


def test_a_recording_is_never_served_or_cached_as_another_model_s_answer(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS)], env={"SUMMARIZER_MODEL": "gpt-4o"}
    )
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "not gpt-4o" in line and "--model gpt-4o-mini" in line
    with ResponseCache(tmp_path / "cache") as cache:
        assert cache.info().entries == 0


def test_spent_is_printed_only_for_what_was_paid_for(server: LoopbackServer) -> None:
    replayed = runner.invoke(app, ["extract", str(ONE), "--replay", str(RECORDINGS)])
    assert replayed.exit_code == 0 and "fetched" in replayed.stderr
    assert "spent:" not in replayed.stderr
    live = runner.invoke(app, ["extract", str(OTHER), "--base-url", server.url], env={"OPENAI_API_KEY": FAKE_KEY})
    assert live.exit_code == 0
    assert "spent: " in live.stderr and "request(s) to gpt-4o-mini" in live.stderr


def test_a_missing_recording_is_said_in_words(tmp_path: Path) -> None:
    article = tmp_path / "new.txt"
    article.write_text("A report nobody recorded\n\nTalks began on Monday.\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(article), "--replay", str(RECORDINGS)])
    assert result.exit_code == 3
    [line] = error_lines(result)
    assert f"the recordings in {RECORDINGS}" in line and "no recording for article" in line
    assert "{" not in line and "Error code" not in line and "127.0.0.1" not in line


def test_a_host_name_that_does_not_resolve_is_not_called_a_timeout() -> None:
    request = httpx2.Request("POST", "http://no-such-host.invalid/v1/chat/completions")
    lookup = socket.gaierror(-2, "Name or service not known")
    connect = httpx2.ConnectError(str(lookup))
    connect.__cause__ = lookup
    fault = openai.APIConnectionError(request=request)
    fault.__cause__ = connect
    text = fault_text(fault, "http://no-such-host.invalid/v1", 120)
    assert text == "cannot reach http://no-such-host.invalid/v1: its host name does not resolve; check --base-url"
    timeout = fault_text(openai.APITimeoutError(request=request), "the endpoint", 30)
    assert "no answer within 30 s; raise --timeout" in timeout


def test_an_extraction_error_carries_its_causes(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache")
    with pytest.raises(ExtractionError) as caught:
        extract_article(make_article("A report nobody recorded\n\nTalks began."), settings, replay=str(RECORDINGS))
    [cause] = caught.value.causes
    assert isinstance(cause, openai.NotFoundError) and cause.status_code == 404
    assert str(caught.value).startswith("<api>: the recordings in ")


def test_the_api_takes_str_paths(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("{}\n", encoding="utf-8")
    settings = load_settings(cache_dir=tmp_path / "cache")
    briefing = build_briefing([str(ONE)], settings, replay=str(RECORDINGS), aliases_files=[str(aliases)])
    assert len(briefing.sources) == 1


def test_the_briefing_s_entry_types_are_exported() -> None:
    briefing = build_briefing([str(ONE)], load_settings(), replay=str(RECORDINGS))
    assert isinstance(briefing.stories[0].parties[0], summarizer.PartyEntry)
    assert isinstance(briefing.stories[0].timeline[0], summarizer.TimelineEntry)
    assert isinstance(briefing.sources[0], summarizer.Source)
    assert summarizer.__all__ == sorted(summarizer.__all__)
    for name in ["CasualtyEntry", "Citation", "DemandEntry", "IncidentEntry", "MediatorEntry", "OutcomeEntry"]:
        assert name in summarizer.__all__


def test_skipped_files_in_a_folder_get_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ONE, folder / "a.txt")
    shutil.copy(ONE, folder / "b.txt")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    result = runner.invoke(app, ["extract", str(folder), "--replay", str(RECORDINGS)])
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert any(f"{folder / 'photo.jpg'}: skipped" in n for n in notes)
    assert any(f"{folder / 'b.txt'}: same text as {folder / 'a.txt'}" in n for n in notes)


def test_with_no_api_key_the_cached_articles_are_still_briefed(server: LoopbackServer, tmp_path: Path) -> None:
    live = load_settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache")
    assert extract_files([ONE], live).count("fetched") == 1
    out = tmp_path / "briefing.md"
    result = runner.invoke(app, ["brief", str(ONE), str(OTHER), "-o", str(out)])
    assert result.exit_code == 1, result.output
    [line] = error_lines(result)
    assert line.startswith(f"error: {OTHER}: not in the cache, and no API key: set OPENAI_API_KEY")
    assert "## Key developments" in out.read_text(encoding="utf-8")
    nothing = runner.invoke(app, ["brief", str(OTHER)])
    assert nothing.exit_code == 2 and error_lines(nothing) == [f"error: {summarizer.config.NO_KEY}"]
