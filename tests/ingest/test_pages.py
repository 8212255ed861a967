"""Saved web pages: main text through the same clean-up as text files, metadata from the page, one-line errors."""

from __future__ import annotations

import logging
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from summarizer.ingest.articles import load_articles, make_article
from tests.conftest import ROOT

PAGES = ROOT / "fixtures" / "ingest"
CLUTTER = PAGES / "clutter.html"
PLAIN = PAGES / "plain.htm"

# Every piece of page furniture in clutter.html, as it reads on the page.
FURNITURE = [
    "Skip to", "cookies", "Accept all", "Reject all", "Manage preferences", "Home", "Politics", "Share",
    "Facebook", "Copy link", "Photograph", "Harbour Wire", "Photo/", "Sign up", "inbox", "Read more",
    "Related", "Comments", "conversation", "All rights reserved", "Privacy policy", "Cookie settings",
    "By Mira Talvik",
]  # fmt: skip


def test_a_saved_page_gives_its_story_without_the_pages_furniture() -> None:
    result = load_articles([CLUTTER])
    assert result.errors == [] and result.warnings == []
    [article] = result.articles
    for phrase in FURNITURE:
        assert phrase not in article.text, phrase
    assert article.text.startswith("The government of Estmarch and the Vael Highlands Council agreed on Friday")
    assert "at least 12 of its fighters were killed" in article.text
    assert article.text.endswith("food stocks in the hill towns were running low.")
    # The headline is the title, not the first paragraph too.
    assert "prisoner exchange in Port Ilsen" not in article.text


def test_a_saved_page_has_no_invisible_characters_and_joined_words() -> None:
    [article] = load_articles([CLUTTER]).articles
    assert not [c for c in article.text if unicodedata.category(c) == "Cf" or c == "\u00a0"]
    for word in ("Highlands", "Port Ilsen", "conference hall", "spokesman", "toll at more than 30", "the reopening"):
        assert word in article.text, word


def test_title_date_outlet_and_url_come_from_the_pages_metadata() -> None:
    by_name = {Path(a.source).name: a for a in load_articles([PAGES]).articles}
    clutter, plain = by_name["clutter.html"], by_name["plain.htm"]
    assert clutter.title == "Estmarch and Vael council agree prisoner exchange in Port Ilsen"
    assert (clutter.published, clutter.published_inferred) == (date(2026, 3, 14), False)
    assert clutter.outlet == "The Harbour Ledger"
    assert clutter.url == "https://news.example.org/world/2026/03/14/estmarch-vael-prisoner-exchange"
    assert plain.title == "Vael council names new envoy to the Port Ilsen talks"
    assert (plain.published, plain.outlet, plain.url) == (date(2026, 3, 20), "Orm Valley Courier", None)


def test_a_page_and_the_same_story_as_text_are_one_article(tmp_path: Path) -> None:
    [page] = load_articles([PLAIN]).articles
    (tmp_path / "same.txt").write_text(f"{page.title}\n\n{page.text}\n", encoding="utf-8")
    result = load_articles([PLAIN, tmp_path / "same.txt"])
    assert len(result.articles) == 1 and result.articles[0].also_at == (str(tmp_path / "same.txt"),)
    assert make_article(page.text, title=page.title).id == page.id


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><nav><a href='/'>Home</a></nav><div id='cookie'>We use cookies to improve your experience."
        "</div><button>Accept all</button></body></html>",
        "<html><head><title>Subscribe</title></head><body><p>Sign up here.</p></body></html>",
    ],
    ids=["empty", "consent page", "promo page"],
)
def test_a_page_without_article_text_is_one_line_error_naming_it_and_the_fix(tmp_path: Path, html: str) -> None:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    result = load_articles([path])
    assert result.articles == []
    [error] = result.errors
    assert str(error) == (
        f"{path}: no article text found in the page; save the article's own page (not a front page, search or "
        "consent page), or paste its text into a .txt"
    )
    assert "\n" not in str(error)


def test_a_page_is_read_in_the_encoding_it_declares(tmp_path: Path) -> None:
    body = "<p>" + "Der Rat in Sankt Görg erklärte am Freitag, die Gespräche würden fortgesetzt. " * 5 + "</p>"
    html = f'<html><head><meta charset="windows-1252"><title>Gespräche</title></head><body>{body}</body></html>'
    (tmp_path / "de.htm").write_bytes(html.encode("cp1252"))
    result = load_articles([tmp_path / "de.htm"])
    assert result.warnings == [], "a declared encoding is no problem to warn about"
    [article] = result.articles
    assert "Sankt Görg erklärte" in article.text and article.title == "Gespräche"


def test_a_binary_file_named_html_is_an_error_naming_the_formats(tmp_path: Path) -> None:
    (tmp_path / "x.html").write_bytes(bytes(range(256)) * 4)
    [error] = load_articles([tmp_path / "x.html"]).errors
    assert (
        str(error) == f"{tmp_path / 'x.html'}: binary file, not text; pass a .txt, .md, .json, .jsonl or .html article"
    )


def test_pages_in_a_folder_are_read_and_what_came_from_metadata_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="summarizer.ingest"):
        result = load_articles([PAGES])
    assert sorted(Path(a.source).name for a in result.articles) == ["clutter.html", "plain.htm"]
    assert result.warnings == [], "README.md beside the pages is skipped silently"
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("summarizer.ingest"))
    assert f"{CLUTTER}: saved page; main text of" in logged
    assert "title, published, outlet, url from its metadata" in logged
    assert f"{CLUTTER}: removed " in logged, "furniture inside the article's own markup is removed by clean-up"
