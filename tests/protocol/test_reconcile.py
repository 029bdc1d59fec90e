"""Catch-up reconciliation (protocol/reconcile.py, SPEC.md section 10).

Two sessions talk over an in-memory link; hostile frames are fed to one session directly.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protocol.reconcile as rc
from protocol.errors import PeerError, SyncError, UsageError
from protocol.reconcile import (
    CELL_BYTES,
    MAX_FRAME_BYTES,
    Finished,
    FrameType,
    NeedData,
    ReceivedEnvelopes,
    Reconciled,
    SendEnvelopes,
    SyncLimits,
    SyncSession,
    SyncStats,
    cell_indices,
    encode_cells,
    estimate_difference,
    short_ids,
    sketch,
)

ZONE = bytes.fromhex("01020304")
SALT = bytes(range(16))
SPEC = Path(__file__).resolve().parents[2] / "SPEC.md"


def make_ids(count: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    return [rnd.randbytes(32) for _ in range(count)]


def raw_of(message_id: bytes) -> bytes:
    """A stand-in envelope: any bytes do, the session never decodes them."""
    return b"env:" + message_id


@dataclass
class Side:
    session: SyncSession
    store: dict[bytes, bytes]
    received: set[bytes] = field(default_factory=set)
    events: list[object] = field(default_factory=list)
    stats: SyncStats | None = None


def converse(
    a_ids: Sequence[bytes],
    b_ids: Sequence[bytes],
    *,
    salt: bytes = SALT,
    limits: SyncLimits | None = None,
    drop: frozenset[bytes] = frozenset(),
) -> tuple[Side, Side]:
    """Run an initiator (a) and a responder (b) to the end over a perfect in-memory link.

    ``drop``: ids whose envelopes a store no longer has when asked.
    """
    a = Side(
        SyncSession(a_ids, zone=ZONE, initiator=True, salt=salt, limits=limits),
        {i: raw_of(i) for i in a_ids},
    )
    b = Side(
        SyncSession(b_ids, zone=ZONE, initiator=False, limits=limits),
        {i: raw_of(i) for i in b_ids},
    )
    inbox: dict[int, bytearray] = {id(a): bytearray(), id(b): bytearray()}
    for _ in range(10_000):
        if a.stats and b.stats:
            return a, b
        progressed = False
        for me, peer in ((a, b), (b, a)):
            while me.stats is None:
                event = me.session.next_event()
                inbox[id(peer)] += me.session.data_to_send()
                if isinstance(event, NeedData):
                    if not inbox[id(me)]:
                        break
                    me.session.receive_data(bytes(inbox[id(me)]))
                    inbox[id(me)].clear()
                elif isinstance(event, SendEnvelopes):
                    me.session.send_envelopes([me.store[i] for i in event.ids if i not in drop])
                elif isinstance(event, ReceivedEnvelopes):
                    me.received.update(event.raws)
                elif isinstance(event, Finished):
                    me.stats = event.stats
                progressed = True
                me.events.append(event)
        assert progressed, "both sides wait for each other"
    raise AssertionError("no end")  # pragma: no cover


def assert_reconciled(a_ids: Sequence[bytes], b_ids: Sequence[bytes], a: Side, b: Side) -> None:
    sa, sb = set(a_ids), set(b_ids)
    assert a.received == {raw_of(i) for i in sb - sa}
    assert b.received == {raw_of(i) for i in sa - sb}
    assert a.stats is not None and b.stats is not None
    assert a.stats.bytes_sent == b.stats.bytes_received
    assert a.stats.bytes_received == b.stats.bytes_sent
    assert a.stats.frames_sent == b.stats.frames_received
    assert a.stats.flights == b.stats.flights
    assert a.stats.reconciliation_bytes == b.stats.reconciliation_bytes


def frame(kind: int, payload: bytes = b"") -> bytes:
    return rc._uvarint(len(payload) + 1) + bytes((kind,)) + payload


# --- whole sessions ---------------------------------------------------------------------------


def test_equal_sets_finish_after_one_small_frame() -> None:
    ids = make_ids(3000, 1)
    a, b = converse(ids, list(reversed(ids)))
    assert_reconciled(ids, ids, a, b)
    assert a.stats and b.stats
    assert a.stats.round_trips == 1 and a.stats.mode == b.stats.mode == "equal"
    assert a.stats.frames_sent == 2  # HELLO, then DONE in answer to the responder's DONE
    assert a.stats.bytes_sent < 200
    assert b.stats.difference == 0
    assert Reconciled(we_lack=0, they_lack=0) in b.events


def test_both_empty() -> None:
    a, b = converse([], [])
    assert_reconciled([], [], a, b)
    assert a.stats and a.stats.mode == "equal" and a.stats.reconciliation_bytes < 60


@pytest.mark.parametrize("empty_initiator", [True, False])
def test_one_side_empty_gets_everything_without_id_lists(empty_initiator: bool) -> None:
    ids = make_ids(500, 2)
    a_ids, b_ids = ([], ids) if empty_initiator else (ids, [])
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and b.stats
    assert a.stats.ids_exchanged == 0 and a.stats.cells == 0
    # Besides the envelopes: a length byte or two each, and a few small frames.
    assert a.stats.reconciliation_bytes < 2 * 500 + 400
    assert a.stats.round_trips <= 2


@pytest.mark.parametrize(
    ("a_extra", "b_extra"), [(0, 100), (100, 0), (50, 50), (1, 0), (0, 1), (3, 4)]
)
def test_small_differences_decode_from_cells(a_extra: int, b_extra: int) -> None:
    common = make_ids(2000, 3)
    extra = make_ids(a_extra + b_extra, 4)
    a_ids, b_ids = common + extra[:a_extra], extra[a_extra:] + common
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode.startswith("cells")
    assert a.stats.difference == a_extra + b_extra
    assert a.stats.round_trips <= 3
    floor = 32 * (a_extra + b_extra)
    assert a.stats.reconciliation_bytes < max(2 * floor, 400)


def test_clustered_and_scattered_cost_about_the_floor_in_two_round_trips() -> None:
    common = make_ids(5000, 5)
    extra = make_ids(100, 6)
    ratios = []
    for a_ids, b_ids in [(common, common + extra), (common + extra[:50], extra[50:] + common)]:
        a, b = converse(a_ids, b_ids)
        assert_reconciled(a_ids, b_ids, a, b)
        assert a.stats and a.stats.round_trips <= 3
        ratios.append(a.stats.reconciliation_bytes / 3200)
    assert max(ratios) < 1.5


def test_first_batches_usually_decode() -> None:
    """Over many salts, most sessions take 2 round trips and none more than 3."""
    common = make_ids(1000, 7)
    extra = make_ids(100, 8)
    a_ids, b_ids = common + extra[:50], common + extra[50:]
    trips = []
    for seed in range(30):
        a, _ = converse(a_ids, b_ids, salt=random.Random(seed).randbytes(16))
        assert a.stats
        trips.append(a.stats.round_trips)
    assert max(trips) <= 3
    assert statistics.mean(trips) < 2.3


def test_large_difference_switches_to_id_lists() -> None:
    common = make_ids(3000, 9)
    a_ids, b_ids = common[:1000] + make_ids(1500, 10), common
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode in {"ids", "send_ids"}
    # the smaller list travels: 2500 short ids, not 3000
    assert a.stats.ids_exchanged == 2500
    assert a.stats.round_trips <= 3


def test_large_difference_in_the_thousands_with_cells() -> None:
    common = make_ids(20_000, 11)
    extra = make_ids(3000, 12)
    a_ids, b_ids = common + extra[:1500], common + extra[1500:]
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode.startswith("cells") and a.stats.difference == 3000
    assert a.stats.reconciliation_bytes < 3 * 32 * 3000


def test_new_node_sends_its_short_list() -> None:
    common = make_ids(2000, 13)
    a_ids, b_ids = common[:5] + make_ids(3, 14), common
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode == "send_ids" and a.stats.ids_exchanged == 8
    assert b.stats and b.stats.difference == 2000 - 5 + 3


def test_decode_failure_asks_for_more_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    first = iter([3])
    real = rc.cells_for
    monkeypatch.setattr(rc, "cells_for", lambda d: next(first, None) or real(d))
    common = make_ids(500, 15)
    extra = make_ids(60, 16)
    a_ids, b_ids = common + extra[:30], common + extra[30:]
    a, b = converse(a_ids, b_ids)
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode == "cells" and a.stats.round_trips >= 3


@pytest.mark.parametrize("initiator_smaller", [True, False])
def test_decode_failure_falls_back_to_id_lists(
    monkeypatch: pytest.MonkeyPatch, initiator_smaller: bool
) -> None:
    monkeypatch.setattr(rc, "cells_for", lambda d: 2)
    common = make_ids(500, 17)
    extra = make_ids(60, 18)
    small, large = common + extra[:20], common + extra[20:]
    a_ids, b_ids = (small, large) if initiator_smaller else (large, small)
    a, b = converse(a_ids, b_ids, limits=SyncLimits(max_more=1))
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.mode == "cells+ids"
    assert a.stats.ids_exchanged == len(a_ids if initiator_smaller else b_ids)


def test_envelopes_gone_from_the_store_are_skipped() -> None:
    common = make_ids(300, 19)
    extra = make_ids(10, 20)
    a_ids, b_ids = common, common + extra
    a, _ = converse(a_ids, b_ids, drop=frozenset(extra[:4]))
    assert a.received == {raw_of(i) for i in extra[4:]}


def test_big_pushes_span_several_frames_and_events() -> None:
    ids = make_ids(700, 21)
    a = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    b = SyncSession(ids, zone=ZONE, initiator=False, limits=SyncLimits(envelopes_per_event=300))
    assert isinstance(a.next_event(), NeedData)
    b.receive_data(a.data_to_send())
    assert isinstance(b.next_event(), Reconciled)
    asked = []
    while isinstance(event := b.next_event(), SendEnvelopes):
        asked.append(event.ids)
        b.send_envelopes([b"x" * 2000 for _ in event.ids])
    assert [len(c) for c in asked] == [300, 300, 100]
    assert isinstance(event, NeedData)
    out = b.data_to_send()
    assert b.statistics().frames_sent > 700 * 2000 // MAX_FRAME_BYTES
    a.receive_data(out)
    got = 0
    while isinstance(event := a.next_event(), ReceivedEnvelopes):
        got += len(event.raws)
    assert got == 700


def test_statistics_and_finished_repeat() -> None:
    ids = make_ids(100, 22)
    a, b = converse(ids, ids[:90])
    assert a.stats and b.stats
    assert a.session.finished and b.session.finished
    again = a.session.next_event()
    assert isinstance(again, Finished) and again.stats == a.session.statistics()
    assert b.stats.envelopes_received == 10
    # ten envelopes with a one-byte length each, in one frame: a 2-byte length and a type
    assert b.stats.envelope_bytes_received == 10 * (1 + len(raw_of(ids[0]))) + 3
    assert b.stats.reconciliation_bytes == (
        b.stats.bytes_sent + b.stats.bytes_received - b.stats.envelope_bytes_received
    )


@settings(max_examples=60, deadline=None)
@given(
    common=st.integers(0, 300),
    only_a=st.integers(0, 60),
    only_b=st.integers(0, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_sets_converge(common: int, only_a: int, only_b: int, seed: int) -> None:
    ids = make_ids(common + only_a + only_b, seed)
    a_ids = ids[: common + only_a]
    b_ids = ids[:common] + ids[common + only_a :]
    random.Random(seed).shuffle(b_ids)
    a, b = converse(a_ids, b_ids, salt=random.Random(seed + 1).randbytes(16))
    assert_reconciled(a_ids, b_ids, a, b)
    assert a.stats and a.stats.flights <= 10


# --- the coding parts -----------------------------------------------------------------------


def test_the_salt_changes_the_short_ids() -> None:
    ids = make_ids(50, 23)
    one, two = short_ids(ids, SALT), short_ids(ids, bytes(16))
    assert sorted(one.values()) == sorted(two.values()) == sorted(ids)
    assert not set(one) & set(two)
    assert all(sid < 2**64 for sid in one)


def test_a_short_id_collision_drops_the_second_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rc, "SHORT_ID_BYTES", 1)
    table = short_ids(make_ids(1000, 24), SALT)
    assert len(table) <= 256


def test_cells_are_linear_and_cell_zero_holds_everything() -> None:
    sids = list(short_ids(make_ids(400, 25), SALT))
    a, b = set(sids[:300]), set(sids[100:])
    ca, cb, cd = (encode_cells(s, 0, 80) for s in (a, b, a ^ b))
    assert [x ^ y for x, y in zip(ca, cb, strict=True)] == cd
    assert encode_cells(sids, 20, 80) == encode_cells(sids, 0, 80)[20:]
    assert all(list(cell_indices(sid, 1)) == [0] for sid in sids)


def test_cell_indices_increase_with_the_designed_density() -> None:
    sids = list(short_ids(make_ids(8000, 26), SALT))
    hits = [0] * 128
    for sid in sids:
        indices = list(cell_indices(sid, 128))
        assert indices == sorted(set(indices)) and indices[0] == 0
        for i in indices:
            hits[i] += 1
    assert hits[0] == len(sids)
    assert 0.4 < hits[1] / len(sids) < 0.5  # the jump rule's rounding: lower in cells 1 to 3
    for i in (5, 10, 30, 100):
        assert hits[i] / len(sids) == pytest.approx(2 / (i + 2), rel=0.25)


def test_cell_indices_continue_past_the_first_block() -> None:
    sids = list(short_ids(make_ids(40, 27), SALT))
    far = [list(cell_indices(sid, 2**44)) for sid in sids]
    longest = max(far, key=len)
    assert len(longest) > 60  # more jumps than the first 64-byte block holds
    assert longest == sorted(set(longest))
    # The fast encoder hands over to the slow path when an item's first block runs out.
    items = rc._Items(sids)
    items.jumps = [jumps[:3] for jumps in items.jumps]
    assert items.cells(0, 300) == encode_cells(sids, 0, 300)
    assert items.cells(50, 300) == encode_cells(sids, 50, 300)


def test_sketch_estimate_is_close() -> None:
    rnd = random.Random(28)
    for d in (5, 100, 2000):
        diff, _ = sketch(rnd.getrandbits(64) for _ in range(d))
        median = estimate_difference(diff, 1, 10**6, 0.5)
        assert d / 1.6 < median < d * 1.6
    empty, levels = sketch([])
    assert levels == 0 and estimate_difference(empty, 1, 10, 0.5) == 1


# --- usage errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initiator": True, "salt": None},
        {"initiator": True, "salt": b"short"},
        {"initiator": False, "salt": SALT},
        {"initiator": False, "zone": b"\x01\x02"},
        {"initiator": False, "ids": [b"\x00" * 31]},
        {"initiator": False, "ids": make_ids(3, 29), "limits": SyncLimits(max_ids=2)},
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"ids": [], "zone": ZONE} | kwargs
    with pytest.raises(UsageError):
        SyncSession(**args)  # type: ignore[arg-type]


def test_calls_out_of_turn_are_usage_errors() -> None:
    ids = make_ids(5, 30)
    a = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    b = SyncSession(ids, zone=ZONE, initiator=False)
    with pytest.raises(UsageError, match="without a SendEnvelopes"):
        b.send_envelopes([b"x"])
    a.next_event()
    b.receive_data(a.data_to_send())
    assert isinstance(b.next_event(), Reconciled)
    assert isinstance(b.next_event(), SendEnvelopes)
    with pytest.raises(UsageError, match="send_envelopes"):
        b.next_event()
    with pytest.raises(UsageError, match="cannot be sent"):
        b.send_envelopes([b"x" * 2049])
    b.send_envelopes([])  # the store had none of them any more
    a.receive_data(b"")
    with pytest.raises(UsageError, match="end of the stream"):
        a.receive_data(b"more")


# --- hostile peers ------------------------------------------------------------------------------


def responder_after(data: bytes, ids: Sequence[bytes] = (), **kw: object) -> SyncSession:
    session = SyncSession(ids, zone=ZONE, initiator=False, **kw)  # type: ignore[arg-type]
    session.receive_data(data)
    return session


def hello_of(ids: Sequence[bytes], zone: bytes = ZONE) -> bytes:
    initiator = SyncSession(ids, zone=zone, initiator=True, salt=SALT)
    initiator.next_event()
    return initiator.data_to_send()


def fails(session: SyncSession, match: str) -> None:
    with pytest.raises(SyncError, match=match) as info:
        while True:
            event = session.next_event()
            if isinstance(event, SendEnvelopes):
                session.send_envelopes([raw_of(i) for i in event.ids])
            elif not isinstance(event, Reconciled | ReceivedEnvelopes):
                break
    assert isinstance(info.value, PeerError) and info.value.code == "sync"
    # the peer is told why, and the session is over
    out = session.data_to_send()
    abort = frame(FrameType.ABORT, str(info.value).encode()[: rc.MAX_ABORT_TEXT])
    assert out.endswith(abort)
    with pytest.raises(UsageError):
        session.next_event()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (frame(42), "unknown frame type 42"),
        (frame(FrameType.DONE), "unexpected DONE frame in state await-hello"),
        (b"\x80\x80\x80\x01", "frame length above"),
        (b"\x00", "a frame of 0 bytes"),
        (b"\x81\x80\x04", "a frame of 65537 bytes"),
        (b"\x81\x00" + bytes(1), "not minimally encoded"),
        (frame(FrameType.HELLO, ZONE), "HELLO frame: ends before its 16-byte field"),
    ],
)
def test_malformed_frames(data: bytes, match: str) -> None:
    fails(responder_after(data), match)


def test_a_stream_closed_early() -> None:
    session = responder_after(b"")
    with pytest.raises(SyncError, match="closed the stream"):
        session.next_event()
    half = responder_after(frame(FrameType.HELLO, ZONE)[:-1])
    assert isinstance(half.next_event(), NeedData)
    half.receive_data(b"")
    with pytest.raises(SyncError, match="inside a frame"):
        half.next_event()


def test_hello_rules() -> None:
    fails(responder_after(hello_of(make_ids(3, 31), zone=b"\x09\x09\x09\x09")), "zone 09090909")
    tampered = hello_of(make_ids(3, 32))[1:] + b"\x00"  # after a one-byte length
    fails(responder_after(rc._uvarint(len(tampered)) + tampered), "unexpected bytes at the end")
    too_many = frame(FrameType.HELLO, ZONE + SALT + rc._uvarint(10) + bytes(12) + b"\x00")
    fails(responder_after(too_many, limits=SyncLimits(max_ids=9)), "exceeds the limit of 9")
    levels = frame(FrameType.HELLO, ZONE + SALT + b"\x01" + bytes(12) + b"\x19")
    fails(responder_after(levels), "25 sketch levels")
    long_count = frame(FrameType.HELLO, ZONE + SALT + b"\xff" * 10)
    fails(responder_after(long_count), "longer than 9 bytes")


def initiator_expecting_cells(ids: Sequence[bytes], peer_count: int, cells: int) -> SyncSession:
    session = SyncSession(ids, zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.data_to_send()
    reply = bytes((rc.Mode.CELLS,)) + rc._uvarint(peer_count) + rc._uvarint(cells)
    session.receive_data(frame(FrameType.REPLY, reply))
    assert isinstance(session.next_event(), NeedData)
    return session


def test_reply_rules() -> None:
    session = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.receive_data(frame(FrameType.REPLY, b"\x07\x00"))
    fails(session, "REPLY frame: unknown mode")
    session = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.receive_data(frame(FrameType.REPLY, b"\x01"))
    fails(session, "REPLY frame: ends inside its set size")
    session = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.receive_data(frame(FrameType.REPLY, b"\x01\x05" + rc._uvarint(1 << 18)))
    fails(session, "cells exceed the limit")


def test_cells_rules() -> None:
    ids = make_ids(20, 33)
    cell = bytes(CELL_BYTES)
    session = initiator_expecting_cells(ids, 20, 4)
    session.receive_data(frame(FrameType.CELLS, b"\x01" + cell))
    fails(session, "starts at cell 1, expected 0")
    session = initiator_expecting_cells(ids, 20, 4)
    session.receive_data(frame(FrameType.CELLS, b"\x00" + cell[:5]))
    fails(session, "5 bytes is not a positive multiple of 12")
    session = initiator_expecting_cells(ids, 20, 2)
    session.receive_data(frame(FrameType.CELLS, b"\x00" + cell * 3))
    fails(session, "beyond the 2 cells announced")


def test_cells_that_contradict_the_announced_size() -> None:
    ids = make_ids(20, 34)
    # The peer claims our very set, but says it holds 25 messages.
    sids = list(short_ids(ids, SALT))
    ours = encode_cells(sids, 0, 8)
    session = initiator_expecting_cells(ids, 25, 8)
    payload = b"".join(c.to_bytes(12, "big") for c in ours)
    session.receive_data(frame(FrameType.CELLS, b"\x00" + payload))
    fails(session, "set size 25 contradicts")


def test_forged_cells_cannot_make_us_peel_without_bound() -> None:
    # Every cell is "pure" for a made-up short id: more differences than both sets hold.
    session = initiator_expecting_cells([], 1, 64)
    payload = b"".join(
        rc._cell_value(sid).to_bytes(12, "big") for sid in range(1, 65)
    )
    session.receive_data(frame(FrameType.CELLS, b"\x00" + payload))
    fails(session, "more than the 1 differences")


def test_cells_that_show_an_item_twice() -> None:
    # Cell 0 holds an item once, its second cell holds it twice: peeling would never end.
    sid = next(s for s in range(1, 99) if list(cell_indices(s, 40))[1] < 40)
    second = list(cell_indices(sid, 40))[1]
    cells = [0] * (second + 1)
    cells[0] = rc._cell_value(sid)
    session = initiator_expecting_cells([], 2, len(cells))
    payload = b"".join(c.to_bytes(12, "big") for c in cells)
    session.receive_data(frame(FrameType.CELLS, b"\x00" + payload))
    fails(session, f"short id {sid:016x} more than once")


def test_cells_may_span_frames() -> None:
    ids = make_ids(30, 37)
    extra = make_ids(1, 38)
    theirs = encode_cells(short_ids(ids + extra, SALT), 0, 6)
    session = initiator_expecting_cells(ids, 31, 6)
    for start in (0, 3):
        payload = b"".join(c.to_bytes(12, "big") for c in theirs[start : start + 3])
        session.receive_data(frame(FrameType.CELLS, bytes((start,)) + payload))
    assert session.next_event() == Reconciled(we_lack=1, they_lack=0)
    assert isinstance(session.next_event(), NeedData)
    out = session.data_to_send()
    assert out[1] == FrameType.NEED and out[-2:] == frame(FrameType.DONE)


def responder_serving_cells(limits: SyncLimits | None = None) -> tuple[SyncSession, int]:
    common = make_ids(400, 35)
    kw: dict[str, object] = {"limits": limits} if limits else {}
    b = responder_after(hello_of(common + make_ids(20, 36)), common, **kw)
    assert isinstance(b.next_event(), NeedData)
    out = b.data_to_send()
    assert out[1] == FrameType.REPLY
    return b, b.statistics().cells


def test_more_rules() -> None:
    b, sent = responder_serving_cells(SyncLimits(max_more=1))
    b.receive_data(frame(FrameType.MORE, rc._uvarint(sent)))
    fails(b, f"not beyond the {sent} sent")
    b, sent = responder_serving_cells(SyncLimits(max_more=1))
    b.receive_data(frame(FrameType.MORE, rc._uvarint(sent + 5)))
    assert isinstance(b.next_event(), NeedData)
    assert b.statistics().cells == sent + 5
    b.receive_data(frame(FrameType.MORE, rc._uvarint(sent + 9)))
    fails(b, "more than 1 requests")
    b, sent = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x05" + bytes(5)) + frame(FrameType.MORE, b"\x50"))
    fails(b, "MORE frame: only follows CELLS")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x05" + bytes(5)) + frame(FrameType.REQUEST_IDS))
    fails(b, "REQUEST_IDS frame: only follows CELLS")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x05" + bytes(5)) + frame(FrameType.IDS, bytes(8)))
    fails(b, "IDS frame: only follows CELLS")


def test_need_rules() -> None:
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x03" + bytes(3)))
    fails(b, "prefix width 3")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x05" + bytes(7)))
    fails(b, "7 bytes is not a positive multiple of 5")
    b, _ = responder_serving_cells()
    five, six = frame(FrameType.NEED, b"\x05" + bytes(5)), frame(FrameType.NEED, b"\x06" + bytes(6))
    b.receive_data(five + six)
    fails(b, "prefix width 6 after 5")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.NEED, b"\x04" + bytes(4 * 401)))
    fails(b, "more than the 400 messages we hold")


def test_envelopes_rules() -> None:
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.ENVELOPES))
    fails(b, "carries no envelope")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.ENVELOPES, rc._uvarint(2049) + bytes(2049)))
    fails(b, "an envelope of 2049 bytes")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.ENVELOPES, b"\x05abc"))
    fails(b, "ends before its 5-byte field")
    b, _ = responder_serving_cells()
    entries = b"".join(b"\x01x" for _ in range(421))
    b.receive_data(frame(FrameType.ENVELOPES, entries))
    fails(b, "more envelopes than the 420")


def test_ids_rules() -> None:
    session = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.receive_data(frame(FrameType.REPLY, b"\x02\x01") + frame(FrameType.IDS, bytes(16)))
    fails(session, "more ids than the 1 announced")
    session = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    session.next_event()
    session.receive_data(frame(FrameType.REPLY, b"\x02\x01") + frame(FrameType.IDS, bytes(3)))
    fails(session, "3 bytes is not a positive multiple of 8")


def test_data_after_done() -> None:
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.DONE) + frame(FrameType.DONE))
    fails(b, "data after DONE")
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.DONE, b"?"))
    fails(b, "DONE frame: 1 unexpected bytes")


def test_too_many_frames() -> None:
    b, _ = responder_serving_cells(SyncLimits(max_frames=3))
    b.receive_data(b"".join(frame(FrameType.ENVELOPES, b"\x01x") for _ in range(3)))
    fails(b, "more than 3 frames")


def test_a_peer_that_gives_up_is_not_answered() -> None:
    b, _ = responder_serving_cells()
    b.receive_data(frame(FrameType.ABORT, "zone d\xe9j\xe0 vue".encode("latin-1")))
    with pytest.raises(SyncError, match="the peer gave up: 'zone d"):
        b.next_event()
    assert b.data_to_send() == b""
    with pytest.raises(UsageError):
        b.receive_data(b"x")


def test_an_abort_reaches_the_other_side() -> None:
    a = SyncSession([], zone=ZONE, initiator=True, salt=SALT)
    b = SyncSession([], zone=bytes(4), initiator=False)
    a.next_event()
    b.receive_data(a.data_to_send())
    with pytest.raises(SyncError, match="zone"):
        b.next_event()
    a.receive_data(b.data_to_send())
    with pytest.raises(SyncError, match="the peer gave up: 'sync: the peer syncs zone 01020304"):
        a.next_event()


# --- SPEC.md ------------------------------------------------------------------------------------


def spec_example() -> dict[str, str]:
    ids = [hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()]
    table = short_ids(ids, SALT)
    first = next(sid for sid, i in table.items() if i == ids[0])
    return {
        "sid": first.to_bytes(8, "big").hex(),
        "cell": rc._cell_value(first).to_bytes(12, "big").hex(),
        "indices": ", ".join(str(i) for i in cell_indices(first, 100)),
        "hello": hello_of(ids).hex(),
    }


def test_spec_quotes_the_worked_example() -> None:
    text = " ".join(SPEC.read_text(encoding="utf-8").split())
    example = spec_example()
    for key in ("sid", "cell", "indices"):
        assert example[key] in text, key
    hello = example["hello"]
    assert " ".join(hello[k : k + 64] for k in range(0, len(hello), 64)) in text
