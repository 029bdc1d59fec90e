"""Radio framing: signed envelopes in LoRa frames of at most 200 bytes (SPEC.md section 11).

Every frame starts with a type byte (frame version 1 in the high nibble) and a 2-byte zone
tag. A WHOLE frame carries one envelope in *compact form*; an envelope whose compact form
does not fit is cut into FRAGMENT frames that name the envelope by the first 4 bytes of its
id. SUMMARY frames (a Bloom filter of the ids a node holds) and WANT frames (ids and key
references a node is missing) are the building blocks of catch-up over the radio.

The compact form drops what the receiver can rebuild byte for byte: the version byte, the
map head, the CBOR keys and headers of the fixed fields, the zone (the receiver's own,
checked by the zone tag), and, when the zone knows the author well, all but 8 bytes of the
author key. :func:`restore_envelope` gives back the exact signed envelope, so its id and
signature are unchanged. What a frame restores is still untrusted: the caller checks it with
:func:`protocol.envelope.accept`.
"""

from __future__ import annotations

import enum
import hashlib
import math
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .envelope import MAX_ENVELOPE_BYTES, SIGNATURE_BYTES, VERSION, Envelope, short_id
from .errors import FrameError, UnknownKeyRef, UnsupportedVersion, UsageError, WrongZone
from .kinds import CheckInStatus, Kind, RequestUrgency
from .state import HouseholdKey, household_of

__all__ = [
    "FRAGMENT_HEADER_BYTES",
    "FRAME_VERSION",
    "HEADER_BYTES",
    "ID_PREFIX_BYTES",
    "KEY_REF_BYTES",
    "MAX_FRAGMENTS",
    "MAX_FRAME_BYTES",
    "RADIO_PORT",
    "FragmentFrame",
    "FrameType",
    "KeyBook",
    "RadioMessage",
    "RadioPriority",
    "Reassembler",
    "ReassemblyStatistics",
    "SummaryFrame",
    "WantFrame",
    "WholeFrame",
    "build_summary",
    "compact_envelope",
    "encode_frames",
    "encode_summary",
    "encode_want",
    "parse_frame",
    "radio_coalesce_key",
    "radio_priority",
    "restore_envelope",
    "zone_tag",
]

#: The Meshtastic port (a private application port, 256–510) entraide frames travel on.
RADIO_PORT = 287
#: Largest frame this protocol sends or accepts (the firmware's private-port limit is 231).
MAX_FRAME_BYTES = 200
FRAME_VERSION = 1
#: Type byte and zone tag, at the start of every frame.
HEADER_BYTES = 3
ZONE_TAG_BYTES = 2
#: A fragment names its envelope by the first bytes of the envelope's id (the "short id").
ID_PREFIX_BYTES = 4
#: Type byte, zone tag, id prefix, index/count byte.
FRAGMENT_HEADER_BYTES = HEADER_BYTES + ID_PREFIX_BYTES + 1
#: Index and count share one byte (4 bits each): at most 16 fragments, 3072 bytes of data.
MAX_FRAGMENTS = 16
#: An author key abbreviated to its first 8 bytes.
KEY_REF_BYTES = 8
KEY_BYTES = 32
ID_BYTES = 32
ZONE_BYTES = 4

_ZONE_TAG_CONTEXT = b"entraide/zone-tag\x00"
_SUMMARY_CONTEXT = b"entraide/summary\x00"

# Compact form flags.
_F_AUTHOR_REF = 0x01
_F_LIFETIME = 0x02
_F_REFS = 0x04
_F_BODY = 0x08
_F_RESERVED = 0xF0
_CREATED_BYTES = 4
#: Compact head: kind, flags.
_HEAD_BYTES = 2
_MIN_COMPACT = _HEAD_BYTES + KEY_REF_BYTES + _CREATED_BYTES + SIGNATURE_BYTES
#: A compact envelope is always shorter than the envelope it restores.
MAX_COMPACT_BYTES = MAX_ENVELOPE_BYTES

# Fixed layout of a canonical envelope (SPEC.md 5.4): 01 A? 00 <kind> 01 58 20 <author>
# 02 1a <created> [03 <lifetime>] 04 44 <zone> [05 <refs>] [06 <body>].
_AUTHOR_HEAD = b"\x01\x58\x20"
_CREATED_HEAD = b"\x02\x1a"
_ZONE_HEAD = b"\x04\x44"
_REF_HEAD = b"\x58\x20"
_UINT_SIZES = {**{b: 1 for b in range(0x18)}, 0x18: 2, 0x19: 3, 0x1A: 5}

# Summary frame layout after the frame header: since (4), count (2), salt (1), hashes (1), filter.
_SUMMARY_FIXED = 8
MAX_SUMMARY_FILTER_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - _SUMMARY_FIXED
MAX_SUMMARY_HASHES = 16
#: Bits of filter per id that keep false positives near 1 % (with the best hash count).
_SUMMARY_BITS_PER_ID = 10


class FrameType(enum.IntEnum):
    WHOLE = 1
    FRAGMENT = 2
    SUMMARY = 3
    WANT = 4


class RadioPriority(enum.IntEnum):
    """Scheduling class of a message on the radio (lower goes first)."""

    URGENT = 0  # alerts, critical help requests, injured check-ins
    NORMAL = 1  # help, claims, resolutions, incidents, resource points, retractions
    CHECKIN = 2  # routine check-ins: only the latest per household waits in a queue
    BULK = 3  # never sent over LoRa: tips, standing offers, comments


def zone_tag(zone: bytes) -> bytes:
    """The 2 bytes every frame of ``zone`` carries, so other zones' frames are dropped early."""
    if type(zone) is not bytes or len(zone) != ZONE_BYTES:
        raise UsageError(f"a zone is {ZONE_BYTES} bytes")
    return hashlib.sha256(_ZONE_TAG_CONTEXT + zone).digest()[:ZONE_TAG_BYTES]


def _type_byte(frame_type: FrameType) -> int:
    return FRAME_VERSION << 4 | frame_type


# --- key references ---------------------------------------------------------------------------


class KeyBook:
    """Public keys a zone knows, indexed by their 8-byte reference (the key's first bytes).

    A receiver builds one from every author key it holds and resolves references with it. A
    sender builds one from the keys it believes *every* neighbour knows (SPEC.md 11.3) and
    abbreviates only those; any other author travels with its full key.
    """

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self._by_ref: dict[bytes, set[bytes]] = {}
        for key in keys:
            self.add(key)

    @staticmethod
    def ref(key: bytes) -> bytes:
        return key[:KEY_REF_BYTES]

    def add(self, key: bytes) -> None:
        if type(key) is not bytes or len(key) != KEY_BYTES:
            raise UsageError(f"a public key is {KEY_BYTES} bytes")
        self._by_ref.setdefault(key[:KEY_REF_BYTES], set()).add(key)

    def discard(self, key: bytes) -> None:
        keys = self._by_ref.get(key[:KEY_REF_BYTES])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_ref[key[:KEY_REF_BYTES]]

    def __contains__(self, key: object) -> bool:
        return type(key) is bytes and key in self._by_ref.get(key[:KEY_REF_BYTES], ())

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._by_ref.values())

    def abbreviates(self, key: bytes) -> bool:
        """Whether a sender may replace ``key`` by its reference: known and unambiguous."""
        return self._by_ref.get(key[:KEY_REF_BYTES]) == {key}

    def resolve(self, ref: bytes) -> bytes:
        """The one key with this reference; :class:`UnknownKeyRef` if none or several."""
        keys = self._by_ref.get(ref, set())
        if len(keys) == 1:
            return next(iter(keys))
        what = "unknown" if not keys else f"ambiguous ({len(keys)} keys)"
        exc = UnknownKeyRef(f"radio frame: author key reference {ref.hex()} is {what}")
        exc.key_ref = ref
        raise exc


# --- compact form ---------------------------------------------------------------------------


def _uint_size(initial: int) -> int | None:
    return _UINT_SIZES.get(initial)


def compact_envelope(env: Envelope, *, keys: KeyBook | None = None) -> bytes:
    """The compact form of ``env`` (SPEC.md 11.2); the author abbreviated if ``keys`` allows."""
    try:
        parts = _split(env.raw, env.zone)
    except IndexError:
        parts = None
    if parts is None:
        raise UsageError(f"radio frame: {env!r} is not a canonical envelope")
    flags, author, rest = parts
    if keys is not None and keys.abbreviates(author):
        flags |= _F_AUTHOR_REF
        author = author[:KEY_REF_BYTES]
    return bytes([env.raw[3], flags]) + author + rest


def _split(raw: bytes, zone: bytes) -> tuple[int, bytes, bytes] | None:
    """(flags, author, the compact form after the author) of a canonical envelope, or None
    if ``raw`` does not have the canonical layout."""
    signed, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    if (
        len(signed) < 51
        or signed[0] != VERSION
        or signed[2] != 0
        or signed[3] >= 24
        or signed[4:7] != _AUTHOR_HEAD
        or signed[39:41] != _CREATED_HEAD
    ):
        return None
    flags = 0
    lifetime = b""
    pos = 45
    if signed[pos] == 3:
        size = _uint_size(signed[pos + 1])
        if size is None:
            return None
        lifetime = signed[pos + 1 : pos + 1 + size]
        flags |= _F_LIFETIME
        pos += 1 + size
    if signed[pos : pos + 2] != _ZONE_HEAD or signed[pos + 2 : pos + 6] != zone:
        return None
    pos += 6
    refs = b""
    if pos < len(signed) and signed[pos] == 5:
        count = signed[pos + 1] - 0x80
        if not 1 <= count <= 23:
            return None
        refs = bytes([count])
        pos += 2
        for _ in range(count):
            if signed[pos : pos + 2] != _REF_HEAD or len(signed) < pos + 2 + ID_BYTES:
                return None
            refs += signed[pos + 2 : pos + 2 + ID_BYTES]
            pos += 2 + ID_BYTES
        flags |= _F_REFS
    body = b""
    if pos < len(signed):
        body = signed[pos + 1 :]
        if signed[pos] != 6 or not body:
            return None
        flags |= _F_BODY
    if signed[1] != 0xA0 + 4 + bin(flags).count("1"):
        return None
    return flags, signed[7:39], signed[41:45] + lifetime + refs + body + signature


def restore_envelope(data: bytes, *, zone: bytes, keys: KeyBook) -> bytes:
    """The exact envelope a compact form stands for.

    Raises :class:`FrameError` if the compact form is malformed and :class:`UnknownKeyRef`
    (carrying ``key_ref`` and ``compact``) if the author reference does not resolve in
    ``keys``. The result is not checked: pass it to :func:`protocol.envelope.accept`.
    """
    data = bytes(data)
    zone_tag(zone)  # a 4-byte zone, or UsageError
    if len(data) < _MIN_COMPACT:
        raise FrameError(f"radio frame: compact envelope of {len(data)} bytes is too short")
    if len(data) > MAX_COMPACT_BYTES:
        raise FrameError(f"radio frame: compact envelope of {len(data)} bytes is too long")
    kind, flags = data[0], data[1]
    if kind >= 24:
        raise FrameError(f"radio frame: kind {kind} cannot be restored (max 23)")
    if flags & _F_RESERVED:
        raise FrameError(f"radio frame: reserved flags {flags:#04x} set")
    end = len(data) - SIGNATURE_BYTES
    pos = _HEAD_BYTES
    if flags & _F_AUTHOR_REF:
        ref = data[pos : pos + KEY_REF_BYTES]
        try:
            author = keys.resolve(ref)
        except UnknownKeyRef as exc:
            exc.compact = bytes(data)
            raise
        pos += KEY_REF_BYTES
    else:
        author = data[pos : pos + KEY_BYTES]
        pos += KEY_BYTES
    created = data[pos : pos + _CREATED_BYTES]
    pos += _CREATED_BYTES
    entries = 4
    lifetime = b""
    if flags & _F_LIFETIME:
        size = _uint_size(data[pos]) if pos < end else None
        if size is None:
            raise FrameError("radio frame: the lifetime is not a CBOR unsigned integer")
        lifetime = b"\x03" + data[pos : pos + size]
        pos += size
        entries += 1
    refs = b""
    if flags & _F_REFS:
        count = data[pos] if pos < end else 0
        if not 1 <= count <= 23:
            raise FrameError(f"radio frame: {count} references (1..23 when present)")
        pos += 1
        items = data[pos : pos + count * ID_BYTES]
        pos += count * ID_BYTES
        refs = (
            b"\x05"
            + bytes([0x80 + count])
            + b"".join(_REF_HEAD + items[i : i + ID_BYTES] for i in range(0, len(items), ID_BYTES))
        )
        entries += 1
    if pos > end:
        raise FrameError("radio frame: compact envelope ends inside its fields")
    body = b""
    if flags & _F_BODY:
        if pos == end:
            raise FrameError("radio frame: the body flag is set but there is no body")
        body = b"\x06" + data[pos:end]
        entries += 1
    elif pos != end:
        raise FrameError(f"radio frame: {end - pos} bytes after the fields and no body flag")
    return (
        bytes([VERSION, 0xA0 + entries, 0, kind])
        + _AUTHOR_HEAD
        + author
        + _CREATED_HEAD
        + created
        + lifetime
        + _ZONE_HEAD
        + zone
        + refs
        + body
        + data[end:]
    )


# --- frames -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WholeFrame:
    """A frame carrying one envelope in compact form."""

    compact: bytes


@dataclass(frozen=True, slots=True)
class FragmentFrame:
    """One piece of a compact envelope too large for a frame."""

    id_prefix: bytes
    index: int
    count: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SummaryFrame:
    """What a node holds: ``count`` messages created at or after ``since``, as a Bloom filter.

    A neighbour sends (within its airtime budget) the messages of the window that are *not*
    in the filter: those are certainly missing. A false positive hides a message until a
    later summary with another ``salt``.
    """

    since: int
    count: int
    salt: int
    hashes: int
    bits: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.bits or not 1 <= self.hashes <= MAX_SUMMARY_HASHES:
            raise UsageError(f"a summary has a filter and 1..{MAX_SUMMARY_HASHES} hashes")

    def might_hold(self, message_id: bytes) -> bool:
        """False when the summarising node certainly lacks ``message_id``."""
        return all(self.bits[i >> 3] >> (i & 7) & 1 for i in self._positions(message_id))

    def _positions(self, message_id: bytes) -> list[int]:
        digest = hashlib.sha256(_SUMMARY_CONTEXT + bytes([self.salt]) + message_id).digest()
        h1, h2 = struct.unpack(">QQ", digest[:16])
        m = 8 * len(self.bits)
        return [(h1 + i * (h2 | 1)) % m for i in range(self.hashes)]

    @property
    def false_positive_rate(self) -> float:
        """Expected share of absent ids that the filter nevertheless reports as held."""
        m = 8 * len(self.bits)
        return float((1 - math.exp(-self.hashes * self.count / m)) ** self.hashes)


@dataclass(frozen=True, slots=True)
class WantFrame:
    """Ids (4-byte prefixes) and author key references a node asks its neighbours for."""

    ids: tuple[bytes, ...] = ()
    key_refs: tuple[bytes, ...] = ()


Frame = WholeFrame | FragmentFrame | SummaryFrame | WantFrame


def build_summary(
    ids: Iterable[bytes], *, since: int, salt: int, max_filter_bytes: int = 0
) -> SummaryFrame:
    """A summary of ``ids`` (the messages created at or after ``since``).

    The filter gets about 10 bits per id (1 % false positives), at most
    ``max_filter_bytes`` (default: what a frame holds, 189). Beyond ~150 ids the false
    positive rate grows: summarise a shorter window instead.
    """
    id_list = list(dict.fromkeys(ids))
    if not 0 <= salt <= 255:
        raise UsageError("a summary's salt is a byte")
    if not 0 <= since <= 2**32 - 1:
        raise UsageError("a summary's start time is a 32-bit unix time")
    limit = max_filter_bytes or MAX_SUMMARY_FILTER_BYTES
    if not 1 <= limit <= MAX_SUMMARY_FILTER_BYTES:
        raise UsageError(f"a summary's filter is 1..{MAX_SUMMARY_FILTER_BYTES} bytes")
    size = min(limit, max(1, math.ceil(len(id_list) * _SUMMARY_BITS_PER_ID / 8)))
    m = 8 * size
    hashes = min(MAX_SUMMARY_HASHES, max(1, round(m / max(1, len(id_list)) * math.log(2))))
    empty = SummaryFrame(since, min(len(id_list), 0xFFFF), salt, hashes, bytes(size))
    bits = bytearray(size)
    for message_id in id_list:
        for i in empty._positions(message_id):
            bits[i >> 3] |= 1 << (i & 7)
    return SummaryFrame(since, empty.count, salt, hashes, bytes(bits))


def encode_frames(
    env: Envelope, *, keys: KeyBook | None = None, max_frame_bytes: int = MAX_FRAME_BYTES
) -> tuple[bytes, ...]:
    """The frames that carry ``env``: one WHOLE frame, or 2..16 FRAGMENT frames in order."""
    if not FRAGMENT_HEADER_BYTES < max_frame_bytes <= MAX_FRAME_BYTES:
        raise UsageError(f"a radio frame is at most {MAX_FRAME_BYTES} bytes")
    data = compact_envelope(env, keys=keys)
    header = bytes([_type_byte(FrameType.WHOLE)]) + zone_tag(env.zone)
    if HEADER_BYTES + len(data) <= max_frame_bytes:
        return (header + data,)
    room = max_frame_bytes - FRAGMENT_HEADER_BYTES
    count = -(-len(data) // room)
    if count > MAX_FRAGMENTS:
        raise UsageError(
            f"radio frame: {env!r} needs {count} fragments of {room} bytes (max {MAX_FRAGMENTS})"
        )
    head = bytes([_type_byte(FrameType.FRAGMENT)]) + zone_tag(env.zone) + env.id[:ID_PREFIX_BYTES]
    return tuple(
        head + bytes([i << 4 | (count - 1)]) + data[i * room : (i + 1) * room] for i in range(count)
    )


def encode_summary(summary: SummaryFrame, *, zone: bytes) -> bytes:
    if not 1 <= len(summary.bits) <= MAX_SUMMARY_FILTER_BYTES:
        raise UsageError(f"a summary's filter is 1..{MAX_SUMMARY_FILTER_BYTES} bytes")
    if not 1 <= summary.hashes <= MAX_SUMMARY_HASHES:
        raise UsageError(f"a summary uses 1..{MAX_SUMMARY_HASHES} hashes")
    if not 0 <= summary.count <= 0xFFFF or not 0 <= summary.salt <= 255:
        raise UsageError("a summary's count is 16 bits and its salt 8 bits")
    return (
        bytes([_type_byte(FrameType.SUMMARY)])
        + zone_tag(zone)
        + struct.pack(">IHBB", summary.since, summary.count, summary.salt, summary.hashes)
        + summary.bits
    )


def encode_want(want: WantFrame, *, zone: bytes) -> bytes:
    if not want.ids and not want.key_refs:
        raise UsageError("a want frame asks for something")
    if any(len(i) != ID_PREFIX_BYTES for i in want.ids) or any(
        len(r) != KEY_REF_BYTES for r in want.key_refs
    ):
        raise UsageError(
            f"a want frame lists {ID_PREFIX_BYTES}-byte id prefixes and "
            f"{KEY_REF_BYTES}-byte key references"
        )
    frame = (
        bytes([_type_byte(FrameType.WANT)])
        + zone_tag(zone)
        + bytes([len(want.ids), len(want.key_refs)])
        + b"".join(want.ids)
        + b"".join(want.key_refs)
    )
    if len(frame) > MAX_FRAME_BYTES:
        raise UsageError(f"a want frame of {len(frame)} bytes (max {MAX_FRAME_BYTES})")
    return frame


def parse_frame(data: bytes, *, zone: bytes) -> Frame:
    """Parse one received frame of ``zone``'s channel.

    Raises :class:`FrameError` for a malformed frame, :class:`UnsupportedVersion` for another
    frame version and :class:`WrongZone` for a frame of another zone. A WHOLE frame's compact
    envelope is not restored here (see :func:`restore_envelope`).
    """
    if type(data) is not bytes:
        data = bytes(data)
    if len(data) > MAX_FRAME_BYTES:
        raise FrameError(f"radio frame of {len(data)} bytes (max {MAX_FRAME_BYTES})")
    if len(data) < HEADER_BYTES:
        raise FrameError(f"radio frame of {len(data)} bytes: shorter than its header")
    version, kind = data[0] >> 4, data[0] & 0x0F
    if version != FRAME_VERSION:
        raise UnsupportedVersion(
            f"radio frame version {version} (this node speaks {FRAME_VERSION})"
        )
    tag = data[1:HEADER_BYTES]
    if tag != zone_tag(zone):
        raise WrongZone(f"radio frame for another zone (tag {tag.hex()})")
    body = data[HEADER_BYTES:]
    if kind == FrameType.WHOLE:
        if len(body) < _MIN_COMPACT:
            raise FrameError(f"whole frame: {len(body)} bytes cannot hold an envelope")
        return WholeFrame(body)
    if kind == FrameType.FRAGMENT:
        if len(body) <= ID_PREFIX_BYTES + 1:
            raise FrameError("fragment frame: no data")
        index, count = body[ID_PREFIX_BYTES] >> 4, (body[ID_PREFIX_BYTES] & 0x0F) + 1
        prefix = body[:ID_PREFIX_BYTES]
        if count < 2 or index >= count:
            raise FrameError(
                f"fragment of {prefix.hex()}: fragment {index + 1} of {count} "
                "(a message in fragments has 2..16, numbered from 1)"
            )
        return FragmentFrame(prefix, index, count, body[ID_PREFIX_BYTES + 1 :])
    if kind == FrameType.SUMMARY:
        if len(body) <= _SUMMARY_FIXED:
            raise FrameError("summary frame: no filter")
        since, count, salt, hashes = struct.unpack(">IHBB", body[:_SUMMARY_FIXED])
        if not 1 <= hashes <= MAX_SUMMARY_HASHES:
            raise FrameError(f"summary frame: {hashes} hashes (1..{MAX_SUMMARY_HASHES})")
        return SummaryFrame(since, count, salt, hashes, body[_SUMMARY_FIXED:])
    if kind == FrameType.WANT:
        if len(body) < 2:
            raise FrameError("want frame: shorter than its counts")
        n_ids, n_keys = body[0], body[1]
        expected = 2 + n_ids * ID_PREFIX_BYTES + n_keys * KEY_REF_BYTES
        if n_ids + n_keys == 0 or len(body) != expected:
            raise FrameError(
                f"want frame: {n_ids} ids and {n_keys} key references need {expected} bytes, "
                f"not {len(body)}"
            )
        ids_end = 2 + n_ids * ID_PREFIX_BYTES
        return WantFrame(
            tuple(body[i : i + ID_PREFIX_BYTES] for i in range(2, ids_end, ID_PREFIX_BYTES)),
            tuple(body[i : i + KEY_REF_BYTES] for i in range(ids_end, len(body), KEY_REF_BYTES)),
        )
    raise FrameError(f"radio frame: unknown frame type {kind}")


def _envelope_id(envelope: bytes) -> bytes:
    return hashlib.sha256(envelope[:-SIGNATURE_BYTES]).digest()


# --- reassembly -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RadioMessage:
    """An envelope rebuilt from the radio: exactly the bytes its author signed.

    Not yet checked: look ``id`` up in the store (it may have come over Wi-Fi already), then
    pass ``envelope`` to :func:`protocol.envelope.accept`.
    """

    envelope: bytes = field(repr=False)
    id: bytes
    frames: int  # how many frames carried it


@dataclass(slots=True)
class _Partial:
    count: int
    first: float
    last: float
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


@dataclass(frozen=True, slots=True)
class ReassemblyStatistics:
    partials: int  # messages waiting for fragments
    buffered_bytes: int
    messages: int  # envelopes rebuilt (whole frames and completed fragments)
    fragments: int  # fragments received and kept
    duplicates: int  # fragments already held (relays repeat every frame)
    already_done: int  # fragments of messages completed or known
    expired: int  # partial messages dropped for a timeout
    evicted: int  # partial messages dropped to make room
    rejected: int  # frames refused with an error


class Reassembler:
    """Frames in; :class:`RadioMessage`, :class:`SummaryFrame`, :class:`WantFrame` out.

    Fragments are kept per id prefix until all have arrived, at most ``max_partials``
    messages and ``max_bytes`` bytes at a time (the oldest partial message is dropped to make
    room). A partial message is dropped when no fragment of it has arrived for
    ``idle_timeout`` seconds, or ``max_age`` seconds after its first. Prefixes completed
    recently are remembered so that relayed copies of their fragments are ignored.
    """

    def __init__(
        self,
        *,
        zone: bytes,
        max_partials: int = 16,
        max_bytes: int = 16 * 1024,
        idle_timeout: float = 120.0,
        max_age: float = 600.0,
        remember: int = 256,
    ) -> None:
        zone_tag(zone)  # validates the zone
        if max_partials < 1 or remember < 1:
            raise UsageError("a reassembler keeps at least one message")
        if max_bytes < MAX_COMPACT_BYTES:
            raise UsageError(f"a reassembler needs room for one message ({MAX_COMPACT_BYTES} B)")
        if not 0 < idle_timeout <= max_age:
            raise UsageError("need 0 < idle_timeout <= max_age")
        self.zone = zone
        self.max_partials = max_partials
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self.remember = remember
        self._partials: OrderedDict[bytes, _Partial] = OrderedDict()  # oldest first
        self._done: OrderedDict[bytes, float] = OrderedDict()
        self._buffered = 0
        self._counts = dict.fromkeys(
            ("messages", "fragments", "duplicates", "already_done", "expired", "evicted"), 0
        )
        self._rejected = 0

    def receive(
        self,
        data: bytes,
        *,
        now: float,
        keys: KeyBook,
        have: Callable[[bytes], bool] | None = None,
    ) -> RadioMessage | SummaryFrame | WantFrame | None:
        """Take one frame received on the zone's channel at ``now``.

        Returns a rebuilt message, a catch-up frame, or None (a fragment kept or ignored).
        ``have(prefix)``, if given, says whether the store already holds a message whose id
        starts with a fragment's 4-byte prefix (from Wi-Fi, say): its fragments are then
        ignored. Raises a :class:`~protocol.errors.PeerError` (:class:`FrameError`,
        :class:`UnknownKeyRef`, :class:`WrongZone`, :class:`UnsupportedVersion`) for a frame
        that cannot be used; the reassembler stays usable.
        """
        self.expire(now)
        try:
            frame = parse_frame(data, zone=self.zone)
            if isinstance(frame, WholeFrame):
                envelope = restore_envelope(frame.compact, zone=self.zone, keys=keys)
                return self._message(envelope, 1)
            if isinstance(frame, FragmentFrame):
                return self._fragment(frame, now, keys, have)
            return frame
        except (FrameError, WrongZone, UnsupportedVersion):
            self._rejected += 1
            raise

    def _message(self, envelope: bytes, frames: int) -> RadioMessage:
        message = RadioMessage(envelope, _envelope_id(envelope), frames)
        self._counts["messages"] += 1
        return message

    def _fragment(
        self,
        frame: FragmentFrame,
        now: float,
        keys: KeyBook,
        have: Callable[[bytes], bool] | None,
    ) -> RadioMessage | None:
        prefix = frame.id_prefix
        if prefix in self._done:
            self._counts["already_done"] += 1
            return None
        partial = self._partials.get(prefix)
        if partial is None:
            if have is not None and have(prefix):
                self._mark_done(prefix, now)
                self._counts["already_done"] += 1
                return None
            while len(self._partials) >= self.max_partials:
                self._evict()
            partial = self._partials[prefix] = _Partial(frame.count, now, now)
        if frame.count != partial.count:
            raise FrameError(
                f"fragment of {prefix.hex()}: says {frame.count} fragments, "
                f"earlier ones said {partial.count}"
            )
        if frame.index in partial.parts:
            self._counts["duplicates"] += 1
            return None
        if partial.size + len(frame.data) > MAX_COMPACT_BYTES:
            self._drop(prefix)
            raise FrameError(
                f"fragments of {prefix.hex()}: more than {MAX_COMPACT_BYTES} bytes in all"
            )
        while self._buffered + len(frame.data) > self.max_bytes:
            self._evict(keep=prefix)
        partial.parts[frame.index] = frame.data
        partial.size += len(frame.data)
        partial.last = now
        self._buffered += len(frame.data)
        self._counts["fragments"] += 1
        if len(partial.parts) < partial.count:
            return None
        data = b"".join(partial.parts[i] for i in range(partial.count))
        self._drop(prefix)
        try:
            envelope = restore_envelope(data, zone=self.zone, keys=keys)
        except UnknownKeyRef:
            self._mark_done(prefix, now)  # relayed copies would fail the same way
            raise
        message_id = _envelope_id(envelope)
        if message_id[:ID_PREFIX_BYTES] != prefix:
            raise FrameError(
                f"fragments of {prefix.hex()} rebuild message {short_id(message_id)}: "
                "a fragment was forged or mixed up"
            )
        self._mark_done(prefix, now)
        return self._message(envelope, partial.count)

    def _evict(self, keep: bytes | None = None) -> None:
        for prefix in self._partials:
            if prefix != keep:
                self._drop(prefix)
                self._counts["evicted"] += 1
                return
        raise AssertionError("max_bytes leaves room for one message")  # pragma: no cover

    def _drop(self, prefix: bytes) -> None:
        partial = self._partials.pop(prefix)
        self._buffered -= partial.size

    def _mark_done(self, prefix: bytes, now: float) -> None:
        self._done[prefix] = now
        self._done.move_to_end(prefix)
        while len(self._done) > self.remember:
            self._done.popitem(last=False)

    def expire(self, now: float) -> int:
        """Drop partial messages past their timeouts; return how many."""
        stale = [
            prefix
            for prefix, p in self._partials.items()
            if now - p.last >= self.idle_timeout or now - p.first >= self.max_age
        ]
        for prefix in stale:
            self._drop(prefix)
        self._counts["expired"] += len(stale)
        while self._done and now - next(iter(self._done.values())) >= self.max_age:
            self._done.popitem(last=False)
        return len(stale)

    def statistics(self) -> ReassemblyStatistics:
        return ReassemblyStatistics(
            partials=len(self._partials),
            buffered_bytes=self._buffered,
            rejected=self._rejected,
            **self._counts,
        )


# --- scheduling classes -----------------------------------------------------------------------


def radio_priority(env: Envelope) -> RadioPriority:
    """The class a message is scheduled in on the radio (SPEC.md 11.6)."""
    body = env.body
    kind = env.kind
    if kind is Kind.ALERT:
        exercise = getattr(body, "exercise", False)
        return RadioPriority.NORMAL if exercise else RadioPriority.URGENT
    if kind is Kind.HELP_REQUEST:
        critical = getattr(body, "urgency", None) is RequestUrgency.CRITICAL
        return RadioPriority.URGENT if critical else RadioPriority.NORMAL
    if kind is Kind.CHECKIN:
        status = getattr(body, "status", None)
        if status is CheckInStatus.INJURED:
            return RadioPriority.URGENT
        if status is CheckInStatus.NEED_HELP:
            return RadioPriority.NORMAL
        return RadioPriority.CHECKIN
    if kind is Kind.HELP_OFFER:
        return RadioPriority.BULK if getattr(body, "standing", False) else RadioPriority.NORMAL
    if kind in (Kind.TIP, Kind.COMMENT):
        return RadioPriority.BULK
    return RadioPriority.NORMAL


def radio_coalesce_key(env: Envelope) -> HouseholdKey | None:
    """For a check-in, the household it reports on: a queue keeps only its latest."""
    return household_of(env) if env.kind is Kind.CHECKIN else None
