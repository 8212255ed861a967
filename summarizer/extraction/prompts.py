"""Loads the prompt files, renders them for an article, and hashes them for the cache key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template

from summarizer.errors import ConfigError
from summarizer.hashing import digest

SYSTEM_FILE = "extract_system.md"
USER_FILE = "extract_user.md"
UNKNOWN = "unknown"
# The user template fences the article in <article_text> tags; an article that writes the tags itself could
# close the fence early and put its own words outside it. Such tags are written with a zero-width joiner after
# "<", which a model reads the same but which no longer matches the fence.
_FENCE_TAG = re.compile(r"<(/?article_text\b)", re.IGNORECASE)
_ESCAPED_TAG = re.compile("<\u200d(/?article_text\\b)", re.IGNORECASE)


def fence_text(text: str) -> str:
    """``text`` with any ``<article_text>`` or ``</article_text>`` tag in it defused."""
    return _FENCE_TAG.sub("<\u200d\\1", text)


def unfence_text(text: str) -> str:
    """The inverse of :func:`fence_text`: the article text as it was."""
    return _ESCAPED_TAG.sub("<\\1", text)


@dataclass(frozen=True, slots=True)
class PromptSet:
    """The extraction prompt: a system message and a user-message template with ``$title``, ``$published``,
    ``$outlet`` and ``$text``."""

    system: str
    user_template: str
    hash: str = field(init=False, compare=False)
    """Changes whenever either file changes. Hashed once: every cache key includes it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", digest("p1-", self.system, self.user_template))

    def render_user(self, *, title: str, text: str, published: str | None, outlet: str | None) -> str:
        """The user message for one article. Article text is substituted, never interpreted, and cannot close
        the article block early."""
        return Template(self.user_template).safe_substitute(
            title=title or UNKNOWN, text=fence_text(text), published=published or UNKNOWN, outlet=outlet or UNKNOWN
        )


def bundled_prompts_dir() -> Path:
    """The prompt folder shipped with the package: the repository's ``prompts/`` in a checkout or an editable
    install, ``summarizer/prompts/`` in an installed wheel."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "prompts"
    return checkout if (checkout / SYSTEM_FILE).is_file() else package / "prompts"


@cache
def load_prompts(directory: Path | None = None, task: str = "extract") -> PromptSet:
    """Read ``task``'s two prompt files (``extract_system.md`` and ``extract_user.md`` for ``extract``) from
    ``directory`` (default: the bundled ones)."""
    folder = directory or bundled_prompts_dir()
    system_file, user_file = f"{task}_system.md", f"{task}_user.md"
    try:
        system = (folder / system_file).read_text(encoding="utf-8")
        user = (folder / user_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{folder}: cannot read prompt file {exc.filename} ({exc.strerror}); "
            f"set prompts_dir to a folder holding {system_file} and {user_file}"
        ) from None
    if "$text" not in user:
        raise ConfigError(f"{folder / user_file}: the template has no $text; add it where the article goes")
    return PromptSet(system=system.strip(), user_template=user.strip())
