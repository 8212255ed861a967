"""Entity resolution: one name per real-world actor, whatever the spelling.

Names are linked by a curated alias table (``aliases.yaml``, extendable with a user file), the spellings each
article lists for one actor, the usual English name the model gives for it (so that transliterations and other
scripts' spellings meet: "Kiev" and "Kyiv", "Klychko" and "Klitschko"; the English name is then the one shown),
initialisms ("U.S." / "US" / "United States"), capitals and government seats read as their country (from GeoNames
data, and the table's ``metonyms``; never a person's name), and fuzzy matching (rapidfuzz) above a threshold for
close variants of longer names. Links that would join two actors the table declares distinct are refused and
reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from summarizer.briefing.places import places
from summarizer.errors import ConfigError

BUNDLED_ALIASES = Path(__file__).with_name("aliases.yaml")
FUZZY_THRESHOLD = 92.0
MIN_FUZZY_LENGTH = 9
"""Names shorter than this (as keys) never join by fuzzy score: in a short name one letter is often another
actor ("Russia" / "Prussia" scores 92.3)."""

# Words an initialism leaves out: "United States of America" is USA.
_SKIPPED_IN_INITIALS = frozenset({"the", "of", "and"})
_DOTTED = re.compile(r"^(?:[a-z] )+[a-z]$")


_PUNCTUATION = re.compile(r"[^\w\s]")
_ARTICLE = re.compile(r"^the\s+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Case-, accent-, apostrophe- and punctuation-blind form of a name: "Côte d'Ivoire" → "cote d ivoire"."""
    text = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _PUNCTUATION.sub(" ", text)
    text = _ARTICLE.sub("", text.strip())
    return _SPACES.sub(" ", text).strip()


@dataclass
class AliasTable:
    """Curated entities (canonical name → aliases) and pairs that must stay apart."""

    entities: dict[str, list[str]] = field(default_factory=dict)
    distinct: list[tuple[str, str]] = field(default_factory=list)
    metonyms: dict[str, str] = field(default_factory=dict)
    """Stand-in (a government seat, a city) → the actor it stands for, joined only when both are observed."""

    @classmethod
    def load(cls, *paths: Path) -> AliasTable:
        """The bundled table extended by each of ``paths``, in order."""
        table = cls()
        for path in (BUNDLED_ALIASES, *paths):
            table._extend(path)
        return table

    def _extend(self, path: Path) -> None:
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read alias file ({exc}); fix the file or drop --aliases") from None
        try:
            for entry in data.get("entities", []):
                aliases = self.entities.setdefault(str(entry["name"]), [])
                aliases.extend(str(a) for a in entry.get("aliases", []) or [])
            for first, second in data.get("distinct", []):
                self.distinct.append((str(first), str(second)))
            for stand_in, actor in (data.get("metonyms") or {}).items():
                self.metonyms[str(stand_in)] = str(actor)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{path}: expected 'entities: [{{name, aliases}}]', 'distinct: [[a, b]]' and"
                " 'metonyms: {{stand-in: actor}}'; fix the file"
            ) from None


class EntityResolver:
    """Union-find over name keys with cannot-link constraints from the alias table."""

    def __init__(self, table: AliasTable, threshold: float = FUZZY_THRESHOLD) -> None:
        self._parent: dict[str, str] = {}
        self._canon: dict[str, set[str]] = {}
        self._seen: Counter[str] = Counter()
        self._display: dict[str, Counter[str]] = {}
        self._threshold = threshold
        self._apart: set[frozenset[str]] = set()
        self._display_by_root: dict[str, str] | None = None
        self._resolved: dict[str, str] = {}
        self._observed: set[str] = set()
        self._stand_ins: set[str] = set()
        self._metonyms = {name_key(a): name_key(b) for a, b in table.metonyms.items()}
        self._english: dict[str, Counter[str]] = {}
        self._people: set[str] = set()
        self._named: set[str] = set()
        self._actor_roots: set[str] | None = None
        self.refused: list[tuple[str, str]] = []
        """Links refused because they would merge actors declared distinct."""
        self._canonical_name: dict[str, str] = {}
        for canonical, aliases in table.entities.items():
            key = name_key(canonical)
            self._canonical_name[key] = canonical
            self._find(key)
            self._canon[key] = {key}
            for alias in aliases:
                self._union(key, name_key(alias), alias, canonical)
        self._apart = {frozenset((self._anchor(a), self._anchor(b))) for a, b in table.distinct}

    def _anchor(self, name: str) -> str:
        """The curated key a name of a distinct pair stands for: its entity's, or its own, the name then being
        curated as written (a pair may name actors the table lists no aliases for)."""
        key = name_key(name)
        if key not in self._parent:
            self._find(key)
            self._canon[key] = {key}
            self._canonical_name[key] = name
            return key
        return min(self._canon[self._find(key)])

    def _find(self, key: str) -> str:
        parent = self._parent.setdefault(key, key)
        if parent != key:
            parent = self._parent[key] = self._find(parent)
        return parent

    def _blocked(self, a: str, b: str) -> bool:
        return any(frozenset((x, y)) in self._apart for x in self._canon.get(a, ()) for y in self._canon.get(b, ()))

    def _union(self, a: str, b: str, label_a: str, label_b: str) -> bool:
        self._display_by_root = None
        self._actor_roots = None
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return True
        if self._blocked(ra, rb):
            if (label_a, label_b) not in self.refused:
                self.refused.append((label_a, label_b))
            return False
        self._parent[rb] = ra
        self._canon[ra] = self._canon.get(ra, set()) | self._canon.pop(rb, set())
        return True

    def observe(
        self,
        name: str,
        spellings: Iterable[str] = (),
        times: int = 1,
        *,
        english: str | None = None,
        person: bool = False,
    ) -> None:
        """Record that an article calls one actor ``name`` and also ``spellings`` (``times`` articles do), and
        that its usual English name is ``english``. A ``person``'s names are never read as a place standing for
        a country ("Washington" the senator is not the United States)."""
        key = name_key(name)
        if not key:
            return
        self._display_by_root = None
        self._find(key)
        self._observed.add(key)
        self._seen[key] += times
        self._tally(key)[name] += times
        english_key = name_key(english) if english else ""
        if english and english_key:
            # The English name is compared like a name of its own: two articles' transliterations meet in it.
            tally = self._english.get(key)
            if tally is None:
                tally = self._english[key] = Counter()
            tally[english.strip()] += times
            self._seen[english_key] += 0
        # The English name first: it joins the actor's other records before an article's spellings can pull the
        # name towards an actor declared distinct.
        others = [*([english] if english and english_key != key else []), *spellings]
        if person:
            self._people.add(key)
        self._named.add(key)
        self._actor_roots = None
        for spelling in others:
            other = name_key(spelling)
            if other and other != key:
                self._find(other)
                self._observed.add(other)
                self._named.add(other)
                self._tally(other)[spelling] += 0
                if person:
                    self._people.add(other)
                self._union(key, other, name, spelling)

    def mention(self, name: str) -> None:
        """Record a name that a fact gives in passing (who claims a figure): it joins an actor by the same rules
        as an actor's own names (initialisms, stand-ins, fuzzy matching), but is no actor by itself and does not
        count towards the name an actor is shown by."""
        key = name_key(name)
        if not key:
            return
        self._display_by_root = None
        self._find(key)
        self._observed.add(key)
        self._seen[key] += 0
        self._tally(key)[name.strip()] += 0

    def is_actor(self, name: str) -> bool:
        """Whether ``name`` resolves to an actor the records list (a party, mediator or person, by any of the
        names given for it), not only to names mentioned in passing."""
        if self._actor_roots is None:
            self._actor_roots = {self._find(k) for k in self._named}
        key = name_key(name)
        return bool(key) and key in self._parent and self._find(key) in self._actor_roots

    def _tally(self, key: str) -> Counter[str]:
        # Not setdefault(key, Counter()): that builds a Counter on every call, tens of thousands in a briefing.
        tally = self._display.get(key)
        if tally is None:
            tally = self._display[key] = Counter()
        return tally

    def link_fuzzy(self) -> None:
        """Join initialisms, stand-ins and names that differ only slightly ("Sirajuddin" / "Sirajudin"), never
        across distinct actors.

        Only names observed as an actor's main name are compared by fuzzy score, so that a short stand-in such as
        a capital never pulls in a longer name by partial overlap."""
        self._link_initialisms()
        self._link_stand_ins()
        keys = sorted(self._seen)
        for i, a in enumerate(keys):
            if len(a) < MIN_FUZZY_LENGTH:
                continue
            # One call into rapidfuzz per name rather than one per pair: thousands of names stay fast.
            close = process.extract(a, keys[i + 1 :], scorer=fuzz.ratio, score_cutoff=self._threshold, limit=None)
            for b, _, _ in sorted(close, key=lambda match: match[2]):
                if len(b) >= MIN_FUZZY_LENGTH and self._find(a) != self._find(b):
                    self._union(a, b, a, b)

    def _letters(self, key: str) -> str | None:
        """The letters of ``key`` if it is written as an initialism: "U.S." or "U S" (key "u s"), or "UAE"."""
        if _DOTTED.match(key):
            return key.replace(" ", "")
        # Undotted only when written in capitals: "US" is an initialism, "us" a word.
        written = self._display.get(key, Counter())
        if " " not in key and 2 <= len(key) <= 6 and any(n.strip().isupper() for n in written):
            return key
        return None

    def _link_initialisms(self) -> None:
        # An initialism joins the one multi-word name observed in this run with those initials; with two
        # candidates ("DNM": two movements) it is left alone rather than guessed.
        short: dict[str, list[str]] = {}
        long: dict[str, set[str]] = {}
        for key in sorted(self._observed):
            letters = self._letters(key)
            if letters is not None:
                short.setdefault(letters, []).append(key)
                continue
            words = [w for w in key.split() if w not in _SKIPPED_IN_INITIALS]
            if len(words) >= 2:
                long.setdefault("".join(w[0] for w in words), set()).add(key)
        for letters, keys in short.items():
            names = sorted(long.get(letters, ()))
            if len({self._find(n) for n in names}) > 1:
                continue
            # With no full name observed, the dotted and undotted forms ("U.S.", "US") still name one actor.
            head, *rest = [*names[:1], *keys]
            for key in rest:
                self._union(head, key, head, key)

    def _link_stand_ins(self) -> None:
        # "Moscow" or "the Kremlin" is Russia only in a run that names Russia: alone, it stays as written.
        found = places(name_key)
        observed_roots = {self._find(k) for k in self._observed}
        same_city: dict[str, list[str]] = {}
        # A person's names are left out: "Washington" the senator is no stand-in for the United States.
        for key in sorted(self._observed - self._people):
            actor = self._metonyms.get(key) or found.capitals.get(key)
            if actor is None or actor == key:
                continue
            if key in found.capitals and key not in self._metonyms:
                same_city.setdefault(actor, []).append(key)
            if actor in self._parent and self._find(actor) in observed_roots and self._union(actor, key, actor, key):
                self._stand_ins.add(key)
        # Spellings of one capital ("Kyiv", "Kiev") are one place even when its country is not named.
        for keys in same_city.values():
            for key in keys[1:]:
                self._union(keys[0], key, keys[0], key)

    def resolve(self, name: str | None) -> str | None:
        """The display name of the actor ``name`` refers to; None for None."""
        if name is None:
            return None
        if self._display_by_root is None:
            self._display_by_root = self._displays()
            self._resolved = {}
        # A briefing resolves the same few hundred names a hundred thousand times.
        shown = self._resolved.get(name)
        if shown is None:
            if not name.strip():
                return None
            shown = self._resolved[name] = self._display_by_root.get(self._find(name_key(name))) or name.strip()
        return shown

    def _displays(self) -> dict[str, str]:
        # The curated name when the group holds one, else the English name the model gives most, else the name
        # the sources use most (longest on a tie). A stand-in ("Moscow") is shown only when its group has no
        # other name.
        tallies: dict[str, Counter[str]] = {}
        for key in self._parent:
            if key not in self._stand_ins:
                tallies.setdefault(self._find(key), Counter()).update(self._display.get(key, Counter()))
        english: dict[str, Counter[str]] = {}
        for key, names in self._english.items():
            if key not in self._stand_ins:
                english.setdefault(self._find(key), Counter()).update(names)
        shown: dict[str, str] = {}
        for root, names in tallies.items():
            canon = sorted(self._canon.get(root, ()))
            if canon:
                shown[root] = self._canonical_name[canon[0]]
            elif names or root in english:
                pick = english.get(root) or names
                shown[root] = max(pick.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
        return shown
