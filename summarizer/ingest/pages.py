"""Saved web pages (.html, .htm): the article's main text found by trafilatura, and its title, publication date,
outlet and canonical URL read from the page's metadata, so that the date is the outlet's, not inferred.

Only the page's own markup is read: trafilatura's date search in the running text is turned off, as a date found
there is a guess, and nothing is fetched.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from summarizer.errors import InputError
from summarizer.ingest.cleanup import is_furniture, normalise_text
from summarizer.ingest.files import decode

_log = logging.getLogger(__name__)
# Where a page declares its encoding: the HTML standard has browsers look in the first 1024 bytes.
_DECLARED = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]{1,40})""", re.IGNORECASE)
_PREFIX = 1024
# As browsers read declarations: a page cannot declare itself UTF-16 or UTF-32 in ASCII bytes (such a tag is
# wrong, and the bytes decide), Latin-1 or ASCII declared means Windows-1252, and a UTF-8 byte-order mark is
# not text.
_UNDECLARABLE = ("utf-16", "utf16", "utf-32", "utf32")
_AS_BROWSERS_READ = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
                     "ascii": "cp1252", "utf-8": "utf-8-sig", "utf8": "utf-8-sig"}  # fmt: skip
_NO_TEXT_FIX = "save the article's own page (not a front page, search or consent page), or paste its text into a .txt"


def _page_text(data: bytes, path: Path, warnings: list[str]) -> str:
    """The page as text: in the encoding it declares, else as any article file is decoded."""
    declared = _DECLARED.search(data[:_PREFIX])
    name = declared.group(1).decode("ascii").lower() if declared else ""
    if name and not name.startswith(_UNDECLARABLE):
        try:
            return data.decode(_AS_BROWSERS_READ.get(name, name))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declaration: the bytes themselves decide, with a warning if not UTF-8
    return decode(data, path, warnings)


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _without_headline(body: str, title: str) -> str:
    """``body`` without its first line of text when that line is the headline, which the title field holds."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if not line.strip() or is_furniture(line):
            continue
        if _same_words(line, title) and any(rest.strip() for rest in lines[index + 1 :]):
            del lines[index]
        break
    return "\n".join(lines)


def read_page(data: bytes, path: Path, warnings: list[str]) -> tuple[dict[str, Any], str]:
    """The article fields (title, published, outlet, url: those the page gives) and the main text of a saved
    page. Raises InputError, naming ``path``, when the page holds no article text."""
    import trafilatura  # slow to import (lxml, date and URL parsers); only pages need it

    html = _page_text(data, path, warnings)
    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    # bare_extraction gives a dict only when asked to (as_dict); the check keeps the type exact.
    if document is None or isinstance(document, dict) or not normalise_text(document.text or ""):
        raise InputError(str(path), "no article text found in the page", _NO_TEXT_FIX)
    body = document.text or ""
    title = document.title or ""
    if title:
        body = _without_headline(body, title)
    url = document.url if document.url and document.url.startswith(("http://", "https://")) else None
    fields = {
        "title": title or None,
        "published": document.date,
        "outlet": document.sitename or document.hostname,
        "url": url,
    }
    given = {k: v for k, v in fields.items() if v}
    _log.debug(
        "%s: saved page; main text of %d characters, %s from its metadata",
        path, len(body), ", ".join(given) or "nothing",
    )  # fmt: skip
    return given, body
