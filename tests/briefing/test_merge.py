"""Merge rules on small hand-made extractions."""

from __future__ import annotations

import dataclasses
import gc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from summarizer.app.api import make_article
from summarizer.briefing.entities import AliasTable, EntityResolver, name_key
from summarizer.briefing.merge import merge, merge_records
from summarizer.briefing.model import Briefing
from summarizer.briefing.render import render
from summarizer.briefing.render.markdown import md
from summarizer.briefing.sources import SourcedExtraction
from summarizer.extraction.records import Record, RequestInfo, ResponseInfo
from summarizer.extraction.schema import ArticleExtraction

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def party(name: str, *spellings: str, kind: str = "state", evidence: str | None = None) -> dict[str, Any]:
    return {"name": name, "kind": kind, "role": "side", "spellings": list(spellings), "evidence": evidence or name}


def source(number: int, text: str, **output: Any) -> SourcedExtraction:
    article = make_article(text, title=f"Article {number}", published="2025-11-06", source=f"a{number}.txt")
    extraction = ArticleExtraction.model_validate({"summary": f"Summary {number}.", **output})
    record = Record(
        origin="authored",
        key=f"k{number}",
        request=RequestInfo(
            article_id=article.id,
            article_title=article.title,
            article_source=article.source,
            model="m",
            mode="tools",
            temperature=0,
            prompt_hash="p",
            schema_hash="s",
        ),  # fmt: skip
        response=ResponseInfo(),
        output=extraction.model_dump(mode="json"),
    )
    return SourcedExtraction(number=number, article=article, record=record, extraction=extraction)


def brief(*sources: SourcedExtraction) -> Briefing:
    return merge(list(sources), generated=WHEN)


def test_name_key_ignores_case_accents_and_punctuation() -> None:
    assert name_key("Türkiye") == name_key("TURKIYE") == "turkiye"
    assert name_key("Khawaja M. Asif") == "khawaja m asif"


def test_spelling_variants_given_one_english_name_become_one_mediator_and_one_person() -> None:
    texts = ["Turkey hosts. Khawaja Asif spoke.", "Türkiye hosts. Khawaja Mohammad Asif spoke.",
             "Turkiye hosts. Khawaja M. Asif spoke."]  # fmt: skip
    names = [("Turkey", "Khawaja Asif"), ("Türkiye", "Khawaja Mohammad Asif"), ("Turkiye", "Khawaja M. Asif")]
    sources = [
        source(
            i + 1,
            text,
            mediators=[{"name": m, "name_en": "Turkey", "role": "host", "evidence": f"{m} hosts"}],
            people=[{"name": p, "name_en": "Khawaja Asif", "evidence": f"{p} spoke"}],
        )  # fmt: skip
        for i, (text, (m, p)) in enumerate(zip(texts, names, strict=True))
    ]
    briefing = brief(*sources)
    [mediator] = briefing.stories[0].mediators
    assert mediator.name == "Turkey" and mediator.source_numbers == [1, 2, 3]
    assert set(mediator.names) == {"Turkey", "Türkiye", "Turkiye"}
    [person] = briefing.stories[0].people
    assert person.name == "Khawaja Asif" and person.source_numbers == [1, 2, 3]


def test_a_mediators_spellings_join_it_as_a_partys_do() -> None:
    one = source(1, "The Meridian Cooperation Council (MCC) mediates.", mediators=[
        {"name": "Meridian Cooperation Council", "spellings": ["MCC"], "role": "mediator",
         "evidence": "The Meridian Cooperation Council (MCC) mediates"}])  # fmt: skip
    two = source(2, "The council hosts.", mediators=[
        {"name": "the council", "role": "host", "evidence": "The council hosts"}])  # fmt: skip
    three = source(
        3,
        "MCC envoys arrived.",
        mediators=[{"name": "MCC", "spellings": ["the council"], "role": "observer", "evidence": "MCC envoys arrived"}],
    )
    [mediator] = brief(one, two, three).stories[0].mediators
    assert mediator.name == "Meridian Cooperation Council" and mediator.source_numbers == [1, 2, 3]
    assert mediator.names == ["Meridian Cooperation Council", "MCC", "the council"]


def test_transliterations_given_one_english_name_are_one_entry_shown_in_english() -> None:
    one = source(
        1,
        "Mayor Vitali Klychko spoke in Kiev.",
        people=[{"name": "Vitali Klychko", "name_en": "Vitali Klitschko", "evidence": "Mayor Vitali Klychko spoke"}],
    )
    two = source(
        2,
        "Vitali Klitschko said.",
        people=[{"name": "Vitali Klitschko", "name_en": "Vitali Klitschko", "evidence": "Vitali Klitschko said"}],
    )
    [person] = brief(one, two).stories[0].people
    assert person.name == "Vitali Klitschko" and person.source_numbers == [1, 2]
    assert person.names == ["Vitali Klychko", "Vitali Klitschko"]


def test_article_spellings_link_names_the_table_does_not_know() -> None:
    one = source(1, "The Northern Front attacked.", parties=[party("Northern Front", "NF", kind="armed_group",
                 evidence="The Northern Front attacked")])  # fmt: skip
    two = source(2, "NF fighters withdrew.", parties=[party("NF", kind="armed_group", evidence="NF fighters withdrew")])
    [entry] = brief(one, two).stories[0].parties
    assert entry.name == "Northern Front" and entry.source_numbers == [1, 2]


_DISTINCT = "distinct:\n  - [Pakistan, Tehrik-e-Taliban Pakistan]\n"


def test_distinct_actors_are_never_merged(tmp_path: Path) -> None:
    # An article wrongly lists "TTP" as a spelling of Pakistan: the user's alias table keeps them apart.
    (tmp_path / "aliases.yaml").write_text(_DISTINCT, encoding="utf-8")
    one = source(1, "The TTP and Pakistan and Afghan Taliban.", parties=[
        party("Tehrik-e-Taliban Pakistan", "TTP", kind="armed_group"), party("Pakistan", "TTP"),
        party("Afghan Taliban", kind="government")])  # fmt: skip
    briefing = merge([one], generated=WHEN, aliases=AliasTable.load(tmp_path / "aliases.yaml"))
    assert sorted(p.name for p in briefing.stories[0].parties) == [
        "Afghan Taliban", "Pakistan", "Tehrik-e-Taliban Pakistan"]  # fmt: skip
    assert any("kept 'Pakistan' and 'TTP' apart" in n for n in briefing.notices)


def test_a_refused_link_is_noticed_once_however_many_sources_make_it(tmp_path: Path) -> None:
    (tmp_path / "aliases.yaml").write_text(_DISTINCT, encoding="utf-8")
    ttp = party("Tehrik-e-Taliban Pakistan", "TTP", kind="armed_group")
    sources = [
        source(1, "Pakistan and the TTP.", parties=[ttp, party("Pakistan", "TTP")]),
        source(2, "Pakistan, the TTP, Islamabad.", parties=[party("Pakistan", "TTP", "Islamabad")]),
        source(3, "Pakistan and the TTP.", parties=[party("Pakistan", "TTP")]),
    ]
    briefing = merge(sources, generated=WHEN, aliases=AliasTable.load(tmp_path / "aliases.yaml"))
    assert [n for n in briefing.notices if "apart" in n] == [
        "kept 'Pakistan' and 'TTP' apart: the alias table declares them distinct actors"]  # fmt: skip
    by_name = {p.name: p for p in briefing.stories[0].parties}
    assert by_name["Pakistan"].source_numbers == [1, 2, 3]
    assert by_name["Pakistan"].names == ["Pakistan", "Islamabad"], "not written TTP: that is another actor"
    assert by_name["Tehrik-e-Taliban Pakistan"].source_numbers == [1]


def test_a_minister_is_not_his_country() -> None:
    one = source(1, "Pakistan said. Khawaja Asif said.", parties=[party("Pakistan")],
                 people=[{"name": "Khawaja Asif", "title": "Defence Minister", "affiliation": "Pakistan",
                          "evidence": "Khawaja Asif said"}])  # fmt: skip
    briefing = brief(one)
    assert [p.name for p in briefing.stories[0].parties] == ["Pakistan"]
    assert [(p.name, p.affiliation) for p in briefing.stories[0].people] == [("Khawaja Asif", "Pakistan")]


def test_fuzzy_matching_joins_close_spellings_only() -> None:
    resolver = EntityResolver(AliasTable.load())
    resolver.observe("Sirajuddin Haqqani")
    resolver.observe("Sirajudin Haqqani")
    resolver.observe("Jalaluddin Haqqani")
    resolver.link_fuzzy()
    assert resolver.resolve("Sirajudin Haqqani") == resolver.resolve("Sirajuddin Haqqani")
    assert resolver.resolve("Jalaluddin Haqqani") == "Jalaluddin Haqqani"


def claim(figure: str, *, best: int | None = None, claimant: str | None = None, evidence: str) -> dict[str, Any]:
    return {"kind": "killed", "figure_text": figure, "low": best, "best": best, "high": best,
            "victims": "soldiers", "when": "2025-10", "claimant": claimant, "evidence": evidence}  # fmt: skip


def test_same_figure_from_two_outlets_is_one_claim_with_two_sources() -> None:
    one = source(1, "They lost 23 soldiers.", casualties=[claim("23", best=23, evidence="lost 23 soldiers")])
    two = source(2, "Officials said 23 soldiers died.", casualties=[
        claim("23", best=23, evidence="23 soldiers died"),
        claim("23", best=23, claimant="Afghan officials", evidence="Officials said 23 soldiers")])  # fmt: skip
    casualties = brief(one, two).stories[0].casualties
    assert [(c.claimant, c.source_numbers) for c in casualties] == [(None, [1, 2]), ("Afghan officials", [2])]
    assert [len(c.citations) for c in casualties] == [2, 1]


def test_vague_figures_stay_words() -> None:
    one = source(1, "Clashes killed dozens.", casualties=[claim("dozens", evidence="killed dozens")])
    [entry] = brief(one).stories[0].casualties
    assert entry.figure_text == "dozens" and entry.low is None and entry.best is None and entry.high is None


def test_quotes_missing_from_the_article_are_flagged_and_counted() -> None:
    one = source(1, "Pakistan attended. Qatar\u2019s envoy \u2014 the host \u2014 spoke.", parties=[
        party("Pakistan", evidence="Pakistan boycotted the talks"),
        party("Qatar", evidence="Qatar's envoy - the host -  spoke")])  # fmt: skip
    briefing = brief(one)
    assert any(n.startswith("1 evidence quote(s) were not found word for word") for n in briefing.notices)
    found = {p.name: [c.found for c in p.citations] for p in briefing.stories[0].parties}
    assert found == {"Pakistan": [False], "Qatar": [True]}  # typography differs, the words do not
    markdown = render(briefing, "md", "full")
    assert "**Pakistan** (state): side [1?]" in markdown and "**Qatar** (state): side [1]" in markdown
    html = render(briefing, "html")
    assert ">[1?]</a>" in html and "(not found in the article)" in html


def test_same_event_from_two_sources_is_one_line_and_different_dates_are_flagged() -> None:
    def event(day: str, description: str, evidence: str) -> dict[str, Any]:
        return {"date": day, "precision": "day", "date_text": day, "description": description, "evidence": evidence}

    one = source(1, "A ceasefire was agreed on October 17.", events=[
        event("2025-10-17", "A ceasefire was agreed between the two sides.", "ceasefire was agreed")])  # fmt: skip
    two = source(2, "The ceasefire was agreed on October 19.", events=[
        event("2025-10-19", "A ceasefire was agreed between the two sides.", "ceasefire was agreed")])  # fmt: skip
    three = source(3, "Truce on October 17.", events=[
        event("2025-10-17", "A ceasefire was agreed between both sides.", "Truce on October 17")])  # fmt: skip
    timeline = brief(one, two, three).stories[0].timeline
    assert [(e.date, e.source_numbers, e.conflicts_with) for e in timeline] == [
        ("2025-10-17", [1, 3], ["2025-10-19"]),
        ("2025-10-19", [2], ["2025-10-17"]),
    ]


def test_sources_are_numbered_by_date_and_say_when_dates_are_inferred() -> None:
    one = source(1, "Text one.")
    briefing = brief(one)
    assert briefing.sources[0].published == date(2025, 11, 6)
    assert briefing.sources[0].published_inferred is False


def test_party_roles_fold_near_repeats_into_the_fuller_phrase() -> None:
    one = source(1, "Pakistan talks.", parties=[{**party("Pakistan"), "role": "negotiating party"}])
    two = source(2, "Pakistan talks.", parties=[{**party("Pakistan"), "role": "negotiating party; demands action"}])
    three = source(3, "Pakistan talks.", parties=[{**party("Pakistan"), "role": "negotiating party seeking a truce"}])
    [entry] = brief(one, two, three).stories[0].parties
    assert entry.roles == ["negotiating party seeking a truce", "demands action"]


def test_casualty_claims_are_grouped_into_incidents_and_disagreement_is_shown() -> None:
    def kc(figure: str, victims: str, *, low: int | None = None, best: int | None = None, when: str | None = "2025-10",
           location: str | None = "border", claimant: str | None = None, evidence: str) -> dict[str, Any]:  # fmt: skip
        return {"kind": "killed", "figure_text": figure, "low": low, "best": best, "high": best, "victims": victims,
                "when": when, "location": location, "claimant": claimant, "evidence": evidence}  # fmt: skip

    one = source(1, "Clashes killed dozens. The army killed 18 in Balochistan.", casualties=[
        kc("dozens", "unspecified", when=None, evidence="Clashes killed dozens"),
        kc("18", "militants", low=18, best=18, when=None, location="Balochistan", claimant="Pakistani military",
           evidence="killed 18 in Balochistan")])  # fmt: skip
    two = source(2, "Fighting left dozens dead.", casualties=[kc("dozens", "mixed", evidence="left dozens dead")])
    three = source(3, "Over 200 militants killed and 23 soldiers lost.", casualties=[
        kc("over 200", "militants", low=200, evidence="Over 200 militants killed"),
        kc("23", "soldiers", low=23, best=23, evidence="23 soldiers lost")])  # fmt: skip
    briefing = brief(one, two, three)
    border, balochistan = briefing.stories[0].incidents
    assert (border.when, border.location, border.disputed) == ("2025-10", "border", ["killed"])
    ranges = {(r.victims, r.low, r.best, r.high, tuple(r.sources)) for r in border.ranges}
    assert ranges == {("unspecified", None, None, None, (1, 2)), ("militants", 200, None, None, (3,)),
                      ("soldiers", 23, 23, 23, (3,))}  # fmt: skip
    assert (balochistan.location, balochistan.disputed) == ("Balochistan", [])
    dozens = [c for c in briefing.stories[0].casualties if c.figure_text == "dozens"]
    assert len(dozens) == 1 and dozens[0].source_numbers == [1, 2] and dozens[0].incident == border.number
    assert sum(1 for c in briefing.stories[0].casualties if c.incident == border.number) == 3, (
        "figures are never summed"
    )


def test_singular_events_with_other_dates_are_flagged_but_a_single_source_is_not() -> None:
    def event(day: str, description: str) -> dict[str, Any]:
        return {"date": day, "precision": "day", "date_text": day, "description": description, "evidence": "Truce"}

    one = source(1, "Truce", events=[event("2025-10-17", "Pakistan accepted a temporary ceasefire.")])
    two = source(2, "Truce", events=[event("2025-10-19", "Qatar brokered a truce."),
                                     event("2025-10-21", "Another ceasefire was announced.")])  # fmt: skip
    three = source(3, "Truce", events=[event("2025-10-18", "Talks were held in Doha.")])
    timeline = {e.date: e.conflicts_with for e in brief(one, two, three).stories[0].timeline}
    assert timeline == {"2025-10-17": ["2025-10-19", "2025-10-21"], "2025-10-18": [],
                        "2025-10-19": ["2025-10-17"], "2025-10-21": ["2025-10-17"]}  # fmt: skip


def test_daily_focus_marks_new_facts_changed_figures_and_changed_status() -> None:
    from summarizer.briefing.daily import focus_on_day

    def dated(number: int, day: str, text: str, **output: Any) -> SourcedExtraction:
        s = source(number, text, **output)
        article = dataclasses.replace(s.article, published=date.fromisoformat(day))
        return dataclasses.replace(s, article=article)

    demand = {"by": "Pakistan", "of": "Afghanistan", "demand": "Act against militants on Afghan soil."}
    old = dated(1, "2025-10-30", "Pakistan demands action. Dozens were killed. Pakistan talks.",
                parties=[party("Pakistan", evidence="Pakistan talks")],
                demands=[{**demand, "status": "stated", "evidence": "Pakistan demands action"}],
                casualties=[claim("dozens", evidence="Dozens were killed")])  # fmt: skip
    new = dated(2, "2025-11-06", "Pakistan's demand was rejected. 23 soldiers died. Pakistan talks. Qatar hosts.",
                parties=[party("Pakistan", evidence="Pakistan talks")],
                mediators=[{"name": "Qatar", "role": "host", "evidence": "Qatar hosts"}],
                demands=[{**demand, "status": "rejected", "evidence": "Pakistan's demand was rejected"}],
                casualties=[claim("23", best=23, evidence="23 soldiers died")])  # fmt: skip
    daily = focus_on_day(brief(old, new), date(2025, 11, 6))
    assert daily.day == date(2025, 11, 6) and daily.title == "Daily briefing, 2025-11-06"
    assert [(p.name, p.new) for p in daily.stories[0].parties] == [("Pakistan", False)]
    assert [(m.name, m.new) for m in daily.stories[0].mediators] == [("Qatar", True)]
    # One line: the demand was reported before (not new), and its status moved since.
    [rejected] = daily.stories[0].demands
    assert (rejected.status, rejected.previous_status, rejected.new) == ("rejected", "stated", False)
    assert rejected.statuses == {"stated": [1], "rejected": [2]}
    [incident] = daily.stories[0].incidents
    assert incident.changed is True
    assert [(c.figure_text, c.new) for c in daily.stories[0].casualties] == [("23", True)]
    assert [(s.number, s.earlier) for s in daily.sources] == [(1, True), (2, False)]


def test_dates_that_contradict_their_own_words_are_noted() -> None:
    def event(day: str, words: str) -> dict[str, Any]:
        return {"date": day, "precision": "day", "date_text": words, "description": "Talks.", "evidence": "Talks"}

    one = source(1, "Talks", events=[event("2025-10-24", "October 25"), event("2025-10-12", "October 12"),
                                     event("2025-11-06", "Thursday")])  # fmt: skip
    notices = [n for n in brief(one).notices if n.startswith("date check")]
    assert notices == ["date check, source 1: “October 25” reads as 2025-10-25, not 2025-10-24; "
                       "the timeline keeps the record's date"]  # fmt: skip


def test_merging_leaves_the_host_process_s_collector_as_it_was() -> None:
    seen: list[bool] = []
    resolver_resolve = EntityResolver.resolve

    def spy(self: EntityResolver, name: str | None) -> str | None:
        seen.append(gc.isenabled())
        return resolver_resolve(self, name)

    one = source(1, "Pakistan attended.", parties=[party("Pakistan", evidence="Pakistan attended")])
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EntityResolver, "resolve", spy)
        via_pairs = merge_records([(one.article, one.record)], generated=WHEN)
    assert seen and all(seen), "the collector stays on while merging"
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)
    assert via_pairs == brief(one)


def test_one_quote_given_for_several_facts_is_checked_for_each() -> None:
    one = source(1, "Pakistan and Afghanistan met.", parties=[
        party("Pakistan", evidence="Pakistan and Afghanistan sat down"),
        party("Afghanistan", evidence="Pakistan and Afghanistan sat down")])  # fmt: skip
    briefing = brief(one)
    assert any(n.startswith("2 evidence quote(s) were not found") for n in briefing.notices)
    assert [c.found for p in briefing.stories[0].parties for c in p.citations] == [False, False]


def test_markdown_text_is_escaped_and_its_whitespace_made_single_spaces() -> None:
    assert md("Tehrik-e-Taliban Pakistan") == "Tehrik-e-Taliban Pakistan"
    assert md("a_b *c* [d] <e> #f |g| `h` \\i") == "a\\_b \\*c\\* \\[d\\] \\<e\\> \\#f \\|g\\| \\`h\\` \\\\i"
    for spaced in (" talks  resumed ", "talks\nresumed", "talks\tresumed", "talks\u00a0resumed", "talks\u2003resumed"):
        assert md(spaced) == "talks resumed", repr(spaced)
    assert md("") == "" and md("   ") == ""


def test_a_finer_date_leads_the_line_and_the_wording_it_displaces_stays_a_variant() -> None:
    def event(day: str, precision: str, description: str, evidence: str) -> dict[str, Any]:
        return {"date": day, "precision": precision, "date_text": day, "description": description,
                "evidence": evidence}  # fmt: skip

    month = "Talks between the two governments collapsed in October."
    day = "Talks between the two governments collapsed on 25 October."
    one = source(1, "The talks collapsed in October.", events=[event("2025-10", "month", month, "talks collapsed")])
    two = source(2, "The talks collapsed on 25 October.", events=[event("2025-10-25", "day", day, "on 25 October")])
    [line] = brief(one, two).stories[0].timeline
    assert (line.date, line.description, line.variants) == ("2025-10-25", day, [month])
