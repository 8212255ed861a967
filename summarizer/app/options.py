"""The command line's options, each declared once: its flags, help, environment variable, default and choices.

Commands that talk to an endpoint (``brief``, ``extract``, ``record``, ``eval``) take one ``RunOptions``
parameter; ``@run_options`` spreads its fields into the command's signature for typer, and packs the parsed
values back into a ``RunOptions`` for the command. A new setting is one field here and one in ``Settings``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_type_hints

import typer

from summarizer.defaults import CONFIG_ENV, DEFAULTS, ENV_VARS, Mode, default_cache_dir
from summarizer.errors import UserError

if TYPE_CHECKING:
    from summarizer.config import Settings

R = TypeVar("R")

_ENV = {field: var for var, field in ENV_VARS.items()}


def _default(field: str) -> str:
    """``Settings``' default for ``field``, as ``--help`` shows it."""
    if field == "cache_dir":
        return str(default_cache_dir()).replace(str(Path.home()), "~", 1)
    value = DEFAULTS[field]
    return "none" if value is None else str(value)


def _option(*flags: str, field: str, help: str, **extra: Any) -> Any:
    """A typer option for the setting ``field``: its environment variable and ``Settings``' default shown."""
    return typer.Option(*flags, help=help, envvar=_ENV[field], show_envvar=True, show_default=_default(field), **extra)


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file (TOML).",
        envvar=CONFIG_ENV,
        show_default="./summarizer.toml if present",
        dir_okay=False,
    ),
]
CacheDirOpt = Annotated[Path | None, _option("--cache-dir", field="cache_dir", help="Cache folder.")]
CacheUrlOpt = Annotated[
    str | None,
    _option(
        "--cache-url",
        field="cache_url",
        help="Redis shared by several workers (redis://HOST:PORT/DB): cache, one request per article, rate limits.",
        metavar="URL",
    ),
]
ModelOpt = Annotated[str | None, _option("--model", "-m", field="model", help="Model name.")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible endpoint.",
        envvar="OPENAI_BASE_URL",
        show_envvar=True,
        show_default="OpenAI's",
    ),
]
ModeOpt = Annotated[Mode | None, _option("--mode", field="mode", help="How the schema is sent to the model.")]
ConcurrencyOpt = Annotated[
    int | None, _option("--concurrency", "-c", field="concurrency", help="Requests in flight at once.", min=1, max=256)
]
RpmOpt = Annotated[int | None, _option("--rpm", field="rpm", help="Requests-per-minute limit (retries count).", min=1)]
TpmOpt = Annotated[int | None, _option("--tpm", field="tpm", help="Tokens-per-minute limit.", min=1)]
MaxCostOpt = Annotated[
    float | None,
    _option(
        "--max-cost",
        field="max_cost",
        help="US dollars the run may spend; nothing is sent that could pass it (what is left is said, exit 1).",
        min=0.000001,
    ),
]
MaxTokensTotalOpt = Annotated[
    int | None,
    _option("--max-tokens-total", field="max_tokens_total", help="Tokens the run may spend, as --max-cost.", min=1),
]
TimeoutOpt = Annotated[
    float | None,
    _option("--timeout", field="timeout", help="Seconds the server may take to answer a request.", min=0.001),
]
MaxTokensOpt = Annotated[
    int | None,
    _option("--max-tokens", field="max_tokens", help="Cap on each answer's tokens; a looping model stops here.", min=1),
]
TemperatureOpt = Annotated[
    float | None, _option("--temperature", field="temperature", help="Sampling temperature.", min=0.0, max=2.0)
]
MaxReasksOpt = Annotated[
    int | None,
    _option("--max-reasks", field="max_reasks", help="Times a rejected answer is sent back with the reasons.", min=0),
]
PricesOpt = Annotated[
    Path | None,
    _option("--prices", field="prices_file", help="Price table (TOML) added to the bundled one.", dir_okay=False),
]
ReplayOpt = Annotated[
    Path | None,
    typer.Option("--replay", help="Answer from the recordings in this folder, not a live endpoint.", file_okay=False),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no progress bar.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log every request, retry and re-ask on stderr (no progress bar).")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.", dir_okay=False)
]
AliasesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--aliases", help="Extra alias file (YAML) for entity names; repeatable.", dir_okay=False, metavar="FILE"
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Daily mode: brief the articles published that day, facts new since earlier reports marked.",
        metavar="YYYY-MM-DD",
    ),
]
PathsArg = Annotated[
    list[Path], typer.Argument(help="Article files (.txt .md .html .json .jsonl) or folders.", metavar="PATHS...")
]


def parse_day(value: str | None) -> date | None:
    """The day a ``--date`` option names; UserError, before anything is sent, when it is not YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--date {value!r} is not a date; write it as YYYY-MM-DD") from None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The options of every command that extracts: where the settings come from and what overrides them,
    and how much the run says."""

    config: ConfigOpt = None
    model: ModelOpt = None
    base_url: BaseUrlOpt = None
    mode: ModeOpt = None
    cache_dir: CacheDirOpt = None
    cache_url: CacheUrlOpt = None
    concurrency: ConcurrencyOpt = None
    rpm: RpmOpt = None
    tpm: TpmOpt = None
    max_cost: MaxCostOpt = None
    max_tokens_total: MaxTokensTotalOpt = None
    timeout: TimeoutOpt = None
    max_tokens: MaxTokensOpt = None
    temperature: TemperatureOpt = None
    max_reasks: MaxReasksOpt = None
    prices: PricesOpt = None
    quiet: QuietOpt = False
    verbose: VerboseOpt = False

    def settings(self) -> Settings:
        """The settings these options give over the config file and the environment."""
        from summarizer.config import load_settings  # pydantic: not imported for --help

        return load_settings(
            config_file=self.config,
            model=self.model,
            base_url=self.base_url,
            mode=self.mode,
            cache_dir=self.cache_dir,
            cache_url=self.cache_url,
            concurrency=self.concurrency,
            rpm=self.rpm,
            tpm=self.tpm,
            max_cost=self.max_cost,
            max_tokens_total=self.max_tokens_total,
            timeout=self.timeout,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            max_reasks=self.max_reasks,
            prices_file=self.prices,
        )


def run_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` (which takes ``options: RunOptions``) the options of ``RunOptions`` as typer
    parameters, and call it with them packed."""
    signature = inspect.signature(command, eval_str=True)
    hints = get_type_hints(RunOptions, include_extras=True)
    own = [p for p in signature.parameters.values() if p.name != "options"]
    spread = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name], default=f.default)
        for f in fields(RunOptions)
    ]
    names = [f.name for f in fields(RunOptions)]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        options = RunOptions(**{name: kwargs.pop(name) for name in names if name in kwargs})
        return command(*args, options=options, **kwargs)

    parameters = [*own, *spread]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
    return wrapper
