"""How wrong is this node's clock? An estimate from the times its peers' messages carry.

A Raspberry Pi without network time boots with the time it had when it was switched off: in a
blackout its clock can be days behind. With a wrong clock a node refuses valid messages as
future-dated or expired, and dates its own so that every other node refuses them. Instead it
estimates the offset from what it receives (SPEC.md 11a.7)::

    sample   = (source, remote time, local time at reception)
    per source: the largest (remote - local) among its recent samples
                (a message is never received before it is created: lateness only lowers it)
    offset   = the median over the sources (trusted ones only, when there are enough)
    network now = local now + offset

A minority of sources with wrong or lying clocks cannot move the median beyond the honest
ones. Sources are the authors of messages received by *live* push (never a bundle or a
catch-up, whose messages are old), with their signature checked before the time is, and the
clock readings peers give in a sync handshake. The estimate is used for everything time
decides: the receiver rules, the board, and ``created`` of the messages the node sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "DEADBAND",
    "MIN_SOURCES",
    "NO_ESTIMATE",
    "WINDOW",
    "ClockEstimate",
    "ClockObserver",
    "ClockSample",
    "estimate_offset",
]

#: Distinct sources needed before the local clock is corrected.
MIN_SOURCES = 3
#: Offsets smaller than this (seconds) are left alone: network delay, not a wrong clock.
DEADBAND = 120
#: Samples older than this (seconds, local time) are forgotten; a node that sets its clock
#: clears its observer.
WINDOW = 6 * 3600
_SAMPLES_PER_SOURCE = 8


@dataclass(frozen=True, slots=True)
class ClockSample:
    source: bytes  # the author's key (or a peer's, for a handshake reading)
    remote: int  # the time it gave: a message's ``created``
    local: int  # this node's clock when it arrived


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    #: Seconds to add to the local clock (0 when unsure or within :data:`DEADBAND`).
    offset: int
    #: The median found, before the dead band.
    measured: int
    sources: int
    #: Whether only trusted (vouched) sources were used.
    trusted: bool
    #: Median absolute deviation of the sources around the median, in seconds.
    spread: int

    def now(self, local_now: int) -> int:
        """The network's time when the local clock reads ``local_now``."""
        return local_now + self.offset


NO_ESTIMATE = ClockEstimate(0, 0, 0, False, 0)


def estimate_offset(
    samples: Iterable[ClockSample],
    *,
    trusted: Callable[[bytes], bool] = lambda key: False,
    min_sources: int = MIN_SOURCES,
) -> ClockEstimate:
    """The clock offset that ``samples`` show (see the module docstring). ``trusted`` says
    which sources are vouched: they alone decide when there are ``min_sources`` of them, so
    that unvouched keys, free to make, cannot outvote them."""
    best: dict[bytes, int] = {}
    for s in samples:
        diff = s.remote - s.local
        if s.source not in best or diff > best[s.source]:
            best[s.source] = diff
    chosen = [d for key, d in best.items() if trusted(key)]
    is_trusted = len(chosen) >= min_sources
    if not is_trusted:
        chosen = list(best.values())
    if len(chosen) < min_sources:
        return ClockEstimate(0, 0, len(chosen), False, 0)
    measured = _median(chosen)
    spread = _median([abs(d - measured) for d in chosen])
    offset = measured if abs(measured) > DEADBAND else 0
    return ClockEstimate(offset, measured, len(chosen), is_trusted, spread)


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) // 2


class ClockObserver:
    """The recent samples of a node, bounded in memory: the latest few of each source, and
    at most ``max_sources`` sources (the least recently heard are dropped)."""

    def __init__(self, *, max_sources: int = 256, window: int = WINDOW) -> None:
        self.max_sources = max_sources
        self.window = window
        self._samples: dict[bytes, list[ClockSample]] = {}

    def observe(self, source: bytes, remote: int, local: int) -> None:
        """Record one reading: a message's author and ``created`` (signature checked, before
        the time checks refuse it), or a peer's clock in a handshake."""
        kept = self._samples.pop(source, [])
        kept.append(ClockSample(source, remote, local))
        self._samples[source] = kept[-_SAMPLES_PER_SOURCE:]  # most recent source last
        while len(self._samples) > self.max_sources:
            del self._samples[next(iter(self._samples))]

    def clear(self) -> None:
        """Forget every sample: the local clock was set."""
        self._samples.clear()

    def samples(self, *, local_now: int) -> list[ClockSample]:
        oldest = local_now - self.window
        return [s for kept in self._samples.values() for s in kept if s.local >= oldest]

    def estimate(
        self, *, local_now: int, trusted: Callable[[bytes], bool] = lambda key: False
    ) -> ClockEstimate:
        """The estimate from the samples of the last :data:`WINDOW` seconds."""
        return estimate_offset(self.samples(local_now=local_now), trusted=trusted)
