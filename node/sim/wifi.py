"""A town of Wi-Fi nodes in virtual time: households, links, gossip and catch-up together.

Each simulated node holds a store (message indices), a per-author rate limiter
(:class:`protocol.ratelimit.RateLimiter`, as node/daemon.py's gossip validator) and the
real receiver checks (``MessageBook.accept``). Gossip is the model of
:mod:`node.sim.gossip`; catch-up is the real reconciliation of :mod:`node.sim.sync`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from protocol.errors import PeerError
from protocol.ratelimit import RateLimiter

from .gossip import GOSSIPSUB, GossipConfig, GossipLayer
from .ipnet import IpNetwork, NetParams, town
from .loop import EventLoop
from .messages import MessageBook
from .sync import Holdings, SyncConfig, SyncLayer

__all__ = ["ZONE", "WifiSetup", "WifiWorld"]

ZONE = bytes.fromhex("3f2a9c01")


@dataclass(frozen=True)
class WifiSetup:
    nodes: int = 1000
    near: int = 5  # connections to the nearest households (mDNS on a shared Wi-Fi)
    far: int = 3  # connections to random households (the zone's bootstrap list)
    net: NetParams = field(default_factory=NetParams)
    gossip: GossipConfig | None = GOSSIPSUB
    sync: SyncConfig | None = field(default_factory=SyncConfig)
    seed: int = 1
    households: int | None = None  # households with a key (default: one per node)


class WifiWorld:
    """Everything of one run; build it, post messages, ``run_until``, read the figures."""

    def __init__(
        self,
        setup: WifiSetup,
        *,
        edges: set[tuple[int, int]] | None = None,
        positions: list[tuple[float, float]] | None = None,
    ) -> None:
        self.setup = setup
        self.rng = random.Random(setup.seed)
        self.loop = EventLoop()
        self.book = MessageBook(ZONE, setup.households or setup.nodes, seed=setup.seed)
        if edges is None:
            positions, edges = town(setup.nodes, self.rng, near=setup.near, far=setup.far)
        elif positions is None:
            positions = [(0.0, 0.0)] * setup.nodes
        assert positions is not None
        self.net = IpNetwork(self.loop, self.rng, positions, edges, setup.net)
        self.holdings = Holdings(self.book, setup.nodes)
        self.limiters = [RateLimiter() for _ in range(setup.nodes)]
        self.sizes: list[int] = []
        self.gossip: GossipLayer | None = None
        if setup.gossip is not None:
            self.gossip = GossipLayer(
                self.loop, self.net, self.rng, setup.gossip,
                sizes=self.sizes, on_message=self._validate_gossip,
            )  # fmt: skip
        self.sync: SyncLayer | None = None
        if setup.sync is not None:
            self.sync = SyncLayer(self.loop, self.net, self.rng, self.holdings, setup.sync)
        self.posted_at: dict[int, float] = {}

    @property
    def size(self) -> int:
        return self.setup.nodes

    def start(self, *, connect: bool = False) -> None:
        """Heartbeats and periodic catch-up start. Connections are up from time 0; with
        ``connect``, nodes are taken as just started, and their connections come up now
        (each triggers a catch-up session, as on a real node)."""
        if connect:
            for a, b in self.net.edges:
                self.net.set_link(a, b, False)
        if self.gossip is not None:
            self.gossip.start()
        if self.sync is not None:
            self.sync.start_periodic(just_started=connect)
        if connect:
            for a, b in self.net.edges:
                self.net.set_link(a, b, True)

    def _validate_gossip(self, node: int, message: int, sender: int) -> bool:
        """node/daemon.py's gossip validator (accept, then the author's rate limit), then the
        store (node.ingest)."""
        raw = self.book.messages[message].raw
        try:
            env = self.book.accept(raw, self.book.unix(self.loop.now))
            self.limiters[node].check(env.author, self.loop.now)
        except PeerError as exc:
            self.holdings.rejected[exc.code] += 1
            return False
        self.holdings.store(node, message, self.loop.now, "wifi")
        return True

    def note_size(self, message: int) -> None:
        """Gossip needs each message's size: note it for every message signed so far."""
        messages = self.book.messages
        while len(self.sizes) <= message:
            self.sizes.append(len(messages[len(self.sizes)].raw))

    def post(self, node: int, message: int) -> None:
        """``node`` stores a message of its household and publishes it (node.post)."""
        self.posted_at[message] = self.loop.now
        self.holdings.store(node, message, self.loop.now, "local")
        if self.gossip is not None:
            self.gossip.publish(node, message)

    def holders(self, message: int) -> int:
        return len(self.holdings.first.get(message, {}))

    def reach_time(self, message: int, share: float, among: int | None = None) -> float | None:
        """Seconds from posting until ``share`` of the nodes (of ``among``) held the message."""
        times = sorted(self.holdings.first.get(message, {}).values())
        needed = max(1, -int(-share * (among if among is not None else self.size) // 1))
        if len(times) < needed:
            return None
        return times[needed - 1] - self.posted_at.get(message, 0.0)
