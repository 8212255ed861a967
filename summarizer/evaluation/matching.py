"""Pairs the gold items of one article with the predicted ones, field by field. Pure: no I/O.

Names are compared through the briefing's entity resolution (alias table, the spellings the article's items
list, fuzzy matching), so a name finds its other spellings and stand-ins. Each field has its rule
for when a prediction is the gold item: parties and mediators by the actor; demands by who demands and what;
casualty claims by kind, victims and figure; events by the date at the gold's precision and what happened.
Pairs are made one to one, best first; gold items marked optional take only predictions no required item
wanted, and count neither way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz

from summarizer.briefing.entities import AliasTable, EntityResolver
from summarizer.evaluation.gold import GoldAnnotation
from summarizer.evaluation.models import FieldResult, NearMiss, Pair, Score
from summarizer.extraction.schema import ArticleExtraction, CasualtyClaim, Demand, Event, Mediator, Party, Victims
from summarizer.ingest.quotes import quote_key

G = TypeVar("G")
P = TypeVar("P")
A = TypeVar("A", Party, Mediator)

SAME_TEXT = 60.0
"""rapidfuzz token-set ratio of two descriptions (demands, events) above which they tell the same fact."""
SAME_QUOTE = 90.0
"""rapidfuzz partial ratio of two evidence quotes above which they are the same passage of the article."""
SAME_FIGURE_WORDS = 80.0
"""Token-set ratio of the words of two claims without numbers ("dozens", "dozens of lives") that agree."""
_VAGUE_VICTIMS = frozenset({Victims.MIXED, Victims.UNSPECIFIED})


@dataclass(frozen=True, slots=True)
class _Judged(Generic[G]):
    item: G
    text: str
    optional: bool


def _similar(a: str, b: str) -> float:
    return fuzz.token_set_ratio(a.casefold(), b.casefold())


def _same_passage(a: str, b: str) -> float:
    return fuzz.partial_ratio(quote_key(a), quote_key(b))


def _unique_texts(texts: Sequence[str]) -> list[str]:
    # Short texts are the keys reports are compared by; a repeat gets a number so that no two items collide.
    seen: dict[str, int] = {}
    unique = []
    for text in texts:
        seen[text] = seen.get(text, 0) + 1
        unique.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
    return unique


def _assign(
    golds: Sequence[_Judged[G]], preds: Sequence[_Judged[P]], score: Callable[[G, P], float | None]
) -> list[tuple[int, int]]:
    """One-to-one pairs (gold index, predicted index), highest score first; required gold items first."""
    pairs: list[tuple[int, int]] = []
    taken: set[int] = set()
    for optional in (False, True):
        candidates = []
        for gi, gold in enumerate(golds):
            if gold.optional != optional:
                continue
            for pi, pred in enumerate(preds):
                value = score(gold.item, pred.item)
                if value is not None:
                    candidates.append((-value, gi, pi))
        done: set[int] = set()
        for _, gi, pi in sorted(candidates):
            if gi not in done and pi not in taken:
                done.add(gi)
                taken.add(pi)
                pairs.append((gi, pi))
    return pairs


def _result(
    golds: Sequence[_Judged[G]],
    preds: Sequence[_Judged[P]],
    pairs: list[tuple[int, int]],
    near: Callable[[G, P], NearMiss | None] | None = None,
) -> FieldResult:
    paired_gold = {gi for gi, _ in pairs}
    paired_pred = {pi for _, pi in pairs}
    matched = [Pair(gold=golds[gi].text, predicted=preds[pi].text) for gi, pi in pairs if not golds[gi].optional]
    optional = [Pair(gold=golds[gi].text, predicted=preds[pi].text) for gi, pi in pairs if golds[gi].optional]
    missed = [g for gi, g in enumerate(golds) if gi not in paired_gold and not g.optional]
    spurious = [p for pi, p in enumerate(preds) if pi not in paired_pred]
    near_misses: list[NearMiss] = []
    if near is not None:
        used: set[int] = set()
        for gold in missed:
            for pi, pred in enumerate(spurious):
                found = None if pi in used else near(gold.item, pred.item)
                if found is not None:
                    used.add(pi)
                    near_misses.append(found)
                    break
    return FieldResult(
        score=Score(matched=len(matched), missed=len(missed), spurious=len(spurious)),
        matched=matched,
        missed=[g.text for g in missed],
        spurious=[p.text for p in spurious],
        optional=optional,
        near_misses=near_misses,
    )


def _judged(items: Sequence[G], text: Callable[[G], str], optional: Callable[[G], bool]) -> list[_Judged[G]]:
    texts = _unique_texts([text(item) for item in items])
    return [_Judged(item, t, optional(item)) for item, t in zip(items, texts, strict=True)]


def _is_optional(item: object) -> bool:
    return bool(getattr(item, "optional", False))


# Short texts: what a report shows for an item and the key it is compared by across runs.


def party_text(party: Party) -> str:
    """``Caldria [state]``."""
    return f"{party.name} [{party.kind}]"


def mediator_text(mediator: Mediator) -> str:
    """``Norway [mediator, Oslo]``."""
    return f"{mediator.name} [{mediator.role}{', ' + mediator.venue if mediator.venue else ''}]"


def demand_text(demand: Demand) -> str:
    """``Caldria → Dravic National Movement: what is demanded [status]``."""
    return f"{demand.by} → {demand.of or '?'}: {demand.demand} [{demand.status}]"


def _figure(claim: CasualtyClaim) -> str:
    low, best, high = claim.low, claim.best, claim.high
    if best is not None and low in (None, best) and high in (None, best):
        return str(best)
    if low is not None:
        return f"{low}+" if high is None else f"{low} to {high}"
    return "no number" if high is None else f"up to {high}"


def casualty_text(claim: CasualtyClaim) -> str:
    """``killed soldiers "11" = 11, by Caldrian army``."""
    by = f", by {claim.claimant}" if claim.claimant else ""
    return f'{claim.kind} {claim.victims} "{claim.figure_text}" = {_figure(claim)}{by}'


def event_text(event: Event) -> str:
    """``2025-10-19: what happened``."""
    return f"{event.date}: {event.description}"


class Matcher:
    """Pairs one article's gold items with its predicted ones."""

    def __init__(self, gold: GoldAnnotation, predicted: ArticleExtraction, aliases: AliasTable) -> None:
        self.gold = gold
        self.predicted = predicted
        # One resolver per article, fed as the briefing feeds its own: every name and spelling either side uses.
        self.resolver = EntityResolver(aliases)
        actors: list[Party | Mediator] = [*gold.parties, *predicted.parties, *gold.mediators, *predicted.mediators]
        for actor in actors:
            self.resolver.observe(actor.name, actor.spellings, english=actor.name_en)
        for person in predicted.people:
            self.resolver.observe(person.name, person.spellings, english=person.name_en, person=True)
        self.resolver.link_fuzzy()
        self.figure_errors: list[float] = []
        """Absolute figure errors of the paired casualty claims, once ``results`` has run."""

    def same_actor(self, a: str | None, b: str | None) -> bool:
        """True when both names resolve to one actor."""
        return a is not None and b is not None and self.resolver.resolve(a) == self.resolver.resolve(b)

    def results(self) -> dict[str, FieldResult]:
        """Every scored field's result."""
        return {
            "parties": self._actors(self.gold.parties, self.predicted.parties, party_text),
            "mediators": self._actors(self.gold.mediators, self.predicted.mediators, mediator_text),
            "demands": self._demands(),
            "casualties": self._casualties(),
            "events": self._events(),
        }

    def _actors(self, golds: Sequence[A], preds: Sequence[A], text: Callable[[A], str]) -> FieldResult:
        # Several predictions of one actor are one prediction: the briefing folds them into one entry too.
        distinct: list[A] = []
        for pred in preds:
            if not any(self.same_actor(pred.name, kept.name) for kept in distinct):
                distinct.append(pred)
        gold = _judged(golds, lambda g: g.name, _is_optional)
        predicted = _judged(distinct, text, _is_optional)
        pairs = _assign(gold, predicted, lambda g, p: 100.0 if self.same_actor(g.name, p.name) else None)
        return _result(gold, predicted, pairs)

    def _demands(self) -> FieldResult:
        def score(gold: Demand, pred: Demand) -> float | None:
            if not self.same_actor(gold.by, pred.by):
                return None
            return _agree(_similar(gold.demand, pred.demand), _same_passage(gold.evidence, pred.evidence))

        gold = _judged(self.gold.demands, demand_text, _is_optional)
        predicted = _judged(self.predicted.demands, demand_text, _is_optional)
        return _result(gold, predicted, _assign(gold, predicted, score))

    def _casualties(self) -> FieldResult:
        def score(gold: CasualtyClaim, pred: CasualtyClaim) -> float | None:
            if not _same_kind(gold, pred) or not _figures_agree(gold, pred):
                return None
            # Among claims that agree, prefer the one quoting the same passage, then the same claimant.
            return _same_passage(gold.evidence, pred.evidence) + (
                1.0 if self.same_actor(gold.claimant, pred.claimant) else 0.0
            )

        def near(gold: CasualtyClaim, pred: CasualtyClaim) -> NearMiss | None:
            error = figure_error(gold, pred)
            if not _same_kind(gold, pred) or error is None:
                return None
            same_source = self.same_actor(gold.side, pred.side) or self.same_actor(gold.claimant, pred.claimant)
            if not same_source and _same_passage(gold.evidence, pred.evidence) < SAME_QUOTE:
                return None
            return NearMiss(gold=casualty_text(gold), predicted=casualty_text(pred), error=error)

        gold = _judged(self.gold.casualties, casualty_text, _is_optional)
        predicted = _judged(self.predicted.casualties, casualty_text, _is_optional)
        pairs = _assign(gold, predicted, score)
        result = _result(gold, predicted, pairs, near)
        matched = (figure_error(gold[gi].item, predicted[pi].item) for gi, pi in pairs if not gold[gi].optional)
        self.figure_errors = [e for e in matched if e is not None] + [
            n.error for n in result.near_misses if n.error is not None
        ]
        return result

    def _events(self) -> FieldResult:
        def same_happening(gold: Event, pred: Event) -> float | None:
            return _agree(_similar(gold.description, pred.description), _same_passage(gold.evidence, pred.evidence))

        def score(gold: Event, pred: Event) -> float | None:
            return same_happening(gold, pred) if _same_date(gold, pred) else None

        def near(gold: Event, pred: Event) -> NearMiss | None:
            # Told alike but dated differently: only when the texts agree closely, not merely overlap.
            if (same_happening(gold, pred) or 0.0) < SAME_QUOTE:
                return None
            return NearMiss(gold=event_text(gold), predicted=f"{pred.date} ({pred.precision}): {pred.description}")

        gold = _judged(self.gold.events, event_text, _is_optional)
        predicted = _judged(self.predicted.events, event_text, _is_optional)
        return _result(gold, predicted, _assign(gold, predicted, score), near)


def _agree(text: float, passage: float) -> float | None:
    """The better of the two similarities when either says the items tell one fact, else None."""
    return max(text, passage) if text >= SAME_TEXT or passage >= SAME_QUOTE else None


def _same_kind(gold: CasualtyClaim, pred: CasualtyClaim) -> bool:
    vague = gold.victims in _VAGUE_VICTIMS and pred.victims in _VAGUE_VICTIMS
    return gold.kind == pred.kind and (gold.victims == pred.victims or vague)


def _bounds(claim: CasualtyClaim) -> tuple[float, float] | None:
    if claim.low is None and claim.best is None and claim.high is None:
        return None
    low = next((n for n in (claim.low, claim.best, claim.high) if n is not None), 0)
    high = next((n for n in (claim.high, claim.best) if n is not None), math.inf)
    return float(low), float(high)


def _figures_agree(gold: CasualtyClaim, pred: CasualtyClaim) -> bool:
    """The same number, overlapping ranges, or, for claims without a number, the same words."""
    a, b = _bounds(gold), _bounds(pred)
    if a is None and b is None:
        return _similar(gold.figure_text, pred.figure_text) >= SAME_FIGURE_WORDS
    if a is None or b is None:
        return False
    return max(a[0], b[0]) <= min(a[1], b[1])


def _point(claim: CasualtyClaim) -> float | None:
    """The single number a claim stands for: its best figure, else the midpoint of a closed range, else the
    bound it gives ("over 200" → 200)."""
    if claim.best is not None:
        return float(claim.best)
    if claim.low is not None and claim.high is not None:
        return (claim.low + claim.high) / 2
    known = claim.low if claim.low is not None else claim.high
    return None if known is None else float(known)


def figure_error(gold: CasualtyClaim, pred: CasualtyClaim) -> float | None:
    """Absolute difference of two claims' numbers; None unless both give one."""
    a, b = _point(gold), _point(pred)
    return None if a is None or b is None else abs(a - b)


def _same_date(gold: Event, pred: Event) -> bool:
    """The prediction's date, cut to the gold's precision, is the gold's date. A coarser prediction ("2025-10"
    for "2025-10-17") never equals a finer gold date, so it does not match."""
    return pred.date[: len(gold.date)] == gold.date
