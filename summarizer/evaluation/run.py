"""Scores extractions against gold annotations: per field and overall precision, recall and F1, the error of
casualty figures, the share of evidence quotes found in the article, and the tokens spent.

Extraction goes through the pipeline like any other run (cache first, then the endpoint). With ``replay``, the
run uses a throwaway cache, so that what is scored is exactly the recordings, never an older cached answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from summarizer.briefing.entities import AliasTable
from summarizer.config import Settings
from summarizer.evaluation.gold import GoldFile, load_gold_dir
from summarizer.evaluation.matching import Matcher
from summarizer.evaluation.models import (
    FIELDS,
    ArticleEval,
    Cost,
    EvalReport,
    FieldResult,
    FigureErrors,
    QuoteShare,
    Score,
)
from summarizer.extraction.cost import PriceTable, fitted_overhead, fixed_prompt_estimate, price_usage
from summarizer.extraction.pipeline import extract_paths
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record
from summarizer.extraction.results import ArticleResult, Progress, RunResult
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article
from summarizer.ingest.quotes import article_key, quote_found
from summarizer.replay.endpoint import replay as replay_from

_NOTHING = ArticleExtraction(summary="(no extraction)")


def quote_share(article: Article, extraction: ArticleExtraction) -> QuoteShare:
    """How many of the extraction's evidence quotes are found word for word in the article."""
    text = article_key(article.title, article.text)
    lists: list[Sequence[object]] = [
        extraction.parties, extraction.mediators, extraction.people, extraction.demands,
        extraction.casualties, extraction.events, extraction.outcomes,
    ]  # fmt: skip
    quotes = [str(getattr(item, "evidence", "")) for items in lists for item in items]
    return QuoteShare(found=sum(quote_found(q, text) for q in quotes), total=len(quotes))


def score_article(
    gold: GoldFile, result: ArticleResult | None, aliases: AliasTable, error: str | None = None
) -> ArticleEval:
    """One annotated article's scores. Without a usable extraction, every gold item counts as missed."""
    extraction: ArticleExtraction | None = None
    if result is not None and result.record is not None:
        try:
            extraction = result.record.extraction()
        except ValidationError as exc:
            error = f"the record does not validate against the schema ({exc.error_count()} error(s))"
    elif result is not None:
        error = result.error or "failed"
    matcher = Matcher(gold.annotation, extraction or _NOTHING, aliases)
    fields = matcher.results()
    return ArticleEval(
        article=Path(gold.annotation.article).name,
        article_id=gold.annotation.article_id,
        gold_file=gold.path.name,
        outcome="scored" if extraction is not None else "failed",
        error=None if extraction is not None else error or "no extraction",
        fields=fields,
        quotes=quote_share(result.article, extraction) if result is not None and extraction else QuoteShare(),
        figures=FigureErrors(errors=matcher.figure_errors),
    )


def cost_of(records: Sequence[Record], prices: PriceTable | None = None) -> Cost:
    """Tokens summed over ``records`` and priced with ``prices`` (the bundled table by default); authored
    records replayed get the server's estimate, counted apart."""
    with_usage = [r for r in records if r.response.usage is not None]
    priced = price_usage(((r.request.model, r.response.usage, r.response.attempts) for r in with_usage),
                         prices or PriceTable.load())  # fmt: skip
    return Cost(
        cost_usd=priced.usd if with_usage else None,
        prompt_tokens=priced.prompt_tokens,
        completion_tokens=priced.completion_tokens,
        cached_tokens=priced.cached_tokens,
        records=len(records),
        without_usage=len(records) - len(with_usage),
        estimated=sum(1 for r in with_usage if r.origin == "authored"),
    )


def _with_overhead(cost: Cost, run: RunResult, mode: str) -> Cost:
    """``cost`` with the prompt's fixed overhead in ``mode``, estimated and, from the run's answers, measured."""
    prompts = load_prompts(run.settings.prompts_dir if run.settings is not None else None)
    points = [
        (len(article.text), record.response.usage.prompt_tokens)
        for article, record in run.records
        if record.response.usage is not None and record.response.attempts == 1
    ]
    return cost.model_copy(
        update={
            "fixed_prompt_tokens_estimate": fixed_prompt_estimate(prompts, mode),
            "fixed_prompt_tokens_measured": fitted_overhead(points),
        }
    )


def _pair(golds: Sequence[GoldFile], run: RunResult) -> tuple[list[tuple[GoldFile, ArticleResult | None]], list[str]]:
    """Each gold file with its article's result (matched by id, else by file), and notices on what is unpaired."""
    by_id = {r.article.id: r for r in run.results}
    by_path = {Path(r.article.source).resolve(): r for r in run.results}
    notices: list[str] = []
    pairs: list[tuple[GoldFile, ArticleResult | None]] = []
    used: set[str] = set()
    for gold in golds:
        result = by_id.get(gold.annotation.article_id) or by_path.get(gold.article_path.resolve())
        if result is not None and result.article.id != gold.annotation.article_id:
            notices.append(
                f"{gold.path.name}: written for another text of {result.article.source} "
                f"(id {gold.annotation.article_id}, now {result.article.id}); re-check the gold against the article"
            )
        if result is not None:
            used.add(result.article.id)
        pairs.append((gold, result))
    unannotated = [r.article.source for r in run.results if r.article.id not in used]
    if unannotated:
        notices.append(f"{len(unannotated)} article(s) have no gold file and are not scored: {', '.join(unannotated)}")
    return pairs, notices


def evaluate(
    golds: Sequence[GoldFile],
    run: RunResult,
    *,
    model: str,
    mode: str,
    source: str,
    aliases: AliasTable,
    prices: PriceTable | None = None,
) -> EvalReport:
    """The report for a finished run. A gold file whose article could not be read or extracted scores as if
    nothing had been predicted, so that a broken input shows as lost items, never as a smaller test."""
    pairs, notices = _pair(golds, run)
    unreadable = {Path(e.path).resolve(): str(e) for e in run.input_errors}
    articles = [
        score_article(gold, result, aliases, error=unreadable.get(gold.article_path.resolve(), "not among the inputs"))
        for gold, result in pairs
    ]
    fields = {name: sum((a.fields[name].score for a in articles), Score()) for name in FIELDS}
    return EvalReport(
        model=model,
        mode=mode,
        source=source,
        fields=fields,
        overall=sum(fields.values(), Score()),
        figures=FigureErrors(errors=[e for a in articles for e in a.figures.errors]),
        quotes=sum((a.quotes for a in articles), QuoteShare()),
        cost=_with_overhead(cost_of([record for _, record in run.records], prices), run, mode),
        articles=articles,
        notices=[
            *run.notices,
            *notices,
            *(f"{a.gold_file}: {a.error}; every gold item counts as missed" for a in articles if a.outcome == "failed"),
        ],
    )


def run_eval(
    gold_dir: Path,
    settings: Settings,
    *,
    paths: Sequence[Path] = (),
    replay: Path | None = None,
    aliases_files: Sequence[Path] = (),
    progress: Progress | None = None,
) -> tuple[EvalReport, RunResult]:
    """Extract the annotated articles (``paths``, or else the articles the gold files name) and score them."""
    golds = load_gold_dir(gold_dir)
    aliases = AliasTable.load(*aliases_files)
    inputs: list[Path] = list(paths) or [gold.article_path for gold in golds]
    if replay is None:
        run = extract_paths(inputs, settings, progress=progress)
        source = "cache/endpoint"
    else:
        with tempfile.TemporaryDirectory(prefix="summarizer-eval-") as cache_dir:
            run = extract_paths(
                inputs, settings.replace(cache_dir=Path(cache_dir)), endpoint=replay_from(replay), progress=progress
            )
        source = f"replay {replay}"
    if paths:
        # Gold files for articles the user did not ask about are left out rather than scored as all missed.
        wanted = {r.article.id for r in run.results} | {Path(r.article.source).resolve() for r in run.results}
        golds = [g for g in golds if g.annotation.article_id in wanted or g.article_path.resolve() in wanted]
    prices = PriceTable.load(settings.prices_file)
    report = evaluate(
        golds, run, model=settings.model, mode=settings.mode, source=source, aliases=aliases, prices=prices
    )
    return report, run


def field_result(report: EvalReport, article: str, field: str) -> FieldResult:
    """One article's result for one field."""
    return next(a for a in report.articles if a.article == article).fields[field]
