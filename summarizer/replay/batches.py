"""The loopback server's Files and Batch APIs: ``/v1/files`` (upload, retrieve, content) and ``/v1/batches``
(create, retrieve, cancel), each line of a batch answered from the same recordings as a live request.

A batch is ``validating`` when created, ``in_progress`` until ``processing`` seconds have passed, then
``completed``: its output file holds one line per request that was answered, its error file one per request that
was not, each with the request's ``custom_id``, in OpenAI's format. ``BatchFaults`` make it go wrong as a real one
can: lines that fail (a 500 in the error file), lines whose answer fails the schema, a batch that expires with
half its lines done (the rest ``batch_expired``), or one that stays ``in_progress`` until it is cancelled.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, get_args

from summarizer.replay.answers import error_body, fault_body

BatchOutcome = Literal["completed", "expired", "in_progress"]
"""How a batch ends: ``completed``; ``expired`` (half its lines done, the rest ``batch_expired``); or
``in_progress`` for good, until it is cancelled (then half done, the rest ``batch_cancelled``)."""
BATCH_OUTCOMES: tuple[BatchOutcome, ...] = get_args(BatchOutcome)

Respond = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
"""Answers one chat-completions request body: the status and the body, as the live route would."""


@dataclass(frozen=True, slots=True)
class BatchFaults:
    """What goes wrong with the batches the server runs."""

    outcome: BatchOutcome = "completed"
    failed_lines: int = 0
    """The first N lines of each batch fail with a 500, in the error file."""
    invalid_lines: int = 0
    """The next N lines are answered with JSON that fails the extraction schema."""
    processing: float = 0.0
    """Seconds a batch stays ``in_progress`` before it ends."""

    def __post_init__(self) -> None:
        if self.outcome not in BATCH_OUTCOMES:
            raise ValueError(f"batch outcome {self.outcome!r}: use one of {', '.join(BATCH_OUTCOMES)}")
        if min(self.failed_lines, self.invalid_lines) < 0 or self.processing < 0:
            raise ValueError("batch fault counts and processing time must be 0 or more")

    def describe(self) -> str:
        """One line, for ``serve`` to print on start."""
        return (
            f"batches: {self.outcome} after {self.processing:g} s, {self.failed_lines} failed and "
            f"{self.invalid_lines} invalid line(s) each"
        )


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: int
    started: float
    lines: list[dict[str, Any]]
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    done: int = 0
    failed: int = 0
    ended_at: dict[str, int] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 24 * 3600,
            **{f"{state}_at": at for state, at in self.ended_at.items()},
            "request_counts": {"total": len(self.lines), "completed": self.done, "failed": self.failed},
            "metadata": self.metadata,
        }


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name to (file name, bytes)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields


class BatchDesk:
    """Uploaded files and batches, in memory. Thread-safe."""

    def __init__(self, respond: Respond, faults: BatchFaults | None = None) -> None:
        self.respond = respond
        self.faults = faults or BatchFaults()
        self.files: dict[str, tuple[str, bytes]] = {}
        self.batches: dict[str, _Batch] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def _file(self, name: str, data: bytes) -> dict[str, Any]:
        file_id = f"file-loopback-{next(self._numbers)}"
        self.files[file_id] = (name, data)
        return self._file_body(file_id)

    def _file_body(self, file_id: str) -> dict[str, Any]:
        name, data = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": "batch", "status": "processed"}  # fmt: skip

    def post(self, path: str, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Answer a POST to ``/v1/files``, ``/v1/batches`` or ``/v1/batches/ID/cancel``."""
        parts = path.strip("/").split("/")[1:]  # after "v1"
        with self._lock:
            if parts == ["files"]:
                fields = _multipart(content_type, raw)
                if "file" not in fields:
                    return HTTPStatus.BAD_REQUEST, error_body("no file in the upload", "invalid_request_error", "")
                return HTTPStatus.OK, self._file(fields["file"][0] or "upload.jsonl", fields["file"][1])
            if parts == ["batches"]:
                return self._create(json.loads(raw or b"{}"))
            if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel" and parts[1] in self.batches:
                batch = self.batches[parts[1]]
                if batch.status in ("validating", "in_progress"):
                    batch.status = "cancelling"
                    batch.ended_at["cancelling"] = int(time.time())
                return HTTPStatus.OK, batch.body()
        return HTTPStatus.NOT_FOUND, error_body(f"no route {path}", "invalid_request_error", "not_found")

    def get(self, path: str) -> tuple[int, dict[str, Any] | bytes]:
        """Answer a GET of a file, a file's content or a batch."""
        parts = path.strip("/").split("/")[1:]
        with self._lock:
            if len(parts) >= 2 and parts[0] == "files" and parts[1] in self.files:
                if parts[2:] == ["content"]:
                    return HTTPStatus.OK, self.files[parts[1]][1]
                return HTTPStatus.OK, self._file_body(parts[1])
            if len(parts) == 2 and parts[0] == "batches" and parts[1] in self.batches:
                batch = self.batches[parts[1]]
                self._advance(batch)
                return HTTPStatus.OK, batch.body()
        return HTTPStatus.NOT_FOUND, error_body(f"no such object at {path}", "invalid_request_error", "not_found")

    def _create(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_id = request.get("input_file_id")
        if file_id not in self.files:
            return HTTPStatus.BAD_REQUEST, error_body(f"no file {file_id}", "invalid_request_error", "invalid_file")
        try:
            lines = [json.loads(line) for line in self.files[file_id][1].decode("utf-8").splitlines() if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError):
            return HTTPStatus.BAD_REQUEST, error_body("the input file is not JSON Lines", "invalid_request_error", "")
        batch = _Batch(
            id=f"batch_loopback_{next(self._numbers)}",
            input_file_id=str(file_id),
            endpoint=str(request.get("endpoint", "")),
            completion_window=str(request.get("completion_window", "24h")),
            metadata=request.get("metadata"),
            created_at=int(time.time()),
            started=time.monotonic(),
            lines=lines,
        )
        self.batches[batch.id] = batch
        return HTTPStatus.OK, batch.body()

    def _advance(self, batch: _Batch) -> None:
        """Move ``batch`` on as time has passed, and write its files once it has ended."""
        if batch.status == "validating":
            batch.status = "in_progress"
            batch.ended_at["in_progress"] = int(time.time())
        half = len(batch.lines) // 2
        if batch.status == "cancelling":
            self._finish(batch, "cancelled", half, "batch_cancelled")
        elif batch.status == "in_progress":
            if self.faults.outcome == "in_progress":
                batch.done = half
            elif time.monotonic() - batch.started >= self.faults.processing:
                if self.faults.outcome == "expired":
                    self._finish(batch, "expired", half, "batch_expired")
                else:
                    self._finish(batch, "completed", len(batch.lines), "")

    def _finish(self, batch: _Batch, status: str, answered: int, left_code: str) -> None:
        output: list[str] = []
        errors: list[str] = []
        for number, line in enumerate(batch.lines):
            custom_id = line.get("custom_id")
            request_id = f"batch_req_{batch.id}_{number}"
            if number >= answered:
                error = {"code": left_code, "message": f"The request was not run: the batch was {status}."}
                errors.append(json.dumps({"id": request_id, "custom_id": custom_id, "response": None, "error": error}))
                continue
            code, body = self._line(number, line.get("body") or {})
            response = {"status_code": code, "request_id": request_id, "body": body}
            entry = json.dumps({"id": request_id, "custom_id": custom_id, "response": response, "error": None})
            (output if code == HTTPStatus.OK else errors).append(entry)
        batch.done = len(output)
        batch.failed = len(errors)
        batch.status = status
        batch.ended_at[status] = int(time.time())
        if output:
            batch.output_file_id = self._file(f"{batch.id}_output.jsonl", "\n".join(output).encode() + b"\n")["id"]
        if errors:
            batch.error_file_id = self._file(f"{batch.id}_error.jsonl", "\n".join(errors).encode() + b"\n")["id"]

    def _line(self, number: int, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        faults = self.faults
        if number < faults.failed_lines:
            message = "The server had an error while processing this request (injected fault)"
            return HTTPStatus.INTERNAL_SERVER_ERROR, error_body(message, "server_error", "internal_error")
        if number < faults.failed_lines + faults.invalid_lines:
            return HTTPStatus.OK, json.loads(fault_body("invalid", None, request, number))
        return self.respond(request)
