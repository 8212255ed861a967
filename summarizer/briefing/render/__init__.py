"""A briefing as Markdown, JSON or HTML: one module per format, looked up by name in ``RENDERERS``.

To add a format, write a module with a function from ``Briefing`` to bytes and add it to ``RENDERERS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from summarizer.briefing.model import Briefing
from summarizer.briefing.render.html import to_html
from summarizer.briefing.render.json import to_json_bytes
from summarizer.briefing.render.markdown import to_markdown
from summarizer.briefing.render.wording import Detail

Format = Literal["md", "json", "html"]

RENDERERS: dict[str, Callable[[Briefing, Detail], bytes]] = {
    "md": lambda briefing, detail: to_markdown(briefing, detail).encode(),
    # JSON keeps every fact and wording whatever the detail asked for. It stays the serializer's bytes:
    # decoding them to text only to encode it again for the file took two thirds as long as serializing.
    "json": lambda briefing, _: to_json_bytes(briefing),
    "html": lambda briefing, detail: to_html(briefing, detail).encode(),
}
"""Each format's renderer, by the name ``--format`` takes: a briefing and a detail level in, bytes out."""


def render_bytes(briefing: Briefing, fmt: Format, detail: Detail = "compact") -> bytes:
    """The briefing in ``fmt``, UTF-8 encoded: what ``summarizer brief`` writes."""
    return RENDERERS[fmt](briefing, detail)


def render(briefing: Briefing, fmt: Format, detail: Detail = "compact") -> str:
    """The briefing in ``fmt``, as text."""
    return render_bytes(briefing, fmt, detail).decode()


__all__ = ["RENDERERS", "Detail", "Format", "render", "render_bytes"]
