"""Per-author storage quotas (protocol/quota.py, SPEC.md 11a.6) in the real SQLite store,
and the push screen of a node's trust state."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from node.store import Store
from protocol import kinds as k
from protocol.envelope import Envelope, Policy, seal
from protocol.quota import OverQuota, Usage, check_quota, is_priority, quota_of
from protocol.trust import RATE_LIMITS, RateClass, RateLimit

ZONE = bytes.fromhex("3f2a9c01")
NOW = int(time.time())
POLICY = Policy(zone=ZONE)
SMALL = RateLimit(burst=10, per_hour=30, max_live=8, max_live_bytes=64 * 1024)
FLOODER = SigningKey.generate()
OTHER = SigningKey.generate()


def request(i: int, key: SigningKey = FLOODER, *, created: int = NOW, **body: object) -> Envelope:
    return seal(
        k.HelpRequest(need=k.Need.FOOD, text=f"#{i}", **body),  # type: ignore[arg-type]
        signing_key=key,
        created=created,
        zone=ZONE,
    )


def alert(key: SigningKey = FLOODER, *, exercise: bool = False) -> Envelope:
    return seal(
        k.Alert(headline="Crue de la Garonne", severity=k.Severity.SEVERE, exercise=exercise),
        signing_key=key,
        created=NOW,
        zone=ZONE,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store.sqlite3", verify_workers=0) as s:
        yield s


def codes(store: Store, envs: list[Envelope], limit: RateLimit = SMALL) -> list[str]:
    results = store.ingest(
        [e.raw for e in envs], now=NOW, policy=POLICY, quota_for=lambda author: limit
    )
    return [r.status if r.error is None else r.error.code for r in results]


def test_an_author_over_quota_gets_its_newest_refused_and_others_pass(store: Store) -> None:
    first = [request(i) for i in range(8)]
    assert codes(store, first) == ["new"] * 8
    # Within one batch too: the author's extra ones are refused, another author's go in.
    extra = [request(100 + i) for i in range(3)]
    others = [request(i, OTHER) for i in range(3)]
    assert codes(store, [extra[0], others[0], extra[1], others[1], extra[2], others[2]]) == [
        "over-quota",
        "new",
        "over-quota",
        "new",
        "over-quota",
        "new",
    ]
    held = {e.id for e in store.live(NOW)}
    assert {e.id for e in first + others} == held  # nothing held was dropped
    assert store.usage(NOW)[bytes(FLOODER.verify_key), False].count == 8
    assert store.usage(NOW, [bytes(OTHER.verify_key)]) == {
        (bytes(OTHER.verify_key), False): Usage(3, sum(len(e.raw) for e in others))
    }
    # The refusal names the author and the rule, and is a peer's fault.
    (result,) = store.ingest([extra[0].raw], now=NOW, policy=POLICY, quota_for=lambda a: SMALL)
    assert isinstance(result.error, OverQuota) and result.error.fault == "peer"
    assert "8 live messages" in str(result.error) and "at most 8" in str(result.error)


def test_a_batch_over_quota_keeps_the_first_in_input_order(store: Store) -> None:
    envs = [request(i) for i in range(12)]
    assert codes(store, envs) == ["new"] * 8 + ["over-quota"] * 4
    assert {e.id for e in store.live(NOW)} == {e.id for e in envs[:8]}


def test_alerts_and_retractions_have_their_own_pool(store: Store) -> None:
    assert codes(store, [request(i) for i in range(8)]) == ["new"] * 8
    full = request(99)
    target = store.live(NOW)[0]
    retraction = seal(k.Retraction(), signing_key=FLOODER, created=NOW, zone=ZONE, refs=[target.id])
    assert codes(store, [full, alert(), retraction, alert(exercise=True)]) == [
        "over-quota",
        "new",
        "new",
        "over-quota",  # the priority pool is a quarter: 2
    ]
    assert quota_of(SMALL, priority=True) == Usage(2, 16 * 1024)


def test_the_pools_make_arrival_order_irrelevant(tmp_path: Path) -> None:
    envs = [request(i) for i in range(8)] + [alert()]
    kept = []
    for name, order in (("a", envs), ("b", envs[::-1])):
        with Store.open(tmp_path / f"{name}.sqlite3", verify_workers=0) as s:
            assert codes(s, order) == ["new"] * 9
            assert codes(s, [request(50), alert(exercise=True)]) == ["over-quota", "new"]
            kept.append({e.id for e in s.live(NOW)})
    assert kept[0] == kept[1]


def test_the_byte_quota_counts_raw_sizes(store: Store) -> None:
    envs = [request(i) for i in range(8)]
    size = len(envs[0].raw)
    tight = RateLimit(burst=10, per_hour=30, max_live=100, max_live_bytes=3 * size + size // 2)
    assert codes(store, envs[:5], tight) == ["new", "new", "new", "over-quota", "over-quota"]


def test_expired_messages_free_the_quota(store: Store) -> None:
    old = [request(i, created=NOW - 3 * 86_400 + 60) for i in range(8)]  # 2-day lifetime
    results = store.ingest(
        [e.raw for e in old], now=NOW - 3 * 86_400 + 120, policy=POLICY, quota_for=lambda a: SMALL
    )
    assert [r.status for r in results] == ["new"] * 8
    assert codes(store, [request(50)]) == ["new"]  # the 8 have expired by NOW


def test_classes_follow_the_trust_roles() -> None:
    env = request(1)
    unvouched = RATE_LIMITS[RateClass.UNVOUCHED]
    coordinator = RATE_LIMITS[RateClass.COORDINATOR]
    check_quota(env, Usage(unvouched.max_live - 1, 0), unvouched)
    with pytest.raises(OverQuota):
        check_quota(env, Usage(unvouched.max_live, 0), unvouched)
    check_quota(env, Usage(unvouched.max_live, 0), coordinator)  # a coordinator posts more
    assert is_priority(alert()) and is_priority(alert(exercise=True))
    assert not is_priority(env)


def test_an_old_store_gets_the_author_index(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store.open(path, verify_workers=0).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX messages_by_author")
    Store.open(path, verify_workers=0).close()
    with sqlite3.connect(path) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_schema")}
    assert "messages_by_author" in names
