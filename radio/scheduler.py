"""Airtime scheduler for the LoRa link: which frame to transmit next, within the duty cycle.

Pure: no meshtastic import, no clock (times are passed in, in seconds). The radio adapter
asks :meth:`AirtimeScheduler.next_to_send` for a frame whenever the radio is free, and sleeps
until :meth:`AirtimeScheduler.wait_until` otherwise.

Rules (SPEC.md 11.7):

- every frame's airtime comes from the modem preset (``radio.airtime``), for the whole LoRa
  frame it makes: 16-byte header, ``Data`` protobuf (port, payload, bitfield);
- a rolling-hour ledger counts every transmission, our own and the relays the radio reports;
  a frame never goes out if it would take the hour past the region's duty cycle: the
  scheduler refuses, and says when it can send again, rather than let the firmware drop it;
- priority classes (:class:`~protocol.radio_frame.RadioPriority`): URGENT before NORMAL
  before CHECKIN, first come first served within a class; a message *starts* only while
  the hour's use, with all its frames, stays under its class's share of the budget (URGENT
  100 %, NORMAL 70 %, CHECKIN 50 %), which keeps a reserve for alerts; once started, its
  remaining frames follow (an urgent message may pass in between);
- CHECKIN items are coalesced: only the latest check-in of a household waits in the queue;
- BULK is never sent over LoRa;
- the queue is bounded: when full, the oldest item of the lowest class goes (reported), or
  the new item is refused if everything waiting matters more.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from protocol.envelope import Envelope
from protocol.radio_frame import (
    RADIO_PORT,
    KeyBook,
    RadioPriority,
    encode_frames,
    radio_coalesce_key,
)

from .airtime import (
    DEFAULT_PRESET,
    DEFAULT_REGION,
    MAX_PRIVATE_PAYLOAD_BYTES,
    MESH_HEADER_BYTES,
    PRESETS,
    REGIONS,
    DutyCycleLedger,
    ModemPreset,
    Region,
    airtime_s,
)

__all__ = [
    "DEFAULT_SHARES",
    "AirtimeScheduler",
    "DropReason",
    "Dropped",
    "Outgoing",
    "Queued",
    "RefuseReason",
    "Refused",
    "SchedulerStatistics",
    "Transmission",
    "lora_frame_bytes",
]

#: Share of the duty-cycle budget a message of each class may start within.
DEFAULT_SHARES: Mapping[RadioPriority, float] = {
    RadioPriority.URGENT: 1.0,
    RadioPriority.NORMAL: 0.7,
    RadioPriority.CHECKIN: 0.5,
}


def _varint_bytes(value: int) -> int:
    return max(1, math.ceil(value.bit_length() / 7))


#: Data protobuf around a payload: portnum (tag and varint), payload tag, and the bitfield
#: the firmware always sets (tag and one byte); the payload's length varint comes on top.
_DATA_FIXED_BYTES = 1 + _varint_bytes(RADIO_PORT) + 1 + 2


def lora_frame_bytes(payload_bytes: int) -> int:
    """The whole LoRa frame that carries ``payload_bytes`` on our port: header and Data."""
    return MESH_HEADER_BYTES + _DATA_FIXED_BYTES + _varint_bytes(payload_bytes) + payload_bytes


class RefuseReason(enum.StrEnum):
    BULK = "bulk"  # never over LoRa
    TOO_LARGE = "too-large"  # more airtime than its class may ever use, or a frame too long
    DUPLICATE = "duplicate"  # already waiting
    SUPERSEDED = "superseded"  # a later check-in of the same household is already waiting
    QUEUE_FULL = "queue-full"  # everything waiting matters more


class DropReason(enum.StrEnum):
    EVICTED = "evicted"  # the queue was full and something more important came
    SUPERSEDED = "superseded"  # replaced by a later check-in of the same household
    DEADLINE = "deadline"  # not sent in time (the message expired)


@dataclass(frozen=True)
class Outgoing:
    """A message to transmit: its frames, in order, and what the queue needs to know.

    ``coalesce``: items with the same key replace each other, the greatest ``order`` winning
    (check-ins: the household, ordered by ``(created, id)``). ``deadline``: dropped if not
    sent by then.
    """

    frames: tuple[bytes, ...]
    id: bytes
    coalesce: Hashable | None = None
    order: tuple[int, bytes] = (0, b"")
    deadline: float | None = None

    @classmethod
    def from_envelope(cls, env: Envelope, *, keys: KeyBook | None = None) -> Outgoing:
        """The frames of ``env`` (its author abbreviated if ``keys`` allows), until it expires."""
        return cls(
            frames=encode_frames(env, keys=keys),
            id=env.id,
            coalesce=radio_coalesce_key(env),
            order=(env.created, env.id),
            deadline=float(env.expires),
        )


@dataclass(frozen=True)
class Dropped:
    item: Outgoing
    priority: RadioPriority
    reason: DropReason


@dataclass(frozen=True)
class Queued:
    item: Outgoing
    priority: RadioPriority
    airtime_s: float  # of all its frames
    dropped: tuple[Dropped, ...] = ()  # what it pushed out of the queue


@dataclass(frozen=True)
class Refused:
    item: Outgoing
    priority: RadioPriority
    reason: RefuseReason
    detail: str


@dataclass(frozen=True)
class Transmission:
    """A frame to hand to the radio now."""

    frame: bytes
    item: Outgoing
    priority: RadioPriority
    index: int
    count: int
    airtime_s: float


@dataclass(frozen=True)
class SchedulerStatistics:
    now: float  # the latest time the scheduler was given
    budget_s: float  # transmit seconds allowed per window
    used_s: float  # spent in the window ending at ``now`` (own frames and relays)
    queued: Mapping[RadioPriority, int]
    sent_frames: Mapping[RadioPriority, int]
    sent_airtime_s: Mapping[RadioPriority, float]
    relay_airtime_s: float
    refused: Mapping[RefuseReason, int]
    dropped: Mapping[DropReason, int]

    @property
    def fraction(self) -> float:
        """Share of the budget spent in the current window."""
        return self.used_s / self.budget_s


@dataclass
class _Entry:
    item: Outgoing
    priority: RadioPriority
    seq: int
    airtimes: tuple[float, ...]
    sent: int = 0

    @property
    def remaining_s(self) -> float:
        return sum(self.airtimes[self.sent :])

    def sort_key(self) -> tuple[int, int]:
        return (self.priority, self.seq)


@dataclass
class _Counters:
    sent_frames: dict[RadioPriority, int] = field(default_factory=dict)
    sent_airtime: dict[RadioPriority, float] = field(default_factory=dict)
    relay_airtime: float = 0.0
    refused: dict[RefuseReason, int] = field(default_factory=dict)
    dropped: dict[DropReason, int] = field(default_factory=dict)


class AirtimeScheduler:
    """Frames in by message and priority, out one at a time within the duty cycle."""

    def __init__(
        self,
        *,
        preset: ModemPreset | None = None,
        region: Region | None = None,
        shares: Mapping[RadioPriority, float] = DEFAULT_SHARES,
        max_items: int = 64,
        ledger: DutyCycleLedger | None = None,
    ) -> None:
        self.preset = preset or PRESETS[DEFAULT_PRESET]
        self.region = region or REGIONS[DEFAULT_REGION]
        self.ledger = ledger or DutyCycleLedger(self.region.duty_cycle)
        if max_items < 1:
            raise ValueError("the queue holds at least one message")
        if set(shares) != set(DEFAULT_SHARES) or not all(0 < s <= 1 for s in shares.values()):
            raise ValueError("shares: a fraction in (0, 1] for URGENT, NORMAL and CHECKIN")
        self.shares = dict(shares)
        self.max_items = max_items
        self.budget_s = self.region.duty_cycle * self.ledger.window_s
        self._queue: list[_Entry] = []
        self._seq = 0
        self._busy_until = -math.inf
        self._now = -math.inf
        self._dropped: list[Dropped] = []
        self._counts = _Counters()

    # --- queueing -----------------------------------------------------------------------------

    def enqueue(self, item: Outgoing, priority: RadioPriority, now: float) -> Queued | Refused:
        """Queue ``item``; a :class:`Refused` says why not (nothing is queued then)."""
        self._tick(now)
        if priority is RadioPriority.BULK:
            return self._refuse(item, priority, RefuseReason.BULK, "bulk is never sent by radio")
        if not item.frames or any(len(f) > MAX_PRIVATE_PAYLOAD_BYTES for f in item.frames):
            return self._refuse(
                item, priority, RefuseReason.TOO_LARGE, "frames of 1..231 bytes are needed"
            )
        airtimes = tuple(self.frame_airtime_s(f) for f in item.frames)
        cap = self.shares[priority] * self.budget_s
        if sum(airtimes) > cap:
            return self._refuse(
                item,
                priority,
                RefuseReason.TOO_LARGE,
                f"{sum(airtimes):.1f} s of airtime, more than the {cap:.0f} s "
                f"{priority.name} traffic may use per hour",
            )
        if any(e.item.id == item.id for e in self._queue):
            return self._refuse(item, priority, RefuseReason.DUPLICATE, "already queued")
        seq = self._seq
        dropped: list[Dropped] = []
        if item.coalesce is not None:
            same = [e for e in self._queue if e.item.coalesce == item.coalesce and e.sent == 0]
            if any(e.item.order >= item.order for e in same):
                return self._refuse(
                    item, priority, RefuseReason.SUPERSEDED, "a later one is already queued"
                )
            for entry in same:  # the newer one takes the place in line of what it replaces
                seq = min(seq, entry.seq)
                dropped.append(self._drop(entry, DropReason.SUPERSEDED))
        if len(self._queue) >= self.max_items:
            victim = self._eviction_candidate(priority)
            if victim is None:
                return self._refuse(
                    item, priority, RefuseReason.QUEUE_FULL, f"{len(self._queue)} waiting"
                )
            dropped.append(self._drop(victim, DropReason.EVICTED))
        if seq == self._seq:
            self._seq += 1
        self._queue.append(_Entry(item, priority, seq, airtimes))
        return Queued(item, priority, sum(airtimes), tuple(dropped))

    def _eviction_candidate(self, priority: RadioPriority) -> _Entry | None:
        """The oldest item of the lowest class, if that class is not above ``priority``;
        a message already started goes last."""
        lowest = max(e.priority for e in self._queue)
        if lowest < priority:
            return None
        candidates = [e for e in self._queue if e.priority == lowest]
        return min(candidates, key=lambda e: (e.sent > 0, e.seq))

    def _drop(self, entry: _Entry, reason: DropReason) -> Dropped:
        self._queue.remove(entry)
        self._counts.dropped[reason] = self._counts.dropped.get(reason, 0) + 1
        dropped = Dropped(entry.item, entry.priority, reason)
        self._dropped.append(dropped)
        return dropped

    def _refuse(
        self, item: Outgoing, priority: RadioPriority, reason: RefuseReason, detail: str
    ) -> Refused:
        self._counts.refused[reason] = self._counts.refused.get(reason, 0) + 1
        return Refused(item, priority, reason, detail)

    def take_dropped(self) -> list[Dropped]:
        """Every item dropped since the last call (evicted, superseded, past its deadline)."""
        dropped, self._dropped = self._dropped, []
        return dropped

    def cancel(self, message_id: bytes) -> bool:
        """Forget a queued message (it arrived by another path, or was retracted)."""
        for entry in self._queue:
            if entry.item.id == message_id:
                self._queue.remove(entry)
                return True
        return False

    # --- sending ------------------------------------------------------------------------------

    def frame_airtime_s(self, frame: bytes) -> float:
        return airtime_s(lora_frame_bytes(len(frame)), self.preset)

    def record_relay(self, now: float, payload_bytes: int) -> None:
        """Count a frame the radio relayed for others: relays spend this node's duty cycle."""
        self._tick(now)
        seconds = airtime_s(lora_frame_bytes(payload_bytes), self.preset)
        self.ledger.record(now, seconds)
        self._counts.relay_airtime += seconds

    def _head(self) -> _Entry | None:
        return min(self._queue, key=_Entry.sort_key, default=None)

    def _need(self, entry: _Entry) -> tuple[float, float]:
        """(airtime, the most the hour may hold with it) for the entry's next step."""
        if entry.sent:
            return entry.airtimes[entry.sent], self.budget_s
        return entry.remaining_s, self.shares[entry.priority] * self.budget_s

    def next_to_send(self, now: float) -> Transmission | None:
        """The frame to transmit at ``now``, counted as sent; None if nothing may go now."""
        self._tick(now)
        entry = self._head()
        if entry is None or now < self._busy_until:
            return None
        need, cap = self._need(entry)
        if self.ledger.used(now) + need > cap:
            return None
        index = entry.sent
        seconds = entry.airtimes[index]
        self.ledger.record(now, seconds)
        self._busy_until = now + seconds
        entry.sent += 1
        if entry.sent == len(entry.item.frames):
            self._queue.remove(entry)
        c = self._counts
        c.sent_frames[entry.priority] = c.sent_frames.get(entry.priority, 0) + 1
        c.sent_airtime[entry.priority] = c.sent_airtime.get(entry.priority, 0.0) + seconds
        return Transmission(
            entry.item.frames[index],
            entry.item,
            entry.priority,
            index,
            len(entry.item.frames),
            seconds,
        )

    def wait_until(self, now: float) -> float | None:
        """When :meth:`next_to_send` will have a frame (if nothing else is queued meanwhile);
        None when the queue is empty."""
        self._tick(now)
        entry = self._head()
        if entry is None:
            return None
        need, cap = self._need(entry)
        return max(now, self._busy_until, self._budget_allows(now, need, cap))

    def _budget_allows(self, now: float, need: float, cap: float) -> float:
        """The first time from ``now`` at which the window holds ``need`` more within ``cap``.

        The ledger only ever forgets whole buckets, at ``k × bucket + window``: try those
        instants in turn on a copy (asking the ledger itself about the future would make it
        forget the present).
        """
        if self.ledger.used(now) + need <= cap:
            return now
        future = copy.deepcopy(self.ledger)
        step, window = future.bucket_s, future.window_s
        k = math.floor((now - window) / step) + 1
        while True:
            t = max(now, k * step + window)
            if future.used(t) + need <= cap or future.used(t) == 0:
                return t
            k += 1

    def _tick(self, now: float) -> None:
        self._now = max(self._now, now)
        for entry in [e for e in self._queue if e.item.deadline is not None]:
            if entry.item.deadline is not None and entry.item.deadline <= now:
                self._drop(entry, DropReason.DEADLINE)

    def __len__(self) -> int:
        return len(self._queue)

    def queued_items(self) -> list[tuple[Outgoing, RadioPriority, int]]:
        """What waits, in sending order: (item, class, frames already sent)."""
        return [(e.item, e.priority, e.sent) for e in sorted(self._queue, key=_Entry.sort_key)]

    def statistics(self) -> SchedulerStatistics:
        queued = {p: 0 for p in DEFAULT_SHARES}
        for entry in self._queue:
            queued[entry.priority] += 1
        c = self._counts
        return SchedulerStatistics(
            now=self._now,
            budget_s=self.budget_s,
            used_s=self.ledger.used(self._now) if self._now > -math.inf else 0.0,
            queued=queued,
            sent_frames=dict(c.sent_frames),
            sent_airtime_s=dict(c.sent_airtime),
            relay_airtime_s=c.relay_airtime,
            refused=dict(c.refused),
            dropped=dict(c.dropped),
        )
