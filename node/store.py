"""The node's durable message store: every accepted envelope, exactly as signed, in SQLite.

Everything a node keeps goes through :meth:`Store.ingest`, whether it came from a peer, a
radio, a bundle carried by hand or this household's own keyboard. Ingest decodes, checks,
deduplicates, verifies and persists a batch in one transaction, and returns only after the
COMMIT: once ``ingest`` has returned, its "new" messages survive a crash or a power cut
(``synchronous=FULL`` in WAL mode fsyncs the log on every commit).

Per batch, cheapest work first::

    exact copies within the batch     -> share the first copy's result
    id = SHA-256(signed bytes)        -> already stored? "duplicate", nothing decoded
    signatures (~45 µs each)          -> from 32 in a batch: sent at once to helper
                                         processes (node/verifier.py), which check them
                                         while this thread does the two steps below
    decode(verify=False)              -> structure, canonical form, kind rules
    check_acceptable(now, policy)     -> wrong zone, expired, future-dated, unauthorised
    first validly signed copy of an id -> "new", inserted part by part as the helpers
                                         answer; later valid copies "duplicate"
      ... within its author's quota    -> else "rejected" (OverQuota, protocol/quota.py):
                                         the author's live messages and bytes, counted in
                                         the same transaction (``quota_for``)

Small batches check signatures here, after decoding, so that junk costs no signature check.

A duplicate costs a hash and an index lookup (~3 µs), not a decode and a verify: gossip
delivers most messages several times. The price: a copy of a stored message with damaged
signature bytes is reported as a duplicate, not as forged; either way nothing is stored.

Every input gets its own :class:`IngestResult`; a :class:`~protocol.errors.PeerError` only
rejects the message that raised it. Any other exception is a bug: the transaction is rolled
back and the exception propagates.

The module is synchronous. A :class:`Store` may be used from any thread, one at a time (the
daemon calls it through ``trio.to_thread.run_sync``); an internal lock serialises calls that
overlap anyway.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`, ``PRAGMA application_id`` =
:data:`APPLICATION_ID`)::

    messages(id PK, kind, author, created, expires, zone, raw, received)
    refs(ref, id -> messages ON DELETE CASCADE, PK (ref, id))  WITHOUT ROWID
    index messages_by_author (author, expires)   (added to older files when opened)

``messages`` keeps its rowid: its rows (~100-2000 bytes) are large next to a page, and with
random 32-byte ids a WITHOUT ROWID table splits and rewrites far more pages per commit
(measured: 31 µs per message at 500 per commit, against 15 µs with a rowid table). ``refs``
rows are small and only ever looked up by their key, where WITHOUT ROWID pays.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from protocol.envelope import (
    MAX_ENVELOPE_BYTES,
    Envelope,
    Policy,
    check_acceptable,
    decode,
    signature_valid,
    verify_signature,
)
from protocol.errors import LocalError, PeerError, UsageError
from protocol.kinds import Kind
from protocol.quota import PRIORITY_KINDS, QuotaLimit, Usage, check_quota, is_priority

from .verifier import SignatureVerifier

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "IngestResult",
    "IngestStatus",
    "NewerStore",
    "NotAStore",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreStatistics",
]

#: Bumped whenever the schema changes; a file with a larger number is refused.
SCHEMA_VERSION = 1
#: ``PRAGMA application_id``: "entr" in ASCII, marks the file as an entraide store.
APPLICATION_ID = 0x656E7472
#: How long a write waits for another connection's transaction before giving up (ms).
BUSY_TIMEOUT_MS = 5000

_SIGNATURE_BYTES = 64
_MIN_ENVELOPE_BYTES = 2 + _SIGNATURE_BYTES
#: Helper processes checking signatures during large ingests (where there are several CPUs).
DEFAULT_VERIFY_WORKERS = 2
#: Parts a batch's signatures come back in from the helper process (each part is stored
#: while the helper checks the next), and the fewest envelopes in one part.
_PARTS = 8
_MIN_PART = 16
#: Below this many signatures to check, verifying inline beats a round trip to the helper.
_MIN_PARALLEL = 2 * _MIN_PART
#: The kinds of the priority pool of the storage quotas, for SQL.
_PRIORITY_KINDS = ",".join(str(int(kind)) for kind in sorted(PRIORITY_KINDS))
#: Ids per ``IN (...)`` query (SQLite allows 32766 host parameters; stay far below).
_QUERY_CHUNK = 500

_SCHEMA = """
CREATE TABLE messages (
    id       BLOB    PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    kind     INTEGER NOT NULL,
    author   BLOB    NOT NULL,
    created  INTEGER NOT NULL,
    expires  INTEGER NOT NULL,
    zone     BLOB    NOT NULL,
    raw      BLOB    NOT NULL,
    received INTEGER NOT NULL
);
CREATE INDEX messages_by_kind ON messages (kind, expires);
CREATE INDEX messages_by_expiry ON messages (expires);
CREATE INDEX messages_by_author ON messages (author, expires);
CREATE TABLE refs (
    id  BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    ref BLOB NOT NULL,
    PRIMARY KEY (ref, id)
) WITHOUT ROWID;
CREATE INDEX refs_by_id ON refs (id);
"""


class StoreError(LocalError):
    """The message store cannot be opened or used; the message says what to do."""

    code = "store"


class NotAStore(StoreError):
    """The file is not an entraide store (not SQLite at all, or another program's database)."""

    code = "not-a-store"


class NewerStore(StoreError):
    """The store was written by a newer entraide with a schema this version does not know."""

    code = "store-too-new"


class StoreCorrupt(StoreError):
    """The store file is damaged, or holds a message this node can no longer read."""

    code = "store-corrupt"


IngestStatus = Literal["new", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one input of :meth:`Store.ingest`.

    - ``"new"``: stored now (durably, once ``ingest`` has returned); ``envelope`` is set.
    - ``"duplicate"``: already stored, or accepted earlier in the same batch; ``id`` is set,
      ``envelope`` is ``None`` (a stored id is not decoded or verified again).
    - ``"rejected"``: ``error`` says why; ``id`` and ``envelope`` are set when the bytes
      decoded (e.g. an expired message or a bad signature), ``None`` when they did not.
    """

    status: IngestStatus
    id: bytes | None = None
    error: PeerError | None = None
    envelope: Envelope | None = None


@dataclass(frozen=True, slots=True)
class StoreStatistics:
    """What :meth:`Store.statistics` reports."""

    messages: int
    by_kind: dict[Kind, int]
    refs: int
    file_bytes: int  # the database plus its write-ahead log
    journal_mode: str
    schema_version: int


class Store:
    """The SQLite message store of one node. Open with :meth:`Store.open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, verify_workers: int) -> None:
        """Use :meth:`Store.open`."""
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._verifier = SignatureVerifier(verify_workers) if verify_workers else None
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, verify_workers: int | None = None) -> Store:
        """Open the store at ``path``, creating it (mode 0600) with its schema if missing.

        ``verify_workers`` helper processes (started on the first large ingest) check
        signatures while this thread decodes and stores; with 0, signatures are checked on
        the calling thread. By default: 2 where the machine has several CPUs, else 0.
        Raises :class:`NotAStore`, :class:`NewerStore`, :class:`StoreCorrupt` or
        :class:`StoreError`.
        """
        if verify_workers is None:
            verify_workers = DEFAULT_VERIFY_WORKERS if (os.cpu_count() or 1) > 1 else 0
        if not 0 <= verify_workers <= 8:
            raise UsageError(f"verify_workers must be 0 to 8, not {verify_workers}")
        path = Path(path)
        if not path.parent.is_dir():
            raise StoreError(
                f"cannot open the message store {path}: directory {path.parent} does not exist"
            )
        _create_private(path)
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, cached_statements=64
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the message store {path}: {exc}") from None
        try:
            _configure(conn, path)
            _ensure_schema(conn, path)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, verify_workers=verify_workers)

    def close(self) -> None:
        """Close the database and stop the verifier process. Closing twice is harmless."""
        with self._lock:
            conn, self._conn = self._conn, None
            verifier, self._verifier = self._verifier, None
        if verifier is not None:
            verifier.close()
        if conn is not None:
            with suppress(sqlite3.Error):  # only a planner hint; never worth failing a close
                conn.execute("PRAGMA optimize")
            conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._path

    # --- ingest -------------------------------------------------------------------------------

    def ingest(
        self,
        raws: Sequence[bytes],
        *,
        now: int,
        policy: Policy,
        received: int | None = None,
        quota_for: Callable[[bytes], QuotaLimit] | None = None,
    ) -> list[IngestResult]:
        """Decode, check, deduplicate, verify and durably store a batch of envelopes.

        Returns one result per input, in input order, after the transaction has committed.
        ``now`` is the receiver's clock (expiry, clock skew); ``received`` (default ``now``)
        is recorded with each new message. With ``quota_for`` (an author's class, e.g.
        ``Roles.rate_limit``), a message that would take its author past its storage quota
        at ``now`` is rejected with :class:`~protocol.quota.OverQuota` (SPEC.md 11a.6).
        """
        received = now if received is None else received
        with self._lock, self._translate("store received messages"):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                results = self._ingest(
                    conn, raws, now=now, policy=policy, received=received, quota_for=quota_for
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return results

    def _ingest(
        self,
        conn: sqlite3.Connection,
        raws: Sequence[bytes],
        *,
        now: int,
        policy: Policy,
        received: int,
        quota_for: Callable[[bytes], QuotaLimit] | None,
    ) -> list[IngestResult]:
        results: list[IngestResult | None] = [None] * len(raws)
        # Authors' live messages per pool (priority or not), with this batch's so far.
        usage: dict[tuple[bytes, bool], Usage] = {}
        # 1. Exact copies within the batch share the first copy's result.
        first_of: dict[bytes, int] = {}
        copies: list[tuple[int, int]] = []  # (index, index of the first copy)
        unique: list[tuple[int, bytes, bytes | None]] = []  # (index, raw, id if sized right)
        for index, raw in enumerate(raws):
            if type(raw) is not bytes:
                raw = bytes(raw)
            first = first_of.setdefault(raw, index)
            if first != index:
                copies.append((index, first))
                continue
            sized = _MIN_ENVELOPE_BYTES <= len(raw) <= MAX_ENVELOPE_BYTES
            unique.append(
                (index, raw, hashlib.sha256(raw[:-_SIGNATURE_BYTES]).digest() if sized else None)
            )
        # 2. Ids already stored: duplicates, whatever their signature bytes say.
        stored = self._existing(conn, [mid for _, _, mid in unique if mid is not None])
        todo = [(index, raw, mid) for index, raw, mid in unique if mid is None or mid not in stored]
        for index, _, mid in unique:
            if mid is not None and mid in stored:
                results[index] = IngestResult("duplicate", id=mid)
        # 3. Large batches: a helper process checks the signatures, straight from the raw
        #    bytes, while this thread decodes the batch and then stores each part of it as
        #    soon as its signatures are known.
        verifier = self._verifier if len(todo) >= _MIN_PARALLEL else None
        part = max(_MIN_PART, -(-len(todo) // _PARTS)) if verifier else max(len(todo), 1)
        answers = verifier.check([raw for _, raw, _ in todo], part) if verifier else None
        try:
            # 4. Structural decode and the receiver's rules.
            decoded: dict[int, Envelope] = {}
            for index, raw, _ in todo:
                try:
                    env = decode(raw, verify=False)
                    check_acceptable(env, now=now, policy=policy)
                except PeerError as exc:
                    results[index] = IngestResult("rejected", error=exc)
                    continue
                decoded[index] = env
            # 5. The first validly signed copy of each id is new (in input order).
            accepted: set[bytes] = set()
            for start in range(0, len(todo), part):
                some = todo[start : start + part]
                if answers is not None:
                    valid = next(answers)
                else:  # small batch: verify here, only what passed the cheap checks
                    valid = [index in decoded and signature_valid(raw) for index, raw, _ in some]
                rows: list[tuple[object, ...]] = []
                ref_rows: list[tuple[bytes, bytes]] = []
                for (index, _, _), ok in zip(some, valid, strict=True):
                    env_or_none = decoded.get(index)
                    if env_or_none is None:
                        continue
                    env = env_or_none
                    if not ok:
                        try:
                            verify_signature(env)  # raises the BadSignature naming the message
                        except PeerError as exc:
                            results[index] = IngestResult(
                                "rejected", id=env.id, error=exc, envelope=env
                            )
                            continue
                    if env.id in accepted:
                        results[index] = IngestResult("duplicate", id=env.id)
                        continue
                    if quota_for is not None:
                        # Charged only now that the signature has verified (SPEC.md 11a.6).
                        pool = (env.author, is_priority(env))
                        held = usage.get(pool)
                        if held is None:
                            held = self._usage(conn, *pool, now)
                        try:
                            check_quota(env, held, quota_for(env.author))
                        except PeerError as exc:
                            results[index] = IngestResult(
                                "rejected", id=env.id, error=exc, envelope=env
                            )
                            usage[pool] = held
                            continue
                        usage[pool] = held.plus(len(env.raw))
                    accepted.add(env.id)
                    results[index] = IngestResult("new", id=env.id, envelope=env)
                    rows.append(
                        (
                            env.id,
                            int(env.kind),
                            env.author,
                            env.created,
                            env.expires,
                            env.zone,
                            env.raw,
                            received,
                        )
                    )
                    ref_rows.extend((env.id, ref) for ref in env.refs)
                if rows:
                    conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                if ref_rows:
                    conn.executemany("INSERT INTO refs (id, ref) VALUES (?, ?)", ref_rows)
        finally:
            if answers is not None:
                answers.close()  # unread answers make the verifier restart its helpers
        for index, first in copies:
            original = results[first]
            assert original is not None
            results[index] = (
                IngestResult("duplicate", id=original.id)
                if original.status != "rejected"
                else original
            )
        return [r for r in results if r is not None]

    @staticmethod
    def _usage(conn: sqlite3.Connection, author: bytes, priority: bool, now: int) -> Usage:
        count, size = conn.execute(
            "SELECT count(*), coalesce(sum(length(raw)), 0) FROM messages "
            f"WHERE author = ? AND expires > ? AND kind {'' if priority else 'NOT '}IN "
            f"({_PRIORITY_KINDS})",
            (author, now),
        ).fetchone()
        return Usage(int(count), int(size))

    def usage(
        self, now: int, authors: Iterable[bytes] | None = None
    ) -> dict[tuple[bytes, bool], Usage]:
        """The live messages (count and raw bytes) held at ``now`` per author and pool
        (``(author, priority)``, protocol/quota.py): of these authors, or of every author.
        A pool holding none is left out."""
        with self._lock, self._translate("count messages per author"):
            conn = self._connection()
            if authors is None:
                rows = conn.execute(
                    f"SELECT author, kind IN ({_PRIORITY_KINDS}), count(*), sum(length(raw)) "
                    "FROM messages WHERE expires > ? GROUP BY 1, 2",
                    (now,),
                ).fetchall()
                return {(a, bool(p)): Usage(int(n), int(b)) for a, p, n, b in rows}
            out: dict[tuple[bytes, bool], Usage] = {}
            for author in dict.fromkeys(authors):
                for priority in (False, True):
                    held = self._usage(conn, author, priority, now)
                    if held.count:
                        out[author, priority] = held
            return out

    def _existing(self, conn: sqlite3.Connection, ids: list[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for i in range(0, len(ids), _QUERY_CHUNK):
            part = ids[i : i + _QUERY_CHUNK]
            marks = ",".join("?" * len(part))
            found.update(
                row[0]
                for row in conn.execute(f"SELECT id FROM messages WHERE id IN ({marks})", part)
            )
        return found

    # --- queries ------------------------------------------------------------------------------

    def get(self, message_id: bytes) -> Envelope | None:
        """The stored message with this id, expired or not, or ``None``."""
        rows = self._query("SELECT raw FROM messages WHERE id = ?", (message_id,))
        return self._decode_stored(rows[0][0]) if rows else None

    def find_prefix(self, hex_prefix: str) -> list[Envelope]:
        """Stored messages whose id starts with these hex digits (at least 4), by id."""
        low, high = _prefix_range(hex_prefix)
        if high is None:
            rows = self._query("SELECT raw FROM messages WHERE id >= ? ORDER BY id", (low,))
        else:
            rows = self._query(
                "SELECT raw FROM messages WHERE id >= ? AND id < ? ORDER BY id", (low, high)
            )
        return [self._decode_stored(raw) for (raw,) in rows]

    def live(
        self, now: int, kinds: Iterable[Kind] | None = None, *, zone: bytes | None = None
    ) -> list[Envelope]:
        """Messages not expired at ``now`` (of these kinds, of this zone), oldest first."""
        sql = "SELECT raw FROM messages WHERE expires > ?"
        params: tuple[int | bytes, ...] = (now,)
        if kinds is not None:
            wanted = sorted({int(Kind(k)) for k in kinds})
            if not wanted:
                return []
            sql += f" AND kind IN ({','.join('?' * len(wanted))})"
            params += tuple(wanted)
        if zone is not None:
            sql += " AND zone = ?"
            params += (zone,)
        rows = self._query(sql + " ORDER BY created, id", params)
        return [self._decode_stored(raw) for (raw,) in rows]

    def referencing(self, message_id: bytes, *, now: int | None = None) -> list[Envelope]:
        """Messages that reference ``message_id`` (live at ``now`` if given), oldest first."""
        sql = "SELECT m.raw FROM refs r JOIN messages m ON m.id = r.id WHERE r.ref = ?"
        params: tuple[bytes | int, ...] = (message_id,)
        if now is not None:
            sql += " AND m.expires > ?"
            params += (now,)
        rows = self._query(sql + " ORDER BY m.created, m.id", params)
        return [self._decode_stored(raw) for (raw,) in rows]

    def count(self) -> int:
        """How many messages are stored, expired ones not yet pruned included."""
        return int(self._query("SELECT count(*) FROM messages")[0][0])

    def ids(self, now: int, *, zone: bytes | None = None) -> list[bytes]:
        """The ids of the messages live at ``now`` (of this zone), sorted bytewise (for sync)."""
        if zone is None:
            rows = self._query("SELECT id FROM messages WHERE expires > ? ORDER BY id", (now,))
        else:
            rows = self._query(
                "SELECT id FROM messages WHERE expires > ? AND zone = ? ORDER BY id", (now, zone)
            )
        return [mid for (mid,) in rows]

    def raws_of(self, ids: Sequence[bytes]) -> list[bytes]:
        """The stored envelopes with these ids, in the order asked; unknown ids are skipped."""
        out: list[bytes] = []
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = list(ids[start : start + 500])
            rows = self._query(
                f"SELECT id, raw FROM messages WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found = dict(rows)
            out.extend(found[i] for i in chunk if i in found)
        return out

    def all_raw(
        self, now: int, since: int | None = None, *, zone: bytes | None = None
    ) -> list[bytes]:
        """The envelopes live at ``now`` (created at or after ``since``, of this zone), oldest
        first."""
        sql = "SELECT raw FROM messages WHERE expires > ?"
        params: tuple[int | bytes, ...] = (now,)
        if since is not None:
            sql += " AND created >= ?"
            params += (since,)
        if zone is not None:
            sql += " AND zone = ?"
            params += (zone,)
        return [raw for (raw,) in self._query(sql + " ORDER BY created, id", params)]

    def prune(self, now: int) -> int:
        """Delete the messages expired at ``now`` and their references; return how many."""
        with self._lock, self._translate("prune expired messages"):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                # refs rows go with their message (ON DELETE CASCADE, foreign_keys=ON).
                deleted = conn.execute("DELETE FROM messages WHERE expires <= ?", (now,)).rowcount
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return int(deleted)

    def statistics(self) -> StoreStatistics:
        """Counts per kind and the size of the files on disk."""
        with self._lock, self._translate("read statistics"):
            conn = self._connection()
            conn.execute("BEGIN")  # one consistent snapshot for all the counts
            try:
                by_kind = {
                    Kind(kind): n
                    for kind, n in conn.execute(
                        "SELECT kind, count(*) FROM messages GROUP BY kind ORDER BY kind"
                    )
                }
                (refs,) = conn.execute("SELECT count(*) FROM refs").fetchone()
                (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            finally:
                conn.execute("COMMIT")
        size = 0
        for suffix in ("", "-wal"):
            with suppress(FileNotFoundError):
                size += os.stat(f"{self._path}{suffix}").st_size
        return StoreStatistics(
            messages=sum(by_kind.values()),
            by_kind=by_kind,
            refs=int(refs),
            file_bytes=size,
            journal_mode=str(mode),
            schema_version=SCHEMA_VERSION,
        )

    # --- helpers ------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UsageError(f"the message store {self._path} is closed")
        return self._conn

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock, self._translate("read messages"):
            return self._connection().execute(sql, params).fetchall()

    def _decode_stored(self, raw: bytes) -> Envelope:
        """Decode bytes verified at ingest (no signature check)."""
        assert type(raw) is bytes
        try:
            return decode(raw, verify=False)
        except PeerError as exc:
            raise StoreCorrupt(
                f"the message store {self._path} holds a message this node cannot read ({exc}); "
                "the file may be damaged: move it away to start an empty store"
            ) from None

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """Turn SQLite's operational failures (disk full, locked, damaged) into StoreError."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # a constraint we rely on was broken: a bug, not an operational failure
        except sqlite3.DatabaseError as exc:
            raise _store_error(self._path, f"cannot {doing}", exc) from exc


def _store_error(path: Path, doing: str, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "malformed" in text or "corrupt" in text:
        return StoreCorrupt.tr(
            "{doing}: the message store {path} is damaged ({reason}); move it away (with its "
            "-wal and -shm files) to start an empty store",
            doing=doing,
            path=str(path),
            reason=text,
        )
    if "full" in text:
        return StoreError.tr(
            "{doing}: the disk is full ({path}); free some disk space",
            doing=doing,
            path=str(path),
        )
    if "locked" in text or "busy" in text:
        return StoreError.tr(
            "{doing}: the message store {path} is locked by another program ({reason}); "
            "is another entraide node running on the same home directory?",
            doing=doing,
            path=str(path),
            reason=text,
        )
    if "readonly" in text or "read-only" in text:
        return StoreError.tr(
            "{doing}: the message store {path} is read-only ({reason})",
            doing=doing,
            path=str(path),
            reason=text,
        )
    return StoreError.tr(
        "{doing}: the message store {path} failed: {reason}",
        doing=doing,
        path=str(path),
        reason=text,
    )


def _create_private(path: Path) -> None:
    """Create an empty file with mode 0600 so SQLite (and its -wal, -shm) inherit the mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create the message store {path}: {exc.strerror}") from None
    os.close(fd)


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The first statement that reads the file: a non-database fails here.
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise NotAStore.tr(
                "{path} is not an entraide message store (not an SQLite database); "
                "move it away, or point entraide at another home directory",
                path=str(path),
            ) from None
        raise _store_error(path, "cannot open the message store", exc) from None
    if app_id not in (0, APPLICATION_ID):
        raise NotAStore(
            f"{path} is another program's SQLite database (application id {app_id:#x}), "
            "not an entraide message store; move it away"
        )


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Check the file is a store this code understands; give a new (empty) file the schema."""
    try:
        if _check_version(conn, path) == SCHEMA_VERSION:
            _add_indexes(conn)
            return  # the usual case: no write lock taken, so opening never waits for a writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _check_version(conn, path) == 0:  # again: another process may have won the race
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as exc:
        raise _store_error(path, "cannot open the message store", exc) from None


#: Indexes added after schema version 1 shipped: created when a file lacks them (an index
#: changes nothing older code reads or writes, so the version stays).
_LATER_INDEXES = {
    "messages_by_author": "CREATE INDEX IF NOT EXISTS messages_by_author "
    "ON messages (author, expires)",
}


def _add_indexes(conn: sqlite3.Connection) -> None:
    names = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")
    }
    for name, statement in _LATER_INDEXES.items():
        if name not in names:  # only then is a write lock taken
            with suppress(sqlite3.OperationalError):  # read-only, busy: only slower queries
                conn.execute(statement)


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the file: 0 for an empty file, else one this code knows."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    (app_id,) = conn.execute("PRAGMA application_id").fetchone()
    if version == 0:
        (tables,) = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        if tables or app_id != 0:
            raise NotAStore(
                f"{path} is an SQLite database but not an entraide message store; move it away"
            )
    elif app_id != APPLICATION_ID:
        raise NotAStore(f"{path} is not an entraide message store; move it away")
    elif version > SCHEMA_VERSION:
        raise NewerStore.tr(
            "the message store {path} has schema version {version}, but this entraide "
            "understands only up to {known}: it was written by a newer entraide. "
            "Upgrade entraide (or move the file away to start an empty store)",
            path=str(path),
            version=version,
            known=SCHEMA_VERSION,
        )
    return int(version)


def _prefix_range(hex_prefix: str) -> tuple[bytes, bytes | None]:
    """The id range ``[low, high)`` of a hex prefix; ``high`` is None past the last id."""
    prefix = hex_prefix.strip().lower()
    if not 4 <= len(prefix) <= 64 or any(c not in "0123456789abcdef" for c in prefix):
        raise UsageError(f"{hex_prefix!r} is not a message id prefix (4 to 64 hex digits)")
    pad = "0" * (len(prefix) % 2)
    low = bytes.fromhex(prefix + pad)
    following = int(prefix, 16) + 1
    if following == 16 ** len(prefix):
        return low, None
    return low, bytes.fromhex(f"{following:0{len(prefix)}x}{pad}")
