"""The one seam between production and the replay server: an ``EndpointFactory`` that serves a recordings
folder on a loopback port, for ``--replay``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr

from summarizer.config import Settings
from summarizer.extraction.pipeline import Endpoint, EndpointFactory
from summarizer.extraction.prompts import load_prompts
from summarizer.extraction.records import read_recordings, schema_hash
from summarizer.replay.server import LoopbackServer


def replay(recordings_dir: Path | str) -> EndpointFactory:
    """A stand-in endpoint serving the recordings in ``recordings_dir``.

    Recordings made for another prompt or schema are still served, with a notice naming them."""
    directory = Path(recordings_dir)

    @contextlib.contextmanager
    def serve(settings: Settings) -> Iterator[Endpoint]:
        recordings = read_recordings(directory)
        current_prompt, current_schema = load_prompts(settings.prompts_dir).hash, schema_hash()
        stale = sorted(
            Path(r.request.article_source).name
            for r in recordings.values()
            if (r.request.prompt_hash, r.request.schema_hash) != (current_prompt, current_schema)
        )
        notices = []
        if stale:
            notices.append(
                f"{len(stale)} recording(s) in {directory} were made for another prompt or schema "
                f"({', '.join(stale[:5])}{', …' if len(stale) > 5 else ''}); re-record them with `summarizer record`"
            )
        with LoopbackServer(recordings) as server:
            yield Endpoint(settings.replace(base_url=server.url, api_key=SecretStr("replay")), tuple(notices))

    return serve
