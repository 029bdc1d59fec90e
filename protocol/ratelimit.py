"""Per-author rate limits: one token bucket per author key, bounded memory.

A node checks every message it receives from a neighbour against its author's bucket after
the signature and the receiver's rules (so a forger cannot spend someone else's tokens) and
before storing or forwarding it. A bucket holds at most ``burst`` tokens, refills at
``per_hour`` tokens an hour, and each accepted message takes one token; a refused message
takes none, so a copy that arrives again later through another neighbour can still pass.

Defaults (:data:`DEFAULT_LIMIT`): a burst of 30 messages, then 120 an hour (one every 30 s),
the "household" class of SPEC.md 11a.6. In a crisis a household posts a check-in, a few help
requests or offers, claims, resolutions and comments: a few dozen messages on its busiest
day, often typed in a rush when the network comes back, hence the generous burst. A
volunteer posting check-ins on behalf of a whole street gets 30 at once and then two a
minute. Stricter or looser classes (unvouched keys, relays, coordinators, the official-alert
bridge) come from the trust model through the ``limit_for`` hook: any object with ``burst``
and ``per_hour`` fits, such as ``protocol.trust.RateLimit``.

Memory is bounded by ``max_authors`` buckets, least recently used evicted first. Evicting a
bucket forgives its author: the next message starts from a full bucket. The least recently
used author has usually been idle long enough for its bucket to be full again, which is the
same as having none (``statistics().evicted_not_full`` counts the other cases). The limit per
author does not stop someone who makes many keys: that is the trust model's job (unvouched
keys get a smaller class).

Pure: time is a parameter (seconds, from a monotonic clock); no I/O, no clock of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .errors import PeerError, UsageError

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_MAX_AUTHORS",
    "BucketLimit",
    "Limit",
    "RateLimited",
    "RateLimiter",
    "RateLimiterStatistics",
]

SECONDS_PER_HOUR = 3600.0


class BucketLimit(Protocol):
    """What a bucket needs to know about its author's class."""

    @property
    def burst(self) -> int: ...

    @property
    def per_hour(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Limit:
    """A bucket of ``burst`` messages refilled at ``per_hour`` messages an hour."""

    burst: int
    per_hour: int

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_hour < 0:
            raise UsageError(
                f"a rate limit needs a burst >= 1 and per_hour >= 0, got {self.burst}, "
                f"{self.per_hour}"
            )


#: A household's busiest crisis day fits in it (see the module docstring).
DEFAULT_LIMIT = Limit(burst=30, per_hour=120)
#: ~100 bytes a bucket: about 1 MB at most.
DEFAULT_MAX_AUTHORS = 10_000


class RateLimited(PeerError):
    """An author sent more messages than its rate limit allows; the rest are dropped."""

    code = "rate-limited"


@dataclass(frozen=True, slots=True)
class RateLimiterStatistics:
    allowed: int
    denied: int
    authors: int  # buckets held now
    evicted: int  # buckets dropped to keep memory bounded
    evicted_not_full: int  # ...of which the author had not refilled yet (forgiven)


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


def _refilled(bucket: _Bucket, limit: BucketLimit, now: float) -> float:
    # A clock that goes backwards never adds tokens (and never takes any).
    elapsed = max(0.0, now - bucket.updated)
    return min(float(limit.burst), bucket.tokens + elapsed * limit.per_hour / SECONDS_PER_HOUR)


class RateLimiter:
    """Token buckets per author key.

    ``limit_for(author)`` gives an author's class, or None for ``default``; it is asked on
    every check, so a class that changes (a key vouched for, or revoked) applies at once.
    When an author's burst shrinks, its saved tokens shrink with it.
    """

    def __init__(
        self,
        default: BucketLimit = DEFAULT_LIMIT,
        *,
        max_authors: int = DEFAULT_MAX_AUTHORS,
        limit_for: Callable[[bytes], BucketLimit | None] | None = None,
    ) -> None:
        if max_authors < 1:
            raise UsageError(f"a rate limiter needs max_authors >= 1, got {max_authors}")
        self.default = default
        self.max_authors = max_authors
        self.limit_for = limit_for
        self._buckets: OrderedDict[bytes, _Bucket] = OrderedDict()
        self._allowed = 0
        self._denied = 0
        self._evicted = 0
        self._evicted_not_full = 0

    def limit_of(self, author: bytes) -> BucketLimit:
        """The limit that applies to ``author`` now."""
        if self.limit_for is not None:
            limit = self.limit_for(author)
            if limit is not None:
                return limit
        return self.default

    def tokens(self, author: bytes, now: float) -> float:
        """How many messages ``author`` may send right now (without taking any)."""
        limit = self.limit_of(author)
        bucket = self._buckets.get(author)
        return float(limit.burst) if bucket is None else _refilled(bucket, limit, now)

    def allow(self, author: bytes, now: float) -> bool:
        """Take one token from ``author``'s bucket if there is one; say whether there was."""
        limit = self.limit_of(author)
        bucket = self._buckets.get(author)
        if bucket is None:
            bucket = self._add(author, limit, now)
        else:
            self._buckets.move_to_end(author)
            bucket.tokens = _refilled(bucket, limit, now)
            bucket.updated = max(bucket.updated, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            self._allowed += 1
            return True
        self._denied += 1
        return False

    def check(self, author: bytes, now: float) -> None:
        """Like :meth:`allow`, but raise :class:`RateLimited` (saying which limit) if not."""
        if not self.allow(author, now):
            limit = self.limit_of(author)
            raise RateLimited(
                f"message from {author[:4].hex()}…: over its rate limit "
                f"({limit.burst} at once, then {limit.per_hour} an hour)"
            )

    def statistics(self) -> RateLimiterStatistics:
        return RateLimiterStatistics(
            allowed=self._allowed,
            denied=self._denied,
            authors=len(self._buckets),
            evicted=self._evicted,
            evicted_not_full=self._evicted_not_full,
        )

    def _add(self, author: bytes, limit: BucketLimit, now: float) -> _Bucket:
        while len(self._buckets) >= self.max_authors:
            oldest_author, oldest = self._buckets.popitem(last=False)
            self._evicted += 1
            oldest_limit = self.limit_of(oldest_author)
            if _refilled(oldest, oldest_limit, now) < oldest_limit.burst:
                self._evicted_not_full += 1
        bucket = _Bucket(float(limit.burst), now)
        self._buckets[author] = bucket
        return bucket
