"""The grounding check of a written top line: every id known, every figure and date in a cited fact."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from summarizer.extraction.synthesis import Synthesis, grounding_problems, synthesis_context
from summarizer.extraction.tasks import listed_facts

FACTS = {
    "E1": "2026-04-16: The government and the rebels agreed to halt hostilities for 30 days.",
    "E2": "2026-05-04: A further round of talks is due to open in Bellmere.",
    "C1": "the army says 11 (killed, soldiers, Vintra)",
    "C2": "the rebels say more than forty (killed, soldiers, Vintra)",
    "O1": "The two sides will exchange prisoners within two weeks. (agreed)",
}


def _answer(*bullets: tuple[str, list[str]]) -> Synthesis:
    return Synthesis.model_validate({"key_developments": [{"text": t, "facts": f} for t, f in bullets]})


def test_a_grounded_answer_passes_whatever_the_writing_of_its_figures_and_dates() -> None:
    answer = _answer(
        ("On 16 April the two sides agreed a 30-day truce.", ["E1"]),
        ("The next round opens on May 4 in Bellmere.", ["E2"]),
        ("The army says eleven soldiers died; the rebels say more than 40.", ["C1", "C2"]),
        ("One of the first steps is a prisoner exchange within two weeks.", ["O1"]),
    )
    assert grounding_problems(answer, FACTS) == []


@pytest.mark.parametrize(
    ("text", "facts", "wanted"),
    [
        ("The army says 12 soldiers died.", ["C1"], "states 12"),
        ("The truce took effect on 17 April.", ["E1"], "states 17"),
        ("The truce was agreed in March.", ["E1"], "states March"),
        ("The truce was agreed in 2025.", ["E1"], "states 2025"),
        ("The rebels say fifty soldiers died.", ["C2"], "states 50"),
        ("The army says 11 soldiers died.", ["E1"], "states 11"),  # in a fact, but not in the one cited
        ("Talks resume.", ["E9"], "cites E9, not among the facts"),
    ],
)
def test_an_ungrounded_bullet_is_named_with_what_it_states(text: str, facts: list[str], wanted: str) -> None:
    answer = _answer((text, facts), ("The next round opens in Bellmere.", ["E2"]), ("Prisoners go home.", ["O1"]))
    [problem] = grounding_problems(answer, FACTS)
    assert problem.startswith("key development 1 ") and wanted in problem


def test_too_few_bullets_are_refused_unless_the_story_has_fewer_facts() -> None:
    two = _answer(("A truce was agreed.", ["E1"]), ("Talks resume in Bellmere.", ["E2"]))
    assert grounding_problems(two, FACTS) == ["give at least 3 key developments, not 2"]
    assert grounding_problems(two, {k: FACTS[k] for k in ("E1", "E2")}) == []


def test_the_check_runs_as_validation_with_the_facts_as_context() -> None:
    data = {"key_developments": [{"text": "About 99 died.", "facts": ["C1"]}]}
    with pytest.raises(ValidationError, match="states 99"):
        Synthesis.model_validate(data, context=synthesis_context({"C1": FACTS["C1"]}))
    assert Synthesis.model_validate(data).key_developments[0].facts == ["C1"], "without facts, no check"


def test_the_facts_are_read_back_from_the_request_lines() -> None:
    text = "E1 | event | 2026-04-16: a truce | 2 sources\n\nC1 | casualty claim | the army says 11 | 1 source\nnoise"
    assert listed_facts(text) == {"E1": "2026-04-16: a truce", "C1": "the army says 11"}
