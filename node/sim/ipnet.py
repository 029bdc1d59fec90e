"""IP links between simulated households: latency, loss, bandwidth, partitions and churn.

The model (stated, not measured): households are points in a square town; each node keeps
connections to its ``near`` nearest neighbours (what mDNS finds on a shared Wi-Fi) and to
``far`` households drawn at random (the zone's bootstrap list), like a real node keeps its
bootstrap and mDNS peers connected (node/wifi.py). A link's one-way latency is a base plus a
term growing with distance (a multi-hop community Wi-Fi), with ±10 % jitter per message; each
direction of a link sends one thing at a time at ``bandwidth_bps``.

Two kinds of traffic:

- **messages** (gossip RPCs): each copy is lost with probability ``loss``, as a datagram
  would be or a TCP connection that breaks with its data;
- **streams** (catch-up sessions): TCP delivers in order and never loses bytes; a loss costs
  a retransmission timeout (``RTO_S``) per lost segment instead.

A link can be cut (partition) and a node can leave and come back (churn); in-flight traffic
on a link that went down is lost, and listeners hear ``link_up``/``link_down`` as a real
node's transport reports PeerUp/PeerDown.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .loop import EventLoop

__all__ = ["IpNetwork", "LinkListener", "NetParams", "town"]

#: TCP's minimum retransmission timeout (Linux), charged per lost segment of a stream.
RTO_S = 0.2
SEGMENT_BYTES = 1400


@dataclass(frozen=True)
class NetParams:
    base_latency_s: float = 0.002
    latency_per_km_s: float = 0.020
    jitter: float = 0.1  # ± share of the latency, per message
    loss: float = 0.0
    bandwidth_bps: float = 10e6


class LinkListener(Protocol):
    def link_up(self, a: int, b: int) -> None: ...

    def link_down(self, a: int, b: int) -> None: ...


def town(
    count: int, rng: random.Random, *, near: int = 5, far: int = 3, density_per_km2: float = 250
) -> tuple[list[tuple[float, float]], set[tuple[int, int]]]:
    """Positions (metres) of ``count`` households and the links between them: each links to
    its ``near`` nearest and to ``far`` random others; the graph is made connected."""
    side = 1000 * math.sqrt(count / density_per_km2)
    positions = [(rng.uniform(0, side), rng.uniform(0, side)) for _ in range(count)]
    edges: set[tuple[int, int]] = set()
    cell = max(side / max(int(math.sqrt(count / 4)), 1), 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(positions):
        grid.setdefault((int(x // cell), int(y // cell)), []).append(i)
    for i, (x, y) in enumerate(positions):
        gx, gy = int(x // cell), int(y // cell)
        reach = 1
        while True:
            candidates = [
                j
                for dx in range(-reach, reach + 1)
                for dy in range(-reach, reach + 1)
                for j in grid.get((gx + dx, gy + dy), ())
                if j != i
            ]
            if len(candidates) >= near or reach * cell > 2 * side:
                break
            reach += 1
        candidates.sort(key=lambda j: math.dist(positions[i], positions[j]))
        for j in candidates[:near]:
            edges.add((min(i, j), max(i, j)))
        for _ in range(far):
            j = rng.randrange(count - 1)
            j += j >= i
            edges.add((min(i, j), max(i, j)))
    _connect(count, edges, rng)
    return positions, edges


def _connect(count: int, edges: set[tuple[int, int]], rng: random.Random) -> None:
    """Join the components of the graph with one random link each."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    roots = sorted({root(i) for i in range(count)})
    for r in roots[1:]:
        a = rng.choice([i for i in range(count) if root(i) == r])
        b = rng.choice([i for i in range(count) if root(i) == root(roots[0])])
        edges.add((min(a, b), max(a, b)))
        parent[root(a)] = root(b)


class IpNetwork:
    """Links with latency, loss and bandwidth between nodes 0..n-1, in virtual time."""

    def __init__(
        self,
        loop: EventLoop,
        rng: random.Random,
        positions: Sequence[tuple[float, float]],
        edges: set[tuple[int, int]],
        params: NetParams,
    ) -> None:
        self.loop = loop
        self.rng = rng
        self.params = params
        self.positions = list(positions)
        self.size = len(positions)
        self.edges = sorted(edges)
        self.listeners: list[LinkListener] = []
        self.node_up = [True] * self.size
        self._link_up: dict[tuple[int, int], bool] = dict.fromkeys(self.edges, True)
        self._generation: dict[tuple[int, int], int] = dict.fromkeys(self.edges, 0)
        self._latency: dict[tuple[int, int], float] = {}
        self.adjacent: list[list[int]] = [[] for _ in range(self.size)]
        for a, b in self.edges:
            distance_km = math.dist(positions[a], positions[b]) / 1000
            self._latency[(a, b)] = params.base_latency_s + params.latency_per_km_s * distance_km
            self.adjacent[a].append(b)
            self.adjacent[b].append(a)
        self.connected: list[set[int]] = [set(adj) for adj in self.adjacent]
        self._busy: dict[tuple[int, int], float] = {}
        self._last_arrival: dict[tuple[int, int], float] = {}
        self.bytes: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()

    # --- state ---------------------------------------------------------------------------

    @staticmethod
    def key(a: int, b: int) -> tuple[int, int]:
        return (a, b) if a < b else (b, a)

    def latency(self, a: int, b: int) -> float:
        return self._latency[self.key(a, b)]

    def is_connected(self, a: int, b: int) -> bool:
        return b in self.connected[a]

    def set_link(self, a: int, b: int, up: bool) -> None:
        key = self.key(a, b)
        if self._link_up[key] == up:
            return
        self._link_up[key] = up
        self._refresh(a, b)

    def set_node(self, a: int, up: bool) -> None:
        if self.node_up[a] == up:
            return
        self.node_up[a] = up
        for b in self.adjacent[a]:
            self._refresh(a, b)

    def _refresh(self, a: int, b: int) -> None:
        key = self.key(a, b)
        up = self._link_up[key] and self.node_up[a] and self.node_up[b]
        if up == (b in self.connected[a]):
            return
        self._generation[key] += 1
        if up:
            self.connected[a].add(b)
            self.connected[b].add(a)
            for listener in self.listeners:
                listener.link_up(a, b)
        else:
            self.connected[a].discard(b)
            self.connected[b].discard(a)
            for listener in self.listeners:
                listener.link_down(a, b)

    # --- traffic -------------------------------------------------------------------------

    def _departure(self, a: int, b: int, nbytes: int) -> float:
        """When the last byte leaves ``a`` towards ``b`` (one thing at a time per direction)."""
        start = max(self.loop.now, self._busy.get((a, b), 0.0))
        done = start + nbytes * 8 / self.params.bandwidth_bps
        self._busy[(a, b)] = done
        return done

    def send(
        self, a: int, b: int, nbytes: int, on_arrival: Callable[[], None], *, kind: str
    ) -> bool:
        """A message from ``a`` to ``b``; False if not sent (no connection). It may be lost."""
        if b not in self.connected[a]:
            return False
        self.sent[kind] += 1
        self.bytes[kind] += nbytes
        departure = self._departure(a, b, nbytes)
        if self.params.loss and self.rng.random() < self.params.loss:
            self.lost[kind] += 1
            return True
        jitter = 1 + self.params.jitter * (2 * self.rng.random() - 1)
        arrival = departure + self.latency(a, b) * jitter
        self._deliver(a, b, arrival, on_arrival)
        return True

    def stream(
        self, a: int, b: int, nbytes: int, on_arrival: Callable[[], None], *, kind: str
    ) -> bool:
        """Bytes on a TCP stream from ``a`` to ``b``: in order, never lost, late when the link
        loses segments. False if there is no connection."""
        if b not in self.connected[a]:
            return False
        self.sent[kind] += 1
        self.bytes[kind] += nbytes
        departure = self._departure(a, b, nbytes)
        retransmissions = 0
        if self.params.loss:
            segments = max(1, math.ceil(nbytes / SEGMENT_BYTES))
            retransmissions = sum(self.rng.random() < self.params.loss for _ in range(segments))
        arrival = departure + self.latency(a, b) + retransmissions * max(
            RTO_S, 4 * self.latency(a, b)
        )
        arrival = max(arrival, self._last_arrival.get((a, b), 0.0))
        self._last_arrival[(a, b)] = arrival
        self._deliver(a, b, arrival, on_arrival)
        return True

    def _deliver(self, a: int, b: int, arrival: float, on_arrival: Callable[[], None]) -> None:
        key = self.key(a, b)
        generation = self._generation[key]

        def arrive() -> None:
            if self._generation[key] == generation and b in self.connected[a]:
                on_arrival()

        self.loop.at(arrival, arrive)
