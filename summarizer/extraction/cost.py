"""What extraction costs: tokens from the endpoint's ``usage`` and a price table users can edit.

Token counts are never computed locally (no tokenizer is needed): every figure here comes from the answers'
``usage`` fields, summed over every attempt, except the prompt's fixed overhead, which is also estimated from
its length so that it can be judged before anything is sent.
"""

from __future__ import annotations

import json
import statistics
import tomllib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from summarizer.errors import ConfigError
from summarizer.extraction.guide import system_message
from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.records import Record, Usage, estimate_tokens
from summarizer.extraction.schema import ArticleExtraction
from summarizer.ingest.articles import Article

_MIN_POINTS_FOR_FIT = 3


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    batch: float = Field(default=0.5, ge=0, le=1)
    """The Batch API's price as a share of ``input`` and ``output`` (OpenAI's: half)."""
    cached_input: float | None = Field(default=None, ge=0)
    """Prompt tokens served from the provider's prompt cache; the input price when not given."""

    def dollars(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """What the tokens cost, the cached share of the prompt at the cached rate."""
        cached_rate = self.input if self.cached_input is None else self.cached_input
        fresh = prompt_tokens - cached_tokens
        return (fresh * self.input + cached_tokens * cached_rate + completion_tokens * self.output) / 1_000_000


class PriceTable:
    """Prices by model name; a name also prices the dated variants that start with it."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self.prices = prices

    @classmethod
    def load(cls, extra: Path | None = None) -> PriceTable:
        """The bundled table, with ``extra``'s entries added or replacing bundled ones."""
        prices = dict(_bundled())
        if extra is not None:
            try:
                text = extra.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{extra}: cannot read price table ({exc.strerror}); check prices_file") from None
            prices.update(_parse(text, str(extra)))
        return cls(prices)

    def price(self, model: str) -> Price | None:
        """The price of ``model``: an exact entry, else the longest entry it starts with."""
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(prefixes, key=len)] if prefixes else None


def _parse(text: str, where: str) -> dict[str, Price]:
    try:
        table = tomllib.loads(text).get("models", {})
        return {str(name): Price.model_validate(entry) for name, entry in table.items()}
    except (tomllib.TOMLDecodeError, ValidationError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(
            f'{where}: not a price table ({first}); write [models."NAME"] with input = and output = '
            "(and optionally cached_input =), in dollars per million tokens"
        ) from None


@cache
def _bundled() -> dict[str, Price]:
    text = resources.files("summarizer.extraction").joinpath("prices.toml").read_text(encoding="utf-8")
    return _parse(text, "bundled prices.toml")


class ModelCost(BaseModel):
    """Tokens and dollars for one model."""

    model_config = ConfigDict(frozen=True)

    model: str
    requests: int
    """Requests sent, retries and re-asks included."""
    prompt_tokens: int
    completion_tokens: int
    usd: float | None
    """None when the price table has no entry for the model."""
    cached_tokens: int = 0
    """Of the prompt tokens, those served from the provider's prompt cache."""


class CostReport(BaseModel):
    """The cost of a set of records (or of one run's requests), by model and in total."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    models: list[ModelCost]
    prompt_tokens: int
    completion_tokens: int
    usd: float | None
    """None when a model used has no price; the tokens are still counted."""
    cached_tokens: int = 0
    """Of the prompt tokens, those served from the provider's prompt cache (billed at the cached rate)."""
    unmetered: int = 0
    """Records with no ``usage`` (authored, or from an endpoint that reports none): not counted."""
    fixed_prompt_tokens_estimate: int | None = None
    """The prompt's share sent with every article (system prompt, user template, schema as the mode sends it),
    estimated from its length at four characters a token."""
    fixed_prompt_tokens_measured: float | None = None
    """The same overhead as the endpoint counted it: the intercept of prompt tokens against article length
    over single-attempt answers, when there are enough of them."""

    @property
    def requests(self) -> int:
        """Requests counted, over every model."""
        return sum(m.requests for m in self.models)

    def plus(self, other: CostReport) -> CostReport:
        """This report with ``other``'s requests added (by model); the fixed overhead stays this one's."""
        rows: dict[str, ModelCost] = {m.model: m for m in self.models}
        for m in other.models:
            mine = rows.get(m.model)
            if mine is None:
                rows[m.model] = m
                continue
            usd = None if mine.usd is None or m.usd is None else mine.usd + m.usd
            rows[m.model] = ModelCost(
                model=m.model,
                requests=mine.requests + m.requests,
                prompt_tokens=mine.prompt_tokens + m.prompt_tokens,
                completion_tokens=mine.completion_tokens + m.completion_tokens,
                usd=usd,
            )
        usd = None if self.usd is None or other.usd is None else round(self.usd + other.usd, 6)
        return self.model_copy(
            update={
                "models": sorted(rows.values(), key=lambda m: m.model),
                "prompt_tokens": self.prompt_tokens + other.prompt_tokens,
                "completion_tokens": self.completion_tokens + other.completion_tokens,
                "usd": usd,
                "unmetered": self.unmetered + other.unmetered,
            }
        )

    def describe(self) -> str:
        """One line for people: tokens, requests, dollars, and the fixed overhead when known."""
        dollars = "price unknown (add the model to the price table)" if self.usd is None else f"${self.usd:,.4f}"
        models = ", ".join(m.model for m in self.models) or "no model"
        cached = ""
        if self.cached_tokens:
            cached = f" ({self.cached_tokens:,} cached, {self.cached_tokens / self.prompt_tokens:.0%})"
        text = (
            f"{self.prompt_tokens:,} prompt{cached} + {self.completion_tokens:,} completion tokens "
            f"in {self.requests:,} request(s) to {models}: {dollars}"
        )
        if self.unmetered:
            text += f"; {self.unmetered} record(s) carry no token counts"
        if self.fixed_prompt_tokens_estimate is not None:
            text += f"; fixed prompt overhead ≈ {self.fixed_prompt_tokens_estimate:,} tokens a request"
            if self.fixed_prompt_tokens_measured is not None:
                text += f" ({self.fixed_prompt_tokens_measured:,.0f} measured)"
        return text


BATCH_SUFFIX = " (Batch API)"
"""How the cost report names a model's requests answered through the Batch API."""


def price_usage(
    entries: Iterable[tuple[str, Usage | None, int] | tuple[str, Usage | None, int, bool]],
    prices: PriceTable,
) -> CostReport:
    """Sum ``(model, usage, requests)`` entries by model and price them; an entry with a fourth item, True, was
    answered through the Batch API and is priced (and listed) apart, at the batch rate."""
    totals: dict[tuple[str, bool], list[int]] = {}
    unmetered = 0
    for model, usage, requests, *batch in entries:
        if usage is None:
            unmetered += 1
            continue
        row = totals.setdefault((model, bool(batch and batch[0])), [0, 0, 0, 0])
        row[0] += requests
        row[1] += usage.prompt_tokens
        row[2] += usage.completion_tokens
        row[3] += usage.cached_tokens
    models = []
    for (model, batched), (requests, prompt, completion, cached) in sorted(totals.items()):
        price = prices.price(model)
        usd = None if price is None else price.dollars(prompt, completion, cached)
        if usd is not None and price is not None and batched:
            usd *= price.batch
        models.append(
            ModelCost(
                model=model + BATCH_SUFFIX if batched else model,
                requests=requests,
                prompt_tokens=prompt,
                completion_tokens=completion,
                usd=usd,
                cached_tokens=cached,
            )
        )
    known = [m.usd for m in models]
    return CostReport(
        models=models,
        prompt_tokens=sum(m.prompt_tokens for m in models),
        completion_tokens=sum(m.completion_tokens for m in models),
        cached_tokens=sum(m.cached_tokens for m in models),
        usd=None if any(u is None for u in known) else round(sum(u for u in known if u is not None), 6),
        unmetered=unmetered,
    )


# instructor's own sentences around the schema it writes into the system message in JSON modes (md_json adds a
# user message asking for a Markdown block), in tokens.
_SCHEMA_PREAMBLE_TOKENS = {"json": 65, "md_json": 85}


def fixed_prompt_estimate(prompts: PromptSet, mode: str = "tools") -> int:
    """Tokens every request carries in ``mode`` whatever the article, by ``estimate_tokens``: the system
    message, the user template around the article, and the schema as the mode sends it. ``tools``: the tool's
    schema, compact, which servers render into the prompt; ``json`` and ``md_json``: the schema indented in the
    system message; ``json_schema``: the field guide, but not the schema, which local servers use only as a
    grammar (OpenAI bills it as prompt too, so there the estimate is low)."""
    template = prompts.render_user(title="", text="", published=None, outlet=None)
    schema = ArticleExtraction.model_json_schema()
    if mode == "tools":
        sent = estimate_tokens(json.dumps(schema, separators=(",", ":")))
    elif mode in _SCHEMA_PREAMBLE_TOKENS:
        sent = estimate_tokens(json.dumps(schema, indent=2, ensure_ascii=False)) + _SCHEMA_PREAMBLE_TOKENS[mode]
    else:
        sent = 0
    return estimate_tokens(system_message(prompts, mode)) + estimate_tokens(template) + sent


def fitted_overhead(points: Sequence[tuple[int, int]]) -> float | None:
    """The intercept of a least-squares line through ``(article characters, prompt tokens)``: the tokens a
    request costs before any article text. None with fewer than three points or no spread in length."""
    if len(points) < _MIN_POINTS_FOR_FIT or len({x for x, _ in points}) < 2:
        return None
    fit = statistics.linear_regression([x for x, _ in points], [y for _, y in points])
    return round(fit.intercept, 1)


def records_cost(
    pairs: Sequence[tuple[Article, Record]], prices: PriceTable, prompts: PromptSet, mode: str = "tools"
) -> CostReport:
    """What producing these records cost when they were fetched (cached or not now), with the prompt's fixed
    overhead in ``mode`` estimated and, where the answers allow, measured."""
    report = price_usage(
        ((r.request.model, r.response.usage, r.response.attempts, r.origin == "batch") for _, r in pairs), prices
    )
    points = [
        (len(a.text), r.response.usage.prompt_tokens)
        for a, r in pairs
        if r.response.usage is not None and r.response.attempts == 1
    ]
    return report.model_copy(
        update={
            "fixed_prompt_tokens_estimate": fixed_prompt_estimate(prompts, mode),
            "fixed_prompt_tokens_measured": fitted_overhead(points),
        }
    )
