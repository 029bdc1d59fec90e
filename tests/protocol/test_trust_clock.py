"""A node whose clock is days off still interoperates (protocol/clock.py, SPEC.md 11a.7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from protocol.charter import Charter
from protocol.clock import (
    DEADBAND,
    MIN_SOURCES,
    ClockObserver,
    ClockSample,
    estimate_offset,
)
from protocol.envelope import accept, decode, seal
from protocol.errors import ExpiredMessage, FutureMessage
from protocol.kinds import Alert, CheckIn, CheckInStatus, Role, Vouch
from protocol.trust import derive_roles

ZONE = bytes.fromhex("01020304")
TRUE_NOW = 1_780_000_000  # the real time
DAY = 86_400
FOUNDER = SigningKey(bytes([1]) * 32)
PEERS = [SigningKey(bytes([10 + i]) * 32) for i in range(7)]
LIARS = [SigningKey(bytes([40 + i]) * 32) for i in range(3)]
SYBILS = [SigningKey(bytes([60 + i]) * 32) for i in range(9)]
ME = SigningKey(bytes([99]) * 32)


def pub(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


CHARTER = Charter(zone=ZONE, name="Rue des Lilas", founders=(pub(FOUNDER),), issued=TRUE_NOW - DAY)
VOUCHES = [
    seal(
        Vouch(subject=pub(k), role=Role.HOUSEHOLD),
        signing_key=FOUNDER,
        created=TRUE_NOW - DAY,
        zone=ZONE,
    )
    for k in [*PEERS, *LIARS, ME]
]
ROLES = derive_roles(CHARTER, VOUCHES, now=TRUE_NOW)


def traffic(local_offset: int, liar_offsets: list[int]) -> list[tuple[bytes, int]]:
    """(envelope, local reception time) over 20 minutes: honest peers' check-ins arrive 1 to
    30 s after they are created (their clocks are right); liars' clocks are off by their offset."""
    out = []
    for minute in range(20):
        t = TRUE_NOW + 60 * minute
        for i, peer in enumerate(PEERS):
            env = seal(
                CheckIn(status=CheckInStatus.SAFE, people=minute),
                signing_key=peer,
                created=t,
                zone=ZONE,
            )
            out.append((env.raw, t + 1 + (7 * i + minute) % 30 + local_offset))
        for liar, offset in zip(LIARS, liar_offsets, strict=False):
            env = seal(
                CheckIn(status=CheckInStatus.SAFE, people=minute),
                signing_key=liar,
                created=t + offset,
                zone=ZONE,
            )
            out.append((env.raw, t + 2 + local_offset))
    return out


@pytest.mark.parametrize("offset", [-3 * DAY, 3 * DAY, -40 * DAY])
def test_a_node_three_days_off_still_interoperates(offset: int) -> None:
    """The node's clock reads TRUE_NOW + offset. Without the estimate it refuses what it
    receives and every other node refuses what it sends; with it, both work, even with a
    minority of vouched peers lying about the time by days either way."""
    policy = ROLES.policy(zone=ZONE)
    observer = ClockObserver()
    received = traffic(offset, [5 * DAY, -4 * DAY, 30 * DAY])
    refused_raw = 0
    for raw, local in received:
        env = decode(raw)  # signature checked first: a sample needs an authentic author
        observer.observe(env.author, env.created, local)
        try:
            accept(raw, now=local, policy=policy)
        except (FutureMessage, ExpiredMessage):
            refused_raw += 1
    local_now = received[-1][1]
    estimate = observer.estimate(local_now=local_now, trusted=ROLES.vouched)
    assert estimate.trusted and estimate.sources == len(PEERS) + len(LIARS)
    assert abs(estimate.now(local_now) - (TRUE_NOW + 19 * 60)) <= 60
    # Receiving with the network's time: every honest message of the last hours is accepted.
    honest = [
        (raw, local) for raw, local in received if decode(raw).author in {pub(p) for p in PEERS}
    ]
    for raw, local in honest:
        accept(raw, now=estimate.now(local), policy=policy)
    if offset < 0:
        assert refused_raw >= len(honest)  # without the estimate: all future-dated
    # Sending with the network's time: a peer with a right clock accepts it.
    mine = seal(
        Alert(headline="Arbre tombé"), signing_key=ME, created=estimate.now(local_now), zone=ZONE
    )
    accept(mine.raw, now=TRUE_NOW + 19 * 60 + 5, policy=policy)
    unadjusted = seal(Alert(headline="Arbre tombé"), signing_key=ME, created=local_now, zone=ZONE)
    with pytest.raises((FutureMessage, ExpiredMessage)):
        accept(unadjusted.raw, now=TRUE_NOW + 19 * 60 + 5, policy=policy)


def test_unvouched_keys_cannot_outvote_vouched_ones() -> None:
    samples = [ClockSample(pub(p), TRUE_NOW - 10, TRUE_NOW) for p in PEERS[:3]]
    samples += [ClockSample(pub(s), TRUE_NOW + 10 * DAY, TRUE_NOW) for s in SYBILS]
    assert estimate_offset(samples, trusted=ROLES.vouched).offset == 0
    # Without enough vouched sources, all count: then the majority decides.
    untrusted = estimate_offset(samples)
    assert not untrusted.trusted and untrusted.offset == 10 * DAY


def test_small_offsets_and_few_sources_leave_the_clock_alone() -> None:
    near = [ClockSample(bytes([i]) * 32, TRUE_NOW + DEADBAND, TRUE_NOW) for i in range(5)]
    estimate = estimate_offset(near)
    assert estimate.offset == 0 and estimate.measured == DEADBAND
    few = [ClockSample(bytes([i]) * 32, TRUE_NOW + DAY, TRUE_NOW) for i in range(MIN_SOURCES - 1)]
    assert estimate_offset(few).offset == 0 and estimate_offset(few).sources == MIN_SOURCES - 1
    one_loud = [ClockSample(bytes([1]) * 32, TRUE_NOW + DAY, TRUE_NOW + s) for s in range(50)]
    assert estimate_offset(one_loud).sources == 1  # many samples, one source


def test_lateness_only_lowers_a_sample() -> None:
    """The freshest message of each source counts: old ones re-sent do not pull the clock back."""
    samples = []
    for i in range(5):
        key = bytes([i]) * 32
        samples.append(ClockSample(key, TRUE_NOW - 2 * DAY, TRUE_NOW))  # an old message
        samples.append(ClockSample(key, TRUE_NOW - 3, TRUE_NOW))  # a fresh one
    assert estimate_offset(samples).measured == -3


@settings(max_examples=100, deadline=None)
@given(
    st.integers(-60 * DAY, 60 * DAY),
    st.lists(st.integers(0, 120), min_size=5, max_size=15),
    st.lists(st.integers(-(10**8), 10**8), max_size=4),
)
def test_a_minority_of_liars_cannot_move_the_estimate_past_the_honest(
    offset: int, delays: list[int], lies: list[int]
) -> None:
    honest = [
        ClockSample(bytes([i]) * 32, TRUE_NOW, TRUE_NOW + offset + d) for i, d in enumerate(delays)
    ]
    liars = [
        ClockSample(bytes([200 + i]) * 32, TRUE_NOW + lie, TRUE_NOW + offset)
        for i, lie in enumerate(lies)
    ]
    if len(liars) * 2 >= len(honest) + len(liars):
        return
    estimate = estimate_offset([*honest, *liars])
    low, high = -offset - max(delays), -offset - min(delays)
    assert low <= estimate.measured <= high


def test_the_observer_is_bounded_and_forgets() -> None:
    observer = ClockObserver(max_sources=4, window=3600)
    for i in range(10):
        for j in range(20):
            observer.observe(bytes([i]) * 32, TRUE_NOW + DAY + j, TRUE_NOW + j)
    assert len(observer.samples(local_now=TRUE_NOW + 20)) == 4 * 8
    assert observer.estimate(local_now=TRUE_NOW + 20).offset == DAY
    assert observer.samples(local_now=TRUE_NOW + 3600 + 20) == []
    observer.clear()
    assert observer.estimate(local_now=TRUE_NOW).sources == 0
