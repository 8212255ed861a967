"""``summarizer eval``: scores extractions against gold annotations, and the CI gate over a saved baseline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from summarizer.app.console import check_output, report, say, watching, write
from summarizer.app.options import AliasesOpt, OutputOpt, ReplayOpt, RunOptions
from summarizer.errors import ExitCode, UserError


def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Folder of gold annotation files (*.json).", file_okay=False)],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Annotated articles to score; default: every article the gold files name."),
    ] = None,
    replay: ReplayOpt = None,
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
    aliases: AliasesOpt = None,
    *,
    options: RunOptions,
) -> None:
    """Score extractions against gold annotations: precision, recall and F1 per field, figure error, quotes, cost."""
    from summarizer.evaluation.diff import diff_reports, load_report, regressions, report_json, write_report
    from summarizer.evaluation.run import run_eval
    from summarizer.evaluation.tables import print_diff, print_report, render_text

    if check is not None and update_baseline is not None:
        raise UserError("--check and --update-baseline do not go together; check first, then update on purpose")
    previous = load_report(baseline) if baseline is not None else None
    gate = load_report(check) if check is not None else None
    settings = options.settings()
    check_output(output)
    with watching(settings, quiet=options.quiet, verbose=options.verbose, label="scoring") as display:
        scores, run = run_eval(
            gold, settings, paths=paths or [], replay=replay, aliases_files=aliases or [], progress=display
        )
    report(run, options.quiet)
    diff = diff_reports(previous, scores, str(baseline)) if previous is not None and baseline is not None else None
    if fmt == "json":
        write(report_json(scores, diff), output)
    elif output is not None:
        write(render_text(scores, diff), output)
    else:
        # Piped or in CI, rich would assume 80 columns and truncate the article names.
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
        print_report(scores, console)
        if diff is not None:
            console.print()
            print_diff(diff, console)
    if update_baseline is not None:
        failed = [a.article for a in scores.articles if a.outcome == "failed"]
        if failed:
            raise UserError(f"{', '.join(failed)} could not be extracted; fix that before updating the baseline")
        write_report(scores, update_baseline)
        say(f"wrote baseline {update_baseline}")
    if gate is not None and check is not None:
        problems = regressions(gate, scores, str(check))
        for line in problems:
            say(f"regression: {line}")
        if problems:
            say(f"eval gate failed: {len(problems)} regression(s) against {check}")
            raise typer.Exit(ExitCode.REGRESSION)
        say(f"eval gate passed: no field's F1 is below {check}")
    raise typer.Exit(run.exit_code)
