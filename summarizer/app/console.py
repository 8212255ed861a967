"""What the commands print and write: one line per problem on stderr, the output on stdout or in a file, and the
package's errors turned into their exit code, never a traceback."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console

from summarizer.errors import ExitCode, SummarizerError, UserError

if TYPE_CHECKING:
    from summarizer.app.progress import RunDisplay
    from summarizer.config import Settings
    from summarizer.extraction.results import RunResult

err = Console(stderr=True, highlight=False, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")


def say(line: str) -> None:
    """One line on stderr, printed as written (no markup)."""
    err.print(line, markup=False)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the package's errors into one line on stderr and their exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SummarizerError as exc:
            say(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            say("interrupted; cached records are kept, run again to resume")
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return wrapper


def report(run: RunResult, quiet: bool) -> None:
    """The run's unreadable inputs and notices, then (unless ``quiet``) what became of the articles and what
    the requests cost."""
    for problem in run.input_errors:
        say(f"error: {problem}")
    for notice in run.notices:
        say(f"note: {notice}")
    capped = run.capped
    if capped:
        names = ", ".join(Path(r.article.source).name for r in capped[:5]) + (", …" if len(capped) > 5 else "")
        say(
            f"note: the run's cap left {len(capped)} article(s) undone ({names}); what was done is cached: raise the "
            "cap and run again for the rest"
        )
    if quiet:
        return
    say(
        f"{len(run.results)} article(s): {run.count('cached')} cached, {run.count('fetched')} fetched, "
        f"{run.count('failed')} failed; {len(run.input_errors)} input(s) unreadable"
    )
    spent = run.spent()
    if spent is not None:
        say(f"spent: {spent.describe()}")


@contextlib.contextmanager
def logging_to_stderr(verbose: bool, settings: Settings) -> Iterator[None]:
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


@contextlib.contextmanager
def watching(settings: Settings, *, quiet: bool, verbose: bool, label: str = "extracting") -> Iterator[RunDisplay]:
    """What a command shows while its run works: a progress bar (none when ``quiet`` or ``verbose``), and with
    ``verbose`` the run's log, the API key masked."""
    from summarizer.app.progress import RunDisplay  # rich's progress bar: not imported for --help

    with logging_to_stderr(verbose, settings), RunDisplay(err, quiet=quiet or verbose, label=label) as display:
        yield display


def check_output(output: Path | None) -> None:
    """Raise UserError now, before any request, when ``output`` cannot be written where it is asked for."""
    if output is None:
        return
    folder = output.parent
    if not folder.is_dir():
        raise UserError(f"{output}: the folder {folder} does not exist; create it or choose another --output")
    if output.is_dir():
        raise UserError(f"{output}: is a folder; give a file name with --output")


def write(content: str | bytes, output: Path | None) -> None:
    """``content`` to ``output``, or to standard output (as bytes, so that nothing is re-encoded)."""
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
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise SummarizerError(f"{output}: cannot write ({exc.strerror}); choose another --output") from None
