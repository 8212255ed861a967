"""What one article's extraction has cost so far, across every request sent for it."""

from __future__ import annotations

from dataclasses import dataclass

from summarizer.extraction.records import Usage


@dataclass(slots=True)
class Tally:
    """One article's requests and tokens, every attempt counted (transport retries and re-asks), its deadline,
    and the last answer rejected."""

    article_id: str
    deadline: float
    """``time.monotonic()`` by which everything sent for the article must be done."""
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    answered: int = 0
    rejected: int = 0
    """Answers that failed validation."""
    last_answer: object = None
    last_rejection: BaseException | None = None
    """The validation error of the last rejected answer: instructor re-asks after this one, and only this one."""
    raw_answer: str | None = None
    """The last rejected answer as the model wrote it."""
    given: object = None
    """An answer already had for the first request (a Batch API result), used instead of sending it."""
    capture: bool = False
    """Build the first request and stop there, raising ``_Built`` with it, instead of sending it."""

    def usage(self) -> Usage | None:
        """Tokens summed over every answer; None when no answer came back."""
        return Usage.of(self.prompt_tokens, self.completion_tokens, self.cached_tokens) if self.answered else None
