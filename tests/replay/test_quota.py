"""The loopback server's enforcing mode: per-minute buckets, 429 with Retry-After, OpenAI's x-ratelimit headers;
and its latency drawn from a seeded distribution."""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys

import openai
import pytest

from summarizer.extraction.limits import parse_duration
from summarizer.extraction.records import Record
from summarizer.ingest.articles import load_articles
from summarizer.replay.latency import Latency
from summarizer.replay.quota import Limits, Quota, go_duration
from summarizer.replay.server import LoopbackServer
from tests.conftest import ARTICLES, FAKE_KEY, RECORDINGS, free_port, interruptible


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (0.02, "20ms"),
        (0.0004, "1ms"),
        (1.5, "1.5s"),
        (17.25, "17.25s"),
        (360.0, "6m0s"),
        (3725.0, "1h2m5s"),
    ],  # fmt: skip
)
def test_reset_times_are_written_and_read_as_openai_writes_them(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(max(seconds, 0.001) if seconds else 0.0)


def test_parse_duration_takes_plain_seconds_and_refuses_nonsense() -> None:
    assert parse_duration("2.5") == 2.5
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("soon") is None
    assert parse_duration("5x") is None


def test_the_token_bucket_admits_a_minute_at_once_then_what_refills() -> None:
    now = [0.0]
    quota = Quota(Limits(rpm=10, tpm=1000), clock=lambda: now[0])
    first = quota.admit(600)
    assert first.admitted
    assert first.headers == {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-reset-requests": "6s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "400",
        "x-ratelimit-reset-tokens": "36s",
    }
    refused = quota.admit(600)
    assert not refused.admitted and refused.limit == "tokens"
    assert refused.retry_after == pytest.approx(200 / (1000 / 60))  # 200 tokens short, at 1000 a minute
    assert refused.headers["x-ratelimit-remaining-requests"] == "8", "a refused request still counts"
    now[0] = refused.retry_after
    assert quota.admit(600).admitted
    assert quota.admitted_tokens == 1200


def test_requests_per_minute_refuse_on_their_own() -> None:
    quota = Quota(Limits(rpm=2), clock=lambda: 0.0)
    assert [quota.admit(0).admitted for _ in range(3)] == [True, True, False]
    assert quota.admit(0).limit == "requests"


def test_the_server_answers_429_with_retry_after_and_the_headers(recordings: dict[str, Record]) -> None:
    article = load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]
    messages = [{"role": "user", "content": f"Extract.\n<article_text>\n{article.text}\n</article_text>"}]
    with LoopbackServer(recordings, limits=Limits(tpm=3000)) as server:
        client = openai.OpenAI(base_url=server.url, api_key=FAKE_KEY, max_retries=0)
        answered = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        assert answered.headers["x-ratelimit-limit-tokens"] == "3000"
        usage = answered.parse().usage
        assert usage is not None
        left = int(answered.headers["x-ratelimit-remaining-tokens"])
        assert left == 3000 - usage.total_tokens
        assert parse_duration(answered.headers["x-ratelimit-reset-tokens"]) == pytest.approx(
            usage.total_tokens / 50, abs=0.5
        )
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    headers = refused.value.response.headers
    assert float(headers["retry-after-ms"]) / 1000 == pytest.approx((usage.total_tokens - left) / 50, abs=0.5)
    assert int(headers["retry-after"]) >= float(headers["retry-after-ms"]) / 1000
    assert "x-ratelimit-remaining-tokens" in headers
    assert server.stats.rate_limited == 1 and server.stats.completions == 1


def test_latency_draws_are_seeded_with_the_median_asked_and_a_long_tail() -> None:
    draws = [Latency(3.0, 0.5, seed=4).draw() for _ in range(1)]
    again = Latency(3.0, 0.5, seed=4)
    many = [again.draw() for _ in range(4000)]
    assert many[0] == draws[0], "the same seed gives the same draws"
    assert statistics.median(many) == pytest.approx(3.0, rel=0.05)
    assert max(many) > 3 * 3.0, "a long tail"
    assert Latency(2.0).draw() == 2.0 and not Latency(0.0)


def test_serve_enforces_the_limits_and_latency_it_is_given_and_says_so() -> None:
    port = free_port()
    command = [sys.executable, "-m", "summarizer", "serve", "--recordings", str(RECORDINGS), "--port", str(port),
               "--tpm", "40000", "--rpm", "100", "--latency", "0.2", "--latency-spread", "0.5", "--latency-seed", "3",
               "--batch-outcome", "expired", "--batch-failed-lines", "2"]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        assert proc.stderr is not None
        banner = [proc.stderr.readline().strip() for _ in range(5)]
        assert banner[2:] == [
            "latency: lognormal, median 0.2 s, spread 0.5 (seed 3)",
            "limits: 100 requests and 40,000 tokens per 60 s, enforced with 429s",
            "batches: expired after 0 s, 2 failed and 0 invalid line(s) each",
        ]
        article = load_articles([ARTICLES / "004_29d29f48ff22ceaf.txt"]).articles[0]
        messages = [{"role": "user", "content": f"Extract.\n<article_text>\n{article.text}\n</article_text>"}]
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=FAKE_KEY, max_retries=0)
        answered = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        assert answered.headers["x-ratelimit-limit-requests"] == "100"
        assert answered.headers["x-ratelimit-remaining-requests"] == "99"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
