"""Cost benchmark: what 1,000 example-sized articles cost with the current prompt and schema, beside the prompt
and schema the project shipped before they were cut down, measured in the same run.

    .venv/bin/python benchmarks/cost.py                 # 200 articles per configuration (about half a minute)
    .venv/bin/python benchmarks/cost.py --articles 50

The articles are variants of the five examples (a line added to each, so that every one is its own article),
answered by the loopback server from the examples' recordings, so both prompt sets get the same answers: the
completion tokens are the same, and the prompt tokens are what each prompt set sends. The server counts tokens
as the rest of the project does without a tokenizer (four characters a token, a run of whitespace one), and
reports ``cached_tokens`` as a provider's prompt cache would (a prefix of 1,024 tokens or more seen in the
last five minutes, in steps of 128).

The earlier prompt set is kept as it was sent in ``benchmarks/baseline_prompt/`` (system prompt, user template
and the tool definition instructor made from the earlier schema, saved before the change), and is sent here as
that code sent it: one tool, named in ``tool_choice``, then the system and the user message. The current one
is sent by the pipeline itself (and, as a check that the two senders agree, by the same plain sender).

Figures, per 1,000 articles, at the bundled price of the model (gpt-4o-mini unless ``--model``):

- before, as priced then: every prompt token at the input rate (the code read no ``cached_tokens``);
- before, as a provider bills it: the earlier prompt's own prefix served from the provider's cache too (its tool
  schema and system prompt were already first and unchanging);
- now: cached tokens at the cached rate;
- now with the Batch API: half the standard input and output rates, and no prompt-cache discount counted.

The eval's F1 is that of the replayed recordings with the current prompt and schema, beside the stored
baseline's. Replayed answers do not depend on the prompt, so this shows that the recordings and the gate still
hold; what a live model makes of the shorter prompt is for a live evaluation to show.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.config import Settings  # noqa: E402
from summarizer.extraction.cost import Price, PriceTable, fitted_overhead, fixed_prompt_estimate  # noqa: E402
from summarizer.extraction.pipeline import Pipeline  # noqa: E402
from summarizer.extraction.prompts import PromptSet, load_prompts  # noqa: E402
from summarizer.extraction.records import Usage, estimate_tokens  # noqa: E402
from summarizer.ingest.articles import Article  # noqa: E402
from summarizer.replay.server import LoopbackServer  # noqa: E402
from summarizer.replay.synthetic import example_variants  # noqa: E402

ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = ROOT / "fixtures" / "recordings"
BASELINE_PROMPT = ROOT / "benchmarks" / "baseline_prompt"
BATCH_RATE = 0.5
"""The Batch API's price as a share of the standard one (OpenAI: half, input and output)."""
KEY = "benchmark-key"


@dataclass(frozen=True, slots=True)
class Measured:
    """One configuration's answers: each article's length and what its request cost in tokens."""

    name: str
    points: list[tuple[Article, Usage]]

    @property
    def prompt(self) -> int:
        return sum(u.prompt_tokens for _, u in self.points)

    @property
    def cached(self) -> int:
        return sum(u.cached_tokens for _, u in self.points)

    @property
    def completion(self) -> int:
        return sum(u.completion_tokens for _, u in self.points)

    def per_thousand(self, price: Price, *, cached: bool = True, rate: float = 1.0) -> tuple[float, float]:
        """Dollars per 1,000 articles: (input, total)."""
        hits = self.cached if cached else 0
        scale = rate * 1000 / len(self.points)
        prompt_usd = price.dollars(self.prompt, 0, hits) * scale
        return prompt_usd, prompt_usd + price.dollars(0, self.completion) * scale

    def overhead(self) -> float | None:
        return fitted_overhead([(len(a.text), u.prompt_tokens) for a, u in self.points])


def plain_sends(url: str, model: str, prompts: PromptSet, tool: dict[str, Any], articles: list[Article]) -> Measured:
    """Each article sent as a plain openai call with one tool, named in tool_choice, after the system prompt."""
    import openai

    client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
    points = []
    for article in articles:
        user = prompts.render_user(
            title=article.title,
            text=article.text,
            published=article.published.isoformat() if article.published else None,
            outlet=article.outlet,
        )
        request: dict[str, Any] = {
            "model": model,
            "temperature": 0.0,
            "max_tokens": 4096,
            "messages": [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}],
            "tools": [{"type": "function", "function": tool}],
            "tool_choice": {"type": "function", "function": {"name": tool["name"]}},
        }
        answer = client.chat.completions.create(**request)
        usage = answer.usage
        assert usage is not None
        details = usage.prompt_tokens_details
        cached = (details.cached_tokens or 0) if details is not None else 0
        points.append((article, Usage.of(usage.prompt_tokens, usage.completion_tokens, cached)))
    return Measured("plain", points)


def pipeline_sends(url: str, model: str, articles: list[Article], cache: Path) -> Measured:
    """The articles through the pipeline, one request at a time (so that the prompt cache's hits do not
    depend on which request arrives first)."""
    settings = Settings(base_url=url, api_key=KEY, model=model, cache_dir=cache, concurrency=1)
    with Pipeline(settings) as pipeline:
        results = pipeline.run(articles)
    points = []
    for result in results:
        assert result.record is not None and result.spent is not None, result.error
        points.append((result.article, result.spent))
    return Measured("pipeline", points)


def current_tool() -> dict[str, Any]:
    """The tool definition instructor sends for the current schema."""
    import instructor

    from summarizer.extraction.schema import ArticleExtraction

    wrapped: Any = instructor.openai_schema(ArticleExtraction)
    schema: dict[str, Any] = wrapped.openai_schema
    return schema


def baseline() -> tuple[PromptSet, dict[str, Any]]:
    """The earlier prompt set and tool definition, as saved."""
    system = (BASELINE_PROMPT / "extract_system.md").read_text(encoding="utf-8").strip()
    user = (BASELINE_PROMPT / "extract_user.md").read_text(encoding="utf-8").strip()
    tool = json.loads((BASELINE_PROMPT / "tool.json").read_text(encoding="utf-8"))
    return PromptSet(system=system, user_template=user), tool


def fixed_estimate(prompts: PromptSet, tool: dict[str, Any]) -> int:
    """The fixed overhead estimated as ``fixed_prompt_estimate`` does, for any prompt set and tool."""
    template = prompts.render_user(title="", text="", published=None, outlet=None)
    parameters = json.dumps(tool["parameters"], separators=(",", ":"))
    return estimate_tokens(prompts.system) + estimate_tokens(template) + estimate_tokens(parameters)


def eval_f1() -> tuple[float, float]:
    """Overall F1 of the stored baseline report and of the replayed recordings now."""
    from summarizer.evaluation.diff import load_report
    from summarizer.evaluation.run import run_eval

    stored = load_report(ROOT / "fixtures" / "eval" / "baseline.json")
    with tempfile.TemporaryDirectory(prefix="summarizer-cost-eval-") as tmp:
        report, _ = run_eval(ROOT / "fixtures" / "gold", Settings(cache_dir=Path(tmp)), replay=RECORDINGS)
    return stored.overall.f1, report.overall.f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200, help="Articles per configuration (default 200).")
    parser.add_argument("--model", default="gpt-4o-mini", help="Model whose bundled price is used.")
    args = parser.parse_args()
    price = PriceTable.load().price(args.model)
    if price is None:
        raise SystemExit(f"no bundled price for {args.model}")
    articles, served = example_variants(args.articles, ARTICLES, RECORDINGS)
    served = {k: r.model_copy(update={"request": r.request.model_copy(update={"model": args.model})})
              for k, r in served.items()}  # fmt: skip
    old_prompts, old_tool = baseline()
    # A fresh server for each configuration: each starts with an empty prompt cache, as a run after a pause does.
    with LoopbackServer(served) as server:
        before = plain_sends(server.url, args.model, old_prompts, old_tool, articles)
    with LoopbackServer(served) as server, tempfile.TemporaryDirectory(prefix="summarizer-cost-") as tmp:
        now = pipeline_sends(server.url, args.model, articles, Path(tmp))
    with LoopbackServer(served) as server:
        check = plain_sends(server.url, args.model, load_prompts(), current_tool(), articles)
    assert (check.prompt, check.completion) == (now.prompt, now.completion), "the two senders differ"

    before_in, before_total = before.per_thousand(price, cached=False)
    billed_in, billed_total = before.per_thousand(price)
    now_in, now_total = now.per_thousand(price)
    batch_in, batch_total = now.per_thousand(price, cached=False, rate=BATCH_RATE)
    f1_stored, f1_now = eval_f1()
    n = len(articles)
    old_fixed, new_fixed = fixed_estimate(old_prompts, old_tool), fixed_prompt_estimate(load_prompts())
    old_measured, new_measured = before.overhead(), now.overhead()
    rows: list[tuple[str, str]] = [
        (f"articles per configuration (variants of the examples), model {args.model}", f"{n}"),
        ("fixed overhead a request, before: estimated (measured)", f"{old_fixed:,} ({old_measured or 0:,.0f})"),
        ("fixed overhead a request, now: estimated (measured)", f"{new_fixed:,} ({new_measured or 0:,.0f})"),
        ("prompt tokens an article, before -> now", f"{before.prompt / n:,.0f} -> {now.prompt / n:,.0f}"),
        ("  of which cached, before -> now", f"{before.cached / n:,.0f} -> {now.cached / n:,.0f}"),
        ("completion tokens an article (the same answers)",
         f"{before.completion / n:,.0f} -> {now.completion / n:,.0f}"),
        ("per 1,000 articles: input / total", ""),
        ("  before, as priced then (no cached rate)", f"${before_in:.3f} / ${before_total:.3f}"),
        ("  before, as a provider bills it (its prefix cached too)", f"${billed_in:.3f} / ${billed_total:.3f}"),
        ("  now (cached tokens at the cached rate)", f"${now_in:.3f} / ${now_total:.3f}"),
        ("  now with the Batch API (half the standard rates)", f"${batch_in:.3f} / ${batch_total:.3f}"),
        ("now / before as priced then: input / total (target total <= 0.50)",
         f"{now_in / before_in:.2f} / {now_total / before_total:.2f}"),
        ("now / before as billed: input / total", f"{now_in / billed_in:.2f} / {now_total / billed_total:.2f}"),
        ("batch / before as priced then: input / total (target total <= 0.25)",
         f"{batch_in / before_in:.2f} / {batch_total / before_total:.2f}"),
        ("batch / before as billed: input / total", f"{batch_in / billed_in:.2f} / {batch_total / billed_total:.2f}"),
        ("completion share of the bill now", f"{(now_total - now_in) / now_total:.0%}"),
        ("eval overall F1: stored baseline -> replayed now", f"{f1_stored:.3f} -> {f1_now:.3f}"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
