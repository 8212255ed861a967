"""Throughput under a provider's tokens-per-minute limit, against a plain ``asyncio.gather`` over instructor.

    .venv/bin/python benchmarks/limits.py            # about five minutes
    .venv/bin/python benchmarks/limits.py --quick    # fewer articles, about two minutes

The endpoint is the loopback server enforcing ``--tpm`` as OpenAI does (a bucket of one minute's tokens, refilled
evenly; 429 with ``Retry-After`` and the ``x-ratelimit-*`` headers), answering after a latency drawn from a
seeded lognormal distribution (median ``--latency`` seconds, ``--spread`` the sigma of its logarithm: a long
tail of slow answers). Each side gets a fresh server (a full bucket) with the same seed, and the same articles
(variants of the examples, so that ids differ) at the same ``--concurrency``:

- the pipeline, with no limit of its own set: it paces itself from the server's headers;
- the peer: ``asyncio.gather`` over ``instructor.from_openai(AsyncOpenAI())`` under a semaphore, openai's own
  retries (two, honouring ``Retry-After``) and nothing else.

The TPM-bound ideal is the time the tokens answered take to come out of the bucket: a full minute's worth at
once, the rest at the refill rate, plus one median latency for the last answer. Throughput is that ideal over
the time taken (1.0 = as fast as the limit allows). The 429 share counts every refused request against every
request the server received.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.config import Settings  # noqa: E402
from summarizer.extraction.pipeline import Pipeline  # noqa: E402
from summarizer.ingest.articles import Article  # noqa: E402
from summarizer.replay.latency import Latency  # noqa: E402
from summarizer.replay.quota import Limits  # noqa: E402
from summarizer.replay.server import LoopbackServer  # noqa: E402
from summarizer.replay.synthetic import example_variants  # noqa: E402

ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = ROOT / "fixtures" / "recordings"
KEY = "benchmark-key"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One side's run, as the server saw it."""

    seconds: float
    done: int
    requests: int
    refused: int
    tokens: int
    """Tokens of the requests the server admitted."""

    def ideal(self, limits: Limits, latency: float) -> float:
        """Seconds the admitted tokens take to come out of a full bucket, plus the last answer's latency."""
        assert limits.tpm is not None
        rate = limits.tpm / limits.period
        return max(0, self.tokens - limits.tpm) / rate + latency


def _outcome(server: LoopbackServer, seconds: float, done: int) -> Outcome:
    stats = server.stats.summary()
    assert server.quota is not None
    return Outcome(seconds, done, stats["requests"], stats["rate_limited"], server.quota.admitted_tokens)


def ours(articles: list[Article], server: LoopbackServer, concurrency: int, cache: Path) -> Outcome:
    """The pipeline, pacing itself from the server's headers (no --rpm or --tpm of its own)."""
    settings = Settings(base_url=server.url, api_key=KEY, cache_dir=cache, concurrency=concurrency)
    start = time.perf_counter()
    with Pipeline(settings) as pipeline:
        results = pipeline.run(articles)
    return _outcome(server, time.perf_counter() - start, sum(1 for r in results if r.record is not None))


def peer(articles: list[Article], server: LoopbackServer, concurrency: int) -> Outcome:
    """What a user writes first for a bulk run: instructor calls gathered under a semaphore."""
    import instructor
    import openai

    from summarizer.extraction.prompts import load_prompts
    from summarizer.extraction.schema import ArticleExtraction

    prompts = load_prompts()

    async def run() -> int:
        client = instructor.from_openai(openai.AsyncOpenAI(base_url=server.url, api_key=KEY))
        gate = asyncio.Semaphore(concurrency)

        async def one(article: Article) -> bool:
            user = prompts.render_user(title=article.title, text=article.text,
                                       published=article.published.isoformat() if article.published else None,
                                       outlet=article.outlet)  # fmt: skip
            async with gate:
                try:
                    await client.chat.completions.create(
                        model="gpt-4o-mini",
                        response_model=ArticleExtraction,
                        messages=[{"role": "system", "content": prompts.system}, {"role": "user", "content": user}],
                    )
                except Exception:  # what the peer would log and move on from: a 429 after its retries
                    return False
                return True

        return sum(await asyncio.gather(*(one(a) for a in articles)))

    start = time.perf_counter()
    done = asyncio.run(run())
    return _outcome(server, time.perf_counter() - start, done)


def _rows(name: str, outcome: Outcome, limits: Limits, latency: float, n: int) -> list[tuple[str, str]]:
    ideal = outcome.ideal(limits, latency)
    share = outcome.refused / outcome.requests if outcome.requests else 0.0
    return [
        (f"{name}: time", f"{outcome.seconds:.1f} s"),
        (f"{name}: articles extracted", f"{outcome.done}/{n}"),
        (f"{name}: tokens answered", f"{outcome.tokens:,}"),
        (f"{name}: TPM-bound ideal for those tokens", f"{ideal:.1f} s"),
        (f"{name}: throughput, ideal / time (target >= 0.90)", f"{ideal / outcome.seconds:.3f}"),
        (f"{name}: requests answered 429 (target <= 2%)", f"{outcome.refused}/{outcome.requests} ({share:.1%})"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, help="Articles each side extracts (default 36; 20 with --quick).")
    parser.add_argument("--tpm", type=int, help="Tokens per minute the server allows (default 60,000).")
    parser.add_argument("--latency", type=float, default=3.0, help="Median seconds to answer.")
    parser.add_argument("--spread", type=float, default=0.5, help="Sigma of the latency's logarithm (its tail).")
    parser.add_argument("--seed", type=int, default=20, help="Seed of the latency draws.")
    parser.add_argument("--concurrency", type=int, default=8, help="Requests in flight, both sides.")
    parser.add_argument("--quick", action="store_true", help="Fewer articles.")
    parser.add_argument("--no-peer", action="store_true", help="Skip the peer.")
    args = parser.parse_args()
    # The peer's libraries log each failed attempt; this script prints figures, not their warnings.
    logging.getLogger().addHandler(logging.NullHandler())
    n = args.articles or (20 if args.quick else 36)
    limits = Limits(tpm=args.tpm or 60_000)
    articles, served = example_variants(n, ARTICLES, RECORDINGS)
    rows: list[tuple[str, str]] = [
        ("setting", f"{n} articles, {limits.tpm:,} TPM, latency lognormal median {args.latency:g} s spread "
                    f"{args.spread:g} (seed {args.seed}), concurrency {args.concurrency}"),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="summarizer-limits-") as tmp:
        latency = Latency(args.latency, args.spread, seed=args.seed)
        with LoopbackServer(served, limits=limits, latency=latency) as server:
            mine = ours(articles, server, args.concurrency, Path(tmp) / "cache")
        rows += _rows("pipeline", mine, limits, args.latency, n)
    if not args.no_peer:
        latency = Latency(args.latency, args.spread, seed=args.seed)
        with LoopbackServer(served, limits=limits, latency=latency) as server:
            theirs = peer(articles, server, args.concurrency)
        rows += _rows("peer (asyncio.gather over instructor)", theirs, limits, args.latency, n)
        rows.append(("articles the peer left out (still 429 after openai's retries)", str(n - theirs.done)))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
