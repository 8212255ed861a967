"""The settings' environment variables and defaults, apart from the ``Settings`` model so that ``--help`` can
show them without importing pydantic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

Mode = Literal["tools", "json", "json_schema", "md_json"]

#: Environment variables and the settings they set.
ENV_VARS: dict[str, str] = {
    "OPENAI_API_KEY": "api_key",
    "OPENAI_BASE_URL": "base_url",
    "SUMMARIZER_MODEL": "model",
    "SUMMARIZER_CACHE_DIR": "cache_dir",
    "SUMMARIZER_CACHE_URL": "cache_url",
    "SUMMARIZER_LOCK_TIMEOUT": "lock_timeout",
    "SUMMARIZER_MODE": "mode",
    "SUMMARIZER_TEMPERATURE": "temperature",
    "SUMMARIZER_MAX_TOKENS": "max_tokens",
    "SUMMARIZER_TIMEOUT": "timeout",
    "SUMMARIZER_MAX_REASKS": "max_reasks",
    "SUMMARIZER_MAX_ATTEMPTS": "max_attempts",
    "SUMMARIZER_RETRY_BUDGET": "retry_budget",
    "SUMMARIZER_PROMPTS_DIR": "prompts_dir",
    "SUMMARIZER_CONCURRENCY": "concurrency",
    "SUMMARIZER_RPM": "rpm",
    "SUMMARIZER_TPM": "tpm",
    "SUMMARIZER_MAX_COST": "max_cost",
    "SUMMARIZER_MAX_TOKENS_TOTAL": "max_tokens_total",
    "SUMMARIZER_PRICES": "prices_file",
    "SUMMARIZER_MAX_ARTICLE_CHARS": "max_article_chars",
}

CONFIG_ENV = "SUMMARIZER_CONFIG"
DEFAULT_MAX_ARTICLE_CHARS = 100_000
"""Longer articles are cut to this many characters: about 25,000 tokens, well inside any current context window,
and ten times a long news report."""
DEFAULT_CONFIG_FILE = "summarizer.toml"
DEFAULT_MAX_TOKENS = 4096
"""The cap on an answer's tokens. The longest example answer is about 2,300 tokens (9,100 characters of JSON); a
model caught in a loop stops here, inside an 8,192-token context with the prompt, instead of filling it."""


def default_cache_dir() -> Path:
    """The per-user cache directory: ``$XDG_CACHE_HOME/summarizer`` or ``~/.cache/summarizer``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "summarizer"


DEFAULTS: dict[str, str | int | float | None] = {
    "model": "gpt-4o-mini",
    "base_url": None,
    "mode": "tools",
    "temperature": 0.0,
    "max_tokens": DEFAULT_MAX_TOKENS,
    "timeout": 120.0,
    "max_reasks": 2,
    "max_attempts": 5,
    "retry_budget": 300.0,
    "concurrency": 8,
    "rpm": None,
    "tpm": None,
    "max_cost": None,
    "max_tokens_total": None,
    "prices_file": None,
    "prompts_dir": None,
    "cache_url": None,
    "lock_timeout": 30.0,
    "max_article_chars": DEFAULT_MAX_ARTICLE_CHARS,
}
"""Each setting's default (``cache_dir``'s is ``default_cache_dir()``); ``Settings`` takes its defaults from here."""
