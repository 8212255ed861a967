"""``summarizer api`` (the HTTP service on uvicorn) and ``summarizer worker`` (arq jobs from the shared Redis).

Both check what they depend on before they start, so that a mistake is one line and exit 2: the settings, the
price table, Redis answering at ``--cache-url``, and for the service a bearer token on any address but loopback.
"""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Annotated

import typer

from summarizer.app.console import say
from summarizer.app.options import RunOptions
from summarizer.errors import UserError

if TYPE_CHECKING:
    from summarizer.config import Settings

TOKEN_ENV = "SUMMARIZER_API_TOKEN"  # noqa: S105 (the variable's name, not a token)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``), reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_cache(options: RunOptions) -> tuple[Settings, str]:
    """The settings, once the cache (Redis, if asked for) answers; and how messages name the cache."""
    from summarizer.app.api import check_briefing_inputs
    from summarizer.extraction.backends import open_backend

    settings = options.settings()
    check_briefing_inputs(settings)
    store = open_backend(settings).store
    location = store.location
    store.close()
    return settings, location


def api(
    host: Annotated[str, typer.Option("--host", help="Address to bind; off loopback it needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8080,
    max_body: Annotated[int, typer.Option("--max-body", help="Bytes a request body may have.", min=1)] = 5 * 2**20,
    max_articles: Annotated[int, typer.Option("--max-articles", help="Articles one request may send.", min=1)] = 1000,
    at_once: Annotated[
        int,
        typer.Option("--answer-at-once", help="More articles than this become a job (with --cache-url).", min=1),
    ] = 50,
    *,
    options: RunOptions,
) -> None:
    """Serve briefings and extractions over HTTP (FastAPI; docs at /docs), with the same pipeline and cache.
    Requests need the bearer token in SUMMARIZER_API_TOKEN when it is set, which it must be off loopback."""
    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        raise UserError(f"--host {host} is reachable from other machines: set {TOKEN_ENV} to the bearer token "
                        "requests must carry, or bind to 127.0.0.1")  # fmt: skip
    settings, location = _check_cache(options)

    import uvicorn

    from summarizer.service.http import Limits, create_app

    app = create_app(settings, token=token, limits=Limits(max_body, max_articles, at_once), warm=True)
    say(f"serving the API at http://{host}:{port} (docs at /docs; cache: {location}; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="info" if options.verbose else "warning", access_log=False)


def worker(
    jobs: Annotated[int, typer.Option("--jobs", help="Chunks of a job worked on at once.", min=1)] = 2,
    burst: Annotated[bool, typer.Option("--burst", help="Stop once the queue is empty.")] = False,
    *,
    options: RunOptions,
) -> None:
    """Take the service's long jobs from the Redis at --cache-url; start one per machine to add capacity."""
    settings, location = _check_cache(options)
    if settings.cache_url is None:
        raise UserError("summarizer worker needs --cache-url redis://HOST:PORT/DB (or SUMMARIZER_CACHE_URL): the "
                        "Redis its jobs come from")  # fmt: skip
    from summarizer.service.jobs import make_worker

    say(f"taking jobs from {location}, {jobs} chunk(s) at a time (Ctrl-C stops)")
    make_worker(settings, max_jobs=jobs, burst=burst).run()
