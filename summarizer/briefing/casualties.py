"""Casualty claims reconciled, not summed.

The same figure from several sources becomes one claim with several citations. Claims are then grouped into
incidents (same month and a compatible place); within an incident, claims about one kind of casualty and one
group of victims give a range (lowest to highest figure) and the figures in the sources' own words. When sources
give different figures for one kind of casualty, the incident marks that kind as disputed instead of choosing.

A figure's bound ("at least seven", "up to 30") is kept wherever its numbers leave an end open. Claimants are
resolved as the actors are: a claimant named as a party, a mediator or a person, under any of its names or with
titles before a person's name ("Defence Minister X" for the person X), is that actor; and a claimant named with
and without a title ("President X", "X") is one claimant.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from summarizer.briefing.entities import name_key
from summarizer.briefing.model import CasualtyEntry, CasualtyRange, Citation, IncidentEntry
from summarizer.extraction.schema import CasualtyClaim, CasualtyKind, Victims

SAME_PLACE = 85.0
"""rapidfuzz ratio between place names above which two places are one."""
_WILDCARD_VICTIMS = frozenset({Victims.UNSPECIFIED, Victims.MIXED})


@dataclass
class _Distinct:
    claim: CasualtyClaim
    side: str | None
    claimant: str | None
    citations: list[Citation] = field(default_factory=list)
    when: str | None = None
    location: str | None = None
    victims: Victims = Victims.UNSPECIFIED
    cited: set[tuple[int, str]] = field(default_factory=set)


def _numbers(claim: CasualtyClaim) -> tuple[int | None, int | None, int | None]:
    return claim.low, claim.best, claim.high


# Words that make a stated number one end of a range: "at least 7", "more than 200", "200+"; "up to 30".
_LOWER_BOUND = re.compile(
    r"\b(?:at least|more than|over|upwards of|in excess of|no (?:fewer|less) than|not less than|a minimum of|"
    r"or more|plus)\b|\d\+",
    re.IGNORECASE,
)
_UPPER_BOUND = re.compile(
    r"\b(?:up to|at most|as many as|no more than|not more than|fewer than|less than|under|nearly|almost|"
    r"a maximum of|or (?:fewer|less)|just under|close to)\b",
    re.IGNORECASE,
)


def figure_bounds(
    figure_text: str, low: int | None, best: int | None, high: int | None
) -> tuple[int | None, int | None]:
    """The lowest and highest number a claim allows; None for an end the claim leaves open or gives no number for.

    A claim's ``high`` is null both when its figure is open-ended and when the model gave only ``best`` (the
    prompt's "'23' gives best = 23"), so the figure's own words decide: "at least seven" with only ``best = 7``
    is 7 or more, "seven" is exactly 7."""
    if low is not None and high is not None:
        return low, high
    lower, upper = _LOWER_BOUND.search(figure_text), _UPPER_BOUND.search(figure_text)
    if low is None and high is None:
        if best is None:
            return None, None
        if lower and not upper:
            return best, None
        if upper and not lower:
            return None, best
        return best, best
    if low is not None:
        return (low, low) if best == low and not lower else (low, None)
    return (high, high) if best == high and not upper else (None, high)


# Titles and honorifics that may stand before a name; a claimant is the same person with or without them.
_TITLE = (
    r"(?:vice |deputy |acting |interim |former |prime |foreign |defen[cs]e |interior |chief |"
    r"lieutenant |lt\.? |major |maj\.? |brigadier |brig\.? |field |rear |vice-)*"
    r"(?:president|premier|chancellor|minister|secretary(?:[- ]general)?|general|gen\.?|colonel|col\.?|major|"
    r"maj\.?|captain|capt\.?|commander|cmdr\.?|admiral|adm\.?|marshal|brigadier|spokes(?:man|woman|person)|"
    r"chairman|chairwoman|chair|senator|sen\.?|governor|gov\.?|mayor|ambassador|envoy|king|queen|prince|"
    r"princess|sheikh|emir|mr\.?|mrs\.?|ms\.?|dr\.?|prof\.?|sir|dame|commissioner|director)"
)
# Everything up to the last title, when a name follows it ("Defence Minister Khawaja Asif" → "Khawaja Asif");
# a title followed by "of" or "for" is part of an office's name ("Minister of Defence") and stays.
_TITLED = re.compile(rf"^(?:.*\s)?{_TITLE}\s+(?!(?:of|for|to|and|the)\b|{_TITLE}\b)(?=\w)", re.IGNORECASE)


def _untitled(name: str) -> tuple[str, str]:
    """The titles before a name, and the name: ("Defence Minister", "Khawaja Asif"); ("", name) when none."""
    match = _TITLED.match(name)
    rest = name[match.end() :] if match else ""
    # Only a name stands after a title: "the major powers" keeps its words.
    if not match or not rest or rest[0].islower():
        return "", name
    return name[: match.end()].strip(), rest


def claimant_key(name: str) -> str:
    """The form in which two claimants are compared: the name without the titles before it, as ``name_key``."""
    return name_key(_untitled(name)[1]) or name_key(name)


def _same_place(a: str | None, b: str | None) -> bool:
    return a is None or b is None or fuzz.ratio(name_key(a), name_key(b)) >= SAME_PLACE


def _same_month(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a[:7] == b[:7]


def _numeric(claim: CasualtyClaim) -> bool:
    return claim.low is not None or claim.best is not None or claim.high is not None


def _claim_key(claim: CasualtyClaim, claimant: str | None) -> tuple[object, ...]:
    figure = _numbers(claim) if _numeric(claim) else claim.figure_text.casefold().strip()
    return claim.kind, claimant, figure


def _same_claim(d: _Distinct, claim: CasualtyClaim, side: str | None) -> bool:
    """Whether ``claim`` is the claim ``d`` holds, given that both have one key (kind, claimant and figure)."""
    victims_match = d.victims == claim.victims or {d.victims, claim.victims} & _WILDCARD_VICTIMS
    return bool(
        victims_match
        and (d.side is None or side is None or d.side == side)
        and _same_month(d.when, claim.when)
        and _same_place(d.location, claim.location)
    )


def _victim_group(victims: Victims) -> Victims:
    return Victims.UNSPECIFIED if victims in _WILDCARD_VICTIMS else victims


def _range(kind: CasualtyKind, victims: Victims, claims: list[_Distinct]) -> CasualtyRange:
    ends = [figure_bounds(c.claim.figure_text, *_numbers(c.claim)) for c in claims]
    numeric = [(lo, hi) for lo, hi in ends if lo is not None or hi is not None]
    bests = {c.claim.best for c in claims if any(n is not None for n in _numbers(c.claim))}
    known_lows = [lo for lo, _ in numeric if lo is not None]
    open_ended = any(hi is None for _, hi in numeric)
    return CasualtyRange(
        kind=kind,
        victims=victims,
        low=min(known_lows) if known_lows else None,
        best=next(iter(bests)) if len(bests) == 1 else None,
        high=None if open_ended or not numeric else max(hi for _, hi in numeric if hi is not None),
        figures=list(dict.fromkeys(c.claim.figure_text for c in claims)),
        sources=sorted({cite.source for c in claims for cite in c.citations}),
    )


def _no_actor(_: str) -> bool:
    return False


def reconcile(
    claims: Iterable[tuple[CasualtyClaim, Citation]],
    resolve: Callable[[str | None], str | None],
    is_actor: Callable[[str], bool] = _no_actor,
) -> tuple[list[CasualtyEntry], list[IncidentEntry]]:
    """Distinct claims (each numbered with its incident) and the incidents they describe. ``resolve`` gives the
    name an actor is shown by; ``is_actor`` says whether a name is one of the actors the records list."""
    claims = list(claims)
    claimants = _claimants((claim.claimant for claim, _ in claims), resolve, is_actor)
    distinct: list[_Distinct] = []
    # Kind, claimant and figure must be equal for claims to be one, so only claims sharing them are compared.
    by_key: dict[tuple[object, ...], list[_Distinct]] = {}
    for claim, citation in claims:
        side = resolve(claim.side)
        claimant = claimants.get(claim.claimant or "")
        same = by_key.setdefault(_claim_key(claim, claimant), [])
        match = next((d for d in same if _same_claim(d, claim, side)), None)
        if match is None:
            match = _Distinct(claim, side, claimant, victims=claim.victims)
            distinct.append(match)
            same.append(match)
        known = len(match.cited)
        match.cited.add((citation.source, citation.quote))
        if len(match.cited) > known:
            match.citations.append(citation)
        # The merged claim keeps the most specific date, place and victims any source gives.
        if len(claim.when or "") > len(match.when or ""):
            match.when = claim.when
        match.location = match.location or claim.location
        if match.victims in _WILDCARD_VICTIMS and claim.victims not in _WILDCARD_VICTIMS:
            match.victims = claim.victims

    incidents: list[list[_Distinct]] = []
    by_month: dict[str, list[list[_Distinct]]] = {}
    # Dated claims found the incidents; undated ones join only one whose place they name closely.
    for d in sorted(distinct, key=lambda d: d.when is None):
        candidates = incidents if d.when is None else by_month.get(d.when[:7], [])
        home = next((group for group in candidates if _joins(d, group)), None)
        if home is None:
            incidents.append([d])
            if d.when is not None:
                by_month.setdefault(d.when[:7], []).append(incidents[-1])
        else:
            home.append(d)

    entries: list[CasualtyEntry] = []
    summaries: list[IncidentEntry] = []
    for number, group in enumerate(sorted(incidents, key=_incident_order), start=1):
        ranges: list[CasualtyRange] = []
        disputed: list[CasualtyKind] = []
        for kind in dict.fromkeys(d.claim.kind for d in group):
            of_kind = [d for d in group if d.claim.kind == kind]
            if len(of_kind) > 1:
                disputed.append(kind)
            for victims in dict.fromkeys(_victim_group(d.victims) for d in of_kind):
                ranges.append(_range(kind, victims, [d for d in of_kind if _victim_group(d.victims) == victims]))
        summaries.append(
            IncidentEntry(
                number=number,
                when=next((d.when[:7] for d in group if d.when), None),
                location=next((d.location for d in group if d.location), None),
                ranges=ranges,
                disputed=disputed,
            )
        )
        entries.extend(_entry(d, number) for d in group)
    return entries, summaries


def _as_actor(
    name: str, resolve: Callable[[str | None], str | None], is_actor: Callable[[str], bool]
) -> tuple[str, bool]:
    """The name ``name`` is shown by, and whether it is one of the listed actors: the actor itself, or the
    person it names after their titles ("Army spokesman Colonel X" is X)."""
    if is_actor(name):
        return resolve(name) or name, True
    bare = _untitled(name)[1]
    if bare != name and is_actor(bare):
        return resolve(bare) or bare, True
    return resolve(name) or name, False


def _claimants(
    names: Iterable[str | None], resolve: Callable[[str | None], str | None], is_actor: Callable[[str], bool]
) -> dict[str, str]:
    """Each claimant as the claims write it, and the one name shown for everyone it refers to: the actor's name
    when it is a listed actor, else the form the claims use most (the longest on a tie, which keeps a title),
    among the names that are one claimant with titles set aside."""
    written = [name for name in names if name]
    resolved = {raw: _as_actor(raw, resolve, is_actor) for raw in dict.fromkeys(written)}
    uses: dict[str, Counter[str]] = {}
    for raw in written:
        name, actor = resolved[raw]
        if not actor:
            uses.setdefault(claimant_key(name), Counter())[name] += 1
    common: dict[str, str] = {}
    for key, forms in uses.items():
        titles = {name_key(_untitled(name)[0]) for name in forms} - {""}
        if " " not in key and len(titles) > 1:
            # A surname under two titles ("General Vasse", "Senator Vasse") may be two people: each stays apart.
            common.update((name, name) for name in forms)
            continue
        most = max(forms.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
        common.update((name, most) for name in forms)
    return {raw: name if actor else common[name] for raw, (name, actor) in resolved.items()}


def _joins(d: _Distinct, group: list[_Distinct]) -> bool:
    founder = group[0]
    if d.when is not None:
        return founder.when is not None and founder.when[:7] == d.when[:7] and _same_place(founder.location, d.location)
    places = [g.location for g in group if g.location]
    return d.location is not None and any(fuzz.ratio(name_key(d.location), name_key(p)) >= 95 for p in places)


def _incident_order(group: list[_Distinct]) -> tuple[str, int]:
    dated = [d.when for d in group if d.when]
    return (min(dated) if dated else "9999", -len(group))


def _entry(d: _Distinct, incident: int) -> CasualtyEntry:
    c = d.claim
    return CasualtyEntry(
        kind=c.kind, figure_text=c.figure_text, low=c.low, best=c.best, high=c.high, victims=d.victims,
        side=d.side, location=d.location, when=d.when, claimant=d.claimant, incident=incident,
        citations=d.citations,
    )  # fmt: skip
