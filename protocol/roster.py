"""The check-on-me roster: households that asked to be visited after an alert.

A household opts in with a roster entry (kind 16): its needs, address and contact, readable
by the zone's relays only. Construction (SPEC.md 7.17)::

    plaintext = len (2 bytes, big-endian) || canonical CBOR of RosterDetails || zeros,
                padded to a multiple of ROSTER_PAD bytes (at most MAX_ROSTER_PLAINTEXT)
    box       = nonce (24) || XChaCha20-Poly1305(content key, nonce, plaintext,
                                                 aad = ROSTER_AAD || zone || author)
    keys      = for each relay, crypto_box_seal(content key, X25519 key of the relay)

A relay's X25519 key is converted from its Ed25519 key (crypto_sign_ed25519_pk_to_curve25519).
The sealer's randomness is a parameter (``entropy``, 32 random bytes): the content key, the
nonce and each seal's ephemeral key are derived from it with SHAKE-256, so this module stays
pure and an entry is reproducible from its inputs (the test vectors rely on it).

Everyone sees that a key has an entry and how many relays it is sealed to (and its size, to
the padding); only relays read what it says. An entry sealed before a relay was vouched is
not readable by that relay, and a relay that loses its role can still read what it received:
a household re-seals its entry when :func:`recipients` changes.

Escalation (:func:`escalations`): after an alert, a household of the roster with no
check-in since the alert escalates to its assigned relay once ``check_after`` minutes have
passed, and to every relay twice as late; a check-in since the alert saying "needs help" or
"injured" escalates at once, "nobody home" to every relay at once. Relays record their
visits as check-ins on behalf of the household (:func:`visit`).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import nacl.bindings
import nacl.exceptions
import nacl.signing

from .encoding import decode_canonical, encode_canonical
from .envelope import Envelope
from .errors import DecodeError, InvalidMessage, UsageError
from .kinds import (
    LINE,
    MAX_ROSTER_PLAINTEXT,
    MAX_ROSTER_RELAYS,
    ROSTER_PAD,
    SHORT,
    CheckIn,
    CheckInStatus,
    Kind,
    RosterEntry,
)
from .schema import field, from_wire, is_blank, to_wire, validate_fields
from .state import Board, CheckInView, HouseholdKey, name_household
from .trust import Roles

__all__ = [
    "ROSTER_AAD",
    "Escalation",
    "EscalationReason",
    "RosterDetails",
    "RosterItem",
    "escalations",
    "open_entry",
    "read_roster",
    "recipients",
    "seal_entry",
    "visit",
]

ROSTER_AAD = b"entraide roster v1\x00"
_KDF = b"entraide roster keys v1\x00"
_RANK = b"entraide relay rank v1\x00"
_NONCE = 24
_KEY = 32
_LENGTH = 2


@dataclass(frozen=True, slots=True)
class RosterDetails:
    """What a relay reads in a roster entry."""

    needs: str = field(0, max_bytes=LINE)  # "oxygen at home, wheelchair, hard of hearing"
    address: str = field(1, default="", max_bytes=LINE)  # where to go, door code, floor
    contact: str = field(2, default="", max_bytes=SHORT)  # a phone number, a relative
    #: For a person without a node, entered by a relay: the household is then this name.
    name: str = field(3, default="", max_bytes=SHORT)
    relay: bytes | None = field(4, default=None, max_bytes=32)  # the assigned relay
    #: How long after an alert a missing check-in escalates, in minutes.
    check_after: int = field(5, default=120, min_value=15, max_value=1440)

    def __post_init__(self) -> None:
        validate_fields(self, "roster")
        if is_blank(self.needs):
            raise InvalidMessage("roster: the needs are empty")
        if self.name and is_blank(self.name):
            raise InvalidMessage("roster: the name is blank")

    def household(self, author: bytes) -> HouseholdKey:
        """The household this entry is about: the named person, else the author's."""
        return name_household(self.name) if self.name else author


def recipients(
    relays: Iterable[bytes], household: HouseholdKey, *, preferred: bytes | None = None
) -> tuple[bytes, ...]:
    """The relays an entry about ``household`` is sealed to, the assigned one first: the
    preferred relay if it is one, then the others by rendezvous hashing (each household has
    its own order, which changes little when relays come and go), at most
    :data:`MAX_ROSTER_RELAYS`."""
    tag = household if isinstance(household, bytes) else household[1].encode("utf-8")
    ranked = sorted(set(relays), key=lambda r: (r != preferred, _rank(r, tag)))
    return tuple(ranked[:MAX_ROSTER_RELAYS])


def _rank(relay: bytes, tag: bytes) -> bytes:
    return hashlib.sha256(_RANK + relay + tag).digest()


def seal_entry(
    details: RosterDetails,
    *,
    relays: Iterable[bytes],
    author: bytes,
    zone: bytes,
    entropy: bytes,
) -> RosterEntry:
    """The body of a roster entry readable by ``relays`` only (in the order given; see
    :func:`recipients`), with the details' ``relay`` set to the first one if unset.
    ``entropy``: 32 fresh random bytes (os.urandom), never reused."""
    chosen = tuple(dict.fromkeys(relays))
    if not chosen:
        raise UsageError.tr("no relay can receive a check-on-me entry yet: ask a coordinator")
    if len(chosen) > MAX_ROSTER_RELAYS:
        raise UsageError(f"a roster entry is sealed to at most {MAX_ROSTER_RELAYS} relays")
    if len(entropy) != 32:
        raise UsageError("roster: entropy is 32 random bytes")
    if details.relay is None:
        details = replace(details, relay=chosen[0])
    data = encode_canonical(to_wire(details))
    size = -(-(_LENGTH + len(data)) // ROSTER_PAD) * ROSTER_PAD
    # The field limits keep every details map within (430 bytes with its length at most).
    assert size <= MAX_ROSTER_PLAINTEXT, size
    plaintext = len(data).to_bytes(_LENGTH, "big") + data + bytes(size - _LENGTH - len(data))
    stream = hashlib.shake_256(_KDF + entropy).digest(_KEY + _NONCE + _KEY * len(chosen))
    content_key, nonce = stream[:_KEY], stream[_KEY : _KEY + _NONCE]
    ephemeral = stream[_KEY + _NONCE :]
    slots = []
    for i, relay in enumerate(chosen):
        try:
            public = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(relay)
        except (nacl.exceptions.RuntimeError, ValueError, TypeError):
            raise UsageError(f"roster: {relay[:4].hex()}… is not a usable public key") from None
        slots.append(_seal(content_key, public, ephemeral[_KEY * i : _KEY * (i + 1)]))
    box = nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, ROSTER_AAD + zone + author, nonce, content_key
    )
    return RosterEntry(keys=b"".join(slots), box=box)


def _seal(message: bytes, public: bytes, secret: bytes) -> bytes:
    """libsodium's crypto_box_seal with a given ephemeral secret (its output, byte for byte)."""
    ephemeral = nacl.bindings.crypto_scalarmult_base(secret)
    nonce = hashlib.blake2b(ephemeral + public, digest_size=_NONCE).digest()
    return ephemeral + nacl.bindings.crypto_box_easy(message, nonce, public, secret)


def open_entry(env: Envelope, relay_key: nacl.signing.SigningKey) -> RosterDetails | None:
    """The details of a roster entry, if ``relay_key`` is one of its relays; None otherwise
    (every key that is not among them). Raises :class:`InvalidMessage` if the entry opens but
    its content breaks the rules (its author sealed garbage)."""
    body = env.body
    if not isinstance(body, RosterEntry):
        raise UsageError(f"{env.kind.name.lower()} {env.short_id} is not a roster entry")
    private = relay_key.to_curve25519_private_key()
    secret, public = bytes(private), bytes(private.public_key)
    for slot in body.slots:
        try:
            content_key = nacl.bindings.crypto_box_seal_open(slot, public, secret)
        except nacl.exceptions.CryptoError:
            continue
        if len(content_key) == _KEY:
            return _open_box(env, body.box, content_key)
    return None


def _open_box(env: Envelope, box: bytes, content_key: bytes) -> RosterDetails:
    where = f"roster_entry {env.short_id} from {env.author[:4].hex()}…"
    try:
        plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            box[_NONCE:], ROSTER_AAD + env.zone + env.author, box[:_NONCE], content_key
        )
    except nacl.exceptions.CryptoError:
        raise InvalidMessage(f"{where}: the content does not open with its key") from None
    size = int.from_bytes(plaintext[:_LENGTH], "big")
    data, padding = plaintext[_LENGTH : _LENGTH + size], plaintext[_LENGTH + size :]
    if _LENGTH + size > len(plaintext) or any(padding):
        raise InvalidMessage(f"{where}: bad padding")
    try:
        wire = decode_canonical(data, max_size=MAX_ROSTER_PLAINTEXT, what=where)
        if type(wire) is not dict:
            raise InvalidMessage(f"{where}: the details are not a map")
        return from_wire(RosterDetails, wire, where)
    except DecodeError as exc:
        raise InvalidMessage(str(exc)) from None


# --- the roster a relay reads, and escalations --------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterItem:
    envelope: Envelope
    details: RosterDetails

    @property
    def household(self) -> HouseholdKey:
        return self.details.household(self.envelope.author)


def read_roster(
    messages: Iterable[Envelope], relay_key: nacl.signing.SigningKey, *, now: int
) -> tuple[RosterItem, ...]:
    """The entries ``relay_key`` can read among ``messages``: live, not retracted, not
    replaced by a later entry of the same author citing them; one per household (the latest
    by (created, id)). Entries that open to garbage are skipped."""
    unique = {env.id: env for env in messages}
    retracted = {
        r.refs[0]
        for r in unique.values()
        if r.kind is Kind.RETRACTION
        and (t := unique.get(r.refs[0])) is not None
        and t.author == r.author
    }
    entries = [e for e in unique.values() if e.kind is Kind.ROSTER_ENTRY]
    replaced = {
        ref
        for e in entries
        for ref in e.refs
        if (old := unique.get(ref)) is not None
        and old.kind is Kind.ROSTER_ENTRY
        and old.author == e.author
    }
    latest: dict[HouseholdKey, RosterItem] = {}
    for env in sorted(entries, key=lambda e: (e.created, e.id)):
        if env.id in retracted or env.id in replaced or env.expires <= now:
            continue
        try:
            details = open_entry(env, relay_key)
        except InvalidMessage:
            continue
        if details is not None:
            item = RosterItem(env, details)
            latest[item.household] = item
    return tuple(sorted(latest.values(), key=lambda i: (i.envelope.created, i.envelope.id)))


class EscalationReason(enum.StrEnum):
    SILENT = "silent"  # no check-in since the alert
    NEEDS_HELP = "needs_help"  # a check-in since the alert says so (or injured)
    NOBODY_HOME = "nobody_home"  # a visit found nobody


@dataclass(frozen=True, slots=True)
class Escalation:
    item: RosterItem
    reason: EscalationReason
    #: 1: the assigned relay; 2: every relay (it did not help, or it is no relay any more).
    level: int
    #: The relays to alert, sorted.
    relays: tuple[bytes, ...]
    #: Since when it is due (unix seconds).
    due: int
    #: The household's latest check-in, if any.
    latest: CheckInView | None


def escalations(
    items: Iterable[RosterItem], board: Board, roles: Roles, *, since: int | None, now: int
) -> tuple[Escalation, ...]:
    """Who needs a visit at ``now`` after an alert that started at ``since`` (None: no alert,
    nothing escalates); e.g. ``since = latest_alert(board).started``."""
    if since is None:
        return ()
    relays = roles.relays
    out = []
    for item in items:
        latest = board.checkin_of(item.household)
        fresh = latest if latest is not None and latest.envelope.created >= since else None
        delay = 60 * item.details.check_after
        if fresh is not None and fresh.status in (CheckInStatus.NEED_HELP, CheckInStatus.INJURED):
            reason, due = EscalationReason.NEEDS_HELP, fresh.envelope.created
            level = 2 if now >= due + delay else 1
        elif fresh is not None and fresh.status is CheckInStatus.NOBODY_HOME:
            reason, due, level = EscalationReason.NOBODY_HOME, fresh.envelope.created, 2
        elif fresh is None and now >= since + delay:
            reason, due = EscalationReason.SILENT, since + delay
            level = 2 if now >= due + delay else 1
        else:
            continue
        assigned = item.details.relay
        if level == 1 and assigned is not None and assigned in relays:
            chosen: tuple[bytes, ...] = (assigned,)
        else:
            level, chosen = 2, tuple(sorted(relays))
        out.append(Escalation(item, reason, level, chosen, due, latest))
    return tuple(sorted(out, key=lambda e: (e.due, e.item.envelope.id)))


def visit(item: RosterItem, status: CheckInStatus, *, text: str = "") -> CheckIn:
    """The check-in a relay sends after visiting ``item``'s household, on its behalf."""
    household = item.household
    if isinstance(household, bytes):
        return CheckIn(status=status, subject_key=household, text=text)
    return CheckIn(status=status, subject_name=item.details.name, text=text)
