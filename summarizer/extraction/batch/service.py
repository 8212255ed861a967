"""Bulk runs through the OpenAI Batch API: submit the articles not yet cached, follow the batches, and collect
their answers into the cache as the same records a live run makes.

A batch's request bodies are built by the live client itself (``Extractor.request_body``: instructor's request,
captured before it is sent), so a batch asks exactly what a live run would, and its ``custom_id`` is the cache
key the live run would store the answer under. Collected answers go through the live path's validation
(``Extractor.extract`` with the answer given): an answer that fails it is re-asked live, with the reasons, as a
live one is, and a request the batch did not answer (a failed line, an expired or cancelled batch) is asked live
from the start. Records the batch answered are ``origin: batch`` (priced at the batch rate); those that needed
the live endpoint are ``recorded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from summarizer.config import Settings
from summarizer.errors import ConfigError, ExtractionError, InputError, TransportError, UserError
from summarizer.extraction.batch.jobs import ENDED, ENDPOINT, BatchState, BatchStore, input_line, split_lines
from summarizer.extraction.cache import ResponseCache, cache_key
from summarizer.extraction.client import Extractor, tls_context
from summarizer.extraction.failures import fault_text
from summarizer.extraction.prompts import PromptSet, load_prompts
from summarizer.extraction.results import ArticleResult, Progress
from summarizer.ingest.articles import Article, load_articles

_log = logging.getLogger(__name__)

NO_BATCH_KEY = "no API key: set OPENAI_API_KEY (any value for a local server given with --base-url)"


@dataclass(slots=True)
class Submitted:
    """What ``submit`` did: the batches created, and the articles it left out and why."""

    batches: list[BatchState] = field(default_factory=list)
    articles: int = 0
    cached: int = 0
    already_pending: int = 0
    pending_ids: set[str] = field(default_factory=set)
    """The batches not yet collected that hold some of the articles, those just submitted among them."""
    input_errors: list[InputError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Collected:
    """What ``collect`` made of one batch."""

    state: BatchState
    results: list[ArticleResult] = field(default_factory=list)
    from_batch: int = 0
    reasked: int = 0
    """Answers the batch gave that failed validation and were re-asked live."""
    asked_live: int = 0
    """Requests the batch did not answer, asked live."""
    notices: list[str] = field(default_factory=list)


class BatchRunner:
    """Submits, follows and collects batches for ``settings``' endpoint and model; state in its cache."""

    def __init__(self, settings: Settings, prompts: PromptSet | None = None) -> None:
        if settings.api_key is None:
            raise ConfigError(NO_BATCH_KEY)
        self.settings = settings
        self.prompts = prompts or load_prompts(settings.prompts_dir)
        self.store = BatchStore(settings.cache_dir)
        self.where = settings.base_url or "the OpenAI API"

    @contextlib.asynccontextmanager
    async def _client(self, on_404: str = "check the batch id") -> AsyncIterator[openai.AsyncOpenAI]:
        """An openai client for the Files and Batch APIs; its errors raised as one line, ``on_404`` the fix for a
        404."""
        assert self.settings.api_key is not None
        client = openai.AsyncOpenAI(
            api_key=self.settings.api_key.get_secret_value(),
            base_url=self.settings.base_url,
            timeout=self.settings.timeout,
            http_client=openai.DefaultAsyncHttpxClient(verify=tls_context()),
        )
        try:
            yield client
        except openai.AuthenticationError:
            raise ConfigError(f"{self.where} rejected the API key (401); check OPENAI_API_KEY") from None
        except openai.NotFoundError as exc:
            raise UserError(f"{fault_text(exc, self.where, self.settings.timeout)}; {on_404}") from None
        except openai.APIError as exc:
            raise TransportError(fault_text(exc, self.where, self.settings.timeout)) from None
        finally:
            await client.close()

    def _keys(self, articles: Sequence[Article]) -> dict[str, Article]:
        return {cache_key(a, self.settings, self.prompts): a for a in articles}

    async def submit(self, paths: Sequence[Path | str], *, max_requests: int | None = None) -> Submitted:
        """Send every article under ``paths`` that is neither cached nor in a batch not yet collected, in as
        many batches as the API's limits (50,000 requests, 200 MB) or ``max_requests`` need."""
        loaded = load_articles(paths, max_chars=self.settings.max_article_chars)
        done = Submitted(articles=len(loaded.articles), input_errors=loaded.errors, notices=list(loaded.warnings))
        pending = self.store.pending_keys()
        todo: dict[str, Article] = {}
        with ResponseCache(self.settings.cache_dir) as cache:
            for key, article in self._keys(loaded.articles).items():
                if key in pending:
                    done.already_pending += 1
                    done.pending_ids.add(pending[key])
                elif cache.get(key) is not None:
                    done.cached += 1
                else:
                    todo[key] = article
        if not todo:
            return done
        async with Extractor(self.settings, self.prompts, endpoint_name=self.where) as extractor:
            lines = [input_line(key, await extractor.request_body(a)) for key, a in todo.items()]
        keys = list(todo)
        absolute = [str(Path(p).resolve()) for p in paths]
        limits = {"max_requests": max_requests} if max_requests else {}
        async with self._client("it may have no Batch API: brief live (`summarizer brief` without --batch)") as client:
            start = 0
            for job in split_lines(lines, **limits):
                uploaded = await client.files.create(file=("summarizer-batch.jsonl", b"".join(job)), purpose="batch")
                batch = await client.batches.create(
                    input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h"
                )
                job_keys = keys[start : start + len(job)]
                start += len(job)
                state = BatchState(
                    id=batch.id,
                    input_file_id=uploaded.id,
                    endpoint=self.where,
                    model=self.settings.model,
                    mode=self.settings.mode,
                    paths=absolute,
                    requests={k: todo[k].source for k in job_keys},
                    status=batch.status,
                )
                self.store.save(state)
                done.batches.append(state)
                done.pending_ids.add(state.id)
                _log.info("batch %s: %d request(s) submitted", batch.id, len(job))
        return done

    def _check(self, state: BatchState) -> None:
        """Raise UserError when ``state``'s batch was submitted to another endpoint than the settings'."""
        if state.endpoint != self.where:
            flag = "without --base-url" if state.endpoint == "the OpenAI API" else f"--base-url {state.endpoint}"
            raise UserError(f"batch {state.id} was submitted to {state.endpoint}, not {self.where}; run it {flag}")

    async def refresh(self, state: BatchState) -> BatchState:
        """``state`` with the endpoint's current status and counts, saved."""
        self._check(state)
        async with self._client() as client:
            batch = await client.batches.retrieve(state.id)
        counts = batch.request_counts
        state = state.model_copy(
            update={
                "status": batch.status,
                "completed": counts.completed if counts else 0,
                "failed": counts.failed if counts else 0,
                "output_file_id": batch.output_file_id,
                "error_file_id": batch.error_file_id,
            }
        )
        self.store.save(state)
        return state

    async def cancel(self, state: BatchState) -> BatchState:
        """Ask the endpoint to stop ``state``'s batch; what it answered stays collectable."""
        self._check(state)
        async with self._client() as client:
            await client.batches.cancel(state.id)
        return await self.refresh(state)

    async def _answers(self, state: BatchState) -> tuple[dict[str, ChatCompletion], list[str]]:
        """The answers in the batch's output file by custom_id, and a note per line that could not be used."""
        answers: dict[str, ChatCompletion] = {}
        notes: list[str] = []
        async with self._client() as client:
            for file_id in (state.output_file_id, state.error_file_id):
                if file_id is None:
                    continue
                content = await client.files.content(file_id)
                for line in content.text.splitlines():
                    if not line.strip():
                        continue
                    custom_id, answer, problem = _read_result(line)
                    if answer is not None and custom_id is not None:
                        answers[custom_id] = answer
                    elif problem:
                        notes.append(f"{state.source(custom_id) if custom_id else 'a line'}: {problem}")
        return answers, notes

    async def collect(self, state: BatchState, progress: Progress | None = None) -> Collected:
        """Store the answers of ``state``'s batch, once it has ended, as records in the cache: each validated as a
        live answer is, the invalid ones re-asked live and the unanswered ones asked live. Articles already
        cached (by an earlier, interrupted collect) are left as they are. A batch still running is left too."""
        state = await self.refresh(state)
        collected = Collected(state)
        if state.status not in ENDED:
            return collected
        answers, notes = await self._answers(state)
        loaded = load_articles(state.paths, max_chars=self.settings.max_article_chars)
        by_key = self._keys(loaded.articles)
        missing = [k for k in state.requests if k not in by_key]
        if missing:
            collected.notices.append(
                f"batch {state.id}: {len(missing)} request(s) are for articles no longer at their path or asked "
                f"under other settings (model {state.model}, mode {state.mode}); they are not collected"
            )
        collected.notices.extend(f"batch {state.id}: {n}; asked live" for n in notes[:20])
        if len(notes) > 20:
            collected.notices.append(f"batch {state.id}: {len(notes) - 20} more line(s) like these, asked live")
        if state.status == "failed":
            collected.notices.append(
                f"batch {state.id} failed at {self.where} before answering; its {len(state.requests)} request(s) "
                "are asked live"
            )
        cache = ResponseCache(self.settings.cache_dir)
        try:
            gate = asyncio.Semaphore(self.settings.concurrency)
            async with Extractor(self.settings, self.prompts, endpoint_name=self.where) as extractor:

                async def one(key: str, article: Article) -> None:
                    async with gate:
                        result = await self._one(extractor, cache, key, article, answers.get(key), collected)
                    collected.results.append(result)
                    if progress is not None:
                        progress(result)

                try:
                    async with asyncio.TaskGroup() as group:
                        for key in state.requests:
                            if key in by_key:
                                group.create_task(one(key, by_key[key]))
                except BaseExceptionGroup as failed:  # no article can succeed (the key refused, say): say why
                    raise failed.exceptions[0] from None
        finally:
            cache.close()
        collected.state = state.model_copy(update={"state": "collected"})
        self.store.save(collected.state)
        return collected

    async def _one(
        self,
        extractor: Extractor,
        cache: ResponseCache,
        key: str,
        article: Article,
        answer: ChatCompletion | None,
        collected: Collected,
    ) -> ArticleResult:
        hit = cache.get(key)
        if hit is not None:
            return ArticleResult(article, "cached", hit)
        try:
            record = await extractor.extract(article, key, answer=answer)
        except ExtractionError as exc:
            return ArticleResult(article, "failed", error=str(exc), exception=exc, attempts=exc.attempts)
        if answer is None:
            collected.asked_live += 1
        elif record.response.attempts == 1:
            collected.from_batch += 1
            record = record.model_copy(update={"origin": "batch"})
        else:
            collected.reasked += 1
        cache.put(record)
        return ArticleResult(article, "fetched", record, spent=record.response.usage, attempts=record.response.attempts)


def _read_result(line: str) -> tuple[str | None, ChatCompletion | None, str | None]:
    """A result line's custom_id, its answer if it has a usable one, else what is wrong with it."""
    try:
        entry: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError:
        return None, None, "a result line is not JSON"
    custom_id = entry.get("custom_id") if isinstance(entry.get("custom_id"), str) else None
    response = entry.get("response") or {}
    error = entry.get("error") or {}
    if response.get("status_code") == 200:
        try:
            return custom_id, ChatCompletion.model_validate(response.get("body")), None
        except ValidationError:
            return custom_id, None, "the batch's answer is not a chat completion"
    if isinstance(error, dict) and error.get("code"):
        return custom_id, None, f"the batch did not run it ({error.get('code')})"
    body = response.get("body") or {}
    message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
    return custom_id, None, f"the batch answered {response.get('status_code')}: {message or 'no message'}"
