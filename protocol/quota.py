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
- a **priority** message (:func:`is_priority`: an alert that is not an exercise, a critical
  help request, an "injured" check-in, a retraction, a revocation) may use a reserve of a
  quarter more (:data:`PRIORITY_RESERVE`): an author whose ordinary messages fill its quota
  can still raise an alert, withdraw something or revoke its lost key;
- the quota frees itself as the author's messages expire (nothing lives more than 400 days,
  most kinds a few days).

Pure: the caller counts the author's live messages (:class:`Usage`) and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .envelope import Envelope
from .errors import PeerError
from .kinds import CheckInStatus, Kind, RequestUrgency

__all__ = [
    "PRIORITY_RESERVE",
    "OverQuota",
    "QuotaLimit",
    "Usage",
    "check_quota",
    "is_priority",
    "quota_of",
]

#: A priority message may take its author this far past its quota: 1/4 more.
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
    """Whether ``env`` may use its author's reserve: what must get through even from a key
    that has posted a lot (an alert, a critical request, an injury, a withdrawal)."""
    kind, body = env.kind, env.body
    if kind in (Kind.RETRACTION, Kind.REVOKE):
        return True
    if kind is Kind.ALERT:
        return not getattr(body, "exercise", False)
    if kind is Kind.HELP_REQUEST:
        return getattr(body, "urgency", None) is RequestUrgency.CRITICAL
    if kind is Kind.CHECKIN:
        return getattr(body, "status", None) is CheckInStatus.INJURED
    return False


def quota_of(limit: QuotaLimit, *, priority: bool) -> Usage:
    """The most live messages and bytes an author of this class may hold, for a priority
    message or another one."""
    if not priority:
        return Usage(limit.max_live, limit.max_live_bytes)
    return Usage(
        limit.max_live + limit.max_live // PRIORITY_RESERVE,
        limit.max_live_bytes + limit.max_live_bytes // PRIORITY_RESERVE,
    )


def check_quota(env: Envelope, usage: Usage, limit: QuotaLimit) -> None:
    """Raise :class:`OverQuota` if storing ``env`` would take its author, who holds
    ``usage`` already (``env`` not included), past its quota."""
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
            "{kind} from {author}…: its author already has {count} live messages ({size} "
            "bytes) here; even with the priority reserve its class keeps at most {max_count} "
            "({max_size} bytes)",
            **params,
        )
    raise OverQuota.tr(
        "{kind} from {author}…: its author already has {count} live messages ({size} bytes) "
        "here; its class keeps at most {max_count} ({max_size} bytes)",
        **params,
    )
