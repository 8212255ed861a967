"""What the model is told about the answer's fields, by mode.

In ``tools``, ``json`` and ``md_json`` mode the schema, descriptions included, is in what the model reads (the
tool definition, or the system message). In ``json_schema`` mode it is sent as ``response_format``, and local
servers (llama.cpp, vLLM, Ollama) only turn it into a grammar for constrained decoding: none of its descriptions
reach the model, which then has the field names and nothing else to go on. In that mode the system message
carries a compact field guide, made from the same schema.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from summarizer.extraction.prompts import PromptSet
from summarizer.extraction.schema import ArticleExtraction
from summarizer.hashing import digest

GUIDED_MODES = frozenset({"json_schema"})
"""Modes in which the schema reaches the model only as a grammar, so the system message carries the field guide."""


def _plain(text: str) -> str:
    return " ".join(text.split())


def _reference(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A field's type in a few words: ``string``, ``list of Party``, ``one of a, b``, ``integer or null``. A
    named scalar is its name when it has a description (listed once, after the items), else its own type."""
    if "anyOf" in node:
        return " or ".join(_type(option, defs) for option in node["anyOf"])
    if "enum" in node:
        return f"one of {', '.join(node['enum'])}"
    name = _reference(node)
    if name is not None:
        target = defs[name]
        return name if "properties" in target or "description" in target else _type(target, defs)
    if node.get("type") == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    kind = node.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _fields(model: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    required = set(model.get("required", []))
    lines = []
    for name, node in model.get("properties", {}).items():
        need = ", required" if name in required else ""
        description = _plain(node.get("description", ""))
        lines.append(f"- {name} ({_type(node, defs)}{need})" + (f": {description}" if description else ""))
    return lines


@cache
def field_guide(model: type[BaseModel] = ArticleExtraction) -> str:
    """The answer's fields, one line each (name, type, "required" where it is, description), item types after."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    lines = ["Answer with one JSON object with these fields:", *_fields(schema, defs)]
    for name, item in defs.items():
        if "properties" in item:
            lines += ["", f"{name}: {_plain(item.get('description', ''))}", *_fields(item, defs)]
    scalars = [(name, item) for name, item in defs.items() if "properties" not in item and "description" in item]
    if scalars:
        lines.append("")
        lines += [f"{name} ({_type(item, defs)}): {_plain(item['description'])}" for name, item in scalars]
    return "\n".join(lines)


def system_message(prompts: PromptSet, mode: str, model: type[BaseModel] = ArticleExtraction) -> str:
    """The system message sent in ``mode`` for answers of ``model``: the prompt's own, with the field guide
    where the mode needs it."""
    if mode in GUIDED_MODES:
        return f"{prompts.system}\n\n{field_guide(model)}"
    return prompts.system


@cache
def guide_hash(model: type[BaseModel] = ArticleExtraction) -> str:
    """Changes whenever the field guide's text does; part of the cache key in the modes that send it."""
    return digest("g1-", field_guide(model))
