"""The ``summarizer`` command. Thin: parse options, call the pipeline, print, exit with a code that says
what happened (0 all done, 1 partial, 2 usage or settings error, 3 nothing extracted)."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, TypeVar

import typer
from rich.console import Console

from summarizer.errors import ExitCode, SummarizerError, UserError

if TYPE_CHECKING:
    from summarizer.config import Settings
    from summarizer.extraction.results import RunResult

app = typer.Typer(
    help="Turn a day's news articles on a conflict into a structured, sourced briefing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect or empty the response cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

err = Console(stderr=True, highlight=False, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (TOML); default ./summarizer.toml.", dir_okay=False),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name. [env: SUMMARIZER_MODEL]")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint. [env: OPENAI_BASE_URL]")
]
CacheDirOpt = Annotated[Path | None, typer.Option("--cache-dir", help="Cache folder. [env: SUMMARIZER_CACHE_DIR]")]
ModeOpt = Annotated[
    str | None, typer.Option("--mode", help="How the schema is sent: tools, json, json_schema, md_json.")
]
ReplayOpt = Annotated[
    Path | None,
    typer.Option("--replay", help="Serve these recordings instead of a live endpoint.", file_okay=False),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no progress bar.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log every request, retry and re-ask on stderr (no progress bar).")
]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", "-c", help="Requests in flight at once [default: 8].", min=1, max=256)
]
RpmOpt = Annotated[int | None, typer.Option("--rpm", help="Requests-per-minute limit (retries count).", min=1)]
TpmOpt = Annotated[int | None, typer.Option("--tpm", help="Tokens-per-minute limit.", min=1)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds one request may take [default: 120].")]
PricesOpt = Annotated[
    Path | None, typer.Option("--prices", help="Price table (TOML) added to the bundled one.", dir_okay=False)
]
PathsArg = Annotated[list[Path], typer.Argument(help="Article files (.txt .md .json .jsonl) or folders.")]


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the package's errors into one line on stderr and their exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SummarizerError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; cached records are kept, run again to resume", markup=False)
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return wrapper


def _settings(config: Path | None, **flags: Any) -> Settings:
    from summarizer.config import load_settings  # pydantic is slow to import, and `--help` has no use for it

    return load_settings(config_file=config, **flags)


def _report(run: RunResult, quiet: bool) -> None:
    for problem in run.input_errors:
        err.print(f"error: {problem}", markup=False)
    for notice in run.notices:
        err.print(f"note: {notice}", markup=False)
    if not quiet:
        err.print(
            f"{len(run.results)} article(s): {run.count('cached')} cached, {run.count('fetched')} fetched, "
            f"{run.count('failed')} failed; {len(run.input_errors)} input(s) unreadable",
            markup=False,
        )
        spent = run.spent()
        if spent is not None:
            err.print(f"spent: {spent.describe()}", markup=False)


@contextlib.contextmanager
def _logging(verbose: bool, settings: Settings) -> Iterator[None]:
    """With ``verbose``, the run's log on stderr, the API key masked in every line."""
    if not verbose:
        yield
        return
    from summarizer.logs import disable_verbose, enable_verbose

    key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
    handler = enable_verbose([key], stream=sys.stderr)
    try:
        yield
    finally:
        disable_verbose(handler)


def _extract(
    paths: list[Path], replay: Path | None, quiet: bool, verbose: bool, config: Path | None, **flags: Any
) -> RunResult:
    from summarizer.app.api import replayed
    from summarizer.app.progress import RunDisplay
    from summarizer.extraction.pipeline import extract_paths

    settings = _settings(config, **flags)
    with _logging(verbose, settings), RunDisplay(err, quiet=quiet or verbose) as display:
        run = extract_paths(paths, settings, endpoint=replayed(replay), progress=display, on_total=display.start)
    _report(run, quiet)
    return run


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--date {value!r} is not a date; write it as YYYY-MM-DD") from None


def _write(content: str | bytes, output: Path | None) -> None:
    data = content.encode() if isinstance(content, str) else content
    if output is None:
        stdout = sys.stdout
        buffer = getattr(stdout, "buffer", None)
        if buffer is None:  # a text-only stream put in place of stdout
            stdout.write(data.decode())
        else:
            stdout.flush()
            buffer.write(data)
            buffer.flush()
    else:
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise SummarizerError(f"{output}: cannot write ({exc.strerror}); choose another --output") from None


@app.command()
@handle_errors
def brief(
    paths: PathsArg,
    replay: ReplayOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    fmt: Annotated[Literal["md", "json", "html"], typer.Option("--format", "-f", help="Output format.")] = "md",
    output: OutputOpt = None,
    aliases: Annotated[
        list[Path] | None, typer.Option("--aliases", help="Extra alias file(s) (YAML) for entity names.")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Briefing title.")] = None,
    day: Annotated[
        str | None,
        typer.Option("--date", help="Daily mode: brief the articles published on YYYY-MM-DD, new facts marked."),
    ] = None,
    config: ConfigOpt = None,
    cache_dir: CacheDirOpt = None,
    mode: ModeOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = None,
    prices: PricesOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Extract every article (cache first) and merge them into one cited briefing."""
    from summarizer.app.api import brief as make_briefing
    from summarizer.briefing.render import render_bytes

    run = _extract(
        paths, replay, quiet, verbose, config, model=model, base_url=base_url, cache_dir=cache_dir, mode=mode,
        concurrency=concurrency, rpm=rpm, tpm=tpm, timeout=timeout, prices_file=prices,
    )  # fmt: skip
    if not run.records:
        err.print("error: no article could be extracted; nothing to brief", markup=False)
        raise typer.Exit(run.exit_code)
    briefing = make_briefing(run, aliases_files=aliases or [], title=title, day=_day(day))
    _write(render_bytes(briefing, fmt), output)
    if output is not None and not quiet:
        err.print(f"wrote {output}", markup=False)
    raise typer.Exit(run.exit_code)


@app.command()
@handle_errors
def extract(
    paths: PathsArg,
    replay: ReplayOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    fmt: Annotated[
        Literal["json", "table"], typer.Option("--format", "-f", help="json: records; table: a summary.")
    ] = "json",
    output: OutputOpt = None,
    config: ConfigOpt = None,
    cache_dir: CacheDirOpt = None,
    mode: ModeOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = None,
    prices: PricesOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Extract each article into its structured record (cache first)."""
    run = _extract(
        paths, replay, quiet, verbose, config, model=model, base_url=base_url, cache_dir=cache_dir, mode=mode,
        concurrency=concurrency, rpm=rpm, tpm=tpm, timeout=timeout, prices_file=prices,
    )  # fmt: skip
    if fmt == "table":
        from rich.table import Table

        table = Table("article", "outcome", "parties", "demands", "casualties", "events", "outcomes")
        for r in run.results:
            e = r.record.extraction() if r.record else None
            counts = [str(len(x)) for x in (e.parties, e.demands, e.casualties, e.events, e.outcomes)] if e else []
            table.add_row(r.article.source, r.outcome, *(counts or ["-"] * 5))
        Console(soft_wrap=True).print(table)
    else:
        items = [
            {
                "article": r.article.source,
                "article_id": r.article.id,
                "outcome": r.outcome,
                **({"record": r.record.model_dump(mode="json")} if r.record else {"error": r.error}),
            }
            for r in run.results
        ]
        _write(json.dumps(items, indent=2, ensure_ascii=False) + "\n", output)
    raise typer.Exit(run.exit_code)


@app.command()
@handle_errors
def record(
    paths: PathsArg,
    to: Annotated[Path, typer.Option("--to", help="Folder for the recording files.", file_okay=False)],
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    cache_dir: CacheDirOpt = None,
    mode: ModeOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = None,
    prices: PricesOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ask the endpoint afresh for each article and store each answer as a readable recording file."""
    from summarizer.app.progress import RunDisplay
    from summarizer.extraction.recorder import record_paths

    settings = _settings(
        config, model=model, base_url=base_url, cache_dir=cache_dir, mode=mode,
        concurrency=concurrency, rpm=rpm, tpm=tpm, timeout=timeout, prices_file=prices,
    )  # fmt: skip
    with _logging(verbose, settings), RunDisplay(err, quiet=quiet or verbose, label="recording") as display:
        run = record_paths(paths, settings, to, progress=display, on_total=display.start)
    _report(run, quiet)
    raise typer.Exit(run.exit_code)


@app.command()
@handle_errors
def serve(
    recordings: Annotated[Path, typer.Option("--recordings", help="Folder of recording files.", file_okay=False)],
    host: Annotated[str, typer.Option("--host", help="Address to bind; keep it on loopback.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 8000,
    latency: Annotated[float, typer.Option("--latency", help="Seconds from a request's arrival to its answer.")] = 0.0,
    fail_first: Annotated[int, typer.Option("--fail-first", help="Answer the first N requests with 503.")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            metavar="KIND=RATE",
            help="Inject a fault into this share of requests (repeatable): 429, 500, 503, drop, timeout, slow, "
            "malformed, invalid, length, refusal. Example: --fault 429=0.05 --fault drop=0.03",
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
        float | None, typer.Option("--slow-delay", help="Seconds a `slow` fault delays the answer (default 5).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log each request line and handler errors.")] = False,
) -> None:
    """Answer OpenAI chat completions from recordings, for tests, replays and benchmarks; optionally with
    injected faults, to exercise a client's retries."""
    from summarizer.extraction.records import read_recordings
    from summarizer.replay.faults import FaultPlan
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
        read_recordings(recordings),
        host=host,
        port=port,
        latency=latency,
        fail_first=fail_first,
        faults=plan,
        verbose=verbose,
    )
    err.print(f"serving {len(server.recordings)} recording(s) at {server.url} (Ctrl-C stops)", markup=False)
    err.print(server.faults.describe(), markup=False)

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
        err.print(server.stats.describe(), markup=False)


@app.command()
@handle_errors
def schema(
    directory: Annotated[Path, typer.Option("--dir", help="Where the schema files live.")] = Path("schemas"),
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the files differ from the models.")] = False,
) -> None:
    """Write the JSON Schemas of the extraction, record and briefing models (or check them)."""
    from summarizer.app.schema_files import drifted_schemas, write_schemas

    if check:
        stale = drifted_schemas(directory)
        if stale:
            err.print(f"error: {', '.join(stale)} in {directory} differ from the models; run `summarizer schema`")
            raise typer.Exit(ExitCode.PARTIAL)
        err.print(f"schemas in {directory} match the models", markup=False)
        return
    for path in write_schemas(directory):
        err.print(f"wrote {path}", markup=False)


@app.command("eval")
@handle_errors
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Folder of gold annotation files (*.json).", file_okay=False)],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Annotated articles to score; default: every article the gold files name."),
    ] = None,
    replay: ReplayOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", "-f", help="Output format.")] = "table",
    output: OutputOpt = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Show what changed since this saved report.", dir_okay=False)
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", help="Exit 4 if any field's F1 is below this baseline report.", dir_okay=False),
    ] = None,
    update_baseline: Annotated[
        Path | None,
        typer.Option("--update-baseline", help="Write this run's report as the new baseline.", dir_okay=False),
    ] = None,
    aliases: Annotated[
        list[Path] | None, typer.Option("--aliases", help="Extra alias file(s) (YAML) for entity names.")
    ] = None,
    config: ConfigOpt = None,
    cache_dir: CacheDirOpt = None,
    mode: ModeOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score extractions against gold annotations: precision, recall and F1 per field, figure error, quotes, cost."""
    from summarizer.evaluation.diff import (
        diff_reports,
        load_report,
        regressions,
        report_json,
        write_report,
    )
    from summarizer.evaluation.run import run_eval
    from summarizer.evaluation.tables import print_diff, print_report, render_text

    if check is not None and update_baseline is not None:
        raise UserError("--check and --update-baseline do not go together; check first, then update on purpose")
    previous = load_report(baseline) if baseline is not None else None
    gate = load_report(check) if check is not None else None
    from summarizer.app.progress import RunDisplay

    settings = _settings(config, model=model, base_url=base_url, cache_dir=cache_dir, mode=mode)
    with RunDisplay(err, quiet=quiet, label="scoring") as display:
        report, run = run_eval(
            gold, settings, paths=paths or [], replay=replay, aliases_files=aliases or [], progress=display
        )
    _report(run, quiet)
    diff = diff_reports(previous, report, str(baseline)) if previous is not None and baseline is not None else None
    if fmt == "json":
        _write(report_json(report, diff), output)
    elif output is not None:
        _write(render_text(report, diff), output)
    else:
        # Piped or in CI, rich would assume 80 columns and truncate the article names.
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
        print_report(report, console)
        if diff is not None:
            console.print()
            print_diff(diff, console)
    if update_baseline is not None:
        failed = [a.article for a in report.articles if a.outcome == "failed"]
        if failed:
            raise UserError(f"{', '.join(failed)} could not be extracted; fix that before updating the baseline")
        write_report(report, update_baseline)
        err.print(f"wrote baseline {update_baseline}", markup=False)
    if gate is not None and check is not None:
        problems = regressions(gate, report, str(check))
        for line in problems:
            err.print(f"regression: {line}", markup=False)
        if problems:
            err.print(f"eval gate failed: {len(problems)} regression(s) against {check}", markup=False)
            raise typer.Exit(ExitCode.REGRESSION)
        err.print(f"eval gate passed: no field's F1 is below {check}", markup=False)
    raise typer.Exit(run.exit_code)


@cache_app.command("info")
@handle_errors
def cache_info(config: ConfigOpt = None, cache_dir: CacheDirOpt = None) -> None:
    """Where the cache is, how many records it holds and its size."""
    from summarizer.extraction.cache import ResponseCache

    settings = _settings(config, cache_dir=cache_dir)
    with ResponseCache(settings.cache_dir) as cache:
        info = cache.info()
    typer.echo(f"{info.directory}: {info.entries} record(s), {info.size_bytes / 1024:.1f} KiB")


@cache_app.command("clear")
@handle_errors
def cache_clear(config: ConfigOpt = None, cache_dir: CacheDirOpt = None) -> None:
    """Remove every cached record."""
    from summarizer.extraction.cache import ResponseCache

    settings = _settings(config, cache_dir=cache_dir)
    with ResponseCache(settings.cache_dir) as cache:
        removed = cache.clear()
    typer.echo(f"{settings.cache_dir}: removed {removed} record(s)")


def main() -> None:
    """Console-script entry point."""
    app()
