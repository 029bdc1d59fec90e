"""Catch-up with peers over the ``/entraide/sync/1.0.0`` stream (SPEC.md section 10).

The reconciliation itself is the pure :class:`protocol.reconcile.SyncSession`; this module
drives it over a libp2p stream: it reads the live ids from the store, feeds the session what
the peer sends, writes what the session says, looks up the envelopes the peer lacks and
ingests (verifies and stores) the ones it sends, exactly as if they had come by gossip.

When a session runs:

- on every new connection, from the side whose peer id sorts first (one session per pair,
  not two);
- every ``sync_interval`` seconds with one connected peer (round robin), so partitions heal
  even when no connection changes;
- with every other neighbour, once a session brought messages this node lacked: what it
  lacked, they may lack too, and gossip does not replay old messages;
- on demand (``entraide`` control op ``sync``).

At most one session per peer at a time; a session that stalls is abandoned after
:data:`SESSION_TIMEOUT_S`. Progress is reported as ``sync`` events and in the log.

**Limits on the sessions others open** (each costs this node a read of every live id and a
sketch of them): a responder serves at most :data:`MAX_RESPONDER_SESSIONS` sessions at
once, :data:`MAX_SESSIONS_PER_PEER` per peer, and per peer a token bucket of
:data:`RESPONDER_LIMIT` (10 at once, then one every 5 s). Beyond that it refuses at once,
before reading anything, with an ABORT ``busy: …`` (protocol/reconcile.py
``refusal_frame``); the refusal is logged and counted (``status()["refused"]``), and the
initiator reports it as refused (``SyncRefused``), not as a failure. An honest node never
gets there: it opens a session with a peer on connecting, one every ``sync_interval`` (60 s)
round robin, and after news (a cascade), and it holds itself to a stricter bucket per peer
(:data:`INITIATOR_LIMIT`: 8 at once, then one every 6 s), so that the jitter between the
two clocks never makes the peer's bucket run dry first; a session its own bucket does not
allow yet is put off until it does, not dropped.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

import trio

from protocol.errors import PeerError
from protocol.ratelimit import Limit, RateLimiter
from protocol.reconcile import (
    SYNC_PROTOCOL,
    Finished,
    NeedData,
    ReceivedEnvelopes,
    Reconciled,
    SendEnvelopes,
    SyncRefused,
    SyncSession,
    refusal_frame,
)

from .trust import role_kinds_first

if TYPE_CHECKING:
    from .daemon import Node
    from .wifi import SyncStream, WifiTransport

log = logging.getLogger("entraide.sync")

#: A whole session (reconcile and swap envelopes) must end within this time.
SESSION_TIMEOUT_S = 120.0
#: Bytes asked from the stream per read.
READ_SIZE = 65536
#: Envelopes ingested per store transaction while receiving.
INGEST_BATCH = 500
#: Sessions opened by others served at once, all peers together (each holds this node's
#: live ids and their short ids: ~10 MB at 100,000 messages).
MAX_RESPONDER_SESSIONS = 8
#: Sessions of one peer served at once: an honest peer runs one, but its next one may arrive
#: while we are still closing the last.
MAX_SESSIONS_PER_PEER = 2
#: Sessions one peer may open with us: 10 at once, then one every 5 s (720 an hour).
RESPONDER_LIMIT = Limit(burst=10, per_hour=720)
#: What we allow ourselves per peer: stricter than :data:`RESPONDER_LIMIT` (8 at once, then
#: one every 6 s), so that we are never refused for going too fast.
INITIATOR_LIMIT = Limit(burst=8, per_hour=600)
#: Peers whose buckets are remembered (least recently used forgotten: a full bucket).
MAX_PEER_BUCKETS = 1024
#: Refusals logged one by one, then one in this many.
REFUSALS_LOGGED = 20
REFUSALS_LOG_EVERY = 100
#: Time to write a refusal before closing the stream anyway.
REFUSAL_TIMEOUT_S = 2.0


def _short(peer: str) -> str:
    return peer if len(peer) <= 16 else f"{peer[:6]}…{peer[-6:]}"


class Syncer:
    """Runs catch-up sessions for one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.wifi: WifiTransport | None = None
        self._wanted_send, self._wanted = trio.open_memory_channel[str](256)
        self._running: set[str] = set()
        self._round_robin: deque[str] = deque()
        self.last_done: float | None = None
        self.per_peer: dict[str, dict[str, Any]] = {}
        self.sessions = {"done": 0, "failed": 0, "refused_by_peer": 0}
        #: Sessions others opened that we refused, by reason.
        self.refused = {"busy": 0, "peer_busy": 0, "rate": 0}
        self._responding: Counter[str] = Counter()
        self._in_limiter = RateLimiter(RESPONDER_LIMIT, max_authors=MAX_PEER_BUCKETS)
        self._out_limiter = RateLimiter(INITIATOR_LIMIT, max_authors=MAX_PEER_BUCKETS)
        self._put_off: set[str] = set()
        self._again: set[str] = set()

    def install(self, wifi: WifiTransport) -> None:
        self.wifi = wifi
        wifi.register_protocol(SYNC_PROTOCOL, self._respond)

    # --- triggers ---------------------------------------------------------------------------

    def peer_connected(self, peer: str) -> None:
        """A new connection: catch up, from one side only (the smaller peer id)."""
        assert self.wifi is not None
        if self.wifi.peer_id < peer:
            self._want(peer)

    def sync_all_now(self) -> int:
        assert self.wifi is not None
        peers = list(self.wifi.peers())
        for peer in peers:
            self._want(peer)
        return len(peers)

    def _cascade(self, *, exclude: str) -> None:
        assert self.wifi is not None
        for other in self.wifi.peers():
            if other != exclude:
                self._want(other)

    def _want(self, peer: str) -> None:
        try:
            self._wanted_send.send_nowait(peer)
        except trio.WouldBlock:
            log.debug("catch-up queue full; %s will be caught up periodically", _short(peer))

    async def serve(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._periodic)
            async for peer in self._wanted:
                if peer in self._running:
                    self._again.add(peer)  # once it ends: what it was wanted for may be new
                    continue
                if peer in self._put_off:
                    continue
                key = peer.encode()
                now = time.monotonic()
                if self._out_limiter.allow(key, now):
                    nursery.start_soon(self._initiate, peer)
                    continue
                # Too soon for this peer's limit: put it off until our bucket has a token.
                wait = (1.0 - self._out_limiter.tokens(key, now)) * 3600 / INITIATOR_LIMIT.per_hour
                self._put_off.add(peer)
                nursery.start_soon(self._later, peer, wait)

    async def _later(self, peer: str, delay: float) -> None:
        await trio.sleep(max(0.0, delay) + 0.05)
        self._put_off.discard(peer)
        assert self.wifi is not None
        if peer in self.wifi.peers():
            self._want(peer)

    async def _periodic(self) -> None:
        assert self.wifi is not None
        while True:
            await trio.sleep(self.node.options.sync_interval)
            peers = set(self.wifi.peers())
            self._round_robin = deque(p for p in self._round_robin if p in peers)
            self._round_robin.extend(sorted(peers - set(self._round_robin)))
            if self._round_robin:
                peer = self._round_robin[0]
                self._round_robin.rotate(-1)
                self._want(peer)

    # --- sessions ---------------------------------------------------------------------------

    async def _initiate(self, peer: str) -> None:
        assert self.wifi is not None
        self._running.add(peer)
        try:
            try:
                stream = await self.wifi.open_stream(peer, SYNC_PROTOCOL)
            except Exception as exc:  # libp2p raises many kinds; the peer may just have left
                log.info("catch-up with %s: cannot open a stream: %s", _short(peer), exc)
                return
            await self._run(stream, peer, initiator=True)
        finally:
            self._running.discard(peer)
            if peer in self._again:
                self._again.discard(peer)
                self._want(peer)

    async def _respond(self, stream: SyncStream, peer: str) -> None:
        if self._responding.total() >= MAX_RESPONDER_SESSIONS:
            await self._refuse(stream, peer, "busy", "too many catch-up sessions at once")
            return
        if self._responding[peer] >= MAX_SESSIONS_PER_PEER:
            await self._refuse(stream, peer, "peer_busy", "your other sessions are running")
            return
        if not self._in_limiter.allow(peer.encode(), time.monotonic()):
            await self._refuse(
                stream,
                peer,
                "rate",
                f"too many sessions from you (at most {RESPONDER_LIMIT.burst} at once, then "
                f"one every {3600 / RESPONDER_LIMIT.per_hour:g} s)",
            )
            return
        self._responding[peer] += 1
        try:
            await self._run(stream, peer, initiator=False)
        finally:
            self._responding[peer] -= 1
            if not self._responding[peer]:
                del self._responding[peer]

    async def _refuse(self, stream: SyncStream, peer: str, reason: str, text: str) -> None:
        """Refuse a session before any work: an ABORT "busy: …", then close."""
        self.refused[reason] += 1
        count = sum(self.refused.values())
        if count <= REFUSALS_LOGGED or count % REFUSALS_LOG_EVERY == 0:
            log.info(
                "refused a catch-up session from %s: %s (%d refused so far)",
                _short(peer),
                text,
                count,
            )
        with trio.move_on_after(REFUSAL_TIMEOUT_S), contextlib.suppress(PeerError, OSError):
            await stream.send_all(refusal_frame(text))
            await stream.send_eof()
        await stream.aclose()

    async def _run(self, stream: SyncStream, peer: str, *, initiator: bool) -> None:
        node = self.node
        started = time.monotonic()
        role = "initiator" if initiator else "responder"
        node.events.publish({"event": "sync", "peer": peer, "phase": "start", "role": role})
        received = new = sent = 0
        session: SyncSession | None = None
        try:
            with trio.fail_after(SESSION_TIMEOUT_S):
                ids = await node.live_ids()
                session = SyncSession(
                    ids,
                    zone=node.zone_id,
                    initiator=initiator,
                    salt=secrets.token_bytes(16) if initiator else None,
                )
                while True:
                    # next_event does the CPU work (hashing, peeling): off the event loop.
                    event = await trio.to_thread.run_sync(session.next_event)
                    out = session.data_to_send()
                    if out:
                        await stream.send_all(out)
                    if isinstance(event, NeedData):
                        session.receive_data(await stream.receive_some(READ_SIZE))
                    elif isinstance(event, SendEnvelopes):
                        # Vouches and revocations first: they authorise the rest (SPEC 11a.3).
                        raws = role_kinds_first(await node.raws_of(event.ids))
                        session.send_envelopes(raws)
                        sent += len(raws)
                    elif isinstance(event, ReceivedEnvelopes):
                        received += len(event.raws)
                        for start in range(0, len(event.raws), INGEST_BATCH):
                            batch = event.raws[start : start + INGEST_BATCH]
                            results = await node.ingest(batch, source="sync", peer=peer)
                            new += sum(r.status == "new" for r in results)
                    elif isinstance(event, Reconciled):
                        log.debug(
                            "catch-up with %s: we lack %d, they lack %d",
                            _short(peer),
                            event.we_lack,
                            event.they_lack,
                        )
                    elif isinstance(event, Finished):
                        stats = event.stats
                        break
        except SyncRefused as exc:
            # The peer's limits, not a fault: the periodic round (or the next news) retries.
            self.sessions["refused_by_peer"] += 1
            self.per_peer.setdefault(peer, {})["refused_at"] = int(node.clock())
            log.info(
                "catch-up with %s refused by the peer: %s; will try again later",
                _short(peer),
                exc,
            )
            node.events.publish(
                {"event": "sync", "peer": peer, "phase": "refused", "reason": str(exc)}
            )
            return
        except (PeerError, trio.TooSlowError, trio.BrokenResourceError, OSError) as exc:
            if isinstance(exc, PeerError) and session is not None:
                with trio.move_on_after(2):  # tell the peer why (an ABORT frame), best effort
                    with contextlib.suppress(trio.BrokenResourceError, OSError):
                        await stream.send_all(session.data_to_send())
            reason = "timed out" if isinstance(exc, trio.TooSlowError) else str(exc)
            self.sessions["failed"] += 1
            log.info("catch-up with %s failed: %s", _short(peer), reason)
            node.events.publish(
                {"event": "sync", "peer": peer, "phase": "failed", "reason": reason}
            )
            return
        finally:
            await stream.aclose()
        elapsed = time.monotonic() - started
        self.sessions["done"] += 1
        self.last_done = node.clock()
        figures = {
            "received": received,
            "new": new,
            "sent": sent,
            "bytes": stats.reconciliation_bytes,
            "round_trips": stats.round_trips,
            "seconds": round(elapsed, 3),
        }
        self.per_peer[peer] = self.per_peer.get(peer, {}) | figures | {"at": int(self.last_done)}
        node.events.publish(
            {"event": "sync", "peer": peer, "phase": "done", "role": role} | figures
        )
        if new:
            # What we just learnt, our other neighbours may lack too: catch up with them
            # (anti-entropy spreads it hop by hop; gossip does not replay old messages).
            self._cascade(exclude=peer)
        if new or sent:
            log.info(
                "caught up with %s: %d new message(s) received, %d sent, %d bytes of "
                "reconciliation, %.2f s",
                _short(peer),
                new,
                sent,
                stats.reconciliation_bytes,
                elapsed,
            )

    def status(self) -> dict[str, Any]:
        return {
            "last_done": None if self.last_done is None else int(self.last_done),
            "sessions": dict(self.sessions),
            "running": sorted(self._running),
            "responding": sorted(self._responding),
            "refused": dict(self.refused),
            "limits": {
                "max_responder_sessions": MAX_RESPONDER_SESSIONS,
                "per_peer_burst": RESPONDER_LIMIT.burst,
                "per_peer_every_s": 3600 / RESPONDER_LIMIT.per_hour,
            },
            "peers": dict(self.per_peer),
        }
