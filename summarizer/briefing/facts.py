"""How facts from several sources become one: near-repeat phrases folded, items of one key grouped when
their texts tell the same fact, dates that can be one time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from summarizer.briefing.model import Citation
from summarizer.briefing.similarity import SAME_MEANING, SAME_WORDS, Embeddings
from summarizer.extraction.schema import Demand, DemandStatus, Event

T = TypeVar("T")

SAME_TEXT = 85.0
"""rapidfuzz token-set ratio above which two descriptions of one kind of fact are the same fact."""


def unique(values: Iterable[str | None]) -> list[str]:
    """The values, stripped, each once, in first-seen order; empty ones left out."""
    seen: dict[str, None] = {}
    # Exact repeats go first, in C: an actor named by thousands of sources has a few distinct spellings.
    for value in dict.fromkeys(values):
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)


def distinct_texts(values: Iterable[str], threshold: float = SAME_TEXT) -> list[str]:
    """Unique phrases, near-repeats folded into the longest of them ("negotiating party" into
    "negotiating party seeking an end to attacks"), in first-seen order."""
    kept: list[str] = []
    for value in unique(values):
        for i, other in enumerate(kept):
            if fuzz.token_set_ratio(value.casefold(), other.casefold()) >= threshold:
                kept[i] = max(other, value, key=len)
                break
        else:
            kept.append(value)
    return kept


def most_common(values: Iterable[str]) -> str | None:
    """The value given most often; None when there is none."""
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


class Clusters(Generic[T]):
    """Groups items whose key is equal and whose texts tell the same fact (``Embeddings.same_fact``); each
    group keeps every citation and every other wording.

    Only texts of the same key are compared (a block: one date, one pair of actors, one status), so the
    comparisons stay few however many facts a briefing holds; a text seen before is not compared again."""

    def __init__(
        self,
        embeddings: Embeddings,
        compatible: Callable[[T, T], bool] | None = None,
        finer: Callable[[T, T], bool] | None = None,
    ) -> None:
        self.embeddings = embeddings
        self._compatible = compatible
        self._finer = finer
        self.groups: list[tuple[tuple[object, ...], str, T, list[Citation]]] = []
        self.variants: list[list[str]] = []
        self._exact: dict[tuple[tuple[object, ...], str], int] = {}
        self._blocks: dict[tuple[object, ...], tuple[list[str], list[int]]] = {}
        self._cited: list[set[tuple[int, str]]] = []

    def _match(self, key: tuple[object, ...], text: str, item: T) -> int | None:
        texts, groups = self._blocks.get(key, ([], []))
        if self._compatible is not None:
            allowed = [i for i, group in enumerate(groups) if self._compatible(item, self.groups[group][2])]
            texts, groups = [texts[i] for i in allowed], [groups[i] for i in allowed]
        if not texts:
            return None
        best = process.extractOne(text, texts, scorer=fuzz.token_set_ratio, score_cutoff=SAME_WORDS)
        if best is not None:
            return groups[best[2]]
        vector, *members = self.embeddings.of([text, *texts])
        scores = [float(vector @ member) for member in members]
        top = max(range(len(scores)), key=scores.__getitem__)
        return groups[top] if scores[top] >= SAME_MEANING else None

    def add(self, key: tuple[object, ...], text: str, item: T, citation: Citation) -> int:
        """Put ``item`` in the group of its key that tells the same fact (or a new one); returns its index."""
        index = self._exact.get((key, text))
        if index is None or (self._compatible is not None and not self._compatible(item, self.groups[index][2])):
            index = self._place(key, text, item)
        if self._finer is not None and self._finer(item, self.groups[index][2]):
            # The finer item leads the group with its own wording; the one it displaces becomes a variant.
            group_key, group_text, _, cites = self.groups[index]
            self.groups[index] = (group_key, text, item, cites)
            if text != group_text:
                self.variants[index] = [group_text, *(v for v in self.variants[index] if v != text)]
        # One hash of the citation, not two: a set that did not grow already held it.
        cited = self._cited[index]
        known = len(cited)
        cited.add((citation.source, citation.quote))
        if len(cited) > known:
            self.groups[index][3].append(citation)
        return index

    def _place(self, key: tuple[object, ...], text: str, item: T) -> int:
        index = self._match(key, text, item)
        if index is None:
            self.groups.append((key, text, item, []))
            self.variants.append([])
            self._cited.append(set())
            index = len(self.groups) - 1
        elif text != self.groups[index][1]:
            self.variants[index].append(text)
        self._exact[key, text] = index
        texts, groups = self._blocks.setdefault(key, ([], []))
        texts.append(text)
        groups.append(index)
        return index


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def same_time(a: Event, b: Event) -> bool:
    """Whether two events' dates can be one time: the same date, or a coarser date that holds the finer one
    ("2025-10" and "2025-10-25"). Two different days are not: they stay apart, flagged if alike."""
    if (a.date, a.end_date, a.precision) == (b.date, b.end_date, b.precision):
        return True
    if a.end_date or b.end_date or a.precision == b.precision:
        return False
    coarse, fine = (a, b) if _PRECISION_RANK[a.precision] > _PRECISION_RANK[b.precision] else (b, a)
    return fine.date.startswith(coarse.date)


def more_precise(a: Event, b: Event) -> bool:
    """Whether ``a`` is dated more precisely than ``b``."""
    return _PRECISION_RANK[a.precision] < _PRECISION_RANK[b.precision]


UNSAID = frozenset({DemandStatus.STATED, DemandStatus.UNKNOWN})
"""Demand statuses that say nothing of where a demand stands: the article only reports it, or cannot tell."""


def same_standing(a: tuple[object, object, Demand], b: tuple[object, object, Demand]) -> bool:
    """Whether two demands' statuses (each the last of its tuple: by, of, demand) can be one demand's: the same
    status, or one that says nothing (``UNSAID``), as when one source only reports a demand that another says
    is under negotiation."""
    x, y = a[2].status, b[2].status
    return x == y or x in UNSAID or y in UNSAID


def more_definite(a: tuple[object, object, Demand], b: tuple[object, object, Demand]) -> bool:
    """Whether demand ``a`` says where it stands and ``b`` does not."""
    return a[2].status not in UNSAID and b[2].status in UNSAID
