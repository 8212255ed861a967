"""What reaches the endpoint: the article's story and nothing of the page around it. The loopback server keeps
every request body it receives, and the article block in each is checked for page furniture and invisible
characters, for saved pages and for plain text copied with its clutter."""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from summarizer.app.api import extract_files
from summarizer.extraction.records import read_recordings
from summarizer.replay.server import LoopbackServer
from tests.conftest import ROOT, settings_for

SYNTHETIC = ROOT / "fixtures" / "synthetic"
PAGES = sorted((SYNTHETIC / "articles").glob("*.html"))
_ARTICLE = re.compile(r"<article_text>\s*(.*?)\s*</article_text>", re.DOTALL)

# Page furniture as a reader sees it on a site, with what of it must never be sent (case-insensitive).
FURNITURE = {
    "skip link": ("Skip to main contentSkip to navigation", "skip to"),
    "cookie banner": (
        "We and our partners use cookies to personalise content and ads and to analyse our traffic. "
        "By clicking Accept all, you consent to our use of cookies.",
        "cookies",
    ),
    "consent buttons": ("Accept all Reject all Manage preferences", "accept all"),
    "newsletter promo": ("Get the Ledger\u2019s morning briefing in your inbox. Sign up here.", "sign up"),
    "subscription promo": ("Want more stories like this? Subscribe to our free newsletter.", "newsletter"),
    "teaser": ("Lorvania offers Bellmere for a second round…Read more", "read more"),
    "related links": ("Related stories", "related"),
    "photo caption": ("Negotiators arrive in Bellmere on Monday. Photograph: Ana Velt/Orvessa Ledger", "photograph"),
    "photo credit": ("Delegates at the guesthouse. (Ledger Photo/Ana Velt)", "photo/"),
    "share widget": ("Share on Facebook Share on X Copy link", "copy link"),
    "comment widget": ("Join the conversation", "conversation"),
    "comment count": ("12 comments", "comments"),
    "advertisement": ("- Advertisement -", "advertisement"),
    "footer": ("© 2026 Orvessa Ledger. All rights reserved.", "rights reserved"),
}
# Phrases of the saved pages' own furniture (see fixtures/synthetic/README.md).
PAGE_FURNITURE = [
    "skip to", "jump to content", "cookie", "accept", "manage", "sign in", "share", "facebook", "whatsapp",
    "copy link", "photo", "sign up", "inbox", "subscribe", "newsletter", "read more", "related", "more from",
    "comments", "conversation", "rights reserved", "privacy policy", "terms of use", "min read", "by ana velt",
]  # fmt: skip


class _Listening(LoopbackServer):
    """The loopback server, keeping each chat-completions request body it receives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bodies: list[dict[str, Any]] = []
        self._kept = threading.Lock()

    def answer(self, handler: Any, request: dict[str, Any]) -> None:
        with self._kept:
            # A copy through JSON: what came over the wire, not an object the server may go on to change.
            self.bodies.append(json.loads(json.dumps(request)))
        super().answer(handler, request)


def _sent_articles(paths: list[Path], tmp_path: Path) -> list[str]:
    """The article block of every request the server received for ``paths``, each answered from its recording."""
    server = _Listening(read_recordings(SYNTHETIC / "recordings"))
    with server:
        run = extract_files(paths, settings_for(server, tmp_path / "cache"))
        bodies = server.bodies
    assert [r.error for r in run.results] == [None] * len(paths), "the clean text is the text the recording answers"
    assert len(bodies) == len(paths)
    sent = []
    for body in bodies:
        [user] = [m["content"] for m in body["messages"] if m["role"] == "user"]
        match = _ARTICLE.search(user)
        assert match is not None
        sent.append(match.group(1))
    return sent


def _invisible(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf" or c in "\u00a0\u00ad"]


def test_no_furniture_of_a_saved_page_reaches_the_request_body(tmp_path: Path) -> None:
    sent = _sent_articles(PAGES, tmp_path)
    assert any("exchanged 64 prisoners" in text for text in sent) and any("mortar fire" in text for text in sent)
    for text in sent:
        folded = text.casefold()
        assert [phrase for phrase in PAGE_FURNITURE if phrase in folded] == []
        assert _invisible(text) == []
        assert "<" not in text and "schema.org" not in text, "no markup or metadata"


def _cluttered(source: Path) -> str:
    """``source`` as a copy from its site gives it: furniture between its paragraphs, invisible characters in
    its words."""
    _, front, body = source.read_text(encoding="utf-8").split("---\n", 2)
    paragraphs = body.strip().split("\n\n")
    furniture = [line for line, _ in FURNITURE.values()]
    mixed = [furniture[0], paragraphs[0]]
    for index, paragraph in enumerate(paragraphs[1:]):
        words = paragraph.split(" ")
        # A zero-width space, joiner and word joiner inside words, a no-break space between two of them.
        words[1] = words[1][:2] + "\u200b" + words[1][2:]
        words[2] = words[2][:1] + "\u200d\u2060" + words[2][1:]
        mixed.extend([" ".join(words[:3]) + "\u00a0" + " ".join(words[3:]), *furniture[1 + 2 * index : 3 + 2 * index]])
    mixed.extend(furniture[1 + 2 * (len(paragraphs) - 1) :])
    return f"---\n{front}---\n" + "\n\n".join(mixed) + "\n"


@pytest.mark.parametrize("name", ["s1_talks_open.txt", "s3_truce_holds.txt"])
def test_no_furniture_of_a_plain_text_copy_reaches_the_request_body(name: str, tmp_path: Path) -> None:
    source = SYNTHETIC / "articles" / name
    copy = tmp_path / name
    copy.write_text(_cluttered(source), encoding="utf-8")
    text = copy.read_text(encoding="utf-8")
    assert all(line in text for line, _ in FURNITURE.values()) and _invisible(text)
    [sent] = _sent_articles([copy], tmp_path)
    folded = sent.casefold()
    assert {kind for kind, (_, phrase) in FURNITURE.items() if phrase in folded} == set()
    assert _invisible(sent) == []
    [original] = _sent_articles([source], tmp_path / "original")
    assert sent == original, "the copy sends exactly what the clean file sends"
