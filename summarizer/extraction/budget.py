"""A run's spending cap (``--max-cost``) and token cap (``--max-tokens-total``), kept before anything is sent.

Every request, first attempts, retries and re-asks alike, reserves its worst case before it goes out: its
prompt at a token every four bytes of the request body (no tokenizer is at hand; the body also holds the JSON
around the text, so for English this is above what an endpoint counts) plus the whole ``max_tokens`` of an
answer, priced at the full input rate. What is
spent so far plus every reservation outstanding never passes the cap, so the run cannot pass it however its
requests end. An answer settles its reservation at what its ``usage`` says it cost (cached tokens at the cached
rate); a request that fails before an answer frees its reservation. A request that does not fit waits while
other requests' reservations are outstanding, since they may settle for less, and is refused once nothing is
outstanding and it still does not fit: its article is left unsent (``CapReached``), and the run keeps what it
has done.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from summarizer.config import Settings
from summarizer.errors import CapReached, ConfigError
from summarizer.extraction.cost import Price, PriceTable
from summarizer.extraction.records import CHARS_PER_TOKEN, Usage

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reservation:
    """One request's worst case, held until its answer settles it."""

    tokens: int
    usd: float


class Budget:
    """The caps of one run, shared by its requests (in one event loop)."""

    def __init__(self, *, max_cost: float | None, max_tokens_total: int | None, max_tokens: int, price: Price | None):
        if max_cost is not None and price is None:
            raise ValueError("a cost cap needs a price")
        self.max_cost = max_cost
        self.max_tokens_total = max_tokens_total
        self.max_tokens = max_tokens
        self.price = price
        self.spent_usd = 0.0
        self.spent_tokens = 0
        self._held_usd = 0.0
        self._held_tokens = 0
        self._outstanding = 0
        self._settled = asyncio.Condition()

    @classmethod
    def for_settings(cls, settings: Settings) -> Budget | None:
        """The caps ``settings`` ask for, or None. ConfigError, before any request, when a cap cannot be kept:
        no ``max_tokens`` to bound an answer, or no price for the model."""
        if settings.max_cost is None and settings.max_tokens_total is None:
            return None
        flag = "--max-cost" if settings.max_cost is not None else "--max-tokens-total"
        if settings.max_tokens is None:
            raise ConfigError(f"{flag} needs --max-tokens, so that an answer's worst case is known; set it")
        price = PriceTable.load(settings.prices_file).price(settings.model)
        if settings.max_cost is not None and price is None:
            raise ConfigError(
                f"--max-cost needs a price for {settings.model}; add it to a price table given with --prices"
            )
        return cls(
            max_cost=settings.max_cost,
            max_tokens_total=settings.max_tokens_total,
            max_tokens=settings.max_tokens,
            price=price,
        )

    def worst_case(self, body_bytes: int) -> Reservation:
        """The most a request with a body of ``body_bytes`` can cost."""
        prompt = math.ceil(body_bytes / CHARS_PER_TOKEN)
        usd = self.price.dollars(prompt, self.max_tokens) if self.price is not None else 0.0
        return Reservation(tokens=prompt + self.max_tokens, usd=usd)

    def _passes(self, need: Reservation) -> str | None:
        """Which cap ``need`` would pass on top of what is spent and held (``cost`` or ``tokens``), if any."""
        if self.max_cost is not None and self.spent_usd + self._held_usd + need.usd > self.max_cost:
            return "cost"
        tokens_cap = self.max_tokens_total
        if tokens_cap is not None and self.spent_tokens + self._held_tokens + need.tokens > tokens_cap:
            return "tokens"
        return None

    async def reserve(self, body_bytes: int) -> Reservation:
        """Hold a request's worst case, waiting for outstanding requests to settle while it does not fit.
        Raises CapReached when it cannot fit."""
        need = self.worst_case(body_bytes)
        async with self._settled:
            while (passed := self._passes(need)) is not None:
                if not self._outstanding:
                    raise CapReached(self._refusal(passed))
                await self._settled.wait()
            self._held_usd += need.usd
            self._held_tokens += need.tokens
            self._outstanding += 1
        return need

    async def settle(self, held: Reservation, usage: Usage | None) -> None:
        """Replace ``held`` by what the answer cost (``usage``), or free it (None: no answer, nothing billed)."""
        async with self._settled:
            self._held_usd -= held.usd
            self._held_tokens -= held.tokens
            self._outstanding -= 1
            if usage is not None:
                self.spent_tokens += usage.prompt_tokens + usage.completion_tokens
                if self.price is not None:
                    self.spent_usd += self.price.dollars(
                        usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens
                    )
            self._settled.notify_all()

    async def spend(
        self, body_bytes: int, send: Callable[[], Awaitable[T]], usage_of: Callable[[T], Usage | None]
    ) -> T:
        """``send()`` a request with a body of ``body_bytes`` once its worst case is reserved, then settle at
        what ``usage_of`` its answer says it cost (at the worst case when the answer says nothing). Raises
        CapReached, without sending, when the request cannot fit."""
        held = await self.reserve(body_bytes)
        try:
            answer = await send()
        except BaseException:
            await self.settle(held, None)
            raise
        await self.settle(held, usage_of(answer) or Usage.of(held.tokens - self.max_tokens, self.max_tokens))
        return answer

    def _refusal(self, passed: str) -> str:
        if passed == "cost":
            cap = f"the run's cost cap of ${self.max_cost:g} (--max-cost; ${self.spent_usd:.4f} spent)"
            fix = "raise --max-cost"
        else:
            cap = f"the run's token cap of {self.max_tokens_total:,} (--max-tokens-total; {self.spent_tokens:,} spent)"
            fix = "raise --max-tokens-total"
        return f"not sent: its worst case would pass {cap}; {fix} and run again to do the rest"
