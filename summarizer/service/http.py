"""The HTTP service: FastAPI routes over the Python API, the same pipeline and cache as the command line.

Every refusal is a 4xx with a one-line ``{"error": ...}``: a missing or wrong token, a body over the limit,
too many articles, a field that fails validation. Nothing the service says carries the provider's key: errors
are the package's one-line messages (the key already masked), and ``/healthz`` names only the cache."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from summarizer.config import Settings
from summarizer.errors import ConfigError, ExtractionError, UserError, first_problem
from summarizer.service.answers import Answer, briefing_answer, extractions_answer, request_articles
from summarizer.service.jobs import Jobs, Kind, queue_pool, warm_up
from summarizer.service.models import BriefingRequest, ExtractionRequest, JobOut, Problem

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask for."""

    max_body: int = 5 * 1024 * 1024
    """Bytes in a request body."""
    max_articles: int = 1000
    """Articles in one request."""
    answer_at_once: int = 50
    """Requests with more articles than this become jobs (with a job queue), unless they ask to wait."""


class Refused(Exception):
    """A request the service refuses, with its status and one-line reason."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


def _problem(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": what}
    for code, what in {
        401: "No bearer token, or the wrong one.",
        413: "The body or the number of articles is over the service's limit.",
        422: "A field failed validation, or an article cannot be used.",
        502: "No article could be extracted (the endpoint failed).",
        503: "The service's own settings stop it (its endpoint refused the key, say).",
    }.items()
}


class BodyLimit:
    """Refuses a body over ``max_body`` bytes before it is read (413), and a body of unknown length (411): the
    server reads exactly the Content-Length it was given, so a declared length is the body's."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"").decode()
            refusal = None
            if not declared.isdigit():
                if b"transfer-encoding" in headers:
                    refusal = _problem(411, "send the body with a Content-Length header, not in chunks")
            elif int(declared) > self.max_body:
                refusal = _problem(413, f"the body is {declared} bytes; at most {self.max_body} (split the articles)")
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


_BEARER = HTTPBearer(auto_error=False, description="The token in SUMMARIZER_API_TOKEN.")


class Authorised:
    """The dependency every route but ``/healthz`` has: the bearer token, compared in constant time."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token is not None else None

    def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if self._token is None:
            return
        if credentials is None or not secrets.compare_digest(credentials.credentials.encode(), self._token):
            raise Refused(401, "missing or wrong bearer token; send Authorization: Bearer $SUMMARIZER_API_TOKEN",
                          {"WWW-Authenticate": "Bearer"})  # fmt: skip


def create_app(
    settings: Settings, *, token: str | None = None, limits: Limits | None = None, warm: bool = False
) -> FastAPI:
    """The service for ``settings`` (its cache, endpoint and limits). ``token``: the bearer token every request
    but ``/healthz`` must carry; None for none (loopback only: the command refuses otherwise). Long requests
    become jobs when ``settings.cache_url`` names the Redis that workers take them from. With ``warm``, the
    one-off costs of a process (imports, the embedding model) are paid at start, not by the first request."""
    limits = limits or Limits()
    state: dict[str, Jobs] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            await warm_up()
        if settings.cache_url is None:
            yield
            return
        pool = await queue_pool(settings.cache_url)
        state["jobs"] = Jobs(pool)
        try:
            yield
        finally:
            await pool.aclose()

    app = FastAPI(
        title="summarizer",
        summary="Structured, sourced briefings from news articles on a conflict, extracted by an LLM.",
        version="1",
        lifespan=lifespan,
        responses=_REFUSALS,
    )
    authorised = Authorised(token)

    app.add_middleware(BodyLimit, max_body=limits.max_body)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return _problem(exc.status, exc.reason, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid body"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return _problem(422, f"{where}: {first.get('msg', 'invalid')}; fix the request body")

    @app.exception_handler(ConfigError)
    async def misconfigured(_: Request, exc: ConfigError) -> JSONResponse:
        # The service's own settings (its endpoint refused the key, say), not the request, must change.
        return _problem(503, str(exc))

    @app.exception_handler(UserError)
    async def unusable(_: Request, exc: UserError) -> JSONResponse:
        return _problem(422, str(exc))

    @app.exception_handler(ExtractionError)
    async def upstream(_: Request, exc: ExtractionError) -> JSONResponse:
        first = str(exc.causes[0]) if exc.causes else str(exc)
        return _problem(502, f"no article could be extracted; the first failure: {first}")

    @app.exception_handler(ValidationError)
    async def stored_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        return _problem(422, f"{first_problem(exc, 'body')}; fix the request body")

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def respond(kind: Kind, body: ExtractionRequest, request: Request) -> Response:
        count = len(body.articles)
        if count > limits.max_articles:
            raise Refused(413, f"{count} articles in one request; at most {limits.max_articles} (split them)")
        articles, _ = request_articles(body, settings)  # an unusable article is refused before anything is sent
        jobs = state.get("jobs")
        as_job = body.wait is False or (body.wait is None and count > limits.answer_at_once)
        if as_job and jobs is not None:
            job = await jobs.submit(kind, body)
            status = await jobs.status(job, base_url(request))
            assert status is not None
            return JSONResponse(status.model_dump(exclude_none=True), status_code=202,
                                headers={"Location": status.status_url})  # fmt: skip
        if as_job and body.wait is False:
            raise Refused(422, "wait: false needs a job queue; start the service with --cache-url redis://…")
        answer: Answer
        if isinstance(body, BriefingRequest):
            answer = await briefing_answer(body, settings, articles)
        else:
            answer = await extractions_answer(body, settings, articles)
        return Response(answer.body, media_type=answer.media_type)

    @app.get("/healthz", summary="Whether the service is up, and where its cache is")
    async def healthz() -> dict[str, Any]:
        from summarizer.extraction.redis_backend import public_url

        cache = public_url(settings.cache_url) if settings.cache_url else "local"
        return {"status": "ok", "cache": cache, "jobs": "jobs" in state}

    @app.post(
        "/v1/briefings",
        summary="Merge articles into one cited briefing (json, md or html)",
        dependencies=[Depends(authorised)],
        responses={200: {"content": {"text/markdown": {}, "text/html": {}}}, 202: {"model": JobOut}},
    )
    async def briefings(body: BriefingRequest, request: Request) -> Response:
        """The briefing, rendered as ``format`` asks; 202 and a job to poll for a long request."""
        return await respond("briefing", body, request)

    @app.post(
        "/v1/extractions",
        summary="Extract each article into its structured record",
        dependencies=[Depends(authorised)],
        responses={202: {"model": JobOut}},
    )
    async def extractions(body: ExtractionRequest, request: Request) -> Response:
        """Every article's record, or why there is none; 202 and a job to poll for a long request."""
        return await respond("extractions", body, request)

    @app.get("/v1/jobs/{job}", summary="A job's progress", dependencies=[Depends(authorised)])
    async def job_status(job: str, request: Request) -> JobOut:
        """Queued, running, complete (the answer at ``result_url``) or failed (with the reason)."""
        jobs = state.get("jobs")
        status = await jobs.status(job, base_url(request)) if jobs is not None else None
        if status is None:
            raise Refused(404, f"no job {job}; jobs are kept for a day")
        return status

    @app.get("/v1/jobs/{job}/result", summary="A complete job's answer", dependencies=[Depends(authorised)])
    async def job_result(job: str) -> Response:
        """The answer, as the request that made the job asked for it; 409 until it is complete."""
        jobs = state.get("jobs")
        answer = await jobs.answer(job) if jobs is not None else None
        if answer is None:
            status = await jobs.status(job, "") if jobs is not None else None
            if status is None:
                raise Refused(404, f"no job {job}; jobs are kept for a day")
            if status.status == "failed":
                raise Refused(409, f"job {job} failed: {status.error}")
            raise Refused(409, f"job {job} is {status.status}; poll /v1/jobs/{job} until it is complete")
        return Response(answer.body, media_type=answer.media_type)

    return app
