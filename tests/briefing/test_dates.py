"""The fast reading of plain dates agrees with dateparser, which stays the reference."""

from __future__ import annotations

from datetime import date

import pytest

from summarizer.briefing import dates
from summarizer.extraction.schema import Precision

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
