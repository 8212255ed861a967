from __future__ import annotations

import codecs
import json
import os
import time
from pathlib import Path

import pytest

from summarizer.defaults import DEFAULT_MAX_ARTICLE_CHARS
from summarizer.errors import InputError
from summarizer.ingest.articles import article_id, load_articles, make_article, normalise_text, truncate_text
from tests.conftest import ARTICLES

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
        ("blank.md", b"\t\n \r\n  \n", "no article text"),
        ("only-boilerplate.txt", b"Advertisement\nShare This Article\n3 Min Read\n", "no article text"),
        ("binary.txt", b"\x00\x01\x02abc", "binary file"),
        ("controls.txt", bytes(range(1, 32)) * 20 + b"some text", "binary file"),
        ("wide.txt", "Title\nA body in UTF-16.".encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
        ("notes.docx", b"whatever", "unknown extension"),
        ("cut.txt", codecs.BOM_UTF16_LE + "Title\nBody.".encode("utf-16-le")[:-1], "starts with a UTF-16 byte-order"),
        ("broken.json", b'{"text": "unfinished', "invalid JSON at line 1"),
        ("no-text.json", b'{"title": "T"}', "no text field"),
        ("front.md", b"---\ntitle: [unclosed\n---\nBody.\n", "front matter is not valid YAML"),
        ("dated.md", b"---\npublished: 6 Nov 2025\n---\nTitle\nBody.\n", "not an ISO date"),
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
    assert str(result.errors[0]) == f"{tmp_path / 'nope.txt'}: no such file; check the path"


def test_folder_without_articles(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_bytes(b"x")
    [error] = load_articles([tmp_path]).errors
    assert str(error).startswith(f"{tmp_path}: no article files in directory; add .txt")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text("Title\nBody.\n", encoding="utf-8")
    locked.chmod(0)
    try:
        [error] = load_articles([locked]).errors
    finally:
        locked.chmod(0o644)
    assert str(error) == f"{locked}: cannot read (Permission denied); check its permissions"


def test_read_error_names_the_file_and_the_others_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same path as a permission problem, but it also runs as root.
    locked = tmp_path / "locked.txt"
    locked.write_text("Title\nBody.\n", encoding="utf-8")
    (tmp_path / "good.txt").write_text("Good\nA fine article.\n", encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = load_articles([locked, tmp_path / "good.txt"])
    assert [a.title for a in result.articles] == ["Good"]
    assert [str(e) for e in result.errors] == [f"{locked}: cannot read (Permission denied); check its permissions"]


# Text that is not UTF-8 is read, with a warning.

_CP1252 = "\u201cCaf\u00e9 talks\u201d end\nThe minister\u2019s words \u2014 firm, at \u20ac5 a head.\n"


@pytest.mark.parametrize(
    ("data", "name", "title", "text"),
    [
        (_CP1252.encode("cp1252"), "cp1252", "\u201cCaf\u00e9 talks\u201d end",
         "The minister\u2019s words \u2014 firm, at \u20ac5 a head."),
        # 0x81 is undefined in cp1252: only latin-1 takes it.
        (b"Caf\xe9 title\nA body with an odd \x81 byte.\n", "latin-1", "Caf\u00e9 title",
         "A body with an odd \x81 byte."),
        ("Titl\u00e9\nBody \u0628\u0644\u062f.\n".encode("utf-16"), "UTF-16", "Titl\u00e9", "Body \u0628\u0644\u062f."),
        (codecs.BOM_UTF16_BE + "Title\nBody.\n".encode("utf-16-be"), "UTF-16", "Title", "Body."),
        ("Title\nBody.\n".encode("utf-32"), "UTF-32", "Title", "Body."),
    ],
)  # fmt: skip
def test_other_encodings_are_read_with_a_warning(tmp_path: Path, data: bytes, name: str, title: str, text: str) -> None:
    (tmp_path / "odd.txt").write_bytes(data)
    (tmp_path / "good.txt").write_text("Good\nA fine article.\n", encoding="utf-8")
    result = load_articles([tmp_path / "odd.txt", tmp_path / "good.txt"])
    assert result.errors == []
    odd, good = result.articles
    assert (odd.title, odd.text) == (title, text)
    assert good.title == "Good"
    assert result.warnings == [
        f"{tmp_path / 'odd.txt'}: not UTF-8; read as {name} \u2014 save it as UTF-8 to silence this"
    ]


def test_utf8_with_bom_is_read_silently(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(codecs.BOM_UTF8 + "Titl\u00e9\nBody.\n".encode())
    result = load_articles([tmp_path / "bom.txt"])
    assert result.warnings == [] and result.errors == []
    assert result.articles[0].title == "Titl\u00e9"


def test_json_in_cp1252_is_read_with_a_warning(tmp_path: Path) -> None:
    lines = [json.dumps({"title": "\u00c9t\u00e9", "text": "Caf\u00e9."}, ensure_ascii=False), "{broken"]
    (tmp_path / "feed.jsonl").write_bytes("\n".join(lines).encode("cp1252"))
    result = load_articles([tmp_path / "feed.jsonl"])
    assert [a.text for a in result.articles] == ["Caf\u00e9."]
    assert [str(e).split(";")[0] for e in result.errors] == [
        f"{tmp_path / 'feed.jsonl'}:2: invalid JSON (Expecting property name enclosed in double quotes)"
    ]
    assert result.warnings == [
        f"{tmp_path / 'feed.jsonl'}: not UTF-8; read as cp1252 \u2014 save it as UTF-8 to silence this"
    ]


def test_clean_input_has_no_warnings() -> None:
    assert load_articles([ARTICLES]).warnings == []


# Over-long articles are cut, with a warning.


def _long_article(chars: int) -> str:
    sentence = "Officials from both sides met again on the border to discuss the ceasefire terms. "
    paragraph = (sentence * 6).strip()
    count = chars // (len(paragraph) + 2) + 1
    return "A Very Long Report\n\n" + "\n\n".join(f"{n}. {paragraph}" for n in range(count)) + "\n"


def test_a_one_megabyte_article_is_cut_at_a_paragraph_end_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(_long_article(1_000_000), encoding="utf-8")
    (tmp_path / "good.txt").write_text("Good\nA fine article.\n", encoding="utf-8")
    started = time.monotonic()
    result = load_articles([path, tmp_path / "good.txt"])
    assert time.monotonic() - started < 5
    long, good = result.articles
    assert good.title == "Good" and result.errors == []
    full = normalise_text(path.read_text(encoding="utf-8")).partition("\n\n")[2]
    assert long.title == "A Very Long Report"
    assert DEFAULT_MAX_ARTICLE_CHARS - 600 < len(long.text) <= DEFAULT_MAX_ARTICLE_CHARS
    assert full.startswith(long.text + "\n\n"), "cut where a paragraph ends"
    assert long.id == article_id(long.text), "the id is of the text that is sent"
    [warning] = result.warnings
    assert warning == (
        f"{path}: article is {len(full):,} characters, over the 100,000 limit; kept the first {len(long.text):,} "
        "(cut at a paragraph end) and dropped the rest, which is not sent \u2014 split the article into parts "
        "or raise max_article_chars"
    )


def test_max_chars_is_a_parameter_and_changes_the_id(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(_long_article(5_000), encoding="utf-8")
    cut = load_articles([path], max_chars=1_000)
    whole = load_articles([path], max_chars=10_000)
    assert len(cut.articles[0].text) <= 1_000 and len(cut.warnings) == 1
    assert whole.warnings == [] and whole.articles[0].text.startswith(cut.articles[0].text)
    assert cut.articles[0].id != whole.articles[0].id
    with pytest.raises(ValueError, match="max_chars"):
        load_articles([path], max_chars=0)


def test_each_source_over_the_limit_gets_its_warning(tmp_path: Path) -> None:
    records = [{"title": f"T{n}", "text": f"Report {n}. " + "Word " * 400} for n in range(3)]
    (tmp_path / "many.json").write_text(json.dumps(records), encoding="utf-8")
    result = load_articles([tmp_path / "many.json"], max_chars=1_000)
    assert len(result.articles) == 3
    assert [w.split(":")[0] for w in result.warnings] == [f"{tmp_path / 'many.json'}[{n}]" for n in range(3)]
    assert all("(cut at a word end)" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("text", "limit", "kept", "where"),
    [
        ("Short.", 100, "Short.", ""),
        ("One two.\n\nThree four five.", 14, "One two.", "at a paragraph end"),
        ("First sentence here. Second one! Third is long", 40, "First sentence here. Second one!", "at a sentence end"),
        ("He said \u201cno.\u201d Then left the room", 22, "He said \u201cno.\u201d", "at a sentence end"),
        ("word " * 10, 12, "word word", "at a word end"),
        ("x" * 50, 10, "x" * 10, "mid-word"),
        # A paragraph end too early to keep is passed over for a later sentence end.
        ("Hi.\n\n" + "A sentence. " * 10, 60, "Hi.\n\n" + "A sentence. " * 3 + "A sentence.", "at a sentence end"),
    ],
)  # fmt: skip
def test_truncate_text(text: str, limit: int, kept: str, where: str) -> None:
    assert truncate_text(text, limit) == (kept, where)
    assert len(truncate_text(text, limit)[0]) <= limit


# Everything at once: the good inputs load, each bad one is one line naming its file.


def test_mixed_folder(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.txt").write_text("Good one\nA fine article.\n", encoding="utf-8")
    (folder / "b-same.md").write_text("Good one\n\nA fine   article.\n", encoding="utf-8")
    (folder / "c-cp1252.txt").write_bytes("Caf\u00e9 \u2013 report\nThe \u201cbody\u201d.\n".encode("cp1252"))
    (folder / "d-long.txt").write_text(_long_article(3_000), encoding="utf-8")
    (folder / "e-empty.txt").write_text("  \n", encoding="utf-8")
    (folder / "f-binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "g-feed.jsonl").write_text('{"text": "From a feed."}\nnot json\n', encoding="utf-8")
    (folder / "h-notes.docx").write_bytes(b"skipped: not an article type")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    result = load_articles([folder, tmp_path / "missing.txt"], max_chars=1_000)
    assert [a.title for a in result.articles] == [
        "Good one",
        "Caf\u00e9 \u2013 report",
        "A Very Long Report",
        "From a feed.",
    ]
    assert result.articles[0].also_at == (str(folder / "b-same.md"),)
    errors = [str(e) for e in result.errors]
    assert [e.split(": ")[0] for e in errors] == [
        str(folder / "e-empty.txt"),
        str(folder / "f-binary.txt"),
        f"{folder / 'g-feed.jsonl'}:2",
        str(tmp_path / "missing.txt"),
    ]
    # Skipped files are named as the folder is read, before any file in it; hidden files are not worth a line.
    assert [w.split(": ")[0] for w in result.warnings] == [
        str(folder / "h-notes.docx"),
        str(folder / "b-same.md"),
        str(folder / "c-cp1252.txt"),
        str(folder / "d-long.txt"),
    ]
    assert "skipped, .docx is not an article format" in result.warnings[0]
    assert f"same text as {folder / 'a-good.txt'}; read once" in result.warnings[1]
    assert all("\n" not in line for line in [*errors, *result.warnings])


def test_text_given_through_the_api_is_the_same_article_as_the_file(tmp_path: Path) -> None:
    body = "Ceasefire talks resume\n\nDelegations met on Tuesday.\n\n" + "More detail follows here. " * 80
    path = tmp_path / "report.txt"
    path.write_text(body, encoding="utf-8")
    [from_file] = load_articles([path], max_chars=1_000).articles
    warnings: list[str] = []
    from_text = make_article(body, max_chars=1_000, warnings=warnings)
    titled = make_article(body.split("\n\n", 1)[1], title="Ceasefire talks resume", max_chars=1_000)
    for article in (from_text, titled):
        assert (article.id, article.title, article.text) == (from_file.id, from_file.title, from_file.text)
    assert len(warnings) == 1 and warnings[0].startswith("<api>: article is ")
    with pytest.raises(InputError, match=r"^<api>: no article text; "):
        make_article(" \n ")
