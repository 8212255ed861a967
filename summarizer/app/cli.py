"""The ``summarizer`` command. Thin: options (declared once, in ``options``) in, the Python API called, one line
per problem on stderr, and an exit code from ``errors.ExitCode``. Every option and input file is checked
before the first request, so a mistake costs nothing."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from summarizer.app.batch import BatchOpt, batch_app, through_batches
from summarizer.app.console import check_output, handle_errors, report, say, watching, write
from summarizer.app.evaluate import evaluate
from summarizer.app.options import (
    AliasesOpt,
    CacheDirOpt,
    CacheUrlOpt,
    ConfigOpt,
    DateOpt,
    OutputOpt,
    PathsArg,
    ReplayOpt,
    RunOptions,
    parse_day,
    run_options,
)
from summarizer.app.recordings import recordings_app
from summarizer.app.serve import serve
from summarizer.errors import ExitCode
from summarizer.service.commands import api as api_command
from summarizer.service.commands import worker as worker_command

if TYPE_CHECKING:
    from summarizer.config import Settings
    from summarizer.extraction.backend import RecordStore
    from summarizer.extraction.results import RunResult

app = typer.Typer(
    help="Turn a day's news articles on a conflict into a structured, sourced briefing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
cache_app = typer.Typer(help="Inspect or empty the response cache.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")
app.add_typer(batch_app, name="batch")
app.add_typer(recordings_app, name="recordings")


def _version() -> str:
    try:
        return version("summarizer")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    _: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    # The command is the application, so it decides where log records go: nowhere unless --verbose, rather
    # than Python's last-resort handler printing the libraries' multi-line warnings over the one-line errors.
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


Format = Literal["md", "json", "html"]
NoSynthesisOpt = Annotated[
    bool,
    typer.Option(
        "--no-synthesis",
        help="Pick each story's key developments from the facts by rank instead of asking the model to write them.",
    ),
]


@app.command()
@handle_errors
@run_options
def brief(
    paths: PathsArg,
    replay: ReplayOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = "md",
    output: OutputOpt = None,
    aliases: AliasesOpt = None,
    title: Annotated[str | None, typer.Option("--title", help="Briefing title.", show_default="from the facts")] = None,
    day: DateOpt = None,
    detail: Annotated[
        Literal["compact", "full"],
        typer.Option(
            "--detail", help="compact: each fact once; full: also every wording, role and summary, for review."
        ),
    ] = "compact",
    no_synthesis: NoSynthesisOpt = False,
    batch: BatchOpt = False,
    *,
    options: RunOptions,
) -> None:
    """Extract every article (cache first) and merge them into one cited briefing, its key developments written
    by the model from the merged facts."""
    from summarizer.app.api import brief as brief_run
    from summarizer.app.api import check_briefing_inputs, write_key_points
    from summarizer.briefing.render import render_bytes

    settings = options.settings()
    daily = parse_day(day)
    alias_table = check_briefing_inputs(settings, aliases or [])
    check_output(output)
    if batch:
        through_batches(paths, replay, options)
    run = _extract(paths, replay, options, settings)
    if not run.records:
        say("error: no article could be extracted; nothing to brief")
        raise typer.Exit(run.exit_code)
    briefing = brief_run(run, aliases=alias_table, title=title, day=daily)
    if not no_synthesis:
        briefing = write_key_points(briefing, settings, replay=replay)
    write(render_bytes(briefing, fmt, detail), output)
    if output is not None and not options.quiet:
        say(f"wrote {output}")
    raise typer.Exit(run.exit_code)


@app.command()
@handle_errors
@run_options
def extract(
    paths: PathsArg,
    replay: ReplayOpt = None,
    fmt: Annotated[
        Literal["json", "table"], typer.Option("--format", "-f", help="json: the records; table: a summary.")
    ] = "json",
    output: OutputOpt = None,
    *,
    options: RunOptions,
) -> None:
    """Extract each article into its structured record (cache first)."""
    settings = options.settings()
    check_output(output)
    run = _extract(paths, replay, options, settings)
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
        write(json.dumps(items, indent=2, ensure_ascii=False) + "\n", output)
    raise typer.Exit(run.exit_code)


@app.command()
@handle_errors
@run_options
def record(
    paths: PathsArg,
    to: Annotated[Path, typer.Option("--to", help="Folder for the recording files.", file_okay=False)],
    no_synthesis: NoSynthesisOpt = False,
    *,
    options: RunOptions,
) -> None:
    """Ask the endpoint afresh for each article, then for each story's key developments, and store each answer
    as a readable recording file."""
    from summarizer.extraction.recorder import record_paths

    settings = options.settings()
    with watching(settings, quiet=options.quiet, verbose=options.verbose, label="recording") as display:
        run = record_paths(paths, settings, to, progress=display, on_total=display.start)
    report(run, options.quiet)
    if run.records and not no_synthesis:
        from summarizer.app.api import brief as brief_run
        from summarizer.app.api import record_key_points

        written = record_key_points(brief_run(run), settings, to)
        for notice in written.notices:
            say(f"warning: {notice}")
        if not options.quiet:
            say(f"key developments recorded for {len(written.records)} of {len(written.briefing.stories)} story(ies)")
        if written.notices and run.exit_code == ExitCode.OK:
            raise typer.Exit(ExitCode.PARTIAL)
    raise typer.Exit(run.exit_code)


def _extract(paths: list[Path], replay: Path | None, options: RunOptions, settings: Settings) -> RunResult:
    from summarizer.app.api import extract_files

    with watching(settings, quiet=options.quiet, verbose=options.verbose) as display:
        run = extract_files(paths, settings, replay=replay, progress=display, on_total=display.start)
    report(run, options.quiet)
    return run


app.command("eval")(handle_errors(run_options(evaluate)))
app.command("serve")(handle_errors(serve))
app.command("api")(handle_errors(run_options(api_command)))
app.command("worker")(handle_errors(run_options(worker_command)))


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
            say(f"error: {', '.join(stale)} in {directory} differ from the models; run `summarizer schema`")
            raise typer.Exit(ExitCode.PARTIAL)
        say(f"schemas in {directory} match the models")
        return
    for path in write_schemas(directory):
        say(f"wrote {path}")


@contextlib.contextmanager
def _cache_store(config: Path | None, cache_dir: Path | None, cache_url: str | None) -> Iterator[RecordStore]:
    """The record store the options name, closed on leaving."""
    from summarizer.extraction.backends import open_backend

    store = open_backend(RunOptions(config=config, cache_dir=cache_dir, cache_url=cache_url).settings()).store
    try:
        yield store
    finally:
        store.close()


@cache_app.command("info")
@handle_errors
def cache_info(config: ConfigOpt = None, cache_dir: CacheDirOpt = None, cache_url: CacheUrlOpt = None) -> None:
    """Where the cache is (a folder, or Redis), how many records it holds and its size."""
    with _cache_store(config, cache_dir, cache_url) as store:
        info = store.info()
    typer.echo(f"{info.location}: {info.entries} record(s), {info.size_bytes / 1024:.1f} KiB")


@cache_app.command("clear")
@handle_errors
def cache_clear(config: ConfigOpt = None, cache_dir: CacheDirOpt = None, cache_url: CacheUrlOpt = None) -> None:
    """Remove every cached record."""
    with _cache_store(config, cache_dir, cache_url) as store:
        removed = store.clear()
    typer.echo(f"{store.location}: removed {removed} record(s)")


def main() -> None:
    """Console-script entry point."""
    app()
