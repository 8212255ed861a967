"""Name resolution rules: initialisms, length-aware fuzzy matching, stand-ins, and pairs that must stay apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.briefing.entities import AliasTable, EntityResolver


def resolver_for(*names: str, table: AliasTable | None = None) -> EntityResolver:
    resolver = EntityResolver(table or AliasTable.load())
    for name in names:
        resolver.observe(name)
    resolver.link_fuzzy()
    return resolver


def one_actor(resolver: EntityResolver, *names: str) -> bool:
    return len({resolver.resolve(n) for n in names}) == 1


@pytest.mark.parametrize(
    "names",
    [
        ("U.S.", "US", "United States", "the United States"),
        ("UAE", "U.A.E.", "United Arab Emirates"),
        ("DNM", "Dravic National Movement"),
        ("USA", "United States of America"),
    ],
)
def test_an_initialism_is_the_multi_word_name_it_abbreviates(names: tuple[str, ...]) -> None:
    assert one_actor(resolver_for(*names), *names)


def test_dotted_and_undotted_initialisms_are_one_actor_without_the_full_name() -> None:
    assert one_actor(resolver_for("U.A.E.", "UAE"), "U.A.E.", "UAE")


def test_an_initialism_is_not_joined_to_a_name_the_sources_never_used() -> None:
    resolver = resolver_for("DNM", "Kenya")
    assert resolver.resolve("DNM") == "DNM"
    assert resolver.resolve("Dravic National Movement") == "Dravic National Movement"


def test_an_initialism_matching_two_names_joins_neither() -> None:
    resolver = resolver_for("DNM", "Dravic National Movement", "Democratic Northern Militia")
    assert resolver.resolve("DNM") == "DNM"
    assert resolver.resolve("Dravic National Movement") != resolver.resolve("Democratic Northern Militia")


def test_a_lower_case_word_is_not_read_as_an_initialism() -> None:
    resolver = resolver_for("us", "United States")
    assert resolver.resolve("us") != resolver.resolve("United States")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Russia", "Prussia"),
        ("Niger", "Nigeria"),
        ("Sudan", "South Sudan"),
        ("Guinea", "Guinea-Bissau"),
        ("Congo", "DR Congo"),
        ("Dominica", "Dominican Republic"),
        ("President Ruto", "Kenya"),
        ("Hamas", "Qassam Brigades"),
        ("Iran", "Iraq"),
    ],
)
def test_different_actors_are_not_merged(first: str, second: str) -> None:
    resolver = resolver_for(first, second)
    assert resolver.resolve(first) == first and resolver.resolve(second) == second


def test_short_names_need_more_than_the_fuzzy_threshold() -> None:
    resolver = EntityResolver(AliasTable.load(), threshold=90.0)
    for name in ("Russia", "Prussia"):
        resolver.observe(name)
    resolver.link_fuzzy()
    assert resolver.resolve("Russia") != resolver.resolve("Prussia"), "92.3 clears 90 but the names are short"


def test_long_names_still_join_by_fuzzy_score() -> None:
    assert one_actor(resolver_for("Sirajuddin Haqqani", "Sirajudin Haqqani"), "Sirajuddin Haqqani", "Sirajudin Haqqani")


@pytest.mark.parametrize(
    ("stand_in", "country"),
    [
        ("Moscow", "Russia"),
        ("Kremlin", "Russia"),
        ("Kyiv", "Ukraine"),
        ("Kiev", "Ukraine"),
        ("Washington", "United States"),
        ("the White House", "United States"),
    ],  # fmt: skip
)
def test_a_capital_or_seat_of_government_is_its_country_when_the_country_is_named(stand_in: str, country: str) -> None:
    resolver = resolver_for(stand_in, country)
    assert resolver.resolve(stand_in) == country


def test_a_capital_alone_stays_as_written() -> None:
    resolver = resolver_for("Moscow", "Ukraine")
    assert resolver.resolve("Moscow") == "Moscow"


def test_spellings_of_one_capital_are_one_place() -> None:
    assert one_actor(resolver_for("Kyiv", "Kiev"), "Kyiv", "Kiev")


def test_a_user_alias_file_adds_stand_ins(tmp_path: Path) -> None:
    extra = tmp_path / "aliases.yaml"
    extra.write_text("metonyms:\n  Sentinel Hall: Dravic National Movement\n", encoding="utf-8")
    resolver = resolver_for("Sentinel Hall", "Dravic National Movement", table=AliasTable.load(extra))
    assert resolver.resolve("Sentinel Hall") == "Dravic National Movement"
    assert resolver_for("Sentinel Hall", "Dravic National Movement").resolve("Sentinel Hall") == "Sentinel Hall"


def test_a_stand_in_never_joins_actors_the_table_keeps_apart(tmp_path: Path) -> None:
    extra = tmp_path / "aliases.yaml"
    extra.write_text(
        "entities:\n  - name: Kenya\n  - name: Nairobi County\n    aliases: [Nairobi]\n"
        "distinct:\n  - [Kenya, Nairobi County]\n",
        encoding="utf-8",
    )
    resolver = resolver_for("Nairobi", "Kenya", table=AliasTable.load(extra))
    assert resolver.resolve("Nairobi") == "Nairobi County"
    assert resolver.refused == [("kenya", "nairobi")]


@pytest.mark.parametrize(
    ("first", "second", "english"),
    [
        ("Kiev", "Київ", "Kyiv"),
        ("Vitali Klychko", "Vitali Klitschko", "Vitali Klitschko"),
        ("Mullah Muhammad Yaqoob", "Mullah Mohammad Yaqub", "Mullah Mohammad Yaqoob"),
    ],
)
def test_spellings_given_the_same_english_name_are_one_actor_shown_by_that_name(
    first: str, second: str, english: str
) -> None:
    resolver = EntityResolver(AliasTable.load())
    resolver.observe(first, english=english, person=" " in english)
    resolver.observe(second, english=english, person=" " in english)
    resolver.link_fuzzy()
    assert resolver.resolve(first) == resolver.resolve(second) == english


def test_without_an_english_name_transliterations_stay_apart() -> None:
    # Klitschko / Klychko scores 84: below the threshold, so only the model's English name can join them.
    assert not one_actor(resolver_for("Vitali Klychko", "Vitali Klitschko"), "Vitali Klychko", "Vitali Klitschko")


def test_different_english_names_keep_actors_apart() -> None:
    resolver = EntityResolver(AliasTable.load())
    resolver.observe("Kyiv", english="Kyiv")
    resolver.observe("Kyiv Oblast", english="Kyiv Oblast")
    resolver.link_fuzzy()
    assert resolver.resolve("Kyiv") != resolver.resolve("Kyiv Oblast")


def test_a_person_named_like_a_capital_is_not_read_as_its_country() -> None:
    resolver = EntityResolver(AliasTable.load())
    resolver.observe("United States")
    resolver.observe("Washington", ["Senator Washington"], person=True)
    resolver.observe("Moscow")
    resolver.observe("Russia")
    resolver.link_fuzzy()
    assert resolver.resolve("Washington") == "Washington" != resolver.resolve("United States")
    assert resolver.resolve("Moscow") == "Russia", "a capital named as an actor is still its country"


def test_a_stand_in_given_as_its_own_english_name_still_shows_its_country() -> None:
    resolver = EntityResolver(AliasTable.load())
    resolver.observe("Moscow", english="Moscow", times=3)
    resolver.observe("Russia", english="Russia")
    resolver.link_fuzzy()
    assert resolver.resolve("Moscow") == "Russia"
