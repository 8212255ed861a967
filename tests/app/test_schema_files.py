"""JSON output validates against the generated schemas in ``schemas/``."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from summarizer.briefing.model import Briefing, Citation
from summarizer.briefing.render import render
from tests.conftest import RECORDINGS, ROOT


def _schema(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))
    return loaded


def test_golden_briefing_json_validates() -> None:
    briefing = json.loads((ROOT / "fixtures" / "briefing" / "example.json").read_text(encoding="utf-8"))
    jsonschema.validate(briefing, _schema("briefing.json"))


def test_the_json_briefing_reads_back_as_the_same_briefing() -> None:
    text = (ROOT / "fixtures" / "briefing" / "example.json").read_text(encoding="utf-8")
    briefing = Briefing.model_validate_json(text)
    assert render(briefing, "json") == text
    citation = briefing.stories[0].parties[0].citations[0]
    assert isinstance(citation, Citation) and citation == Citation(citation.source, citation.quote, citation.found)
    with pytest.raises(ValidationError, match="source"):
        Briefing.model_validate_json(text.replace('"source": 1,', '"source": "first",', 1))
    with pytest.raises(ValidationError, match="unknown"):
        Briefing.model_validate_json(text.replace('"found": true', '"found": true, "unknown": 1', 1))


def test_recordings_validate_as_records_and_extractions() -> None:
    for path in sorted(RECORDINGS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(record, _schema("record.json"))
        answer = "synthesis.json" if record["request"].get("task") == "synthesize" else "article_extraction.json"
        jsonschema.validate(record["output"], _schema(answer))


def test_schema_rejects_a_broken_briefing() -> None:
    briefing = json.loads((ROOT / "fixtures" / "briefing" / "example.json").read_text(encoding="utf-8"))
    del briefing["sources"][0]["number"]
    with pytest.raises(jsonschema.ValidationError, match="number"):
        jsonschema.validate(briefing, _schema("briefing.json"))
