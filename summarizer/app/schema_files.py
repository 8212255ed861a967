"""Generates ``schemas/*.json`` from the Pydantic models, and tells when the files have drifted from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from summarizer.briefing.model import Briefing
from summarizer.evaluation.gold import GoldAnnotation
from summarizer.extraction.records import Record
from summarizer.extraction.schema import ArticleExtraction
from summarizer.extraction.synthesis import Synthesis

DEFAULT_DIR = Path("schemas")


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every model whose JSON leaves the program."""
    return {
        "article_extraction.json": ArticleExtraction.model_json_schema(),
        "record.json": Record.model_json_schema(),
        "briefing.json": Briefing.model_json_schema(),
        "gold.json": GoldAnnotation.model_json_schema(),
        "synthesis.json": Synthesis.model_json_schema(),
    }


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(directory: Path = DEFAULT_DIR) -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = directory / name
        path.write_text(_text(document), encoding="utf-8")
        written.append(path)
    return written


def drifted_schemas(directory: Path = DEFAULT_DIR) -> list[str]:
    """Names of schema files that are missing or differ from what the models generate."""
    stale = []
    for name, document in schema_documents().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != _text(document):
            stale.append(name)
    return stale
