"""Per-author token buckets (protocol/ratelimit.py): time is a parameter, memory is bounded."""

from __future__ import annotations

import pytest

from protocol.errors import PeerError, UsageError
from protocol.ratelimit import (
    DEFAULT_LIMIT,
    Limit,
    RateLimited,
    RateLimiter,
)

ALICE = b"\xaa" * 32
BOB = b"\xbb" * 32


def test_a_burst_passes_then_the_sustained_rate_applies() -> None:
    limiter = RateLimiter(Limit(burst=3, per_hour=360))  # one token every 10 s
    assert [limiter.allow(ALICE, 0.0) for _ in range(4)] == [True, True, True, False]
    assert not limiter.allow(ALICE, 9.9)
    assert limiter.allow(ALICE, 10.0)
    assert not limiter.allow(ALICE, 10.0)
    # Idle long enough: the bucket is full again, never fuller.
    assert limiter.tokens(ALICE, 10_000.0) == 3.0


def test_authors_have_separate_buckets() -> None:
    limiter = RateLimiter(Limit(burst=1, per_hour=1))
    assert limiter.allow(ALICE, 0.0)
    assert not limiter.allow(ALICE, 0.0)
    assert limiter.allow(BOB, 0.0)


def test_a_refused_message_takes_no_token() -> None:
    limiter = RateLimiter(Limit(burst=1, per_hour=3600))  # one a second
    assert limiter.allow(ALICE, 0.0)
    for _ in range(100):
        assert not limiter.allow(ALICE, 0.5)
    assert limiter.allow(ALICE, 1.0)


def test_the_default_is_a_crisis_household() -> None:
    limiter = RateLimiter()
    assert limiter.default == DEFAULT_LIMIT == Limit(burst=30, per_hour=120)
    assert sum(limiter.allow(ALICE, 0.0) for _ in range(40)) == 30
    assert sum(limiter.allow(ALICE, 60.0) for _ in range(5)) == 2  # two a minute after


def test_a_clock_going_backwards_adds_nothing_and_breaks_nothing() -> None:
    limiter = RateLimiter(Limit(burst=2, per_hour=3600))
    assert limiter.allow(ALICE, 100.0)
    assert limiter.allow(ALICE, 100.0)
    assert not limiter.allow(ALICE, 50.0)  # earlier than the last check
    assert not limiter.allow(ALICE, 100.5)
    assert limiter.allow(ALICE, 101.0)


def test_check_raises_a_peer_error_naming_the_limit() -> None:
    limiter = RateLimiter(Limit(burst=1, per_hour=60))
    limiter.check(ALICE, 0.0)
    with pytest.raises(RateLimited) as caught:
        limiter.check(ALICE, 0.0)
    assert isinstance(caught.value, PeerError)
    assert caught.value.code == "rate-limited"
    assert "aaaaaaaa…" in str(caught.value) and "1 at once, then 60 an hour" in str(caught.value)


def test_limit_for_gives_a_class_per_author_asked_on_every_check() -> None:
    strict = Limit(burst=1, per_hour=0)
    classes: dict[bytes, Limit] = {BOB: strict}
    limiter = RateLimiter(Limit(burst=5, per_hour=0), limit_for=classes.get)
    assert limiter.limit_of(ALICE).burst == 5 and limiter.limit_of(BOB) is strict
    assert [limiter.allow(BOB, 0.0) for _ in range(2)] == [True, False]
    assert sum(limiter.allow(ALICE, 0.0) for _ in range(9)) == 5


def test_a_shrinking_burst_caps_saved_tokens() -> None:
    classes: dict[bytes, Limit] = {ALICE: Limit(burst=10, per_hour=0)}
    limiter = RateLimiter(limit_for=classes.get)
    assert limiter.allow(ALICE, 0.0)  # 9 left
    classes[ALICE] = Limit(burst=2, per_hour=0)
    assert limiter.tokens(ALICE, 0.0) == 2.0
    assert [limiter.allow(ALICE, 0.0) for _ in range(3)] == [True, True, False]


def test_any_object_with_burst_and_per_hour_is_a_limit() -> None:
    class TrustClass:  # e.g. protocol.trust.RateLimit
        burst = 2
        per_hour = 0
        max_live = 100

    limiter = RateLimiter(TrustClass())
    assert [limiter.allow(ALICE, 0.0) for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_least_recently_used_evicted_first() -> None:
    limiter = RateLimiter(Limit(burst=1, per_hour=3600), max_authors=3)
    authors = [bytes([i]) * 32 for i in range(5)]
    for author in authors[:3]:
        assert limiter.allow(author, 0.0)
    assert limiter.allow(authors[0], 10.0)  # refreshed: authors[1] is now the oldest
    assert limiter.allow(authors[3], 10.0)
    stats = limiter.statistics()
    assert stats.authors == 3 and stats.evicted == 1 and stats.evicted_not_full == 0
    # authors[1] was evicted (full again anyway); authors[2] is still held, and empty at 0.5.
    assert limiter.tokens(authors[1], 0.5) == 1.0
    limiter.allow(authors[4], 0.5)  # evicts authors[2], which had not refilled yet
    assert limiter.statistics().evicted_not_full == 1
    assert limiter.statistics().authors == 3


def test_statistics_count_decisions() -> None:
    limiter = RateLimiter(Limit(burst=2, per_hour=0))
    for _ in range(5):
        limiter.allow(ALICE, 0.0)
    stats = limiter.statistics()
    assert (stats.allowed, stats.denied, stats.authors) == (2, 3, 1)


@pytest.mark.parametrize(("burst", "per_hour"), [(0, 10), (-1, 10), (1, -1)])
def test_a_nonsense_limit_is_our_own_mistake(burst: int, per_hour: int) -> None:
    with pytest.raises(UsageError):
        Limit(burst=burst, per_hour=per_hour)


def test_max_authors_must_be_positive() -> None:
    with pytest.raises(UsageError):
        RateLimiter(max_authors=0)
