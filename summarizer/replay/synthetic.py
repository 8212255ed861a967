"""Many distinct articles with their recordings, made from the bundled examples, for load tests and benchmarks.

A variant is an example article with one line added ("Dispatch 17 of this story."), so its id and cache key are
its own while every evidence quote in the example's recording still occurs in its text.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from summarizer.extraction.records import Record, read_recordings, recording_filename
from summarizer.ingest.articles import Article, article_id, load_articles
from summarizer.ingest.injection import directed_passages


def example_variants(count: int, articles_dir: Path, recordings_dir: Path) -> tuple[list[Article], dict[str, Record]]:
    """``count`` variants of the examples in ``articles_dir``, and their recordings by article id."""
    examples = load_articles([articles_dir]).articles
    recordings = read_recordings(recordings_dir)
    bases = [(a, recordings[a.id]) for a in examples if a.id in recordings]
    if not bases:
        raise ValueError(f"no article in {articles_dir} has a recording in {recordings_dir}")
    articles: list[Article] = []
    served: dict[str, Record] = {}
    for number in range(1, count + 1):
        base, record = bases[(number - 1) % len(bases)]
        text = f"{base.text}\n\nDispatch {number} of this story."
        article = replace(
            base,
            id=article_id(text),
            text=text,
            directed=tuple(directed_passages(base.title, text)),
            source=f"variant-{number:05d}",
            also_at=(),
        )
        articles.append(article)
        request = record.request.model_copy(update={"article_id": article.id, "article_source": article.source})
        served[article.id] = record.model_copy(update={"request": request})
    return articles, served


def write_variants(articles: list[Article], recordings: dict[str, Record], directory: Path) -> tuple[Path, Path]:
    """Write the articles as one JSON Lines file and the recordings as files; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "title": a.title,
                "text": a.text,
                "published": a.published.isoformat() if a.published else None,
                "published_inferred": a.published_inferred,
                "outlet": a.outlet,
            },
            ensure_ascii=False,
        )
        for a in articles
    ]
    articles_file = directory / "articles.jsonl"
    articles_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recordings_dir = directory / "recordings"
    recordings_dir.mkdir(exist_ok=True)
    for record in recordings.values():
        (recordings_dir / recording_filename(record)).write_text(record.to_json(), encoding="utf-8")
    return articles_file, recordings_dir
