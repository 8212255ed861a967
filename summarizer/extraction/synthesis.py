"""The schema of the second call: a story's top line, written by the model from the story's merged facts.

The model sees the facts as numbered lines (``E3 | event | 2025-10-25: talks collapsed | 2 sources``) and
answers with 3 to 7 key developments, each naming the facts it rests on. An answer is validated with
``context=synthesis_context(facts)``: a bullet that cites an unknown id, or states a figure, a year, a day or a
month that none of its cited facts holds, is sent back with the reasons (a re-ask), as an extraction is.

Figures are compared as numbers, whatever their writing ("1,200", "1200", "twelve" / "12"); a month as its
number, so "25 October" is grounded by a fact dated ``2025-10-25``. Words like "one" and "two" are left out:
"one of the mediators", "the two sides" are not figures.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

SYNTHESIS_VERSION = "1"

MOST = 7
FEWEST = 3


class KeyDevelopment(BaseModel):
    """One development of the story in one plain sentence."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        description="One sentence a minister can read at a glance: what happened or where things stand. Every "
        "figure, date and name in it must be in the facts it cites. No citation marks."
    )
    facts: list[str] = Field(
        min_length=1, description="The ids of the facts it rests on, exactly as listed (such as E4, D1)."
    )


class Synthesis(BaseModel):
    """The top line of one story: its key developments, most important first."""

    model_config = ConfigDict(extra="forbid")

    key_developments: list[KeyDevelopment] = Field(
        min_length=1,
        max_length=MOST,
        description="3 to 7 developments (fewer only when the story has fewer facts), most important first: "
        "what happened, where things stand, the sticking points, the figures, what comes next. Each fact at "
        "most once.",
    )

    same_facts: list[list[str]] = Field(
        default_factory=list,
        description="Groups of ids of facts that tell the same thing in other words (such as an event and the "
        "outcome that reports it, or one demand worded two ways): each group 2 or more ids, each id in at most one "
        "group. Only events and outcomes together, or demands together. Facts that differ in substance, actor or "
        "figure stay apart.",
    )

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> Self:
        facts = info.context.get(_FACTS) if isinstance(info.context, dict) else None
        if isinstance(facts, dict):
            problems = grounding_problems(self, facts)
            if problems:
                raise ValueError("; ".join(problems))
        return self


_FACTS = "summarizer_facts"
"""The validation-context key under which the story's facts wait, by id."""


def synthesis_context(facts: Mapping[str, str]) -> dict[str, Any]:
    """The validation context that makes ``Synthesis`` check an answer against ``facts`` (what each fact id
    states: its date and its words)."""
    return {_FACTS: dict(facts)}


_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        (
            *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
            *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen"),
            *("nineteen", "twenty"),
        )
    )
}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80})
_NUMBER_WORDS.update({"ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12})
_IDIOMS = frozenset({"zero", "one", "two"})
"""Number words a sentence uses without stating a figure ("one of", "the two sides")."""
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MODAL_MAY = "may"
"""Lower-case "may" is the verb; only "May" is the month."""
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})(?:-(\d{2}))?\b")


def _figure(token: str) -> float | None:
    if token[0].isdigit():
        plain = token.replace(",", "")
        try:
            return float(plain)
        except ValueError:  # "1.2.3": a version or a list, not one figure
            return float(plain.split(".")[0])
    return None


def _figures(text: str, *, stated: bool) -> tuple[set[float], set[int]]:
    """The figures and the months ``text`` holds. With ``stated`` (a bullet), only what states a figure;
    without (a fact), everything that could ground one, an ISO date's parts included."""
    numbers: set[float] = set()
    months: set[int] = set()
    if not stated:
        for year, month, day in _ISO_DATE.findall(text):
            numbers.update(float(p) for p in (year, month, day) if p)
            months.add(int(month))
    for token in _TOKEN.findall(text):
        value = _figure(token)
        if value is not None:
            numbers.add(value)
            continue
        word = token.lower()
        if word in _NUMBER_WORDS and not (stated and word in _IDIOMS):
            numbers.add(float(_NUMBER_WORDS[word]))
        elif word in _MONTHS and not (word == _MODAL_MAY and token.islower()):
            months.add(_MONTHS[word])
            if not stated:
                numbers.add(float(_MONTHS[word]))
    return numbers, months


def grounding_problems(synthesis: Synthesis, facts: Mapping[str, str]) -> list[str]:
    """What makes ``synthesis`` unfit for the story whose facts are ``facts`` (empty when nothing does):
    too few bullets, unknown fact ids, figures or dates that no cited fact holds."""
    problems: list[str] = []
    fewest = min(FEWEST, len(facts))
    if len(synthesis.key_developments) < fewest:
        problems.append(f"give at least {fewest} key developments, not {len(synthesis.key_developments)}")
    for number, bullet in enumerate(synthesis.key_developments, start=1):
        unknown = [fact for fact in bullet.facts if fact not in facts]
        if unknown:
            problems.append(
                f"key development {number} cites {', '.join(unknown)}, not among the facts; cite only listed ids"
            )
        cited = " ".join(facts[fact] for fact in bullet.facts if fact in facts)
        have_numbers, have_months = _figures(cited, stated=False)
        said_numbers, said_months = _figures(bullet.text, stated=True)
        missing = [_shown(n) for n in sorted(said_numbers - have_numbers)]
        missing += [calendar.month_name[m] for m in sorted(said_months - have_months)]
        if missing:
            problems.append(
                f"key development {number} states {', '.join(missing)}, which none of the facts it cites "
                f"({', '.join(bullet.facts)}) holds; cite the fact that states it or leave it out"
            )
    problems.extend(_grouping_problems(synthesis.same_facts, facts))
    return problems


FOLDABLE = ({"E", "O"}, {"D"})
"""The kinds of fact (by id letter) a group of same facts may hold: events with outcomes, demands with demands."""


def _grouping_problems(groups: list[list[str]], facts: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for number, group in enumerate(groups, start=1):
        ids = list(dict.fromkeys(group))
        unknown = [fact for fact in ids if fact not in facts]
        if unknown:
            problems.append(f"same_facts group {number} names {', '.join(unknown)}, not among the facts")
        if len(ids) < 2:
            problems.append(f"same_facts group {number} has fewer than 2 distinct ids; leave it out")
        kinds = {fact[0] for fact in ids}
        if not any(kinds <= allowed for allowed in FOLDABLE):
            problems.append(f"same_facts group {number} mixes {', '.join(ids)}; group events with outcomes, or demands")
        twice = [fact for fact in ids if fact in seen]
        if twice:
            problems.append(f"same_facts group {number} repeats {', '.join(twice)} from an earlier group")
        seen.update(ids)
    return problems


def _shown(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
