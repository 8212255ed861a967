"""The briefing as JSON (see ``schemas/briefing.json``)."""

from __future__ import annotations

from summarizer.briefing.model import Briefing


def to_json_bytes(briefing: Briefing) -> bytes:
    """The briefing as JSON (see ``schemas/briefing.json``), UTF-8 encoded."""
    # pydantic's serializer writes the same text as json.dumps(indent=2, ensure_ascii=False), ten times faster.
    return briefing.__pydantic_serializer__.to_json(briefing, indent=2) + b"\n"


def to_json(briefing: Briefing) -> str:
    """The briefing as JSON (see ``schemas/briefing.json``)."""
    return to_json_bytes(briefing).decode()
