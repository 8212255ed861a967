"""Reads articles from .txt/.md files (optional YAML front matter), .json/.jsonl files, saved web pages
(.html/.htm) and folders.

Every input goes one path (``_build``): invisible characters and web boilerplate are stripped line by line
(see ``summarizer.ingest.cleanup``; each removal is logged at DEBUG), and an article's id is a hash of the clean
text. A file that cannot be used is one error naming it and the fix; the other inputs are still read. A file that
can be used with a change (read in another encoding, cut to the length limit) is read, with a one-line warning
naming it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from summarizer.defaults import DEFAULT_MAX_ARTICLE_CHARS
from summarizer.errors import InputError
from summarizer.hashing import digest
from summarizer.ingest.cleanup import clean_text, normalise_text
from summarizer.ingest.files import FORMATS, HTML_SUFFIXES, JSON_SUFFIXES, SUFFIXES, read_bytes, read_text
from summarizer.ingest.injection import directed_passages
from summarizer.ingest.pages import read_page

__all__ = ["Article", "IngestResult", "article_id", "load_articles", "make_article", "normalise_text", "truncate_text"]

_log = logging.getLogger(__name__)

_TITLE_MAX = 200
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, ready to be sent for extraction."""

    id: str
    """``a1-`` + hash of the normalised text; equal texts are one article. Cache keys rely on it: an article
    built by hand with other text needs its id recomputed (``article_id``), as ``make_article`` does."""
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
    directed: tuple[str, ...] = field(default=())
    """Sentences of the title or text addressed to the model reading it ("ignore previous instructions…"),
    found when the article is read (see ``summarizer.ingest.injection``); facts quoting them are left out of a
    briefing. Articles built by hand get them from ``directed_passages``, as ``make_article`` does."""


@dataclass(slots=True)
class IngestResult:
    """The articles read, one error per input that could not be used, and one warning per input that was read
    with a change (another encoding, cut to length)."""

    articles: list[Article] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """One line each, starting with the file (``path:`` or ``path:line:``) and ending with the fix."""


def article_id(text: str) -> str:
    """The id of an article with this (already normalised) text."""
    return digest("a1-", text)


_SENTENCE_END = re.compile(r"[.!?\u2026][\"\'\u201d\u2019)\]]*\s")


def truncate_text(text: str, max_chars: int) -> tuple[str, str]:
    """``text`` cut to at most ``max_chars`` characters, and where it was cut: at the last paragraph end that
    keeps at least half the limit, else the last sentence end, else the last space, else mid-word. A text within
    the limit comes back whole, with ``""``."""
    if len(text) <= max_chars:
        return text, ""
    head = text[: max_chars + 1]
    # Half the limit is the least worth keeping at a clean boundary; below that, a cruder cut keeps more text.
    floor = max_chars // 2
    paragraph = head.rfind("\n\n", 0, max_chars + 1)
    if paragraph >= floor:
        return text[:paragraph].rstrip(), "at a paragraph end"
    sentences = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() - 1 <= max_chars]
    if sentences and sentences[-1] >= floor:
        return text[: sentences[-1]].rstrip(), "at a sentence end"
    space = head.rfind(" ", 0, max_chars + 1)
    if space >= floor:
        return text[:space].rstrip(), "at a word end"
    return text[:max_chars], "mid-word"


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


@dataclass(slots=True)
class _Reading:
    """What every reader needs besides the file: the length limit, and where to put warnings."""

    max_chars: int
    warnings: list[str]


def _build(fields: dict[str, Any], body: str, source: str, reading: _Reading) -> Article:
    cleaned = clean_text(body)
    text = cleaned.text
    if cleaned.removed or cleaned.trimmed or cleaned.invisible:
        _log.debug("%s: %s", source, cleaned.summary())
    if not text:
        raise InputError(source, "no article text", "add the text or remove the file")
    given_title = fields.get("title")
    if given_title:
        title = normalise_text(str(given_title)).replace("\n\n", " ")
    else:
        title, text = _split_title(text)
    # The id is computed from what is kept, since that is what the model is sent and what its record answers.
    kept, where = truncate_text(text, reading.max_chars)
    if where:
        reading.warnings.append(
            f"{source}: article is {len(text):,} characters, over the {reading.max_chars:,} limit; kept the first "
            f"{len(kept):,} (cut {where}) and dropped the rest, which is not sent — split the article into parts "
            "or raise max_article_chars"
        )
        text = kept
    return Article(
        id=article_id(text),
        title=title,
        text=text,
        directed=tuple(directed_passages(title, text)),
        source=source,
        published=_parse_date(fields.get("published"), source),
        published_inferred=bool(fields.get("published_inferred", False)),
        outlet=str(fields["outlet"]) if fields.get("outlet") else None,
        url=str(fields["url"]) if fields.get("url") else None,
    )


def make_article(
    text: str,
    *,
    title: str | None = None,
    published: str | date | None = None,
    outlet: str | None = None,
    url: str | None = None,
    source: str = "<api>",
    max_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
    warnings: list[str] | None = None,
) -> Article:
    """An article from text held in memory, made as a file's or a JSON object's is: the same clean-up, title
    (the first line when it reads as a headline, unless ``title`` is given), length limit and id, so the same
    text is the same article, and the same cache entry, whichever way it comes in. A cut to length is
    reported in ``warnings``. Raises InputError, naming ``source``, for empty text or a bad date."""
    fields = {"title": title, "published": published, "outlet": outlet, "url": url}
    return _build(fields, text, source, _Reading(max_chars=max_chars, warnings=[] if warnings is None else warnings))


def _from_text_file(path: Path, reading: _Reading) -> Article:
    raw = read_text(path, reading.warnings)
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
    return _build(fields, raw, str(path), reading)


def _from_record(obj: Any, source: str, reading: _Reading) -> Article:
    if not isinstance(obj, dict):
        raise InputError(source, "not a JSON object", "give each article as an object with a text field")
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError(source, "no text field", 'give each article a "text" string')
    return _build(obj, text, source, reading)


def _from_page(path: Path, reading: _Reading) -> Article:
    fields, body = read_page(read_bytes(path), path, reading.warnings)
    return _build(fields, body, str(path), reading)


def _from_json_file(path: Path, reading: _Reading) -> Iterator[Article | InputError]:
    raw = read_text(path, reading.warnings)
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield _from_record(json.loads(line), where, reading)
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
                yield _from_record(item, f"{path}[{index}]", reading)
            except InputError as exc:
                yield exc
    else:
        yield _from_record(data, str(path), reading)


def _skipped(path: Path) -> bool:
    """A file in a folder that is not an article and says nothing by being left out: hidden files and READMEs."""
    return path.name.startswith(".") or path.name.upper().startswith("README")


def _expand(paths: Iterable[Path], warnings: list[str]) -> Iterator[Path | InputError]:
    for path in paths:
        if path.is_dir():
            found: list[Path] = []
            for p in sorted(path.rglob("*")):
                if not p.is_file() or _skipped(p):
                    continue
                if p.suffix.lower() in SUFFIXES:
                    found.append(p)
                else:
                    warnings.append(
                        f"{p}: skipped, {p.suffix or 'no extension'} is not an article format; "
                        f"rename it to {FORMATS} to read it"
                    )
            if not found:
                yield InputError(str(path), "no article files in directory", f"add {FORMATS} files")
            yield from found
        elif path.suffix.lower() not in SUFFIXES and path.exists():
            yield InputError(str(path), f"unknown extension {path.suffix or '(none)'!r}", f"use {FORMATS}")
        else:
            yield path


def _read_one(path: Path, reading: _Reading) -> Iterator[Article | InputError]:
    try:
        if path.suffix.lower() in JSON_SUFFIXES:
            yield from _from_json_file(path, reading)
        elif path.suffix.lower() in HTML_SUFFIXES:
            yield _from_page(path, reading)
        else:
            yield _from_text_file(path, reading)
    except InputError as exc:
        yield exc


def load_articles(paths: Iterable[Path | str], max_chars: int = DEFAULT_MAX_ARTICLE_CHARS) -> IngestResult:
    """Read every article under ``paths``. Unusable inputs become errors; the rest are still read.

    Text that is not UTF-8 is decoded as UTF-16/32 (with a byte-order mark), cp1252 or latin-1, and an article
    longer than ``max_chars`` characters is cut at a paragraph or sentence end; each such file gets a warning.
    A saved web page gives its main text, and its title, date, outlet and URL from its metadata. The same text
    found twice (say, a page and its text saved as a file) is one article whose ``also_at`` names the other
    sources.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars is {max_chars}; give a positive number of characters")
    result = IngestResult()
    reading = _Reading(max_chars=max_chars, warnings=result.warnings)
    by_id: dict[str, int] = {}
    for item in _expand((Path(p) for p in paths), result.warnings):
        for got in [item] if isinstance(item, InputError) else _read_one(item, reading):
            if isinstance(got, InputError):
                result.errors.append(got)
            elif got.id in by_id:
                index = by_id[got.id]
                first = result.articles[index]
                result.articles[index] = replace(first, also_at=(*first.also_at, got.source))
                result.warnings.append(f"{got.source}: same text as {first.source}; read once, as {first.source}")
            else:
                by_id[got.id] = len(result.articles)
                result.articles.append(got)
    return result
