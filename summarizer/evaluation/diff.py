"""Two evaluation reports compared: what a prompt, schema or model change gained, lost and altered, and the
regression gate CI runs against a stored baseline report.

Items are compared by their gold item's short text within one article and field, so a change reads like a
code diff: a gold item found before and not now is *lost*, the reverse *gained*, found in both with a different
prediction *altered*; predictions that match nothing are *spurious*, and come and go the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from summarizer.errors import UserError, first_problem
from summarizer.evaluation.models import EVAL_FORMAT, FIELDS, ArticleEval, EvalReport, FieldResult, ReportModel, Score

_TOLERANCE = 1e-9

Change = Literal["gained", "lost", "altered", "spurious_added", "spurious_removed"]


class ItemChange(ReportModel):
    """One item that changed between the baseline and this run."""

    article: str
    field: str
    change: Change
    item: str
    """The gold item's short text (the predicted one's, for spurious items)."""
    before: str | None = None
    """What the baseline predicted for it, if anything."""
    after: str | None = None
    """What this run predicted for it, if anything (for a lost item, a near miss: the same fact, wrong value)."""


class FieldDelta(ReportModel):
    """One field's score in the baseline and in this run."""

    field: str
    before: Score
    after: Score


class EvalDiff(ReportModel):
    """This run against a baseline report."""

    baseline: str
    """The baseline report's file."""
    fields: list[FieldDelta] = Field(default_factory=list)
    overall: FieldDelta
    changes: list[ItemChange] = Field(default_factory=list)
    articles_added: list[str] = Field(default_factory=list)
    """Articles scored now and not in the baseline."""
    articles_removed: list[str] = Field(default_factory=list)
    """Articles in the baseline and not scored now."""


def load_report(path: Path) -> EvalReport:
    """A saved report (``--format json`` output or a baseline); a malformed one is a one-line UserError."""
    fix = "write one with `summarizer eval --format json -o FILE` or `--update-baseline FILE`"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the evaluation report ({exc.strerror}); {fix}") from None
    try:
        return EvalReport.model_validate_json(text)
    except ValidationError as exc:
        raise UserError(f"{path}: not a {EVAL_FORMAT} report ({first_problem(exc, '(top level)')}); {fix}") from None


def write_report(report: EvalReport, path: Path) -> None:
    """Write ``report`` as JSON (without any diff), as a baseline is stored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report_json(report), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the evaluation report ({exc.strerror}); choose another path") from None


def report_json(report: EvalReport, diff: EvalDiff | None = None) -> str:
    """The report as stable, readable JSON; with ``diff``, under a ``diff`` key."""
    data = report.model_dump(mode="json")
    if diff is not None:
        data["diff"] = diff.model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _by_article(report: EvalReport) -> dict[str, ArticleEval]:
    return {a.article: a for a in report.articles}


def _field_changes(article: str, field: str, before: FieldResult, after: FieldResult) -> list[ItemChange]:
    old = {p.gold: p.predicted for p in before.matched}
    new = {p.gold: p.predicted for p in after.matched}
    near = {n.gold: n.predicted for n in after.near_misses}
    changes: list[ItemChange] = []

    def add(change: Change, item: str, was: str | None = None, now: str | None = None) -> None:
        changes.append(ItemChange(article=article, field=field, change=change, item=item, before=was, after=now))

    for gold in after.missed:
        if gold in old:
            add("lost", gold, old[gold], near.get(gold))
    for gold, predicted in new.items():
        if gold in before.missed:
            add("gained", gold, None, predicted)
        elif gold in old and old[gold] != predicted:
            add("altered", gold, old[gold], predicted)
    for item in after.spurious:
        if item not in before.spurious:
            add("spurious_added", item, None, item)
    for item in before.spurious:
        if item not in after.spurious:
            add("spurious_removed", item, item, None)
    return changes


def diff_reports(before: EvalReport, after: EvalReport, baseline: str) -> EvalDiff:
    """What changed from ``before`` (the baseline) to ``after``, field by field and item by item."""
    old, new = _by_article(before), _by_article(after)
    changes = [
        change
        for name in new
        if name in old
        for field in FIELDS
        for change in _field_changes(name, field, old[name].fields.get(field, FieldResult()), new[name].fields[field])
    ]
    return EvalDiff(
        baseline=baseline,
        fields=[
            FieldDelta(field=f, before=before.fields.get(f, Score()), after=after.fields.get(f, Score()))
            for f in FIELDS
        ],
        overall=FieldDelta(field="overall", before=before.overall, after=after.overall),
        changes=changes,
        articles_added=[name for name in new if name not in old],
        articles_removed=[name for name in old if name not in new],
    )


def _what(changes: list[ItemChange]) -> str:
    parts = []
    for c in changes:
        if c.change == "lost":
            parts.append(f"lost “{c.item}”" + (f" (now “{c.after}”)" if c.after else ""))
        elif c.change == "altered":
            parts.append(f"altered “{c.item}”: “{c.before}” → “{c.after}”")
        elif c.change == "spurious_added":
            parts.append(f"spurious “{c.item}”")
    return "; ".join(parts) or "items changed"


def regressions(before: EvalReport, after: EvalReport, baseline: str) -> list[str]:
    """One line per regression: a field whose F1 fell below the baseline's, in an article or overall, naming
    the field, the article and what was lost or altered; and every baseline article no longer scored."""
    diff = diff_reports(before, after, baseline)
    old, new = _by_article(before), _by_article(after)
    lines: list[str] = []
    for field in FIELDS:
        dropped = []
        for name in new:
            if name not in old or field not in old[name].fields:
                continue
            was, now = old[name].fields[field].score.f1, new[name].fields[field].score.f1
            if now < was - _TOLERANCE:
                dropped.append(name)
                mine = [c for c in diff.changes if c.article == name and c.field == field]
                lines.append(f"{field} in {name}: F1 {was:.3f} → {now:.3f}; {_what(mine)}")
        was_all = before.fields.get(field, Score()).f1
        now_all = after.fields.get(field, Score()).f1
        if now_all < was_all - _TOLERANCE and not dropped:
            lines.append(f"{field} overall: F1 {was_all:.3f} → {now_all:.3f} (no single article fell; see the report)")
    lines.extend(f"{name}: in the baseline but not scored in this run" for name in diff.articles_removed)
    return lines
