"""Structured, sourced briefings from news articles on a conflict, extracted by an LLM.

```python
from summarizer import build_briefing, render, load_settings

briefing = build_briefing(["fixtures/articles"], replay=Path("fixtures/recordings"))
print(render(briefing, "md"))
```
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        abuild_briefing,
        aextract_article,
        aextract_files,
        build_briefing,
        extract_article,
        extract_files,
        make_article,
    )
    from .briefing import Briefing
    from .config import Settings, load_settings
    from .cost import CostReport, PriceTable
    from .errors import (
        ConfigError,
        ExtractionError,
        InputError,
        InvalidResponseError,
        RecordingError,
        SummarizerError,
        TransportError,
        UserError,
    )
    from .ingest import Article, load_articles
    from .pipeline import RunResult
    from .records import Record
    from .rendering import render, render_bytes
    from .schema import ArticleExtraction

# Public names load on first use, so that `summarizer --help` does not import the whole pipeline.
_WHERE = {
    "build_briefing": "api", "extract_article": "api", "extract_files": "api", "make_article": "api",
    "abuild_briefing": "api", "aextract_article": "api", "aextract_files": "api",
    "CostReport": "cost", "PriceTable": "cost",
    "Briefing": "briefing", "Settings": "config", "load_settings": "config",
    "ConfigError": "errors", "ExtractionError": "errors", "InputError": "errors", "InvalidResponseError": "errors",
    "RecordingError": "errors", "SummarizerError": "errors", "TransportError": "errors", "UserError": "errors",
    "Article": "ingest", "load_articles": "ingest", "RunResult": "pipeline", "Record": "records",
    "render": "rendering", "render_bytes": "rendering", "ArticleExtraction": "schema",
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
    "Briefing",
    "ConfigError",
    "CostReport",
    "ExtractionError",
    "InputError",
    "InvalidResponseError",
    "PriceTable",
    "Record",
    "RecordingError",
    "RunResult",
    "Settings",
    "SummarizerError",
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
