"""The zone charter: what an aid zone is, who founded it, and whom it trusts from the start.

A charter is handed over in person, as a file or as a text shown on a screen (a QR code), and
checked by reading its fingerprint aloud, like a key's. Wire form (SPEC.md 11a.1)::

    charter   = canonical CBOR map {0: body (byte string), 1: [[key, signature], ...]}
    body      = canonical CBOR map of the charter's fields (below)
    signature = Ed25519-sign(key, CHARTER_CONTEXT || body)
    file      = CHARTER_MAGIC || charter
    text      = TEXT_PREFIX || base32(charter)     (RFC 4648 alphabet, no padding)
    id        = SHA-256(body)
    fingerprint = the 4×5 digits of SHA-256(CHARTER_FINGERPRINT_DOMAIN || body)

Body keys: 0 zone (4 bytes), 1 name, 2 area, 3 founders, 4 bridges, 5 relays (arrays of
32-byte keys, ascending, no duplicates), 6 lora (map), 7 peers (array of multiaddrs),
8 serial, 9 issued (unix seconds), 10 max_skew (seconds). Defaults are omitted.

A charter is valid when every founder signed its body. Signatures by other keys are allowed
(the founders of the charter it replaces). The zone id is stated, not derived: a zone created
before it had a charter keeps its id, and 4 bytes could not bind a charter anyway; the
fingerprint, compared in person, is what binds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import nacl.exceptions
import nacl.signing

from .encoding import decode_canonical, encode_canonical
from .envelope import DEFAULT_MAX_SKEW, MAX_CREATED, MIN_CREATED
from .errors import DecodeError, InvalidCharter, InvalidMessage, UsageError
from .fingerprint import digits_of
from .schema import check_text, from_wire, is_blank, to_wire, validate_fields
from .schema import field as wire_field

__all__ = [
    "CHARTER_CONTEXT",
    "CHARTER_FINGERPRINT_DOMAIN",
    "CHARTER_MAGIC",
    "MAX_CHARTER_BYTES",
    "TEXT_PREFIX",
    "Charter",
    "LoraSettings",
    "SignedCharter",
    "check_replaces",
    "check_zone",
    "decode_charter",
    "sign_charter",
]

CHARTER_MAGIC = b"ENTZONE1"
#: Uppercase letters, digits, "-" and ":" only: the whole text fits a QR code's alphanumeric
#: mode (5.5 bits a character).
TEXT_PREFIX = "ENTRAIDE-ZONE1:"
CHARTER_CONTEXT = b"entraide/charter\x00"
CHARTER_FINGERPRINT_DOMAIN = b"entraide charter v1\x00"
#: 2048 bytes are 3277 base32 characters: with the prefix, within the 4296 alphanumeric
#: characters of the largest QR code (version 40, correction level L).
MAX_CHARTER_BYTES = 2048
MAX_FOUNDERS = 8
MAX_BRIDGES = 8
MAX_RELAYS = 32
MAX_PEERS = 8
MAX_SIGNATURES = 16
MAX_SERIAL = 2**32 - 1
MAX_SKEW_LIMIT = 86_400
_LINE = 140
_PEER_MAX = 300
_KEY = 32
_SIGNATURE = 64
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_VALUE = {c: i for i, c in enumerate(_B32)}
_K_ZONE, _K_NAME, _K_AREA, _K_FOUNDERS, _K_BRIDGES, _K_RELAYS = range(6)
_K_LORA, _K_PEERS, _K_SERIAL, _K_ISSUED, _K_MAX_SKEW = range(6, 11)


@dataclass(frozen=True, slots=True)
class LoraSettings:
    """The zone's LoRa channel (names as in radio/airtime.py and Meshtastic)."""

    region: str = wire_field(0, default="", max_bytes=16)  # e.g. "EU_868"
    preset: str = wire_field(1, default="", max_bytes=16)  # e.g. "LONG_FAST"
    channel: str = wire_field(2, default="", max_bytes=11)  # Meshtastic channel name
    psk: bytes | None = wire_field(3, default=None, min_bytes=16, max_bytes=32)  # channel key
    slot: int = wire_field(4, default=0, min_value=0, max_value=65_535)  # 0: from the name

    def __post_init__(self) -> None:
        validate_fields(self, "lora")
        self.check()

    def check(self) -> None:
        """Cross-field rules (also run by :func:`protocol.schema.from_wire`)."""
        if self.psk is not None and len(self.psk) not in (16, 32):
            raise InvalidMessage("lora.psk: a channel key is 16 or 32 bytes")


@dataclass(frozen=True, slots=True)
class Charter:
    """What a zone is (SPEC.md 11a.1). Key lists are kept sorted; building one with a field
    that breaks a rule raises :class:`UsageError`."""

    zone: bytes
    name: str
    founders: tuple[bytes, ...]  # the founding coordinators (a town hall, an association)
    issued: int  # unix seconds
    area: str = ""
    bridges: tuple[bytes, ...] = ()  # official-alert bridges
    relays: tuple[bytes, ...] = ()  # relays from the start
    lora: LoraSettings | None = None
    peers: tuple[str, ...] = ()  # libp2p bootstrap multiaddrs
    serial: int = 1  # a replacing charter has a larger serial (check_replaces)
    max_skew: int = DEFAULT_MAX_SKEW
    body: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("founders", "bridges", "relays", "peers"):
            object.__setattr__(self, name, tuple(sorted(getattr(self, name))))
        if self.lora == LoraSettings():
            object.__setattr__(self, "lora", None)
        _check(self)
        object.__setattr__(self, "body", encode_canonical(_body_map(self)))

    @property
    def id(self) -> bytes:
        return hashlib.sha256(self.body).digest()

    @property
    def fingerprint(self) -> str:
        """What two people compare, digit by digit, before trusting a charter."""
        return digits_of(CHARTER_FINGERPRINT_DOMAIN, self.body)

    def sign(self, signing_key: nacl.signing.SigningKey) -> bytes:
        """One key's signature of the charter."""
        return signing_key.sign(CHARTER_CONTEXT + self.body).signature


@dataclass(frozen=True, slots=True)
class SignedCharter:
    """A charter with its signatures, as carried in a file or a text."""

    charter: Charter
    signatures: tuple[tuple[bytes, bytes], ...]  # (key, signature), by key

    @property
    def signers(self) -> frozenset[bytes]:
        return frozenset(key for key, _ in self.signatures)

    @property
    def complete(self) -> bool:
        """Whether every founder signed (a charter is valid only then)."""
        return set(self.charter.founders) <= self.signers

    def to_bytes(self) -> bytes:
        """The file form."""
        return CHARTER_MAGIC + self._cbor()

    def to_text(self) -> str:
        """The text form, for a QR code or to be read out."""
        return TEXT_PREFIX + _b32encode(self._cbor())

    def with_signature(self, signing_key: nacl.signing.SigningKey) -> SignedCharter:
        """This charter signed by one more key (each founder signs on its own device)."""
        key = bytes(signing_key.verify_key)
        others = [s for s in self.signatures if s[0] != key]
        return SignedCharter(
            self.charter, _sorted([*others, (key, self.charter.sign(signing_key))])
        )

    def _cbor(self) -> bytes:
        doc = {0: self.charter.body, 1: [list(pair) for pair in self.signatures]}
        data = encode_canonical(doc)
        if len(data) > MAX_CHARTER_BYTES:
            raise UsageError(f"charter: {len(data)} bytes (max {MAX_CHARTER_BYTES})")
        return data


def sign_charter(charter: Charter, *signing_keys: nacl.signing.SigningKey) -> SignedCharter:
    """``charter`` signed by ``signing_keys`` (every founder, for a valid charter)."""
    signed = SignedCharter(charter, ())
    for key in signing_keys:
        signed = signed.with_signature(key)
    return signed


def decode_charter(data: bytes | str, *, complete: bool = True) -> SignedCharter:
    """Read a charter from its file form (bytes) or its text form (str), check every signature
    and, unless ``complete`` is False (while founders are still signing), that every founder
    signed. Raises :class:`InvalidCharter`."""
    raw = _unwrap(data)
    try:
        doc = decode_canonical(raw, max_size=MAX_CHARTER_BYTES, what="charter")
    except DecodeError as exc:
        raise InvalidCharter(str(exc)) from None
    if type(doc) is not dict or set(doc) != {0, 1}:
        raise InvalidCharter("charter: not a map of a body and its signatures")
    body, pairs = doc[0], doc[1]
    if type(body) is not bytes or type(pairs) is not list:
        raise InvalidCharter("charter: the body is a byte string, the signatures a list")
    charter = _charter_from_body(body)
    signatures = _signatures(pairs)
    for key, signature in signatures:
        try:
            nacl.signing.VerifyKey(key).verify(CHARTER_CONTEXT + body, signature)
        except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
            raise InvalidCharter.tr(
                "the charter's signature by {key} does not verify: the charter is damaged or "
                "forged; get it again from your coordinator",
                key=_who(key),
            ) from None
    signed = SignedCharter(charter, signatures)
    missing = sorted(set(charter.founders) - signed.signers)
    if complete and missing:
        raise InvalidCharter.tr(
            "the charter is not signed by its founder {key}; get the signed charter from your "
            "coordinator",
            key=_who(missing[0]),
        )
    return signed


def check_replaces(current: SignedCharter, new: SignedCharter) -> None:
    """Raise :class:`InvalidCharter` unless ``new`` may replace ``current``: same zone, a
    larger serial, complete, and signed by more than half of the current founders (so that
    no single founder key, lost or stolen, can take a zone over)."""
    old, fresh = current.charter, new.charter
    check_zone(new, old.zone)
    if fresh.serial <= old.serial:
        raise InvalidCharter.tr(
            "this charter (version {serial}) is not newer than the one in use (version {current})",
            serial=fresh.serial,
            current=old.serial,
        )
    if not new.complete:
        raise InvalidCharter.tr(
            "the new charter is not signed by all its founders; get the signed charter from "
            "your coordinator"
        )
    agreeing = len(set(old.founders) & new.signers)
    if 2 * agreeing <= len(old.founders):
        raise InvalidCharter.tr(
            "the new charter is signed by {agreeing} of the {founders} founders of the current "
            "one; more than half must sign it",
            agreeing=agreeing,
            founders=len(old.founders),
        )


def check_zone(signed: SignedCharter, zone: bytes) -> None:
    """Raise :class:`InvalidCharter` unless the charter is for ``zone``, the node's zone id:
    a node uses a charter only for the zone it states (a zone keeps its id when it adopts
    one)."""
    if signed.charter.zone != zone:
        raise InvalidCharter.tr(
            "this charter is for zone {other}, not for this node's zone {zone}",
            other=signed.charter.zone.hex(),
            zone=zone.hex(),
        )


# --- checks and the body map -----------------------------------------------------------


def _check(c: Charter) -> None:
    """The rules of a charter's fields (SPEC.md 11a.1); :class:`UsageError` if one breaks."""
    if type(c.zone) is not bytes or len(c.zone) != 4:
        raise UsageError("charter: the zone id is 4 bytes")
    try:
        check_text(c.name, "charter.name", _LINE, multiline=False)
        check_text(c.area, "charter.area", _LINE, multiline=False)
    except InvalidMessage as exc:
        raise UsageError(str(exc)) from None
    if is_blank(c.name):
        raise UsageError("charter: the zone's name is empty")
    for name, keys, low, high in (
        ("founders", c.founders, 1, MAX_FOUNDERS),
        ("bridges", c.bridges, 0, MAX_BRIDGES),
        ("relays", c.relays, 0, MAX_RELAYS),
    ):
        if not low <= len(keys) <= high:
            raise UsageError(f"charter: {low} to {high} {name}, not {len(keys)}")
        if any(type(k) is not bytes or len(k) != _KEY for k in keys):
            raise UsageError(f"charter: {name} are 32-byte public keys")
        if len(set(keys)) != len(keys):
            raise UsageError(f"charter: a key is listed twice among the {name}")
    if set(c.bridges) & (set(c.founders) | set(c.relays)):
        raise UsageError("charter: a bridge key is only a bridge (not a founder or a relay)")
    if len(c.peers) > MAX_PEERS or len(set(c.peers)) != len(c.peers):
        raise UsageError(f"charter: at most {MAX_PEERS} distinct bootstrap peers")
    for peer in c.peers:
        if not (
            type(peer) is str
            and peer.startswith("/")
            and peer.isascii()
            and peer.isprintable()
            and len(peer) <= _PEER_MAX
        ):
            raise UsageError(f"charter: {peer!r} is not a multiaddr (printable ASCII, from /)")
    for name, value, low, high in (
        ("serial", c.serial, 1, MAX_SERIAL),
        ("issued", c.issued, MIN_CREATED, MAX_CREATED),
        ("max_skew", c.max_skew, 0, MAX_SKEW_LIMIT),
    ):
        if type(value) is not int or not low <= value <= high:
            raise UsageError(f"charter: {name} {value!r} outside {low}..{high}")
    if c.lora is not None and not isinstance(c.lora, LoraSettings):
        raise UsageError("charter: lora must be LoraSettings")


def _body_map(c: Charter) -> dict[int, Any]:
    out: dict[int, Any] = {_K_ZONE: c.zone, _K_NAME: c.name, _K_FOUNDERS: list(c.founders)}
    optional: list[tuple[int, Any, Any]] = [
        (_K_AREA, c.area, ""),
        (_K_BRIDGES, list(c.bridges), []),
        (_K_RELAYS, list(c.relays), []),
        (_K_LORA, None if c.lora is None else to_wire(c.lora), None),
        (_K_PEERS, list(c.peers), []),
        (_K_SERIAL, c.serial, 1),
        (_K_MAX_SKEW, c.max_skew, DEFAULT_MAX_SKEW),
    ]
    out.update({key: value for key, value, default in optional if value != default})
    out[_K_ISSUED] = c.issued
    return out


def _charter_from_body(body: bytes) -> Charter:
    try:
        fields = decode_canonical(body, max_size=MAX_CHARTER_BYTES, what="charter body")
    except DecodeError as exc:
        raise InvalidCharter(str(exc)) from None
    if type(fields) is not dict:
        raise InvalidCharter("charter body: not a map")
    unknown = set(fields) - set(range(_K_MAX_SKEW + 1))
    if unknown:
        raise InvalidCharter(f"charter body: unknown field {min(unknown)}")
    for key in (_K_ZONE, _K_NAME, _K_FOUNDERS, _K_ISSUED):
        if key not in fields:
            raise InvalidCharter(f"charter body: required field {key} missing")
    try:
        lora_map = fields.get(_K_LORA)
        if lora_map is not None and type(lora_map) is not dict:
            raise InvalidCharter("charter body: lora is not a map")
        charter = Charter(
            zone=fields[_K_ZONE],
            name=fields[_K_NAME],
            founders=_tuple(fields, _K_FOUNDERS),
            issued=fields[_K_ISSUED],
            area=fields.get(_K_AREA, ""),
            bridges=_tuple(fields, _K_BRIDGES),
            relays=_tuple(fields, _K_RELAYS),
            lora=None if lora_map is None else from_wire(LoraSettings, lora_map, "lora"),
            peers=_tuple(fields, _K_PEERS),
            serial=fields.get(_K_SERIAL, 1),
            max_skew=fields.get(_K_MAX_SKEW, DEFAULT_MAX_SKEW),
        )
    except (UsageError, InvalidMessage, DecodeError) as exc:
        raise InvalidCharter(str(exc)) from None
    except TypeError as exc:  # unorderable values in a key list
        raise InvalidCharter(f"charter body: {exc}") from None
    if charter.body != body:  # unsorted lists, explicit defaults, an empty lora map
        raise InvalidCharter("charter body: not in canonical form (order or defaults)")
    return charter


def _tuple(fields: dict[int, Any], key: int) -> tuple[Any, ...]:
    value = fields.get(key, [])
    if type(value) is not list:
        raise InvalidCharter(f"charter body: field {key} is not a list")
    return tuple(value)


def _signatures(pairs: list[Any]) -> tuple[tuple[bytes, bytes], ...]:
    if not 1 <= len(pairs) <= MAX_SIGNATURES:
        raise InvalidCharter(f"charter: 1 to {MAX_SIGNATURES} signatures, not {len(pairs)}")
    out = []
    for pair in pairs:
        if (
            type(pair) is not list
            or len(pair) != 2
            or type(pair[0]) is not bytes
            or len(pair[0]) != _KEY
            or type(pair[1]) is not bytes
            or len(pair[1]) != _SIGNATURE
        ):
            raise InvalidCharter("charter: a signature is [32-byte key, 64-byte signature]")
        out.append((pair[0], pair[1]))
    if out != sorted(out) or len({key for key, _ in out}) != len(out):
        raise InvalidCharter("charter: signatures sorted by key, one per key")
    return tuple(out)


def _sorted(pairs: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(sorted(pairs))


def _who(key: bytes) -> str:
    return f"{key[:4].hex()}…"


# --- the file and text forms -------------------------------------------------------------


def _unwrap(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        if data.startswith(CHARTER_MAGIC):
            return data[len(CHARTER_MAGIC) :]
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError:
            raise _not_a_charter() from None
    text = "".join(data.split())  # a text may arrive wrapped over several lines
    if text[: len(TEXT_PREFIX)].upper() != TEXT_PREFIX:
        raise _not_a_charter()
    return _b32decode(text[len(TEXT_PREFIX) :].upper())


def _not_a_charter() -> InvalidCharter:
    return InvalidCharter.tr(
        "this is not a zone charter: a charter file starts with {magic}, a charter text with "
        "{prefix}",
        magic=CHARTER_MAGIC.decode(),
        prefix=TEXT_PREFIX,
    )


def _b32encode(data: bytes) -> str:
    bits = len(data) * 8
    pad = -bits % 5
    number = int.from_bytes(data, "big") << pad
    count = (bits + pad) // 5
    return "".join(_B32[(number >> (5 * (count - 1 - i))) & 31] for i in range(count))


def _b32decode(text: str) -> bytes:
    number = 0
    for char in text:
        value = _B32_VALUE.get(char)
        if value is None:
            raise InvalidCharter(f"charter text: {char!r} is not a base32 character")
        number = number << 5 | value
    size = len(text) * 5 // 8
    pad = len(text) * 5 - size * 8
    if pad >= 5 or number & ((1 << pad) - 1):
        raise InvalidCharter("charter text: cut off or damaged (bad length or padding)")
    return (number >> pad).to_bytes(size, "big")
