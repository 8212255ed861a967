"""Structured, sourced briefings from news articles on a conflict, extracted by an LLM.

```python
from summarizer import build_briefing, render, load_settings

briefing = build_briefing(["fixtures/articles"], replay=Path("fixtures/recordings"))
print(render(briefing, "md"))
```
"""

from .api import build_briefing, extract_article, extract_files, make_article
from .briefing import Briefing
from .config import Settings, load_settings
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
from .render import render
from .schema import ArticleExtraction

__all__ = [
    "Article",
    "ArticleExtraction",
    "Briefing",
    "ConfigError",
    "ExtractionError",
    "InputError",
    "InvalidResponseError",
    "Record",
    "RecordingError",
    "RunResult",
    "Settings",
    "SummarizerError",
    "TransportError",
    "UserError",
    "build_briefing",
    "extract_article",
    "extract_files",
    "load_articles",
    "load_settings",
    "make_article",
    "render",
]

__version__ = "0.1.0"
