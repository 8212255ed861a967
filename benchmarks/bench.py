"""Speed benchmark of the extraction and the briefing, against the loopback endpoint answering after a real
model's delay.

    .venv/bin/python benchmarks/bench.py                  # the full run (about three minutes)
    .venv/bin/python benchmarks/bench.py --quick          # fewer articles and records (about a minute)

The endpoint is ``summarizer serve`` with ``--latency`` seconds from each request's arrival to its answer
(default 2.0: a hosted model takes seconds to write a record of this size), in a process of its own, as a
real endpoint would be, so its work does not compete with the client for the GIL. The phases:

- machine gauge: a fixed standard-library workload, timed at the start and at the end, so that a slow spell
  of the machine shows as such when runs are compared.
- start-up: importing openai and instructor, which a run pays once, before its first request.
- cold run: ``--articles`` generated articles (the examples with a line added, so ids and cache keys differ)
  through the pipeline at ``--concurrency`` requests in flight (default 8, the setting's default), into an
  empty cache; compared with the ideal ceil(N/C) x latency.
- warm re-run: the same articles from the filled cache, alone and with merge + render (the whole briefing),
  in a fresh interpreter as a user's re-run is; no request may reach the endpoint.
- sequential loop: what a user writes first, one instructor call after another, on the first
  ``--sequential-sample`` articles; its time per article times N is the peer of the cold run.
- merge + render (Markdown and JSON, the bytes ``summarizer brief`` writes) of ``--scales`` records, as a
  run from the cache gives them, in a fresh interpreter, and how the time grows with the record count.

Every figure is measured in the same run, so ratios compare like with like on a noisy machine. Each timed
phase starts after a garbage collection, so that none pays for collecting what an earlier phase left (a
user's warm run is a fresh process, with no cold run's garbage to collect). The warm re-run and merge + render
are timed ``--repeat`` times (merge + render in rounds, see ``merge_timings``) and the best time is the figure,
as ``timeit`` advises: on a shared machine the slower runs measure the neighbours. Every time is printed beside
it. The cold run waits on the endpoint, not on the machine, so it runs ``--cold-repeat`` times (default once);
the sequential loop runs once.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.briefing.merge import merge_records  # noqa: E402
from summarizer.briefing.render import render_bytes  # noqa: E402
from summarizer.config import Settings  # noqa: E402
from summarizer.extraction.cache import entry_bytes, entry_record  # noqa: E402
from summarizer.extraction.pipeline import Pipeline  # noqa: E402
from summarizer.extraction.records import Record  # noqa: E402
from summarizer.ingest.articles import Article  # noqa: E402
from summarizer.replay.synthetic import example_variants, write_variants  # noqa: E402

ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = ROOT / "fixtures" / "recordings"
KEY = "benchmark-key"
GENERATED = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def endpoint(recordings_dir: Path, latency: float) -> Iterator[str]:
    """`summarizer serve` in a child process; yields its base URL."""
    command = [sys.executable, "-m", "summarizer", "serve", "--recordings", str(recordings_dir), "--port", "0",
               "--latency", str(latency)]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        url = banner.split(" at ", 1)[1].split()[0]
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def requests_seen(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stats", timeout=10) as response:  # noqa: S310 (our own http URL)
        return int(json.load(response)["requests"])


def pipeline_run(settings: Settings, articles: list[Article]) -> tuple[float, int]:
    """Wall seconds of a pipeline run, and how many articles came back with a record."""
    gc.collect()
    start = time.perf_counter()
    with Pipeline(settings) as pipeline:
        results = pipeline.run(articles)
    return time.perf_counter() - start, sum(1 for r in results if r.record is not None)


def warm_briefing(settings: Settings, articles: list[Article]) -> float:
    """Wall seconds of what a user's warm re-run does end to end: the run from the cache, merge, render."""
    gc.collect()
    start = time.perf_counter()
    with Pipeline(settings) as pipeline:
        results = pipeline.run(articles)
    _brief_and_render([(r.article, r.record) for r in results if r.record is not None])
    return time.perf_counter() - start


def sequential_loop(url: str, articles: list[Article]) -> float:
    """What a user writes first: one instructor call after another."""
    import instructor
    import openai

    from summarizer.extraction.prompts import load_prompts
    from summarizer.extraction.schema import ArticleExtraction

    prompts = load_prompts()
    client = instructor.from_openai(openai.OpenAI(base_url=url, api_key=KEY))
    gc.collect()
    start = time.perf_counter()
    for article in articles:
        user = prompts.render_user(title=article.title, text=article.text,
                                   published=article.published.isoformat() if article.published else None,
                                   outlet=article.outlet)  # fmt: skip
        client.chat.completions.create(
            model="gpt-4o-mini",
            response_model=ArticleExtraction,
            messages=[{"role": "system", "content": prompts.system}, {"role": "user", "content": user}],
        )
    return time.perf_counter() - start


def _brief_and_render(pairs: list[tuple[Article, Record]]) -> None:
    # What `summarizer brief` does after its run, up to the file: the bytes it writes, each format in turn.
    briefing = merge_records(pairs, generated=GENERATED)
    render_bytes(briefing, "md")
    render_bytes(briefing, "json")


def merge_and_render(pairs: list[tuple[Article, Record]]) -> float:
    gc.collect()
    start = time.perf_counter()
    _brief_and_render(pairs)
    return time.perf_counter() - start


def as_cached(record: Record) -> Record:
    """``record`` as a run from the cache hands it to the briefing: its stored bytes, its output not yet
    decoded (what ``ResponseCache.put`` stores and ``get`` reads, without the disk)."""
    return entry_record(entry_bytes(record), record.key)


def cached_pairs(size: int) -> list[tuple[Article, Record]]:
    """``size`` variants of the examples with their records, as a run from the cache hands them to the briefing."""
    variants, by_id = example_variants(size, ARTICLES, RECORDINGS)
    return [(a, as_cached(by_id[a.id])) for a in variants]


def merge_worker(size: int) -> None:
    """Hold ``size`` records, as ``summarizer brief`` does, and time merge + render of them as many times as each
    line of standard input asks, printing each batch's seconds as a JSON line."""
    pairs = cached_pairs(size)
    # Untimed: the first briefing in a process pays one-off costs (imports, dateparser's tables), not per record.
    merge_and_render(pairs[:500])
    print("ready", flush=True)
    for line in sys.stdin:
        print(json.dumps([merge_and_render(pairs) for _ in range(int(line))]), flush=True)


def merge_timings(scales: list[int], repeat: int) -> dict[int, list[list[float]]]:
    """Seconds of each merge + render, by record count and round, in ``repeat`` rounds. In each round a scale
    is timed as many times as it takes to cover the next scale's records (5,000 four times, for one 20,000),
    so that growth compares per-record costs measured over like volumes and durations: a single short run
    can fall in a quick moment of the machine that a long one cannot. The scales take turns within a round,
    so that a slow spell falls on every scale alike.

    Each scale is timed in a process of its own that holds only its records, as a user's briefing does: how
    often Python collects garbage, and how long each collection takes, depends on everything alive. Timed
    beside the largest scale's records, a smaller scale skipped the full collections its own briefing pays
    (5,000 records took 2.1 s instead of 2.7 s beside 50,000), which also made growth look steeper."""
    scales = sorted(scales)
    times = {size: max(1, bigger // size) for size, bigger in itertools.pairwise(scales)} | {scales[-1]: 1}
    timings: dict[int, list[list[float]]] = {size: [] for size in scales}
    command = [sys.executable, __file__, "--merge-worker"]
    workers = {
        size: subprocess.Popen([*command, str(size)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for size in scales
    }
    try:
        for worker in workers.values():
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError("a merge worker stopped before its first timing")
        for _ in range(repeat):
            for size, worker in workers.items():
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write(f"{times[size]}\n")
                worker.stdin.flush()
                timings[size].append(json.loads(worker.stdout.readline()))
    finally:
        for worker in workers.values():
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    return timings


def growth_by_round(small: list[list[float]], large: list[list[float]]) -> list[float]:
    """Each round's mean time of the larger scale over its mean time of the smaller."""
    return [statistics.fmean(big) / statistics.fmean(little) for little, big in zip(small, large, strict=True)]


def machine_gauge(repeat: int) -> list[float]:
    """Seconds of a fixed workload that uses nothing of this package (the standard library's JSON on the
    recordings, and a walk over what it decodes), each of ``repeat`` times. This machine's speed drifts by a
    third or more within an hour; timed at the start and at the end of a run, the gauge tells a slow spell from
    a slower program when runs are compared."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(RECORDINGS.glob("*.json"))]

    def walk(value: object) -> int:
        if isinstance(value, dict):
            return sum(walk(v) for v in value.values()) + len(value)
        if isinstance(value, list):
            return sum(walk(v) for v in value) + len(value)
        return len(value) if isinstance(value, str) else 1

    def once() -> float:
        gc.collect()
        start = time.perf_counter()
        for _ in range(100):
            for text in texts:
                value = json.loads(text)
                walk(value)
                json.dumps(value, indent=2, ensure_ascii=False)
        return time.perf_counter() - start

    return [once() for _ in range(repeat)]


def stolen() -> float:
    """Seconds of CPU the hypervisor has given to other guests since boot, summed over cores (``steal`` in
    /proc/stat); NaN where there is no such count. On a shared virtual machine this is the time a timed phase
    lost to neighbours: the figures beside it are slower by up to that much."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


def _times(values: list[float], unit: float = 1.0, suffix: str = "s", digits: int = 2) -> str:
    best = min(values)
    shown = f"{best * unit:.{digits}f} {suffix}"
    if len(values) > 1:
        shown += f"  (best of {', '.join(f'{v * unit:.{digits}f}' for v in values)})"
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # A day's coverage of a story at the settings' default concurrency: 10 rounds of requests, so that the
    # cold run is mostly steady state, while the cold run and the sequential sample take under a minute.
    parser.add_argument("--articles", type=int, help="Articles extracted (default 80; 32 with --quick).")
    parser.add_argument("--latency", type=float, default=2.0, help="Seconds the endpoint takes to answer.")
    parser.add_argument("--concurrency", type=int, default=8, help="Requests in flight on the cold run.")
    parser.add_argument(
        "--sequential-sample", type=int, help="Articles the sequential loop sends (default 12; 8 with --quick)."
    )
    # At 50,000 records (--scales 500,5000,50000) a merge takes 30 s and 3 GiB, and the phase four minutes.
    parser.add_argument("--scales", help="Record counts for merge + render (default 500,5000,20000; 500,5000 quick).")
    parser.add_argument("--repeat", type=int, default=3, help="Timings of each short phase; the best is reported.")
    # Three cold runs at 2 s latency took 20.48, 20.27 and 20.27 s: the spread is the endpoint's, not the
    # machine's, so repeating them costs a minute and tells nothing; each repeat starts from an empty cache.
    parser.add_argument("--cold-repeat", type=int, default=1, help="Cold runs; the best is reported.")
    parser.add_argument("--quick", action="store_true", help="Fewer articles, a smaller sample, scales 500,5000.")
    parser.add_argument("--no-sequential", action="store_true", help="Skip the sequential loop.")
    parser.add_argument("--merge-only", action="store_true", help="Only time merge + render; print JSON.")
    parser.add_argument("--merge-worker", type=int, metavar="RECORDS", help=argparse.SUPPRESS)
    parser.add_argument("--warm-only", type=Path, metavar="CACHE_DIR", help="Only time warm runs; print JSON.")
    parser.add_argument("--base-url", help="With --warm-only: the endpoint the cache was filled from.")
    args = parser.parse_args()
    quick = bool(args.quick)
    n = args.articles or (32 if quick else 80)
    sample = min(n, args.sequential_sample or (8 if quick else 12))
    args.scales = args.scales or ("500,5000" if quick else "500,5000,20000")
    if args.warm_only:
        settings = Settings(base_url=args.base_url, api_key=KEY, cache_dir=args.warm_only, concurrency=args.concurrency)
        articles = example_variants(n, ARTICLES, RECORDINGS)[0]
        runs = [pipeline_run(settings, articles)[0] for _ in range(max(1, args.repeat))]
        briefings = [warm_briefing(settings, articles) for _ in range(max(1, args.repeat))]
        print(json.dumps({"runs": runs, "briefings": briefings}))
        return
    if args.merge_worker:
        merge_worker(args.merge_worker)
        return
    if args.merge_only:
        print(json.dumps(merge_timings([int(s) for s in args.scales.split(",")], max(1, args.repeat))))
        return
    latency, concurrency, repeat = args.latency, args.concurrency, max(1, args.repeat)
    rows: list[tuple[str, str]] = [("machine gauge at the start (a fixed stdlib workload; lower is faster)",
                                    _times(machine_gauge(repeat), 1000, "ms", 0))]  # fmt: skip

    started = time.perf_counter()
    import openai

    import summarizer.extraction.client  # noqa: F401  (openai and instructor: a one-off start-up cost, reported apart)

    openai.OpenAI(api_key=KEY).chat  # noqa: B018  (openai loads its resource classes on first use)

    rows.append(
        ("start-up: importing openai + instructor (once per process)", f"{time.perf_counter() - started:.2f} s")
    )
    articles, served = example_variants(n, ARTICLES, RECORDINGS)
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-") as tmp:
        _, recordings_dir = write_variants(articles, served, Path(tmp))
        with endpoint(recordings_dir, latency) as url:
            colds: list[float] = []
            steals: list[float] = []
            for attempt in range(max(1, args.cold_repeat)):
                cache_dir = Path(tmp) / f"cache-{attempt}"  # empty each time: every article is a miss
                settings = Settings(base_url=url, api_key=KEY, cache_dir=cache_dir, concurrency=concurrency)
                before_run = stolen()
                cold, done = pipeline_run(settings, articles)
                colds.append(cold)
                steals.append(stolen() - before_run)
            cold = min(colds)
            ideal = math.ceil(n / concurrency) * latency
            rows += [
                (f"cold run: {n} articles, latency {latency:g} s, concurrency {concurrency}", _times(colds)),
                ("ideal ceil(N/C) x L", f"{ideal:.2f} s"),
                ("cold / ideal", f"{cold / ideal:.3f}"),
                ("CPU taken by the host (steal) during the cold run", ", ".join(f"{t:.2f} s" for t in steals)),
                ("articles extracted", f"{done}/{n}"),
            ]
            before = requests_seen(url)
            # A user's warm re-run is a fresh process: so is this one (see the merge below).
            child = [sys.executable, __file__, "--warm-only", str(settings.cache_dir), "--base-url", url,
                     "--articles", str(n), "--concurrency", str(concurrency), "--repeat", str(repeat)]  # fmt: skip
            timed = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)  # noqa: S603
            warms, briefings = timed["runs"], timed["briefings"]
            warm = min(warms)
            rows += [
                ("warm re-run from the cache", _times(warms, 1000, "ms", 1)),
                ("warm speed-up over cold", f"{cold / warm:.0f}x"),
                ("requests reaching the endpoint on the warm runs (must be 0)", str(requests_seen(url) - before)),
                ("warm re-run + merge + render (md, json): the whole briefing", _times(briefings, 1000, "ms", 1)),
            ]
            if not args.no_sequential:
                before_loop = stolen()
                # The loop's time is N times one article's: a sample gives it without N x L of waiting.
                looped = sequential_loop(url, articles[:sample])
                sequential = looped / sample * n
                rows += [
                    ("CPU taken by the host (steal) during the sequential loop", f"{stolen() - before_loop:.2f} s"),
                    (
                        f"plain sequential instructor loop, first {sample} articles",
                        f"{looped:.2f} s  ({looped / sample:.2f} s an article)",
                    ),
                    (f"sequential loop for all {n} articles (estimated from the sample)", f"{sequential:.2f} s"),
                    ("speed-up over the sequential loop", f"{sequential / cold:.1f}x"),
                ]

    scales = sorted(int(s) for s in args.scales.split(","))
    # In a fresh interpreter, as `summarizer brief` runs: this process's allocator is left fragmented by the
    # runs above, and merge then took up to 1.8 times as long (pyperf isolates each benchmark the same way).
    child = [sys.executable, __file__, "--merge-only", "--scales", args.scales, "--repeat", str(repeat)]
    before_merge = stolen()
    merged = subprocess.run(child, capture_output=True, text=True, check=True)  # noqa: S603
    rows.append(("CPU taken by the host (steal) during merge + render", f"{stolen() - before_merge:.2f} s"))
    rounds_by_size: dict[str, list[list[float]]] = json.loads(merged.stdout)
    for size in scales:
        runs = [t for round_ in rounds_by_size[str(size)] for t in round_]
        shown = (
            _times(runs)
            if len(runs) <= repeat
            else f"{min(runs):.2f} s  (best of {len(runs)}; median {statistics.median(runs):.2f})"
        )
        rows.append((f"merge + render (md, json) of {size:,} records", shown))
    for small, large in itertools.pairwise(scales):
        rounds = growth_by_round(rounds_by_size[str(small)], rounds_by_size[str(large)])
        nlogn = (large * math.log(large)) / (small * math.log(small))
        rows.append(
            (
                f"growth {small:,} -> {large:,}, like volumes, median of rounds (n log n allows {nlogn:.1f}x)",
                f"{statistics.median(rounds):.1f}x  (rounds: {', '.join(f'{g:.1f}' for g in rounds)})",
            )
        )
    rows.append(("machine gauge at the end", _times(machine_gauge(repeat), 1000, "ms", 0)))
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    rows.append(("peak memory (max RSS of any one process)", f"{peak / 1024:.0f} MiB"))

    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
