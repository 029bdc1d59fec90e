"""Radio framing (protocol/radio_frame.py, SPEC.md section 11).

Whatever path an envelope takes over the radio (one frame or fragments, full author key or a
reference, fragments lost, repeated or reordered), the receiver rebuilds exactly the bytes
its author signed, or nothing; hostile frames only ever raise PeerErrors.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path
from typing import Any

import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.envelope import Envelope, Policy, accept, decode, seal
from protocol.errors import (
    FrameError,
    PeerError,
    UnknownKeyRef,
    UnsupportedVersion,
    UsageError,
    WrongZone,
)
from protocol.kinds import (
    Alert,
    CheckIn,
    CheckInStatus,
    Comment,
    HelpOffer,
    HelpRequest,
    Kind,
    Need,
    RequestUrgency,
    Severity,
    Tip,
    Urgency,
)
from protocol.radio_frame import (
    FRAGMENT_HEADER_BYTES,
    ID_PREFIX_BYTES,
    KEY_REF_BYTES,
    MAX_FRAGMENTS,
    MAX_FRAME_BYTES,
    RADIO_PORT,
    FragmentFrame,
    KeyBook,
    RadioMessage,
    RadioPriority,
    Reassembler,
    SummaryFrame,
    WantFrame,
    WholeFrame,
    build_summary,
    compact_envelope,
    encode_frames,
    encode_summary,
    encode_want,
    parse_frame,
    radio_coalesce_key,
    radio_priority,
    restore_envelope,
    zone_tag,
)

HERE = Path(__file__).parent
SPEC = HERE.parent.parent / "SPEC.md"
VECTORS = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
ZONE = bytes.fromhex(VECTORS["zone"])
NOW = VECTORS["now"]
ALICE = nacl.signing.SigningKey(bytes(range(32)))
BOB = nacl.signing.SigningKey(bytes(range(32, 64)))
ALICE_KEY = bytes(ALICE.verify_key)
BOB_KEY = bytes(BOB.verify_key)
CREATED = 1_780_000_000
POLICY = Policy(
    bridge_keys=frozenset({bytes.fromhex(VECTORS["keys"]["bridge"]["public"])}), zone=ZONE
)
VALID = {v["name"]: decode(bytes.fromhex(v["envelope"])) for v in VECTORS["valid"]}

# The envelope strategies of the round-trip tests: real sealed envelopes of every kind.
_spec = importlib.util.spec_from_file_location(
    "_roundtrip_strategies", HERE / "test_roundtrip_properties.py"
)
assert _spec is not None and _spec.loader is not None
_roundtrip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_roundtrip)
envelope_inputs = _roundtrip.envelope_inputs


def receive_all(
    frames: list[bytes] | tuple[bytes, ...], keys: KeyBook, r: Reassembler | None = None
) -> list[Any]:
    r = r or Reassembler(zone=ZONE)
    out = [r.receive(f, now=NOW, keys=keys) for f in frames]
    return [x for x in out if x is not None]


def checkin() -> Envelope:
    return seal(CheckIn(status=CheckInStatus.SAFE), signing_key=ALICE, created=CREATED, zone=ZONE)


def request_80() -> Envelope:
    text = "Plus d'eau depuis hier soir, 2 enfants et une personne âgée au 3e étage. Merci !"
    assert len(text) == 80
    return seal(
        HelpRequest(need=Need.WATER, urgency=RequestUrgency.HIGH, text=text),
        signing_key=BOB,
        created=CREATED,
        zone=ZONE,
    )


def alert_fragmented() -> Envelope:
    return seal(
        Alert(
            headline="Crue : évacuation des quais avant 18 h",
            severity=Severity.SEVERE,
            urgency=Urgency.IMMEDIATE,
            instruction=(
                "Quittez les rez-de-chaussée du quai de Seine. Rejoignez le gymnase Jean "
                "Moulin, rue des Écoles, avec vos médicaments, vos papiers et de l'eau."
            ),
            area="Quai de Seine, rue des Lilas",
        ),
        signing_key=ALICE,
        created=CREATED,
        zone=ZONE,
    )


# --- one frame for the common messages --------------------------------------------------------


@pytest.mark.parametrize("abbreviated", [False, True])
@pytest.mark.parametrize("make", [checkin, request_80], ids=["checkin", "request-80-chars"])
def test_common_messages_fit_one_frame(make: Any, abbreviated: bool) -> None:
    env = make()
    keys = KeyBook([ALICE_KEY, BOB_KEY])
    frames = encode_frames(env, keys=keys if abbreviated else None)
    assert len(frames) == 1 and len(frames[0]) <= MAX_FRAME_BYTES
    (message,) = receive_all(frames, keys)
    assert message == RadioMessage(env.raw, env.id, 1)
    assert accept(message.envelope, now=NOW, policy=POLICY) == env


def test_measured_sizes() -> None:
    """The figures of SPEC.md 11 (frame sizes, all headers included)."""
    keys = KeyBook([ALICE_KEY, BOB_KEY])
    sizes = {
        name: (
            [len(f) for f in encode_frames(env)],
            [len(f) for f in encode_frames(env, keys=keys)],
        )
        for name, env in (
            ("checkin", checkin()),
            ("request-80", request_80()),
            ("alert", alert_fragmented()),
        )
    }
    assert [len(e.raw) for e in (checkin(), request_80(), alert_fragmented())] == [119, 207, 342]
    assert sizes == {
        "checkin": ([108], [84]),
        "request-80": ([196], [172]),
        "alert": ([200, 144], [200, 120]),
    }


def test_the_largest_envelope_fits_in_sixteen_fragments() -> None:
    body = Alert(headline="x" * 140, instruction="y" * 1000, area="z" * 140)
    env = seal(body, signing_key=ALICE, created=CREATED, zone=ZONE)
    frames = encode_frames(env)
    assert 2 <= len(frames) <= MAX_FRAGMENTS
    assert all(len(f) <= MAX_FRAME_BYTES for f in frames)
    (message,) = receive_all(frames, KeyBook())
    assert message.envelope == env.raw and message.frames == len(frames)


# --- round trips over real envelopes of every kind --------------------------------------------

ROUND_TRIP = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _round_trip_kind(kind: Kind) -> Any:
    @ROUND_TRIP
    @given(envelope_inputs(kind), st.booleans(), st.randoms(use_true_random=False))
    def test(inputs: dict[str, Any], abbreviate: bool, rnd: random.Random) -> None:
        inputs["zone"] = ZONE
        env = seal(**inputs)
        author = bytes(inputs["signing_key"].verify_key)
        receiver_keys = KeyBook([author, BOB_KEY])
        sender_keys = KeyBook([author]) if abbreviate else KeyBook()
        frames = list(encode_frames(env, keys=sender_keys))
        assert all(len(f) <= MAX_FRAME_BYTES for f in frames)
        data = compact_envelope(env, keys=sender_keys)
        assert len(data) < len(env.raw)
        assert restore_envelope(data, zone=ZONE, keys=receiver_keys) == env.raw
        # Reordered and repeated, as relays deliver them.
        delivered = frames + rnd.sample(frames, k=rnd.randint(0, len(frames)))
        rnd.shuffle(delivered)
        messages = receive_all(delivered, receiver_keys)
        assert messages, "the message was not rebuilt"
        assert {(m.envelope, m.id) for m in messages} == {(env.raw, env.id)}
        assert decode(messages[0].envelope) == env

    test.__name__ = f"test_round_trip_{kind.name.lower()}"
    return test


for _kind in Kind:
    globals()[f"test_round_trip_{_kind.name.lower()}"] = _round_trip_kind(_kind)


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_vector_survives_the_radio(name: str) -> None:
    env = VALID[name]
    keys = KeyBook(v.author for v in VALID.values())
    for sender_keys in (None, keys):
        frames = encode_frames(env, keys=sender_keys)
        (message,) = receive_all(frames, keys)
        assert message.envelope == env.raw and message.id == env.id


# --- author key references ----------------------------------------------------------------------


def test_unknown_reference_is_reported_with_what_to_retry() -> None:
    env = checkin()
    (frame,) = encode_frames(env, keys=KeyBook([ALICE_KEY]))
    r = Reassembler(zone=ZONE)
    with pytest.raises(UnknownKeyRef) as caught:
        r.receive(frame, now=NOW, keys=KeyBook([BOB_KEY]))
    assert caught.value.key_ref == ALICE_KEY[:KEY_REF_BYTES]
    assert caught.value.code == "unknown-key-ref" and caught.value.fault == "peer"
    assert ALICE_KEY[:4].hex() in str(caught.value)
    # Once the key is known (from Wi-Fi, or a full-key frame), the parked compact form restores.
    assert restore_envelope(caught.value.compact, zone=ZONE, keys=KeyBook([ALICE_KEY])) == env.raw
    assert r.statistics().rejected == 1


def test_unknown_reference_in_fragments() -> None:
    env = alert_fragmented()
    frames = encode_frames(env, keys=KeyBook([ALICE_KEY]))
    assert len(frames) == 2
    r = Reassembler(zone=ZONE)
    assert r.receive(frames[0], now=NOW, keys=KeyBook()) is None
    with pytest.raises(UnknownKeyRef) as caught:
        r.receive(frames[1], now=NOW, keys=KeyBook())
    assert restore_envelope(caught.value.compact, zone=ZONE, keys=KeyBook([ALICE_KEY])) == env.raw
    # Relayed copies are not reassembled again to fail again.
    assert r.receive(frames[0], now=NOW + 1, keys=KeyBook()) is None
    assert r.statistics().partials == 0


def test_sender_sends_the_full_key_of_authors_not_in_its_book() -> None:
    """A new household's first messages carry its full key: no book abbreviates it."""
    env = checkin()
    assert compact_envelope(env)[1] & 1 == 0
    assert compact_envelope(env, keys=KeyBook([BOB_KEY]))[1] & 1 == 0
    assert compact_envelope(env, keys=KeyBook([ALICE_KEY]))[1] & 1 == 1
    # Anyone can rebuild a full-key frame, with an empty book.
    (message,) = receive_all(encode_frames(env), KeyBook())
    assert message.envelope == env.raw


def test_ambiguous_reference() -> None:
    twin = ALICE_KEY[:KEY_REF_BYTES] + bytes(KEY_BYTES - KEY_REF_BYTES)
    book = KeyBook([ALICE_KEY, twin])
    assert not book.abbreviates(ALICE_KEY), "a sender never uses an ambiguous reference"
    data = compact_envelope(checkin(), keys=KeyBook([ALICE_KEY]))
    with pytest.raises(UnknownKeyRef, match="ambiguous"):
        restore_envelope(data, zone=ZONE, keys=book)
    book.discard(twin)
    assert restore_envelope(data, zone=ZONE, keys=book) == checkin().raw
    assert len(book) == 1 and ALICE_KEY in book and twin not in book


KEY_BYTES = 32


def test_keybook_refuses_what_is_not_a_key() -> None:
    with pytest.raises(UsageError):
        KeyBook([b"short"])


# --- fragments: loss, duplication, reordering, bounds -----------------------------------------


def test_fragment_loss_expires_and_a_retransmission_completes() -> None:
    env = alert_fragmented()
    frames = encode_frames(env)
    r = Reassembler(zone=ZONE, idle_timeout=60, max_age=300)
    assert r.receive(frames[0], now=0, keys=KeyBook()) is None
    assert r.statistics().partials == 1
    assert r.expire(59.9) == 0
    assert r.expire(60) == 1
    stats = r.statistics()
    assert stats.partials == 0 and stats.buffered_bytes == 0 and stats.expired == 1
    # The second fragment alone is not enough; the sender repeats the message.
    assert r.receive(frames[1], now=70, keys=KeyBook()) is None
    assert r.receive(frames[0], now=71, keys=KeyBook()) == RadioMessage(env.raw, env.id, 2)


def test_a_trickle_of_fragments_expires_at_max_age() -> None:
    body = Alert(headline="x" * 140, instruction="y" * 1000)
    frames = encode_frames(seal(body, signing_key=ALICE, created=CREATED, zone=ZONE))
    r = Reassembler(zone=ZONE, idle_timeout=60, max_age=120)
    for i, frame in enumerate(frames[:3]):
        assert r.receive(frame, now=50.0 * i, keys=KeyBook()) is None
    assert r.expire(119) == 0
    assert r.expire(120) == 1


def test_duplicates_and_relayed_copies_are_ignored() -> None:
    env = alert_fragmented()
    frames = encode_frames(env)
    r = Reassembler(zone=ZONE)
    assert r.receive(frames[1], now=0, keys=KeyBook()) is None
    assert r.receive(frames[1], now=1, keys=KeyBook()) is None
    assert r.receive(frames[0], now=2, keys=KeyBook()) is not None
    assert r.receive(frames[0], now=3, keys=KeyBook()) is None
    assert r.receive(frames[1], now=4, keys=KeyBook()) is None
    stats = r.statistics()
    assert (stats.messages, stats.fragments, stats.duplicates, stats.already_done) == (1, 2, 1, 2)
    assert stats.partials == 0


def test_fragments_of_a_message_already_held_are_ignored() -> None:
    env = alert_fragmented()
    held = {env.id[:ID_PREFIX_BYTES]}
    r = Reassembler(zone=ZONE)
    for frame in encode_frames(env):
        assert r.receive(frame, now=0, keys=KeyBook(), have=held.__contains__) is None
    assert r.statistics().partials == 0 and r.statistics().already_done == 2


def test_interleaved_messages() -> None:
    envs = [
        seal(
            Alert(headline=f"Alerte {i}", instruction="z" * 300),
            signing_key=ALICE,
            created=CREATED + i,
            zone=ZONE,
        )
        for i in range(4)
    ]
    all_frames = [(i, f) for i, env in enumerate(envs) for f in encode_frames(env)]
    random.Random(7).shuffle(all_frames)
    messages = receive_all([f for _, f in all_frames], KeyBook())
    assert sorted(m.envelope for m in messages) == sorted(e.raw for e in envs)


def test_memory_is_bounded() -> None:
    """A flood of first fragments never holds more than the limits; the oldest go first."""
    r = Reassembler(zone=ZONE, max_partials=4, max_bytes=2048)
    tag = zone_tag(ZONE)
    for i in range(100):
        frame = bytes([0x12]) + tag + i.to_bytes(4, "big") + bytes([0x0F]) + b"x" * 192
        assert r.receive(frame, now=i, keys=KeyBook()) is None
        stats = r.statistics()
        assert stats.partials <= 4 and stats.buffered_bytes <= 2048
    assert r.statistics().evicted == 96
    # A genuine message still gets through after the flood.
    env = alert_fragmented()
    assert receive_all(encode_frames(env), KeyBook(), r)[0].envelope == env.raw


def test_byte_limit_evicts_older_partials() -> None:
    r = Reassembler(zone=ZONE, max_partials=16, max_bytes=2048)
    tag = zone_tag(ZONE)
    for i in range(20):
        for index in range(3):
            head = bytes([0x12]) + tag + i.to_bytes(4, "big") + bytes([index << 4 | 0x0F])
            r.receive(head + b"x" * 192, now=i, keys=KeyBook())
            assert r.statistics().buffered_bytes <= 2048
    assert r.statistics().evicted > 0


def test_a_forged_fragment_is_detected_and_the_message_retried() -> None:
    env = alert_fragmented()
    frames = encode_frames(env)
    # A byte of the content changed: the rebuilt envelope has another id.
    at = FRAGMENT_HEADER_BYTES + 50
    forged = frames[0][:at] + bytes([frames[0][at] ^ 1]) + frames[0][at + 1 :]
    r = Reassembler(zone=ZONE)
    assert r.receive(forged, now=0, keys=KeyBook()) is None
    with pytest.raises(FrameError, match="forged or mixed up"):
        r.receive(frames[1], now=1, keys=KeyBook())
    # The prefix is not marked done: the next repetition of the message completes.
    assert r.receive(frames[1], now=10, keys=KeyBook()) is None
    assert r.receive(frames[0], now=11, keys=KeyBook()) == RadioMessage(env.raw, env.id, 2)


def test_a_corrupted_signature_is_left_to_accept() -> None:
    """The id does not cover the signature: accept() refuses the rebuilt envelope."""
    env = alert_fragmented()
    frames = list(encode_frames(env))
    frames[1] = frames[1][:-1] + bytes([frames[1][-1] ^ 1])
    (message,) = receive_all(frames, KeyBook())
    assert message.id == env.id and message.envelope != env.raw
    with pytest.raises(PeerError, match="signature"):
        accept(message.envelope, now=NOW, policy=POLICY)


def test_fragments_disagreeing_on_their_count() -> None:
    env = alert_fragmented()
    frames = encode_frames(env)
    r = Reassembler(zone=ZONE)
    r.receive(frames[0], now=0, keys=KeyBook())
    odd = frames[1][: FRAGMENT_HEADER_BYTES - 1] + bytes([0x12]) + frames[1][FRAGMENT_HEADER_BYTES:]
    with pytest.raises(FrameError, match="3 fragments"):
        r.receive(odd, now=1, keys=KeyBook())
    assert r.receive(frames[1], now=2, keys=KeyBook()) is not None


def test_reassembler_limits_are_checked() -> None:
    with pytest.raises(UsageError):
        Reassembler(zone=ZONE, max_bytes=100)
    with pytest.raises(UsageError):
        Reassembler(zone=ZONE, idle_timeout=0)
    with pytest.raises(UsageError):
        Reassembler(zone=b"abc")


# --- hostile frames -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (b"", FrameError, "shorter than its header"),
        (b"\x11" + b"\x00" * 250, FrameError, "max 200"),
        (b"\x21\x00\x00", UnsupportedVersion, "version 2"),
        (b"\x11\x00\x00" + b"\x00" * 100, WrongZone, "another zone"),
        (b"\x1f{tag}" + b"\x00" * 100, FrameError, "unknown frame type 15"),
        (b"\x11{tag}" + b"\x00" * 20, FrameError, "cannot hold an envelope"),
        (b"\x12{tag}abcd\x00", FrameError, "no data"),
        (b"\x12{tag}abcd\x00x", FrameError, "fragment 1 of 1"),
        (b"\x12{tag}abcd\x21x", FrameError, "fragment 3 of 2"),
        (b"\x13{tag}\x00\x00\x00\x00\x00\x00\x00\x01", FrameError, "no filter"),
        (b"\x13{tag}\x00\x00\x00\x00\x00\x00\x00\x00\xff", FrameError, "0 hashes"),
        (b"\x14{tag}\x00\x00", FrameError, "0 ids and 0 key references"),
        (b"\x14{tag}\x01\x00abc", FrameError, "need 6 bytes"),
        (b"\x14{tag}\x01", FrameError, "shorter than its counts"),
    ],
)
def test_malformed_frames(frame: bytes, error: type[Exception], match: str) -> None:
    frame = frame.replace(b"{tag}", zone_tag(ZONE))
    with pytest.raises(error, match=match):
        Reassembler(zone=ZONE).receive(frame, now=0, keys=KeyBook())


def _whole(data: bytes) -> bytes:
    return b"\x11" + zone_tag(ZONE) + data


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (bytes([30, 0]) + bytes(100), "kind 30"),
        (bytes([6, 0x10]) + bytes(100), "reserved flags"),
        (bytes([6, 0x02]) + bytes(36) + b"\x1b" + bytes(64), "lifetime is not"),
        (bytes([6, 0x04]) + bytes(36) + b"\x00" + bytes(64), "0 references"),
        (bytes([6, 0x04]) + bytes(36) + b"\x02" + bytes(64), "ends inside its fields"),
        (bytes([6, 0x08]) + bytes(36) + bytes(64), "no body"),
        (bytes([6, 0x00]) + bytes(36) + b"\xa0" + bytes(64), "after the fields"),
    ],
)
def test_malformed_compact_envelopes(data: bytes, match: str) -> None:
    with pytest.raises(FrameError, match=match):
        Reassembler(zone=ZONE).receive(_whole(data), now=0, keys=KeyBook())


def _mutations(rnd: random.Random, corpus: list[bytes]) -> bytes:
    frame = bytearray(rnd.choice(corpus))
    op = rnd.randrange(6)
    if op == 0:
        for _ in range(rnd.randint(1, 4)):
            frame[rnd.randrange(3, len(frame))] ^= 1 << rnd.randrange(8)
    elif op == 1:
        frame[rnd.randrange(3, len(frame))] = rnd.randrange(256)
    elif op == 2:
        del frame[rnd.randrange(3, len(frame)) :]
    elif op == 3:
        at = rnd.randrange(3, len(frame))
        frame[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
    elif op == 4:
        frame[3:5] = bytes([rnd.randrange(24), rnd.randrange(16)])
    else:
        frame = bytearray(frame[:3] + rnd.randbytes(rnd.randint(0, 197)))
    return bytes(frame[:MAX_FRAME_BYTES])


def test_fuzz_hostile_frames_raise_peer_errors_only() -> None:
    """Mutated and random frames: a PeerError, or an envelope that accept() then judges."""
    rnd = random.Random(0xF4A3E)
    keys = KeyBook(v.author for v in VALID.values())
    corpus = [f for env in VALID.values() for k in (None, keys) for f in encode_frames(env, keys=k)]
    corpus += [encode_summary(build_summary([bytes(32)], since=0, salt=1), zone=ZONE)]
    corpus += [encode_want(WantFrame((b"abcd",), (bytes(8),)), zone=ZONE)]
    r = Reassembler(zone=ZONE, max_partials=4, max_bytes=4096)
    outcomes: dict[str, int] = {}
    for i in range(20_000):
        frame = _mutations(rnd, corpus)
        try:
            out = r.receive(frame, now=i * 0.5, keys=keys)
            if isinstance(out, RadioMessage):
                accept(out.envelope, now=NOW, policy=POLICY)
            name = type(out).__name__
        except PeerError as exc:
            name = type(exc).__name__
        outcomes[name] = outcomes.get(name, 0) + 1
        stats = r.statistics()
        assert stats.partials <= 4 and stats.buffered_bytes <= 4096
    # The mutations reach deep: past the framing into the envelope's own checks.
    assert {"FrameError", "BadSignature", "NoneType"} <= set(outcomes), outcomes


# --- catch-up frames --------------------------------------------------------------------------


def test_summary_round_trip_and_membership() -> None:
    rnd = random.Random(3)
    held = [rnd.randbytes(32) for _ in range(120)]
    summary = build_summary(held, since=CREATED, salt=9)
    frame = encode_summary(summary, zone=ZONE)
    assert len(frame) <= MAX_FRAME_BYTES
    parsed = parse_frame(frame, zone=ZONE)
    assert parsed == summary and isinstance(parsed, SummaryFrame)
    assert parsed.count == 120 and parsed.since == CREATED
    assert all(parsed.might_hold(i) for i in held)
    others = [rnd.randbytes(32) for _ in range(5000)]
    false_positives = sum(parsed.might_hold(i) for i in others) / len(others)
    assert false_positives < 0.03 and parsed.false_positive_rate < 0.03
    # Another salt: other false positives.
    again = build_summary(held, since=CREATED, salt=10)
    assert {i for i in others if again.might_hold(i)} != {i for i in others if parsed.might_hold(i)}
    assert Reassembler(zone=ZONE).receive(frame, now=0, keys=KeyBook()) == summary


def test_summary_of_nothing() -> None:
    summary = build_summary([], since=CREATED, salt=0)
    assert summary.count == 0 and not summary.might_hold(bytes(32))
    assert len(encode_summary(summary, zone=ZONE)) == 12


def test_summary_limits() -> None:
    with pytest.raises(UsageError):
        build_summary([], since=0, salt=256)
    with pytest.raises(UsageError):
        build_summary([], since=0, salt=0, max_filter_bytes=500)
    with pytest.raises(UsageError):
        SummaryFrame(0, 0, 0, 0, b"\x00")
    big = build_summary([bytes([i]) * 32 for i in range(256)], since=0, salt=0)
    assert len(encode_summary(big, zone=ZONE)) == MAX_FRAME_BYTES


def test_want_round_trip() -> None:
    want = WantFrame(ids=(b"\x01\x02\x03\x04", b"abcd"), key_refs=(ALICE_KEY[:KEY_REF_BYTES],))
    frame = encode_want(want, zone=ZONE)
    assert len(frame) == 3 + 2 + 8 + 8
    assert parse_frame(frame, zone=ZONE) == want
    with pytest.raises(UsageError):
        encode_want(WantFrame(), zone=ZONE)
    with pytest.raises(UsageError):
        encode_want(WantFrame(ids=(b"abc",)), zone=ZONE)
    with pytest.raises(UsageError):
        encode_want(WantFrame(ids=(b"abcd",) * 60), zone=ZONE)


def test_parse_whole_and_fragment() -> None:
    frames = encode_frames(alert_fragmented())
    first = parse_frame(frames[0], zone=ZONE)
    assert isinstance(first, FragmentFrame)
    assert (first.index, first.count) == (0, 2)
    assert first.id_prefix == alert_fragmented().id[:ID_PREFIX_BYTES]
    whole = parse_frame(encode_frames(checkin())[0], zone=ZONE)
    assert isinstance(whole, WholeFrame) and whole.compact == compact_envelope(checkin())


def test_encoder_limits() -> None:
    with pytest.raises(UsageError):
        encode_frames(checkin(), max_frame_bytes=201)
    body = Alert(headline="x" * 140, instruction="y" * 1000, area="z" * 140)
    env = seal(body, signing_key=ALICE, created=CREATED, zone=ZONE)
    with pytest.raises(UsageError, match="fragments"):
        encode_frames(env, max_frame_bytes=80)
    small = encode_frames(alert_fragmented(), max_frame_bytes=64)
    assert all(len(f) <= 64 for f in small)
    (message,) = receive_all(small, KeyBook())
    assert message.envelope == alert_fragmented().raw


# --- scheduling classes ------------------------------------------------------------------------


def _sealed(body: Any) -> Envelope:
    return seal(body, signing_key=ALICE, created=CREATED, zone=ZONE)


def test_radio_priorities() -> None:
    assert radio_priority(alert_fragmented()) is RadioPriority.URGENT
    drill = _sealed(Alert(headline="Exercice", exercise=True))
    assert radio_priority(drill) is RadioPriority.NORMAL
    critical = _sealed(HelpRequest(need=Need.MEDICAL, urgency=RequestUrgency.CRITICAL))
    assert radio_priority(critical) is RadioPriority.URGENT
    assert radio_priority(request_80()) is RadioPriority.NORMAL
    injured = _sealed(CheckIn(status=CheckInStatus.INJURED))
    assert radio_priority(injured) is RadioPriority.URGENT
    assert radio_priority(_sealed(CheckIn(status=CheckInStatus.NEED_HELP))) is RadioPriority.NORMAL
    assert radio_priority(checkin()) is RadioPriority.CHECKIN
    assert radio_priority(_sealed(HelpOffer(what=Need.WATER))) is RadioPriority.NORMAL
    standing = _sealed(HelpOffer(what=Need.GENERATOR, standing=True))
    assert radio_priority(standing) is RadioPriority.BULK
    assert radio_priority(_sealed(Tip(title="Eau"))) is RadioPriority.BULK
    comment = seal(
        Comment(text="Merci"), signing_key=ALICE, created=CREATED, zone=ZONE, refs=[bytes(32)]
    )
    assert radio_priority(comment) is RadioPriority.BULK
    assert radio_coalesce_key(checkin()) == ALICE_KEY
    visit = _sealed(CheckIn(status=CheckInStatus.SAFE, subject_name="Mme Martin"))
    assert radio_coalesce_key(visit) == ("name", "mme martin")
    assert radio_coalesce_key(request_80()) is None


# --- the byte-exact example of SPEC.md 11 -------------------------------------------------------

#: checkin-min (SPEC.md 5.1) as a WHOLE frame, its author abbreviated (84 bytes).
CHECKIN_MIN_FRAME = (
    "11fa61"
    + "0609"
    + "03a107bff3ce10be"
    + "6a18a500"
    + "a10001"
    + VECTORS["valid"][0]["envelope"][-128:]
)


def _spec_text() -> str:
    return re.sub(r"\s+", "", SPEC.read_text(encoding="utf-8"))


def test_the_spec_example_frame() -> None:
    env = VALID["checkin-min"]
    (frame,) = encode_frames(env, keys=KeyBook([env.author]))
    assert frame.hex() == CHECKIN_MIN_FRAME
    assert len(frame) == 84
    (message,) = receive_all([frame], KeyBook([env.author]))
    assert message.envelope == env.raw and message.id == env.id
    assert CHECKIN_MIN_FRAME in _spec_text()


def test_the_spec_counts_the_frames_of_the_vectors() -> None:
    """SPEC.md 12: frames with the full key / with a key reference, for every named vector."""
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 12. Message sizes") :]
    rows = re.findall(r"^\| .*\(`([a-z0-9-]+)`\) \| (\d+) \| (\d+) / (\d+) \|$", section, re.M)
    assert len(rows) >= 10
    for name, size, full, abbreviated in rows:
        env = VALID[name]
        assert len(env.raw) == int(size)
        assert len(encode_frames(env)) == int(full), name
        assert len(encode_frames(env, keys=KeyBook([env.author]))) == int(abbreviated), name


def test_the_spec_names_the_port_and_the_limits() -> None:
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 11. Radio framing") : text.index("## 12. Message sizes")]
    assert f"port **{RADIO_PORT}**" in section
    assert f"at most **{MAX_FRAME_BYTES} bytes**" in section
    assert f"first **{KEY_REF_BYTES} bytes**" in section
    assert f"zone\n`{ZONE.hex()}` has the tag `{zone_tag(ZONE).hex()}`" in section
