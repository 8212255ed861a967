"""Shared fixtures. Tests reach no network: connections are allowed to loopback addresses only."""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from summarizer.config import Settings, load_settings
from summarizer.defaults import ENV_VARS
from summarizer.extraction.prompts import bundled_prompts_dir
from summarizer.extraction.records import Record, read_recordings
from summarizer.replay.server import LoopbackServer
from tests.redis_server import NO_REDIS, REDIS_SERVER, RedisServer

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = ROOT / "fixtures" / "recordings"
FAKE_KEY = "fake-key-for-tests-7f3a9c1e5b"
DEADLINE = 30.0
"""Seconds any wait in the tests may take before it counts as a hang."""

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise RuntimeError(f"tests must not reach the network (tried {host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real endpoint, no user settings, a fresh cache per test."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    for var in [*ENV_VARS, "SUMMARIZER_CONFIG"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def recordings() -> dict[str, Record]:
    return read_recordings(RECORDINGS)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """The loopback server with every recording of the examples: the articles' and the story's top line."""
    with LoopbackServer(read_recordings(RECORDINGS, task=None)) as running:
        yield running


@pytest.fixture
def settings(server: LoopbackServer, tmp_path: Path) -> Settings:
    """Settings that point at the loopback server with a recognisable fake key."""
    return load_settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=tmp_path / "cache")


def interruptible() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: the child takes SIGINT (Ctrl-C) as a terminal's child does. A
    shell running the tests as a background job starts them with SIGINT ignored, which a child inherits, and
    Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def settings_for(server: LoopbackServer, cache: Path, concurrency: int = 8) -> Settings:
    """Settings for ``server`` with the fake key, caching in ``cache``."""
    return load_settings(base_url=server.url, api_key=FAKE_KEY, cache_dir=cache, concurrency=concurrency)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``DEADLINE`` seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def error_lines(result: Result) -> list[str]:
    """The ``error:`` lines a CLI run wrote to standard error."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@contextlib.contextmanager
def scripted_endpoint(
    answers: list[tuple[int, bytes]], on_request: Callable[[bytes], None] | None = None
) -> Iterator[str]:
    """An endpoint giving ``answers`` (status, JSON body) in order, the last one again once they run out, and
    handing each request's body to ``on_request``; yields its base URL. For answers the replay server does not
    give (malformed, looser than openai's type, a status with a given body)."""
    queue = list(answers)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers["content-length"]))
            if on_request is not None:
                on_request(sent)
            status, body = queue.pop(0) if len(queue) > 1 else queue[0]
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            if status == 503:
                self.send_header("retry-after", "0")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as endpoint:
        thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{endpoint.server_address[1]}/v1"
        finally:
            endpoint.shutdown()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped after the test; the test skips without one."""
    if REDIS_SERVER is None:
        pytest.skip(NO_REDIS)
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "llamacpp: runs llama.cpp's real server on a tiny model; skipped unless xllamacpp is installed"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite the golden briefing files instead of comparing."
    )


def reworded_prompts(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str, rule: str) -> Path:
    """A copy of the bundled prompts in ``folder`` with ``rule`` added to the prompt file ``name``, made the
    settings' prompts (``SUMMARIZER_PROMPTS_DIR``)."""
    shutil.copytree(bundled_prompts_dir(), folder)
    prompt = folder / name
    prompt.write_text(prompt.read_text(encoding="utf-8") + f"\n- {rule}\n", encoding="utf-8")
    monkeypatch.setenv("SUMMARIZER_PROMPTS_DIR", str(folder))
    return folder
