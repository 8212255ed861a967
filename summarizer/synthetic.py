"""Many distinct articles with their recordings, made from the bundled examples, for load tests and benchmarks.

A variant is an example article with one line added ("Dispatch 17 of this story."), so its id and cache key are
its own while every evidence quote in the example's recording still occurs in its text.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from .ingest import Article, article_id, load_articles
from .records import Record, RequestInfo, ResponseInfo, read_recordings, recording_filename


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
        article = replace(base, id=article_id(text), text=text, source=f"variant-{number:05d}", also_at=())
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


_GROUPS = ("Liberation Front", "People's Army", "Defence Forces", "National Council", "Resistance Movement",
           "Unity Government", "Border Guard", "Democratic Alliance")  # fmt: skip
_SYLLABLES = ("kar", "vel", "tor", "mi", "sha", "dun", "ra", "bel", "os", "zan", "te", "lim", "gor", "na", "qu", "ber")
_EVENTS = (
    ("{a} and {b} held talks in {p}", "talks between {a} and {b} took place in {p}"),
    ("an airstrike hit {p}", "{p} was struck from the air"),
    ("a ceasefire between {a} and {b} took effect around {p}", "{a} and {b} began a ceasefire around {p}"),
    ("{a} closed the crossing at {p}", "the crossing at {p} was closed by {a}"),
)
_DEMANDS = ("withdraw its forces from {p}", "release prisoners held in {p}", "stop attacks launched from {p}",
            "reopen the road through {p}")  # fmt: skip


def _place(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        if name not in taken:
            taken.add(name)
            return name


def synthetic_records(count: int, *, seed: int = 0) -> list[tuple[Article, Record]]:
    """``count`` articles with records, drawn from a world that grows with ``count``: about one actor per 25
    articles, and events, claims and demands each reported by several articles in different words. Evidence
    quotes are sentences of the article's text, so every citation checks out."""
    rng = random.Random(seed)
    names: set[str] = set()
    places = [_place(rng, names) for _ in range(60 + count // 40)]
    actors = [(f"{home} {rng.choice(_GROUPS)}", home) for home in (_place(rng, names) for _ in range(40 + count // 25))]
    # A story runs longer, not denser, as it gathers articles: about fourteen a day, as a busy conflict gets.
    span = max(60, count // 14)
    start = date(2026, 1, 1)
    facts = [
        (rng.randrange(len(_EVENTS)), rng.sample(actors, 2), rng.choice(places), start + timedelta(rng.randrange(span)))
        for _ in range(10 + count // 3)
    ]  # fmt: skip
    pairs: list[tuple[Article, Record]] = []
    for number in range(count):
        sentences: list[str] = []
        events: list[dict[str, object]] = []
        casualties: list[dict[str, object]] = []
        demands: list[dict[str, object]] = []
        parties: list[dict[str, object]] = []
        latest = start
        involved: dict[str, str] = {}
        for kind, (a, b), place, when in rng.sample(facts, rng.randint(1, 3)):
            wording = rng.choice(_EVENTS[kind]).format(a=a[0], b=b[0], p=place)
            sentence = f"On {when:%B} {when.day}, {wording}."
            sentences.append(sentence)
            latest = max(latest, when)
            events.append({
                "date": when.isoformat(), "precision": "day", "date_text": f"{when:%B} {when.day}",
                "description": wording[0].upper() + wording[1:] + ".", "location": place, "evidence": sentence,
            })  # fmt: skip
            involved.update({a[0]: a[1], b[0]: b[1]})
            if kind == 1:
                figure = rng.choice((3, 7, 12, 20, 35))
                claim = f"{b[0]} said {figure} civilians were killed in {place}."
                sentences.append(claim)
                casualties.append({
                    "kind": "killed", "figure_text": str(figure), "best": figure, "victims": "civilians",
                    "location": place, "when": when.isoformat(), "claimant": b[0], "evidence": claim,
                })  # fmt: skip
            else:
                wanted = rng.choice(_DEMANDS).format(p=place)
                demand = f"{a[0]} demanded that {b[0]} {wanted}."
                sentences.append(demand)
                demands.append({
                    "by": a[0], "of": b[0], "demand": f"{b[0]} should {wanted}.", "status": "stated",
                    "evidence": demand,
                })  # fmt: skip
        for name, home in involved.items():
            mention = f"{name}, also called the {home} group, is a side in the fighting."
            sentences.append(mention)
            parties.append({
                "name": name, "kind": "armed_group", "role": "side in the fighting",
                "spellings": [f"{home} group"], "evidence": mention,
            })  # fmt: skip
        sentences.append(f"Report {number + 1}.")
        text = "\n\n".join(sentences)
        output = {"summary": sentences[0], "parties": parties, "demands": demands, "casualties": casualties,
                  "events": events}  # fmt: skip
        published = latest + timedelta(rng.randint(0, 2))
        article = Article(
            id=article_id(text), title=f"Dispatch {number + 1}", text=text, source=f"synthetic-{number + 1:06d}",
            published=published, outlet=f"Outlet {number % 17}",
        )  # fmt: skip
        request = RequestInfo(
            article_id=article.id, article_title=article.title, article_source=article.source, model="synthetic",
            mode="tools", temperature=0.0, prompt_hash="p1-synthetic", schema_hash="s1-synthetic",
        )  # fmt: skip
        record = Record(
            origin="authored", key=f"k1-synthetic-{number}", request=request, response=ResponseInfo(), output=output
        )
        pairs.append((article, record))
    return pairs
