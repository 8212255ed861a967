"""``summarizer serve``: the replay server as a command, for tests, replays and benchmarks."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Literal

import typer

from summarizer.app.console import say


def serve(
    recordings: Annotated[Path, typer.Option("--recordings", help="Folder of recording files.", file_okay=False)],
    host: Annotated[str, typer.Option("--host", help="Address to bind; keep it on loopback.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 8000,
    latency: Annotated[
        float, typer.Option("--latency", min=0.0, help="Seconds from a request's arrival to its answer (the median).")
    ] = 0.0,
    latency_spread: Annotated[
        float,
        typer.Option(
            "--latency-spread",
            min=0.0,
            help="Draw each latency from a lognormal distribution around --latency, with this sigma of its "
            "logarithm (0.5: one answer in twenty over 2.3 times the median); 0 keeps it fixed.",
        ),
    ] = 0.0,
    latency_seed: Annotated[int | None, typer.Option("--latency-seed", help="Seed for the latency draws.")] = None,
    rpm: Annotated[
        int | None, typer.Option("--rpm", min=1, help="Enforce this many requests per minute, as OpenAI does (429).")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option("--tpm", min=1, help="Enforce this many tokens per minute, as OpenAI does (429).")
    ] = None,
    batch_outcome: Annotated[
        Literal["completed", "expired", "in_progress"],
        typer.Option(
            "--batch-outcome",
            help="How Batch API jobs end: completed; expired (half done); or in_progress until cancelled.",
        ),
    ] = "completed",
    batch_failed: Annotated[
        int, typer.Option("--batch-failed-lines", min=0, help="The first N lines of each batch fail (500).")
    ] = 0,
    batch_invalid: Annotated[
        int, typer.Option("--batch-invalid-lines", min=0, help="The next N lines' answers fail the schema.")
    ] = 0,
    batch_processing: Annotated[
        float, typer.Option("--batch-processing", min=0.0, help="Seconds a batch stays in_progress.")
    ] = 0.0,
    fail_first: Annotated[int, typer.Option("--fail-first", help="Answer the first N requests with 503.")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            metavar="KIND=RATE",
            help="Inject a fault into this share of requests (repeatable): 429, 500, 503, drop, timeout, slow, "
            "malformed, invalid, length, refusal, loop, garbage. Example: --fault 429=0.05 --fault drop=0.03",
        ),
    ] = None,
    fault_rate: Annotated[
        float | None,
        typer.Option("--fault-rate", help="Share of requests given a fault, spread evenly over --fault-kinds."),
    ] = None,
    fault_kinds: Annotated[
        str | None,
        typer.Option("--fault-kinds", metavar="A,B,…", help="Kinds --fault-rate spreads over (default: all)."),
    ] = None,
    fault_schedule: Annotated[
        str | None,
        typer.Option(
            "--fault-schedule",
            metavar="A,B,…",
            help="Outcomes of the first requests in order, `ok` for a normal answer (e.g. 503,ok,429,drop); "
            "the rates apply after.",
        ),
    ] = None,
    fault_seed: Annotated[int | None, typer.Option("--fault-seed", help="Seed for reproducible draws.")] = None,
    retry_after: Annotated[
        float | None, typer.Option("--retry-after", help="Retry-After seconds sent with 429 and 503 (default 1).")
    ] = None,
    hang: Annotated[
        float | None,
        typer.Option("--hang", help="Seconds a `timeout` fault holds the request before closing (default 150)."),
    ] = None,
    slow_delay: Annotated[
        float | None,
        typer.Option(
            "--slow-delay",
            help="Seconds a `slow` fault delays the answer, the connection open as while generating (default 5).",
        ),
    ] = None,
    tool_choice: Annotated[
        Literal["accept", "refuse", "ignore"],
        typer.Option(
            "--tool-choice",
            help="What to do with a tool_choice object naming the tool: accept it, refuse the request (400), or "
            'ignore it and answer in words, as llama.cpp does ("required" is always honoured).',
        ),
    ] = "accept",
    drop_tools: Annotated[
        bool,
        typer.Option(
            "--drop-tools",
            help="Leave the tools out of the prompt, as for a chat template without tool support: answers in words.",
        ),
    ] = False,
    context: Annotated[
        int,
        typer.Option("--context", min=1, help="Context size in tokens, where a `loop` fault ends without max_tokens."),
    ] = 8192,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log each request line and handler errors.")] = False,
) -> None:
    """Answer OpenAI chat completions (and Batch API jobs) from recordings, for tests, replays and benchmarks;
    optionally with injected faults, to exercise a client's retries, a provider's rate limits, and a local
    server's quirks."""
    from summarizer.extraction.records import read_recordings
    from summarizer.replay.batches import BatchFaults
    from summarizer.replay.faults import FaultPlan, Quirks
    from summarizer.replay.latency import Latency
    from summarizer.replay.quota import Limits
    from summarizer.replay.server import LoopbackServer

    options = (fault, fault_rate, fault_kinds, fault_schedule, fault_seed, retry_after, hang, slow_delay)
    plan = (
        FaultPlan.from_options(
            faults=fault or [],
            rate=fault_rate,
            kinds=fault_kinds,
            schedule=fault_schedule,
            seed=fault_seed,
            retry_after=retry_after,
            hang=hang,
            slow_delay=slow_delay,
        )
        if any(option is not None for option in options)
        else None
    )
    server = LoopbackServer(
        read_recordings(recordings, task=None),  # the stories' top lines too
        host=host,
        port=port,
        latency=Latency(latency, latency_spread, seed=latency_seed),
        limits=Limits(rpm=rpm, tpm=tpm),
        batches=BatchFaults(batch_outcome, batch_failed, batch_invalid, batch_processing),
        fail_first=fail_first,
        faults=plan,
        quirks=Quirks(tool_choice=tool_choice, drop_tools=drop_tools, context=context),
        verbose=verbose,
    )
    say(f"serving {len(server.recordings)} recording(s) at {server.url} (Ctrl-C stops)")
    say(server.faults.describe())
    if server.quirks != Quirks():
        say(server.quirks.describe())
    for line in (server.latency.describe(), server.limits.describe(), server.desk.faults.describe()):
        say(line)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # A benchmark script stops a background server with SIGTERM (background jobs ignore SIGINT); it wants the
    # counts as much as someone pressing Ctrl-C does.
    signal.signal(signal.SIGTERM, terminate)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        say(server.stats.describe())
