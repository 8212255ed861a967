"""Facts the model names as the same, folded into one line: every source and quote kept, disagreements shown."""

from __future__ import annotations

from typing import Any

from summarizer.briefing.folding import fold_same_facts
from summarizer.briefing.model import KeyPoint, Story
from tests.briefing.test_merge import brief, party, source

CALDRIA, DNM = party("Caldria"), party("Dravic National Movement", kind="armed_group")


def _event(day: str, description: str, evidence: str) -> dict[str, Any]:
    precision = "day" if day.count("-") == 2 else "month"
    return {"date": day, "precision": precision, "date_text": day, "description": description, "evidence": evidence}


def _demand(text: str, evidence: str, status: str = "stated") -> dict[str, Any]:
    return {"by": "Caldria", "of": "Dravic National Movement", "demand": text, "status": status, "evidence": evidence}


def _story() -> Story:
    one = source(1, "The rebels must hand over their heavy weapons. Talks collapsed on 25 April.",
                 parties=[CALDRIA, DNM],
                 demands=[_demand("The rebels must hand over their heavy weapons.", "hand over their heavy weapons")],
                 events=[_event("2026-04-25", "Talks collapsed.", "Talks collapsed on 25 April")])  # fmt: skip
    two = source(2, "Caldria wants the artillery surrendered first. The round broke down in April.",
                 parties=[CALDRIA, DNM],
                 demands=[_demand("The DNM must surrender its artillery first.", "wants the artillery surrendered")],
                 events=[_event("2026-04", "The round of talks broke down.", "The round broke down in April")],
                 outcomes=[{"description": "The talks failed.", "status": "failed", "parties": ["Caldria"],
                            "evidence": "The round broke down"}])  # fmt: skip
    three = source(3, "Disarmament is under negotiation. The talks ended on 27 April.", parties=[CALDRIA, DNM],
                   demands=[_demand("Disarmament of the rebels.", "Disarmament is under negotiation",
                                    "under_negotiation")],
                   events=[_event("2026-04-27", "The talks ended without a deal.",
                                  "The talks ended on 27 April")])  # fmt: skip
    [story] = brief(one, two, three).stories
    return story


def _local(story: Story, text: str) -> str:
    for fact in [*story.timeline, *story.outcomes, *story.demands]:
        said = getattr(fact, "description", None) or getattr(fact, "demand", "")
        if said == text:
            return fact.id.rpartition(".")[2]
    raise AssertionError(text)


def test_a_group_becomes_one_line_with_every_source_quote_and_wording() -> None:
    story = _story()
    weapons = _local(story, "The rebels must hand over their heavy weapons.")
    artillery = _local(story, "The DNM must surrender its artillery first.")
    folded = fold_same_facts(story, [[weapons, artillery]])
    stated = [d for d in folded.demands if d.status == "stated"]
    assert len(stated) == 1 and stated[0].source_numbers == [1, 2]
    assert {c.quote for c in stated[0].citations} == {
        "hand over their heavy weapons",
        "wants the artillery surrendered",
    }
    assert "The DNM must surrender its artillery first." in stated[0].variants


def test_a_demand_only_stated_folds_into_the_line_that_says_where_it_stands() -> None:
    story = _story()
    ids = [_local(story, t) for t in ("The rebels must hand over their heavy weapons.", "Disarmament of the rebels.")]
    folded = fold_same_facts(story, [ids])
    [line] = [d for d in folded.demands if 1 in d.source_numbers]
    assert line.status == "under_negotiation" and line.source_numbers == [1, 3]
    assert line.demand == "Disarmament of the rebels."
    assert line.variants == ["The rebels must hand over their heavy weapons."]
    assert line.statuses == {"stated": [1], "under_negotiation": [3]}


def test_demands_whose_statuses_disagree_are_not_folded() -> None:
    talks = source(1, "Disarmament is under negotiation.", parties=[CALDRIA, DNM],
                   demands=[_demand("Disarmament of the rebels.", "Disarmament is under negotiation",
                                    "under_negotiation")])  # fmt: skip
    refusal = source(2, "The DNM rejected handing over its weapons.", parties=[CALDRIA, DNM],
                     demands=[_demand("The rebels must hand over their weapons.", "rejected handing over its weapons",
                                      "rejected")])  # fmt: skip
    [story] = brief(talks, refusal).stories
    ids = [_local(story, t) for t in ("Disarmament of the rebels.", "The rebels must hand over their weapons.")]
    folded = fold_same_facts(story, [ids])
    assert sorted(d.status for d in folded.demands) == ["rejected", "under_negotiation"]


def test_events_and_outcomes_fold_and_only_incompatible_dates_are_a_disagreement() -> None:
    story = _story()
    texts = (
        "Talks collapsed.",
        "The round of talks broke down.",
        "The talks failed.",
        "The talks ended without a deal.",
    )
    ids = [_local(story, t) for t in texts]
    point = KeyPoint(text="The talks failed.", facts=[f"1.{i}" for i in ids], sources=[1])
    folded = fold_same_facts(story.model_copy(update={"key_points": [point]}), [ids])
    [event] = [e for e in folded.timeline if e.source_numbers == [1, 2, 3]]
    assert len(folded.timeline) == 1 and not folded.outcomes
    assert event.conflicts_with == ["2026-04-27"] if event.date == "2026-04-25" else ["2026-04-25"]
    assert "2026-04" not in event.conflicts_with, "a month holds its days"
    [moved] = folded.key_points
    assert moved.facts == [event.id] and moved.sources == [1, 2, 3]


def test_no_group_leaves_the_story_as_it_was() -> None:
    story = _story()
    assert fold_same_facts(story, []) == story
    assert fold_same_facts(story, [["E99", "O42"]]) == story
