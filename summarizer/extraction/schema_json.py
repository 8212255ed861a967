"""How the extraction schema is written as JSON Schema: compact, since every request carries it.

The schema reaches the model with every article (as the tool's parameters, or in the system message), so each
character it holds is paid for once per request. Pydantic's default output repeats what says nothing to a model:
a title on every field and definition (the name again, capitalised), ``"default": null`` on every optional field
(which ``required`` already implies), and a description on every enum that the field using it says better.
``CompactJsonSchema`` leaves those out and writes an optional scalar as ``"type": [..., "null"]`` instead of an
``anyOf``; the constraints (patterns, lengths, minimums) and the descriptions the models' docstrings give stay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

_DEFS = "#/$defs/"
_NOT_SCALAR = ("$ref", "anyOf", "oneOf", "allOf", "enum", "const")


class CompactJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema without field and definition titles, null defaults and enum descriptions, with
    optional scalars as type arrays. The schema's top-level title stays: instructor names the tool after it."""

    def field_title_should_be_set(
        self,
        schema: core_schema.CoreSchema
        | core_schema.ModelField
        | core_schema.DataclassField
        | core_schema.TypedDictField
        | core_schema.ComputedField,
    ) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        kind = inner.get("type")
        if isinstance(kind, str) and not any(key in inner for key in _NOT_SCALAR):
            # Equivalent in JSON Schema: a pattern, length or minimum applies to its own type only, not to null.
            return {**inner, "type": [kind, "null"]}
        return super().nullable_schema(schema)

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        json_schema = super().generate(schema, mode)
        definitions: dict[str, JsonSchemaValue] = json_schema.get("$defs", {})
        for definition in definitions.values():
            definition.pop("title", None)
            if "enum" in definition:
                definition.pop("description", None)
        uses = Counter(_references(json_schema))
        single = {name for name, definition in definitions.items() if "enum" in definition and uses[name] == 1}
        if single:
            _inline(json_schema, {name: definitions.pop(name) for name in single})
        return json_schema


def _references(node: object) -> Iterator[str]:
    """The name of every definition ``node`` refers to, once per reference."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            yield ref[len(_DEFS) :]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _inline(node: object, definitions: dict[str, JsonSchemaValue]) -> None:
    """Replace each reference to one of ``definitions`` with the definition itself, in place; the referring
    field's own keys (its description) are kept beside the definition's."""
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        if isinstance(child, dict):
            ref = child.get("$ref")
            name = ref[len(_DEFS) :] if isinstance(ref, str) and ref.startswith(_DEFS) else None
            if name in definitions:
                del child["$ref"]
                child.update({**definitions[name], **child})
        _inline(child, definitions)
