"""An event that only reports casualty figures is said once, in the figures table; other events keep their line."""

from __future__ import annotations

from typing import Any

from summarizer.briefing.render import render
from tests.briefing.test_merge import brief, claim, party, source

ARMY = party("Caldrian army", kind="military")


def _event(description: str, evidence: str, day: str = "2026-04-02") -> dict[str, Any]:
    return {"date": day, "precision": "day", "date_text": "Thursday", "description": description, "evidence": evidence}


def test_an_event_that_only_reports_a_figure_goes_to_the_figures_table_with_its_day() -> None:
    text = "The army said on Thursday it had killed 52 rebels near Vintra. Shops reopened in Vintra."
    one = source(1, text, parties=[ARMY],
                 casualties=[claim("52", best=52, claimant="Caldrian army", evidence="it had killed 52 rebels")],
                 events=[_event("The army said it had killed 52 rebels near Vintra.",
                                "The army said on Thursday it had killed 52 rebels near Vintra"),
                         _event("Shops reopened in Vintra.", "Shops reopened in Vintra")])  # fmt: skip
    [story] = brief(one).stories
    report, shops = story.timeline
    assert report.figures == [story.casualties[0].id] and shops.figures == []
    compact, full = render(brief(one), "md"), render(brief(one), "md", "full")
    timeline = compact.split("## Timeline")[1]
    assert report.description not in timeline and shops.description in timeline
    assert report.description in full
    section = render(brief(one), "html").split('id="timeline-1"')[1].split("</section>")[0]
    assert report.description not in section and shops.description in section
    assert report.description in render(brief(one), "html", "full").split('id="timeline-1"')[1]
    # The claim is dated by its own `when`; without one, the row would say the day it was reported.
    assert "2025-10" in compact.split("## Key figures")[1].split("## Timeline")[0]


def test_an_undated_claim_takes_the_day_its_report_gives() -> None:
    undated = {**claim("52", best=52, claimant="Caldrian army", evidence="it had killed 52 rebels"), "when": None}
    one = source(1, "The army said on Thursday it had killed 52 rebels.", parties=[ARMY], casualties=[undated],
                 events=[_event("The army said it had killed 52 rebels.",
                                "The army said on Thursday it had killed 52 rebels")])  # fmt: skip
    compact = render(brief(one), "md")
    assert "reported 2026-04-02" in compact.split("## Key figures")[1]
    assert "## Timeline" not in compact


def test_an_event_that_tells_more_than_its_figures_keeps_its_line() -> None:
    # Its wording does not state the figure: the fighting is the event, the toll a claim about it.
    fighting = source(1, "Fighting erupted at Vintra on 2 April, leaving 19 dead.", parties=[ARMY],
                      casualties=[claim("19", best=19, evidence="leaving 19 dead")],
                      events=[_event("Fighting erupted at Vintra.",
                                     "Fighting erupted at Vintra on 2 April, leaving 19 dead")])  # fmt: skip
    # Told by two sources, one of them citing a passage no claim rests on.
    told = "The army said it had killed 52 rebels."
    one = source(1, "The army said it had killed 52 rebels.", parties=[ARMY],
                 casualties=[claim("52", best=52, evidence="killed 52 rebels")],
                 events=[_event(told, "The army said it had killed 52 rebels")])  # fmt: skip
    two = source(2, "Officials announced the deaths of 52 rebels.", parties=[ARMY],
                 events=[_event(told, "Officials announced the deaths of 52 rebels")])  # fmt: skip
    assert [e.figures for e in brief(fighting).stories[0].timeline] == [[]]
    [event] = brief(one, two).stories[0].timeline
    assert event.source_numbers == [1, 2] and event.figures == []


def test_an_event_at_the_claims_own_time_is_the_incident_and_keeps_its_line() -> None:
    dated = {**claim("19", best=19, claimant="the Movement", evidence="killing 19 civilians"), "when": "2026-04-02"}
    one = source(1, "Army shelling struck the market on 2 April, killing 19 civilians.", parties=[ARMY],
                 casualties=[dated],
                 events=[_event("Army shelling struck the market, killing 19 civilians.",
                                "Army shelling struck the market on 2 April, killing 19 civilians")])  # fmt: skip
    [event] = brief(one).stories[0].timeline
    assert event.figures == []
    assert event.description in render(brief(one), "md").split("## Timeline")[1]


def test_a_demand_met_is_the_event_that_met_it_and_an_open_one_keeps_its_line() -> None:
    rebels = party("Dravic National Movement", kind="armed_group")
    text = "The army accepted the rebels' request for a truce on 16 April. The rebels want the army to withdraw."
    one = source(1, text, parties=[ARMY, rebels],
                 demands=[{"by": "Dravic National Movement", "of": "Caldrian army", "status": "met",
                           "demand": "The army should agree to a truce.",
                           "evidence": "accepted the rebels' request for a truce"},
                          {"by": "Dravic National Movement", "of": "Caldrian army", "status": "under_negotiation",
                           "demand": "The army must withdraw.", "evidence": "The rebels want the army to withdraw"}],
                 events=[_event("The army accepted the rebels' request for a truce.",
                                "The army accepted the rebels' request for a truce on 16 April",
                                "2026-04-16")])  # fmt: skip
    briefing = brief(one)
    [story] = briefing.stories
    met, open_ = sorted(story.demands, key=lambda d: d.status)
    assert (met.status, met.repeats) == ("met", story.timeline[0].id) and open_.repeats is None
    stands = render(briefing, "md").split("## Where each side stands")[1].split("## Who")[0]
    assert met.demand not in stands and open_.demand in stands
    assert met.demand in render(briefing, "md", "full")
    section = render(briefing, "html").split('id="demands-1"')[1].split("</section>")[0]
    assert met.demand not in section and open_.demand in section
