"""The figures of a run against a faulty endpoint: what was sent, what was injected, what became of each article."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from summarizer.extraction.results import RunResult
from summarizer.replay.stats import StatsSummary


@dataclass(frozen=True, slots=True)
class FaultReport:
    """Requests the server saw and what the run made of its articles. ``lost`` must be 0: every article
    ends either with a record or listed as failed with its reason."""

    articles: int
    requests: int
    faults: dict[str, int]
    completed: int
    failed: dict[str, int]
    """Failure reasons (their first words) and how many articles each."""
    lost: int
    most_attempts: int
    """The most requests any one article took."""

    @classmethod
    def of(cls, articles: int, run: RunResult, server: StatsSummary) -> FaultReport:
        """The report for ``run`` over ``articles`` inputs, with the server's counts."""
        failed = [r for r in run.results if r.outcome == "failed" and r.error]
        reasons = Counter(_reason(r.error or "") for r in failed)
        completed = sum(1 for r in run.results if r.record is not None)
        return cls(
            articles=articles,
            requests=server["requests"],
            faults=dict(server["faults"]),
            completed=completed,
            failed=dict(reasons.most_common()),
            lost=articles - completed - len(failed),
            most_attempts=max((r.attempts for r in run.results), default=0),
        )

    def lines(self) -> list[str]:
        """The report as text, one figure a line."""
        injected = sum(self.faults.values())
        return [
            f"articles: {self.articles}",
            f"requests sent: {self.requests}",
            f"faults injected: {injected} ({', '.join(f'{k}: {n}' for k, n in self.faults.items()) or 'none'})",
            f"completed: {self.completed}",
            f"failed: {sum(self.failed.values())}"
            + "".join(f"\n  {n} x {reason}" for reason, n in self.failed.items()),
            f"lost: {self.lost}",
            f"most requests for one article: {self.most_attempts}",
        ]


def _reason(error: str) -> str:
    # "gave up after 5 attempt(s): Connection error." → "gave up after N attempt(s): Connection error."
    return " ".join("N" if word.isdigit() else word for word in error.split()[:8])
