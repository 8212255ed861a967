"""What a run made of its articles: one ``ArticleResult`` each, gathered in a ``RunResult``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from summarizer.config import Settings
from summarizer.errors import CapReached, ExitCode, ExtractionError, InputError
from summarizer.extraction.cost import CostReport, PriceTable, price_usage
from summarizer.extraction.records import Record, Usage
from summarizer.ingest.articles import Article

Outcome = Literal["cached", "fetched", "failed"]


class Failure(BaseModel):
    """An input that is not in the briefing, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    location: str
    reason: str


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """What became of one article."""

    article: Article
    outcome: Outcome
    record: Record | None = None
    error: str | None = None
    """Why it failed, in one line."""
    exception: ExtractionError | None = None
    """The failure itself, for callers that want its attempts and causes."""
    spent: Usage | None = None
    """Tokens this run spent on the article, every attempt included; None when nothing was sent."""
    attempts: int = 0
    """Requests this run sent for the article."""
    stand_in: bool = False
    """Answered by a stand-in endpoint (the replay server), so that nothing was paid for."""


@dataclass(slots=True)
class RunResult:
    """Every article's result, and the inputs that could not be read."""

    results: list[ArticleResult] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    settings: Settings | None = None
    """The settings the run used (its model, prices and prompts)."""

    @property
    def records(self) -> list[tuple[Article, Record]]:
        """The articles that have a record, with it."""
        return [(r.article, r.record) for r in self.results if r.record is not None]

    @property
    def failures(self) -> list[Failure]:
        """Inputs left out, with the reason."""
        failed = [Failure(location=r.article.source, reason=r.error or "failed") for r in self.results if r.error]
        return [*(Failure(location=e.path, reason=str(e)) for e in self.input_errors), *failed]

    @property
    def capped(self) -> list[ArticleResult]:
        """Articles left undone because their next request could have passed the run's cost or token cap."""
        return [r for r in self.results if isinstance(r.exception, CapReached)]

    def count(self, outcome: Outcome) -> int:
        """How many articles ended with ``outcome``."""
        return sum(1 for r in self.results if r.outcome == outcome)

    def spent(self) -> CostReport | None:
        """Tokens and dollars this run spent, over every request it sent to a live endpoint; None when it sent
        none (everything from the cache or a stand-in such as the replay server)."""
        paid = [r for r in self.results if r.attempts and not r.stand_in]
        if not paid:
            return None
        settings = self.settings or Settings()
        prices = PriceTable.load(settings.prices_file)
        return price_usage(((settings.model, r.spent, r.attempts) for r in paid), prices)

    @property
    def exit_code(self) -> int:
        """0 all done; 1 some inputs left out, or left for another run by the cap; 3 nothing extracted (2 is for
        usage errors, raised earlier)."""
        if self.capped:
            return ExitCode.PARTIAL
        if not self.records:
            return ExitCode.FAILED
        return ExitCode.PARTIAL if self.failures else ExitCode.OK


Progress = Callable[[ArticleResult], None]
