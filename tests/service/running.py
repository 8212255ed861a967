"""The service and its workers, run for real on loopback within a test: uvicorn on a free port on a thread of
its own, arq workers on theirs."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

import uvicorn

from summarizer.config import Settings
from summarizer.service.http import Limits, create_app
from summarizer.service.jobs import make_worker
from tests.conftest import free_port


@contextlib.contextmanager
def running_service(settings: Settings, *, token: str | None = None, limits: Limits | None = None) -> Iterator[str]:
    """``summarizer api``'s app for ``settings``, served by uvicorn; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings, token=token, limits=limits), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def running_workers(settings: Settings, count: int = 1) -> Iterator[None]:
    """``count`` arq workers taking jobs from ``settings.cache_url`` until the block ends."""
    workers = []
    threads = []

    def work() -> None:
        worker = make_worker(settings, handle_signals=False)
        workers.append(worker)
        worker.run()

    for _ in range(count):
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
    try:
        yield
    finally:
        for worker in workers:
            # arq's own stop (as on SIGTERM), run on the worker's loop: tasks are cancelled only from their loop.
            worker.loop.call_soon_threadsafe(worker.handle_sig, signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=20)
