"""The signed envelope: what every transport carries.

Wire form (SPEC.md, "Envelope")::

    envelope = version (1 byte, 0x01) || content (canonical CBOR map) || signature (64 bytes)
    signed   = version || content                      -- "the signed bytes"
    signature = Ed25519-sign(author, SIGNING_CONTEXT || signed)
    id       = SHA-256(signed)

Content map keys: 0 kind, 1 author (32-byte Ed25519 public key), 2 created (unix seconds),
3 lifetime (minutes, omitted when the kind's default), 4 zone (4 bytes), 5 refs (array of
32-byte ids, omitted when empty), 6 body (map, omitted when empty).

Decoding checks structure, canonical form and the signature over the exact bytes received,
then the kind's rules. Time (expiry, clock skew) and authorisation depend on the receiver
and are checked by :func:`check_acceptable`; :func:`accept` does everything. Who holds
which role comes from the policy's ``trust`` (:class:`protocol.trust.Roles`, SPEC.md 11a).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.exceptions
import nacl.signing

from .encoding import decode_canonical, encode_canonical
from .errors import (
    BadSignature,
    ExpiredMessage,
    FutureMessage,
    InvalidMessage,
    NonCanonical,
    Oversize,
    Truncated,
    Unauthorized,
    UnknownKind,
    UnsupportedVersion,
    UsageError,
    WrongZone,
)
from .kinds import BODY_TYPES, KIND_RULES, AlertOrigin, Body, Kind, Revoke, Role, Vouch
from .schema import from_wire, to_wire

__all__ = [
    "DEFAULT_MAX_SKEW",
    "MAX_ENVELOPE_BYTES",
    "MIN_CREATED",
    "SIGNING_CONTEXT",
    "VERSION",
    "Envelope",
    "Policy",
    "RoleSource",
    "accept",
    "authorised_roles",
    "check_acceptable",
    "decode",
    "lifetime_to_outlive",
    "seal",
    "short_id",
    "signature_valid",
    "verify_signature",
]

VERSION = 1
#: Domain separation: an envelope signature can never be mistaken for any other signature.
SIGNING_CONTEXT = b"entraide/envelope\x00"
SIGNATURE_BYTES = 64
KEY_BYTES = 32
ID_BYTES = 32
ZONE_BYTES = 4
MAX_ENVELOPE_BYTES = 2048
#: 2024-01-01T00:00:00Z: nothing older exists; a clock reading earlier is wrong.
MIN_CREATED = 1_704_067_200
MAX_CREATED = 2**32 - 1
#: How far in the future (seconds) a message's creation time may be, by the receiver's clock.
DEFAULT_MAX_SKEW = 600

_K_KIND, _K_AUTHOR, _K_CREATED, _K_LIFETIME, _K_ZONE, _K_REFS, _K_BODY = range(7)
# Where the author key sits in every canonical envelope (see signature_valid).
_AUTHOR_HEADER = bytes([_K_AUTHOR, 0x58, KEY_BYTES])
_AUTHOR_START = 7
_AUTHOR_END = _AUTHOR_START + KEY_BYTES


class RoleSource(Protocol):
    """Who holds which role in the zone: :class:`protocol.trust.Roles`."""

    def roles_of(self, key: bytes) -> frozenset[Role]: ...


@dataclass(frozen=True, slots=True)
class Policy:
    """What the receiver's zone allows: its id, which keys may publish official mirrors, and
    how far ahead of the receiver's clock a message may be dated; ``trust`` says who holds
    which role (None: a zone without a charter, where ``bridge_keys`` are the only role)."""

    bridge_keys: frozenset[bytes] = frozenset()
    max_skew: int = DEFAULT_MAX_SKEW
    zone: bytes | None = None  # None: accept every zone (tools, tests)
    trust: RoleSource | None = None

    def roles_of(self, key: bytes) -> frozenset[Role]:
        roles = frozenset() if self.trust is None else self.trust.roles_of(key)
        return roles | {Role.BRIDGE} if key in self.bridge_keys else roles


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded, signature-checked, valid message. ``raw`` is exactly what was signed+sent."""

    kind: Kind
    author: bytes
    created: int
    lifetime: int  # minutes
    zone: bytes
    refs: tuple[bytes, ...]
    body: Body
    signature: bytes
    raw: bytes = field(repr=False)
    id: bytes = field(repr=False)

    @property
    def expires(self) -> int:
        return self.created + 60 * self.lifetime

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    def __repr__(self) -> str:
        return (
            f"Envelope({self.kind.name.lower()} {self.short_id} by {self.author[:4].hex()}…, "
            f"created={self.created}, body={self.body!r})"
        )


def short_id(message_id: bytes) -> str:
    """The first 8 hex digits of an id: what humans read and type."""
    return message_id[:4].hex()


def _who(author: Any) -> str:
    return f"{author[:4].hex()}…" if isinstance(author, bytes) and len(author) >= 4 else "?"


def _what(kind: Kind, author: bytes) -> str:
    """How an error names a message before its id is known (built only when raising)."""
    return f"{kind.name.lower()} from {_who(author)}"


def _describe(env: Envelope) -> str:
    return f"{env.kind.name.lower()} {env.short_id} from {_who(env.author)}"


def _header_checks(
    content: dict[int, Any],
) -> tuple[Kind, bytes, int, int, bytes, tuple[bytes, ...]]:
    """Validate the envelope fields other than the body; return them typed."""
    for key in content:
        if type(key) is not int or not 0 <= key <= _K_BODY:
            raise InvalidMessage(f"envelope: unknown field {key!r}")
    for key in (_K_KIND, _K_AUTHOR, _K_CREATED, _K_ZONE):
        if key not in content:
            raise InvalidMessage(f"envelope: required field {key} missing")
    kind_no, author = content[_K_KIND], content[_K_AUTHOR]
    if type(author) is not bytes or len(author) != KEY_BYTES:
        raise InvalidMessage("envelope: author must be a 32-byte Ed25519 public key")
    if type(kind_no) is not int:
        raise InvalidMessage(f"envelope from {_who(author)}: kind must be a number")
    try:
        kind = Kind(kind_no)
    except ValueError:
        raise UnknownKind(f"message from {_who(author)}: unknown kind {kind_no}") from None
    rules = KIND_RULES[kind]
    created = content[_K_CREATED]
    if type(created) is not int or not MIN_CREATED <= created <= MAX_CREATED:
        raise InvalidMessage(
            f"{_what(kind, author)}: creation time {created!r} is not a plausible unix time"
        )
    lifetime = content.get(_K_LIFETIME, rules.default_lifetime)
    if type(lifetime) is not int or not 1 <= lifetime <= rules.max_lifetime:
        raise InvalidMessage(
            f"{_what(kind, author)}: lifetime {lifetime!r} min outside 1..{rules.max_lifetime} min"
        )
    if _K_LIFETIME in content and lifetime == rules.default_lifetime:
        raise NonCanonical(f"{_what(kind, author)}: the default lifetime must be omitted")
    zone = content[_K_ZONE]
    if type(zone) is not bytes or len(zone) != ZONE_BYTES:
        raise InvalidMessage(f"{_what(kind, author)}: zone must be {ZONE_BYTES} bytes")
    refs_raw = content.get(_K_REFS, [])
    if type(refs_raw) is not list or any(
        type(r) is not bytes or len(r) != ID_BYTES for r in refs_raw
    ):
        raise InvalidMessage(f"{_what(kind, author)}: references must be 32-byte message ids")
    if _K_REFS in content and not refs_raw:
        raise NonCanonical(f"{_what(kind, author)}: an empty reference list must be omitted")
    if len(set(refs_raw)) != len(refs_raw):
        raise InvalidMessage(f"{_what(kind, author)}: a message is referenced twice")
    if not rules.min_refs <= len(refs_raw) <= rules.max_refs:
        raise InvalidMessage(
            f"{_what(kind, author)}: {len(refs_raw)} references "
            f"(needs {rules.min_refs}..{rules.max_refs}: {rules.what_refs_mean})"
        )
    return kind, author, created, lifetime, zone, tuple(refs_raw)


def decode(data: bytes, *, verify: bool = True) -> Envelope:
    """Parse, verify and validate an envelope received from anywhere.

    ``verify=False`` is only for bytes this node itself verified before storing them.
    Raises a :class:`~protocol.errors.PeerError` subclass for any bad input.
    """
    if type(data) is not bytes:
        data = bytes(data)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise Oversize(f"envelope: {len(data)} bytes (max {MAX_ENVELOPE_BYTES})")
    if len(data) < 2 + SIGNATURE_BYTES:
        raise Truncated(f"envelope: only {len(data)} bytes")
    if data[0] != VERSION:
        raise UnsupportedVersion(f"envelope: version {data[0]} (this node speaks {VERSION})")
    signed = data[:-SIGNATURE_BYTES]
    signature = data[-SIGNATURE_BYTES:]
    content = decode_canonical(signed[1:], max_size=MAX_ENVELOPE_BYTES, what="envelope")
    if type(content) is not dict:
        raise InvalidMessage("envelope: content is not a map")
    kind, author, created, lifetime, zone, refs = _header_checks(content)
    body_map = content.get(_K_BODY, {})
    if type(body_map) is not dict:
        raise InvalidMessage(f"{kind.name.lower()} from {_who(author)}: body is not a map")
    if _K_BODY in content and not body_map:
        raise NonCanonical(f"{kind.name.lower()} from {_who(author)}: empty body must be omitted")
    body = from_wire(BODY_TYPES[kind], body_map, f"{kind.name.lower()} from {_who(author)}")
    env = Envelope(
        kind=kind,
        author=author,
        created=created,
        lifetime=lifetime,
        zone=zone,
        refs=refs,
        body=body,
        signature=signature,
        raw=data,
        id=hashlib.sha256(signed).digest(),
    )
    if verify:
        verify_signature(env)
    return env


def signature_valid(data: bytes) -> bool:
    """Whether ``data`` carries a valid signature by the author key at its canonical place.

    A canonical envelope always starts ``01 A? 00 <kind> 01 58 20 <author: 32 bytes>`` (kinds
    are below 24), so the signature can be checked before, or in parallel with, decoding.
    Bytes without that shape return False: :func:`decode` will say what is wrong with them.
    This lets a store verify many envelopes on worker threads (libsodium releases the GIL)
    while its own thread decodes them.
    """
    if (
        len(data) < _AUTHOR_END + SIGNATURE_BYTES
        or data[0] != VERSION
        or data[2] != _K_KIND
        or data[4:_AUTHOR_START] != _AUTHOR_HEADER
    ):
        return False
    try:
        nacl.signing.VerifyKey(data[_AUTHOR_START:_AUTHOR_END]).verify(
            SIGNING_CONTEXT + data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
        )
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


def verify_signature(env: Envelope) -> None:
    """Check the signature over the exact bytes received; raise :class:`BadSignature`."""
    if not signature_valid(env.raw):
        raise BadSignature(
            f"{env.kind.name.lower()} from {_who(env.author)}: signature does not verify "
            "(forged or corrupted)"
        ) from None


def check_acceptable(env: Envelope, *, now: int, policy: Policy) -> None:
    """Receiver-dependent rules: not expired, not from the future, sender authorised."""
    if policy.zone is not None and env.zone != policy.zone:
        raise WrongZone(
            f"{_describe(env)}: belongs to zone {env.zone.hex()}, not {policy.zone.hex()}"
        )
    if env.created > now + policy.max_skew:
        ahead = env.created - now
        raise FutureMessage(
            f"{_describe(env)}: created {_duration(ahead)} in the future "
            f"(max clock skew {_duration(policy.max_skew)})"
        )
    if env.expires <= now:
        raise ExpiredMessage(f"{_describe(env)}: expired {_duration(now - env.expires)} ago")
    needed = authorised_roles(env)
    if needed is None or needed & policy.roles_of(env.author):
        return
    if needed == {Role.BRIDGE}:
        raise Unauthorized(
            f"{_describe(env)}: official alert from a key the zone does not list as bridge"
        )
    if not needed:
        raise Unauthorized(f"{_describe(env)}: a key cannot vouch for itself")
    names = " or a ".join(role.name.lower() for role in sorted(needed))
    raise Unauthorized(f"{_describe(env)}: only a {names} of the zone may send this")


def authorised_roles(env: Envelope) -> frozenset[Role] | None:
    """The roles one of which the author must hold to send ``env`` (SPEC.md 11a.3); None
    when anyone may, an empty set when nobody may (a vouch for oneself)."""
    body = env.body
    if env.kind is Kind.ALERT and getattr(body, "origin", None) is AlertOrigin.OFFICIAL:
        return frozenset({Role.BRIDGE})
    if isinstance(body, Vouch):
        if body.subject == env.author:
            return frozenset()
        if body.role is Role.HOUSEHOLD:
            return frozenset({Role.RELAY, Role.COORDINATOR})
        return frozenset({Role.COORDINATOR})
    if isinstance(body, Revoke):
        return None if body.subject == env.author else frozenset({Role.COORDINATOR})
    if env.kind is Kind.MARK:
        return frozenset({Role.RELAY, Role.COORDINATOR})
    return None


def accept(data: bytes, *, now: int, policy: Policy) -> Envelope:
    """Everything a node checks before storing or forwarding bytes it received."""
    env = decode(data)
    check_acceptable(env, now=now, policy=policy)
    return env


def seal(
    body: Body,
    *,
    signing_key: nacl.signing.SigningKey,
    created: int,
    zone: bytes,
    refs: tuple[bytes, ...] | list[bytes] = (),
    lifetime: int | None = None,
) -> Envelope:
    """Sign a new message. Raises :class:`UsageError` (our fault) if it would be invalid."""
    kind = body.KIND
    rules = KIND_RULES[kind]
    # Keys in ascending order: the canonical form checked on decode.
    content: dict[int, Any] = {
        _K_KIND: int(kind),
        _K_AUTHOR: bytes(signing_key.verify_key),
        _K_CREATED: created,
    }
    if lifetime is not None and lifetime != rules.default_lifetime:
        content[_K_LIFETIME] = lifetime
    content[_K_ZONE] = zone
    if refs:
        content[_K_REFS] = list(refs)
    body_map = to_wire(body)
    if body_map:
        content[_K_BODY] = body_map
    signed = bytes([VERSION]) + encode_canonical(content)
    signature = signing_key.sign(SIGNING_CONTEXT + signed).signature
    try:
        return decode(signed + signature, verify=False)
    except InvalidMessage as exc:
        raise UsageError(f"cannot send this {kind.name.lower()}: {exc}") from None
    except (Oversize, NonCanonical) as exc:
        raise UsageError(f"cannot send this {kind.name.lower()}: {exc}") from None


def lifetime_to_outlive(target: Envelope, kind: Kind, *, now: int) -> int:
    """The lifetime (minutes) a new message of ``kind`` created at ``now`` needs to last as
    long as ``target``, within the kind's limits. A retraction or resolution that expired
    before its target would be pruned, and the target would come back."""
    rules = KIND_RULES[kind]
    remaining = -(-(target.expires - now) // 60) + 1
    return min(max(rules.default_lifetime, remaining), rules.max_lifetime)


def _duration(seconds: int) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
