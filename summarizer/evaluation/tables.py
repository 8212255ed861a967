"""Renders an evaluation report, and its diff against a baseline, as tables for people (rich)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from summarizer.evaluation.diff import EvalDiff, ItemChange
from summarizer.evaluation.models import FIELDS, Cost, EvalReport, Score

_MARK = {"gained": "+", "lost": "-", "altered": "~", "spurious_added": "!", "spurious_removed": "x"}
_WORD = {
    "gained": "gained",
    "lost": "lost",
    "altered": "altered",
    "spurious_added": "new spurious",
    "spurious_removed": "spurious gone",
}


def _n(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _score_row(name: str, score: Score) -> list[str]:
    return [
        name,
        str(score.matched + score.missed),
        str(score.matched + score.spurious),
        str(score.matched),
        str(score.missed),
        str(score.spurious),
        _n(score.precision),
        _n(score.recall),
        _n(score.f1),
    ]


def _cost_line(cost: Cost) -> str:
    if not cost.records:
        return "tokens: n/a (no records)"
    counted = cost.records - cost.without_usage
    cached = (
        f" ({cost.cached_tokens} cached, {cost.cached_tokens / cost.prompt_tokens:.0%})" if cost.cached_tokens else ""
    )
    tokens = f"{cost.prompt_tokens} prompt{cached} + {cost.completion_tokens} completion over {counted} record(s)"
    if cost.without_usage:
        tokens += f"; {cost.without_usage} record(s) report none"
    if cost.estimated:
        tokens += f"; {cost.estimated} authored record(s) counted by the replay server's estimate"
    price = "n/a (no price for this model)" if cost.cost_usd is None else f"${cost.cost_usd:.4f}"
    overhead = ""
    if cost.fixed_prompt_tokens_estimate is not None:
        overhead = f". fixed prompt overhead ≈ {cost.fixed_prompt_tokens_estimate:,} tokens a request"
        if cost.fixed_prompt_tokens_measured is not None:
            overhead += f" ({cost.fixed_prompt_tokens_measured:,.0f} measured)"
    return f"tokens: {tokens}. cost: {price}{overhead}"


def print_report(report: EvalReport, console: Console) -> None:
    """The per-field table, the per-article F1 table, and the figure, quote and cost lines."""
    fields = Table("field", "gold", "predicted", "matched", "missed", "spurious", "precision", "recall", "F1",
                   title=f"{report.model} ({report.mode}), {report.source}")  # fmt: skip
    for name in FIELDS:
        fields.add_row(*_score_row(name, report.fields.get(name, Score())))
    fields.add_row(*_score_row("overall (micro)", report.overall), style="bold")
    console.print(fields)

    articles = Table("article", *FIELDS, "quotes", title="F1 per article")
    for article in report.articles:
        f1s = [_n(article.fields[name].score.f1, 2) if name in article.fields else "-" for name in FIELDS]
        if article.outcome == "failed":
            f1s = [f"{f} (failed)" for f in f1s]
        articles.add_row(article.article, *f1s, _n(article.quotes.share, 2))
    console.print(articles)

    pairs = len(report.figures.errors)
    console.print(f"casualty figures: mean absolute error {_n(report.figures.mae, 2)} over {pairs} paired claim(s)")
    found, total = report.quotes.found, report.quotes.total
    console.print(f"evidence quotes found word for word: {found}/{total} ({_n(report.quotes.share, 3)})")
    console.print(_cost_line(report.cost), soft_wrap=True)
    for notice in report.notices:
        console.print(f"note: {notice}", markup=False, soft_wrap=True)


def _change_line(change: ItemChange) -> str:
    line = f"  {_MARK[change.change]} {_WORD[change.change]}: {change.item}"
    if change.change == "altered":
        line += f"\n      was: {change.before}\n      now: {change.after}"
    elif change.change == "lost" and change.after:
        line += f"\n      now: {change.after}"
    return line


def print_diff(diff: EvalDiff, console: Console) -> None:
    """Field by field: the F1 before and after, then every item gained, lost or altered, by article."""
    table = Table("field", "F1 before", "F1 now", "change", "gained", "lost", "altered", "spurious ±",
                  title=f"against {diff.baseline}")  # fmt: skip
    for delta in [*diff.fields, diff.overall]:
        mine = [c for c in diff.changes if delta.field in ("overall", c.field)]
        count = {kind: sum(1 for c in mine if c.change == kind) for kind in _MARK}
        moved = delta.after.f1 - delta.before.f1
        table.add_row(
            delta.field, _n(delta.before.f1), _n(delta.after.f1), f"{moved:+.3f}" if moved else "0",
            str(count["gained"]), str(count["lost"]), str(count["altered"]),
            f"+{count['spurious_added']} -{count['spurious_removed']}",
            style="bold" if delta.field == "overall" else None,
        )  # fmt: skip
    console.print(table)
    if not diff.changes:
        console.print("no item changed")
    for article in dict.fromkeys(c.article for c in diff.changes):
        console.print(f"{article}", markup=False, style="bold")
        for field in FIELDS:
            mine = [c for c in diff.changes if c.article == article and c.field == field]
            if mine:
                console.print(f" {field}", markup=False)
                for change in mine:
                    console.print(_change_line(change), markup=False)
    for name in diff.articles_added:
        console.print(f"new article (not in the baseline): {name}", markup=False)
    for name in diff.articles_removed:
        console.print(f"article no longer scored (in the baseline): {name}", markup=False)


def render_text(report: EvalReport, diff: EvalDiff | None = None, width: int = 120) -> str:
    """The report (and the diff) as plain text, for ``-o FILE``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, highlight=False, soft_wrap=False)
    print_report(report, console)
    if diff is not None:
        console.print()
        print_diff(diff, console)
    return buffer.getvalue()
