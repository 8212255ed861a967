"""Settings, resolved from defaults < config file < environment < command-line flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from summarizer.defaults import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    DEFAULT_MAX_ARTICLE_CHARS,
    DEFAULT_MAX_TOKENS,
    ENV_VARS,
    Mode,
    default_cache_dir,
)
from summarizer.errors import ConfigError, first_problem

NO_KEY = (
    "no API key: set OPENAI_API_KEY (any value for a local server given with --base-url), "
    "or use --replay DIR to serve recorded responses"
)
"""What a run without an API key says for each article it would have to send."""


class Settings(BaseModel):
    """Everything that decides how articles are extracted. Immutable; derive changed copies with ``replace``."""

    # No attribute docstrings as descriptions (no schema of the settings is published: reading this file's
    # source for them took 60 ms), and the validator is built on first use: `summarizer --help` needs neither.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    model: str = "gpt-4o-mini"
    """Model name sent to the endpoint."""
    base_url: str | None = None
    """OpenAI-compatible endpoint; None means OpenAI's own."""
    api_key: SecretStr | None = None
    """API key for the endpoint. Never logged, cached or recorded."""
    mode: Mode = "tools"
    """How the schema is sent: tool calling, JSON mode, JSON-schema response format, or JSON in Markdown."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature."""
    max_tokens: int | None = Field(default=DEFAULT_MAX_TOKENS, gt=0)
    """Cap on each answer's tokens, so that a model caught in a loop stops before it fills the server's context;
    None leaves it to the endpoint."""
    timeout: float = Field(default=120.0, gt=0)
    """Seconds a server that has the request may take to answer it (opening the connection has its own, shorter
    limit); a request with no answer by then fails without being sent again."""
    max_reasks: int = Field(default=2, ge=0)
    """How often an answer that fails the schema is sent back to the model with the errors."""
    max_attempts: int = Field(default=5, ge=1)
    """How often one request is tried on transport faults (network, 429, 5xx, timeout)."""
    retry_budget: float = Field(default=300.0, gt=0)
    """Seconds all attempts for one article may take together."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """Requests in flight at once."""
    rpm: int | None = Field(default=None, gt=0)
    """Requests per minute the endpoint allows (retries and re-asks count); None for no limit."""
    tpm: int | None = Field(default=None, gt=0)
    """Tokens per minute the endpoint allows; None for no limit."""
    max_cost: float | None = Field(default=None, gt=0)
    """US dollars a run may spend at most (worst cases reserved before sending); None for no cap."""
    max_tokens_total: int | None = Field(default=None, gt=0)
    """Tokens (prompt and completion) a run may spend at most; None for no cap."""
    prices_file: Path | None = None
    """A TOML price table (per model, input/output per million tokens) that extends the bundled one."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    """Where responses are cached (the local spool, too, when ``cache_url`` names a Redis server)."""
    cache_url: str | None = Field(default=None, pattern=r"^(redis|rediss|unix)://")
    """A Redis server shared by several workers (``redis://HOST:PORT/DB``) for the cache, the one request per
    article and the rate limits; None for the local cache in ``cache_dir``."""
    lock_timeout: float = Field(default=30.0, gt=0)
    """Seconds a worker's claim on an article lasts unless renewed, so that a dead worker's claim expires."""
    prompts_dir: Path | None = None
    """A folder of prompt files that replaces the bundled ones."""
    max_article_chars: int = Field(default=DEFAULT_MAX_ARTICLE_CHARS, ge=1000)
    """Articles longer than this (in characters, after clean-up) are cut at a paragraph or sentence end, with a
    warning; the rest is not sent."""

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated; ``None`` values are ignored."""
        merged = self.model_dump()
        merged.update({k: v for k, v in changes.items() if v is not None})
        return _validated(merged, "settings")


class SettingsOverrides(TypedDict, total=False):
    """Settings given on the command line (or by a caller) over the file and the environment; None is "not
    given"."""

    model: str | None
    base_url: str | None
    api_key: SecretStr | str | None
    mode: Mode | None
    temperature: float | None
    max_tokens: int | None
    timeout: float | None
    max_reasks: int | None
    max_attempts: int | None
    retry_budget: float | None
    concurrency: int | None
    rpm: int | None
    tpm: int | None
    max_cost: float | None
    max_tokens_total: int | None
    prices_file: Path | None
    cache_dir: Path | None
    cache_url: str | None
    lock_timeout: float | None
    prompts_dir: Path | None
    max_article_chars: int | None


def _validated(values: dict[str, Any], source: str) -> Settings:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_problem(exc, 'settings')}; fix the value or remove it") from None


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror}); check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the file") from None
    section = data.get("summarizer", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [summarizer] must be a table; fix the file")
    if "api_key" in section:
        raise ConfigError(f"{path}: api_key does not belong in a config file; set OPENAI_API_KEY instead")
    return dict(section)


def load_settings(
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    **flags: Unpack[SettingsOverrides],
) -> Settings:
    """Resolve settings: defaults < config file < environment < ``flags`` (``None`` flags are ignored).

    The config file is ``config_file``, else ``$SUMMARIZER_CONFIG``, else ``./summarizer.toml`` if it exists;
    its keys sit at top level or under ``[summarizer]``.
    """
    env = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path is not None:
        values.update(_read_config_file(path))
        _validated(values, str(path))
    for var, field in ENV_VARS.items():
        if env.get(var):
            values[field] = env[var]
    _validated(values, "environment")
    values.update({k: v for k, v in flags.items() if v is not None})
    return _validated(values, "command line")
