"""The run's cost and token caps: nothing is sent that could pass them, what is done is kept, what is left is
said, and the run exits 1. Against the loopback server, which counts and prices every request it answers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.config import Settings
from summarizer.errors import CapReached, ConfigError, ExitCode
from summarizer.extraction.budget import Budget
from summarizer.extraction.cost import PriceTable
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.records import Record
from summarizer.extraction.results import RunResult
from summarizer.ingest.articles import Article, load_articles
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, error_lines, settings_for

runner = CliRunner()


def _run(settings: Settings, articles: list[Article]) -> RunResult:
    run = RunResult(settings=settings)
    with Pipeline(settings) as pipeline:
        run.results = pipeline.run(articles)
    return run


def _worst_case_usd(settings: Settings, articles: list[Article]) -> float:
    """The largest worst case of a first request for any of ``articles``: an upper bound for each."""
    price = PriceTable.load().price(settings.model)
    assert price is not None and settings.max_tokens is not None
    # The request body holds the article text, the prompt and the tool schema: bounded here by 20 kB more than
    # the longest article.
    longest = max(len(a.text.encode("utf-8")) for a in articles)
    return price.dollars(math.ceil((longest + 20_000) / 4), settings.max_tokens)


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_cost_cap_is_never_passed_and_what_is_left_is_kept_for_the_next_run(
    concurrency: int, recordings: dict[str, Record], tmp_path: Path
) -> None:
    articles = load_articles([ARTICLES]).articles
    with LoopbackServer(recordings, latency=0.2) as server:
        settings = settings_for(server, tmp_path / "cache", concurrency=concurrency)
        worst = _worst_case_usd(settings, articles)
        cap = 2.2 * worst  # room for two worst cases in flight at once, and about three actual answers
        run = _run(settings.replace(max_cost=cap), articles)
        spent = run.spent()
        assert spent is not None and spent.usd is not None
        assert spent.usd <= cap
        done = [r for r in run.results if r.record is not None]
        left = run.capped
        assert done and left and len(done) + len(left) == len(articles)
        assert run.exit_code == ExitCode.PARTIAL
        # Nothing was sent for the articles left: the server answered exactly the ones done, and never had more
        # requests in flight than the cap could pay for at their worst.
        assert server.stats.completions == len(done) == spent.requests
        assert server.stats.max_in_flight <= 2
        assert all(isinstance(r.exception, CapReached) and "--max-cost" in (r.error or "") for r in left)
        assert all(r.attempts == 0 for r in left)

        # The next run, with room, takes what was done from the cache and sends only what was left.
        rest = _run(settings, articles)
        assert rest.count("cached") == len(done) and rest.count("fetched") == len(left)
        assert server.stats.completions == len(articles)


def test_a_token_cap_is_kept_the_same_way(recordings: dict[str, Record], tmp_path: Path) -> None:
    articles = load_articles([ARTICLES]).articles
    with LoopbackServer(recordings) as server:
        settings = settings_for(server, tmp_path / "cache", concurrency=4)
        run = _run(settings.replace(max_tokens_total=15_000), articles)
        spent = run.spent()
        assert spent is not None and spent.prompt_tokens + spent.completion_tokens <= 15_000
        assert run.capped and run.exit_code == ExitCode.PARTIAL
        assert "--max-tokens-total" in (run.capped[0].error or "")
        assert server.stats.completions == len(articles) - len(run.capped)


def test_the_command_says_what_the_cap_left_and_exits_1(tmp_path: Path) -> None:
    command = ["extract", str(ARTICLES), "--replay", str(RECORDINGS), "--max-cost", "0.005", "-f", "table"]
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note: the run's cap")]
    assert "article(s) undone (" in note and "what was done is cached" in note
    assert all("not sent" in line and "--max-cost" in line for line in error_lines(result))
    again = runner.invoke(app, [*command[:-4], "-f", "table"])
    assert again.exit_code == 0 and "cached" in again.stdout


def test_a_cap_that_cannot_be_kept_is_a_config_error_before_any_request(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="needs --max-tokens"):
        Budget.for_settings(settings.model_copy(update={"max_tokens": None, "max_cost": 1.0}))
    with pytest.raises(ConfigError, match="needs a price for unpriced-model"):
        Budget.for_settings(settings.replace(model="unpriced-model", max_cost=1.0))
    # A token cap needs no price.
    assert Budget.for_settings(settings.replace(model="unpriced-model", max_tokens_total=10_000)) is not None
    assert Budget.for_settings(settings) is None


def test_an_unpriced_model_with_a_cost_cap_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["extract", str(ARTICLES), "--base-url", "http://127.0.0.1:9/v1", "--model", "unpriced-model",
         "--max-cost", "1", "--cache-dir", str(tmp_path / "c")],
        env={"OPENAI_API_KEY": FAKE_KEY},
    )  # fmt: skip
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "unpriced-model" in line and "--prices" in line


def test_record_under_a_cap_leaves_no_failure_notes_for_what_it_did_not_send(
    server: LoopbackServer, tmp_path: Path
) -> None:
    out = tmp_path / "recorded"
    command = ["record", str(ARTICLES), "--to", str(out), "--base-url", server.url, "--max-cost", "0.005"]
    result = runner.invoke(app, command, env={"OPENAI_API_KEY": FAKE_KEY})
    assert result.exit_code == 1, result.output
    recorded = sorted(p.name for p in out.glob("*.json"))
    assert recorded and not [name for name in recorded if name.endswith(".failed.json")]
    assert len(recorded) == server.stats.completions < len(list(ARTICLES.glob("*.txt")))
