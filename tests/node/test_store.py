"""The SQLite message store: ingest (decode, check, dedupe, verify, persist) and queries."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from nacl.signing import SigningKey

import node.store
from node.store import (
    SCHEMA_VERSION,
    IngestResult,
    NewerStore,
    NotAStore,
    Store,
    StoreCorrupt,
    StoreError,
)
from protocol.encoding import encode_canonical
from protocol.envelope import (
    DEFAULT_MAX_SKEW,
    MAX_ENVELOPE_BYTES,
    SIGNING_CONTEXT,
    Envelope,
    Policy,
    seal,
)
from protocol.errors import (
    BadSignature,
    ExpiredMessage,
    FutureMessage,
    LocalError,
    NonCanonical,
    Oversize,
    PeerError,
    Truncated,
    Unauthorized,
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
    HelpRequest,
    Kind,
    Need,
    OfficialSource,
)

NOW = 1_760_000_000
ZONE = b"\x00\x00\x00\x01"
ALICE = SigningKey(bytes([1]) * 32)
BOB = SigningKey(bytes([2]) * 32)
POLICY = Policy()
HOUR = 3600


def make(
    body: Any = None,
    *,
    key: SigningKey = ALICE,
    created: int = NOW - 60,
    refs: tuple[bytes, ...] = (),
    lifetime: int | None = None,
) -> Envelope:
    body = CheckIn(status=CheckInStatus.SAFE) if body is None else body
    return seal(body, signing_key=key, created=created, zone=ZONE, refs=refs, lifetime=lifetime)


def many(count: int, *, key: SigningKey = ALICE) -> list[Envelope]:
    """``count`` distinct valid messages."""
    return [
        make(HelpRequest(need=Need.WATER, text=f"message {i}"), key=key, created=NOW - 1000 + i)
        for i in range(count)
    ]


def forge(raw: bytes) -> bytes:
    """The same signed bytes with one bit of the signature flipped."""
    return raw[:-1] + bytes([raw[-1] ^ 0x01])


def signed_content(content: dict[int, Any], key: SigningKey = ALICE, *, canonical: bool) -> bytes:
    """An envelope with a correct signature over arbitrary (maybe non-canonical) content."""
    encoded = encode_canonical(content) if canonical else cbor2.dumps(content)
    signed = b"\x01" + encoded
    return signed + key.sign(SIGNING_CONTEXT + signed).signature


def official_alert(key: SigningKey) -> Envelope:
    return make(
        Alert(
            headline="Évacuation du quartier bas",
            origin=AlertOrigin.OFFICIAL,
            official=OfficialSource(
                source="vigicrues",
                sender="vigicrues@example.fr",
                identifier="FR-1",
                sent=NOW - 600,
                digest=bytes(32),
            ),
        ),
        key=key,
    )


@pytest.fixture(params=[0, 2], ids=["inline", "helpers"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store.sqlite3", verify_workers=request.param) as s:
        yield s


def ingest(store: Store, *raws: bytes, policy: Policy = POLICY) -> list[IngestResult]:
    return store.ingest(list(raws), now=NOW, policy=policy)


# --- new, duplicate ---------------------------------------------------------------------------


def test_a_valid_message_is_new_then_stored(store: Store) -> None:
    env = make()
    (result,) = ingest(store, env.raw)
    assert result == IngestResult("new", id=env.id, envelope=env)
    assert store.get(env.id) == env
    assert store.count() == 1


def test_a_message_seen_before_is_a_duplicate(store: Store) -> None:
    env = make()
    ingest(store, env.raw)
    (result,) = ingest(store, env.raw)
    assert result == IngestResult("duplicate", id=env.id)
    assert store.count() == 1


def test_copies_within_a_batch_are_stored_once(store: Store) -> None:
    a, b = make(), make(CheckIn(status=CheckInStatus.NO_POWER))
    results = ingest(store, a.raw, b.raw, a.raw, bytes(b.raw))
    assert [r.status for r in results] == ["new", "new", "duplicate", "duplicate"]
    assert [r.id for r in results] == [a.id, b.id, a.id, b.id]
    assert store.count() == 2


def test_a_forged_copy_does_not_stop_the_genuine_one_in_the_same_batch(store: Store) -> None:
    env = make()
    forged, genuine, again = ingest(store, forge(env.raw), env.raw, env.raw)
    assert forged.status == "rejected" and isinstance(forged.error, BadSignature)
    assert genuine.status == "new" and again.status == "duplicate"
    assert store.get(env.id) == env


def test_a_stored_id_is_not_verified_again(store: Store) -> None:
    """A copy of a stored message is a duplicate whatever its signature bytes: nothing new."""
    env = make()
    ingest(store, env.raw)
    (result,) = ingest(store, forge(env.raw))
    assert result == IngestResult("duplicate", id=env.id)
    assert store.get(env.id) == env


def test_received_defaults_to_now(store: Store, tmp_path: Path) -> None:
    a, b = make(), make(CheckIn(status=CheckInStatus.INJURED))
    store.ingest([a.raw], now=NOW, policy=POLICY)
    store.ingest([b.raw], now=NOW, policy=POLICY, received=NOW - 5)
    with sqlite3.connect(store.path) as conn:
        rows = dict(conn.execute("SELECT id, received FROM messages"))
    assert rows == {a.id: NOW, b.id: NOW - 5}


# --- rejected ---------------------------------------------------------------------------------

BAD_INPUTS: dict[str, tuple[Any, type[PeerError]]] = {
    "forged": (lambda: forge(make().raw), BadSignature),
    "truncated": (lambda: make().raw[:50], Truncated),
    "cut-short": (lambda: make().raw[:-1], Truncated),
    "oversize": (lambda: make().raw + bytes(MAX_ENVELOPE_BYTES), Oversize),
    "default-lifetime-written": (
        lambda: signed_content(
            {
                0: int(Kind.CHECKIN),
                1: bytes(ALICE.verify_key),
                2: NOW - 60,
                3: KIND_RULES[Kind.CHECKIN].default_lifetime,
                4: ZONE,
                6: {0: int(CheckInStatus.SAFE)},
            },
            canonical=True,
        ),
        NonCanonical,
    ),
    "unsorted-keys": (
        lambda: signed_content(
            {
                6: {0: int(CheckInStatus.SAFE)},
                0: int(Kind.CHECKIN),
                1: bytes(ALICE.verify_key),
                2: NOW - 60,
                4: ZONE,
            },
            canonical=False,
        ),
        NonCanonical,
    ),
    "expired": (lambda: make(created=NOW - 4 * 24 * HOUR).raw, ExpiredMessage),
    "future-dated": (lambda: make(created=NOW + DEFAULT_MAX_SKEW + 60).raw, FutureMessage),
    "official-alert-from-a-non-bridge": (lambda: official_alert(BOB).raw, Unauthorized),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_rejected_with_its_error_and_not_stored(store: Store, case: str) -> None:
    build, error_class = BAD_INPUTS[case]
    raw = build()
    (result,) = ingest(store, raw)
    assert result.status == "rejected"
    assert type(result.error) is error_class, result.error
    assert str(result.error)
    assert store.count() == 0
    if result.id is not None:
        assert store.get(result.id) is None
        assert result.envelope is not None and result.envelope.id == result.id


def test_every_bad_input_together_stores_nothing(store: Store) -> None:
    raws = [build() for build, _ in BAD_INPUTS.values()]
    results = ingest(store, *raws)
    assert [type(r.error) for r in results] == [cls for _, cls in BAD_INPUTS.values()]
    assert store.count() == 0


def test_slightly_future_messages_within_the_skew_are_accepted(store: Store) -> None:
    (result,) = ingest(store, make(created=NOW + DEFAULT_MAX_SKEW - 1).raw)
    assert result.status == "new"


def test_an_official_alert_from_a_listed_bridge_is_accepted(store: Store) -> None:
    env = official_alert(BOB)
    (result,) = ingest(store, env.raw, policy=Policy(bridge_keys=frozenset({env.author})))
    assert result.status == "new"


def test_a_message_from_another_zone_is_rejected(store: Store) -> None:
    (result,) = ingest(store, make().raw, policy=Policy(zone=b"\x00\x00\x00\x02"))
    assert result.status == "rejected" and isinstance(result.error, WrongZone)
    assert store.count() == 0


def test_a_copy_of_a_rejected_input_gets_the_same_rejection(store: Store) -> None:
    bad = forge(make().raw)
    first, second = ingest(store, bad, bad)
    assert first.status == second.status == "rejected"
    assert second.error is first.error


def test_a_mixed_batch_stores_exactly_the_good_ones(store: Store) -> None:
    """Large enough to use the verifier threads; bad inputs interleaved with good ones."""
    good = many(120)
    bad = [build() for build, _ in BAD_INPUTS.values()]
    raws: list[bytes] = []
    for i, env in enumerate(good):
        raws.append(env.raw)
        if i % 13 == 0:
            raws.append(bad[(i // 13) % len(bad)])
    results = ingest(store, *raws)
    assert len(results) == len(raws)
    good_ids = {env.id for env in good}
    for raw, result in zip(raws, results, strict=True):
        if result.status == "new":
            assert result.id in good_ids and result.envelope is not None
            assert result.envelope.raw == raw
        else:
            assert result.status == "rejected" and isinstance(result.error, PeerError)
    assert sum(r.status == "new" for r in results) == len(good)
    assert set(store.ids(NOW)) == good_ids


def test_a_bug_propagates_and_stores_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes, *, verify: bool = True) -> Envelope:
        raise RuntimeError("bug")

    monkeypatch.setattr(node.store, "decode", broken)
    with pytest.raises(RuntimeError, match="bug"):
        ingest(store, *(e.raw for e in many(40)))
    monkeypatch.undo()
    assert store.count() == 0
    (result,) = ingest(store, make().raw)  # the transaction was rolled back cleanly
    assert result.status == "new"


def test_an_empty_batch(store: Store) -> None:
    assert ingest(store) == []


# --- queries ----------------------------------------------------------------------------------


def test_referencing_lists_what_cites_a_message(store: Store) -> None:
    request = make(HelpRequest(need=Need.FOOD), created=NOW - 300)
    claim = make(Claim(eta_minutes=10), key=BOB, refs=(request.id,), created=NOW - 200)
    comment = make(Comment(text="merci"), refs=(request.id,), created=NOW - 100)
    ingest(store, comment.raw, request.raw, claim.raw)
    assert store.referencing(request.id) == [claim, comment]
    assert store.referencing(claim.id) == []
    assert store.referencing(request.id, now=claim.expires) == [comment]


def test_live_leaves_out_expired_messages_and_filters_kinds(store: Store) -> None:
    request = make(HelpRequest(need=Need.FOOD), created=NOW - 300)
    short = make(Claim(), refs=(request.id,), lifetime=10, created=NOW - 200)
    checkin = make(created=NOW - 100)
    ingest(store, checkin.raw, short.raw, request.raw)
    assert store.live(NOW) == [request, short, checkin]
    later = short.expires
    assert store.live(later) == [request, checkin]
    assert store.live(NOW, kinds=[Kind.CHECKIN, Kind.CLAIM]) == [short, checkin]
    assert store.live(NOW, kinds=[]) == []
    assert store.ids(later) == sorted([request.id, checkin.id])
    assert store.all_raw(later) == [request.raw, checkin.raw]
    assert store.all_raw(NOW, since=NOW - 200) == [short.raw, checkin.raw]


def test_prune_deletes_expired_messages_and_their_references(store: Store) -> None:
    request = make(HelpRequest(need=Need.FOOD), created=NOW - 300)
    claim = make(Claim(), refs=(request.id,), lifetime=10, created=NOW - 200)
    comment = make(Comment(text="j'arrive"), refs=(request.id,), lifetime=60)
    ingest(store, request.raw, claim.raw, comment.raw)
    assert store.statistics().refs == 2
    assert store.prune(NOW) == 0
    assert store.prune(claim.expires) == 1
    assert store.get(claim.id) is None
    assert store.referencing(request.id) == [comment]
    assert store.statistics().refs == 1
    assert store.prune(request.expires) == 2
    assert store.count() == 0 and store.statistics().refs == 0


def test_find_prefix_matches_a_range_of_ids(store: Store) -> None:
    envs = many(300)
    ingest(store, *(e.raw for e in envs))
    all_ids = sorted(e.id for e in envs)
    for env in envs[:40]:
        for digits in (4, 5, 7, 64):
            prefix = env.id.hex()[:digits]
            found = store.find_prefix(prefix.upper() if digits == 5 else prefix)
            assert [e.id for e in found] == [i for i in all_ids if i.hex().startswith(prefix)]
    assert store.find_prefix("ffff") == [e for e in envs if e.id.hex().startswith("ffff")]


@pytest.mark.parametrize("bad", ["", "abc", "xyz1", "12 34", "0" * 65])
def test_find_prefix_refuses_what_is_not_a_prefix(store: Store, bad: str) -> None:
    with pytest.raises(UsageError, match="prefix"):
        store.find_prefix(bad)


def test_statistics(store: Store) -> None:
    request = make(HelpRequest(need=Need.FOOD))
    ingest(store, request.raw, make().raw, make(key=BOB).raw)
    stats = store.statistics()
    assert stats.messages == 3
    assert stats.by_kind == {Kind.HELP_REQUEST: 1, Kind.CHECKIN: 2}
    assert stats.refs == 0
    assert stats.file_bytes > 0
    assert stats.journal_mode == "wal"
    assert stats.schema_version == SCHEMA_VERSION


def test_usable_from_another_thread(store: Store) -> None:
    env = make()
    results: list[IngestResult] = []
    thread = threading.Thread(target=lambda: results.extend(ingest(store, env.raw)))
    thread.start()
    thread.join(timeout=10)
    assert [r.status for r in results] == ["new"]
    assert store.get(env.id) == env


# --- the file ---------------------------------------------------------------------------------


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    envs = many(50)
    with Store.open(path) as store:
        ingest(store, *(e.raw for e in envs))
    with Store.open(path) as store:
        assert store.count() == 50
        assert store.get(envs[7].id) == envs[7]
        (result,) = ingest(store, envs[0].raw)
        assert result.status == "duplicate"


def test_the_file_is_private_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with Store.open(path) as store:
        ingest(store, make().raw)
        # Per-connection settings: only visible on the store's own connection.
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert other.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert other.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_opening_an_existing_store_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    """The CLI opens the store while the daemon may be in the middle of an ingest."""
    path = tmp_path / "store.sqlite3"
    env = make()
    with Store.open(path) as store:
        ingest(store, env.raw)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM refs")
        started = time.monotonic()
        with Store.open(path) as store:
            assert store.get(env.id) == env
        assert time.monotonic() - started < 1.0
        writer.execute("ROLLBACK")


def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"these are my holiday photos, not a database\n" * 100)
    with pytest.raises(NotAStore, match="not an entraide message store") as info:
        Store.open(path)
    assert isinstance(info.value, StoreError) and isinstance(info.value, LocalError)
    assert str(path) in str(info.value) and "move it away" in str(info.value)
    assert info.value.code == "not-a-store"


def test_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    with pytest.raises(NotAStore, match="not an entraide message store"):
        Store.open(path)


def test_refuses_a_store_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerStore, match="newer entraide") as info:
        Store.open(path)
    assert "Upgrade entraide" in str(info.value)
    assert info.value.code == "store-too-new"


def test_a_damaged_row_is_reported_as_a_damaged_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    env = make()
    with Store.open(path) as store:
        ingest(store, env.raw)
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE messages SET raw = ?", (env.raw[:40],))
        with pytest.raises(StoreCorrupt, match="damaged") as info:
            store.get(env.id)
        assert info.value.code == "store-corrupt"


def test_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "nowhere" / "store.sqlite3")


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store.sqlite3")
    store.close()
    store.close()
    with pytest.raises(UsageError, match="closed"):
        store.count()
    with pytest.raises(UsageError, match="closed"):
        ingest(store, make().raw)


def test_refuses_a_negative_worker_count(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Store.open(tmp_path / "store.sqlite3", verify_workers=-1)


def test_a_bug_mid_batch_never_lets_forged_messages_in_later(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch abandoned by an exception before its signatures were read must not leave
    their answers to be taken for the next batch's (reviewer's reproduction)."""
    calls = 0
    original = node.store.check_acceptable

    def fails_once(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        original(*args, **kwargs)

    monkeypatch.setattr(node.store, "check_acceptable", fails_once)
    with pytest.raises(RuntimeError):
        ingest(store, *(e.raw for e in many(64)))
    forged = [e.raw[:-1] + bytes([e.raw[-1] ^ 1]) for e in many(64, key=BOB)]
    results = ingest(store, *forged)
    assert {r.status for r in results} == {"rejected"}
    assert all(isinstance(r.error, BadSignature) for r in results)
    assert store.count() == 0
