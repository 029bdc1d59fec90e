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
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import trio

from protocol.errors import PeerError
from protocol.reconcile import (
    SYNC_PROTOCOL,
    Finished,
    NeedData,
    ReceivedEnvelopes,
    Reconciled,
    SendEnvelopes,
    SyncSession,
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
        self.sessions = {"done": 0, "failed": 0}

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
                if peer not in self._running:
                    nursery.start_soon(self._initiate, peer)

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

    async def _respond(self, stream: SyncStream, peer: str) -> None:
        await self._run(stream, peer, initiator=False)

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
        self.per_peer[peer] = figures | {"at": int(self.last_done)}
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
            "peers": dict(self.per_peer),
        }
