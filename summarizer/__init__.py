"""Structured, sourced briefings from news articles on a conflict, extracted by an LLM.

```python
from summarizer import build_briefing, render

briefing = build_briefing(["fixtures/articles"], replay="fixtures/recordings")
print(render(briefing, "md"))
```
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from summarizer.app.api import (
        abuild_briefing,
        aextract_article,
        aextract_files,
        build_briefing,
        extract_article,
        extract_files,
        make_article,
    )
    from summarizer.briefing.model import (
        Briefing,
        CasualtyEntry,
        CasualtyRange,
        Citation,
        Cited,
        DemandEntry,
        IncidentEntry,
        MediatorEntry,
        OutcomeEntry,
        PartyEntry,
        PersonEntry,
        Source,
        TimelineEntry,
    )
    from summarizer.briefing.render import render, render_bytes
    from summarizer.config import Settings, load_settings
    from summarizer.errors import (
        ConfigError,
        ExitCode,
        ExtractionError,
        InputError,
        InvalidResponseError,
        RecordingError,
        SummarizerError,
        TransportError,
        UserError,
    )
    from summarizer.extraction.cost import CostReport, PriceTable
    from summarizer.extraction.records import Record
    from summarizer.extraction.results import ArticleResult, Failure, RunResult
    from summarizer.extraction.schema import ArticleExtraction
    from summarizer.ingest.articles import Article, load_articles

# Public names load on first use, so that `summarizer --help` does not import the whole pipeline.
_WHERE = {
    "build_briefing": "app.api", "extract_article": "app.api", "extract_files": "app.api",
    "make_article": "app.api", "abuild_briefing": "app.api", "aextract_article": "app.api",
    "aextract_files": "app.api",
    "CostReport": "extraction.cost", "PriceTable": "extraction.cost",
    "Briefing": "briefing.model", "Settings": "config", "load_settings": "config",
    "CasualtyEntry": "briefing.model",
    "CasualtyRange": "briefing.model",
    "Citation": "briefing.model",
    "Cited": "briefing.model",
    "DemandEntry": "briefing.model",
    "IncidentEntry": "briefing.model",
    "MediatorEntry": "briefing.model",
    "OutcomeEntry": "briefing.model",
    "PartyEntry": "briefing.model",
    "PersonEntry": "briefing.model",
    "Source": "briefing.model",
    "TimelineEntry": "briefing.model",
    "ExitCode": "errors", "ArticleResult": "extraction.results", "Failure": "extraction.results",
    "ConfigError": "errors", "ExtractionError": "errors", "InputError": "errors", "InvalidResponseError": "errors",
    "RecordingError": "errors", "SummarizerError": "errors", "TransportError": "errors", "UserError": "errors",
    "Article": "ingest.articles", "load_articles": "ingest.articles", "RunResult": "extraction.results",
    "Record": "extraction.records", "render": "briefing.render", "render_bytes": "briefing.render",
    "ArticleExtraction": "extraction.schema",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Article",
    "ArticleExtraction",
    "ArticleResult",
    "Briefing",
    "CasualtyEntry",
    "CasualtyRange",
    "Citation",
    "Cited",
    "ConfigError",
    "CostReport",
    "DemandEntry",
    "ExitCode",
    "ExtractionError",
    "Failure",
    "IncidentEntry",
    "InputError",
    "InvalidResponseError",
    "MediatorEntry",
    "OutcomeEntry",
    "PartyEntry",
    "PersonEntry",
    "PriceTable",
    "Record",
    "RecordingError",
    "RunResult",
    "Settings",
    "Source",
    "SummarizerError",
    "TimelineEntry",
    "TransportError",
    "UserError",
    "abuild_briefing",
    "aextract_article",
    "aextract_files",
    "build_briefing",
    "extract_article",
    "extract_files",
    "load_articles",
    "load_settings",
    "make_article",
    "render",
    "render_bytes",
]

__version__ = "0.1.0"
