"""The household node: a long-lived trio daemon (``entraide node``).

One :class:`Node` owns the household's identity, its store and its transports, and runs
everything in one nursery::

    Node.serve
     ├─ WifiTransport.serve        libp2p host, GossipSub, discovery, ping watchdog (node.wifi)
     ├─ serve_control              the local Unix socket for the app and the CLI (node.control)
     ├─ Syncer.serve               catch-up with every peer on connect and periodically (node.sync)
     ├─ _pump_wifi                 gossip received → store → events
     ├─ _watch_peers               peer up/down → events, catch-up on connect
     ├─ NodeTrust.serve            roles, clock estimate, roster, "not yet" retries (node.trust)
     └─ _prune                     expired messages deleted every few minutes

Every message, whatever brought it, goes through :meth:`Node.ingest`: the store checks,
verifies and durably stores it before it is announced to local clients; a message this node
posts is stored before it is published, so nothing accepted is ever lost. The store is
synchronous and runs in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from protocol import kinds as k
from protocol.envelope import Envelope, Policy, seal
from protocol.errors import LocalError, PeerError
from protocol.quota import OverQuota, Usage

from .client import CONTROL_SOCKET
from .config import Config
from .events import EventHub, message_event
from .identity import Identity
from .render import household_json
from .store import IngestResult, Store
from .trust import NodeTrust, local_clock, message_id

if TYPE_CHECKING:
    from .lora import LoraService, RadioOptions
    from .sync import Syncer
    from .wifi import WifiTransport

log = logging.getLogger("entraide.node")

STORE_FILE = "store.sqlite3"
LOCK_FILE = "node.lock"
#: The TCP port a node listens on unless told otherwise (a static peer list can name it).
DEFAULT_PORT = 4747
#: Messages received over Wi-Fi stored in one transaction, at most.
WIFI_BATCH = 256
#: How often expired messages are deleted.
PRUNE_INTERVAL_S = 300.0
#: Messages submitted here that are older than this are left to catch-up, not gossiped: a
#: live push is a clock sample for its receivers (SPEC.md 11a.7), an old message a wrong one.
FRESH_S = 3600
#: Sources whose messages are live pushes: clock samples, rate-limited per author.
LIVE_SOURCES = frozenset({"radio"})
#: Messages refused by their author's storage quota: the first ones are logged, then one in
#: this many (a flood must not flood the log).
OVER_QUOTA_LOGGED = 20
OVER_QUOTA_LOG_EVERY = 100


@dataclass(frozen=True)
class NodeOptions:
    """How ``entraide node`` runs; the zone settings themselves live in config.toml."""

    listen: tuple[str, ...] = (f"/ip4/0.0.0.0/tcp/{DEFAULT_PORT}",)
    mdns: bool = True
    wifi: bool = True
    #: Peers to dial besides the zone's bootstrap list (multiaddrs with /p2p/<peer id>).
    extra_peers: tuple[str, ...] = ()
    #: Catch-up with one random peer this often (seconds); also on every (re)connect.
    sync_interval: float = 60.0
    control_path: Path | None = None  # default: <home>/node.sock
    radio: RadioOptions | None = None  # the node's Meshtastic device, if it has one
    #: How Wi-Fi gossip spreads a message: "mesh" or "announce" (node/wifi.py);
    #: None: node/wifi.py's default.
    gossip: str | None = None


@dataclass
class NodeStatistics:
    received: dict[str, int] = field(default_factory=dict)  # new messages by source
    duplicates: int = 0
    rejected: int = 0
    published: int = 0
    started: float = 0.0


class Node:
    """A running household node. Build it with :meth:`open`; run it with :meth:`serve`."""

    def __init__(
        self,
        home: Path,
        config: Config,
        identity: Identity,
        store: Store,
        options: NodeOptions,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.home = home
        self.config = config
        self.identity = identity
        self.store = store
        self.options = options
        self.clock = clock
        self.events = EventHub()
        self.stats = NodeStatistics()
        self.trust = NodeTrust(home, config, identity.public_key, clock=clock)
        self.wifi: WifiTransport | None = None
        self.syncer: Syncer | None = None
        self.lora: LoraService | None = None
        self.peer_addresses: dict[str, str] = {}
        self._store_lock = trio.Lock()

    # --- facts -------------------------------------------------------------------------------

    @property
    def zone_id(self) -> bytes:
        return self.config.zone.zone_id

    @property
    def control_path(self) -> Path:
        return self.options.control_path or self.home / CONTROL_SOCKET

    def now(self) -> int:
        """The network's time: this node's clock corrected by its estimate (node.trust)."""
        return self.trust.now()

    def policy(self) -> Policy:
        return self.trust.policy

    # --- running -----------------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Run the node until cancelled; ``started()`` once every service accepts work."""
        from .control import serve_control

        self.stats.started = self.clock()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.trust.serve, self)
            if self.options.wifi:
                # libp2p costs ~0.7 s and ~58 MiB to import: only a node with Wi-Fi pays it.
                from .sync import Syncer
                from .wifi import DEFAULT_GOSSIP, WifiTransport

                zone = self.config.zone
                charter = self.trust.charter
                self.wifi = WifiTransport(
                    bytes(self.identity.signing_key),
                    zone.zone_id,
                    listen=list(self.options.listen),
                    bootstrap=[
                        *zone.bootstrap_peers,
                        *(() if charter is None else charter.charter.peers),
                        *self.options.extra_peers,
                    ],
                    mdns=self.options.mdns,
                    gossip=self.options.gossip or DEFAULT_GOSSIP,
                    validate=self.validate_gossip,
                )
                self.syncer = Syncer(self)
                self.syncer.install(self.wifi)
                await nursery.start(self.wifi.serve)
                nursery.start_soon(self._pump_wifi)
                nursery.start_soon(self._watch_peers)
                nursery.start_soon(self.syncer.serve)
            if self.options.radio is not None:
                from .lora import LoraService

                self.lora = LoraService(self, self.options.radio)
                await nursery.start(self.lora.serve)
            await nursery.start(serve_control, self)
            nursery.start_soon(self._prune)
            log.info(
                "node ready: zone %s (%s), household %s, control socket %s",
                self.zone_id.hex(),
                self.config.zone.name,
                self.identity.public_key[:4].hex(),
                self.control_path,
            )
            task_status.started()

    def validate_gossip(self, raw: bytes, from_peer: str) -> bool:
        """The GossipSub validator: runs before a message is delivered or forwarded. A
        :class:`PeerError` it raises is the reason the transport counts and logs."""
        self.trust.screen_live(raw)
        return True

    async def _pump_wifi(self) -> None:
        assert self.wifi is not None
        received = self.wifi.received
        async for raw, peer in received:
            # A burst is stored in one transaction (one fsync), not one per message.
            batch = [(raw, peer)]
            while len(batch) < WIFI_BATCH:
                try:
                    batch.append(received.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            by_peer: dict[str, list[bytes]] = {}
            for raw_, peer_ in batch:
                by_peer.setdefault(peer_, []).append(raw_)
            for peer_, raws in by_peer.items():
                await self.ingest(raws, source="wifi", peer=peer_)

    async def _watch_peers(self) -> None:
        assert self.wifi is not None
        async for change in self.wifi.peer_events:
            if change.up:
                self.peer_addresses[change.peer] = change.address
            else:
                self.peer_addresses.pop(change.peer, None)
            self.events.publish(
                {
                    "event": "peer",
                    "peer": change.peer,
                    "state": "up" if change.up else "down",
                    "address": change.address,
                }
            )
            if change.up and self.syncer is not None:
                self.syncer.peer_connected(change.peer)

    async def _prune(self) -> None:
        while True:
            await trio.sleep(PRUNE_INTERVAL_S)
            async with self._store_lock:
                removed = await trio.to_thread.run_sync(self.store.prune, self.now())
            if removed:
                log.info("pruned %d expired message(s)", removed)
            await self.refresh_usage()

    async def refresh_usage(self) -> None:
        """Count every author's live messages again (storage quotas, node.trust)."""
        now = self.now()
        async with self._store_lock:
            usage = await trio.to_thread.run_sync(lambda: self.store.usage(now))
        self.trust.set_usage(usage, None)

    # --- messages ----------------------------------------------------------------------------

    async def ingest(
        self, raws: Sequence[bytes], *, source: str, peer: str | None = None
    ) -> list[IngestResult]:
        """Check, verify and durably store ``raws``; announce the new ones to local clients.
        Vouches and revocations go first (node.trust); what is refused as "not yet" is kept
        aside and tried again later."""
        if not raws:
            return []
        screened = await self._screen_live(raws) if source in LIVE_SOURCES else {}
        todo = [raw for i, raw in enumerate(raws) if i not in screened]
        zone = self.trust.zone
        version = zone.version
        now = self.now()

        def store_them() -> tuple[list[IngestResult], set[bytes], dict[tuple[bytes, bool], Usage]]:
            got = zone.ingest(self.store, todo, now=now)
            # The authors' live messages counted again: the push screen's quota check.
            authors = {r.envelope.author for r in got if r.envelope is not None}
            return got, authors, self.store.usage(now, authors)

        async with self._store_lock:
            got, authors, usage = await trio.to_thread.run_sync(store_them)
        self.trust.set_usage(usage, authors)
        stored = iter(got)
        results = [screened[i] if i in screened else next(stored) for i in range(len(raws))]
        self.trust.settle(raws, results)
        if zone.version != version or any(
            r.status == "new" and r.envelope is not None and r.envelope.kind is k.Kind.ROSTER_ENTRY
            for r in results
        ):
            self.trust.wake()
        for i, (raw, result) in enumerate(zip(raws, results, strict=True)):
            screened_here = i in screened
            if result.status == "new":
                assert result.envelope is not None
                env = result.envelope
                self.stats.received[source] = self.stats.received.get(source, 0) + 1
                if self.lora is not None:
                    self.lora.offer(env, source)
                self.events.publish(message_event(raw, env.id, env.kind.name.lower(), source, peer))
            elif result.status == "duplicate":
                self.stats.duplicates += 1
            elif isinstance(result.error, OverQuota):
                self.stats.rejected += 1
                if not screened_here:  # the push screen counted its own
                    self.trust.counters["over_quota"] += 1
                count = self.trust.counters["over_quota"]
                if count <= OVER_QUOTA_LOGGED or count % OVER_QUOTA_LOG_EVERY == 0:
                    log.info(
                        "refused a message over its author's storage quota (%s%s): %s "
                        "(%d refused so far)",
                        source,
                        _from(peer),
                        result.error,
                        count,
                    )
            elif source != "retry":
                self.stats.rejected += 1
                log.info("rejected a message (%s%s): %s", source, _from(peer), result.error)
        return results

    async def _screen_live(self, raws: Sequence[bytes]) -> dict[int, IngestResult]:
        """Live pushes not stored yet: a clock sample each, then the receiver's rules and
        the author's rate limit (node.trust); the refusals, by index."""
        ids = [message_id(raw) for raw in raws]
        known = {message_id(raw) for raw in await self.raws_of(ids)}
        refused: dict[int, IngestResult] = {}
        for i, (raw, mid) in enumerate(zip(raws, ids, strict=True)):
            if mid in known:
                continue  # the store says "duplicate": no sample, no token
            try:
                self.trust.screen_live(raw)
            except PeerError as exc:
                refused[i] = IngestResult("rejected", id=mid, error=exc)
        return refused

    async def refresh_trust(self) -> bool:
        """Derive the roles again from the store; whether they changed."""
        now = self.now()
        async with self._store_lock:
            return await trio.to_thread.run_sync(
                lambda: self.trust.zone.refresh(self.store, now=now)
            )

    async def refresh_roster(self) -> None:
        """The roster entries this node reads as a relay, and who needs a visit."""
        await trio.to_thread.run_sync(
            lambda: self.trust.refresh_roster(self.store, self.identity.signing_key)
        )

    async def submit(
        self, raws: Sequence[bytes], *, source: str = "local", peer: str | None = None
    ) -> list[IngestResult]:
        """Messages already signed (from a local client, or heard on the radio): store them,
        then publish the new ones on Wi-Fi; those older than :data:`FRESH_S` (a bundle carried
        by hand) go by catch-up instead."""
        results = await self.ingest(raws, source=source, peer=peer)
        oldest = self.now() - FRESH_S
        left = False
        for raw, result in zip(raws, results, strict=True):
            if result.status == "new" and result.envelope is not None:
                if result.envelope.created >= oldest:
                    await self.publish(raw)
                else:
                    left = True
        if left and self.syncer is not None:
            self.syncer.sync_all_now()  # old messages travel by catch-up
        return results

    async def post(
        self, body: k.Body, *, refs: Sequence[bytes] = (), lifetime: int | None = None
    ) -> tuple[Envelope, IngestResult]:
        """Sign a message as this household, store it and publish it."""
        env = seal(
            body,
            signing_key=self.identity.signing_key,
            created=self.now(),
            zone=self.zone_id,
            refs=list(refs),
            lifetime=lifetime,
        )
        (result,) = await self.submit([env.raw])
        return env, result

    async def publish(self, raw: bytes) -> None:
        if self.wifi is not None:
            await self.wifi.publish(raw)
            self.stats.published += 1

    # --- queries (for the control socket and the syncer) -------------------------------------

    async def live_ids(self) -> list[bytes]:
        now = self.now()
        return await trio.to_thread.run_sync(lambda: self.store.ids(now, zone=self.zone_id))

    async def raws_of(self, ids: Sequence[bytes]) -> list[bytes]:
        return await trio.to_thread.run_sync(lambda: self.store.raws_of(list(ids)))

    async def live(self, kinds: Sequence[k.Kind] | None = None) -> list[Envelope]:
        now = self.now()
        return await trio.to_thread.run_sync(lambda: self.store.live(now, kinds, zone=self.zone_id))

    def status(self) -> dict[str, Any]:
        wifi = self.wifi
        return {
            "household": self.identity.public_key.hex(),
            "fingerprint": self.identity.fingerprint,
            "zone": {"id": self.zone_id.hex(), "name": self.config.zone.name},
            "language": self.config.language,
            "bridge_keys": [key.hex() for key in sorted(self.trust.roles.bridges)],
            "now": self.now(),
            "uptime_s": round(self.clock() - self.stats.started, 1),
            "wifi": None
            if wifi is None
            else {
                "peer_id": wifi.peer_id,
                "listen": list(wifi.listen_addrs),
                "peers": [
                    {"peer": p, "address": a} for p, a in sorted(self.peer_addresses.items())
                ],
                "statistics": wifi.statistics(),
            },
            "sync": None if self.syncer is None else self.syncer.status(),
            "radio": None if self.lora is None else self.lora.status(),
            "messages": {
                "received": dict(self.stats.received),
                "duplicates": self.stats.duplicates,
                "rejected": self.stats.rejected
                + (0 if wifi is None else sum(wifi.statistics()["rejected"].values())),
                "published": self.stats.published,
            },
            "events": self.events.statistics(),
            "roster": None
            if not self.trust.roles.has(self.identity.public_key, k.Role.RELAY)
            else [household_json(item.household) for item in self.trust.roster],
        } | self.trust.status()


def _peer(peer_id: str) -> str:
    """A peer id as logs show it: enough to tell peers apart."""
    return peer_id if len(peer_id) <= 16 else f"{peer_id[:6]}…{peer_id[-6:]}"


def _from(peer: str | None) -> str:
    return f" from peer {_peer(peer)}" if peer else ""


def open_node(home: Path, config: Config, identity: Identity, options: NodeOptions) -> Node:
    """A node on ``home``'s store (opened here; the caller closes ``node.store``)."""
    store = Store.open(home / STORE_FILE)
    return Node(home, config, identity, store, options, clock=local_clock())


class NodeLocked(LocalError):
    """Another node process already runs on this home."""

    code = "node-running"


@contextlib.contextmanager
def home_lock(home: Path) -> Iterator[None]:
    """Hold ``<home>/node.lock`` while the node runs: one node per home."""
    path = home / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NodeLocked.tr(
                "a node is already running on {home} (stop it first, or give another --home)",
                home=str(home),
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


async def run_until_signalled(node: Node, *, ready: Callable[[], None] | None = None) -> str:
    """Serve ``node`` until SIGINT or SIGTERM; return the signal's name. Everything the
    node started is cancelled and closed before this returns."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.serve)
            if ready is not None:
                ready()
            async for signum in signals:
                name = signal.Signals(signum).name
                log.info("%s received: stopping", name)
                nursery.cancel_scope.cancel()
                return name
    return "cancelled"  # pragma: no cover - the loop above only ends by returning
