"""A small OpenAI-compatible chat-completions server that answers from recordings.

Tests, ``--replay``, ``record`` and benchmarks point the real openai client at it over real HTTP. It finds the
article in the request's ``<article_text>`` block, looks its id up among the recordings and answers in the
shape the request asked for: a tool call when the request carries ``tools``, JSON message content otherwise.
It binds to loopback by default, can add latency and fail the first requests (to exercise retries), and never
logs request headers, so an API key sent to it appears nowhere.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .ingest import article_id, normalise_text
from .records import LOOPBACK_FINGERPRINT, Record

_ARTICLE_BLOCK = re.compile(r"<article_text>\s*(.*?)\s*</article_text>", re.DOTALL)


@dataclass
class ServerStats:
    """What the server has seen; read it after a run to count requests."""

    requests: int = 0
    completions: int = 0
    by_article: dict[str, int] = field(default_factory=dict)
    injected_failures: int = 0
    not_found: int = 0
    in_flight: int = 0
    """Chat-completion requests being answered now."""
    max_in_flight: int = 0
    """The most chat-completion requests answered at once."""
    arrivals: list[float] = field(default_factory=list)
    """``time.monotonic()`` of each chat-completion request's arrival."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, attribute: str, article: str | None = None) -> None:
        """Add one to ``attribute`` (and to ``article``'s tally)."""
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + 1)
            if article is not None:
                self.by_article[article] = self.by_article.get(article, 0) + 1


def _estimate_tokens(text: str) -> int:
    # Authored recordings carry no usage; a rough four-characters-a-token estimate keeps the field present.
    return max(1, math.ceil(len(text) / 4))


def _message_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return "\n".join(parts)


def _prompt_text(body: dict[str, Any]) -> str:
    """What an endpoint bills as the prompt: the messages, and the schema sent as tools or response format."""
    schema = {k: body[k] for k in ("tools", "functions", "response_format") if body.get(k)}
    return _message_text(body) + (json.dumps(schema, separators=(",", ":")) if schema else "")


def _tool_name(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        name = (tools[0].get("function") or {}).get("name")
        return name if isinstance(name, str) else None
    return None


def completion_body(record: Record, request: dict[str, Any], number: int) -> dict[str, Any]:
    """The chat completion answering ``request`` with ``record``'s output."""
    payload = json.dumps(record.output, ensure_ascii=False)
    tool = _tool_name(request)
    if tool is not None:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"call_{number}", "type": "function", "function": {"name": tool, "arguments": payload}}
            ],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": payload}
        finish = "stop"
    recorded = record.response.usage
    prompt = recorded.prompt_tokens if recorded else _estimate_tokens(_prompt_text(request))
    completion = recorded.completion_tokens if recorded else _estimate_tokens(payload)
    return {
        "id": f"chatcmpl-loopback-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": record.response.model or str(request.get("model", "loopback")),
        "system_fingerprint": LOOPBACK_FINGERPRINT + record.origin,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _error(message: str, kind: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.stats.count("requests")
        if self.path.rstrip("/").endswith("/models"):
            models = sorted({r.request.model for r in owner.recordings.values()} | {"loopback"})
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "summarizer"} for m in models]
            self._send(HTTPStatus.OK, {"object": "list", "data": data})
        else:
            self._send(HTTPStatus.NOT_FOUND, _error(f"no route {self.path}", "invalid_request_error", "not_found"))

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        owner.stats.count("requests")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(HTTPStatus.NOT_FOUND, _error(f"no route {self.path}", "invalid_request_error", "not_found"))
            return
        if owner.require_key is not None and self.headers.get("Authorization") != f"Bearer {owner.require_key}":
            self._send(HTTPStatus.UNAUTHORIZED, _error("invalid API key", "invalid_request_error", "invalid_api_key"))
            return
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(HTTPStatus.BAD_REQUEST, _error("body is not JSON", "invalid_request_error", "bad_json"))
            return
        owner.answer(self, request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """Serves ``recordings`` (by article id) on ``host:port``; port 0 picks a free one."""

    def __init__(
        self,
        recordings: dict[str, Record],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        fail_first: int = 0,
        require_key: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.recordings = recordings
        self.latency = latency
        self.fail_first = fail_first
        self.require_key = require_key
        self.verbose = verbose
        self.stats = ServerStats()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client (ends in ``/v1``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

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
        if self.latency:
            time.sleep(self.latency)
        with self.stats._lock:
            fail = self.injected_failures_left() > 0
            if fail:
                self.stats.injected_failures += 1
        if fail:
            handler._send(
                HTTPStatus.SERVICE_UNAVAILABLE,
                _error("injected failure", "server_error", "unavailable"),
                {"Retry-After": "0"},
            )
            return
        match = _ARTICLE_BLOCK.search(_message_text(request))
        if match is None:
            self.stats.count("not_found")
            handler._send(
                HTTPStatus.BAD_REQUEST,
                _error("no <article_text> block in the messages", "invalid_request_error", "no_article"),
            )
            return
        wanted = article_id(normalise_text(match.group(1)))
        record = self.recordings.get(wanted)
        if record is None:
            self.stats.count("not_found")
            handler._send(
                HTTPStatus.NOT_FOUND,
                _error(
                    f"no recording for article {wanted}; record it with `summarizer record`",
                    "invalid_request_error",
                    "recording_not_found",
                ),
            )
            return
        self.stats.count("completions", wanted)
        handler._send(HTTPStatus.OK, completion_body(record, request, self.stats.completions))

    def injected_failures_left(self) -> int:
        """How many of the first requests are still to fail."""
        return self.fail_first - self.stats.injected_failures

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
