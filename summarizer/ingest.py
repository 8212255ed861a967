"""Reads articles from .txt/.md files (optional YAML front matter), .json/.jsonl files and folders.

Scraped web boilerplate is stripped line by line; an article's id is a hash of its normalised text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .hashing import digest

TEXT_SUFFIXES = frozenset({".txt", ".md"})
JSON_SUFFIXES = frozenset({".json", ".jsonl"})
SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES

# Whole lines that scrapers leave behind. Each pattern must match the entire stripped line, so a real sentence
# that merely starts with "Read more" is kept.
_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"also read:.*",
        r"read more:.*",
        r"\d+\s+min(ute)?s?\s+read",
        r"-?\s*advertisement\s*-?",
        r"share this article",
        r"leave a (comment|reply)",
        r"your email address will not be published\..*",
        r"required fields are marked \*",
        r"[-\u2013\u2014\u2022*]",
        # A truncated embed fragment such as "Let me…": a few words cut off by an ellipsis.
        r"(\S+\s+){0,2}\S+(…|\.\.\.)",
    )
]
_TITLE_MAX = 200
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, ready to be sent for extraction."""

    id: str
    """``a1-`` + hash of the normalised text; equal texts are one article."""
    title: str
    text: str
    """The body, boilerplate removed, whitespace normalised."""
    source: str
    """Where it was read from: a path, ``path:line`` for JSON Lines, ``path[i]`` for a JSON list."""
    published: date | None = None
    published_inferred: bool = False
    """True when ``published`` was inferred from the text rather than given by the outlet."""
    outlet: str | None = None
    url: str | None = None
    also_at: tuple[str, ...] = field(default=())
    """Other sources that held the same text."""


@dataclass(slots=True)
class IngestResult:
    """The articles read, and one error per input that could not be used."""

    articles: list[Article] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def normalise_text(text: str) -> str:
    """NFC, one space between words, one blank line between paragraphs, no boilerplate lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for raw in text.split("\n"):
        line = re.sub(r"[ \t\u00a0]+", " ", raw).strip()
        if line and not any(p.fullmatch(line) for p in _BOILERPLATE):
            paragraphs.append(line)
    return "\n\n".join(paragraphs)


def article_id(text: str) -> str:
    """The id of an article with this (already normalised) text."""
    return digest("a1-", text)


def _split_title(body: str) -> tuple[str, str]:
    """Title = the first line when it reads as a headline; otherwise the text has none and keeps that line."""
    first, _, rest = body.partition("\n\n")
    if len(first) <= _TITLE_MAX and not first.endswith((".", "?\u201d", '."')) and rest:
        return first, rest
    words = first.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else ""), body


def _parse_date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(where, f"published {value!r} is not an ISO date", "write it as YYYY-MM-DD") from None


def _build(fields: dict[str, Any], body: str, source: str) -> Article:
    text = normalise_text(body)
    if not text:
        raise InputError(source, "no article text", "add the text or remove the file")
    given_title = fields.get("title")
    if given_title:
        title = normalise_text(str(given_title)).replace("\n\n", " ")
    else:
        title, text = _split_title(text)
    return Article(
        id=article_id(text),
        title=title,
        text=text,
        source=source,
        published=_parse_date(fields.get("published"), source),
        published_inferred=bool(fields.get("published_inferred", False)),
        outlet=str(fields["outlet"]) if fields.get("outlet") else None,
        url=str(fields["url"]) if fields.get("url") else None,
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "no such file", "check the path") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory", "pass the directory itself, not a file inside") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})", "check its permissions") from None
    if b"\x00" in data:
        raise InputError(str(path), "binary file, not text", "pass a .txt, .md, .json or .jsonl article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            str(path), f"not UTF-8 text (bad byte at offset {exc.start})", "re-save the file as UTF-8"
        ) from None


def _from_text_file(path: Path) -> Article:
    raw = _read_text(path)
    fields: dict[str, Any] = {}
    match = _FRONT_MATTER.match(raw)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            raise InputError(str(path), "front matter is not valid YAML", "fix the block between ---") from None
        if not isinstance(loaded, dict):
            raise InputError(str(path), "front matter is not a mapping", "write key: value lines between ---")
        fields = loaded
        raw = raw[match.end() :]
    return _build(fields, raw, str(path))


def _from_record(obj: Any, source: str) -> Article:
    if not isinstance(obj, dict):
        raise InputError(source, "not a JSON object", "give each article as an object with a text field")
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError(source, "no text field", 'give each article a "text" string')
    return _build(obj, text, source)


def _from_json_file(path: Path) -> Iterator[Article | InputError]:
    raw = _read_text(path)
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield _from_record(json.loads(line), where)
            except json.JSONDecodeError as exc:
                yield InputError(where, f"invalid JSON ({exc.msg})", "fix or remove that line")
            except InputError as exc:
                yield exc
        return
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} ({exc.msg})", "fix the file") from None
    if isinstance(data, list):
        for index, item in enumerate(data):
            try:
                yield _from_record(item, f"{path}[{index}]")
            except InputError as exc:
                yield exc
    else:
        yield _from_record(data, str(path))


def _expand(paths: Iterable[Path]) -> Iterator[Path | InputError]:
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.upper().startswith("README")
            )
            if not found:
                yield InputError(str(path), "no article files in directory", "add .txt, .md, .json or .jsonl")
            yield from found
        elif path.suffix.lower() not in SUFFIXES and path.exists():
            yield InputError(
                str(path), f"unknown extension {path.suffix or '(none)'!r}", "use .txt, .md, .json or .jsonl"
            )
        else:
            yield path


def _read_one(path: Path) -> Iterator[Article | InputError]:
    try:
        if path.suffix.lower() in JSON_SUFFIXES:
            yield from _from_json_file(path)
        else:
            yield _from_text_file(path)
    except InputError as exc:
        yield exc


def load_articles(paths: Iterable[Path | str]) -> IngestResult:
    """Read every article under ``paths``. Unusable inputs become errors; the rest are still read.

    The same text found twice is one article whose ``also_at`` names the other sources.
    """
    result = IngestResult()
    by_id: dict[str, int] = {}
    for item in _expand(Path(p) for p in paths):
        for got in [item] if isinstance(item, InputError) else _read_one(item):
            if isinstance(got, InputError):
                result.errors.append(got)
            elif got.id in by_id:
                index = by_id[got.id]
                first = result.articles[index]
                result.articles[index] = replace(first, also_at=(*first.also_at, got.source))
            else:
                by_id[got.id] = len(result.articles)
                result.articles.append(got)
    return result
