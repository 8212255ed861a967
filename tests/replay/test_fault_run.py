"""A run of 200 articles against an endpoint that faults on 30 % of requests, in every way it can."""

from __future__ import annotations

from pathlib import Path

from summarizer.app.api import brief
from summarizer.config import Settings
from summarizer.extraction.pipeline import Pipeline
from summarizer.extraction.results import RunResult
from summarizer.replay.fault_report import FaultReport
from summarizer.replay.faults import FAULT_KINDS, FaultPlan
from summarizer.replay.server import LoopbackServer
from summarizer.replay.synthetic import example_variants
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS

ARTICLE_COUNT = 200
FAULT_RATE = 0.3


def test_every_article_is_briefed_or_listed_as_failed_with_its_reason(tmp_path: Path) -> None:
    articles, served = example_variants(ARTICLE_COUNT, ARTICLES, RECORDINGS)
    plan = FaultPlan(
        {kind: FAULT_RATE / len(FAULT_KINDS) for kind in FAULT_KINDS},
        seed=7, retry_after=0.05, hang=3.0, slow_delay=0.2,
    )  # fmt: skip
    settings = Settings(
        api_key=FAKE_KEY, cache_dir=tmp_path / "cache", concurrency=16, timeout=1.5, max_attempts=6, max_reasks=2
    )
    with LoopbackServer(served, faults=plan) as server:
        with Pipeline(settings.replace(base_url=server.url), backoff_initial=0.01) as pipeline:
            results = pipeline.run(articles)
        stats = server.stats.summary()
    run = RunResult(results=results, settings=settings)
    report = FaultReport.of(ARTICLE_COUNT, run, stats)
    print("\n".join(report.lines()))

    assert set(stats["faults"]) == set(FAULT_KINDS), "every kind of fault was injected"
    assert 0.2 < stats["faults_injected"] / stats["requests"] < 0.4
    assert report.lost == 0 and len(results) == ARTICLE_COUNT
    assert report.completed > 0.8 * ARTICLE_COUNT, "retries and re-asks recover most articles"
    failed = [r for r in results if r.outcome == "failed"]
    assert all(r.error and r.record is None for r in failed)
    assert all(r.attempts <= settings.max_attempts * (settings.max_reasks + 1) for r in results), "retries bounded"
    # Every request the server saw was counted by the run (a connection that failed before reaching it counts
    # for the run only).
    assert stats["requests"] <= sum(r.attempts for r in results)
    # Only faults no retry can mend fail an article: a truncated or looping answer, a refusal, a server that
    # holds the request past the timeout (sending it again would start the generation over), and invalid answers
    # on every one of the article's re-asks (the draws follow the order requests arrive in, which concurrency
    # varies: one article in a few hundred draws three in a row); all others recover.
    unmendable = (
        "the answer was cut off",
        "the model refused",
        f"{server.url} is generating slower than --timeout",
        f"answer failed validation after {settings.max_reasks + 1} attempt(s)",
    )
    reasons = {r.error for r in failed if r.error}
    assert all(reason.startswith(unmendable) for reason in reasons), reasons

    briefing = brief(run)
    left_out = {f.location for f in briefing.failures}
    assert left_out == {r.article.source for r in failed}, "the briefing lists exactly what it left out"
    assert len(briefing.sources) == report.completed
