"""``summarizer recordings``: work on a folder of recording files without asking an endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.app.console import handle_errors, say
from summarizer.app.options import ConfigOpt, RunOptions
from summarizer.errors import ExitCode

recordings_app = typer.Typer(
    help="Work on a folder of recordings (no endpoint is asked).", no_args_is_help=True, rich_markup_mode=None
)


@recordings_app.command("rehash")
@handle_errors
def rehash(
    directory: Annotated[Path, typer.Argument(help="The recordings folder.", file_okay=False, metavar="DIR")],
    articles: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Article files or folders to find the recordings' articles in; default: each recording's "
            "article_source.",
            metavar="[ARTICLES]...",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Renew the recordings' prompt hash, schema hash and cache key for the current prompt and schema, keeping
    their answers (after a change that leaves the answers right)."""
    from summarizer.extraction.prompts import load_prompts
    from summarizer.extraction.rehash import rehash_recordings

    settings = RunOptions(config=config).settings()
    result = rehash_recordings(directory, settings, load_prompts(settings.prompts_dir), articles or [])
    for problem in result.problems:
        say(f"error: {problem}")
    say(
        f"{directory}: {len(result.renewed)} recording(s) renewed, {len(result.current)} already current, "
        f"{len(result.problems)} left as they were"
        + (
            f"; {len(result.stories)} story top line(s) not touched (`summarizer record` renews them)"
            if result.stories
            else ""
        )
    )
    if result.problems:
        raise typer.Exit(ExitCode.PARTIAL)
