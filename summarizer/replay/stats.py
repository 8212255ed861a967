"""What the loopback server has seen: requests, answers, faults and refusals, counted across handler threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TypedDict

from summarizer.replay.faults import FAULT_KINDS, FaultKind


class StatsSummary(TypedDict):
    """A plain snapshot of ``ServerStats``, for a fault report."""

    requests: int
    """Every HTTP request received, whatever its route or outcome."""
    completions: int
    """Chat completions answered correctly from a recording (``slow`` answers included)."""
    not_found: int
    """Chat completions for an article with no recording (or no article block)."""
    faults_injected: int
    """Faults injected, all kinds together."""
    faults: dict[str, int]
    """Faults injected by kind, in ``FAULT_KINDS`` order, kinds never injected left out."""
    max_in_flight: int
    """The most chat completions being answered at once."""
    rate_limited: int
    """Chat completions refused with 429 because they would have gone over the server's own limits."""


@dataclass
class ServerStats:
    """What the server has seen; read it after a run to count requests. Thread-safe."""

    requests: int = 0
    completions: int = 0
    by_article: dict[str, int] = field(default_factory=dict)
    injected_failures: int = 0
    """Faults injected, all kinds together (the same as ``sum(faults.values())``)."""
    not_found: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    """Faults injected by kind."""
    in_flight: int = 0
    """Chat-completion requests being answered now."""
    max_in_flight: int = 0
    """The most chat-completion requests answered at once."""
    rate_limited: int = 0
    """Chat completions refused with 429 by the server's limits (not injected faults)."""
    arrivals: list[float] = field(default_factory=list)
    """``time.monotonic()`` of each chat-completion request's arrival."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, attribute: str, article: str | None = None) -> None:
        """Add one to ``attribute`` (and to ``article``'s tally)."""
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + 1)
            if article is not None:
                self.by_article[article] = self.by_article.get(article, 0) + 1

    def count_fault(self, kind: FaultKind) -> None:
        """Add one injected fault of ``kind``."""
        with self._lock:
            self.injected_failures += 1
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def summary(self) -> StatsSummary:
        """A consistent snapshot as plain data: totals, and faults injected by kind."""
        with self._lock:
            return StatsSummary(
                requests=self.requests,
                completions=self.completions,
                not_found=self.not_found,
                faults_injected=self.injected_failures,
                faults={kind: self.faults[kind] for kind in FAULT_KINDS if kind in self.faults},
                max_in_flight=self.max_in_flight,
                rate_limited=self.rate_limited,
            )

    def describe(self) -> str:
        """One line: requests received, answers served and faults injected by kind."""
        s = self.summary()
        by_kind = ", ".join(f"{kind}: {n}" for kind, n in s["faults"].items())
        return (
            f"{s['requests']} request(s): {s['completions']} answered from recordings, "
            f"{s['faults_injected']} fault(s) injected{f' ({by_kind})' if by_kind else ''}, "
            f"{s['not_found']} without a recording"
            + (f", {s['rate_limited']} refused by the limits (429)" if s["rate_limited"] else "")
        )
