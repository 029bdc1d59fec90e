"""The signed envelope: seal, decode, receiver rules (SPEC.md sections 5 and 6)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import nacl.signing
import pytest

from protocol.encoding import encode_canonical
from protocol.envelope import (
    DEFAULT_MAX_SKEW,
    MAX_ENVELOPE_BYTES,
    MIN_CREATED,
    SIGNING_CONTEXT,
    VERSION,
    Envelope,
    Policy,
    accept,
    check_acceptable,
    decode,
    lifetime_to_outlive,
    seal,
    short_id,
    verify_signature,
)
from protocol.errors import (
    BadSignature,
    EntraideError,
    ExpiredMessage,
    FutureMessage,
    InvalidMessage,
    NonCanonical,
    Oversize,
    PeerError,
    Truncated,
    Unauthorized,
    UnknownKind,
    UnsupportedVersion,
    UsageError,
    WrongZone,
)
from protocol.kinds import (
    KIND_RULES,
    Alert,
    AlertOrigin,
    CheckIn,
    CheckInStatus,
    Claim,
    Comment,
    HelpOffer,
    HelpRequest,
    Incident,
    IncidentType,
    Kind,
    Need,
    OfficialSource,
    Resolution,
    ResourcePoint,
    ResourceType,
    Retraction,
    Tip,
)
from protocol.schema import to_wire

ALICE = nacl.signing.SigningKey(bytes(range(32)))
BOB = nacl.signing.SigningKey(bytes(range(32, 64)))
BRIDGE = nacl.signing.SigningKey(bytes(range(64, 96)))
ALICE_PUB = bytes(ALICE.verify_key)
WHO = f"{ALICE_PUB[:4].hex()}…"  # how messages name alice: "03a107bf…"
ZONE = bytes.fromhex("01020304")
T0 = 1_780_000_000
NOW = T0 + 600
POLICY = Policy(bridge_keys=frozenset({bytes(BRIDGE.verify_key)}))
REF = hashlib.sha256(b"some earlier message").digest()
REF2 = hashlib.sha256(b"another earlier message").digest()

#: One valid body per kind, with the references it needs.
SAMPLES: dict[Kind, tuple[Any, tuple[bytes, ...]]] = {
    Kind.ALERT: (Alert(headline="Crue"), ()),
    Kind.HELP_REQUEST: (HelpRequest(need=Need.WATER), ()),
    Kind.HELP_OFFER: (HelpOffer(what=Need.TOOLS), ()),
    Kind.CLAIM: (Claim(), (REF,)),
    Kind.RESOLUTION: (Resolution(), (REF,)),
    Kind.CHECKIN: (CheckIn(status=CheckInStatus.SAFE), ()),
    Kind.INCIDENT: (Incident(type=IncidentType.FIRE), ()),
    Kind.RESOURCE_POINT: (ResourcePoint(type=ResourceType.FOOD, name="Halle"), ()),
    Kind.TIP: (Tip(title="Eau"), ()),
    Kind.RETRACTION: (Retraction(), (REF,)),
    Kind.COMMENT: (Comment(text="Merci"), (REF,)),
}

OFFICIAL = Alert(
    headline="Vigilance rouge",
    origin=AlertOrigin.OFFICIAL,
    official=OfficialSource(
        source="vigicrues", sender="x@y.fr", identifier="FR-1", sent=T0, digest=bytes(32)
    ),
)


def checkin_content(**changes: Any) -> dict[int, Any]:
    content: dict[int, Any] = {0: 6, 1: ALICE_PUB, 2: T0, 4: ZONE, 6: {0: 1}}
    content.update(changes)
    return content


def build(
    content: Any,
    key: nacl.signing.SigningKey = ALICE,
    version: int = VERSION,
    context: bytes = SIGNING_CONTEXT,
) -> bytes:
    """Sign arbitrary content (canonically encoded) exactly as seal would."""
    signed = bytes([version]) + encode_canonical(content)
    return signed + key.sign(context + signed).signature


def with_key(content: dict[int, Any], key: int, value: Any) -> dict[int, Any]:
    out = dict(content)
    out[key] = value
    return out


def without(content: dict[int, Any], key: int) -> dict[int, Any]:
    return {k: v for k, v in content.items() if k != key}


def refused(data: bytes, cls: type[PeerError], *fragments: str, check: Any = decode) -> PeerError:
    """Assert that ``check(data)`` raises exactly ``cls`` with all ``fragments`` in its text."""
    with pytest.raises(PeerError) as info:
        check(data)
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    for fragment in fragments:
        assert fragment in str(exc), f"{fragment!r} not in {str(exc)!r}"
    assert exc.fault == "peer"
    return exc


def sealed(kind: Kind = Kind.CHECKIN, **kwargs: Any) -> Envelope:
    body, refs = SAMPLES[kind]
    params: dict[str, Any] = {"signing_key": ALICE, "created": T0, "zone": ZONE, "refs": refs}
    params.update(kwargs)
    return seal(body, **params)


# --- seal and decode ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.name.lower())
def test_seal_then_decode_round_trips(kind: Kind) -> None:
    env = sealed(kind)
    again = decode(env.raw)
    assert again == env
    assert again.kind is kind
    assert again.author == ALICE_PUB
    assert again.created == T0
    assert again.lifetime == KIND_RULES[kind].default_lifetime
    assert again.zone == ZONE
    assert again.refs == SAMPLES[kind][1]
    assert again.body == SAMPLES[kind][0]
    assert again.id == hashlib.sha256(env.raw[:-64]).digest()
    assert again.signature == env.raw[-64:]


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.name.lower())
def test_seal_with_every_lifetime_bound(kind: Kind) -> None:
    rules = KIND_RULES[kind]
    for lifetime in (1, rules.default_lifetime - 1, rules.max_lifetime):
        env = sealed(kind, lifetime=lifetime)
        assert env.lifetime == lifetime
        assert decode(env.raw) == env
        assert env.expires == T0 + 60 * lifetime


def test_default_lifetime_is_omitted() -> None:
    default = KIND_RULES[Kind.CHECKIN].default_lifetime
    assert sealed(lifetime=default).raw == sealed().raw == sealed(lifetime=None).raw
    assert len(sealed(lifetime=60).raw) == len(sealed().raw) + 3  # key 3, then 0x18 0x3c


def test_seal_is_deterministic_and_signature_covers_the_context() -> None:
    env = sealed()
    assert sealed().raw == env.raw
    assert sealed(signing_key=BOB).raw != env.raw
    signed = env.raw[:-64]
    ALICE.verify_key.verify(SIGNING_CONTEXT + signed, env.signature)
    assert signed[0] == VERSION
    assert env.raw == signed + env.signature


def test_refs_as_tuple_or_list_give_the_same_bytes() -> None:
    a = sealed(Kind.ALERT, refs=(REF, REF2))
    b = sealed(Kind.ALERT, refs=[REF, REF2])
    assert a.raw == b.raw
    assert a.refs == (REF, REF2)
    assert sealed(Kind.ALERT, refs=[REF2, REF]).refs == (REF2, REF)  # order is the author's


def test_envelope_helpers() -> None:
    env = sealed()
    assert env.short_id == short_id(env.id) == env.id[:4].hex()
    assert len(env.short_id) == 8
    text = repr(env)
    assert "checkin" in text
    assert env.short_id in text
    assert ALICE_PUB[:4].hex() in text
    assert env.expires == T0 + 60 * KIND_RULES[Kind.CHECKIN].default_lifetime
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.created = 0  # type: ignore[misc]


def test_decode_accepts_any_bytes_like_input() -> None:
    env = sealed()
    assert decode(bytearray(env.raw)) == env
    assert decode(memoryview(env.raw)) == env
    assert type(decode(bytearray(env.raw)).raw) is bytes


def test_id_does_not_cover_the_signature() -> None:
    env = sealed()
    forged = env.raw[:-64] + bytes(64)
    assert decode(forged, verify=False).id == env.id
    refused(forged, BadSignature)


# --- decode: the size and version gates ----------------------------------------------------


def test_oversize_envelope() -> None:
    content = {0: 13, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF], 6: {0: "a" * 1892}}
    raw = build(content)
    assert len(raw) == MAX_ENVELOPE_BYTES + 1
    refused(raw, Oversize, "2049 bytes (max 2048)")
    refused(raw + b"\x00" * 1000, Oversize)


def test_exactly_max_size_passes_the_size_gate() -> None:
    content = {0: 13, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF], 6: {0: "a" * 1891}}
    raw = build(content)
    assert len(raw) == MAX_ENVELOPE_BYTES
    refused(raw, InvalidMessage, "comment from", WHO, "1891 bytes of text (max 280)")


@pytest.mark.parametrize("size", [0, 1, 2, 65])
def test_too_short(size: int) -> None:
    refused(sealed().raw[:size], Truncated, f"only {size} bytes")


def test_truncated_content() -> None:
    raw = sealed().raw
    refused(raw[:-1], Truncated)
    refused(raw[:70], Truncated)


@pytest.mark.parametrize("version", [0, 2, 0x7F, 0xA5, 0xFF])
def test_unsupported_version(version: int) -> None:
    raw = build(checkin_content(), version=version)
    refused(raw, UnsupportedVersion, f"version {version}", "speaks 1")


def test_content_must_be_canonical() -> None:
    raw = bytearray(sealed().raw)
    # kind 6 is the 4th byte (01 a5 00 06); rewrite it as a 1-byte argument
    assert raw[1:4] == b"\xa5\x00\x06"
    signed = bytes(raw[:3]) + b"\x18\x06" + bytes(raw[4:-64])
    refused(signed + ALICE.sign(SIGNING_CONTEXT + signed).signature, NonCanonical)


def test_content_must_be_a_map() -> None:
    refused(build([6, ALICE_PUB, T0, ZONE]), InvalidMessage, "content is not a map")
    refused(build(ALICE_PUB), InvalidMessage, "content is not a map")


# --- decode: the header fields -------------------------------------------------------------


@pytest.mark.parametrize("key", [7, 8, 15, 23])
def test_unknown_envelope_field(key: int) -> None:
    refused(build(with_key(checkin_content(), key, 0)), InvalidMessage, f"unknown field {key}")


@pytest.mark.parametrize("key", [0, 1, 2, 4])
def test_required_envelope_field_missing(key: int) -> None:
    refused(build(without(checkin_content(), key)), InvalidMessage, f"required field {key}")


@pytest.mark.parametrize("author", [b"", bytes(31), bytes(33), "03a107bf", 1, [ALICE_PUB]])
def test_author_must_be_a_32_byte_key(author: Any) -> None:
    raw = build(with_key(checkin_content(), 1, author))
    refused(raw, InvalidMessage, "author must be a 32-byte")


@pytest.mark.parametrize("kind", ["6", b"\x06", True, [6]])
def test_kind_must_be_a_number(kind: Any) -> None:
    refused(build(with_key(checkin_content(), 0, kind)), InvalidMessage, WHO, "kind must be")


@pytest.mark.parametrize("kind", [0, 17, 18, 99, 255, 2**64 - 1, -1])
def test_unknown_and_reserved_kinds(kind: int) -> None:
    content = without(checkin_content(), 6)
    refused(build(with_key(content, 0, kind)), UnknownKind, WHO, f"unknown kind {kind}")


@pytest.mark.parametrize(
    "created", [MIN_CREATED - 1, 0, -1, 2**32, 2**64 - 1, "1780000000", True, b"\x6a"]
)
def test_created_must_be_a_plausible_time(created: Any) -> None:
    raw = build(with_key(checkin_content(), 2, created))
    refused(raw, InvalidMessage, "checkin from", WHO, "creation time", "plausible unix time")


def test_created_bounds_are_inclusive() -> None:
    for created in (MIN_CREATED, 2**32 - 1):
        assert decode(build(with_key(checkin_content(), 2, created))).created == created


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.name.lower())
def test_lifetime_limits(kind: Kind) -> None:
    rules = KIND_RULES[kind]
    base = build_sample_content(kind)
    name = kind.name.lower()
    for bad in (0, -1, rules.max_lifetime + 1, 2**64 - 1, True, "60"):
        refused(
            build(with_key(base, 3, bad)),
            InvalidMessage,
            f"{name} from {WHO}",
            f"outside 1..{rules.max_lifetime} min",
        )
    refused(
        build(with_key(base, 3, rules.default_lifetime)),
        NonCanonical,
        f"{name} from {WHO}",
        "default lifetime must be omitted",
    )
    for good in (1, rules.max_lifetime):
        assert decode(build(with_key(base, 3, good))).lifetime == good


def build_sample_content(kind: Kind) -> dict[int, Any]:
    env = sealed(kind)
    content: dict[int, Any] = {0: int(kind), 1: ALICE_PUB, 2: T0, 4: ZONE}
    if env.refs:
        content[5] = list(env.refs)
    body = to_wire(env.body)
    if body:
        content[6] = body
    assert build(content) == env.raw
    return content


@pytest.mark.parametrize("zone", [b"", bytes(3), bytes(5), "0102", 16909060, [1, 2, 3, 4]])
def test_zone_must_be_4_bytes(zone: Any) -> None:
    refused(build(with_key(checkin_content(), 4, zone)), InvalidMessage, WHO, "zone must be 4")


def test_empty_refs_must_be_omitted() -> None:
    refused(build(with_key(checkin_content(), 5, [])), NonCanonical, WHO, "empty reference list")


@pytest.mark.parametrize(
    "refs", [[bytes(31)], [bytes(33)], [REF.hex()], [REF, 1], [[REF]], REF, {0: REF}, "x"]
)
def test_refs_must_be_ids(refs: Any) -> None:
    raw = build(with_key(checkin_content(), 5, refs))
    refused(raw, InvalidMessage, "checkin from", WHO, "references must be 32-byte message ids")


def test_refs_of_the_wrong_type_are_invalid_not_non_canonical() -> None:
    """BUG (protocol/envelope.py, _header_checks): a falsy non-list ``refs`` (0, false, "",
    h'') is reported as NonCanonical ("an empty reference list must be omitted"). Fix: check
    ``type(refs_raw) is list`` before the emptiness test."""
    for refs in (0, False, b"", ""):
        raw = build(with_key(checkin_content(), 5, refs))
        refused(raw, InvalidMessage, "references must be")


def test_a_message_referenced_twice() -> None:
    content = {0: 1, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF, REF], 6: {0: "x"}}
    refused(build(content), InvalidMessage, "alert from", WHO, "referenced twice")


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.name.lower())
def test_reference_counts(kind: Kind) -> None:
    rules = KIND_RULES[kind]
    base = without(build_sample_content(kind), 5)
    ids = [hashlib.sha256(bytes([i])).digest() for i in range(rules.max_refs + 1)]
    for count in range(rules.max_refs + 2):
        content = with_key(base, 5, ids[:count]) if count else base
        raw = build(content)
        if rules.min_refs <= count <= rules.max_refs:
            assert len(decode(raw).refs) == count
        else:
            refused(
                raw,
                InvalidMessage,
                f"{kind.name.lower()} from {WHO}",
                f"{count} references (needs {rules.min_refs}..{rules.max_refs}",
                rules.what_refs_mean,
            )


# --- decode: the body -------------------------------------------------------------------------


def test_empty_body_map_must_be_omitted() -> None:
    content = {0: 10, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF], 6: {}}
    refused(build(content), NonCanonical, "retraction from", WHO, "empty body must be omitted")


@pytest.mark.parametrize("body", [[1], b"\x01", "x", 1, True])
def test_body_must_be_a_map(body: Any) -> None:
    content = {0: 10, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF], 6: body}
    refused(build(content), InvalidMessage, "retraction from", WHO, "body is not a map")


def test_falsy_non_map_body_is_invalid_not_non_canonical() -> None:
    """BUG (protocol/envelope.py, decode): a falsy non-map body (0, false, "", h'', []) is
    reported as NonCanonical ("empty body must be omitted"). Fix: test ``type(body_map) is
    not dict`` before the emptiness test."""
    for body in (0, False, b"", "", []):
        content = {0: 10, 1: ALICE_PUB, 2: T0, 4: ZONE, 5: [REF], 6: body}
        refused(build(content), InvalidMessage, "body is not a map")


def test_required_body_missing() -> None:
    refused(build(without(checkin_content(), 6)), InvalidMessage, "checkin from", WHO, "status")


def test_body_rules_name_kind_author_and_field() -> None:
    content = {0: 2, 1: ALICE_PUB, 2: T0, 4: ZONE, 6: {0: 1, 2: 0}}
    refused(build(content), InvalidMessage, "help_request from", WHO, "people", "minimum 1")
    content = {0: 2, 1: ALICE_PUB, 2: T0, 4: ZONE, 6: {0: 1, 1: 2}}
    refused(build(content), NonCanonical, "help_request from", WHO, "urgency", "default")
    content = {0: 2, 1: ALICE_PUB, 2: T0, 4: ZONE, 6: {0: 12}}
    refused(build(content), InvalidMessage, "help_request from", WHO, "offered, not asked")
    content = {0: 2, 1: ALICE_PUB, 2: T0, 4: ZONE, 6: {0: 1, 9: 0}}
    refused(build(content), InvalidMessage, "help_request from", WHO, "unknown field 9")


# --- decode: the signature -------------------------------------------------------------------


def test_any_flipped_signature_bit_is_a_bad_signature() -> None:
    raw = sealed().raw
    for bit in range(0, 64 * 8, 7):
        forged = bytearray(raw)
        forged[len(raw) - 64 + bit // 8] ^= 1 << (bit % 8)
        refused(bytes(forged), BadSignature, "checkin from", WHO, "signature does not verify")


def test_changed_content_is_a_bad_signature() -> None:
    raw = sealed(Kind.COMMENT).raw
    assert b"Merci" in raw
    refused(raw.replace(b"Merci", b"merci"), BadSignature, "comment from", WHO)
    refused(raw.replace(ZONE, b"\x01\x02\x03\x05"), BadSignature)


def test_signature_by_another_key() -> None:
    refused(build(checkin_content(), key=BOB), BadSignature, "checkin from", WHO)


def test_signature_without_the_context_is_bad() -> None:
    refused(build(checkin_content(), context=b""), BadSignature)
    refused(build(checkin_content(), context=b"entraide/envelope"), BadSignature)


@pytest.mark.parametrize(
    "author_hex",
    [
        "00" * 32,  # not a valid point encoding for libsodium (small order)
        "01" + "00" * 31,  # the neutral element
        "ec" + "ff" * 30 + "7f",  # non-canonical encoding of p-1
        "ff" * 32,
    ],
)
def test_weak_or_invalid_author_keys_never_verify(author_hex: str) -> None:
    author = bytes.fromhex(author_hex)
    raw = build(with_key(checkin_content(), 1, author))
    refused(raw, BadSignature)
    forged = raw[:-64] + bytes(32) + bytes(32)  # R = 0, S = 0 "verifies" for small-order keys
    refused(forged, BadSignature)


def test_verify_false_skips_only_the_signature() -> None:
    raw = build(checkin_content(), key=BOB)
    env = decode(raw, verify=False)
    assert env.author == ALICE_PUB
    with pytest.raises(BadSignature):
        verify_signature(env)
    with pytest.raises(InvalidMessage):
        decode(build(with_key(checkin_content(), 0, 99), key=BOB), verify=False)


def test_structure_is_checked_before_the_signature() -> None:
    """SPEC 5.4: an InvalidMessage does not imply the signature was good."""
    raw = build(with_key(without(checkin_content(), 6), 0, 99), key=BOB)
    refused(raw, UnknownKind)


# --- receiver rules ---------------------------------------------------------------------------


def test_clock_skew_boundary() -> None:
    env = sealed(created=NOW + DEFAULT_MAX_SKEW)
    check_acceptable(env, now=NOW, policy=POLICY)
    env = sealed(created=NOW + DEFAULT_MAX_SKEW + 1)
    with pytest.raises(FutureMessage) as info:
        check_acceptable(env, now=NOW, policy=POLICY)
    text = str(info.value)
    assert f"checkin {env.short_id} from {WHO}" in text
    assert "in the future" in text
    assert "max clock skew 10 min" in text
    assert type(info.value) is FutureMessage


def test_clock_skew_is_the_policy_s() -> None:
    strict = Policy(max_skew=0)
    check_acceptable(sealed(created=NOW), now=NOW, policy=strict)
    with pytest.raises(FutureMessage, match="created 1 s in the future"):
        check_acceptable(sealed(created=NOW + 1), now=NOW, policy=strict)
    lax = Policy(max_skew=7200)
    check_acceptable(sealed(created=NOW + 7200), now=NOW, policy=lax)
    with pytest.raises(FutureMessage, match=r"2 h in the future \(max clock skew 2 h\)"):
        check_acceptable(sealed(created=NOW + 7201), now=NOW, policy=lax)


def test_expiry_boundary() -> None:
    env = sealed(lifetime=60)
    check_acceptable(env, now=env.expires - 1, policy=POLICY)
    with pytest.raises(ExpiredMessage) as info:
        check_acceptable(env, now=env.expires, policy=POLICY)
    assert type(info.value) is ExpiredMessage
    assert f"checkin {env.short_id} from {WHO}: expired" in str(info.value)
    with pytest.raises(ExpiredMessage, match="expired 2 days ago"):
        check_acceptable(env, now=env.expires + 2 * 86_400, policy=POLICY)


def test_old_messages_are_fine_until_they_expire() -> None:
    env = sealed(Kind.HELP_OFFER, created=MIN_CREATED, lifetime=366 * 1440)
    check_acceptable(env, now=env.expires - 1, policy=POLICY)


def test_official_alert_needs_a_bridge_key() -> None:
    by_bridge = seal(OFFICIAL, signing_key=BRIDGE, created=T0, zone=ZONE)
    check_acceptable(by_bridge, now=NOW, policy=POLICY)
    by_alice = seal(OFFICIAL, signing_key=ALICE, created=T0, zone=ZONE)
    with pytest.raises(Unauthorized) as info:
        check_acceptable(by_alice, now=NOW, policy=POLICY)
    assert type(info.value) is Unauthorized
    assert f"alert {by_alice.short_id} from {WHO}" in str(info.value)
    assert "bridge" in str(info.value)
    with pytest.raises(Unauthorized):
        check_acceptable(by_bridge, now=NOW, policy=Policy())
    check_acceptable(by_alice, now=NOW, policy=Policy(bridge_keys=frozenset({ALICE_PUB})))


def test_community_alerts_and_other_kinds_need_no_bridge() -> None:
    for kind in SAMPLES:
        check_acceptable(sealed(kind), now=NOW, policy=Policy())


def test_time_is_checked_before_authorisation() -> None:
    by_alice = seal(OFFICIAL, signing_key=ALICE, created=T0, zone=ZONE)
    with pytest.raises(ExpiredMessage):
        check_acceptable(by_alice, now=by_alice.expires, policy=POLICY)
    early = seal(OFFICIAL, signing_key=ALICE, created=NOW + 3600, zone=ZONE)
    with pytest.raises(FutureMessage):
        check_acceptable(early, now=NOW, policy=POLICY)


def test_accept_is_decode_then_check() -> None:
    env = sealed()
    assert accept(env.raw, now=NOW, policy=POLICY) == env
    refused(
        build(checkin_content(), key=BOB),
        BadSignature,
        check=lambda d: accept(d, now=NOW, policy=POLICY),
    )
    refused(env.raw, ExpiredMessage, check=lambda d: accept(d, now=env.expires, policy=POLICY))
    early = sealed(created=NOW + 601)
    refused(early.raw, FutureMessage, check=lambda d: accept(d, now=NOW, policy=POLICY))


def test_a_zone_policy_refuses_other_zones() -> None:
    env = sealed()
    mine = dataclasses.replace(POLICY, zone=ZONE)
    assert accept(env.raw, now=NOW, policy=mine) == env
    elsewhere = dataclasses.replace(POLICY, zone=b"\xff\xff\xff\xff")
    with pytest.raises(WrongZone, match=r"belongs to zone 01020304, not ffffffff"):
        accept(env.raw, now=NOW, policy=elsewhere)


# --- seal refuses what a receiver would refuse --------------------------------------------


def seal_fails(match: str, kind: Kind = Kind.CHECKIN, **kwargs: Any) -> UsageError:
    with pytest.raises(EntraideError) as info:
        sealed(kind, **kwargs)
    exc = info.value
    assert type(exc) is UsageError, f"{type(exc).__name__}: {exc}"
    assert exc.fault == "local"
    assert match in str(exc), str(exc)
    return exc


def test_seal_refuses_bad_envelope_fields() -> None:
    seal_fails("cannot send this checkin", created=MIN_CREATED - 1)
    seal_fails("creation time", created=2**32)
    seal_fails("cannot encode", created=2**64)
    seal_fails("cannot encode", created=float(T0))
    seal_fails("zone must be 4 bytes", zone=bytes(3))
    seal_fails("zone must be 4 bytes", zone="0102")
    seal_fails("cannot encode", zone=bytearray(ZONE))
    seal_fails("lifetime 0 min", lifetime=0)
    seal_fails("outside 1..20160", lifetime=20161)


def test_seal_refuses_bad_references() -> None:
    seal_fails("0 references (needs 1..1", Kind.CLAIM, refs=())
    seal_fails("2 references (needs 1..1", Kind.CLAIM, refs=(REF, REF2))
    seal_fails("1 references (needs 0..0", Kind.HELP_REQUEST, refs=(REF,))
    seal_fails("referenced twice", Kind.ALERT, refs=(REF, REF))
    seal_fails("32-byte message ids", Kind.CLAIM, refs=(REF[:31],))
    seal_fails("5 references (needs 0..4", Kind.ALERT, refs=[bytes([i]) * 32 for i in range(5)])


def test_an_invalid_body_cannot_even_be_built() -> None:
    with pytest.raises(InvalidMessage, match="offered, not asked"):
        HelpRequest(need=Need.GENERATOR)
    with pytest.raises(InvalidMessage, match="people: 0 is below the minimum 1"):
        HelpRequest(need=Need.FOOD, people=0)


def test_seal_refuses_a_body_corrupted_after_construction() -> None:
    body = HelpRequest(need=Need.FOOD)
    object.__setattr__(body, "people", 5000)
    with pytest.raises(UsageError, match=r"cannot send this help_request.*people"):
        seal(body, signing_key=ALICE, created=T0, zone=ZONE)
    body = Comment(text="ok")
    object.__setattr__(body, "text", "x" * 300)
    with pytest.raises(UsageError, match="300 bytes of text"):
        seal(body, signing_key=ALICE, created=T0, zone=ZONE, refs=(REF,))


def test_lifetime_to_outlive() -> None:
    offer = seal(
        HelpOffer(what=Need.GENERATOR, standing=True),
        signing_key=ALICE,
        created=T0,
        zone=ZONE,
        lifetime=180 * 1440,
    )
    rules = KIND_RULES[Kind.RESOLUTION]
    # Long-lived target: the resolution lasts until just after it.
    minutes = lifetime_to_outlive(offer, Kind.RESOLUTION, now=T0 + 3600)
    assert T0 + 3600 + 60 * minutes >= offer.expires
    assert minutes <= rules.max_lifetime
    # Short-lived target: the kind's default is already enough.
    checkin = sealed()
    assert lifetime_to_outlive(checkin, Kind.RESOLUTION, now=T0) == rules.default_lifetime
    # Never beyond the kind's maximum.
    assert lifetime_to_outlive(offer, Kind.COMMENT, now=T0) == KIND_RULES[Kind.COMMENT].max_lifetime
