"""How long the loopback server takes to answer: a fixed delay, or one drawn from a seeded lognormal distribution,
as a hosted model's answer times are (most within a few seconds, a long tail of slow ones)."""

from __future__ import annotations

import math
import random
import threading


class Latency:
    """Seconds from a request's arrival to its answer: ``median`` every time when ``spread`` is 0, else drawn from
    a lognormal distribution with that median and ``spread`` (the sigma of its logarithm: 0.5 puts one answer in
    twenty above 2.3 times the median). ``seed`` makes the draws reproducible; they come from one generator behind
    a lock, so a seed gives the same sequence however many threads draw."""

    def __init__(self, median: float = 0.0, spread: float = 0.0, *, seed: int | None = None) -> None:
        if median < 0 or spread < 0:
            raise ValueError(f"latency {median:g} s, spread {spread:g}: give numbers of 0 or more")
        self.median = median
        self.spread = spread
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return self.median > 0

    def draw(self) -> float:
        """The next request's latency, in seconds."""
        if not self.spread or not self.median:
            return self.median
        with self._lock:
            return self._random.lognormvariate(math.log(self.median), self.spread)

    def describe(self) -> str:
        """One line, for ``serve`` to print on start."""
        if not self.spread:
            return f"latency: {self.median:g} s"
        seeded = f"seed {self.seed}" if self.seed is not None else "unseeded"
        return f"latency: lognormal, median {self.median:g} s, spread {self.spread:g} ({seeded})"
