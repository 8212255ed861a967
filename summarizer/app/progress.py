"""What a run shows while it works: a rich progress bar on a terminal, and each failure as one line."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from summarizer.extraction.results import ArticleResult


class RunDisplay:
    """A progress callback: counts cached / fetched / failed under a bar with an ETA when ``console`` is a
    terminal and not ``quiet``; failures are printed whatever the mode, since they are errors."""

    def __init__(self, console: Console, *, quiet: bool = False, label: str = "extracting") -> None:
        self.console = console
        self.counts = {"cached": 0, "fetched": 0, "failed": 0}
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cached {task.fields[cached]} · fetched {task.fields[fetched]} · failed {task.fields[failed]}"),
            TimeRemainingColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
        )
        self._task = self._bar.add_task(label, total=None, cached=0, fetched=0, failed=0)

    def start(self, total: int) -> None:
        """Set how many articles the run holds."""
        self._bar.update(self._task, total=total)

    def __call__(self, result: ArticleResult) -> None:
        self.counts[result.outcome] += 1
        if result.outcome == "failed":
            self._bar.console.print(f"error: {result.article.source}: {result.error}", markup=False)
        self._bar.update(self._task, advance=1, cached=self.counts["cached"], fetched=self.counts["fetched"],
                         failed=self.counts["failed"])  # fmt: skip

    def __enter__(self) -> RunDisplay:
        self._bar.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.stop()
