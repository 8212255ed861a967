from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.extraction.records import Record, read_recordings
from summarizer.replay.faults import FaultPlan
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, ROOT, error_lines, free_port

runner = CliRunner()


def test_main_job_writes_the_briefing(tmp_path: Path) -> None:
    out = tmp_path / "briefing.md"
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for heading in ["## Key developments", "## Key figures", "## Where each side stands", "## Who", "## Timeline",
                    "## Outcomes and agreements", "## Sources"]:  # fmt: skip
        assert heading in text
    # The account covers the articles' key facts, each line cited.
    for fact in ["Khawaja Asif", "Turkey", "Qatar", "Tehrik-e-Taliban Pakistan", "“over 200”", "“23”",
                 "2025-10-17", "2025-10-19", "monitoring and verification mechanism"]:  # fmt: skip
        assert fact in text, fact
    body = text.split("## Notes")[0].split("## Left out")[0].split("## Sources")[0]
    rows = [line.removesuffix(" |") for line in body.splitlines() if not line.startswith(("| Claim", "|---", "| **"))]
    fact_lines = [line for line in rows if line.startswith(("- ", "  - ", "| ")) and not line.endswith("**")]
    uncited = [line for line in fact_lines if not line.rstrip().endswith("]")]
    assert fact_lines and not uncited, uncited
    for junk in ["Also Read", "Advertisement", "Leave a Reply", "Jaishankar", "Share This Article"]:
        assert junk not in text


def test_json_format_is_the_briefing_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["format"] == "summarizer.briefing/2" and len(data["sources"]) == 5 and len(data["stories"]) == 1


def test_no_key_and_no_replay_is_one_line_naming_the_fixes() -> None:
    result = runner.invoke(app, ["brief", str(ARTICLES)])
    assert result.exit_code == 2
    errors = error_lines(result)
    assert len(errors) == 1
    assert all(word in errors[0] for word in ("OPENAI_API_KEY", "--base-url", "--replay"))
    assert "Traceback" not in result.output


def test_partial_success_exit_code_and_one_line_per_bad_file(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    out = tmp_path / "b.md"
    args = ["brief", str(ARTICLES), str(tmp_path / "gone.txt"), str(tmp_path / "empty.md"), "--replay",
            str(RECORDINGS), "-o", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    errors = error_lines(result)
    assert errors == [
        f"error: {tmp_path / 'gone.txt'}: no such file; check the path",
        f"error: {tmp_path / 'empty.md'}: no article text; add the text or remove the file",
    ]
    text = out.read_text(encoding="utf-8")
    assert "## Left out" in text and "gone.txt" in text and len(text.split("## Sources")[1].splitlines()) > 5


def test_nothing_extracted_exit_code(tmp_path: Path) -> None:
    result = runner.invoke(app, ["brief", str(tmp_path / "none.txt"), "--replay", str(RECORDINGS)])
    assert result.exit_code == 3


def test_extract_json_and_cache_commands(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(ARTICLES / "001_f0f75ebd766b140c.txt"), "--replay", str(RECORDINGS)])
    assert result.exit_code == 0
    [item] = json.loads(result.stdout)
    assert item["outcome"] == "fetched" and item["record"]["origin"] == "authored"
    info = runner.invoke(app, ["cache", "info"])
    assert info.exit_code == 0 and ": 1 record(s)" in info.stdout
    again = runner.invoke(
        app, ["extract", str(ARTICLES / "001_f0f75ebd766b140c.txt"), "--replay", str(RECORDINGS), "--format", "table"]
    )
    assert again.exit_code == 0 and "cached" in again.stdout
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 record(s)" in cleared.stdout


def test_record_against_an_endpoint_writes_readable_records(
    server: LoopbackServer, recordings: dict[str, Record], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    target = tmp_path / "rec"
    result = runner.invoke(app, ["record", str(ARTICLES), "--to", str(target), "--base-url", server.url])
    assert result.exit_code == 0, result.output
    written = read_recordings(target)
    assert set(written) == set(recordings)
    for article_id, record in written.items():
        assert record.output == recordings[article_id].output
        assert record.response.usage is not None and record.response.attempts == 1
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in RECORDINGS.iterdir())
    # What was recorded replays.
    replayed = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(target), "--cache-dir", str(tmp_path / "c2")]
    )
    assert replayed.exit_code == 0


def test_api_key_never_leaves_the_process(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    outputs = []
    for args in (["brief", str(ARTICLES), "--base-url", server.url, "--format", "json"],
                 ["record", str(ARTICLES), "--to", str(tmp_path / "rec"), "--base-url", server.url],
                 ["extract", str(ARTICLES), "--base-url", server.url]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    with LoopbackServer({}, require_key="another-test-key") as guarded:
        rejected = runner.invoke(app, ["brief", str(ARTICLES), "--base-url", guarded.url, "--cache-dir", "c3"])
    assert rejected.exit_code == 2 and "rejected the API key" in rejected.stderr
    outputs.append(rejected.output)
    assert all(FAKE_KEY not in text for text in outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_verbose_log_shows_requests_retries_and_reasks_and_masks_the_key(
    recordings: dict[str, Record], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    plan = FaultPlan(schedule=["503", "invalid", "429"], retry_after=0.01)
    with LoopbackServer(recordings, faults=plan) as faulty:
        result = runner.invoke(app, ["brief", str(ARTICLES), "--base-url", faulty.url, "--verbose", "-c", "1"])
    assert result.exit_code == 0, result.output
    log = result.stderr
    assert log.count("HTTP Request: POST") == 8  # 5 answers and 3 faults
    assert log.count("retrying in") == 2 and "503" in log and "429" in log
    assert "failed validation" in log and "re-asking with the errors" in log
    assert log.count("fetched in") == 5 and "5 to fetch" in log
    assert FAKE_KEY not in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_verbose_log_masks_a_key_an_error_message_carries() -> None:
    import io
    import logging

    from summarizer.logs import MASK, disable_verbose, enable_verbose

    stream = io.StringIO()
    handler = enable_verbose([FAKE_KEY, "x"], stream=stream)
    try:
        log = logging.getLogger("summarizer.extraction.client")
        log.info("endpoint said: Incorrect API key provided: %s", FAKE_KEY)
        try:
            raise RuntimeError(f"header Authorization: Bearer {FAKE_KEY}")
        except RuntimeError:
            logging.getLogger("httpx2").exception("request failed")
    finally:
        disable_verbose(handler)
    text = stream.getvalue()
    assert FAKE_KEY not in text and text.count(MASK) == 2
    assert "Incorrect API key provided" in text and "RuntimeError" in text
    # A placeholder key of a letter or two is not masked: it would garble every line.
    assert "request failed" in text


def test_schema_check_passes_on_the_repository() -> None:
    result = runner.invoke(app, ["schema", "--check", "--dir", str(ROOT / "schemas")])
    assert result.exit_code == 0


def test_module_entry_point_and_help() -> None:
    done = subprocess.run([sys.executable, "-m", "summarizer", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for command in ("brief", "extract", "record", "serve", "cache", "schema"):
        assert command in done.stdout


def test_help_imports_none_of_the_heavy_libraries() -> None:
    """`summarizer --help` stays fast by leaving pydantic, openai, instructor and dateparser unimported."""
    heavy = ("pydantic", "openai", "instructor", "dateparser", "diskcache", "jinja2", "rapidfuzz")
    probe = (
        "import sys, contextlib, io\n"
        "from summarizer.app.cli import app\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    app(['--help'])\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_serve_command_answers_over_http(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "summarizer", "serve", "--recordings", str(RECORDINGS), "--port", str(port)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert f"127.0.0.1:{port}/v1" in banner
        result = runner.invoke(app, ["brief", str(ARTICLES), "--base-url", f"http://127.0.0.1:{port}/v1"],
                               env={"OPENAI_API_KEY": FAKE_KEY})  # fmt: skip
        assert result.exit_code == 0, result.output
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_daily_mode_briefs_one_day_against_earlier_ones(tmp_path: Path) -> None:
    out = tmp_path / "daily.md"
    args = ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--date", "2025-11-06", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Daily briefing, 2025-11-06")
    assert "3 article(s) published 2025-11-06, compared with 2 earlier report(s)" in text
    changed = text.split("## What changed")[1].split("\n## ")[0]
    assert "figures changed: Incident 1" in changed and "fact(s) no earlier report gives, marked *new* below" in changed
    assert text.index("## Key developments") < text.index("## What changed") < text.index("## Key figures")
    people = text.split("**People:** ")[1].splitlines()[0]
    assert re.search(r"Asim Malik \([^)]*\) \*new\* \[4\]", people)
    asif = re.search(r"Khawaja Asif \([^)]*\) (\*new\* )?\[", people)
    assert asif and not asif.group(1), "earlier reports name him too"
    assert "earlier report, for comparison" in text.split("## Sources")[1]
    html = runner.invoke(app, [*args[:-2], "--format", "html"])
    assert html.exit_code == 0 and 'class="new"' in html.stdout


@pytest.mark.parametrize(("day", "message"), [("06/11/2025", "YYYY-MM-DD"), ("2025-11-07", "no article published")])
def test_daily_mode_bad_dates_are_one_line(day: str, message: str) -> None:
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--date", day])
    assert result.exit_code == 2
    errors = error_lines(result)
    assert len(errors) == 1 and message in errors[0]


def test_every_public_name_resolves() -> None:
    import summarizer

    assert sorted(summarizer.__all__) == sorted(summarizer._WHERE)
    for name in summarizer.__all__:
        assert getattr(summarizer, name) is not None
