"""Evaluation: matching rules, scores, diff between runs, and the CI gate against the stored baseline."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.app.cli import app
from summarizer.briefing.entities import AliasTable
from summarizer.errors import ExitCode
from summarizer.evaluation.diff import diff_reports, load_report, regressions
from summarizer.evaluation.gold import GoldAnnotation, GoldFile, load_gold
from summarizer.evaluation.matching import Matcher
from summarizer.evaluation.models import EvalReport, FieldResult, Score
from summarizer.evaluation.run import cost_of, quote_share, run_eval
from summarizer.extraction.cost import PriceTable
from summarizer.extraction.records import Record, Usage
from summarizer.extraction.schema import ArticleExtraction, CasualtyKind, Precision, Victims
from summarizer.ingest.articles import load_articles
from tests.conftest import ARTICLES, RECORDINGS, ROOT, error_lines

GOLD = ROOT / "fixtures" / "gold"
BASELINE = ROOT / "fixtures" / "eval" / "baseline.json"
ARTICLE_000 = "000_c7654b6822704fd4"
ARTICLE_004 = "004_29d29f48ff22ceaf"
runner = CliRunner()


def _gold(stem: str) -> GoldFile:
    return load_gold(GOLD / f"{stem}.json")


def _item_fields(item: Any) -> dict[str, Any]:
    """A gold item's fields as a schema item has them (without the gold's own)."""
    return {k: v for k, v in asdict(item).items() if k not in {"optional", "note"}}


def _as_extraction(gold: GoldAnnotation, **changes: list[dict[str, Any]]) -> ArticleExtraction:
    """The extraction a perfect model would give: the gold's required items, with ``changes`` per field."""

    def required(items: list[Any]) -> list[dict[str, Any]]:
        return [_item_fields(i) for i in items if not i.optional]

    data: dict[str, Any] = {
        "summary": "test",
        "parties": required(gold.parties),
        "mediators": required(gold.mediators),
        "demands": required(gold.demands),
        "casualties": required(gold.casualties),
        "events": required(gold.events),
    }
    data.update(changes)
    return ArticleExtraction.model_validate(data)


def _results(gold: GoldAnnotation, extraction: ArticleExtraction) -> dict[str, FieldResult]:
    return Matcher(gold, extraction, AliasTable.load()).results()


@pytest.mark.parametrize("stem", [p.stem for p in sorted(GOLD.glob("*.json"))])
def test_a_prediction_equal_to_the_gold_scores_perfectly(stem: str) -> None:
    gold = _gold(stem).annotation
    results = _results(gold, _as_extraction(gold))
    required = sum(1 for f in ("parties", "mediators", "demands", "casualties", "events")
                   for item in getattr(gold, f) if not item.optional)  # fmt: skip
    assert sum(r.score.matched for r in results.values()) == required > 0
    assert all(r.score.f1 == 1.0 and not r.missed and not r.spurious for r in results.values())


def test_names_match_through_english_names_and_capitals_and_never_across_distinct_actors(tmp_path: Path) -> None:
    gold = _gold(ARTICLE_000).annotation
    predicted = _as_extraction(gold)
    english = {"Pakistan": "", "Afghanistan": "Afghanistan", "Tehrik-e-Taliban Pakistan": "Tehrik-e-Taliban Pakistan"}
    renamed = predicted.model_copy(
        update={
            "parties": [
                replace(
                    p,
                    name={
                        "Pakistan": "Islamabad",
                        "Afghanistan": "Islamic Emirate of Afghanistan",
                        "Tehrik-e-Taliban Pakistan": "TTP",
                    }[p.name],
                    name_en=english[p.name],
                    spellings=[],
                )
                for p in predicted.parties
            ],  # fmt: skip
            "mediators": [
                replace(m, name="Türkiye", name_en="Turkey") if m.name == "Turkey" else m for m in predicted.mediators
            ],
            "demands": [replace(d, by="Islamabad", of="Kabul") for d in predicted.demands],
        }
    )
    results = _results(gold, renamed)
    assert results["parties"].score == Score(matched=3)
    assert results["mediators"].score == Score(matched=2)
    assert results["demands"].score == Score(matched=1)
    # Declared distinct in the user's table, the TTP does not stand in for Pakistan whatever an article lists.
    swapped = predicted.model_copy(
        update={"parties": [p for p in predicted.parties if p.name != "Pakistan"] + [
            replace(predicted.parties[2], name="Tehrik-i-Taliban Pakistan", name_en="Tehrik-e-Taliban Pakistan",
                    spellings=["Pakistan"])]}
    )  # fmt: skip
    table = tmp_path / "aliases.yaml"
    table.write_text("distinct:\n  - [Pakistan, Tehrik-e-Taliban Pakistan]\n", encoding="utf-8")
    assert Matcher(gold, swapped, AliasTable.load(table)).results()["parties"].missed == ["Pakistan"]


def test_a_wrong_casualty_figure_is_a_miss_and_a_spurious_claim_paired_as_a_near_miss() -> None:
    gold = _gold(ARTICLE_004).annotation
    predicted = _as_extraction(gold)
    wrong = [
        replace(c, low=25, best=25, high=25, figure_text="25") if c.best == 23 else c for c in predicted.casualties
    ]
    matcher = Matcher(gold, predicted.model_copy(update={"casualties": wrong}), AliasTable.load())
    casualties = matcher.results()["casualties"]
    assert casualties.score == Score(matched=2, missed=1, spurious=1)
    assert casualties.missed == ['killed soldiers "23" = 23']
    assert [(n.gold, n.predicted, n.error) for n in casualties.near_misses] == [
        ('killed soldiers "23" = 23', 'killed soldiers "25" = 25', 2.0)
    ]
    assert 2.0 in matcher.figure_errors


def test_casualty_claims_match_on_kind_victims_and_overlapping_figures() -> None:
    gold = _gold(ARTICLE_004).annotation
    predicted = _as_extraction(gold)
    over_200 = next(c for c in predicted.casualties if c.figure_text == "over 200")
    cases = {
        "a figure inside the open range": replace(over_200, low=None, best=250, figure_text="250"),
        "another kind": replace(over_200, kind=CasualtyKind.WOUNDED),
        "other victims": replace(over_200, victims=Victims.CIVILIANS),
        "no number for a numeric claim": replace(over_200, low=None, figure_text="many"),
    }
    matched = {}
    for name, claim in cases.items():
        claims = [claim if c is over_200 else c for c in predicted.casualties]
        result = _results(gold, predicted.model_copy(update={"casualties": claims}))["casualties"]
        matched[name] = result.score.matched == 3
    assert matched == {"a figure inside the open range": True, "another kind": False, "other victims": False,
                       "no number for a numeric claim": False}  # fmt: skip


def test_events_match_at_the_gold_precision_and_by_what_happened() -> None:
    gold = _gold(ARTICLE_004).annotation
    predicted = _as_extraction(gold)
    month = next(e for e in predicted.events if e.date == "2025-11")
    ceasefire = next(e for e in predicted.events if e.date == "2025-10-17")
    finer = replace(month, date="2025-11-04", precision=Precision.DAY)
    misdated = replace(ceasefire, date="2025-10-19")
    coarser = replace(ceasefire, date="2025-10", precision=Precision.MONTH)
    for change, matched in [(finer, True), (misdated, False), (coarser, False)]:
        original = month if change is finer else ceasefire
        events = [change if e is original else e for e in predicted.events]
        result = _results(gold, predicted.model_copy(update={"events": events}))["events"]
        assert (result.score.missed == 0) is matched, change
    events = [misdated if e is ceasefire else e for e in predicted.events]
    result = _results(gold, predicted.model_copy(update={"events": events}))["events"]
    assert [n.predicted for n in result.near_misses] == [f"2025-10-19 (day): {ceasefire.description}"]


def test_optional_gold_items_count_neither_way() -> None:
    gold = _gold(ARTICLE_000).annotation
    with_optional = _as_extraction(gold, parties=[_item_fields(p) for p in gold.parties])
    results = _results(gold, with_optional)
    assert results["parties"].score == Score(matched=3)
    assert [p.gold for p in results["parties"].optional] == ["Pakistani military"]


def test_quote_share_counts_quotes_not_found_word_for_word() -> None:
    article = load_articles([ARTICLES / f"{ARTICLE_000}.txt"]).articles[0]
    extraction = _as_extraction(_gold(ARTICLE_000).annotation)
    total = quote_share(article, extraction).total
    assert quote_share(article, extraction).found == total > 0
    party = replace(extraction.parties[0], evidence="Pakistan and Afghanistan signed a peace treaty")
    changed = extraction.model_copy(update={"parties": [party, *extraction.parties[1:]]})
    assert quote_share(article, changed).found == total - 1


def test_cost_sums_usage_and_says_which_records_have_none(recordings: dict[str, Record]) -> None:
    authored = next(iter(recordings.values()))
    assert authored.response.usage is None
    usage = Usage(prompt_tokens=100, completion_tokens=20, total_tokens=120)
    response = authored.response.model_copy(update={"usage": usage})
    recorded = authored.model_copy(update={"origin": "recorded", "response": response})
    cost = cost_of([authored, recorded])
    assert (cost.prompt_tokens, cost.completion_tokens, cost.records, cost.without_usage) == (100, 20, 2, 1)
    price = PriceTable.load().price(recorded.request.model)
    assert price is not None and cost.cost_usd == pytest.approx((100 * price.input + 20 * price.output) / 1e6)
    assert cost_of([authored]).cost_usd is None, "no usage, no price"


def _report_with(tmp_path: Path, recordings: Path) -> EvalReport:
    from summarizer.config import load_settings

    report, _ = run_eval(GOLD, load_settings(cache_dir=tmp_path / "cache"), replay=recordings)
    return report


def _broken_recordings(tmp_path: Path) -> Path:
    """A copy of the recordings with one mediator dropped (000) and one casualty figure changed (004)."""
    copy = tmp_path / "broken"
    shutil.copytree(RECORDINGS, copy)
    first = copy / f"{ARTICLE_000}.json"
    data = json.loads(first.read_text(encoding="utf-8"))
    data["output"]["mediators"] = [m for m in data["output"]["mediators"] if m["name"] != "Qatar"]
    first.write_text(json.dumps(data), encoding="utf-8")
    second = copy / f"{ARTICLE_004}.json"
    data = json.loads(second.read_text(encoding="utf-8"))
    for claim in data["output"]["casualties"]:
        if claim["best"] == 23:
            claim.update(low=25, best=25, high=25, figure_text="25")
    second.write_text(json.dumps(data), encoding="utf-8")
    return copy


def test_diff_names_items_gained_lost_and_altered(tmp_path: Path) -> None:
    good = _report_with(tmp_path, RECORDINGS)
    broken = _report_with(tmp_path, _broken_recordings(tmp_path))
    lost = diff_reports(good, broken, "good.json")
    assert {(c.article, c.field, c.change, c.item) for c in lost.changes if c.change == "lost"} == {
        (f"{ARTICLE_000}.txt", "mediators", "lost", "Qatar"),
        (f"{ARTICLE_004}.txt", "casualties", "lost", 'killed soldiers "23" = 23'),
    }
    assert [c.item for c in lost.changes if c.change == "spurious_added"] == ['killed soldiers "25" = 25']
    gained = diff_reports(broken, good, "broken.json")
    assert sorted(c.item for c in gained.changes if c.change == "gained") == ["Qatar", 'killed soldiers "23" = 23']
    # The same gold item matched in both runs, with a different prediction, is altered.
    renamed = good.model_copy(deep=True)
    pair = renamed.articles[0].fields["mediators"].matched[0]
    object.__setattr__(pair, "predicted", "Turkey [host, Istanbul]")
    altered = [c for c in diff_reports(good, renamed, "good.json").changes if c.change == "altered"]
    assert [(c.item, c.before, c.after) for c in altered] == [
        ("Turkey", "Turkey [mediator, Istanbul]", "Turkey [host, Istanbul]")
    ]
    assert regressions(good, renamed, "good.json") == []


def test_the_gate_fails_naming_field_and_article_when_a_mediator_and_a_figure_are_broken(tmp_path: Path) -> None:
    args = ["eval", "--replay", str(_broken_recordings(tmp_path)), "--gold", str(GOLD), "--check", str(BASELINE), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.REGRESSION, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("regression:")]
    assert len(lines) == 2, result.stderr
    mediator = next(line for line in lines if "mediators" in line)
    casualty = next(line for line in lines if "casualties" in line)
    assert f"{ARTICLE_000}.txt" in mediator and "Qatar" in mediator
    assert f"{ARTICLE_004}.txt" in casualty and '"23"' in casualty and '"25"' in casualty


def test_the_gate_passes_on_the_untouched_recordings_and_the_table_prints() -> None:
    args = ["eval", "--replay", str(RECORDINGS), "--gold", str(GOLD), "--check", str(BASELINE), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "eval gate passed" in result.stderr
    for heading in (
        "precision",
        "recall",
        "F1",
        "overall (micro)",
        "mean absolute error",
        "word for word",
        "tokens",
        "fixed prompt overhead",
    ):
        assert heading in result.stdout


def test_the_stored_baseline_is_what_the_recordings_score_now(tmp_path: Path) -> None:
    # A stale baseline would let a regression back in silently: it must equal a fresh run, field for field.
    stored = load_report(BASELINE)
    fresh = _report_with(tmp_path, RECORDINGS)
    assert stored.fields == fresh.fields
    assert [a.fields for a in stored.articles] == [a.fields for a in fresh.articles]


def test_json_output_and_update_baseline_then_check_against_it(tmp_path: Path) -> None:
    broken = _broken_recordings(tmp_path)
    saved = tmp_path / "eval" / "base.json"
    update = ["eval", "--replay", str(broken), "--gold", str(GOLD), "--update-baseline", str(saved), "-q", "-f", "json"]
    result = runner.invoke(app, update)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "summarizer.eval/1" and len(data["articles"]) == 5
    assert data["fields"]["mediators"]["f1"] < 1.0
    assert load_report(saved).fields == EvalReport.model_validate(data).fields
    # Against the broken run's baseline, the good recordings gain and nothing regresses.
    check = ["eval", "--replay", str(RECORDINGS), "--gold", str(GOLD), "--check", str(saved), "--baseline",
             str(saved), "-q", "-f", "json"]  # fmt: skip
    result = runner.invoke(app, check)
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)["diff"]
    assert sorted(c["item"] for c in diff["changes"] if c["change"] == "gained") == [
        "Qatar",
        'killed soldiers "23" = 23',
    ]


def test_check_and_update_together_or_a_malformed_baseline_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    for extra in (["--check", str(BASELINE), "--update-baseline", str(tmp_path / "x.json")], ["--baseline", str(bad)]):
        result = runner.invoke(app, ["eval", "--replay", str(RECORDINGS), "--gold", str(GOLD), "-q", *extra])
        assert result.exit_code == 2, result.output
        errors = error_lines(result)
        assert len(errors) == 1 and "Traceback" not in result.output


def test_an_article_that_cannot_be_extracted_scores_as_all_missed(tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(RECORDINGS, partial)
    (partial / f"{ARTICLE_000}.json").unlink()
    result = runner.invoke(app, ["eval", "--replay", str(partial), "--gold", str(GOLD), "-q", "-f", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    failed = next(a for a in data["articles"] if a["article"] == f"{ARTICLE_000}.txt")
    assert failed["outcome"] == "failed"
    assert failed["fields"]["mediators"]["missed"] == ["Turkey", "Qatar"]
    assert data["fields"]["mediators"]["recall"] < 1.0


def test_named_articles_are_scored_alone_and_the_table_can_go_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "eval.txt"
    args = ["eval", str(ARTICLES / f"{ARTICLE_004}.txt"), "--replay", str(RECORDINGS), "--gold", str(GOLD), "-q",
            "-o", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert f"{ARTICLE_004}.txt" in text and f"{ARTICLE_000}.txt" not in text
    assert "overall (micro)" in text
