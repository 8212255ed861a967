"""Long requests as jobs on arq's task queue, in the Redis the cache is in.

A job is split into chunks of ``CHUNK`` articles, each an arq job that any worker may take, so that a second
worker (on this machine or another) halves a long job. Each chunk's records go to the shared cache; the worker
that finishes the last chunk queues the job's finish, which answers the whole request from the cache (fetching
whatever a failed chunk left out) and keeps the answer in Redis for ``KEEP`` seconds.

arq rather than RQ or Celery: it is asyncio throughout, as the pipeline is, so one worker process runs several
chunks in one event loop, each with its requests in flight, and it needs nothing but the Redis already there.
Jobs travel as JSON, never pickles, so that writing to Redis does not let anyone run code in a worker."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker, func

from summarizer.app.api import aextract_articles
from summarizer.config import Settings
from summarizer.errors import SummarizerError
from summarizer.extraction.redis_backend import PREFIX
from summarizer.service.answers import Answer, briefing_answer, extractions_answer, request_articles
from summarizer.service.models import BriefingRequest, ExtractionRequest, JobOut, JobStatus

_log = logging.getLogger(__name__)

JOBS = PREFIX + "job:"
CHUNK = 24
"""Articles per chunk: small enough that two workers share even a short job, large enough that each chunk
keeps a worker's requests in flight; a multiple of the default concurrency (8), so that none waits alone."""
KEEP = 24 * 3600
"""Seconds a job and its answer are kept."""
JOB_TIMEOUT = 900
"""Seconds a chunk may take; a chunk whose worker died is taken up again by another worker after this."""
Kind = Literal["briefing", "extractions"]


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode("utf-8")


def _loads(raw: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for the Redis at ``url``."""
    return RedisSettings.from_dsn(url)


async def queue_pool(url: str) -> ArqRedis:
    """A connection to the job queue at ``url`` that sends jobs as JSON."""
    return await create_pool(redis_settings(url), job_serializer=_dumps, job_deserializer=_loads)


def _request(kind: Kind, data: dict[str, Any]) -> ExtractionRequest:
    return BriefingRequest.model_validate(data) if kind == "briefing" else ExtractionRequest.model_validate(data)


@dataclass(slots=True)
class Jobs:
    """Submits jobs and reads what became of them (the API's side of the queue)."""

    pool: ArqRedis

    async def submit(self, kind: Kind, request: ExtractionRequest) -> str:
        """Queue ``request`` as a job; returns its id."""
        job = uuid.uuid4().hex
        count = len(request.articles)
        chunks = (count + CHUNK - 1) // CHUNK
        doc = {"kind": kind, "request": request.model_dump(mode="json"), "articles": count, "chunks": chunks}
        await self.pool.set(JOBS + job, json.dumps(doc), ex=KEEP)
        for index in range(chunks):
            await self.pool.enqueue_job("extract_chunk", job, index, _job_id=f"{job}:{index}")
        return job

    async def status(self, job: str, base: str) -> JobOut | None:
        """The job's progress; None for a job this queue does not know (or no longer keeps)."""
        raw = await self.pool.get(JOBS + job)
        if raw is None:
            return None
        doc = json.loads(raw)
        started, done = (int(n or 0) for n in await self.pool.mget(JOBS + job + ":started", JOBS + job + ":done"))
        outcome, reason = await self.pool.mget(JOBS + job + ":status", JOBS + job + ":error")
        status: JobStatus = "queued" if not started else "running"
        error = None
        if outcome is not None:
            status = "complete" if outcome == b"complete" else "failed"
            error = reason.decode() if reason is not None else None
        return JobOut(
            job=job,
            status=status,
            articles=doc["articles"],
            chunks_done=done,
            chunks=doc["chunks"],
            status_url=f"{base}/v1/jobs/{job}",
            result_url=f"{base}/v1/jobs/{job}/result" if status == "complete" else None,
            error=error,
        )

    async def answer(self, job: str) -> Answer | None:
        """The finished job's answer; None until it is complete."""
        status, body, media_type = await self.pool.mget(
            JOBS + job + ":status", JOBS + job + ":body", JOBS + job + ":media_type"
        )
        if status != b"complete" or body is None or media_type is None:
            return None
        return Answer(body, media_type.decode())


async def _failed(client: ArqRedis, job: str, reason: str) -> None:
    await client.set(JOBS + job + ":error", reason, ex=KEEP)
    await client.set(JOBS + job + ":status", "failed", ex=KEEP)


async def extract_chunk(ctx: dict[str, Any], job: str, index: int) -> int:
    """Extract chunk ``index`` of ``job`` into the shared cache; the last chunk done queues the job's finish.
    Returns how many of its articles have a record."""
    client: ArqRedis = ctx["redis"]
    settings: Settings = ctx["settings"]
    raw = await client.get(JOBS + job)
    if raw is None:
        return 0  # expired, or cleared meanwhile
    doc = json.loads(raw)
    await client.incr(JOBS + job + ":started")
    await client.expire(JOBS + job + ":started", KEEP)
    articles, _ = request_articles(_request(doc["kind"], doc["request"]), settings)
    try:
        run = await aextract_articles(articles[index * CHUNK : (index + 1) * CHUNK], settings)
    except SummarizerError as exc:  # the settings, not the articles (the endpoint refused the key, say)
        await _failed(client, job, str(exc))
        return 0
    done = int(await client.incr(JOBS + job + ":done"))
    await client.expire(JOBS + job + ":done", KEEP)
    if done == doc["chunks"]:
        await client.enqueue_job("finish_job", job, _job_id=f"{job}:finish")
    return len(run.records)


async def finish_job(ctx: dict[str, Any], job: str) -> str:
    """Answer ``job`` from the cache (its chunks filled it) and keep the answer; returns its status."""
    client: ArqRedis = ctx["redis"]
    settings: Settings = ctx["settings"]
    raw = await client.get(JOBS + job)
    if raw is None:
        return "failed"
    doc = json.loads(raw)
    request = _request(doc["kind"], doc["request"])
    try:
        if isinstance(request, BriefingRequest):
            answer = await briefing_answer(request, settings)
        else:
            answer = await extractions_answer(request, settings)
    except SummarizerError as exc:
        await _failed(client, job, str(exc))
        return "failed"
    await client.set(JOBS + job + ":body", answer.body, ex=KEEP)
    await client.set(JOBS + job + ":media_type", answer.media_type, ex=KEEP)
    await client.set(JOBS + job + ":status", "complete", ex=KEEP)  # last: the answer is whole once it says so
    return "complete"


async def warm_up(ctx: dict[str, Any] | None = None) -> None:
    """Pay a process's one-off costs before the first job or request does: importing openai and instructor, and
    loading the embedding model the merge uses."""
    import asyncio

    from summarizer.briefing.similarity import Embeddings

    def load() -> None:
        import summarizer.extraction.client  # noqa: F401

        Embeddings().of(["warm-up"])

    await asyncio.to_thread(load)


def make_worker(settings: Settings, *, max_jobs: int = 2, burst: bool = False, handle_signals: bool = True) -> Worker:
    """An arq worker taking this service's jobs from ``settings.cache_url``, ``max_jobs`` chunks at a time
    (each with ``settings.concurrency`` requests in flight). With ``burst``, it stops once the queue is empty."""
    assert settings.cache_url is not None
    return Worker(
        [func(extract_chunk, name="extract_chunk"), func(finish_job, name="finish_job")],
        redis_settings=redis_settings(settings.cache_url),
        ctx={"settings": settings},
        on_startup=warm_up,
        max_jobs=max_jobs,
        burst=burst,
        handle_signals=handle_signals,
        job_timeout=JOB_TIMEOUT,
        keep_result=KEEP,
        poll_delay=0.2,
        job_serializer=_dumps,
        job_deserializer=_loads,
    )
