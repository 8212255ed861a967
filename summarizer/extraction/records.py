"""The record of one extraction: what was asked, what came back, and where it came from.

A record is at once a cache entry and a recording file: ``fixtures/recordings/*.json`` hold exactly what the
cache holds, so a fixture can be read in review and replayed through the same path as a live answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from summarizer.errors import RecordingError, first_problem
from summarizer.extraction.schema import SCHEMA_VERSION, ArticleExtraction
from summarizer.hashing import canonical_json, digest

RECORD_FORMAT = "summarizer.record/1"
LOOPBACK_FINGERPRINT = "summarizer-loopback:"
"""``system_fingerprint`` prefix of answers served by ``summarizer serve``, followed by the recording's origin."""
Origin = Literal["recorded", "authored"]
CHARS_PER_TOKEN = 4
"""The rough size of a token, for the few estimates made before an endpoint has counted (never for cost)."""


@cache
def schema_hash() -> str:
    """Changes whenever the extraction schema (fields, types or descriptions) changes. Computed once per
    process: generating the JSON Schema takes milliseconds, and every cache key needs it."""
    return digest("s1-", SCHEMA_VERSION, canonical_json(ArticleExtraction.model_json_schema()))


_M = TypeVar("_M", bound=BaseModel)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Usage(_Frozen):
    """Token counts as the endpoint reported them, summed over every attempt for the article."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Usage with its total filled in."""
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class RequestInfo(_Frozen):
    """What was asked: enough to tell whether a record still answers the current settings."""

    article_id: str
    article_title: str
    article_source: str
    model: str
    mode: str
    temperature: float
    max_tokens: int | None = None
    prompt_hash: str
    schema_hash: str


class ResponseInfo(_Frozen):
    """What the endpoint said about its answer."""

    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    """None when no endpoint produced the answer (an authored record)."""
    attempts: int = 1
    """Requests sent for this article, re-asks and transport retries included."""


_OUTPUT_DOC = "The model's JSON answer, decoded but otherwise as returned."


class _RecordFields(_Frozen):
    format: Literal["summarizer.record/1"] = "summarizer.record/1"
    origin: Origin
    """``recorded`` from a live endpoint, or ``authored`` by hand as the answer a careful model should give."""
    key: str
    """The cache key the record was stored under."""
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    request: RequestInfo
    response: ResponseInfo


class _Head(_RecordFields):
    # Parses a record's text without building its output: pydantic skips an ignored key's value unbuilt.
    model_config = ConfigDict(extra="ignore")


class _OutputOf(BaseModel):
    model_config = ConfigDict(extra="ignore")
    output: dict[str, Any]


class _ExtractionOf(BaseModel):
    model_config = ConfigDict(extra="ignore")
    output: ArticleExtraction


def _output_in_schema(schema: dict[str, Any]) -> None:
    schema["properties"]["output"] = {
        "additionalProperties": True,
        "description": _OUTPUT_DOC,
        "title": "Output",
        "type": "object",
    }
    schema["required"].append("output")


# ``output`` is decoded when first asked for. A record read from the cache keeps its text until then: a run
# answered from the cache reads only the small part of each record it needs, and ``extraction()`` validates
# the schema straight from the text, without building the output as a dict first.
class Record(_RecordFields):
    """One article's extraction, as cached and as recorded."""

    model_config = ConfigDict(json_schema_extra=_output_in_schema)
    _output: dict[str, Any] | None = PrivateAttr(default=None)
    _text: str | bytes | None = PrivateAttr(default=None)

    if TYPE_CHECKING:
        # What the validator below accepts; the type checker would otherwise know only the fields.
        def __init__(
            self,
            *,
            origin: Origin,
            key: str,
            request: RequestInfo,
            response: ResponseInfo,
            output: dict[str, Any],
            format: Literal["summarizer.record/1"] = ...,
            created: datetime = ...,
        ) -> None: ...

    @model_validator(mode="wrap")
    @classmethod
    def _take_output(cls, data: Any, handler: ModelWrapValidatorHandler[Record]) -> Record:
        if not isinstance(data, dict):
            return handler(data)
        fields = {name: value for name, value in data.items() if name != "output"}
        record = handler(fields)
        record._output = _OutputOf.model_validate({"output": data["output"]} if "output" in data else {}).output
        return record

    @model_serializer(mode="wrap")
    def _with_output(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        data["output"] = self.output
        return data

    @property
    def output(self) -> dict[str, Any]:
        """The model's JSON answer, decoded but otherwise as returned."""
        if self._output is None:
            self._output = self._from_text(_OutputOf).output
        return self._output

    def _from_text(self, model: type[_M]) -> _M:
        text = self._text  # private attributes are read through pydantic's __getattr__: once, not twice
        if text is None:
            raise RecordingError(f"record {self.key}: has no output; re-record it")
        try:
            return model.model_validate_json(text)
        except ValidationError as exc:
            raise RecordingError(
                f"record {self.key}: not a {RECORD_FORMAT} record ({first_problem(exc, '')}); re-record it"
            ) from None

    def extraction(self) -> ArticleExtraction:
        """The output validated against the current schema (from the record's text when it has not been
        decoded yet, which skips building it as a dict first)."""
        output = self._output
        if output is None:
            return self._from_text(_ExtractionOf).output
        return ArticleExtraction.model_validate(output)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, with ``update``'s values (``output`` among them) in place of this record's."""
        fields = {name: value for name, value in (update or {}).items() if name != "output"}
        copied = super().model_copy(update=fields, deep=deep)
        if update is not None and "output" in update:
            copied._output, copied._text = update["output"], None
        return copied

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return self.__dict__ == other.__dict__ and self.output == other.output

    __hash__ = None  # type: ignore[assignment]  # a record holds a dict, its output

    def to_json(self) -> str:
        """Readable, stable JSON: the text of a recording file and of a cache entry."""
        # pydantic's serializer writes the same text as json.dumps(indent=2, ensure_ascii=False), but in Rust:
        # the pure-Python indenting encoder took milliseconds a record, on the event loop of a concurrent run.
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "record", *, defer_output: bool = False) -> Record:
        """Parse a record, naming ``where`` in the error when it is malformed. With ``defer_output`` (for text
        this package wrote, such as cache entries) the output is checked and decoded when first used."""
        try:
            if not defer_output:
                return cls.model_validate_json(text)
            head = _Head.model_validate_json(text)
        except ValidationError as exc:
            raise RecordingError(
                f"{where}: not a {RECORD_FORMAT} record ({first_problem(exc, '')}); re-record it or fix the field"
            ) from None
        # What model_construct does with fields already validated, set directly: model_construct took as long
        # as parsing the header, and a warm run builds one record per article.
        record = cls.__new__(cls)
        _set = object.__setattr__
        _set(record, "__dict__", head.__dict__)
        _set(record, "__pydantic_fields_set__", head.__pydantic_fields_set__)
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", {**_private_defaults(cls), "_text": text})
        return record


@cache
def _private_defaults(cls: type[Record]) -> dict[str, Any]:
    # Shared by every record read from the cache: the defaults must stay immutable (None), as a test checks.
    return {name: attribute.get_default() for name, attribute in cls.__private_attributes__.items()}


def read_recordings(directory: Path) -> dict[str, Record]:
    """Every record in ``directory``, by article id."""
    if not directory.is_dir():
        raise RecordingError(f"{directory}: no such recordings directory; check --replay / --recordings")
    found: dict[str, Record] = {}
    for path in sorted(directory.glob("*.json")):
        record = Record.from_json(path.read_text(encoding="utf-8"), str(path))
        found[record.request.article_id] = record
    return found


def recording_filename(record: Record) -> str:
    """``<source file stem>.json``, or ``<article id>.json`` when the source is not a plain file."""
    stem = Path(record.request.article_source).stem
    plain = stem and stem.replace("_", "").replace("-", "").isalnum()
    return f"{stem if plain else record.request.article_id}.json"
