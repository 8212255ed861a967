from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.ingest import load_articles, normalise_text

from .conftest import ARTICLES

BOILERPLATE = [
    "Also Read",
    "3 Min Read",
    "Advertisement",
    "Share This Article",
    "Leave a Comment",
    "Leave a Reply",
    "Read more:",
    "Your email address will not be published",
    "Let me…",
]


def test_seed_articles_lose_boilerplate_and_keep_sentences() -> None:
    result = load_articles([ARTICLES])
    assert result.errors == []
    assert len(result.articles) == 5
    text = "\n".join(a.text for a in result.articles)
    for phrase in BOILERPLATE:
        assert phrase not in text, phrase
    # Real sentences next to the boilerplate survive.
    assert "The fragile detente comes amid growing concern" in text
    assert "The outcome of today\u2019s talks is expected to shape the next phase" in text
    assert "On Thursday, Pakistan announced it had killed Qari Amjad" in text


def test_sentence_starting_like_boilerplate_is_kept() -> None:
    text = normalise_text("Read more: link\nRead more about the talks in the second half of this report.\n")
    assert text == "Read more about the talks in the second half of this report."


def test_front_matter_dates_are_marked_inferred() -> None:
    by_name = {Path(a.source).name: a for a in load_articles([ARTICLES]).articles}
    article = by_name["002_2688002ae2b84c7a.txt"]
    assert article.published is not None and article.published.isoformat() == "2025-11-06"
    assert article.published_inferred is True
    # No title line: the first paragraph stays in the text.
    assert article.text.startswith("Senior officials from Pakistan and Afghanistan")


def test_title_line_is_taken_off_the_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A Headline\n\nBody sentence one.\nBody two.\n", encoding="utf-8")
    [article] = load_articles([tmp_path / "a.txt"]).articles
    assert article.title == "A Headline"
    assert article.text == "Body sentence one.\n\nBody two."


def test_id_ignores_whitespace_and_boilerplate(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\nOne  sentence.\n\n\nTwo.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Title\n- Advertisement -\nOne sentence.\r\nTwo.   \n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Title\nOne sentence.\nThree.\n", encoding="utf-8")
    a, c = load_articles([tmp_path / "a.txt", tmp_path / "c.txt"]).articles
    result = load_articles([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert len(result.articles) == 1, "the same text twice is one article"
    assert result.articles[0].also_at == (str(tmp_path / "b.txt"),)
    assert a.id != c.id


def test_json_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(
        json.dumps({"title": "T", "text": "Body.", "outlet": "Wire", "url": "https://x/1", "published": "2025-01-02"}),
        encoding="utf-8",
    )
    lines = [
        json.dumps({"title": "A", "text": "First body."}),
        "{broken",
        json.dumps({"title": "B", "text": "Second."}),
    ]
    (tmp_path / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_articles([tmp_path / "one.json", tmp_path / "many.jsonl"])
    assert [a.title for a in result.articles] == ["T", "A", "B"]
    assert result.articles[0].outlet == "Wire" and result.articles[0].published is not None
    [error] = result.errors
    assert str(error).startswith(f"{tmp_path / 'many.jsonl'}:2: invalid JSON")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"   \n\n", "no article text"),
        ("binary.txt", b"\x00\x01\x02abc", "binary file"),
        ("latin.txt", "Caf\u00e9 title\nbody".encode("latin-1"), "not UTF-8"),
        ("notes.docx", b"whatever", "unknown extension"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.txt").write_text("Good\nA fine article.\n", encoding="utf-8")
    result = load_articles([tmp_path / name, tmp_path / "good.txt"])
    assert [a.title for a in result.articles] == ["Good"], "the other article is still read"
    [error] = result.errors
    message = str(error)
    assert message.startswith(str(tmp_path / name)) and expected in message
    assert "\n" not in message and ";" in message, "one line, with a fix after the semicolon"


def test_missing_path(tmp_path: Path) -> None:
    result = load_articles([tmp_path / "nope.txt"])
    assert result.articles == []
    assert "no such file" in str(result.errors[0])
