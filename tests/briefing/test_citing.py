"""The citation pass: each quote of each source looked up once, facts whose quote is missing counted per fact."""

from __future__ import annotations

from summarizer.briefing.citing import cite_sources
from summarizer.briefing.model import Citation
from tests.briefing.test_merge import party, source


def test_each_quote_of_a_source_is_cited_once_and_each_fact_counts() -> None:
    text = "Pakistan and Afghanistan met in Doha \u2014 Qatar hosted."
    one = source(
        1,
        text,
        parties=[
            party("Pakistan", evidence="Pakistan and Afghanistan met"),
            party("Afghanistan", evidence="Pakistan and Afghanistan met"),
            party("India", evidence="India stayed away"),
        ],
        mediators=[{"name": "Qatar", "role": "host", "evidence": "Doha - Qatar hosted"}],
        outcomes=[{"description": "No deal.", "status": "unknown", "evidence": "India stayed away"}],
    )
    two = source(2, "Nothing was agreed.", parties=[party("Pakistan", evidence="Nothing was agreed")])
    quotes = cite_sources([one, two])
    assert set(quotes.by_source) == {1, 2}
    first = quotes.by_source[1]
    assert list(first) == ["Pakistan and Afghanistan met", "India stayed away", "Doha - Qatar hosted"]
    assert [c.found for c in first.values()] == [True, False, True]  # typography differs, the words do not
    assert all(c.source == 1 and c.quote == q for q, c in first.items())
    assert quotes.by_source[2]["Nothing was agreed"] == Citation(2, "Nothing was agreed", True)
    # The quote missing from the article is cited by a party and an outcome: two facts.
    assert quotes.unverified == 2
