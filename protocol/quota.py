"""Per-author storage quotas: how many live messages (and bytes) of one key a node keeps.

The rate limits of protocol/ratelimit.py slow an author down; they do not bound what it
leaves in a node's store, since a message refused now may be offered again later, by catch-up
or in a bundle, and a patient author (or an old bundle) can fill a store with valid, signed
messages. So every node also caps, per author key, the **live** messages it holds: not
expired at the receiver's ``now``, counted with their raw sizes (SPEC.md 11a.6).

The rule, the same on every node so that nodes agree on what they store and forward:

- the author's class (protocol/trust.py ``RateLimit.max_live``, ``max_live_bytes``) sets
  the quota: 100 messages / 64 KiB for an unvouched key up to 5000 / 2 MiB for a
  coordinator; a bridge's official key gets 2000 / 2 MiB;
- a message that would take its author's live messages past the quota is **refused**
  (:class:`OverQuota`, a :class:`~protocol.errors.PeerError`): it is neither stored nor
  forwarded. What the node already holds is never deleted to make room, neither the author's
  nor anyone else's, so the newest message of an over-quota author is the one that goes;
- **priority** messages (:data:`PRIORITY_KINDS`: alerts, retractions, revocations) are
  counted apart, in a pool of a quarter of the quota (:data:`PRIORITY_RESERVE`), so an
  author whose ordinary messages fill its quota can still raise an alert, withdraw something
  or revoke its lost key. Two pools decided by the kind alone, and each counting only its
  own, also make the rule independent of arrival order across pools: nodes that got an
  author's messages in different orders refuse the same ones, save the order within a pool;
- the quota frees itself as the author's messages expire (nothing lives more than 400 days,
  most kinds a few days).

Pure: the caller counts the author's live messages (:class:`Usage`) and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .envelope import Envelope
from .errors import PeerError
from .kinds import Kind

__all__ = [
    "PRIORITY_KINDS",
    "PRIORITY_RESERVE",
    "OverQuota",
    "QuotaLimit",
    "Usage",
    "check_quota",
    "is_priority",
    "quota_of",
]

#: The kinds counted in the priority pool.
PRIORITY_KINDS = frozenset({Kind.ALERT, Kind.RETRACTION, Kind.REVOKE})
#: The priority pool is the quota divided by this: a quarter.
PRIORITY_RESERVE = 4


class QuotaLimit(Protocol):
    """What a quota needs to know about an author's class (``protocol.trust.RateLimit``)."""

    @property
    def max_live(self) -> int: ...

    @property
    def max_live_bytes(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Usage:
    """An author's live messages held by a node: how many, and their raw bytes."""

    count: int = 0
    bytes: int = 0

    def plus(self, size: int) -> Usage:
        return Usage(self.count + 1, self.bytes + size)


class OverQuota(PeerError):
    """A message would take its author past its storage quota: refused, not forwarded."""

    code = "over-quota"


def is_priority(env: Envelope) -> bool:
    """Whether ``env`` counts in its author's priority pool: what must get through even from
    a key that has posted a lot (an alert, a withdrawal, a revocation)."""
    return env.kind in PRIORITY_KINDS


def quota_of(limit: QuotaLimit, *, priority: bool) -> Usage:
    """The most live messages and bytes an author of this class may hold in one pool."""
    if not priority:
        return Usage(limit.max_live, limit.max_live_bytes)
    return Usage(limit.max_live // PRIORITY_RESERVE, limit.max_live_bytes // PRIORITY_RESERVE)


def check_quota(env: Envelope, usage: Usage, limit: QuotaLimit) -> None:
    """Raise :class:`OverQuota` if storing ``env`` would take its author, who holds
    ``usage`` already in ``env``'s pool (``env`` not included), past its quota."""
    priority = is_priority(env)
    cap = quota_of(limit, priority=priority)
    after = usage.plus(len(env.raw))
    if after.count <= cap.count and after.bytes <= cap.bytes:
        return
    params = {
        "kind": env.kind.name.lower(),
        "author": env.author[:4].hex(),
        "count": usage.count,
        "size": usage.bytes,
        "max_count": cap.count,
        "max_size": cap.bytes,
    }
    if priority:
        raise OverQuota.tr(
            "{kind} from {author}…: its author already has {count} live alerts, retractions "
            "and revocations ({size} bytes) here; its class keeps at most {max_count} "
            "({max_size} bytes)",
            **params,
        )
    raise OverQuota.tr(
        "{kind} from {author}…: its author already has {count} live messages ({size} bytes) "
        "here; its class keeps at most {max_count} ({max_size} bytes)",
        **params,
    )
