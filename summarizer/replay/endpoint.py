"""The one seam between production and the replay server: an ``EndpointFactory`` that serves a recordings
folder on a loopback port, for ``--replay``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr

from summarizer.config import Settings
from summarizer.errors import ConfigError
from summarizer.extraction.pipeline import Endpoint, EndpointFactory
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import Record, read_recordings, schema_hash
from summarizer.extraction.tasks import synthesis_schema_hash
from summarizer.hashing import digest
from summarizer.replay.server import LoopbackServer


def cache_namespace(recordings: dict[str, Record]) -> str:
    """Replayed answers are cached under keys of their own, so that they never answer a live run; the keys
    change with the recordings served, so that an edited recording is served, not its cached copy."""
    return digest("replay-", *sorted(r.to_json() for r in recordings.values()))


def _names(records: list[Record]) -> str:
    names = sorted(Path(r.request.article_source).name for r in records)
    return f"{', '.join(names[:5])}{', …' if len(names) > 5 else ''}"


def _for_model(recordings: dict[str, Record], directory: Path, model: str) -> tuple[dict[str, Record], list[str]]:
    """The recordings made for ``model``, and a notice naming those left out. Raises ConfigError when none
    is: a recording is one model's answer, never served as another's."""
    served = {key: r for key, r in recordings.items() if r.request.model == model}
    others = [r for r in recordings.values() if r.request.model != model]
    if recordings and not served:
        made_for = sorted({r.request.model for r in others})
        raise ConfigError(
            f"{directory}: the recordings were made for {', '.join(made_for)}, not {model}; "
            f"pass --model {made_for[0]} (or unset SUMMARIZER_MODEL) to replay them, or record {model}'s answers "
            "with `summarizer record`"
        )
    notices = []
    if others:
        notices.append(
            f"{len(others)} recording(s) in {directory} were made for another model and are not served "
            f"({_names(others)}); their articles are left out"
        )
    return served, notices


def replay(recordings_dir: Path | str) -> EndpointFactory:
    """A stand-in endpoint serving the recordings in ``recordings_dir`` that were made for the settings' model.

    Recordings made for another prompt or schema are still served, with a notice naming them."""
    directory = Path(recordings_dir)

    @contextlib.contextmanager
    def serve(settings: Settings) -> Iterator[Endpoint]:
        # Every task's recordings are served: a briefing's top line is asked of the same folder as its records.
        recordings, notices = _for_model(read_recordings(directory, task=None), directory, settings.model)
        current = {
            task: (load_prompts(settings.prompts_dir, task).hash, schema)
            for task, schema in (("extract", schema_hash()), ("synthesize", synthesis_schema_hash()))
            if any(r.request.task == task for r in recordings.values())
        }
        stale = [
            r for r in recordings.values() if (r.request.prompt_hash, r.request.schema_hash) != current[r.request.task]
        ]
        if stale:
            notices.append(
                f"{len(stale)} recording(s) in {directory} were made for another prompt or schema "
                f"({_names(stale)}); re-record them with `summarizer record`, or renew them with "
                "`summarizer recordings rehash` if their answers still hold"
            )
        with LoopbackServer(recordings) as server:
            yield Endpoint(
                settings=settings.replace(base_url=server.url, api_key=SecretStr("replay")),
                name=f"the recordings in {directory}",
                cache_namespace=cache_namespace(recordings),
                origins={article_id: r.origin for article_id, r in recordings.items()},
                notices=tuple(notices),
            )

    return serve
