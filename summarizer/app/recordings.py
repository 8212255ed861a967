"""``summarizer recordings``: work on a folder of recording files without asking an endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarizer.app.console import handle_errors, say
from summarizer.app.options import AliasesOpt, ConfigOpt, RunOptions
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
    aliases: AliasesOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Renew the recordings' prompt hash, schema hash and cache key for the current prompt and schema, keeping
    their answers (after a change that leaves the answers right). A story's top line is renewed when a
    briefing of the article recordings beside it still gives the facts it answers."""
    from summarizer.app.api import check_briefing_inputs
    from summarizer.briefing.story_rehash import rehash_story_recordings
    from summarizer.extraction.prompts import load_prompts
    from summarizer.extraction.rehash import rehash_recordings

    settings = RunOptions(config=config).settings()
    table = check_briefing_inputs(settings, aliases or [])
    result = rehash_recordings(directory, settings, load_prompts(settings.prompts_dir), articles or [])
    stories = rehash_story_recordings(directory, settings, articles or [], table)
    problems = [*result.problems, *stories.problems]
    for problem in problems:
        say(f"error: {problem}")
    say(
        f"{directory}: {len(result.renewed) + len(stories.renewed)} recording(s) renewed"
        + (f" ({len(stories.renewed)} of them stories' top lines)" if stories.renewed else "")
        + f", {len(result.current) + len(stories.current)} already current, {len(problems)} left as they were"
    )
    if problems:
        raise typer.Exit(ExitCode.PARTIAL)
