"""The fast reading of plain dates agrees with dateparser, which stays the reference."""

from __future__ import annotations

from datetime import date

import pytest

from summarizer.briefing import dates
from summarizer.extraction.schema import Event, Precision

PHRASES = ["October 25", "25 October", "October 25, 2025", "Oct. 3", "December 30", "October", "December",
           "March 2024", "the 5th of May", "on October 17", "in September", "17th October", "Feb 29"]  # fmt: skip


def dateparser_reading(phrase: str, published: date) -> tuple[str, Precision] | None:
    data = dates._parser(published).get_date_data(phrase)
    precision = dates._PERIODS.get(str(data.period))
    if data.date_obj is None or precision is None:
        return None
    width = {Precision.DAY: 10, Precision.MONTH: 7, Precision.YEAR: 4}[precision]
    return data.date_obj.date().isoformat()[:width], precision


@pytest.mark.parametrize("published", [date(2025, 10, 27), date(2024, 3, 1)])
@pytest.mark.parametrize("phrase", PHRASES)
def test_plain_dates_read_as_dateparser_reads_them(phrase: str, published: date) -> None:
    dates.read_date.cache_clear()
    assert dates.read_date(phrase, published) == dateparser_reading(phrase, published)


def test_phrases_outside_the_plain_forms_go_to_dateparser() -> None:
    assert dates._plain_date("earlier this month", date(2025, 10, 27)) is None
    assert dates.read_date("last month", date(2025, 10, 27)) == ("2025-09", Precision.MONTH)


def event(date_text: str, when: str, evidence: str, description: str = "The two delegations meet.") -> Event:
    precision = Precision.DAY if len(when) == 10 else Precision.MONTH
    return Event(date=when, precision=precision, date_text=date_text, description=description, evidence=evidence)


JAN_26 = date(2026, 1, 26)


@pytest.mark.parametrize(
    "evidence",
    [
        "The delegations will meet again on Feb. 1 in the capital.",
        "The next round is scheduled for Feb. 1.",
        "Talks are due to resume on Feb. 1, officials said.",
        "The meeting is set for Feb. 1.",
        "The envoys are to meet on Feb. 1.",
        "Officials said the talks would resume on Feb. 1.",
        "Both sides meet next on Feb. 1.",
        "They'll sign the text on Feb. 1.",
    ],
)
def test_a_scheduled_date_without_a_year_is_the_coming_one(evidence: str) -> None:
    assert dates.date_disagreement(event("Feb. 1", "2026-02-01", evidence), JAN_26) is None
    assert dates.date_disagreement(event("Feb. 1", "2025-02-01", evidence), JAN_26) == (
        "“Feb. 1” reads as 2026-02-01, not 2025-02-01"
    )


def test_the_model_may_say_a_date_is_scheduled_in_its_description() -> None:
    scheduled = event("Feb. 1", "2026-02-01", "Talks on Feb. 1.", description="Talks are scheduled to resume.")
    assert dates.date_disagreement(scheduled, JAN_26) is None


@pytest.mark.parametrize(
    "evidence",
    [
        "The two sides met on Feb. 1 for a first round.",
        "Talks were held on Feb. 1, officials said.",
        # Not the future: a cause, and the day after an earlier event.
        "Talks collapsed on Feb. 1 due to a dispute over the border.",
        "Fighting broke out on Feb. 1, and the next day the border closed.",
    ],
)
def test_a_date_told_in_the_past_tense_stays_the_past_one(evidence: str) -> None:
    assert dates.date_disagreement(event("Feb. 1", "2025-02-01", evidence), JAN_26) is None
    assert dates.date_disagreement(event("Feb. 1", "2026-02-01", evidence), JAN_26) == (
        "“Feb. 1” reads as 2025-02-01, not 2026-02-01"
    )


def test_a_scheduled_event_referring_back_to_a_recent_date_keeps_that_date() -> None:
    # "will" puts the review ahead, but Jan. 20 is six days back, not a year ahead.
    review = event("Jan. 20", "2026-01-20", "The talks will review the truce agreed on Jan. 20.")
    assert dates.date_disagreement(review, JAN_26) is None


def test_a_scheduled_month_without_a_year_is_the_coming_one() -> None:
    assert dates.read_date("in March", JAN_26, scheduled=True) == ("2026-03", Precision.MONTH)
    assert dates.read_date("in March", JAN_26) == ("2025-03", Precision.MONTH)
    assert dates.read_date("in January", JAN_26, scheduled=True) == ("2026-01", Precision.MONTH)
    assert dates.read_date("December", date(2025, 12, 30), scheduled=True) == ("2025-12", Precision.MONTH)


def test_a_scheduled_date_with_a_year_or_a_relative_phrase_reads_as_written() -> None:
    assert dates.read_date("Feb. 1, 2025", JAN_26, scheduled=True) == ("2025-02-01", Precision.DAY)
    assert dates.read_date("next month", JAN_26, scheduled=True) == ("2026-02", Precision.MONTH)
    assert dates.read_date("last month", JAN_26, scheduled=True) == ("2025-12", Precision.MONTH)


@pytest.mark.parametrize("phrase", ["February 1", "1 February", "Feb 1", "in February", "March"])
def test_the_fast_future_reading_agrees_with_dateparser(phrase: str) -> None:
    data = dates._parser(JAN_26, "future").get_date_data(phrase)
    width = 10 if str(data.period) == "day" else 7
    assert data.date_obj is not None
    assert dates._plain_date(phrase, JAN_26, "future") == (
        data.date_obj.date().isoformat()[:width],
        Precision.DAY if width == 10 else Precision.MONTH,
    )
