"""The gossip overlay of the Wi-Fi nodes, modelled on py-libp2p's GossipSub (node/wifi.py).

Real GossipSub runs inside py-libp2p and cannot run a thousand times in virtual time, so this
module is the *model* of it, with the parameters node/wifi.py gives it (``GOSSIPSUB``):

- a mesh per node: at each heartbeat (1 s) a node with fewer than ``d_low`` mesh peers grafts
  random connected peers up to ``d``, else grafts ``opportunistic_graft`` more (py-libp2p
  0.8.1's opportunistic grafting, which with no peer scoring runs at every heartbeat); one with
  more than ``d_high`` prunes random ones down to ``d`` (a pruned peer is not grafted again for
  ``prune_backoff_s``); a GRAFT is accepted unless the peer is backing off;
- a new valid message is pushed to every mesh peer but the one it came from and its
  publisher; a message already seen is dropped (and counted: a *duplicate reception*);
- at each heartbeat a node sends IHAVE with the ids of the last ``gossip_window`` heartbeats
  to max(``d_lazy``, 25 %) of its connected peers outside the mesh and not backing off (a peer
  pruned in the last ``prune_backoff_s`` gets no gossip); an unseen id is asked for with
  IWANT, answered from the last ``gossip_history`` heartbeats;
- each hop costs ``processing_s`` (validation and py-libp2p's handling; ≈ 2 ms per hop was
  measured between real nodes on loopback, shared/reference/libp2p.md).

Not modelled: peer scoring, flood publishing, fanout (every node subscribes), IDONTWANT
(node/wifi.py offers v1.1 only), RPC batching. Nor, in ``gossipsub``, that py-libp2p 0.8.1's
heartbeat IHAVE carries its message cache's (sender, seqno) keys, which a seen-cache keyed on
envelope ids never recognises (read in its code, not measured): a real mesh node asks again
for every id of every IHAVE it gets and receives a duplicate for each, where the model asks
for unseen ids only (announce mode keys its cache on envelope ids: node/wifi.py).

The presets (``PRESETS``) and what the real node does:

- ``gossipsub``: ``entraide node --gossip mesh`` (node/wifi.py's GossipSub as configured);
- ``announce``: ``entraide node`` as it runs by default (``--gossip announce``, lazy push):
  push a new message to ``eager`` (0) mesh peers and announce it with an immediate IHAVE to
  the others, who fetch it with IWANT from the first announcer and ask the next one after
  ``iwant_timeout_s``; a peer asked again (no other announcer left) is given twice as long
  each time, as the real node does (``iwant_backoff``). No opportunistic grafting. Not
  modelled: the real node's window of 16 IWANTs in flight per peer and its timeout that
  grows with the round trips it measures (both matter in bursts, which figures do not send);
- ``gossipsub-d4``, ``gossipsub-d3``, ``gossipsub-v1.0``, ``announce-eager1``: what a node
  could do instead (smaller meshes, no opportunistic grafting, one eager push).

``DEFAULT_PRESET`` names the one matching the real node's default (node/wifi.py's
``DEFAULT_GOSSIP``). The validator and the store are the real ones (the caller's
``on_message``).
"""

from __future__ import annotations

import functools
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from .ipnet import IpNetwork
from .loop import EventLoop

__all__ = ["DEFAULT_PRESET", "GOSSIPSUB", "PRESETS", "GossipConfig", "GossipLayer"]

#: Bytes around a message in a publish RPC (sender id, seqno, topic, framing).
PUBLISH_OVERHEAD = 85
#: Control RPC framing and topic; py-libp2p writes each message id in hex (64 + 2 bytes).
CONTROL_OVERHEAD = 32
ID_ON_WIRE = 66
#: IWANT retries per message before waiting for the next heartbeat's gossip.
MAX_IWANT_TRIES = 10


@dataclass(frozen=True)
class GossipConfig:
    name: str
    d: int = 6
    d_low: int = 4
    d_high: int = 10
    d_lazy: int = 6
    gossip_factor: float = 0.25
    heartbeat_s: float = 1.0
    gossip_window: int = 3
    gossip_history: int = 5
    prune_backoff_s: float = 60.0
    #: py-libp2p 0.8.1 grafts up to this many more peers at every heartbeat while the mesh
    #: has at least ``d_low`` (its opportunistic grafting, with every score at 0 since
    #: node/wifi.py configures no scoring): meshes grow to ``d_high``, are pruned to ``d``.
    opportunistic_graft: int = 2
    #: Mesh peers a new message is pushed to (None: all, as GossipSub does).
    eager: int | None = None
    #: Announce a new message at once (IHAVE) to the mesh peers it was not pushed to.
    announce: bool = False
    iwant_timeout_s: float = 0.15
    #: Announce mode: an IWANT to a peer already asked for that message waits twice as long
    #: as the previous one to it (node/wifi.py: an answer on TCP is more often late than lost).
    iwant_backoff: bool = False
    processing_s: float = 0.002


#: node/wifi.py's parameters: MESH_DEGREE 6, _LOW 4, _HIGH 10, heartbeat 1 s, window 3,
#: history 5 (py-libp2p gossips to max(6, 25 %) of the peers outside the mesh); as
#: ``entraide node --gossip mesh`` runs them.
GOSSIPSUB = GossipConfig("gossipsub")
#: ``entraide node --gossip announce``, the real node's default.
ANNOUNCE = replace(
    GOSSIPSUB, name="announce", eager=0, announce=True, opportunistic_graft=0, iwant_backoff=True
)

PRESETS: Mapping[str, GossipConfig] = MappingProxyType(
    {
        "gossipsub": GOSSIPSUB,
        "gossipsub-d4": replace(GOSSIPSUB, name="gossipsub-d4", d=4, d_low=3, d_high=6),
        "gossipsub-d3": replace(GOSSIPSUB, name="gossipsub-d3", d=3, d_low=2, d_high=4),
        "gossipsub-v1.0": replace(GOSSIPSUB, name="gossipsub-v1.0", opportunistic_graft=0),
        "announce": ANNOUNCE,
        "announce-eager1": replace(ANNOUNCE, name="announce-eager1", eager=1),
    }
)
#: The preset of what ``entraide node`` does by default (node/wifi.py's DEFAULT_GOSSIP).
DEFAULT_PRESET = "announce"

OnMessage = Callable[[int, int, int], bool]


class GossipLayer:
    """GossipSub (or a variant) for every node of an :class:`IpNetwork`.

    ``on_message(node, message, from_peer) -> bool`` validates and stores a message a node
    sees for the first time; True lets it be forwarded. ``sizes[message]`` is its envelope's
    length in bytes.
    """

    def __init__(
        self,
        loop: EventLoop,
        net: IpNetwork,
        rng: random.Random,
        config: GossipConfig,
        *,
        sizes: list[int],
        on_message: OnMessage,
    ) -> None:
        self.loop = loop
        self.net = net
        self.rng = rng
        self.config = config
        self.sizes = sizes
        self.on_message = on_message
        n = net.size
        self.mesh: list[set[int]] = [set() for _ in range(n)]
        self.seen: list[set[int]] = [set() for _ in range(n)]
        self.mcache: list[deque[list[int]]] = [
            deque([[] for _ in range(config.gossip_history)], maxlen=config.gossip_history)
            for _ in range(n)
        ]
        self.backoff: list[dict[int, float]] = [{} for _ in range(n)]
        self.origin: dict[int, int] = {}  # message -> publishing node
        # announce mode: peers asked for a message, when to ask again, who announced it
        self.asked: list[dict[int, list[int]]] = [{} for _ in range(n)]
        self.pending: list[dict[int, float]] = [{} for _ in range(n)]
        self.announcers: list[dict[int, list[int]]] = [{} for _ in range(n)]
        self.payload_bytes = 0  # envelope bytes sent in publish RPCs (the rest is overhead)
        self.copies = [0] * n  # payload receptions, first or not
        self.duplicates = [0] * n
        self.ihave_received = [0] * n
        self.iwant_received = [0] * n
        self.running = False
        net.listeners.append(self)

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every node's heartbeat, at a random phase."""
        self.running = True
        for node in range(self.net.size):
            self.loop.after(self.rng.random() * self.config.heartbeat_s, self._beat(node))

    def stop(self) -> None:
        self.running = False

    def _beat(self, node: int) -> Callable[[], None]:
        def beat() -> None:
            if not self.running:
                return
            if self.net.node_up[node]:
                self._heartbeat(node)
            self.loop.after(self.config.heartbeat_s, beat)

        return beat

    def link_up(self, a: int, b: int) -> None:
        pass  # the next heartbeat grafts

    def link_down(self, a: int, b: int) -> None:
        self.mesh[a].discard(b)
        self.mesh[b].discard(a)

    # --- messages ----------------------------------------------------------------------------

    def publish(self, node: int, message: int) -> None:
        """``node`` publishes a message it has stored."""
        self.origin[message] = node
        self.seen[node].add(message)
        self.mcache[node][0].append(message)
        self._forward(node, message, exclude=node)

    def _forward(self, node: int, message: int, exclude: int) -> None:
        origin = self.origin[message]
        targets = [p for p in self.mesh[node] if p != exclude and p != origin]
        eager = self.config.eager
        if eager is not None and eager < len(targets):
            self.rng.shuffle(targets)
            pushed, announced = targets[:eager], targets[eager:]
        else:
            pushed, announced = targets, []
        size = self.sizes[message]
        for peer in pushed:
            self._send_payload(node, peer, message, size)
        if self.config.announce:
            for peer in announced:
                self._send_ihave(node, peer, [message])

    def _send_payload(self, node: int, peer: int, message: int, size: int) -> None:
        if self.net.send(
            node, peer, size + PUBLISH_OVERHEAD, lambda: self._receive(peer, message, node),
            kind="publish",
        ):  # fmt: skip
            self.payload_bytes += size

    def _receive(self, node: int, message: int, sender: int) -> None:
        self.copies[node] += 1
        if message in self.seen[node]:
            self.duplicates[node] += 1
            return
        self.seen[node].add(message)
        self.loop.after(self.config.processing_s, lambda: self._validated(node, message, sender))

    def _validated(self, node: int, message: int, sender: int) -> None:
        if not self.on_message(node, message, sender):
            return
        self.mcache[node][0].append(message)
        self._forward(node, message, exclude=sender)

    # --- IHAVE / IWANT ---------------------------------------------------------------------

    def _send_ihave(self, node: int, peer: int, ids: list[int]) -> None:
        size = CONTROL_OVERHEAD + ID_ON_WIRE * len(ids)
        self.net.send(node, peer, size, lambda: self._on_ihave(peer, node, ids), kind="ihave")

    def _on_ihave(self, node: int, sender: int, ids: list[int]) -> None:
        self.ihave_received[node] += 1
        seen = self.seen[node]
        wanted = [m for m in ids if m not in seen]
        if not wanted:
            return
        if not self.config.announce:  # py-libp2p asks for every unseen id, every time
            self._send_iwant(node, sender, wanted)
            return
        for message in wanted:
            self.announcers[node].setdefault(message, []).append(sender)
            if message not in self.pending[node]:
                self.asked[node][message] = []
                self._ask(node, message)

    def _ask(self, node: int, message: int) -> None:
        """Announce mode: ask the next announcer not asked yet (else the latest asked); ask
        again after a timeout, at most MAX_IWANT_TRIES times, then wait for more IHAVEs."""
        pending = self.pending[node]
        if message in self.seen[node]:
            pending.pop(message, None)
            return
        asked = self.asked[node][message]
        connected = self.net.connected[node]
        announcers = [p for p in self.announcers[node].get(message, []) if p in connected]
        fresh = [p for p in announcers if p not in asked]
        peer = fresh[0] if fresh else (announcers[-1] if announcers else None)
        if peer is None or len(asked) >= MAX_IWANT_TRIES:
            pending.pop(message, None)
            return
        again = asked.count(peer) if self.config.iwant_backoff else 0
        asked.append(peer)
        deadline = self.loop.now + self.config.iwant_timeout_s * 2**again
        pending[message] = deadline
        self._send_iwant(node, peer, [message])

        def retry() -> None:
            if pending.get(message) == deadline:
                self._ask(node, message)

        self.loop.at(deadline, retry)

    def _send_iwant(self, node: int, peer: int, ids: list[int]) -> None:
        size = CONTROL_OVERHEAD + ID_ON_WIRE * len(ids)
        self.net.send(node, peer, size, lambda: self._on_iwant(peer, node, ids), kind="iwant")

    def _on_iwant(self, node: int, sender: int, ids: list[int]) -> None:
        self.iwant_received[node] += 1
        # GossipSub answers from its message cache; announce mode from the store.
        cached = self.seen[node] if self.config.announce else {
            m for window in self.mcache[node] for m in window
        }
        for message in ids:
            if message in cached:
                self._send_payload(node, sender, message, self.sizes[message])

    # --- heartbeat ---------------------------------------------------------------------------

    def _heartbeat(self, node: int) -> None:
        config, rng, now = self.config, self.rng, self.loop.now
        connected = self.net.connected[node]
        mesh = self.mesh[node]
        mesh &= connected
        count = len(mesh)  # py-libp2p decides all three steps on the size before any
        backoff = self.backoff[node]
        pool = [p for p in connected if p not in mesh and backoff.get(p, 0.0) <= now]
        grafts = config.d - count if count < config.d_low else config.opportunistic_graft
        for peer in rng.sample(pool, min(grafts, len(pool))):
            mesh.add(peer)
            self._control(node, peer, functools.partial(self._on_graft, peer, node))
        if count > config.d_high:
            for peer in rng.sample(sorted(mesh), count - config.d):
                mesh.discard(peer)
                backoff[peer] = now + config.prune_backoff_s
                self._control(node, peer, functools.partial(self._on_prune, peer, node))
        windows = self.mcache[node]
        ids = [m for window in list(windows)[: config.gossip_window] for m in window]
        if ids:
            outside = [p for p in connected if p not in mesh]
            count = max(config.d_lazy, int(len(outside) * config.gossip_factor))
            outside = [p for p in outside if backoff.get(p, 0.0) <= now]  # as py-libp2p
            for peer in rng.sample(outside, min(count, len(outside))):
                self._send_ihave(node, peer, ids)
        windows.appendleft([])

    def _control(self, node: int, peer: int, action: Callable[[], None]) -> None:
        self.net.send(node, peer, CONTROL_OVERHEAD + 4, action, kind="graft-prune")

    def _on_graft(self, node: int, sender: int) -> None:
        if self.backoff[node].get(sender, 0.0) > self.loop.now:
            self.backoff[node][sender] = self.loop.now + self.config.prune_backoff_s
            self._control(node, sender, lambda: self._on_prune(sender, node))
            return
        self.mesh[node].add(sender)

    def _on_prune(self, node: int, sender: int) -> None:
        self.mesh[node].discard(sender)
        self.backoff[node][sender] = self.loop.now + self.config.prune_backoff_s

    # --- figures -----------------------------------------------------------------------------

    def statistics(self) -> dict[str, int]:
        return {
            "payload_receptions": sum(self.copies),
            "duplicate_receptions": sum(self.duplicates),
            "ihave_received": sum(self.ihave_received),
            "iwant_received": sum(self.iwant_received),
        }
