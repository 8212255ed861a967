"""The extraction schema as the model is shown it: compact, and still the schema the answers are checked by."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from summarizer.extraction.records import read_recordings
from summarizer.extraction.schema import ArticleExtraction
from tests.conftest import RECORDINGS, ROOT

SYNTHETIC = ROOT / "fixtures" / "synthetic" / "recordings"


def _nodes(node: Any, key: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in ``node`` with the key it sits under (property names are keys, not schemas)."""
    if isinstance(node, dict):
        yield key, node
        for name, value in node.items():
            if name in ("properties", "$defs"):
                for child_name, child in value.items():
                    yield from _nodes(child, child_name)
            else:
                yield from _nodes(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value, key)


def test_the_schema_carries_no_titles_null_defaults_or_repeated_definitions() -> None:
    schema = ArticleExtraction.model_json_schema()
    nodes = [node for _, node in _nodes(schema)]
    assert schema["title"] == "ArticleExtraction", "instructor names the tool after it"
    assert not [n for n in nodes[1:] if isinstance(n.get("title"), str)]
    assert not [n for n in nodes if "default" in n]
    # Shared definitions once, referred to: every item's evidence, every date.
    text = json.dumps(schema)
    assert text.count('"#/$defs/Quote"') == 7 and text.count("word for word") == 1
    assert text.count('"#/$defs/IsoDate"') == 3 and text.count("[0-9]{4}") == 1
    # An enum used once is written where it is used; an optional scalar is a type array.
    assert not [name for name, d in schema["$defs"].items() if "enum" in d]
    assert schema["$defs"]["Person"]["properties"]["title"]["type"] == ["string", "null"]


@pytest.mark.parametrize("folder", [RECORDINGS, SYNTHETIC])
def test_every_recorded_answer_is_valid_against_the_schema_as_sent(folder: Path) -> None:
    schema = ArticleExtraction.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for record in read_recordings(folder).values():
        jsonschema.validate(record.output, schema)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("parties", 0, "evidence"), "ab"),  # a quote is three characters or more
        (("events", 0, "date"), "Nov 2025"),
        (("events", 0, "precision"), "week"),
        (("casualties", 0, "low"), -1),
        (("people", 0, "title"), 7),
        (("summary",), ""),
    ],
)
def test_the_compact_schema_still_refuses_what_the_models_refuse(path: tuple[str | int, ...], value: Any) -> None:
    schema = ArticleExtraction.model_json_schema()
    output = next(r.output for r in read_recordings(RECORDINGS).values() if r.output.get("casualties"))
    broken = copy.deepcopy(output)
    target: Any = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    with pytest.raises(ValueError):
        ArticleExtraction.model_validate(broken)
