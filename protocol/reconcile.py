"""Catch-up reconciliation: two nodes learn which messages each lacks, then swap them.

Pure sans-I/O state machine for the ``/entraide/sync/1.0.0`` stream (SPEC.md section 10).

Design
------
Each side holds a set of 32-byte message ids. For one session they are mapped to 8-byte
**short ids** ``BLAKE2b-64(id, key=salt)``; the 16-byte salt is random and chosen by the
initiator, so nobody can grind messages whose short ids collide ahead of time.

1. The initiator opens with HELLO: its zone, the salt, its set size, a 12-byte whole-set
   fingerprint and a **difference sketch**: 16 buckets x up to 24 levels of 4-bit xors
   (an item falls in level L with probability 2^-(L+1)). XORing two sketches leaves a cell
   non-zero iff a differing item fell in it, so the pattern of empty cells gives a maximum
   likelihood estimate of d (about ±16 %) in ~128 bytes at 100,000 messages. Equal sets are
   recognised here: the responder answers "equal" and both say DONE.
2. The responder picks the cheapest plan from the estimate (and from d ≥ |n_I - n_R|):
   **coded cells** of a rateless invertible Bloom lookup table (cell i holds the xor of
   ``short id || checksum`` of each item drawn into it with probability about 2/(i+2); a
   peer peels the difference from about 1.4·d cells, whatever d is), or its whole short-id
   list when d is close to the set sizes, or it asks for the initiator's list when that is
   the smaller one (an empty or new node). It sends enough cells to decode with ~90 %
   probability in one go (the "rateless" part lets the initiator ask for MORE cells when
   unlucky, then fall back to id lists).
3. The side that learnt the difference (the **decoder**: the initiator for cells and for the
   responder's list, the responder for the initiator's list or equal sets) knows the full ids
   the peer lacks and the short ids it lacks itself. It sends NEED (truncated short ids),
   pushes the envelopes the peer lacks, then DONE. The other side answers with the needed
   envelopes, then DONE.

Cells need no count field: a pure cell's short id is on our side iff it is in our own set.
A cell is pure when its 4-byte checksum matches its short id and the short id's index
sequence contains the cell. After peeling, the sizes must match the announced set sizes.

Compared with range-based reconciliation (Negentropy: 1.36x the 32-byte-id floor clustered,
≈ 30x scattered), bytes scale with d whatever the differences' order: 0.87–1.06x the floor
for d=100 at 100,000 ids, clustered or scattered, in 2 round trips including the envelope
exchange (3 when a MORE is needed, ~3 % of scattered sessions), ~0.35 s of CPU per side.
The protocol is half-duplex: at any moment only one side has something to send, so a
blocking write never deadlocks. Each frame is bounded (``MAX_FRAME_BYTES``) and so is every
count the peer announces (``SyncLimits``). A collision of two short ids within one set
(probability ~2^-34 at 100,000 ids) drops one of them from this session only.

API (h11 style)
---------------
``SyncSession(ids, zone=..., initiator=..., salt=..., limits=SyncLimits())``: ``ids`` are the
32-byte ids of the live messages this node holds; the initiator passes 16 random bytes as
``salt``, the responder ``None``. Then:

- ``next_event()`` advances the machine and returns one event. All CPU work happens here
  (up to ~0.5 s at 100,000 ids: run it in a worker thread).

  * ``NeedData``: write ``data_to_send()``, then feed what the peer sends next.
  * ``SendEnvelopes(ids)``: look up the raw envelopes and pass them to ``send_envelopes``
    (skip those you no longer have); the next ``next_event()`` call requires it.
  * ``ReceivedEnvelopes(raws)``: untrusted bytes; verify and store them as from any peer.
  * ``Reconciled(we_lack, they_lack)``: (decoder side only) the difference is known.
  * ``Finished(stats)``: write ``data_to_send()`` one last time; the session is over.

- ``receive_data(data)``: bytes read from the stream; ``b""`` means the peer closed it.
- ``data_to_send()``: bytes to write now (possibly empty).
- ``statistics()``: a ``SyncStats`` snapshot (bytes, frames, flights, round trips).

``SyncError`` (a ``PeerError``) reports a peer breaking the protocol; ``data_to_send()``
then holds an ABORT frame telling it why (best effort), and the session is unusable.
``UsageError`` reports a caller's mistake. A node drives a session like this::

    session = SyncSession(ids, zone=zone, initiator=True, salt=secrets.token_bytes(16))
    while True:
        event = session.next_event()
        await stream.write(session.data_to_send())      # when not empty
        if isinstance(event, NeedData):
            session.receive_data(await stream.read(MAX_READ))
        elif isinstance(event, SendEnvelopes):
            session.send_envelopes(store.raw_envelopes(event.ids))
        elif isinstance(event, ReceivedEnvelopes):
            store.ingest(event.raws)
        elif isinstance(event, Finished):
            break
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import ClassVar

from .envelope import MAX_ENVELOPE_BYTES
from .errors import SyncError, UsageError

__all__ = [
    "CELL_BYTES",
    "MAX_FRAME_BYTES",
    "SALT_BYTES",
    "SHORT_ID_BYTES",
    "SYNC_PROTOCOL",
    "Event",
    "Finished",
    "FrameType",
    "NeedData",
    "ReceivedEnvelopes",
    "Reconciled",
    "SendEnvelopes",
    "SyncLimits",
    "SyncRefused",
    "SyncSession",
    "SyncStats",
    "cell_indices",
    "encode_cells",
    "refusal_frame",
    "short_ids",
    "sketch",
]

#: The libp2p protocol id of a catch-up stream.
SYNC_PROTOCOL = "/entraide/sync/1.0.0"
ID_BYTES = 32
SALT_BYTES = 16
SHORT_ID_BYTES = 8
CHECK_BYTES = 4
CELL_BYTES = SHORT_ID_BYTES + CHECK_BYTES
ZONE_BYTES = 4
#: Largest frame body (type byte + payload) a sender may write and a receiver accepts.
MAX_FRAME_BYTES = 65536
MAX_ABORT_TEXT = 200
#: An ABORT whose text starts with this, sent by a responder instead of REPLY, refuses the
#: session before any work (SPEC.md 10.4): a limit of the responder, not an error; try later.
BUSY_PREFIX = "busy: "

SID_PERSON = b"entraide sid v1"
CELL_PERSON = b"entraide cell v1"
SKETCH_BUCKETS = 16
SKETCH_LEVELS = 24
SKETCH_LEVEL_BYTES = SKETCH_BUCKETS // 2
#: Two odd 4-bit fingerprints (3 random bits) cancel with this probability.
NIBBLE_CANCEL = 1 / 8

#: Jump table: from cell i, an item's next cell is ((2i + 3) * JUMP[b]) >> 17 for a random
#: byte b, i.e. about (i + 1.5) / sqrt(u) with u = (b + 0.5) / 256 uniform: the item then
#: lands in cell i with probability about 2 / (i + 2) (0.44 in cells 1 and 2).
JUMP = tuple(math.isqrt((1 << 41) // (2 * b + 1)) for b in range(256))

#: Planning: estimate quantile used for the first batch of cells, and the cells that decode
#: d differences with ~90 % probability (fitted on simulations).
PLAN_QUANTILE = 0.8


def cells_for(d: float) -> int:
    """Cells that decode ``d`` differences with ~90 % probability."""
    return math.ceil(1.4 * d + 2.5 * math.sqrt(d)) + 1


class FrameType(IntEnum):
    HELLO = 1
    REPLY = 2
    CELLS = 3
    MORE = 4
    IDS = 5
    REQUEST_IDS = 6
    NEED = 7
    ENVELOPES = 8
    DONE = 9
    ABORT = 10


class Mode(IntEnum):
    """The responder's plan, in REPLY."""

    EQUAL = 0  # sets are equal: the responder says DONE
    CELLS = 1  # coded cells follow; the initiator decodes
    IDS = 2  # the responder's short ids follow; the initiator decodes
    SEND_IDS = 3  # the initiator sends its short ids; the responder decodes


# --- short ids, cells and sketches (the pure maths, usable on their own) ---------------------


_CELL_HASH = hashlib.blake2b(digest_size=64, person=CELL_PERSON)


class SyncRefused(SyncError):
    """The responder refused the session before any work (an ABORT starting with
    :data:`BUSY_PREFIX`): it has too many sessions, or this peer opened too many lately.
    Not the peer's fault nor ours: try again later."""

    code = "sync-refused"


def refusal_frame(reason: str) -> bytes:
    """The ABORT frame a responder sends, instead of REPLY and without reading the HELLO,
    to refuse a session: ``busy: <reason>`` (at most 200 bytes of UTF-8)."""
    text = (BUSY_PREFIX + reason).encode("utf-8")[:MAX_ABORT_TEXT]
    body = bytes((FrameType.ABORT,)) + text
    return _uvarint(len(body)) + body


def short_ids(ids: Iterable[bytes], salt: bytes) -> dict[int, bytes]:
    """Map each short id (as an int) to its full id; a colliding second id is left out."""
    return _hash_ids(ids, salt)[0]


def _hash_ids(ids: Iterable[bytes], salt: bytes) -> tuple[dict[int, bytes], _Items]:
    """Short ids of a set, and its items ready for encoding (one pass: the costly part)."""
    base = hashlib.blake2b(digest_size=SHORT_ID_BYTES, key=salt, person=SID_PERSON)
    table: dict[int, bytes] = {}
    items = _Items()
    values, jumps = items.values, items.jumps
    for message_id in ids:
        h = base.copy()
        h.update(message_id)
        digest = h.digest()
        sid = int.from_bytes(digest, "big")
        if sid in table:
            continue
        table[sid] = message_id
        h = _CELL_HASH.copy()
        h.update(digest + b"\0")
        block = h.digest()
        values.append((sid << 32) | int.from_bytes(block[:CHECK_BYTES], "big"))
        jumps.append(block[CHECK_BYTES:])
    return table, items


def _block(sid: int, counter: int) -> bytes:
    h = _CELL_HASH.copy()
    h.update(sid.to_bytes(SHORT_ID_BYTES, "big") + bytes((counter,)))
    return h.digest()


def _cell_value(sid: int) -> int:
    """What an item xors into each of its cells: short id || checksum, as a 96-bit int."""
    return (sid << 32) | int.from_bytes(_block(sid, 0)[:CHECK_BYTES], "big")


def cell_indices(sid: int, stop: int) -> Iterator[int]:
    """The cells (below ``stop``) an item of this short id is drawn into, in order."""
    index, counter = 0, 0
    jumps = _block(sid, 0)[CHECK_BYTES:]
    while True:
        for b in jumps:
            if index >= stop:
                return
            yield index
            index = ((2 * index + 3) * JUMP[b]) >> 17
        counter += 1
        if counter > 255:  # pragma: no cover - needs ~250 steps: beyond any index
            return
        jumps = _block(sid, counter)


class _Items:
    """One side's items for a session: values and jump bytes computed once."""

    __slots__ = ("jumps", "values")

    def __init__(self, sids: Iterable[int] = ()) -> None:
        self.values: list[int] = []
        self.jumps: list[bytes] = []
        for sid in sids:
            block = _block(sid, 0)
            self.values.append((sid << 32) | int.from_bytes(block[:CHECK_BYTES], "big"))
            self.jumps.append(block[CHECK_BYTES:])

    def cells(self, start: int, stop: int) -> list[int]:
        """Cells ``start`` to ``stop - 1`` of this set."""
        cells = [0] * (stop - start)
        for value, jumps in zip(self.values, self.jumps, strict=True):
            index = 0
            for b in jumps:
                if index >= start:
                    cells[index - start] ^= value
                index = ((2 * index + 3) * JUMP[b]) >> 17
                if index >= stop:
                    break
            else:  # the first block's jumps ran out before stop: rare, take the slow path
                for later in cell_indices(value >> 32, stop):
                    if later >= max(index, start):
                        cells[later - start] ^= value
        return cells


def encode_cells(sids: Iterable[int], start: int, stop: int) -> list[int]:
    """Cells ``start`` to ``stop - 1`` of a set of short ids (each a 96-bit int)."""
    return _Items(sids).cells(start, stop)


def sketch(sids: Iterable[int]) -> tuple[list[int], int]:
    """Difference sketch of a set: SKETCH_LEVELS x SKETCH_BUCKETS xors of odd 4-bit
    fingerprints, and how many levels hold items (those are the ones sent)."""
    cells = [0] * (SKETCH_LEVELS * SKETCH_BUCKETS)
    top = SKETCH_LEVELS - 1
    levels = 0
    for sid in sids:
        rest = sid >> 4
        level = min((rest & -rest).bit_length() - 1, top) if rest else top
        cells[level * SKETCH_BUCKETS + (sid & 15)] ^= (sid >> 60) | 1
        if level >= levels:
            levels = level + 1
    return cells, levels


def _pack_sketch(cells: Sequence[int], levels: int) -> bytes:
    out = bytearray()
    for k in range(0, levels * SKETCH_BUCKETS, 2):
        out.append(cells[k] << 4 | cells[k + 1])
    return bytes(out)


def _unpack_sketch(data: bytes) -> list[int]:
    cells = [0] * (SKETCH_LEVELS * SKETCH_BUCKETS)
    for k, byte in enumerate(data):
        cells[2 * k], cells[2 * k + 1] = byte >> 4, byte & 15
    return cells


def _level_share(level: int) -> float:
    """Probability that an item falls in one given cell of ``level``."""
    share = 2.0 ** -(level + 1) if level < SKETCH_LEVELS - 1 else 2.0 ** -(SKETCH_LEVELS - 1)
    return share / SKETCH_BUCKETS


def estimate_difference(diff: Sequence[int], lower: int, upper: int, quantile: float) -> float:
    """A quantile of d given an xor of two sketches, on a log-uniform prior on [lower, upper].

    A cell stays empty when no differing item fell in it, or (rarely) when an even number
    did and their fingerprints cancelled.
    """
    lower = max(lower, 1)
    upper = max(upper, lower)
    empties = [
        sum(1 for c in diff[level * SKETCH_BUCKETS : (level + 1) * SKETCH_BUCKETS] if c == 0)
        for level in range(SKETCH_LEVELS)
    ]
    points: list[tuple[float, float]] = []  # (d, prior weight)
    d = float(lower)
    while d <= upper:
        points.append((d, 1.0 / d) if d < lower + 64 else (d, 0.03))
        d = d + 1 if d < lower + 64 else d * 1.03
    logs: list[float] = []
    for d, _ in points:
        total = 0.0
        for level, empty in enumerate(empties):
            q = _level_share(level)
            none = math.exp(d * math.log1p(-q))
            even = (1 + math.exp(d * math.log1p(-2 * q))) / 2
            p_empty = min(max(none + (even - none) * NIBBLE_CANCEL, 1e-300), 1 - 1e-16)
            total += empty * math.log(p_empty) + (SKETCH_BUCKETS - empty) * math.log1p(-p_empty)
        logs.append(total)
    best = max(logs)
    weights = [w * math.exp(ll - best) for (_, w), ll in zip(points, logs, strict=True)]
    goal = quantile * sum(weights)
    running = 0.0
    for (d, _), w in zip(points, weights, strict=True):
        running += w
        if running >= goal:
            return d
    return points[-1][0]  # pragma: no cover - floating point slack


def _residual_estimate(cells: Sequence[int]) -> int:
    """Rough count of undecoded items, from how many cells are still non-empty."""
    busy = sum(1 for c in cells if c)
    shares = [2 / (i + 2) for i in range(len(cells))]
    low, high = 1, 1
    while high < 1 << 24 and sum(1 - (1 - p) ** high for p in shares) < busy:
        low, high = high, high * 2
    while low < high:
        mid = (low + high) // 2
        if sum(1 - (1 - p) ** mid for p in shares) < busy:
            low = mid + 1
        else:
            high = mid
    return low


class _Peeler:
    """Peels the difference out of (peer's cells xor ours), as more cells arrive."""

    def __init__(self, local: dict[int, bytes], max_items: int) -> None:
        self.local = local
        self.max_items = max_items
        self.diff: list[int] = []
        self.found: dict[int, bool] = {}  # short id -> True if ours (the peer lacks it)

    def extend(self, theirs: Sequence[int], ours: Sequence[int]) -> bool:
        """Add cells; return True when every cell is empty (the difference is known)."""
        start = len(self.diff)
        stop = start + len(theirs)
        self.diff.extend(a ^ b for a, b in zip(theirs, ours, strict=True))
        for sid in self.found:  # items already peeled are in the new cells too
            value = _cell_value(sid)
            for i in cell_indices(sid, stop):
                if i >= start:
                    self.diff[i] ^= value
        self._peel(list(range(start, stop)))
        return not any(self.diff)

    def _peel(self, queue: list[int]) -> None:
        diff, stop = self.diff, len(self.diff)
        while queue:
            i = queue.pop()
            cell = diff[i]
            if not cell:
                continue
            sid = cell >> 32
            if _cell_value(sid) != cell:
                continue
            indices = list(cell_indices(sid, stop))
            if i not in indices:
                continue
            if sid in self.found:  # honest cells never show a peeled item again
                raise SyncError(
                    f"sync: the peer's cells hold short id {sid:016x} more than once"
                )
            for j in indices:
                diff[j] ^= cell
            queue.extend(indices)
            self.found[sid] = sid in self.local
            if len(self.found) > self.max_items:
                raise SyncError(
                    f"sync: the peer's cells hold more than the {self.max_items} "
                    "differences both sets together can have"
                )


# --- events, limits, statistics -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedData:
    """Write ``data_to_send()``, then pass the peer's next bytes to ``receive_data``."""


@dataclass(frozen=True, slots=True)
class SendEnvelopes:
    """Look up these envelopes and hand their raw bytes to ``send_envelopes``."""

    ids: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ReceivedEnvelopes:
    """Envelopes from the peer: untrusted bytes, to verify and store."""

    raws: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Reconciled:
    """This side learnt the difference: it lacks ``we_lack``, the peer ``they_lack``."""

    we_lack: int
    they_lack: int


@dataclass(frozen=True, slots=True)
class SyncStats:
    """What a session cost so far. Envelope bytes are whole ENVELOPES frames (the envelopes,
    their lengths and the frame headers); the rest is the cost of reconciling."""

    bytes_sent: int = 0
    bytes_received: int = 0
    envelope_bytes_sent: int = 0
    envelope_bytes_received: int = 0
    envelopes_sent: int = 0
    envelopes_received: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    flights: int = 0
    mode: str = ""
    cells: int = 0
    ids_exchanged: int = 0
    difference: int | None = None

    @property
    def reconciliation_bytes(self) -> int:
        """Every byte on the stream except the ENVELOPES frames."""
        return (
            self.bytes_sent
            + self.bytes_received
            - self.envelope_bytes_sent
            - self.envelope_bytes_received
        )

    @property
    def round_trips(self) -> int:
        """Flights answered by the peer (a last one-way flight does not count)."""
        return self.flights // 2


@dataclass(frozen=True, slots=True)
class Finished:
    """The session is over: write ``data_to_send()`` a last time."""

    stats: SyncStats


Event = NeedData | SendEnvelopes | ReceivedEnvelopes | Reconciled | Finished


@dataclass(frozen=True, slots=True)
class SyncLimits:
    """What a session accepts from a peer; beyond it the peer gets a ``SyncError``."""

    #: Largest set a peer may announce (its short ids alone are 8 bytes each).
    max_ids: int = 1 << 20
    #: Coded cells sent or accepted in one session.
    max_cells: int = 1 << 17
    #: Requests for more cells after the first batch, before falling back to id lists.
    max_more: int = 2
    #: Frames received in one session.
    max_frames: int = 1 << 16
    #: Envelope ids handed out per SendEnvelopes event.
    envelopes_per_event: int = 64


_NEED_DATA = NeedData()
_COUNTERS = (
    "bytes_sent",
    "bytes_received",
    "envelope_bytes_sent",
    "envelope_bytes_received",
    "envelopes_sent",
    "envelopes_received",
    "frames_sent",
    "frames_received",
    "flights",
    "cells",
    "ids_exchanged",
)


class _State(Enum):
    START = "start"  # initiator, before HELLO
    AWAIT_HELLO = "await-hello"  # responder
    AWAIT_REPLY = "await-reply"  # initiator
    AWAIT_CELLS = "await-cells"  # initiator decoding cells
    AWAIT_IDS = "await-ids"  # decoder receiving the peer's short ids
    AWAIT_DECODER = "await-decoder"  # the peer decodes: expect NEED, ENVELOPES, DONE
    PUSHING = "pushing"  # decoder sending what the peer lacks, then DONE
    AWAIT_DONE = "await-done"  # decoder: expect the needed ENVELOPES, then DONE
    ANSWERING = "answering"  # sending what the peer needed, then DONE
    FINISHED = "finished"
    FAILED = "failed"


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Reader:
    """Reads one frame's payload; every failure names the frame."""

    __slots__ = ("data", "name", "pos")

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name, self.pos = data, name, 0

    def fail(self, rule: str) -> SyncError:
        return SyncError(f"sync: {self.name} frame: {rule}")

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise self.fail(f"ends before its {size}-byte field")
        part = self.data[self.pos : self.pos + size]
        self.pos += size
        return part

    def uvarint(self, what: str) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise self.fail(f"ends inside its {what}")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if byte == 0 and shift:
                    raise self.fail(f"{what} is not minimally encoded")
                return value
            shift += 7
            if shift > 56:
                raise self.fail(f"{what} is longer than 9 bytes")

    def rest(self) -> bytes:
        part = self.data[self.pos :]
        self.pos = len(self.data)
        return part

    def end(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} unexpected bytes at the end")


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for pos in range(0, len(data), size):
        yield data[pos : pos + size]


# --- the session ------------------------------------------------------------------------------


class SyncSession:
    """One reconciliation session with one peer, over one stream (see the module docstring)."""

    def __init__(
        self,
        ids: Iterable[bytes],
        *,
        zone: bytes,
        initiator: bool,
        salt: bytes | None = None,
        limits: SyncLimits | None = None,
    ) -> None:
        self._ids = list(dict.fromkeys(ids))
        for message_id in self._ids:
            if not isinstance(message_id, bytes) or len(message_id) != ID_BYTES:
                raise UsageError(f"sync: a message id must be {ID_BYTES} bytes")
        if len(zone) != ZONE_BYTES:
            raise UsageError(f"sync: a zone is {ZONE_BYTES} bytes, not {len(zone)}")
        if initiator and (salt is None or len(salt) != SALT_BYTES):
            raise UsageError(f"sync: the initiator must pass {SALT_BYTES} random bytes as salt")
        if not initiator and salt is not None:
            raise UsageError("sync: the responder takes the initiator's salt; pass salt=None")
        self._limits = limits or SyncLimits()
        if len(self._ids) > self._limits.max_ids:
            raise UsageError(
                f"sync: {len(self._ids)} ids exceed the session limit of {self._limits.max_ids}"
            )
        self._zone = bytes(zone)
        self._initiator = initiator
        self._salt = salt
        self._state = _State.START if initiator else _State.AWAIT_HELLO
        self._in = bytearray()
        self._eof = False
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._to_send: deque[bytes] = deque()  # ids still to hand out in SendEnvelopes
        self._awaiting_raws = False
        self._last_direction = ""
        self._stats: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        self._mode = ""
        self._difference: int | None = None
        self._table: dict[int, bytes] = {}  # our short ids -> ids
        self._items: _Items | None = None
        self._sketch: list[int] = []
        self._sketch_levels = 0
        self._fingerprint = 0
        self._peer_count = 0
        self._peeler: _Peeler | None = None
        self._cells_expected = 0  # decoder: cells announced so far
        self._cells_pending: list[int] = []  # decoder: peer cells not yet decoded
        self._cells_sent = 0  # responder
        self._more_rounds = 0
        self._peer_ids: set[int] = set()
        self._peer_ids_count = 0
        self._may_fall_back = False  # responder after CELLS: MORE or a list may still come
        self._need_width = 0
        self._need_prefixes: set[int] = set()
        self._need_entries = 0

    # --- public API ---

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the peer; ``b""`` when the peer closed the stream."""
        self._check_usable()
        if self._eof and data:
            raise UsageError("sync: receive_data() after the end of the stream")
        if not data:
            self._eof = True
        self._in += data

    def data_to_send(self) -> bytes:
        """Bytes to write to the peer now (empty if none)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def send_envelopes(self, raws: Sequence[bytes]) -> None:
        """The raw envelopes asked for by the last SendEnvelopes (fewer if some are gone)."""
        self._check_usable()
        if not self._awaiting_raws:
            raise UsageError("sync: send_envelopes() without a SendEnvelopes event to answer")
        for raw in raws:
            if not 0 < len(raw) <= MAX_ENVELOPE_BYTES:
                raise UsageError(f"sync: an envelope of {len(raw)} bytes cannot be sent")
        self._awaiting_raws = False
        frame = bytearray((FrameType.ENVELOPES,))
        for raw in raws:
            entry = _uvarint(len(raw)) + raw
            if len(frame) + len(entry) > MAX_FRAME_BYTES:
                self._send_frame(bytes(frame))
                frame = bytearray((FrameType.ENVELOPES,))
            frame += entry
            self._stats["envelopes_sent"] += 1
        if len(frame) > 1:
            self._send_frame(bytes(frame))

    def next_event(self) -> Event:
        """Advance the session and return the next event (see the module docstring)."""
        self._check_usable()
        if self._awaiting_raws:
            raise UsageError("sync: call send_envelopes() to answer SendEnvelopes first")
        try:
            return self._advance()
        except SyncError as exc:
            if self._state is not _State.FAILED:  # not when the peer gave up first
                self._state = _State.FAILED
                text = str(exc).encode("utf-8")[:MAX_ABORT_TEXT]
                self._send_frame(bytes((FrameType.ABORT,)) + text)
            raise

    def statistics(self) -> SyncStats:
        """What the session cost so far."""
        return SyncStats(**self._stats, mode=self._mode, difference=self._difference)

    @property
    def finished(self) -> bool:
        return self._state is _State.FINISHED

    # --- the machine ---

    def _check_usable(self) -> None:
        if self._state is _State.FAILED:
            raise UsageError("sync: this session failed; open a new one")

    def _advance(self) -> Event:
        while True:
            if self._events:
                return self._events.popleft()
            if self._state is _State.START:
                self._send_hello()
                continue
            if self._to_send:
                count = self._limits.envelopes_per_event
                count = min(count, len(self._to_send))
                chunk = tuple(self._to_send.popleft() for _ in range(count))
                self._awaiting_raws = True
                return SendEnvelopes(chunk)
            if self._state is _State.PUSHING:
                self._send_frame(bytes((FrameType.DONE,)))
                self._state = _State.AWAIT_DONE
                continue
            if self._state is _State.ANSWERING:
                self._send_frame(bytes((FrameType.DONE,)))
                self._finish()
                continue
            if self._state is _State.FINISHED:
                return Finished(self.statistics())
            frame = self._next_frame()
            if frame is None:
                return _NEED_DATA
            self._handle(frame)

    def _next_frame(self) -> bytes | None:
        buffer = self._in
        end = next((k for k in range(min(len(buffer), 3)) if not buffer[k] & 0x80), None)
        if end is None:
            if len(buffer) >= 3:
                raise SyncError(f"sync: a frame length above {MAX_FRAME_BYTES} bytes")
            if self._eof:
                raise SyncError(
                    f"sync: the peer closed the stream while we were in {self._state.value}"
                )
            return None
        length = _Reader(bytes(buffer[: end + 1]), "length").uvarint("frame length")
        pos = end + 1
        if not 0 < length <= MAX_FRAME_BYTES:
            raise SyncError(f"sync: a frame of {length} bytes (1 to {MAX_FRAME_BYTES})")
        if len(buffer) < pos + length:
            if self._eof:
                raise SyncError("sync: the peer closed the stream inside a frame")
            return None
        frame = bytes(buffer[pos : pos + length])
        del buffer[: pos + length]
        self._stats["frames_received"] += 1
        self._stats["bytes_received"] += pos + length
        if frame[0] == FrameType.ENVELOPES:
            self._stats["envelope_bytes_received"] += pos + length
        if self._last_direction != "in":
            self._last_direction = "in"
            self._stats["flights"] += 1
        if self._stats["frames_received"] > self._limits.max_frames:
            raise SyncError(f"sync: more than {self._limits.max_frames} frames in one session")
        return frame

    def _send_frame(self, body: bytes) -> None:
        header = _uvarint(len(body))
        self._out += header
        self._out += body
        self._stats["frames_sent"] += 1
        self._stats["bytes_sent"] += len(header) + len(body)
        if body[0] == FrameType.ENVELOPES:
            self._stats["envelope_bytes_sent"] += len(header) + len(body)
        if self._last_direction != "out":
            self._last_direction = "out"
            self._stats["flights"] += 1

    def _handle(self, frame: bytes) -> None:
        try:
            kind = FrameType(frame[0])
        except ValueError:
            raise SyncError(f"sync: unknown frame type {frame[0]}") from None
        reader = _Reader(frame[1:], kind.name)
        if kind is FrameType.ABORT:
            text = reader.rest().decode("utf-8", "replace")
            self._state = _State.FAILED
            if text.startswith(BUSY_PREFIX):
                raise SyncRefused(f"sync: the peer refused the session ({text})")
            raise SyncError(f"sync: the peer gave up: {text!r}")
        handler = self._HANDLERS.get((self._state, kind))
        if handler is None:
            raise SyncError(f"sync: unexpected {kind.name} frame in state {self._state.value}")
        handler(self, reader)

    # --- opening ---

    def _prepare(self) -> None:
        """Short ids of our set under the session's salt (the costly part, done once)."""
        assert self._salt is not None
        self._table, self._items = _hash_ids(self._ids, self._salt)
        self._ids = []
        self._sketch, self._sketch_levels = sketch(self._table)
        self._fingerprint = 0
        for value in self._items.values:
            self._fingerprint ^= value

    def _send_hello(self) -> None:
        self._prepare()
        assert self._salt is not None
        self._send_frame(
            bytes((FrameType.HELLO,))
            + self._zone
            + self._salt
            + _uvarint(len(self._table))
            + self._fingerprint.to_bytes(CELL_BYTES, "big")
            + bytes((self._sketch_levels,))
            + _pack_sketch(self._sketch, self._sketch_levels)
        )
        self._state = _State.AWAIT_REPLY

    def _on_hello(self, reader: _Reader) -> None:
        zone = reader.take(ZONE_BYTES)
        self._salt = reader.take(SALT_BYTES)
        peer_count = self._read_count(reader, "set size")
        peer_fingerprint = int.from_bytes(reader.take(CELL_BYTES), "big")
        levels = reader.take(1)[0]
        if levels > SKETCH_LEVELS:
            raise reader.fail(f"{levels} sketch levels (at most {SKETCH_LEVELS})")
        peer_sketch = _unpack_sketch(reader.take(levels * SKETCH_LEVEL_BYTES))
        reader.end()
        if zone != self._zone:
            raise SyncError(f"sync: the peer syncs zone {zone.hex()}, we are in {self._zone.hex()}")
        self._peer_count = peer_count
        self._prepare()
        diff = [a ^ b for a, b in zip(self._sketch, peer_sketch, strict=True)]
        ours, theirs = len(self._table), peer_count
        if self._fingerprint == peer_fingerprint and ours == theirs and not any(diff):
            self._reply(Mode.EQUAL)
            self._decoded(set(), [])
            return
        if theirs == 0:  # the initiator has nothing: send it everything
            self._reply(Mode.SEND_IDS)
            self._decoded(set(self._table.values()), [])
            return
        if ours == 0:
            self._reply(Mode.IDS)
            self._state = _State.AWAIT_DECODER
            return
        lower = max(1, abs(ours - theirs))
        planned = estimate_difference(diff, lower, ours + theirs, PLAN_QUANTILE)
        cells = cells_for(planned)
        if cells <= self._limits.max_cells and CELL_BYTES * cells < SHORT_ID_BYTES * min(
            ours, theirs
        ):
            self._reply(Mode.CELLS, cells)
            self._send_cells(cells)
            self._may_fall_back = True
            self._state = _State.AWAIT_DECODER
        elif ours <= theirs:
            self._reply(Mode.IDS)
            self._send_ids()
            self._state = _State.AWAIT_DECODER
        else:
            self._reply(Mode.SEND_IDS)
            self._state = _State.AWAIT_IDS

    def _reply(self, mode: Mode, cells: int = 0) -> None:
        self._mode = mode.name.lower()
        payload = bytes((mode,)) + _uvarint(len(self._table))
        if mode is Mode.CELLS:
            payload += _uvarint(cells)
        self._send_frame(bytes((FrameType.REPLY,)) + payload)

    def _on_reply(self, reader: _Reader) -> None:
        try:
            mode = Mode(reader.take(1)[0])
        except ValueError:
            raise reader.fail("unknown mode") from None
        self._mode = mode.name.lower()
        self._peer_count = self._read_count(reader, "set size")
        cells = self._read_cell_count(reader, 0) if mode is Mode.CELLS else 0
        reader.end()
        if mode is Mode.EQUAL:
            self._state = _State.AWAIT_DECODER
        elif mode is Mode.CELLS:
            self._start_decoding(cells)
        elif mode is Mode.IDS:
            self._await_ids()
        else:
            self._send_ids()
            self._state = _State.AWAIT_DECODER

    def _read_count(self, reader: _Reader, what: str) -> int:
        count = reader.uvarint(what)
        if count > self._limits.max_ids:
            raise reader.fail(f"{what} {count} exceeds the limit of {self._limits.max_ids}")
        return count

    def _read_cell_count(self, reader: _Reader, current: int) -> int:
        stop = reader.uvarint("cell count")
        if stop > self._limits.max_cells:
            raise reader.fail(f"{stop} cells exceed the limit of {self._limits.max_cells}")
        if stop <= current:
            raise reader.fail(f"asks for cells up to {stop}, not beyond the {current} sent")
        return stop

    # --- cells ---

    def _send_cells(self, stop: int) -> None:
        assert self._items is not None
        start = self._cells_sent
        cells = self._items.cells(start, stop)
        index = start
        while index < stop:
            head = bytes((FrameType.CELLS,)) + _uvarint(index)
            count = min(stop - index, (MAX_FRAME_BYTES - len(head)) // CELL_BYTES)
            first = index - start
            body = b"".join(c.to_bytes(CELL_BYTES, "big") for c in cells[first : first + count])
            self._send_frame(head + body)
            index += count
        self._stats["cells"] += stop - start
        self._cells_sent = stop

    def _on_more(self, reader: _Reader) -> None:
        if not self._may_fall_back:
            raise reader.fail("only follows CELLS")
        stop = self._read_cell_count(reader, self._cells_sent)
        reader.end()
        self._more_rounds += 1
        if self._more_rounds > self._limits.max_more:
            raise reader.fail(f"more than {self._limits.max_more} requests for more cells")
        self._send_cells(stop)

    def _start_decoding(self, stop: int) -> None:
        self._peeler = self._peeler or _Peeler(self._table, len(self._table) + self._peer_count)
        self._cells_expected = stop
        self._state = _State.AWAIT_CELLS

    def _on_cells(self, reader: _Reader) -> None:
        assert self._peeler is not None
        start = reader.uvarint("first index")
        have = len(self._peeler.diff) + len(self._cells_pending)
        if start != have:
            raise reader.fail(f"starts at cell {start}, expected {have}")
        body = reader.rest()
        if not body or len(body) % CELL_BYTES:
            raise reader.fail(f"{len(body)} bytes is not a positive multiple of {CELL_BYTES}")
        if have + len(body) // CELL_BYTES > self._cells_expected:
            raise reader.fail(f"goes beyond the {self._cells_expected} cells announced")
        self._cells_pending.extend(
            int.from_bytes(c, "big") for c in _chunks(body, CELL_BYTES)
        )
        self._stats["cells"] += len(body) // CELL_BYTES
        if have + len(body) // CELL_BYTES < self._cells_expected:
            return
        start = len(self._peeler.diff)
        assert self._items is not None
        ours = self._items.cells(start, self._cells_expected)
        theirs, self._cells_pending = self._cells_pending, []
        if self._peeler.extend(theirs, ours):
            local = {sid for sid, mine in self._peeler.found.items() if mine}
            remote = [sid for sid, mine in self._peeler.found.items() if not mine]
            if len(self._table) - self._peer_count != len(local) - len(remote):
                raise SyncError(
                    f"sync: the peer's cells give a difference of +{len(local)}/-{len(remote)}, "
                    f"which its set size {self._peer_count} contradicts (ours {len(self._table)})"
                )
            self._decoded({self._table[sid] for sid in local}, remote)
        else:
            self._fall_back()

    def _fall_back(self) -> None:
        """Decoding failed: ask for more cells, or switch to a list of short ids."""
        assert self._peeler is not None
        have = len(self._peeler.diff)
        residual = _residual_estimate(self._peeler.diff)
        stop = max(have + max(8, have // 4), cells_for(1.25 * (len(self._peeler.found) + residual)))
        cheaper_than_ids = CELL_BYTES * (stop - have) < SHORT_ID_BYTES * min(
            len(self._table), self._peer_count
        )
        more_allowed = self._more_rounds < self._limits.max_more and stop <= self._limits.max_cells
        if more_allowed and cheaper_than_ids:
            self._more_rounds += 1
            self._send_frame(bytes((FrameType.MORE,)) + _uvarint(stop))
            self._start_decoding(stop)
        elif len(self._table) <= self._peer_count:
            self._mode += "+ids"
            self._send_ids()
            self._state = _State.AWAIT_DECODER
        else:
            self._mode += "+ids"
            self._send_frame(bytes((FrameType.REQUEST_IDS,)))
            self._await_ids()

    # --- id lists ---

    def _send_ids(self) -> None:
        per_frame = (MAX_FRAME_BYTES - 1) // SHORT_ID_BYTES
        sids = [sid.to_bytes(SHORT_ID_BYTES, "big") for sid in self._table]
        for pos in range(0, len(sids), per_frame):
            self._send_frame(bytes((FrameType.IDS,)) + b"".join(sids[pos : pos + per_frame]))
        self._stats["ids_exchanged"] += len(sids)

    def _await_ids(self) -> None:
        self._peer_ids, self._peer_ids_count = set(), 0
        self._state = _State.AWAIT_IDS
        if self._peer_count == 0:
            self._decode_ids()

    def _on_ids(self, reader: _Reader) -> None:
        body = reader.rest()
        if not body or len(body) % SHORT_ID_BYTES:
            raise reader.fail(f"{len(body)} bytes is not a positive multiple of {SHORT_ID_BYTES}")
        self._peer_ids_count += len(body) // SHORT_ID_BYTES
        if self._peer_ids_count > self._peer_count:
            raise reader.fail(f"more ids than the {self._peer_count} announced")
        self._peer_ids.update(int.from_bytes(s, "big") for s in _chunks(body, SHORT_ID_BYTES))
        self._stats["ids_exchanged"] += len(body) // SHORT_ID_BYTES
        if self._peer_ids_count == self._peer_count:
            self._decode_ids()

    def _decode_ids(self) -> None:
        theirs = self._peer_ids
        they_lack = {message_id for sid, message_id in self._table.items() if sid not in theirs}
        we_lack = [sid for sid in theirs if sid not in self._table]
        self._peer_ids = set()
        self._decoded(they_lack, we_lack)

    def _on_fallback_ids(self, reader: _Reader) -> None:
        """Responder: the initiator could not decode and sent its own list."""
        if not self._may_fall_back:
            raise reader.fail("only follows CELLS")
        self._may_fall_back = False
        self._mode += "+ids"
        self._peer_ids, self._peer_ids_count = set(), 0
        self._state = _State.AWAIT_IDS
        self._on_ids(reader)

    def _on_request_ids(self, reader: _Reader) -> None:
        if not self._may_fall_back:
            raise reader.fail("only follows CELLS")
        reader.end()
        self._may_fall_back = False
        self._mode += "+ids"
        self._send_ids()

    # --- after the difference is known ---

    def _decoded(self, they_lack: set[bytes], we_lack: Sequence[int]) -> None:
        """We are the decoder: ask for what we lack, push what the peer lacks, then DONE."""
        self._difference = len(they_lack) + len(we_lack)
        if we_lack:
            width = min(SHORT_ID_BYTES, max(4, -(-(self._peer_count.bit_length() + 16) // 8)))
            per_frame = (MAX_FRAME_BYTES - 2) // width
            prefixes = [sid.to_bytes(SHORT_ID_BYTES, "big")[:width] for sid in we_lack]
            for pos in range(0, len(prefixes), per_frame):
                self._send_frame(
                    bytes((FrameType.NEED, width)) + b"".join(prefixes[pos : pos + per_frame])
                )
        self._events.append(Reconciled(we_lack=len(we_lack), they_lack=len(they_lack)))
        self._to_send.extend(sorted(they_lack))
        self._items, self._peeler = None, None
        self._state = _State.PUSHING

    def _on_need(self, reader: _Reader) -> None:
        self._may_fall_back = False
        width = reader.take(1)[0]
        if not 4 <= width <= SHORT_ID_BYTES:
            raise reader.fail(f"prefix width {width} (4 to {SHORT_ID_BYTES})")
        body = reader.rest()
        if not body or len(body) % width:
            raise reader.fail(f"{len(body)} bytes is not a positive multiple of {width}")
        if self._need_width and width != self._need_width:
            raise reader.fail(f"prefix width {width} after {self._need_width}")
        self._need_width = width
        self._need_entries += len(body) // width
        if self._need_entries > len(self._table):
            raise reader.fail(f"asks for more than the {len(self._table)} messages we hold")
        self._need_prefixes.update(int.from_bytes(p, "big") for p in _chunks(body, width))

    def _on_envelopes(self, reader: _Reader) -> None:
        self._may_fall_back = False
        raws: list[bytes] = []
        while reader.pos < len(reader.data):
            length = reader.uvarint("envelope length")
            if not 0 < length <= MAX_ENVELOPE_BYTES:
                raise reader.fail(f"an envelope of {length} bytes (1 to {MAX_ENVELOPE_BYTES})")
            raws.append(reader.take(length))
        if not raws:
            raise reader.fail("carries no envelope")
        self._stats["envelopes_received"] += len(raws)
        if self._stats["envelopes_received"] > self._peer_count:
            raise reader.fail(f"more envelopes than the {self._peer_count} the peer holds")
        self._events.append(ReceivedEnvelopes(tuple(raws)))

    def _on_done(self, reader: _Reader) -> None:
        reader.end()
        if self._in:
            raise SyncError("sync: the peer sent data after DONE")
        if self._state is _State.AWAIT_DONE:
            self._finish()
        else:  # the peer decoded: answer what it needed
            if self._need_prefixes:
                shift, wanted = 8 * (SHORT_ID_BYTES - self._need_width), self._need_prefixes
                needed = [mid for sid, mid in self._table.items() if sid >> shift in wanted]
                self._to_send.extend(sorted(needed))
                self._need_prefixes = set()
            self._state = _State.ANSWERING

    def _finish(self) -> None:
        self._table = {}
        self._state = _State.FINISHED

    _HANDLERS: ClassVar[dict[tuple[_State, FrameType], Callable[[SyncSession, _Reader], None]]] = {
        (_State.AWAIT_HELLO, FrameType.HELLO): _on_hello,
        (_State.AWAIT_REPLY, FrameType.REPLY): _on_reply,
        (_State.AWAIT_CELLS, FrameType.CELLS): _on_cells,
        (_State.AWAIT_IDS, FrameType.IDS): _on_ids,
        (_State.AWAIT_DECODER, FrameType.MORE): _on_more,
        (_State.AWAIT_DECODER, FrameType.IDS): _on_fallback_ids,
        (_State.AWAIT_DECODER, FrameType.REQUEST_IDS): _on_request_ids,
        (_State.AWAIT_DECODER, FrameType.NEED): _on_need,
        (_State.AWAIT_DECODER, FrameType.ENVELOPES): _on_envelopes,
        (_State.AWAIT_DECODER, FrameType.DONE): _on_done,
        (_State.AWAIT_DONE, FrameType.ENVELOPES): _on_envelopes,
        (_State.AWAIT_DONE, FrameType.DONE): _on_done,
    }
