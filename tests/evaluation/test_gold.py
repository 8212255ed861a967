"""Gold annotations: the files validate, name their article by path and id, and quote it word for word."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from summarizer.errors import InputError
from summarizer.evaluation.gold import GoldFile, load_gold, load_gold_dir
from summarizer.ingest.articles import load_articles
from summarizer.ingest.quotes import article_key, quote_found
from tests.conftest import ROOT

GOLD = ROOT / "fixtures" / "gold"
FIELDS = ("parties", "mediators", "demands", "casualties", "events")


def _golds() -> list[GoldFile]:
    return load_gold_dir(GOLD)


def test_every_example_article_has_a_gold_file_that_validates_against_its_schema() -> None:
    schema = json.loads((ROOT / "schemas" / "gold.json").read_text(encoding="utf-8"))
    golds = _golds()
    assert sorted(g.article_path.name for g in golds) == sorted(p.name for p in (ROOT / "fixtures/articles").iterdir())
    for gold in golds:
        jsonschema.validate(json.loads(gold.path.read_text(encoding="utf-8")), schema)


def test_gold_names_the_article_by_its_current_id_and_quotes_it_word_for_word() -> None:
    for gold in _golds():
        article = load_articles([gold.article_path]).articles[0]
        assert article.id == gold.annotation.article_id, gold.path.name
        text = article_key(article.title, article.text)
        items = [item for field in FIELDS for item in getattr(gold.annotation, field)]
        assert items, gold.path.name
        missing = [item.evidence for item in items if not quote_found(item.evidence, text)]
        assert missing == [], gold.path.name


def test_a_malformed_gold_file_is_one_line_naming_the_file_field_and_fix(tmp_path: Path) -> None:
    data = json.loads((GOLD / "004_29d29f48ff22ceaf.json").read_text(encoding="utf-8"))
    data["casualties"][1]["best"] = "twenty-three"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_gold(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert all(part in message for part in (str(bad), "casualties.1.best", "schemas/gold.json"))


def test_gold_rejects_unknown_fields_and_broken_json(tmp_path: Path) -> None:
    data = json.loads((GOLD / "001_f0f75ebd766b140c.json").read_text(encoding="utf-8"))
    data["mediators"][0]["venu"] = "Istanbul"
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"mediators\.0\.venu"):
        load_gold(typo)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="invalid JSON"):
        load_gold(broken)
    with pytest.raises(InputError, match="no gold files"):
        load_gold_dir(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder
