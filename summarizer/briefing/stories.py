"""Groups a run's articles into stories before their facts are merged: a folder may hold reports on two
unrelated conflicts, whose actors must not end up in one list.

An article joins the story it shares the most with: its actors (parties and mediators, resolved across
spellings), the meaning of its summary and title, and a publication date near the story's. Articles are taken
in date order and each is compared only with the stories that share one of its actors (or, for an article
naming none, every story): grouping costs about one comparison per article and candidate story, not one per
pair of articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from summarizer.briefing.similarity import Embeddings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

ACTOR_WEIGHT = 0.6
"""The share of the score that comes from shared actors (the Jaccard index of the resolved names); the rest
comes from how alike the article's summary is to the story's."""
JOIN = 0.45
"""The least score for an article to join a story."""
SAME_SUBJECT = 0.80
"""Summary similarity at which an article joins a story whatever its actors."""
MAX_GAP_DAYS = 45
"""Articles published further apart than this from every article of a story are another story."""


@dataclass(slots=True)
class _Story:
    members: list[int] = field(default_factory=list)
    actors: set[str] = field(default_factory=set)
    first: date | None = None
    last: date | None = None
    total: npt.NDArray[np.float32] | None = None

    def centroid_similarity(self, vector: npt.NDArray[np.float32]) -> float:
        if self.total is None:
            return 0.0
        norm = float((self.total @ self.total) ** 0.5) or 1.0
        return float(self.total @ vector) / norm

    def near(self, day: date | None) -> bool:
        if day is None or self.first is None or self.last is None:
            return True
        return (self.first - day).days <= MAX_GAP_DAYS and (day - self.last).days <= MAX_GAP_DAYS

    def add_day(self, day: date | None) -> None:
        if day is not None:
            self.first = day if self.first is None else min(self.first, day)
            self.last = day if self.last is None else max(self.last, day)


def group_stories(
    items: Sequence[tuple[int, frozenset[str], str, date | None]],
    embeddings: Embeddings | None = None,
) -> list[list[int]]:
    """Story groups of article numbers, each in the given order, the groups by their first article.

    ``items`` holds, per article in date order, its number, its resolved actors, its summary and title as one
    text, and its publication date."""
    embeddings = embeddings or Embeddings()
    vectors = embeddings.of([text for _, _, text, _ in items])
    stories: list[_Story] = []
    by_actor: dict[str, set[int]] = {}
    for (number, actors, _, day), vector in zip(items, vectors, strict=True):
        candidates = set().union(*(by_actor[a] for a in actors if a in by_actor)) if actors else range(len(stories))
        best, best_score = None, 0.0
        for index in sorted(candidates):
            story = stories[index]
            if not story.near(day):
                continue
            shared = len(actors & story.actors) / len(actors | story.actors) if actors or story.actors else 0.0
            meaning = story.centroid_similarity(vector)
            score = ACTOR_WEIGHT * shared + (1 - ACTOR_WEIGHT) * meaning
            if (score >= JOIN or meaning >= SAME_SUBJECT) and score > best_score:
                best, best_score = index, score
        if best is None:
            stories.append(_Story())
            best = len(stories) - 1
        story = stories[best]
        story.members.append(number)
        story.actors |= actors
        story.add_day(day)
        if story.total is None:
            story.total = vector.copy()
        else:
            story.total += vector  # in place: the same sums, without a new array for every article
        for actor in actors:
            stories_of = by_actor.get(actor)
            if stories_of is None:
                by_actor[actor] = {best}
            else:
                stories_of.add(best)
    return [s.members for s in stories]


def story_title(titles: Sequence[str], texts: Sequence[str], embeddings: Embeddings) -> str:
    """The title of the article that says most what the story's articles say together."""
    if len(titles) == 1:
        return titles[0]
    vectors = embeddings.of(list(texts))
    total = vectors[0].copy()
    for vector in vectors[1:]:
        total += vector  # in place: the sums sum() would give, without a new array for every article
    return max(zip(titles, vectors, strict=True), key=lambda pair: float(pair[1] @ total))[0]


def period(days: Sequence[date | None]) -> str | None:
    """``first to last`` publication day, the one day, or None when none is known."""
    known = sorted(d for d in days if d is not None)
    if not known:
        return None
    first, last = known[0], known[-1]
    return first.isoformat() if first == last else f"{first} to {last}"
