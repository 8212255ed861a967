"""The reviewed briefing of the five example articles. After a deliberate change, rewrite it with
``pytest tests/briefing/test_golden.py --update-golden`` and review the diff like code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from summarizer import build_briefing, load_settings, render
from summarizer.briefing.render import Format, render_bytes
from tests.conftest import ARTICLES, RECORDINGS, ROOT

GOLDEN = ROOT / "fixtures" / "briefing"
GENERATED = datetime(2025, 11, 6, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(("fmt", "name"), [("md", "example.md"), ("json", "example.json")])
def test_example_briefing_matches_the_golden_file(
    fmt: Format, name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache")
    briefing = build_briefing([ARTICLES], settings, replay=RECORDINGS, generated=GENERATED)
    # Sources are named relative to the repository so the file does not depend on where it is checked out.
    briefing = briefing.model_copy(
        update={
            "sources": [
                s.model_copy(update={"location": Path(s.location).relative_to(ROOT).as_posix()})
                for s in briefing.sources
            ]
        }
    )
    text = render(briefing, fmt)
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; create it with --update-golden and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; review and rerun with --update-golden"
    # What `summarizer brief` writes: the same text, encoded without passing through a str for JSON.
    assert render_bytes(briefing, fmt) == path.read_bytes()


def test_the_package_render_is_the_function_whatever_was_imported_before() -> None:
    import summarizer
    import summarizer.briefing.render  # a submodule import must not shadow the public function

    assert callable(summarizer.render) and summarizer.render.__name__ == "render"
