"""Entity resolution: one name per real-world actor, whatever the spelling.

Names are linked three ways: a curated alias table (``aliases.yaml``, extendable with a user file), the
spellings each article lists for one actor, and fuzzy matching (rapidfuzz) above a threshold for close
variants. Links that would join two actors the table declares distinct are refused and reported.
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

from summarizer.errors import ConfigError

BUNDLED_ALIASES = Path(__file__).with_name("aliases.yaml")
FUZZY_THRESHOLD = 92.0


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
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{path}: expected 'entities: [{{name, aliases}}]' and 'distinct: [[a, b]]'; fix the file"
            ) from None


class EntityResolver:
    """Union-find over name keys with cannot-link constraints from the alias table."""

    def __init__(self, table: AliasTable, threshold: float = FUZZY_THRESHOLD) -> None:
        self._parent: dict[str, str] = {}
        self._canon: dict[str, set[str]] = {}
        self._seen: Counter[str] = Counter()
        self._display: dict[str, Counter[str]] = {}
        self._threshold = threshold
        self._apart = {frozenset((name_key(a), name_key(b))) for a, b in table.distinct}
        self._display_by_root: dict[str, str] | None = None
        self._resolved: dict[str, str] = {}
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

    def _find(self, key: str) -> str:
        parent = self._parent.setdefault(key, key)
        if parent != key:
            parent = self._parent[key] = self._find(parent)
        return parent

    def _blocked(self, a: str, b: str) -> bool:
        return any(frozenset((x, y)) in self._apart for x in self._canon.get(a, ()) for y in self._canon.get(b, ()))

    def _union(self, a: str, b: str, label_a: str, label_b: str) -> bool:
        self._display_by_root = None
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

    def observe(self, name: str, spellings: Iterable[str] = (), times: int = 1) -> None:
        """Record that an article calls one actor ``name`` and also ``spellings`` (``times`` articles do)."""
        key = name_key(name)
        if not key:
            return
        self._display_by_root = None
        self._find(key)
        self._seen[key] += times
        self._tally(key)[name] += times
        for spelling in spellings:
            other = name_key(spelling)
            if other and other != key:
                self._find(other)
                self._tally(other)[spelling] += 0
                self._union(key, other, name, spelling)

    def _tally(self, key: str) -> Counter[str]:
        # Not setdefault(key, Counter()): that builds a Counter on every call, tens of thousands in a briefing.
        tally = self._display.get(key)
        if tally is None:
            tally = self._display[key] = Counter()
        return tally

    def link_fuzzy(self) -> None:
        """Join names that differ only slightly ("Tshisekedi" / "Tshisekedy"), never across distinct actors.

        Only names observed as an actor's main name are compared, so that a short stand-in such as a capital
        never pulls in a longer name by partial overlap."""
        keys = sorted(self._seen)
        for i, a in enumerate(keys):
            # One call into rapidfuzz per name rather than one per pair: thousands of names stay fast.
            close = process.extract(a, keys[i + 1 :], scorer=fuzz.ratio, score_cutoff=self._threshold, limit=None)
            for b, _, _ in sorted(close, key=lambda match: match[2]):
                if self._find(a) != self._find(b):
                    self._union(a, b, a, b)

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
        # The curated name when the group holds one, else the name the sources use most (longest on a tie).
        tallies: dict[str, Counter[str]] = {}
        for key in self._parent:
            tallies.setdefault(self._find(key), Counter()).update(self._display.get(key, Counter()))
        shown: dict[str, str] = {}
        for root, names in tallies.items():
            canon = sorted(self._canon.get(root, ()))
            if canon:
                shown[root] = self._canonical_name[canon[0]]
            elif names:
                shown[root] = max(names.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
        return shown
