"""Pauses the cyclic garbage collector while a large structure of live objects is built.

CPython starts a collection every few hundred container allocations, and each older-generation pass walks
every object still alive. Building a briefing from thousands of records allocates hundreds of thousands of
objects that all stay alive, so those passes find nothing to free and, at 5,000 records, took about half of
merge's time. Reference counting still frees everything that is not in a cycle while the collector is paused.
When the pause ends, what it built is moved to the oldest generation, so that the next young collection does
not walk it all.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
