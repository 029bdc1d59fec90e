"""Catch-up sessions between simulated nodes: the real :class:`protocol.reconcile.SyncSession`
driven over simulated TCP streams, with node/sync.py's policy.

When sessions run (as node/sync.py does):

- when a connection comes up, from the side whose peer id sorts first;
- every ``interval_s`` with one connected peer, round robin;
- with every other connected peer, once a session brought messages the node lacked
  (the cascade that spreads what was learnt, hop by hop);
- at most one session a node initiates per peer at a time (a wish to sync with a peer
  already in session is dropped, as the real node does); a session still running after
  ``timeout_s``, or whose connection goes down, fails.

Each side's frames go over :meth:`IpNetwork.stream`; what a side receives is checked with the
real receiver rules (``MessageBook.accept``) and stored. CPU is charged in simulated time per
node, one thing at a time: ``hash_s_per_id`` for each id a side hashes when a session starts
(bench_reconcile.py: ≈ 0.35 s for 100,000 ids) and ``VERIFY_S`` per envelope checked and
stored.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from protocol.errors import PeerError, SyncError
from protocol.reconcile import (
    Finished,
    NeedData,
    ReceivedEnvelopes,
    SendEnvelopes,
    SyncSession,
)

from .ipnet import IpNetwork
from .loop import EventLoop
from .messages import VERIFY_S, MessageBook

__all__ = ["Holdings", "SyncConfig", "SyncLayer"]


@dataclass(frozen=True)
class SyncConfig:
    interval_s: float = 60.0
    timeout_s: float = 120.0
    hash_s_per_id: float = 3.5e-6
    ingest_s: float = VERIFY_S
    cascade: bool = True


class Holdings:
    """What every node stores: message indices, and when each node first held each message."""

    def __init__(self, book: MessageBook, nodes: int) -> None:
        self.book = book
        self.held: list[set[int]] = [set() for _ in range(nodes)]
        self.first: dict[int, dict[int, float]] = {}  # message -> node -> time stored
        self.by_source: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.listeners: list[Callable[[int, int, str], None]] = []

    def store(self, node: int, message: int, now: float, source: str) -> bool:
        """Keep ``message`` at ``node``; False if it already had it."""
        held = self.held[node]
        if message in held:
            self.duplicates[source] += 1
            return False
        held.add(message)
        self.first.setdefault(message, {})[node] = now
        self.by_source[source] += 1
        for listener in self.listeners:
            listener(node, message, source)
        return True

    def live_ids(self, node: int, unix_now: int) -> list[bytes]:
        """The ids a node's store lists as live (Store.ids)."""
        expires = self.book.expires
        ids = self.book.ids
        return [ids[m] for m in self.held[node] if expires[m] > unix_now]


class _Side:
    __slots__ = ("held", "new", "node", "peer", "received", "sent", "session")

    def __init__(self, node: int, peer: int, session: SyncSession | None, held: int) -> None:
        self.node = node
        self.peer = peer
        self.session = session
        self.held = held  # ids in its set when the session started
        self.new = 0
        self.received = 0
        self.sent = 0


class _Pair:
    __slots__ = ("done", "failed", "initiator", "responder", "started")

    def __init__(self, initiator: _Side, responder: _Side, started: float) -> None:
        self.initiator = initiator
        self.responder = responder
        self.started = started
        self.done = 0
        self.failed = False


class SyncLayer:
    """node/sync.py's catch-up, for every node of an :class:`IpNetwork`."""

    def __init__(
        self,
        loop: EventLoop,
        net: IpNetwork,
        rng: random.Random,
        holdings: Holdings,
        config: SyncConfig,
    ) -> None:
        self.loop = loop
        self.net = net
        self.rng = rng
        self.holdings = holdings
        self.book = holdings.book
        self.config = config
        n = net.size
        self.rank = rng.sample(range(n), n)  # stands for the order of peer ids
        self.running: list[set[int]] = [set() for _ in range(n)]
        self.round_robin: list[deque[int]] = [deque() for _ in range(n)]
        self.cpu_free = [0.0] * n
        self.pairs: dict[tuple[int, int], list[_Pair]] = {}
        self.counts: Counter[str] = Counter()
        self.modes: Counter[str] = Counter()
        self.active = True
        net.listeners.append(self)

    # --- triggers -----------------------------------------------------------------------------

    def start_periodic(self, *, just_started: bool = False) -> None:
        """Each node's periodic catch-up: a first one ``interval_s`` from now for nodes
        that just started (node/sync.py), else at a random phase (nodes up for a while)."""
        for node in range(self.net.size):
            phase = 1.0 if just_started else self.rng.random()
            self.loop.after(phase * self.config.interval_s, self._periodic(node))

    def _periodic(self, node: int) -> Callable[[], None]:
        def tick() -> None:
            if not self.active:
                return
            peers = self.net.connected[node] if self.net.node_up[node] else set()
            ring = self.round_robin[node]
            kept = deque(p for p in ring if p in peers)
            kept.extend(sorted(peers - set(kept), key=self.rank.__getitem__))
            self.round_robin[node] = kept
            if kept:
                peer = kept[0]
                kept.rotate(-1)
                self.want(node, peer)
            self.loop.after(self.config.interval_s, tick)

        return tick

    def link_up(self, a: int, b: int) -> None:
        if not self.active:
            return
        first, second = (a, b) if self.rank[a] < self.rank[b] else (b, a)
        self.want(first, second)

    def link_down(self, a: int, b: int) -> None:
        for pair in self.pairs.pop(IpNetwork.key(a, b), []):
            self._fail(pair, "connection closed")

    def want(self, node: int, peer: int) -> None:
        if peer in self.running[node] or not self.net.is_connected(node, peer):
            return
        self._start(node, peer)

    def _cascade(self, node: int, exclude: int) -> None:
        for other in sorted(self.net.connected[node], key=self.rank.__getitem__):
            if other != exclude:
                self.want(node, other)

    # --- sessions -----------------------------------------------------------------------------

    def _start(self, node: int, peer: int) -> None:
        self.running[node].add(peer)
        self.counts["started"] += 1
        ids = self.holdings.live_ids(node, self.book.unix(self.loop.now))
        session = SyncSession(
            ids, zone=self.book.zone, initiator=True, salt=self.rng.randbytes(16)
        )
        pair = _Pair(
            _Side(node, peer, session, len(ids)), _Side(peer, node, None, 0), self.loop.now
        )
        self.pairs.setdefault(IpNetwork.key(node, peer), []).append(pair)
        self._charge(node, len(ids) * self.config.hash_s_per_id)
        self._pump(pair, pair.initiator)
        self.loop.after(self.config.timeout_s, lambda: self._timeout(pair))

    def _charge(self, node: int, seconds: float) -> float:
        """Spend ``seconds`` of ``node``'s CPU, after what it is already doing; when done."""
        self.cpu_free[node] = max(self.cpu_free[node], self.loop.now) + seconds
        return self.cpu_free[node]

    def _arrive(self, pair: _Pair, side: _Side, data: bytes) -> None:
        if pair.failed or pair.done == 2:
            return
        if side.session is None:  # the responder opens its side when the stream arrives
            ids = self.holdings.live_ids(side.node, self.book.unix(self.loop.now))
            side.session = SyncSession(ids, zone=self.book.zone, initiator=False)
            side.held = len(ids)
            self._charge(side.node, len(ids) * self.config.hash_s_per_id)
        side.session.receive_data(data)
        self._pump(pair, side)

    def _pump(self, pair: _Pair, side: _Side) -> None:
        """Advance one side until it waits for its peer or finishes."""
        session = side.session
        assert session is not None
        other = pair.responder if side is pair.initiator else pair.initiator
        try:
            while True:
                event = session.next_event()
                self._transmit(pair, side, other, session.data_to_send())
                if isinstance(event, NeedData):
                    return
                if isinstance(event, SendEnvelopes):
                    raws = self._raws(side.node, event.ids)
                    session.send_envelopes(raws)
                    side.sent += len(raws)
                elif isinstance(event, ReceivedEnvelopes):
                    self._ingest(side, event.raws)
                elif isinstance(event, Finished):
                    self._finished(pair, side, event)
                    return
        except SyncError as exc:
            self._transmit(pair, side, other, session.data_to_send())
            self._fail(pair, str(exc))

    def _transmit(self, pair: _Pair, side: _Side, other: _Side, data: bytes) -> None:
        if not data:
            return
        node, peer = side.node, other.node

        def send() -> None:
            if not pair.failed:
                self.net.stream(node, peer, len(data), lambda: self._arrive(pair, other, data),
                                kind="sync")  # fmt: skip

        self.loop.at(max(self.cpu_free[node], self.loop.now), send)

    def _raws(self, node: int, ids: tuple[bytes, ...]) -> list[bytes]:
        book, held = self.book, self.holdings.held[node]
        indices = [book.by_id.get(i) for i in ids]
        return [book.messages[m].raw for m in indices if m is not None and m in held]

    def _ingest(self, side: _Side, raws: tuple[bytes, ...]) -> None:
        side.received += len(raws)
        self._charge(side.node, len(raws) * self.config.ingest_s)
        unix = self.book.unix(self.loop.now)
        for raw in raws:
            try:
                env = self.book.accept(raw, unix)
            except PeerError as exc:
                self.holdings.rejected[exc.code] += 1
                continue
            message = self.book.by_id[env.id]
            if self.holdings.store(side.node, message, self.loop.now, "sync"):
                side.new += 1

    def _finished(self, pair: _Pair, side: _Side, event: Finished) -> None:
        stats = event.stats
        self.counts["bytes_control"] += stats.bytes_sent - stats.envelope_bytes_sent
        if stats.mode == "equal":
            self.counts["bytes_control_equal"] += stats.bytes_sent - stats.envelope_bytes_sent
        self.counts["bytes_envelopes"] += stats.envelope_bytes_sent
        self.counts["envelopes_sent"] += stats.envelopes_sent
        self.counts["envelopes_new"] += side.new
        self.counts["envelopes_redundant"] += side.received - side.new
        self.counts["side_done"] += 1
        if side is pair.initiator:
            self.modes[stats.mode or "?"] += 1
            self.running[side.node].discard(side.peer)
            if stats.mode != "equal":
                self.counts["held_in_unequal_sessions"] += side.held + pair.responder.held
        pair.done += 1
        if pair.done == 2:
            self.counts["done"] += 1
            self._forget(pair)
        if side.new and self.config.cascade:
            self._cascade(side.node, exclude=side.peer)

    def _fail(self, pair: _Pair, reason: str) -> None:
        if pair.failed or pair.done == 2:
            return
        pair.failed = True
        self.counts["failed"] += 1
        self.running[pair.initiator.node].discard(pair.initiator.peer)
        self._forget(pair)  # a failed session cascades nothing (node/sync.py returns early)

    def _timeout(self, pair: _Pair) -> None:
        if not pair.failed and pair.done < 2:
            self._fail(pair, "timed out")

    def _forget(self, pair: _Pair) -> None:
        key = IpNetwork.key(pair.initiator.node, pair.responder.node)
        pairs = self.pairs.get(key, [])
        if pair in pairs:
            pairs.remove(pair)
        if not pairs:
            self.pairs.pop(key, None)
