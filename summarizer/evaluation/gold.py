"""Gold annotations: what a careful reader finds in one article, to score extractions against.

A gold file (``summarizer.gold/1``, JSON) names its article and lists the parties, mediators, demands, casualty
claims and dated events the article states, each with an evidence quote copied from the article. The items
reuse the extraction schema's models (same field names and enums, same date and figure rules), so a gold item
and a predicted item are compared field by field. An item marked ``optional`` is one a careful reader could
fairly include or leave out: predicting it is neither rewarded nor penalised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass as plain_dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from summarizer.errors import InputError, first_problem
from summarizer.extraction.schema import CasualtyClaim, Demand, Event, Mediator, Party

GOLD_FORMAT: Literal["summarizer.gold/1"] = "summarizer.gold/1"


def _inherited_descriptions(schema: dict[str, Any], cls: type) -> None:
    # pydantic reads a dataclass's attribute docstrings from its own body only: without this, a gold item's
    # schema would lose the description of every field it takes from its schema item.
    for name, prop in schema.get("properties", {}).items():
        for base in cls.__mro__[1:]:
            field = getattr(base, "__pydantic_fields__", {}).get(name)
            if field is not None and field.description:
                prop.setdefault("description", field.description)
                break


_STRICT = ConfigDict(extra="forbid", json_schema_extra=_inherited_descriptions)


# Plain (no slots), so that each gold item can take these fields alongside its schema item's slots.
@dataclass(frozen=True, kw_only=True, config=ConfigDict(use_attribute_docstrings=True))
class _Judged:
    optional: bool = False
    """True for an item a careful reader could fairly include or leave out; it counts neither way."""
    note: str | None = None
    """Why the item is annotated as it is, when that is not obvious from the quote."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_STRICT)
class GoldParty(_Judged, Party):
    """A side in the conflict or the talks, as the article names it."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_STRICT)
class GoldMediator(_Judged, Mediator):
    """A third party hosting, mediating, brokering or facilitating."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_STRICT)
class GoldDemand(_Judged, Demand):
    """A demand one party makes of another."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_STRICT)
class GoldCasualty(_Judged, CasualtyClaim):
    """A casualty claim, with the numbers the article's words allow."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_STRICT)
class GoldEvent(_Judged, Event):
    """A dated event at the precision the article supports."""


class GoldAnnotation(BaseModel):
    """The reference answer for one article, written by hand from the article's own words."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    format: Literal["summarizer.gold/1"] = GOLD_FORMAT
    article: str
    """The article file, relative to this gold file (e.g. ``../articles/000_c7654b6822704fd4.txt``)."""
    article_id: str
    """The article's id as ``summarizer.ingest`` computes it; tells when the text has changed since."""
    notes: str | None = None
    """How the annotation was made and the judgement calls in it."""
    parties: list[GoldParty] = Field(default_factory=list)
    mediators: list[GoldMediator] = Field(default_factory=list)
    demands: list[GoldDemand] = Field(default_factory=list)
    casualties: list[GoldCasualty] = Field(default_factory=list)
    events: list[GoldEvent] = Field(default_factory=list)


@plain_dataclass(frozen=True, slots=True)
class GoldFile:
    """A gold annotation and where it was read from."""

    path: Path
    annotation: GoldAnnotation

    @property
    def article_path(self) -> Path:
        """The annotated article's file, resolved against the gold file's folder."""
        return Path(os.path.normpath(self.path.parent / self.annotation.article))


def load_gold(path: Path) -> GoldFile:
    """Read one gold file; a malformed one is an InputError naming the file, the field and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read gold file ({exc.strerror})", "check the path") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} ({exc.msg})", "fix the file") from None
    try:
        annotation = GoldAnnotation.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            str(path),
            f"not a {GOLD_FORMAT} file ({first_problem(exc, '(top level)')})",
            "fix that field as schemas/gold.json describes",
        ) from None
    return GoldFile(path, annotation)


def load_gold_dir(directory: Path) -> list[GoldFile]:
    """Every ``*.json`` gold file in ``directory``, by file name."""
    if not directory.is_dir():
        raise InputError(str(directory), "no such gold directory", "check --gold")
    files = sorted(directory.glob("*.json"))
    if not files:
        raise InputError(str(directory), "no gold files (*.json) in the directory", "check --gold")
    return [load_gold(path) for path in files]
