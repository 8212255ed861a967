from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from summarizer.app.schema_files import drifted_schemas
from summarizer.config import load_settings
from summarizer.extraction.cache import ResponseCache, cache_key
from summarizer.extraction.prompts import bundled_prompts_dir, load_prompts
from summarizer.extraction.records import Record, read_recordings, schema_hash
from summarizer.extraction.schema import ArticleExtraction, CasualtyClaim, Event, answer_context
from summarizer.ingest.articles import article_id, load_articles
from tests.conftest import ARTICLES, RECORDINGS, ROOT


def test_schema_files_match_the_models() -> None:
    assert drifted_schemas(ROOT / "schemas") == [], "run `summarizer schema` and commit schemas/"


def test_casualty_numbers_must_be_ordered() -> None:
    base = {"kind": "killed", "figure_text": "23", "victims": "soldiers", "evidence": "losing 23 soldiers"}
    TypeAdapter(CasualtyClaim).validate_python({**base, "low": 20, "best": 23, "high": 30})
    TypeAdapter(CasualtyClaim).validate_python({**base, "low": 20, "high": 30})
    for numbers in [{"low": 30, "best": 23}, {"best": 23, "high": 20}, {"low": 30, "high": 20}]:
        with pytest.raises(ValidationError, match="low <= best <= high"):
            TypeAdapter(CasualtyClaim).validate_python({**base, **numbers})


def test_event_dates_must_match_their_precision() -> None:
    base = {"date_text": "Thursday", "description": "Talks resumed.", "evidence": "resumed on Thursday"}
    TypeAdapter(Event).validate_python({**base, "date": "2025-10-30", "precision": "day"})
    TypeAdapter(Event).validate_python({**base, "date": "2025-10", "precision": "month"})
    TypeAdapter(Event).validate_python({**base, "date": "2025", "end_date": "2026", "precision": "year"})
    for bad in [("2025-10", "day"), ("2025-10-30", "month"), ("2025-02-30", "day"), ("2025", "month")]:
        with pytest.raises(ValidationError):
            TypeAdapter(Event).validate_python({**base, "date": bad[0], "precision": bad[1]})
    with pytest.raises(ValidationError, match="is not ISO at month precision"):
        TypeAdapter(Event).validate_python({**base, "date": "2025-10", "end_date": "2025-11-02", "precision": "month"})


def test_recordings_are_authored_valid_and_current() -> None:
    recordings = read_recordings(RECORDINGS)
    articles = {a.id: a for a in load_articles([ARTICLES]).articles}
    assert set(recordings) == set(articles), "one recording per example article, matched by article id"
    prompts = load_prompts()
    for record in recordings.values():
        assert record.origin == "authored"
        assert record.request.prompt_hash == prompts.hash
        assert record.request.schema_hash == schema_hash()
        assert isinstance(record.extraction(), ArticleExtraction)


def test_prompt_hash_follows_the_files(tmp_path: Path) -> None:
    copy = tmp_path / "prompts"
    shutil.copytree(bundled_prompts_dir(), copy)
    before = load_prompts(copy).hash
    assert before == load_prompts().hash
    (copy / "extract_system.md").write_text("Another system prompt.", encoding="utf-8")
    load_prompts.cache_clear()
    assert load_prompts(copy).hash != before


def test_user_template_substitutes_without_interpreting_article_text() -> None:
    prompts = load_prompts()
    message = prompts.render_user(title="T", text="Costs $title and ${text}", published=None, outlet=None)
    assert "Costs $title and ${text}" in message
    assert "Publication date: unknown" in message


def test_cache_key_changes_with_what_changes_the_answer(tmp_path: Path) -> None:
    article = load_articles([ARTICLES]).articles[0]
    settings = load_settings(environ={}, cache_dir=tmp_path)
    prompts = load_prompts()
    key = cache_key(article, settings, prompts)
    assert key == cache_key(article, load_settings(environ={}, cache_dir=tmp_path), prompts)
    assert key.startswith("k2-")
    # Where the model is served and with which key do not change the answer.
    assert key == cache_key(article, settings.replace(base_url="http://elsewhere/v1", api_key="key-2"), prompts)
    changed = [
        cache_key(article, settings.replace(model="other-model"), prompts),
        cache_key(article, settings.replace(temperature=0.7), prompts),
        cache_key(article, settings.replace(mode="json"), prompts),
        cache_key(article, settings, type(prompts)(system=prompts.system + " ", user_template=prompts.user_template)),
        cache_key(
            dataclasses.replace(article, text=article.text + " More.", id=article_id(article.text + " More.")),
            settings,
            prompts,
        ),
        cache_key(dataclasses.replace(article, published=None), settings, prompts),
    ]
    assert key not in changed and len(set(changed)) == len(changed)


def test_cache_entry_is_the_recording_record(tmp_path: Path) -> None:
    path = RECORDINGS / "000_c7654b6822704fd4.json"
    record = Record.from_json(path.read_text(encoding="utf-8"), str(path))
    with ResponseCache(tmp_path / "c") as cache:
        cache.put(record)
        assert cache.get(record.key) == record
        assert cache._cache.get(record.key) == path.read_bytes(), "the entry is the recording file's bytes"
        assert cache.info().entries == 1
        assert cache.clear() == 1
        assert cache.get(record.key) is None
    assert record.to_json() == path.read_text(encoding="utf-8"), "recording files are written as to_json() writes"


def _recording() -> Record:
    path = RECORDINGS / "000_c7654b6822704fd4.json"
    return Record.from_json(path.read_text(encoding="utf-8"), str(path))


def test_a_record_read_from_the_cache_gives_the_same_output_extraction_and_text(tmp_path: Path) -> None:
    record = _recording()
    with ResponseCache(tmp_path / "c") as cache:
        cache.put(record)
        cached = cache.get(record.key)
        other = cache.get(record.key)
    assert cached is not None and other is not None
    assert cached.extraction() == record.extraction()
    assert cached.to_json() == record.to_json()
    assert cached.model_dump(mode="json") == record.model_dump(mode="json")
    assert other.output == record.output and other == record


def test_records_differing_only_in_output_are_not_equal(tmp_path: Path) -> None:
    record = _recording()
    changed = record.model_copy(update={"output": {**record.output, "summary": "Another summary."}})
    assert changed.output["summary"] == "Another summary." and record.output["summary"] != "Another summary."
    assert changed != record and changed.request == record.request
    with ResponseCache(tmp_path / "c") as cache:
        cache.put(changed)
        cached = cache.get(record.key)
    assert cached is not None and cached == changed and cached != record
    assert cached.model_copy(update={"output": record.output}) == record


def test_a_record_without_an_output_names_the_field() -> None:
    fields = _recording().model_dump(mode="json")
    del fields["output"]
    with pytest.raises(ValidationError, match=r"output\n  Field required"):
        Record.model_validate(fields)
    with pytest.raises(ValidationError, match=r"output\n  Input should be a valid dictionary"):
        Record.model_validate({**fields, "output": ["not", "an", "object"]})


def test_a_record_read_from_the_cache_shares_no_mutable_state_with_another(tmp_path: Path) -> None:
    record = _recording()
    with ResponseCache(tmp_path / "c") as cache:
        cache.put(record)
        first, second = cache.get(record.key), cache.get(record.key)
    assert first is not None and second is not None
    first.output["summary"] = "changed in one record"
    assert second.output["summary"] == record.output["summary"]


def test_a_cache_entry_stored_as_text_by_an_earlier_version_is_still_read(tmp_path: Path) -> None:
    record = _recording()
    with ResponseCache(tmp_path / "c") as cache:
        cache._cache.set(record.key, record.to_json())
        cached = cache.get(record.key)
    assert cached is not None and cached == record and cached.extraction() == record.extraction()


def test_a_cache_entry_cut_short_or_with_a_broken_output_is_a_miss(tmp_path: Path) -> None:
    record = _recording()
    text = record.to_json()
    with ResponseCache(tmp_path / "c") as cache:
        raw = text.encode("utf-8")
        inside_a_character = raw.index("\u2019".encode()) + 1
        for short in (text[: len(text) - 200], raw[:-200], raw[:inside_a_character]):
            cache._cache.set(record.key, short)
            assert cache.get(record.key) is None, short[-20:]
        cache._cache.set(record.key, text.replace('"output": {', '"output": ["not an object"], "unused": {', 1))
        assert cache.get(record.key) is None
        cache._cache.set(record.key, text)
        assert cache.get(record.key) == record


def test_every_recording_passes_the_checks_an_answer_must_pass() -> None:
    articles = {a.id: a for a in load_articles([ARTICLES]).articles}
    for record in read_recordings(RECORDINGS).values():
        article = articles[record.request.article_id]
        ArticleExtraction.model_validate(record.output, context=answer_context(article.title, article.text))


def test_schema_patterns_use_only_classes_grammar_converters_support() -> None:
    patterns = re.findall(r'"pattern":\s*"([^"]*)"', json.dumps(ArticleExtraction.model_json_schema()))
    assert patterns and all("\\\\d" not in p and "\\\\w" not in p and "\\\\s" not in p for p in patterns), patterns
    TypeAdapter(Event).validate_python(
        {"date": "2025-11", "precision": "month", "date_text": "November", "description": "Talks.", "evidence": "talks"}
    )
    with pytest.raises(ValidationError, match="String should match pattern"):
        TypeAdapter(Event).validate_python(
            {"date": "Nov 2025", "precision": "month", "date_text": "November", "description": "T.", "evidence": "tal"}
        )


def test_an_answer_is_checked_against_its_article_and_a_record_is_not() -> None:
    record = _recording()
    article = {a.id: a for a in load_articles([ARTICLES]).articles}[record.request.article_id]
    context = answer_context(article.title, article.text)
    bad = {**record.output, "summary": "<h1 class=", "parties": [], "mediators": [], "people": []}
    assert ArticleExtraction.model_validate(bad).summary == "<h1 class=", "records already accepted read back"
    with pytest.raises(ValidationError) as caught:
        ArticleExtraction.model_validate(bad, context=context)
    message = caught.value.errors()[0]["msg"]
    assert "summary is markup or code, not prose" in message and "names no actor" in message
    figures = "Killed 1,234,567 wounded 9,876,543 captured 5,555,555 near 12.3456 on 2025-10-30 at 17:30"
    cases = [("None reported.", "has 2 word(s), not sentences"), (figures, "mostly figures"),
             ('{"summary": "talks"}', "markup or code")]  # fmt: skip
    for summary, problem in cases:
        with pytest.raises(ValidationError, match=re.escape(problem)):
            ArticleExtraction.model_validate({**record.output, "summary": summary}, context=context)
    # Quotes are looked up as the briefing looks them up: typography and case aside, word for word.
    quote = record.output["parties"][0]["evidence"]
    loose = {**record.output["parties"][0], "evidence": quote.upper().replace("\u2019", "'").replace(" ", "\n ")}
    ArticleExtraction.model_validate({**record.output, "parties": [loose]}, context=context)
    moved = {**loose, "evidence": quote + " and more"}
    with pytest.raises(ValidationError, match=r"1 evidence quote\(s\) not in the article: parties\.0\.evidence"):
        ArticleExtraction.model_validate({**record.output, "parties": [moved]}, context=context)


def test_the_new_settings_are_flags_and_in_the_key_where_they_change_the_answer(tmp_path: Path) -> None:
    from summarizer.app.options import RunOptions

    options = RunOptions(max_tokens=900, temperature=0.3, max_reasks=5, cache_dir=tmp_path)
    settings = options.settings()
    assert (settings.max_tokens, settings.temperature, settings.max_reasks) == (900, 0.3, 5)
    assert load_settings(environ={"SUMMARIZER_MAX_TOKENS": "700"}).max_tokens == 700
    assert load_settings(environ={}).max_tokens == 4096
    article = load_articles([ARTICLES]).articles[0]
    prompts = load_prompts()
    key = cache_key(article, settings, prompts)
    assert cache_key(article, settings.replace(max_tokens=901), prompts) != key
    assert cache_key(article, settings.replace(temperature=0.4), prompts) != key
    assert cache_key(article, settings.replace(max_reasks=1), prompts) == key, "a re-ask limit changes no answer"
    guided = settings.replace(mode="json_schema")
    assert cache_key(article, guided, prompts) != cache_key(article, settings.replace(mode="json"), prompts)
