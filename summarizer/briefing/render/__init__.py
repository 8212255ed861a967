"""A briefing as Markdown, JSON or HTML: one module per format, looked up by name in ``RENDERERS``.

To add a format, write a module with a function from ``Briefing`` to bytes and add it to ``RENDERERS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from summarizer.briefing.model import Briefing
from summarizer.briefing.render.html import to_html
from summarizer.briefing.render.json import to_json_bytes
from summarizer.briefing.render.markdown import to_markdown

Format = Literal["md", "json", "html"]

RENDERERS: dict[str, Callable[[Briefing], bytes]] = {
    "md": lambda briefing: to_markdown(briefing).encode(),
    # JSON stays the serializer's bytes: decoding them to text only to encode it again for the file took two
    # thirds as long as serializing (27 MB at 5,000 records).
    "json": to_json_bytes,
    "html": lambda briefing: to_html(briefing).encode(),
}
"""Each format's renderer, by the name ``--format`` takes."""


def render_bytes(briefing: Briefing, fmt: Format) -> bytes:
    """The briefing in ``fmt``, UTF-8 encoded: what ``summarizer brief`` writes."""
    return RENDERERS[fmt](briefing)


def render(briefing: Briefing, fmt: Format) -> str:
    """The briefing in ``fmt``, as text."""
    return render_bytes(briefing, fmt).decode()


__all__ = ["RENDERERS", "Format", "render", "render_bytes"]
