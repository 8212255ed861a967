"""Fault injection for the loopback server: which chat-completions requests get a fault instead of an answer.

A plan has per-kind rates (each request draws at most one fault) and an optional schedule that fixes the
outcome of the first requests in order; once the schedule is used up, the rates apply. Draws come from one
seeded generator behind a lock, so a given seed gives the same sequence of outcomes however many threads ask
(which request gets which outcome still depends on the order in which concurrent requests arrive).

``Quirks`` are not drawn: they are how the server treats every request, as a local server does (a tool_choice
object refused or ignored, the tools left out of the prompt, a small context).

```python
plan = FaultPlan.from_options(faults=["429=0.05", "drop=0.03"], schedule="503,ok,429", seed=7)
with LoopbackServer(recordings, faults=plan, quirks=Quirks(tool_choice="ignore")) as server: ...
```
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from summarizer.errors import UserError

FaultKind = Literal[
    "429", "500", "503", "drop", "timeout", "slow", "malformed", "invalid", "length", "refusal", "loop", "garbage"
]  # fmt: skip
"""What can go wrong with one chat-completions request.

- ``429``: rate limited, with a ``Retry-After`` header (``retry_after`` seconds).
- ``500``: internal server error. ``503``: service unavailable, with ``Retry-After``.
- ``drop``: the connection is closed without any response.
- ``timeout``: the request is held unanswered for ``hang`` seconds, then the connection is closed.
- ``slow``: the correct answer, ``slow_delay`` seconds late: a server still generating, the connection open.
- ``malformed``: HTTP 200 whose body is not valid JSON (a completion cut in half).
- ``invalid``: a well-formed completion whose JSON fails the extraction schema.
- ``length``: the answer cut short at the request's ``max_tokens``, ``finish_reason: "length"``.
- ``refusal``: an assistant message with ``refusal`` set and neither content nor tool call.
- ``loop``: a model caught in a loop: the same words over and over until the request's ``max_tokens`` or the
  server's context (``Quirks.context``) ends them, ``finish_reason: "length"``.
- ``garbage``: JSON that passes the schema but is no extraction: ``{"summary": "<h1 class="}``.
"""

FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
"""Every fault kind, in the fixed order rates are drawn in."""

OK = "ok"
"""The schedule entry for a request answered normally."""

Outcome = FaultKind | None
"""A drawn outcome: the fault to inject, or None to answer normally."""


ToolChoiceQuirk = Literal["accept", "refuse", "ignore"]
"""What a server does with a ``tool_choice`` object that names the tool."""
TOOL_CHOICE_QUIRKS: tuple[ToolChoiceQuirk, ...] = get_args(ToolChoiceQuirk)


@dataclass(frozen=True, slots=True)
class Quirks:
    """How the server departs from OpenAI's API on every request, as local servers do."""

    tool_choice: ToolChoiceQuirk = "accept"
    """A ``tool_choice`` object naming the tool: ``accept`` it; ``refuse`` the request (HTTP 400 naming
    ``tool_choice``); or ``ignore`` it as llama.cpp does, answering as under ``"auto"``, here in words.
    ``"required"`` is always honoured."""
    drop_tools: bool = False
    """Leave the tools out of the prompt, as llama.cpp does for a chat template without tool support: the answer
    is in words, and the prompt tokens counted leave the tools out."""
    context: int = 8192
    """The context size, in tokens: a ``loop`` fault stops here when the request's ``max_tokens`` does not stop
    it first."""

    def __post_init__(self) -> None:
        if self.tool_choice not in TOOL_CHOICE_QUIRKS:
            raise ValueError(f"tool_choice {self.tool_choice!r}: use one of {', '.join(TOOL_CHOICE_QUIRKS)}")
        if self.context < 1:
            raise ValueError(f"context is {self.context}; give a number of tokens, 1 or more")

    def describe(self) -> str:
        """One line: how the server treats tools, and its context size."""
        tools = (
            "drops the tools from the prompt" if self.drop_tools else f"tool_choice naming the tool: {self.tool_choice}"
        )
        return f"server: {tools}; context {self.context:,} tokens"


def _kind(name: str, option: str) -> FaultKind:
    cleaned = name.strip().lower()
    if cleaned not in FAULT_KINDS:
        raise UserError(f"{option}: unknown fault kind {name.strip()!r}; use one of {', '.join(FAULT_KINDS)}")
    return cleaned


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{option}: {text.strip()!r} is not a number; write a rate such as 0.05") from None


def _percent(rate: float) -> str:
    return f"{rate * 100:.3g}%"


class FaultPlan:
    """Which requests fail, and how. Thread-safe: ``draw`` may be called from many handler threads at once."""

    def __init__(
        self,
        rates: Mapping[FaultKind, float] | None = None,
        *,
        schedule: Iterable[FaultKind | None] = (),
        seed: int | None = None,
        retry_after: float = 1.0,
        hang: float = 150.0,
        slow_delay: float = 5.0,
    ) -> None:
        """``rates``: the share of requests (0-1) given each kind, summing to at most 1. ``schedule``: the
        outcomes of the first requests in order (None answers normally). ``seed`` makes the draws reproducible.
        ``retry_after``: the ``Retry-After`` seconds sent with 429 and 503. ``hang``: how long a ``timeout``
        holds the request; the default outlasts the client's default 120 s timeout. ``slow_delay``: the extra
        seconds of a ``slow`` answer. Raises ValueError for an unknown kind, a negative value or rates over 1."""
        clean: dict[FaultKind, float] = {}
        for kind, rate in (rates or {}).items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {kind} is {rate}; give a share between 0 and 1")
            if rate > 0:
                clean[kind] = rate
        total = sum(clean.values())
        # A little slack, so that 1.0 spread evenly over the kinds does not fail on rounding.
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3g}; they must add up to at most 1")
        steps = list(schedule)
        for step in steps:
            if step is not None and step not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {step!r} in the schedule; use one of {', '.join(FAULT_KINDS)}")
        for name, value in (("retry_after", retry_after), ("hang", hang), ("slow_delay", slow_delay)):
            if value < 0:
                raise ValueError(f"{name} is {value}; give a number of seconds, 0 or more")
        self.rates: dict[FaultKind, float] = {k: clean[k] for k in FAULT_KINDS if k in clean}
        self.schedule: tuple[FaultKind | None, ...] = tuple(steps)
        self.seed = seed
        self.retry_after = retry_after
        self.hang = hang
        self.slow_delay = slow_delay
        self._random = random.Random(seed)
        self._drawn = 0
        self._lock = threading.Lock()

    @classmethod
    def from_options(
        cls,
        *,
        faults: Sequence[str] = (),
        rate: float | None = None,
        kinds: str | None = None,
        schedule: str | None = None,
        seed: int | None = None,
        retry_after: float | None = None,
        hang: float | None = None,
        slow_delay: float | None = None,
    ) -> FaultPlan:
        """A plan from the ``serve`` options; raises UserError naming the option at fault.

        ``faults``: ``KIND=RATE`` items (``429=0.05``). ``rate``: an overall share spread evenly over ``kinds``
        (comma-separated; default every kind); a kind also given in ``faults`` takes that rate instead.
        ``schedule``: comma-separated kinds or ``ok`` for the first requests (``503,ok,429,drop``).
        """
        rates: dict[FaultKind, float] = {}
        if rate is not None:
            if not 0.0 <= rate <= 1.0:
                raise UserError(f"--fault-rate {rate}: give a share between 0 and 1, such as 0.3")
            chosen = (
                tuple(dict.fromkeys(_kind(k, "--fault-kinds") for k in kinds.split(",") if k.strip()))
                if kinds
                else FAULT_KINDS
            )
            if not chosen:
                raise UserError("--fault-kinds: no kinds given; list them separated by commas, such as 429,drop")
            rates.update(dict.fromkeys(chosen, rate / len(chosen)))
        elif kinds:
            raise UserError("--fault-kinds needs --fault-rate; add --fault-rate 0.3, say")
        for item in faults:
            name, sep, value = item.partition("=")
            if not sep:
                raise UserError(f"--fault {item!r}: write KIND=RATE, such as 429=0.05")
            rates[_kind(name, "--fault")] = _number(value, "--fault")
        steps: list[FaultKind | None] = []
        for step in (schedule or "").split(","):
            if not step.strip():
                continue
            steps.append(None if step.strip().lower() == OK else _kind(step, "--fault-schedule"))
        timing = {
            name: value
            for name, value in (("retry_after", retry_after), ("hang", hang), ("slow_delay", slow_delay))
            if value is not None
        }
        try:
            return cls(rates, schedule=steps, seed=seed, **timing)
        except ValueError as exc:
            raise UserError(f"fault options: {exc}") from None

    @property
    def active(self) -> bool:
        """True when the plan can inject any fault at all."""
        return bool(self.rates) or any(step is not None for step in self.schedule)

    @property
    def drawn(self) -> int:
        """How many outcomes have been drawn so far."""
        with self._lock:
            return self._drawn

    def draw(self) -> Outcome:
        """The outcome of the next request: the next schedule entry, else a draw against the rates."""
        with self._lock:
            index = self._drawn
            self._drawn += 1
            if index < len(self.schedule):
                return self.schedule[index]
            if not self.rates:
                return None
            # One uniform number per request, walked along the rates in a fixed order: the same seed gives the
            # same outcomes, and each kind gets its share.
            point = self._random.random()
        cumulative = 0.0
        for kind, rate in self.rates.items():
            cumulative += rate
            if point < cumulative:
                return kind
        return None

    def describe(self) -> str:
        """One line: rates, schedule and timings, for ``serve`` to print on start."""
        if not self.active:
            return "faults: none"
        parts: list[str] = []
        if self.rates:
            total = sum(self.rates.values())
            each = ", ".join(f"{kind} {_percent(rate)}" for kind, rate in self.rates.items())
            parts.append(f"{_percent(total)} of requests ({each})")
        if self.schedule:
            parts.append("first requests " + ",".join(step or OK for step in self.schedule))
        used = set(self.rates) | {s for s in self.schedule if s is not None}
        timings = [f"seed {self.seed}" if self.seed is not None else "unseeded"]
        if used & {"429", "503"}:
            timings.append(f"Retry-After {self.retry_after:g} s")
        if "timeout" in used:
            timings.append(f"timeout holds {self.hang:g} s")
        if "slow" in used:
            timings.append(f"slow adds {self.slow_delay:g} s")
        return f"faults: {'; '.join(parts)}; {', '.join(timings)}"

    def with_leading(self, steps: Iterable[FaultKind | None]) -> FaultPlan:
        """A fresh copy of this plan with ``steps`` run before its own schedule."""
        return FaultPlan(
            self.rates,
            schedule=(*steps, *self.schedule),
            seed=self.seed,
            retry_after=self.retry_after,
            hang=self.hang,
            slow_delay=self.slow_delay,
        )

    def __repr__(self) -> str:
        return f"FaultPlan({self.describe()})"
