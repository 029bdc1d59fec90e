"""The airtime scheduler (radio/scheduler.py, SPEC.md 11.7).

The main test offers hours of heavy traffic, far beyond what the duty cycle allows, and
checks the transmissions independently of the scheduler's own ledger: never more than the
EU_868 10 % in any rolling hour, alerts first and within seconds, each class starting
messages only within its share, check-ins coalesced, bulk refused.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any

import nacl.signing
import pytest
from meshtastic.protobuf import mesh_pb2

from protocol.envelope import Envelope, seal
from protocol.kinds import (
    Alert,
    CheckIn,
    CheckInStatus,
    Claim,
    HelpOffer,
    HelpRequest,
    Need,
    RequestUrgency,
    Severity,
    Tip,
)
from protocol.radio_frame import RADIO_PORT, KeyBook, RadioPriority, radio_priority
from radio.airtime import PRESETS, REGIONS, DutyCycleLedger
from radio.scheduler import (
    AirtimeScheduler,
    DropReason,
    Outgoing,
    Queued,
    Refused,
    RefuseReason,
    Transmission,
    lora_frame_bytes,
)

ZONE = bytes.fromhex("01020304")
T0 = 1_780_000_000
HOUR = 3600.0
BUDGET = 0.10 * HOUR  # EU_868
URGENT, NORMAL, CHECKIN, BULK = (
    RadioPriority.URGENT,
    RadioPriority.NORMAL,
    RadioPriority.CHECKIN,
    RadioPriority.BULK,
)


def item(n: int, frames: int = 1, size: int = 150, **kw: Any) -> Outgoing:
    return Outgoing(tuple(bytes([n % 256]) * size for _ in range(frames)), n.to_bytes(32), **kw)


def test_frame_size_is_the_firmware_encoding() -> None:
    """Header plus the Data protobuf as the firmware sends it (bitfield always set)."""
    for n in range(1, 232):
        data = mesh_pb2.Data(portnum=RADIO_PORT, payload=bytes(n), bitfield=0)
        assert lora_frame_bytes(n) == 16 + len(data.SerializeToString())
    assert lora_frame_bytes(231) == 255


def test_airtime_per_frame_from_the_preset() -> None:
    long_fast = AirtimeScheduler()
    medium = AirtimeScheduler(preset=PRESETS["MEDIUM_FAST"])
    assert long_fast.frame_airtime_s(bytes(84)) == pytest.approx(1.05, abs=0.01)
    assert long_fast.frame_airtime_s(bytes(200)) == pytest.approx(1.91, abs=0.01)
    assert medium.frame_airtime_s(bytes(200)) < long_fast.frame_airtime_s(bytes(200)) / 3


# --- a simulated busy neighbourhood -----------------------------------------------------------


@dataclass
class Offer:
    at: float
    env: Envelope


def _traffic(rnd: random.Random, hours: float) -> list[Offer]:
    """What a node is asked to send: its own messages and those it relays from Wi-Fi."""
    households = [nacl.signing.SigningKey(rnd.randbytes(32)) for _ in range(200)]
    offers: list[Offer] = []

    def add(at: float, body: Any, **kw: Any) -> None:
        key = rnd.choice(households)
        env = seal(body, signing_key=key, created=T0 + int(at), zone=ZONE, **kw)
        offers.append(Offer(at, env))

    end = hours * HOUR
    t = 0.0
    while t < end:  # ~1,200 check-ins an hour
        t += rnd.expovariate(1 / 3)
        status = rnd.choice([CheckInStatus.SAFE] * 8 + [CheckInStatus.NO_POWER])
        add(t, CheckIn(status=status, people=rnd.randint(0, 5)))
    t = 0.0
    while t < end:  # ~300 help requests, offers and claims an hour
        t += rnd.expovariate(1 / 12)
        choice = rnd.random()
        if choice < 0.5:
            text = "Besoin d'aide " * rnd.randint(0, 12)
            add(t, HelpRequest(need=Need(rnd.randint(1, 10)), text=text.strip()))
        elif choice < 0.8:
            add(t, HelpOffer(what=Need(rnd.randint(1, 15))))
        else:
            add(t, Claim(eta_minutes=rnd.randint(0, 90)), refs=[rnd.randbytes(32)])
    t = 0.0
    while t < end:  # ~12 alerts and SOS an hour, some in several fragments
        t += rnd.expovariate(1 / 300)
        if rnd.random() < 0.5:
            add(
                t,
                Alert(
                    headline="Crue : évacuez les quais",
                    severity=Severity.SEVERE,
                    instruction="Rejoignez le gymnase. " * rnd.randint(0, 20),
                ),
            )
        else:
            add(t, HelpRequest(need=Need.MEDICAL, urgency=RequestUrgency.CRITICAL))
    t = 0.0
    while t < end:  # tips: bulk
        t += rnd.expovariate(1 / 120)
        add(t, Tip(title="Gardez 6 L d'eau par personne"))
    offers.sort(key=lambda o: o.at)
    return offers


def _window_sums_ok(sent: list[tuple[float, Transmission]], limit: float) -> None:
    """Independent check: in every rolling hour, at most ``limit`` seconds on air, counting a
    frame at its start and counting its overlap with the window."""
    starts = [t for t, _ in sent]
    airtimes = [tx.airtime_s for _, tx in sent]
    prefix = [0.0]
    for a in airtimes:
        prefix.append(prefix[-1] + a)
    for i, start in enumerate(starts):
        first = bisect.bisect_right(starts, start - HOUR)
        assert prefix[i + 1] - prefix[first] <= limit + 1e-9, f"over budget at {start}"
        end = start + airtimes[i]
        first = bisect.bisect_left(starts, end - HOUR - 3.0)
        overlap = sum(
            max(0.0, min(starts[j] + airtimes[j], end) - max(starts[j], end - HOUR))
            for j in range(first, i + 1)
        )
        assert overlap <= limit + 1e-9


def test_a_busy_afternoon_stays_within_the_duty_cycle() -> None:
    rnd = random.Random(2026)
    offers = _traffic(rnd, hours=3)
    scheduler = AirtimeScheduler()  # LONG_FAST, EU_868
    keys = KeyBook()
    sent: list[tuple[float, Transmission]] = []
    outcomes: dict[str, int] = {}
    urgent_offered: dict[bytes, float] = {}
    first_frame: dict[bytes, float] = {}
    done: dict[bytes, float] = {}
    offered_frames = 0
    i, t, end = 0, 0.0, 3 * HOUR
    while t <= end:
        while i < len(offers) and offers[i].at <= t:
            env = offers[i].env
            outgoing = Outgoing.from_envelope(env, keys=keys)
            outgoing = Outgoing(
                outgoing.frames, outgoing.id, outgoing.coalesce, outgoing.order, None
            )
            offered_frames += len(outgoing.frames)
            priority = radio_priority(env)
            result = scheduler.enqueue(outgoing, priority, t)
            if priority is URGENT:
                urgent_offered[env.id] = t
            name = type(result).__name__
            if isinstance(result, Refused):
                name = f"refused-{result.reason}"
                assert (priority is BULK) == (result.reason is RefuseReason.BULK)
            outcomes[name] = outcomes.get(name, 0) + 1
            assert len(scheduler) <= scheduler.max_items
            households = [o.coalesce for o, _, _ in scheduler.queued_items() if o.coalesce]
            assert len(households) == len(set(households)), "two check-ins of one household"
            i += 1
        tx = scheduler.next_to_send(t)
        if tx is not None:
            sent.append((t, tx))
            first_frame.setdefault(tx.item.id, t)
            if tx.index == tx.count - 1:
                done[tx.item.id] = t + tx.airtime_s
            continue
        wake = scheduler.wait_until(t)
        upcoming = offers[i].at if i < len(offers) else float("inf")
        assert wake is None or wake > t, "wait_until promised a frame that did not come"
        t = min(wake if wake is not None else float("inf"), upcoming)
        if t == float("inf"):
            break

    assert offered_frames > 4000 and len(sent) > 400
    _window_sums_ok(sent, BUDGET)
    # Routine traffic fills its 70 %; the rest is kept for alerts.
    used_last_hour = sum(tx.airtime_s for s, tx in sent if s > end - HOUR)
    assert 0.65 * BUDGET < used_last_hour < 0.8 * BUDGET

    # Alerts and SOS first: every one went out, within seconds.
    assert set(urgent_offered) <= set(done)
    delays = [first_frame[k] - at for k, at in urgent_offered.items()]
    assert max(delays) < 5.0, max(delays)
    # While an urgent message waited, nothing else went out.
    waiting = [(at, done[k]) for k, at in urgent_offered.items()]
    for start, tx in sent:
        if tx.priority is not URGENT:
            assert not any(a <= start < d for a, d in waiting)

    # Each class started its messages within its share of the hour (exact sums here; the
    # scheduler's ledger counts whole minutes, so it is stricter still).
    starts = [s for s, _ in sent]
    for k, (start, tx) in enumerate(sent):
        if tx.index == 0 and tx.priority is not URGENT:
            first = bisect.bisect_right(starts, start - HOUR)
            window = sum(x.airtime_s for _, x in sent[first:k])
            share = {NORMAL: 0.7, CHECKIN: 0.5}[tx.priority]
            message = sum(scheduler.frame_airtime_s(f) for f in tx.item.frames)
            assert window + message <= share * BUDGET + 1e-9

    stats = scheduler.statistics()
    assert outcomes["refused-bulk"] == stats.refused[RefuseReason.BULK] > 50
    assert stats.dropped[DropReason.SUPERSEDED] > 100, "check-ins were coalesced"
    assert stats.dropped.get(DropReason.EVICTED, 0) > 0
    assert stats.sent_frames[URGENT] > 0 and stats.sent_frames[CHECKIN] > 0
    assert 0 < stats.fraction <= 1


# --- the rules one by one ---------------------------------------------------------------------


def fill(scheduler: AirtimeScheduler, seconds: float, now: float = 0.0) -> None:
    scheduler.ledger.record(now, seconds)


def test_classes_stop_at_their_share() -> None:
    s = AirtimeScheduler()
    fill(s, 0.5 * BUDGET - 1.0)  # a 150-byte frame is ~1.6 s
    assert isinstance(s.enqueue(item(1), CHECKIN, 10), Queued)
    assert s.next_to_send(10) is None
    assert isinstance(s.enqueue(item(2), NORMAL, 10), Queued)
    tx = s.next_to_send(10)
    assert tx is not None and tx.priority is NORMAL
    fill(s, 0.2 * BUDGET, 11)  # now above 70 %
    assert isinstance(s.enqueue(item(3), NORMAL, 20), Queued)
    assert s.next_to_send(20) is None
    assert isinstance(s.enqueue(item(4), URGENT, 20), Queued)
    tx = s.next_to_send(20)
    assert tx is not None and tx.priority is URGENT
    fill(s, BUDGET, 21)
    assert isinstance(s.enqueue(item(5), URGENT, 30), Queued)
    assert s.next_to_send(30) is None, "never past the duty cycle, even for an alert"


def test_wait_until_is_exact_to_the_ledger() -> None:
    s = AirtimeScheduler()
    fill(s, 0.3 * BUDGET, now=100)
    fill(s, 0.3 * BUDGET, now=1000)
    s.enqueue(item(1), CHECKIN, 2000)
    assert s.next_to_send(2000) is None
    wake = s.wait_until(2000)
    # The first minute bucket (100 s) leaves the window whole at 120 + 3600.
    assert wake == 120 + HOUR
    assert s.next_to_send(wake - 0.001) is None
    tx = s.next_to_send(wake)
    assert tx is not None and s.wait_until(wake) is None


def test_the_radio_is_busy_while_a_frame_is_on_air() -> None:
    s = AirtimeScheduler()
    s.enqueue(item(1, frames=2), NORMAL, 0)
    first = s.next_to_send(0)
    assert first is not None and first.index == 0
    assert s.next_to_send(first.airtime_s - 0.01) is None
    assert s.wait_until(0) == first.airtime_s
    second = s.next_to_send(first.airtime_s)
    assert second is not None and (second.index, second.count) == (1, 2)


def test_an_alert_passes_between_fragments() -> None:
    s = AirtimeScheduler()
    s.enqueue(item(1, frames=3), NORMAL, 0)
    t = 0.0
    tx = s.next_to_send(t)
    assert tx is not None
    s.enqueue(item(2), URGENT, 0.5)
    order = []
    while (wake := s.wait_until(t)) is not None:
        t = wake
        tx = s.next_to_send(t)
        assert tx is not None
        order.append((tx.item.id[-1], tx.index))
    assert order == [(2, 0), (1, 1), (1, 2)]


def test_a_started_message_finishes_past_its_share() -> None:
    s = AirtimeScheduler()
    s.enqueue(item(1, frames=3), CHECKIN, 0)
    assert s.next_to_send(0) is not None
    fill(s, 0.6 * BUDGET, 1)  # others' traffic: now above the check-in share
    assert s.next_to_send(5) is not None and s.next_to_send(10) is not None
    assert len(s) == 0


def test_checkins_are_coalesced() -> None:
    s = AirtimeScheduler()
    fill(s, BUDGET)  # nothing goes out: everything waits
    old = item(1, coalesce=b"household", order=(T0, b"a"))
    new = item(2, coalesce=b"household", order=(T0 + 60, b"b"))
    other = item(3, coalesce=b"neighbour", order=(T0, b"c"))
    assert isinstance(s.enqueue(old, CHECKIN, 0), Queued)
    assert isinstance(s.enqueue(other, CHECKIN, 1), Queued)
    result = s.enqueue(new, CHECKIN, 2)
    assert isinstance(result, Queued)
    assert [(d.item, d.reason) for d in result.dropped] == [(old, DropReason.SUPERSEDED)]
    assert [o for o, _, _ in s.queued_items()] == [new, other], "it keeps its place in line"
    late = s.enqueue(old, CHECKIN, 3)  # an older report relayed late
    assert isinstance(late, Refused) and late.reason is RefuseReason.SUPERSEDED
    assert s.take_dropped() == list(result.dropped) and s.take_dropped() == []


def test_bulk_is_refused() -> None:
    s = AirtimeScheduler()
    result = s.enqueue(item(1), BULK, 0)
    assert isinstance(result, Refused) and result.reason is RefuseReason.BULK
    assert len(s) == 0


def test_the_queue_is_bounded() -> None:
    s = AirtimeScheduler(max_items=3)
    fill(s, BUDGET)
    for n, priority in enumerate([CHECKIN, NORMAL, CHECKIN]):
        assert isinstance(s.enqueue(item(n), priority, n), Queued)
    result = s.enqueue(item(10), NORMAL, 5)
    assert isinstance(result, Queued)
    assert [(d.item.id[-1], d.reason) for d in result.dropped] == [(0, DropReason.EVICTED)]
    result = s.enqueue(item(11), URGENT, 6)
    assert isinstance(result, Queued) and result.dropped[0].item.id[-1] == 2
    result = s.enqueue(item(12), CHECKIN, 7)
    assert isinstance(result, Refused) and result.reason is RefuseReason.QUEUE_FULL
    assert [o.id[-1] for o, _, _ in s.queued_items()] == [11, 1, 10]


def test_refusals() -> None:
    s = AirtimeScheduler(region=REGIONS["UA_868"])  # 1 %: 36 s an hour
    sixteen = item(1, frames=16, size=200)
    result = s.enqueue(sixteen, NORMAL, 0)
    assert isinstance(result, Refused) and result.reason is RefuseReason.TOO_LARGE
    assert "NORMAL" in result.detail
    assert isinstance(s.enqueue(sixteen, URGENT, 0), Queued)
    dup = s.enqueue(sixteen, URGENT, 1)
    assert isinstance(dup, Refused) and dup.reason is RefuseReason.DUPLICATE
    huge = Outgoing((bytes(232),), bytes(32))
    result = s.enqueue(huge, URGENT, 1)
    assert isinstance(result, Refused) and result.reason is RefuseReason.TOO_LARGE


def test_deadlines_and_cancel() -> None:
    s = AirtimeScheduler()
    fill(s, BUDGET)
    s.enqueue(item(1, deadline=100.0), NORMAL, 0)
    s.enqueue(item(2), NORMAL, 0)
    assert s.next_to_send(100) is None
    (dropped,) = s.take_dropped()
    assert dropped.item.id[-1] == 1 and dropped.reason is DropReason.DEADLINE
    assert s.cancel((2).to_bytes(32)) and not s.cancel((2).to_bytes(32))
    assert s.wait_until(101) is None


def test_relays_spend_the_budget() -> None:
    s = AirtimeScheduler()
    for n in range(120):
        s.record_relay(n * 10.0, 200)
    stats = s.statistics()
    assert stats.relay_airtime_s == pytest.approx(stats.used_s)
    assert stats.fraction > 0.6
    s.enqueue(item(1), CHECKIN, 1200)
    s.enqueue(item(2), URGENT, 1200)
    tx = s.next_to_send(1200)
    assert tx is not None and tx.priority is URGENT
    assert s.next_to_send(1210) is None, "check-ins wait while relays use the hour"


def test_from_envelope() -> None:
    key = nacl.signing.SigningKey(bytes(32))
    env = seal(CheckIn(status=CheckInStatus.SAFE), signing_key=key, created=T0, zone=ZONE)
    out = Outgoing.from_envelope(env)
    assert out.id == env.id and out.coalesce == bytes(key.verify_key)
    assert out.order == (T0, env.id) and out.deadline == env.expires
    assert len(out.frames) == 1


def test_no_duty_cycle_region() -> None:
    s = AirtimeScheduler(region=REGIONS["US"], ledger=DutyCycleLedger(1.0))
    s.enqueue(item(1), NORMAL, 0)
    assert s.next_to_send(0) is not None
    assert s.statistics().budget_s == HOUR


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError):
        AirtimeScheduler(max_items=0)
    with pytest.raises(ValueError):
        AirtimeScheduler(shares={URGENT: 1.0})
