"""A small OpenAI-compatible chat-completions server that answers from recordings.

Tests, ``--replay``, ``record`` and benchmarks point the real openai client at it over real HTTP. It finds the
article in the request's ``<article_text>`` block, looks its id up among the recordings and answers in the
shape the request asked for: a tool call when the request carries ``tools``, JSON message content otherwise.
It binds to loopback by default, can add latency and inject faults (a ``FaultPlan``: error statuses, dropped
connections, hangs, slow, malformed, schema-failing, truncated, looping, garbage or refused answers) to exercise
the client's retries, can play a local server's quirks (``Quirks``: a tool_choice object refused or ignored, the
tools left out of the prompt, a small context), survives every one of them, and never logs request headers, so an
API key sent to it appears nowhere. Its answers' ``usage`` counts the prompt as a provider would bill it, the part
a provider's prompt cache would serve included (``prompt_cache.py``).
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from summarizer.extraction.prompts import unfence_text
from summarizer.extraction.records import Record
from summarizer.ingest.articles import article_id, normalise_text
from summarizer.replay.answers import (
    STATUS_FAULTS,
    TOOL_CHOICE_REFUSED,
    billed_tokens,
    completion_body,
    error_body,
    fault_body,
    message_text,
    refuses,
)
from summarizer.replay.batches import BatchDesk, BatchFaults
from summarizer.replay.faults import FaultKind, FaultPlan, Quirks
from summarizer.replay.latency import Latency
from summarizer.replay.prompt_cache import PromptCache
from summarizer.replay.quota import Limits, Quota, retry_headers
from summarizer.replay.stats import ServerStats, StatsSummary

__all__ = ["LoopbackServer", "ServerStats", "StatsSummary"]

_ARTICLE_BLOCK = re.compile(r"<article_text>\s*(.*?)\s*</article_text>", re.DOTALL)


_POLL = 0.1


def _hung_up(connection: socket.socket) -> bool:
    """True when the peer has closed the connection (it is readable, and reading gives nothing)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    arrived: float
    """When the request was read (monotonic seconds): its latency counts from here."""
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body waits for the client's delayed
    # ACK of the headers (40 ms on Linux), which a real endpoint does not add to every answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(body).encode("utf-8"), headers)

    def _send_bytes(
        self, status: int, data: bytes, headers: dict[str, str] | None = None, kind: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path.rstrip("/").endswith("/_stats"):
            # The server's own counts, for benchmarks and fault reports run against `summarizer serve`; not
            # counted as a request itself.
            self._send(HTTPStatus.OK, dict(owner.stats.summary()))
            return
        owner.stats.count("requests")
        if _batch_route(self.path):
            if self._refused_key():
                return
            status, body = owner.desk.get(self.path)
            if isinstance(body, bytes):
                self._send_bytes(status, body, kind="application/octet-stream")
            else:
                self._send(status, body)
        elif self.path.rstrip("/").endswith("/models"):
            models = sorted({r.request.model for r in owner.recordings.values()} | {"loopback"})
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "summarizer"} for m in models]
            self._send(HTTPStatus.OK, {"object": "list", "data": data})
        else:
            self._send(HTTPStatus.NOT_FOUND, error_body(f"no route {self.path}", "invalid_request_error", "not_found"))

    def do_POST(self) -> None:
        self.arrived = time.monotonic()
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        owner.stats.count("requests")
        batch = _batch_route(self.path)
        if not batch and not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(HTTPStatus.NOT_FOUND, error_body(f"no route {self.path}", "invalid_request_error", "not_found"))
            return
        if self._refused_key():
            return
        if batch:
            try:
                self._send(*owner.desk.post(self.path, self.headers.get("Content-Type", ""), raw))
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._send(HTTPStatus.BAD_REQUEST, error_body("body is not JSON", "invalid_request_error", "bad_json"))
            return
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(HTTPStatus.BAD_REQUEST, error_body("body is not JSON", "invalid_request_error", "bad_json"))
            return
        owner.answer(self, request)

    def _refused_key(self) -> bool:
        """Answer 401 when the server wants a key and this request does not carry it."""
        wanted = self.server.owner.require_key
        if wanted is None or self.headers.get("Authorization") == f"Bearer {wanted}":
            return False
        self._send(HTTPStatus.UNAUTHORIZED, error_body("invalid API key", "invalid_request_error", "invalid_api_key"))
        return True


def _batch_route(path: str) -> bool:
    parts = path.split("?", 1)[0].strip("/").split("/")
    return len(parts) >= 2 and parts[1] in ("files", "batches")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog of 5 drops connections when a client opens dozens at once, which a client
    # sees as connect timeouts that never reach the server.
    request_queue_size = 256
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up (a timeout, a dropped or slow answer) makes the handler's next read or write
        # fail; that is expected here, so the default traceback on stderr is kept for --verbose only.
        if self.owner.verbose:
            super().handle_error(request, client_address)


class LoopbackServer:
    """Serves ``recordings`` (by article id) on ``host:port``; port 0 picks a free one."""

    def __init__(
        self,
        recordings: dict[str, Record],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float | Latency = 0.0,
        limits: Limits | None = None,
        batches: BatchFaults | None = None,
        fail_first: int = 0,
        faults: FaultPlan | None = None,
        quirks: Quirks | None = None,
        require_key: str | None = None,
        verbose: bool = False,
        prompt_cache: PromptCache | None = None,
    ) -> None:
        """``latency``: seconds from a chat completion's arrival to its answer, fixed or drawn from a
        distribution. ``limits``: requests and tokens per minute, enforced with 429s and reported in
        ``x-ratelimit-*`` headers on every chat completion (see ``quota``). ``batches``: how its Batch API
        (``/v1/files``, ``/v1/batches``) goes wrong, if it does. ``faults``: which requests get a
        fault instead of their answer. ``fail_first``: answer the first N chat completions with 503, before
        ``faults``' own schedule; without ``faults`` those 503s carry ``Retry-After: 0``. ``quirks``: how every
        request departs from OpenAI's API. ``require_key``: answer 401 unless this key is sent. ``verbose``: log
        each request line (never the headers) and handler errors. ``prompt_cache``: the provider's prompt cache
        the answers' ``cached_tokens`` come from (by default a fresh one, as OpenAI's with five minutes' life)."""
        self.recordings = recordings
        self.latency = latency if isinstance(latency, Latency) else Latency(latency)
        self.limits = limits or Limits()
        self.quota = Quota(self.limits) if self.limits.active else None
        """The buckets of ``limits``, when any is set."""
        self.fail_first = fail_first
        leading: list[FaultKind | None] = ["503"] * fail_first
        if faults is None:
            faults = FaultPlan(schedule=leading, retry_after=0.0)
        elif leading:
            faults = faults.with_leading(leading)
        self.faults = faults
        self.quirks = quirks or Quirks()
        self.desk = BatchDesk(self.respond, batches)
        """The Files and Batch APIs' state."""
        self.require_key = require_key
        self.verbose = verbose
        self.prompt_cache = prompt_cache or PromptCache()
        self.stats = ServerStats()
        # Set on stop, so that held requests (latency, slow, timeout) end at once instead of pinning threads.
        self._stopping = threading.Event()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client (ends in ``/v1``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def _lookup(self, request: dict[str, Any]) -> tuple[str | None, Record | None]:
        """The article id the request asks about (None without an article block) and its recording."""
        match = _ARTICLE_BLOCK.search(message_text(request))
        if match is None:
            return None, None
        wanted = article_id(normalise_text(unfence_text(match.group(1))))
        return wanted, self.recordings.get(wanted)

    def answer(self, handler: _Handler, request: dict[str, Any]) -> None:
        """Answer one chat-completions request (called on the handler's thread)."""
        stats = self.stats
        with stats._lock:
            stats.arrivals.append(time.monotonic())
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            self._answer(handler, request)
        finally:
            with stats._lock:
                stats.in_flight -= 1

    def _answer(self, handler: _Handler, request: dict[str, Any]) -> None:
        # The server's own work is part of the latency, as an endpoint's is: the answer goes out `latency`
        # after the request came in, not `latency` plus the time taken to find it.
        wanted, record = self._lookup(request)
        limit_headers: dict[str, str] = {}
        if self.quota is not None:
            verdict = self.quota.admit(billed_tokens(record, request, self.quirks))
            limit_headers = verdict.headers
            if not verdict.admitted:
                # Refused at once, as a provider does: the request never reaches a model.
                self.stats.count("rate_limited")
                message = f"Rate limit reached for {verdict.limit} per minute; retry after the delay in Retry-After"
                headers = {**limit_headers, **retry_headers(verdict.retry_after)}
                handler._send(
                    HTTPStatus.TOO_MANY_REQUESTS, error_body(message, verdict.limit, "rate_limit_exceeded"), headers
                )
                return
        if self.latency:
            self._stopping.wait(max(0.0, handler.arrived + self.latency.draw() - time.monotonic()))
        if refuses(request, self.quirks):
            handler._send(
                HTTPStatus.BAD_REQUEST, error_body(TOOL_CHOICE_REFUSED, "invalid_request_error", "invalid_tool_choice")
            )
            return
        fault = self.faults.draw()
        if fault is not None:
            self.stats.count_fault(fault)
            if self._inject(fault, handler, request, record):
                return
        handler._send(*self.respond(request, (wanted, record)), limit_headers)

    def respond(
        self, request: dict[str, Any], found: tuple[str | None, Record | None] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The status and body answering a chat-completions ``request`` from its recording (``found``: its
        article id and recording, when already looked up); a Batch API line is answered by the same."""
        wanted, record = found or self._lookup(request)
        if wanted is None:
            self.stats.count("not_found")
            return HTTPStatus.BAD_REQUEST, error_body(
                "no <article_text> block in the messages", "invalid_request_error", "no_article"
            )
        if record is None:
            self.stats.count("not_found")
            return HTTPStatus.NOT_FOUND, error_body(
                f"no recording for article {wanted}; record it with `summarizer record`",
                "invalid_request_error",
                "recording_not_found",
            )
        self.stats.count("completions", wanted)
        return HTTPStatus.OK, completion_body(record, request, self.stats.completions, self.quirks, self.prompt_cache)

    def _inject(self, fault: FaultKind, handler: _Handler, request: dict[str, Any], record: Record | None) -> bool:
        """Act out ``fault`` (``record`` is the request's recording, if any); True when the request is done with,
        False when it is still to be answered."""
        if fault in STATUS_FAULTS:
            status, message, kind, code = STATUS_FAULTS[fault]
            headers = {"Retry-After": f"{self.faults.retry_after:g}"} if fault in ("429", "503") else None
            handler._send(status, error_body(message, kind, code), headers)
        elif fault == "drop":
            handler.close_connection = True
        elif fault == "timeout":
            self._hold(handler, self.faults.hang)
            handler.close_connection = True
        elif fault == "slow":
            if self._hold(handler, self.faults.slow_delay):
                return False
            handler.close_connection = True
        else:
            number = self.stats.requests
            handler._send_bytes(HTTPStatus.OK, fault_body(fault, record, request, number, self.quirks))
        return True

    def _hold(self, handler: _Handler, seconds: float) -> bool:
        """Wait ``seconds``; False if the client hung up or the server is stopping first. Ending early frees the
        thread: a run with many timeouts would otherwise pile up threads held for the whole hang."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, _POLL)) or _hung_up(handler.connection):
                return False
        return True

    def injected_failures_left(self) -> int:
        """How many of the first requests are still to fail with ``fail_first``'s 503."""
        return max(0, self.fail_first - self.faults.drawn)

    def start(self) -> LoopbackServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="loopback", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
