"""What a Batch API job is made of and where it is kept: its input lines, the split into jobs the API accepts, and
one small JSON state file per batch under the cache directory, where a later ``status`` or ``collect`` (or one
run after a killed process) finds it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from summarizer.errors import ConfigError, UserError

BATCH_FORMAT = "summarizer.batch/1"
ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
MAX_REQUESTS = 50_000
"""The most requests the Batch API takes in one job."""
MAX_BYTES = 200 * 1024 * 1024
"""The largest input file the Batch API takes, in bytes."""
ENDED = frozenset({"completed", "expired", "cancelled", "failed"})
"""Batch statuses after which nothing more will be answered."""


def input_line(key: str, body: dict[str, Any]) -> bytes:
    """One line of a batch input file: the request ``body`` under ``custom_id`` ``key`` (the cache key)."""
    line = {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def split_lines(
    lines: Iterable[bytes], *, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES
) -> Iterator[list[bytes]]:
    """``lines`` in jobs of at most ``max_requests`` lines and ``max_bytes`` bytes each, in order. Raises
    UserError for a line that alone is larger than ``max_bytes``."""
    job: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_bytes:
            raise UserError(
                f"one request is {len(line):,} bytes, more than a batch file may hold ({max_bytes:,}); "
                "lower --max-article-chars (SUMMARIZER_MAX_ARTICLE_CHARS)"
            )
        if job and (len(job) >= max_requests or size + len(line) > max_bytes):
            yield job
            job, size = [], 0
        job.append(line)
        size += len(line)
    if job:
        yield job


Outcome = Literal["pending", "collected"]


class BatchState(BaseModel):
    """One submitted batch, as kept between commands."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    format: Literal["summarizer.batch/1"] = "summarizer.batch/1"
    id: str
    """The batch's id at the endpoint."""
    input_file_id: str
    endpoint: str
    """The base URL it was submitted to (OpenAI's when submitted without --base-url)."""
    model: str
    mode: str
    submitted: datetime = Field(default_factory=lambda: datetime.now(UTC))
    paths: list[str]
    """The inputs the articles were read from, absolute: ``collect`` reads them again."""
    requests: dict[str, str]
    """Each request's ``custom_id`` (the article's cache key) and the article's source."""
    status: str = "validating"
    """The endpoint's status when last asked."""
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    state: Outcome = "pending"
    """``collected`` once every request has a cached record or has been tried live."""

    def source(self, key: str) -> str:
        """The source of the article asked under ``key``."""
        return self.requests.get(key, key)

    def describe(self) -> str:
        """One line: the batch, its status, its counts."""
        done = f"{self.completed}/{len(self.requests)} done" + (f", {self.failed} failed" if self.failed else "")
        collected = "collected" if self.state == "collected" else "not collected"
        when = f"{self.submitted:%Y-%m-%d %H:%M} UTC"
        return f"{self.id}: {self.status} ({done}); {self.model}, submitted {when}; {collected}"


class BatchStore:
    """The state files of the batches submitted from one cache directory (``<cache>/batches/<id>.json``)."""

    def __init__(self, cache_dir: Path) -> None:
        self.directory = cache_dir / "batches"

    def save(self, state: BatchState) -> None:
        """Write ``state`` whole or not at all (a new file moved over the old one)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.directory, suffix=".tmp", delete=False
            ) as out:
                out.write(state.model_dump_json(indent=2) + "\n")
            os.replace(out.name, self._path(state.id))
        except OSError as exc:
            raise ConfigError(
                f"{self.directory}: cannot write the batch state ({exc.strerror}); give another --cache-dir "
                f"or fix its permissions (batch {state.id} was submitted: note its id)"
            ) from None

    def _path(self, batch_id: str) -> Path:
        if not batch_id or "/" in batch_id or batch_id.startswith("."):
            raise UserError(f"{batch_id!r} is not a batch id; `summarizer batch status` lists them")
        return self.directory / f"{batch_id}.json"

    def load(self, batch_id: str) -> BatchState:
        """The state of ``batch_id``; UserError when this cache directory holds none."""
        path = self._path(batch_id)
        if not path.is_file():
            raise UserError(
                f"no batch {batch_id} was submitted with the cache in {self.directory.parent}; "
                "`summarizer batch status` lists those that were (or pass the --cache-dir used to submit it)"
            )
        return self._read(path)

    def _read(self, path: Path) -> BatchState:
        try:
            return BatchState.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise ConfigError(
                f"{path}: not a {BATCH_FORMAT} state file ({type(exc).__name__}); delete it if the batch is done"
            ) from None

    def all(self) -> list[BatchState]:
        """Every batch's state, oldest first."""
        if not self.directory.is_dir():
            return []
        states = [self._read(path) for path in self.directory.glob("*.json")]
        return sorted(states, key=lambda s: (s.submitted, s.id))

    def chosen(self, batch_id: str | None, *, pending_only: bool) -> list[BatchState]:
        """``batch_id``'s state, or every batch's (only those not yet collected with ``pending_only``)."""
        if batch_id is not None:
            return [self.load(batch_id)]
        return [s for s in self.all() if not pending_only or s.state == "pending"]

    def pending_keys(self) -> dict[str, str]:
        """The cache keys of the requests in batches not yet collected, with their batch's id."""
        return {key: state.id for state in self.all() if state.state == "pending" for key in state.requests}
