"""The collector's young collections are spaced out during a pipeline run, and put back as they were after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from summarizer import extract_files
from summarizer.config import Settings
from summarizer.extraction.pipeline import ArticleResult
from summarizer.gcpause import SPACED_YOUNG_THRESHOLD, young_collections_spaced
from tests.conftest import ARTICLES


@pytest.fixture(autouse=True)
def _thresholds_kept() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_for_the_block_and_put_back() -> None:
    gc.set_threshold(700, 11, 12)
    with young_collections_spaced():
        assert gc.get_threshold() == (SPACED_YOUNG_THRESHOLD, 11, 12), "only the youngest generation's"
    assert gc.get_threshold() == (700, 11, 12)


def test_overlapping_blocks_put_it_back_when_the_last_one_ends() -> None:
    gc.set_threshold(700, 10, 10)
    inside, release = threading.Event(), threading.Event()

    def other_run() -> None:
        with young_collections_spaced():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_run)
    thread.start()
    assert inside.wait(10)
    with young_collections_spaced():
        assert gc.get_threshold()[0] == SPACED_YOUNG_THRESHOLD
    assert gc.get_threshold()[0] == SPACED_YOUNG_THRESHOLD, "the other thread's block is still open"
    release.set()
    thread.join(10)
    assert gc.get_threshold()[0] == 700


def test_a_host_s_own_settings_are_left_alone() -> None:
    gc.set_threshold(50_000, 10, 10)
    with young_collections_spaced():
        assert gc.get_threshold()[0] == 50_000, "already spaced further apart"
    assert gc.get_threshold()[0] == 50_000

    gc.set_threshold(700, 10, 10)
    with young_collections_spaced():
        gc.set_threshold(2_000, 10, 10)  # the host changes its mind meanwhile
    assert gc.get_threshold()[0] == 2_000


def test_a_run_fetches_with_young_collections_spaced_out(settings: Settings) -> None:
    gc.set_threshold(700, 10, 10)
    during: list[int] = []

    def progress(_: ArticleResult) -> None:
        during.append(gc.get_threshold()[0])

    run = extract_files([ARTICLES], settings, progress=progress)
    assert run.count("fetched") == 5
    assert during == [SPACED_YOUNG_THRESHOLD] * 5
    assert gc.get_threshold()[0] == 700
