"""Article files: the formats read, and a file's bytes turned into text whatever its encoding."""

from __future__ import annotations

import codecs
from pathlib import Path

from summarizer.errors import InputError

TEXT_SUFFIXES = frozenset({".txt", ".md"})
JSON_SUFFIXES = frozenset({".json", ".jsonl"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES | HTML_SUFFIXES
FORMATS = ".txt, .md, .json, .jsonl or .html"
"""The formats, as a message names them."""


# Bytes no text file should hold more than a stray few of: C0 controls other than tab, newline, form feed,
# carriage return and escape, and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_CONTROL_SHARE = 0.05
_BOMS = (
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _looks_like_utf16(data: bytes) -> bool:
    """NUL bytes at every other position: UTF-16 text of a Latin-script language, saved without a byte-order mark."""
    sample = data[:4096]
    halves = (sample[0::2], sample[1::2])
    return len(sample) >= 8 and any(half.count(0) >= 0.9 * len(half) for half in halves)


def decode(data: bytes, path: Path, warnings: list[str]) -> str:
    """The text of a file's bytes: UTF-8 (with or without BOM) silently; UTF-16/32 with a BOM, then cp1252, then
    latin-1 with a warning. Binary content is an error; it must be caught first, as latin-1 decodes any bytes."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(
                    str(path),
                    f"starts with a {name} byte-order mark but is not {name} (bad bytes at offset {exc.start})",
                    "save it as UTF-8",
                ) from None
            warnings.append(f"{path}: not UTF-8; read as {name} — save it as UTF-8 to silence this")
            return text
    if b"\x00" in data:
        if _looks_like_utf16(data):
            raise InputError(str(path), "UTF-16 text without a byte-order mark", "save it as UTF-8")
        raise InputError(str(path), "binary file, not text", f"pass a {FORMATS} article")
    if data:
        controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
        if controls / len(data) > _CONTROL_SHARE:
            raise InputError(str(path), "binary file, not text", f"pass a {FORMATS} article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # cp1252 before latin-1: Windows text uses 0x80-0x9F for quotes and dashes, which latin-1 would turn into
    # invisible control characters. latin-1 is the last resort for the five bytes cp1252 leaves undefined.
    try:
        text, name = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, name = data.decode("latin-1"), "latin-1"
    warnings.append(f"{path}: not UTF-8; read as {name} — save it as UTF-8 to silence this")
    return text


def read_bytes(path: Path) -> bytes:
    """The file's bytes; InputError naming it when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "no such file", "check the path") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory", "pass the directory itself, not a file inside") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})", "check its permissions") from None


def read_text(path: Path, warnings: list[str]) -> str:
    """The file's text (see :func:`decode`)."""
    return decode(read_bytes(path), path, warnings)
