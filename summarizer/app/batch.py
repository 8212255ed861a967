"""``summarizer batch``: bulk runs through the OpenAI Batch API (half the price, a quota of its own), answered
within 24 hours: ``submit`` the articles, follow them with ``status``, ``collect`` the answers into the cache,
then ``brief`` as usual, from the cache."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from summarizer.app.console import handle_errors, say, watching
from summarizer.app.options import PathsArg, RunOptions, run_options
from summarizer.errors import ExitCode, UserError

if TYPE_CHECKING:
    from summarizer.config import Settings
    from summarizer.extraction.batch.jobs import BatchState
    from summarizer.extraction.batch.service import BatchRunner, Collected

batch_app = typer.Typer(
    help="Bulk runs through the OpenAI Batch API: submit, status, collect (then brief from the cache).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

BatchOpt = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="Send the articles not yet cached through the Batch API (half the price, answered within 24 h), wait "
        "for them with a progress bar, collect them, then brief.",
    ),
]
POLL = 30.0
"""Seconds between two looks at a running batch while ``brief --batch`` waits."""

BatchIdArg = Annotated[
    str | None, typer.Argument(help="A batch id (default: every batch submitted with this cache).", metavar="ID")
]


def _runner(options: RunOptions) -> BatchRunner:
    from summarizer.extraction.batch.service import BatchRunner

    return BatchRunner(options.settings())


@batch_app.command("submit")
@handle_errors
@run_options
def submit(
    paths: PathsArg,
    max_requests: Annotated[
        int | None,
        typer.Option("--max-requests", min=1, help="Requests per batch (the API takes up to 50,000 and 200 MB)."),
    ] = None,
    *,
    options: RunOptions,
) -> None:
    """Send every article that is not cached yet (nor in a batch not yet collected) as one Batch API job, or
    several when the API's limits ask for it."""
    runner = _runner(options)
    done = asyncio.run(runner.submit(paths, max_requests=max_requests))
    for problem in done.input_errors:
        say(f"error: {problem}")
    for notice in done.notices:
        say(f"note: {notice}")
    sent = sum(len(b.requests) for b in done.batches)
    say(
        f"{done.articles} article(s): {sent} submitted in {len(done.batches)} batch(es), {done.cached} already "
        f"cached, {done.already_pending} already in a batch not yet collected"
    )
    for state in done.batches:
        typer.echo(state.id)
    if done.batches:
        say("follow them with `summarizer batch status`, then `summarizer batch collect` (same options)")
    raise typer.Exit(ExitCode.PARTIAL if done.input_errors else ExitCode.OK)


@batch_app.command("status")
@handle_errors
@run_options
def status(batch_id: BatchIdArg = None, *, options: RunOptions) -> None:
    """Each batch's status and counts, asked of the endpoint (those already collected as last seen)."""
    runner = _runner(options)
    states = runner.store.chosen(batch_id, pending_only=False)
    if not states:
        say(f"no batch was submitted with the cache in {runner.settings.cache_dir}")
        return
    for state in states:
        if state.state == "pending":
            state = asyncio.run(runner.refresh(state))
        typer.echo(state.describe())


@batch_app.command("cancel")
@handle_errors
@run_options
def cancel(batch_id: Annotated[str, typer.Argument(help="The batch to cancel.")], *, options: RunOptions) -> None:
    """Stop a batch; what it has answered so far is still collected, and the rest asked live, by ``collect``."""
    runner = _runner(options)
    state = asyncio.run(runner.cancel(runner.store.load(batch_id)))
    typer.echo(state.describe())


def _report(collected: Collected, settings: Settings, quiet: bool) -> None:
    from summarizer.extraction.cost import PriceTable, price_usage

    for notice in collected.notices:
        say(f"note: {notice}")
    if quiet:
        return
    failed = sum(1 for r in collected.results if r.outcome == "failed")
    cached = sum(1 for r in collected.results if r.outcome == "cached")
    state = collected.state
    say(
        f"batch {state.id} ({state.status}): {collected.from_batch} answered by the batch, {collected.reasked} "
        f"re-asked live after failing validation, {collected.asked_live} asked live, {cached} already cached, "
        f"{failed} failed"
    )
    paid = [r.record for r in collected.results if r.outcome == "fetched" and r.record is not None]
    if paid:
        spent = price_usage(
            ((r.request.model, r.response.usage, r.response.attempts, r.origin == "batch") for r in paid),
            PriceTable.load(settings.prices_file),
        )
        say(f"spent: {spent.describe()}")


@batch_app.command("collect")
@handle_errors
@run_options
def collect(
    batch_id: BatchIdArg = None,
    wait: Annotated[
        float | None,
        typer.Option("--wait", metavar="SECONDS", help="Poll until every batch has ended, this often (seconds)."),
    ] = None,
    *,
    options: RunOptions,
) -> None:
    """Store each ended batch's answers in the cache, validated as live answers are: the invalid ones re-asked
    live, the ones the batch did not answer asked live. A batch still running is left for a later collect."""
    runner = _runner(options)
    states = runner.store.chosen(batch_id, pending_only=batch_id is None)
    if not states:
        say("no batch to collect; `summarizer batch status` lists them")
        return
    left = 0
    failed = False
    for state in states:
        with watching(runner.settings, quiet=options.quiet, verbose=options.verbose, label="collecting") as display:
            display.start(len(state.requests))
            collected = asyncio.run(runner.collect(state, progress=display))
            while wait is not None and collected.state.state == "pending":
                if not options.quiet:
                    now = collected.state
                    say(f"batch {now.id}: {now.status} ({now.completed}/{len(now.requests)} done); asking again in "
                        f"{wait:g} s")  # fmt: skip
                time.sleep(wait)
                collected = asyncio.run(runner.collect(state, progress=display))
        if collected.state.state == "pending":
            left += 1
            say(f"batch {state.id} is {collected.state.status} ({collected.state.completed}/{len(state.requests)} "
                "done); collect it again later, or `summarizer batch cancel` it")  # fmt: skip
            continue
        _report(collected, runner.settings, options.quiet)
        failed = failed or any(r.outcome == "failed" for r in collected.results)
    raise typer.Exit(ExitCode.PARTIAL if left or failed else ExitCode.OK)


def _wait(runner: BatchRunner, state: BatchState, quiet: bool) -> BatchState:
    """``state`` once its batch has ended, looking every ``POLL`` seconds, with a progress bar of its counts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from summarizer.app.console import err
    from summarizer.extraction.batch.jobs import ENDED

    bar = Progress(TextColumn("batch {task.fields[status]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, disable=quiet or not err.is_terminal)  # fmt: skip
    with bar:
        task = bar.add_task("batch", total=len(state.requests), status=state.status)
        while True:
            state = asyncio.run(runner.refresh(state))
            bar.update(task, completed=state.completed + state.failed, status=state.status)
            if state.status in ENDED:
                return state
            time.sleep(POLL)


def through_batches(paths: list[Path], replay: Path | None, options: RunOptions) -> None:
    """``brief --batch`` before it briefs: submit the articles neither cached nor in a batch yet, wait for every
    batch that holds some of them, and collect those into the cache."""
    if replay is not None:
        raise UserError("--batch and --replay do not go together: a replay answers at once; drop one of them")
    runner = _runner(options)
    done = asyncio.run(runner.submit(paths))
    if not options.quiet:
        sent = sum(len(b.requests) for b in done.batches)
        say(f"batch: {sent} article(s) submitted in {len(done.batches)} batch(es), {done.cached} already cached")
    for state in [s for s in runner.store.chosen(None, pending_only=True) if s.id in done.pending_ids]:
        if not options.quiet:
            say(f"batch {state.id}: waiting for {len(state.requests)} answer(s) (Ctrl-C stops; `summarizer batch "
                "collect` resumes)")  # fmt: skip
        state = _wait(runner, state, options.quiet)
        with watching(runner.settings, quiet=options.quiet, verbose=options.verbose, label="collecting") as display:
            display.start(len(state.requests))
            collected = asyncio.run(runner.collect(state, progress=display))
        _report(collected, runner.settings, options.quiet)
