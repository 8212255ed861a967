"""Clean-up of text from any site: invisible characters, spaces, and generic page furniture, each removal counted;
sentences of reporting that look like furniture are kept."""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

import pytest

from summarizer.ingest import cleanup
from summarizer.ingest.articles import load_articles, make_article
from summarizer.ingest.cleanup import clean_text, normalise_text
from summarizer.ingest.quotes import article_key, quote_found

STORY = "The council said at least 12 fighters were killed near the Orm river on Tuesday."

FURNITURE = {
    "navigation": [
        "Skip to main contentSkip to navigation",
        "Skip to content",
        "Jump to navigation",
        "Back to top ↑",
        "Menu",
    ],
    "cookie banner": [
        "We use cookies to improve your experience. By continuing to browse, you agree to our use of cookies.",
        "This website uses cookies and similar technologies to personalise content and ads.",
        "We and our partners store and/or access information on a device, such as cookies, and process personal "
        "data for personalised advertising.",
        "By clicking Accept all, you agree to the storing of cookies on your device.",
        "Accept allReject all",
        "Accept all cookies",
        "Manage preferences",
        "Cookie settings",
        "Do not sell or share my personal information",
    ],
    "newsletter promo": [
        "Sign up here.",
        "Subscribe now",
        "Sign up for our World Briefing newsletter",
        "Get the day's top stories in your inbox every morning. Sign up here.",
        "Want more like this? Subscribe.",
        "Already a subscriber? Log in",
        "Subscribe to continue reading",
        "Enter your email address",
        "By signing up, you agree to our terms and privacy policy.",
    ],
    "teaser": [
        "Vael council rejects first ceasefire draft…Read more",
        "Port Ilsen curfew lifted after two weeksRead more",
        "Port Ilsen curfew lifted after two weeks Read more \u203a",
        "Related stories",
        "Most read",
        "You may also like",
        "Also read: Talks to resume next week",
    ],
    "photo caption": [
        "Delegates leave the talks venue on Friday. Photograph: Anton Berglund/Harbour Wire",
        "Photograph: Anton Berglund/Harbour Wire",
        "Soldiers at the Orm bridge, March 12, 2026. (Harbour Wire Photo/Ilse Varga)",
        "Soldiers at the Orm bridge, March 12, 2026. (AP Photo)",
        "A displaced family in Halden. (Photo by Ari Lund/AFP via Getty Images)",
        "Image source, Getty Images",
        "Image caption, Delegates arrive in Port Ilsen",
        "Getty Images",
    ],
    "share widget": [
        "Share",
        "Share on Facebook Share on Twitter",
        "FacebookTwitterWhatsAppEmail",
        "Share this article | Copy link",
        "Follow us on Instagram",
    ],
    "reading time": ["3 Min Read", "Listen to this article 4 min"],
    "comment widget": [
        "12 Comments",
        "View all 12 comments",
        "Join the conversation",
        "Comments are closed.",
        "Leave a Reply",
    ],
    "advertisement": ["Advertisement", "- Advertisement -", "Story continues below advertisement", "Sponsored"],
    "footer": ["© 2026 The Harbour Ledger. All rights reserved.", "Copyright 2026 Orm Valley Courier"],
    "fragment": ["-", "\u2022", "Let me\u2026"],
}

# Reporting that shares words with furniture: each must survive clean-up word for word.
KEPT = [
    "Read more about the talks in the second half of this report.",
    "Photographs, videos and testimony gathered by investigators show the strike hit a school.",
    "Satellite images by a commercial provider show the bridge destroyed",
    "The damage is visible from space (satellite images).",
    "The ministry released a photograph of the two envoys shaking hands.",
    "Residents queued for hours at the town hall to sign up.",
    "Share prices fell 3% in the capital after the talks collapsed.",
    "Print and broadcast media were barred from the hall.",
    "\u201cWe use cookies and tea to calm the children,\u201d said a teacher in the camp.",
    "\u201cBy continuing the shelling, you accept that civilians will die,\u201d the envoy said.",
    "The group said it would publish its demands in a newsletter sent to supporters.",
    "Copyright disputes over the footage were settled in 2024.",
    "Home affairs minister Ilse Varga said the curfew would end on Monday.",
    "More from the envoy is expected on Monday, when the talks resume.",
    "Comments by the envoy angered the council, which walked out.",
    "The commander told the crowd: Register now.",
]


@pytest.mark.parametrize(("kind", "line"), [(k, line) for k, lines in FURNITURE.items() for line in lines])
def test_generic_furniture_lines_are_removed_and_counted_by_kind(kind: str, line: str) -> None:
    cleaned = clean_text(f"{STORY}\n{line}\n{STORY}")
    assert cleaned.text == f"{STORY}\n\n{STORY}"
    assert dict(cleaned.removed) == {kind: 1}


@pytest.mark.parametrize("line", KEPT)
def test_reporting_that_looks_like_furniture_is_kept(line: str) -> None:
    cleaned = clean_text(f"{STORY}\n{line}")
    assert cleaned.text == f"{STORY}\n\n{line}"
    assert not cleaned.removed and not cleaned.trimmed


def test_a_link_label_glued_to_a_sentence_is_cut_and_the_sentence_kept() -> None:
    cleaned = clean_text(f"{STORY} Read more\nTalks collapsed on Friday, officials said. Sign up here.")
    assert cleaned.text == f"{STORY}\n\nTalks collapsed on Friday, officials said."
    assert cleaned.trimmed == 2 and not cleaned.removed


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u200b", "zero-width space"), ("\u200c", "zero-width non-joiner"), ("\u200d", "zero-width joiner"),
     ("\u2060", "word joiner"), ("\ufeff", "byte-order mark"), ("\u00ad", "soft hyphen"),
     ("\u202e", "right-to-left override"), ("\U000e0041", "tag letter A")],
)  # fmt: skip
def test_invisible_characters_are_removed_and_counted(char: str, name: str) -> None:
    cleaned = clean_text(f"The spokes{char}man said{char} at least 12 were killed.")
    assert cleaned.text == "The spokesman said at least 12 were killed.", name
    assert cleaned.invisible == 2


def test_every_format_character_but_the_visible_number_signs_is_invisible() -> None:
    # The prepended concatenation marks (Arabic number signs and the like) are drawn; every other Cf is not.
    visible = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD}
    format_chars = [c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Cf"]
    missed = [f"U+{ord(c):04X}" for c in format_chars if ord(c) not in visible and not cleanup.INVISIBLE.match(c)]
    assert missed == [], "add these to cleanup.INVISIBLE"
    assert not any(cleanup.INVISIBLE.match(chr(v)) for v in visible)


def test_an_accent_split_from_its_letter_by_an_invisible_character_is_joined() -> None:
    assert normalise_text("Sankt Go\u200b\u0308rg") == "Sankt G\u00f6rg"


def test_no_break_and_other_spaces_become_one_plain_space() -> None:
    text = "Port\u00a0Ilsen,\u200912\u202fkm\u3000away,\tnear the\u2003river."
    assert normalise_text(text) == "Port Ilsen, 12 km away, near the river."


def test_unicode_line_separators_split_paragraphs() -> None:
    assert normalise_text(f"{STORY}\u2028Second line.\u2029Third.") == f"{STORY}\n\nSecond line.\n\nThird."


def test_quotes_are_found_whatever_invisible_characters_either_side_holds() -> None:
    article = make_article("Talks\n\nThe spokes\u200bman said at\u2060 least\u00a0twelve were killed.")
    built_by_hand = article_key("Talks", "The spokes\u00adman said at least twelve were killed.")
    for key in (article_key(article.title, article.text), built_by_hand):
        assert quote_found("spokesman said at least twelve", key)
        assert quote_found("spokes\u200dman said at least\u00a0twelve", key)
    assert not quote_found("spokesman said at most twelve", built_by_hand)


def test_removals_are_logged_per_article_for_verbose(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a.txt").write_text(
        f"Title\nSkip to main content\n{STORY}\nSign up here.\nPhotograph: A. Lund/Harbour Wire\n"
        "The toll\u200b rose to 30\u2060.\n",
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_text(f"Title\n{STORY}\n", encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="summarizer.ingest"):
        result = load_articles([tmp_path])
    assert [a.text for a in result.articles] == [f"{STORY}\n\nThe toll rose to 30.", STORY]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("summarizer.ingest")]
    assert lines == [
        f"{tmp_path / 'a.txt'}: removed 3 boilerplate line(s) (1 navigation, 1 newsletter promo, 1 photo caption); "
        "removed 2 invisible character(s)"
    ]


def test_a_text_of_nothing_but_furniture_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Skip to content\nAccept all\nSign up here.\n", encoding="utf-8")
    [error] = load_articles([tmp_path / "a.txt"]).errors
    assert str(error) == f"{tmp_path / 'a.txt'}: no article text; add the text or remove the file"


def test_a_long_paragraph_is_never_taken_for_furniture() -> None:
    paragraph = "We use cookies to improve your experience. " + STORY * 30
    assert normalise_text(paragraph) == paragraph.strip()
