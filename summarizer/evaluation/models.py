"""The evaluation report (``summarizer.eval/1``): scores per field and article, with the items behind them.

The report keeps every matched, missed and spurious item by its short text, so that two saved reports can be
compared item by item (``summarizer eval --baseline``) and a stored one can serve as the CI baseline.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

EVAL_FORMAT: Literal["summarizer.eval/1"] = "summarizer.eval/1"
FIELDS = ("parties", "mediators", "demands", "casualties", "events")
"""The scored fields, in report order."""


class ReportModel(BaseModel):
    """Base of the report's models. Reports are read back as baselines: the computed scores they contain are
    ignored on reading and recomputed from the counts."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)


def _ratio(part: int, whole: int) -> float:
    # An empty denominator is vacuous success: nothing predicted means no false positives.
    return part / whole if whole else 1.0


class Score(ReportModel):
    """Counts of one comparison and the precision, recall and F1 they give."""

    matched: int = 0
    """Gold items found (true positives)."""
    missed: int = 0
    """Gold items not found (false negatives)."""
    spurious: int = 0
    """Predicted items that match no gold item (false positives)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float:
        """matched / (matched + spurious); 1 when nothing was predicted."""
        return _ratio(self.matched, self.matched + self.spurious)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float:
        """matched / (matched + missed); 1 when the gold has nothing."""
        return _ratio(self.matched, self.matched + self.missed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(
            matched=self.matched + other.matched,
            missed=self.missed + other.missed,
            spurious=self.spurious + other.spurious,
        )


class Pair(ReportModel):
    """A gold item and the predicted item it was paired with, by their short texts."""

    gold: str
    predicted: str


class NearMiss(Pair):
    """A missed gold item and a spurious prediction that are the same fact with a different value (a casualty
    figure, an event's date). Both still count as errors; the pair says what went wrong."""

    error: float | None = None
    """For casualty claims, the absolute difference between the figures."""


class FieldResult(ReportModel):
    """One field of one article: the score and the items behind it."""

    score: Score = Field(default_factory=Score)
    matched: list[Pair] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)
    """Gold items not predicted."""
    spurious: list[str] = Field(default_factory=list)
    """Predicted items that are not in the gold."""
    optional: list[Pair] = Field(default_factory=list)
    """Predictions paired with gold items marked optional: counted neither way."""
    near_misses: list[NearMiss] = Field(default_factory=list)


class QuoteShare(ReportModel):
    """Evidence quotes of the predicted items found word for word in their article."""

    found: int = 0
    total: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float | None:
        """found / total; None when there were no quotes."""
        return self.found / self.total if self.total else None

    def __add__(self, other: QuoteShare) -> QuoteShare:
        return QuoteShare(found=self.found + other.found, total=self.total + other.total)


class FigureErrors(ReportModel):
    """Absolute errors of casualty figures over paired claims (matched claims and near misses)."""

    errors: list[float] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mae(self) -> float | None:
        """Mean absolute error; None when no numeric claim was paired."""
        return sum(self.errors) / len(self.errors) if self.errors else None


class Cost(ReportModel):
    """Tokens the extractions took, as their records report them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Of the prompt tokens, those the endpoint served from its prompt cache."""
    records: int = 0
    """Records the totals cover."""
    without_usage: int = 0
    """Records with no token counts (authored records read from the cache)."""
    estimated: int = 0
    """Authored records whose counts are the replay server's estimate (characters / 4), not a model's."""
    cost_usd: float | None = None
    """Price of the tokens; None until a price table for the model is known."""
    fixed_prompt_tokens_estimate: int | None = None
    """Tokens every request carries before its article (system prompt, template, schema), estimated."""
    fixed_prompt_tokens_measured: float | None = None
    """The same as the endpoint counted it (the intercept of prompt tokens against article length)."""


class ArticleEval(ReportModel):
    """One annotated article: its scores per field."""

    article: str
    """The article's file name, the key that reports are compared by."""
    article_id: str
    gold_file: str
    outcome: Literal["scored", "failed"]
    """``failed`` when no extraction could be obtained: every gold item then counts as missed."""
    error: str | None = None
    fields: dict[str, FieldResult] = Field(default_factory=dict)
    quotes: QuoteShare = Field(default_factory=QuoteShare)
    figures: FigureErrors = Field(default_factory=FigureErrors)


class EvalReport(ReportModel):
    """Scores of a run of extractions against gold annotations."""

    format: Literal["summarizer.eval/1"] = EVAL_FORMAT
    model: str
    mode: str
    source: str
    """Where the extractions came from: ``replay DIR`` or ``cache/endpoint``."""
    fields: dict[str, Score] = Field(default_factory=dict)
    """Per field, micro-averaged over the articles."""
    overall: Score = Field(default_factory=Score)
    """Every field of every article together (micro-average)."""
    figures: FigureErrors = Field(default_factory=FigureErrors)
    quotes: QuoteShare = Field(default_factory=QuoteShare)
    cost: Cost = Field(default_factory=Cost)
    articles: list[ArticleEval] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
