"""Pauses the cyclic garbage collector while a large structure of live objects is built, and spaces out its
young collections while many requests are in flight.

CPython starts a collection every few hundred container allocations, and each older-generation pass walks
every object still alive. Building a briefing from thousands of records allocates hundreds of thousands of
objects that all stay alive, so those passes find nothing to free and, at 5,000 records, took about half of
merge's time. Reference counting still frees everything that is not in a cycle while the collector is paused.
When the pause ends, what it built is moved to the oldest generation, so that the next young collection does
not walk it all.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SPACED_YOUNG_THRESHOLD = 10_000
"""Container allocations between young collections while they are spaced out (CPython's default is 700)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, and restore it after only if this call disabled it (so
    nested pauses, and callers that run with it off, are left as they were). Also a decorator: ``@gc_paused()``
    pauses it for each call."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _age_everything()
            gc.enable()


def _age_everything() -> None:
    # What the block built is all still in the youngest generation, so the first collection after it would
    # walk all of it (a whole briefing: 40 to 55 ms at 5,000 records) to find nothing to free. freeze() and
    # unfreeze() move every tracked object into the oldest generation without walking any; they are looked at
    # again at the next full collection, which CPython runs as the old generation grows. Not when the process
    # keeps objects frozen itself (a server that freezes before forking): unfreeze() would release those too.
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


_spacing = threading.Lock()
_spaced_blocks = 0
_threshold_before: int | None = None


@contextmanager
def young_collections_spaced() -> Iterator[None]:
    """Run the youngest generation's collection after ``SPACED_YOUNG_THRESHOLD`` new container objects instead
    of CPython's 700, for the block; the threshold in force before is put back when the last such block
    ends (blocks may overlap, in threads or tasks), unless something else changed it meanwhile.

    A concurrent run keeps the working state of dozens of requests alive at once, and every young collection
    walks all of it: about 100 collections a 500-article run, taking about a twentieth of the client's CPU.
    Spaced out, the client's CPU a run fell by 3 to 8% in runs taken in turns with and without. The collector
    still runs, so cyclic garbage (about 60 objects an article, mostly tenacity's) is freed as before, only in
    larger batches; the young generation stays small (a few megabytes)."""
    global _spaced_blocks, _threshold_before
    with _spacing:
        if _spaced_blocks == 0:
            young, middle, old = gc.get_threshold()
            if young < SPACED_YOUNG_THRESHOLD:
                _threshold_before = young
                gc.set_threshold(SPACED_YOUNG_THRESHOLD, middle, old)
        _spaced_blocks += 1
    try:
        yield
    finally:
        with _spacing:
            _spaced_blocks -= 1
            if _spaced_blocks == 0 and _threshold_before is not None:
                young, middle, old = gc.get_threshold()
                if young == SPACED_YOUNG_THRESHOLD:
                    gc.set_threshold(_threshold_before, middle, old)
                _threshold_before = None
