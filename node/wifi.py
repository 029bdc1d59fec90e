"""The Wi-Fi/LAN transport: signed envelopes gossiped over py-libp2p, one small interface.

Usage (inside the daemon's nursery)::

    wifi = WifiTransport(seed, zone_id, validate=validate, bootstrap=zone.peers, mdns=True)
    addrs = await nursery.start(wifi.serve)      # listening; ["/ip4/…/tcp/…/p2p/12D3…", …]
    await wifi.publish(envelope.raw)             # True: sent; False: already known
    async for raw, from_peer in wifi.received:   # validated messages from others
        ...
    async for event in wifi.peer_events:         # PeerUp / PeerDown
        ...

Interface:

- ``WifiTransport(seed, zone_id, *, validate, listen=("/ip4/0.0.0.0/tcp/0",), bootstrap=(),
  mdns=True, gossip=DEFAULT_GOSSIP, ping_interval=1.0, ping_timeout=3.0, stream_timeout=10.0,
  redial_max_delay=30.0)``. ``seed``: the household's 32-byte Ed25519 seed
  (node/identity.py), so the peer id is derived from the household key
  (:func:`household_key_of` gives the key back). ``zone_id``: 4 bytes; the gossip topic is
  ``entraide/zone/<zone id hex>/1``. ``bootstrap``: multiaddrs ending in ``/p2p/<peer id>``.
  ``gossip``: ``"mesh"`` (GossipSub: every new message pushed to every mesh peer) or
  ``"announce"`` (lazy push, below).
- ``validate(raw: bytes, from_peer: str) -> bool`` runs on every message from a neighbour
  before it is delivered or forwarded. It returns False, or raises a
  :class:`protocol.PeerError` whose ``code`` is counted as the reason (for example
  ``bad-signature``, ``expired``, ``rate-limited``); any other exception is logged as a bug
  and rejects the message. :func:`envelope_validator` builds the usual one (signature, the
  zone's acceptance rules, then the per-author rate limit of protocol/ratelimit.py).
- ``async serve(*, task_status)``: runs the node until cancelled; ``started()`` gives the
  listen multiaddrs with ``/p2p/<peer id>`` (``/ip4/0.0.0.0/`` expanded per interface). Runs
  once; on exit the connections are closed and ``received``/``peer_events`` end.
- ``async publish(raw) -> bool``: waits while a neighbour's send queue is filling
  (backpressure); False when the message was already published or received.
- ``received``: ``trio.MemoryReceiveChannel[tuple[bytes, str]]``, validated messages from
  others with the neighbour that handed them over; never our own.
- ``peer_events``: ``trio.MemoryReceiveChannel[PeerUp | PeerDown]`` (both have ``peer``,
  ``address`` and ``up``).
- ``peers()`` (peer ids connected now), ``peer_states()`` (with address, how, since, ping
  round trip), ``statistics()`` (a JSON-ready dict), ``peer_id``, ``listen_addrs``, ``topic``.
- ``add_peer(multiaddr)``: another static peer, kept connected like the bootstrap ones.
- ``register_protocol(protocol_id, handler)`` with ``async handler(stream: SyncStream,
  peer: str)``, and ``async open_stream(peer, protocol_id) -> SyncStream``: custom streams
  for catch-up sync. A :class:`SyncStream` is a plain byte stream with a timeout on every
  read and write; ``receive_some`` returns ``b""`` only at the end of the stream, which the
  other side marks with ``send_eof()`` or ``aclose()``, never with an empty write.

How the pitfalls of py-libp2p 0.8.1 (shared/reference/libp2p.md) are handled:

1. GossipSub's spam protection (10 msg/s per topic per peer, the rest silently dropped) is
   off; the per-author rate limit lives in ``validate``.
2. Adaptive gossip is off (it stretches the heartbeat to 30 s after ~30 s); heartbeat 1 s.
3. ``publish`` never blocks and each neighbour's send queue holds 32 RPCs: :meth:`publish`
   paces itself on the fullest queue (waits while any holds 16 or more).
4. Pubsub and GossipSub start before ``host.run()``, so an inbound connection at start
   finds them running.
5. ``host.close()`` always runs when ``serve`` ends (leaving ``host.run()`` does not close
   outgoing connections).
6. A neighbour that vanishes without closing is found by a ping watchdog (one ping a second
   on ``/ipfs/ping/1.0.0``, closed after ``ping_timeout`` without an answer); known peers
   are redialled with exponential backoff.
7. Subscribers get messages through a 32-entry channel that drops the rest, and a node
   receives its own publishes: we take each validated message as libp2p hands it over
   (``notify_subscriptions``), skip our own, and queue it in ``received`` (4096 entries;
   an overflow is counted and logged, never silent).
8. Gossip replays only its last ~5 s to a peer that (re)joins: catching up after an absence
   is the sync protocol's job (``register_protocol``).
9. GossipSub v1.1 only: v1.2 sends an IDONTWANT per message per peer.
10. ``ConnectionConfig(max_connections_per_peer=1)``: a dial takes ~8 ms, not ~250 ms. When
    two nodes dial each other at once, the connection dialled by the lower peer id is kept.

Gossip modes. ``mesh`` is GossipSub as py-libp2p runs it: a node pushes each new message to
all its mesh peers (6 wanted, up to 10), so on a well-connected neighbourhood most copies a
node receives are duplicates (the simulator: 4.1 per node per message at 1,000 nodes).
``announce`` (lazy push) pushes a new message to ``ANNOUNCE_EAGER`` mesh peers (0) and at once
sends the other mesh peers an IHAVE with its id (the ids of messages handled at the same
moment go in one IHAVE); a node that has not seen it asks the first announcer with IWANT,
and the next announcer if no copy came within ``IWANT_TIMEOUT_SECONDS`` (then the last one
again, ``IWANT_TRIES`` asks in all, after which the next heartbeat's IHAVE or catch-up brings
it). Only standard IHAVE/IWANT control messages are used: a mesh node and an announce node
understand each other. ``announce`` is the default (``DEFAULT_GOSSIP``): on 10 real nodes
on loopback it took the duplicate copies per node per message from 1.75 to 0.00 for one
more round trip per hop (p50 about twice mesh's: 50 ms against 26 ms on a quiet machine,
1.1-4.5 times over four runs on a busy one; p99 0.11-0.73 s; the simulator: 99 % of
1,000 nodes in under a second at 20 % loss instead of 0.08 s, duplicates 0 instead of 4.1).
In announce mode:

- the message cache that answers IWANT is keyed by our message ids (py-libp2p keys it on the
  unsigned (sender, seqno) pair and advertises those in IHAVE, which no seen-cache keyed on
  content hashes recognises: every heartbeat IHAVE would fetch everything again), and keeps
  ``ANNOUNCE_HISTORY`` heartbeats (30 s): a message stays fetchable well after every peer it
  was announced to has had all its tries;
- py-libp2p ignores more than 10 IHAVE and 10 IWANT a second from one peer, which would
  throttle a burst (one announcement per message); the limits are ``ANNOUNCE_CONTROL_RATE``;
- IWANTs are answered like our publishes are sent (pitfall 3): the messages asked for wait
  while the peer's send queue is half full, and go up to ``ANSWER_BATCH`` in one RPC
  (py-libp2p answers each IWANT at once with one RPC, and a burst overflows the queue); a
  message already waiting to go to a peer is not queued twice. :meth:`publish` also waits
  while answers are waiting, so a publisher cannot run ahead of what its neighbours fetch;
- at most ``IWANT_WINDOW`` messages are asked of one peer at a time (the others wait their
  turn, their timeout not yet running), and an IWANT to a peer already asked (no other
  announcer left) waits twice as long as the previous one: on TCP an answer is more often
  late than lost, and a timeout that fires behind a burst only fetches a duplicate. For
  the same reason the timeout is ``IWANT_TIMEOUT_SECONDS`` or, when longer, the round
  trip measured to that peer plus four times its deviation (TCP's rule), at most
  ``IWANT_TIMEOUT_MAX``: a node busy with a burst answers late, not never;
- a peer whose timeout has grown (it stopped answering, or is slow) is passed over for any
  other announcer of the message with a shorter timeout, also for a message already asked
  of it, and at most ``WANTED_PER_PEER`` messages first announced by one peer are waited
  for: an announcer that never answers (or announces made-up ids) holds up at most its
  window of messages, for one timeout;
- opportunistic grafting is off (py-libp2p 0.8.1 grafts 2 more peers at every heartbeat when
  no peer is scored, which only makes a lazy mesh larger);
- a copy that fails validation (a forgery sent in answer) does not end the wait: the next
  announcer is asked. Validation, its rate limits and findings 11-13 are the same in both
  modes: every payload goes through the same ``push_msg``.

And what we found on the way:

11. libp2p's validation cache remembers a *rejected* message id for 5 min. Our ids hash the
    signed part only, so a forged copy (same content, bad signature) arriving first would
    block the genuine message: the cache is reduced to nothing.
12. GossipSub keys its message cache (replay to joining peers, IWANT) and its
    "equivocation" check on the unsigned (sender, seqno) pair, whatever the message id, and
    seqnos start from the clock in seconds: a node restarted soon after a burst re-uses
    them, and its new messages are dropped as equivocations or never cached. Seqnos start
    at random, and the equivocation check (which any neighbour could also abuse to suppress
    another's next message) is off: our ids are content hashes.
13. A message that claims to come from us but arrives from a neighbour is marked seen by
    libp2p before being dropped, so a neighbour could make us ignore a real message; the
    validator rejects it instead (before it is marked seen).
14. After a failed dial libp2p refuses to dial that peer again for 60 s; each redial lifts
    that block first.
15. libp2p's default security list includes plaintext and secio: only Noise (and yamux) are
    offered.
16. A peer that comes back (restarted) before its old connection is reaped gets a second
    connection; libp2p's pubsub keeps using its stream on the old one and never sends the
    peer our subscriptions, so our messages wait forever for that peer. The old connection
    is closed at once (a :class:`PeerDown` "reconnected", then a :class:`PeerUp`), and pubsub
    is made to open a fresh stream.
17. libp2p dials a single TCP address per peer, the first in its peerstore, where Identify
    puts what the peer advertises (``/ip4/0.0.0.0/…`` when it listens on all interfaces,
    which dials this very machine). We dial each known address in turn, and advertise the
    interface addresses instead of 0.0.0.0.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import secrets
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypedDict

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost, INetConn, INetStream, INetwork, INotifee
from libp2p.crypto.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as new_noise_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.peer.peerstore import env_to_send_in_RPC
from libp2p.pubsub import floodsub
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.utils import safe_bytes_from_hex
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service import background_trio_service
from nacl.signing import SigningKey

from node.discovery import MdnsDiscovery, Sighting, expand_wildcard
from protocol.envelope import MAX_ENVELOPE_BYTES, Policy, accept
from protocol.errors import PeerError, UsageError
from protocol.ratelimit import RateLimiter

__all__ = [
    "DEFAULT_GOSSIP",
    "DEFAULT_LISTEN",
    "GOSSIP_MODES",
    "PeerDown",
    "PeerEvent",
    "PeerState",
    "PeerUp",
    "StreamFailed",
    "StreamTimeout",
    "SyncHandler",
    "SyncStream",
    "WifiStatistics",
    "WifiTransport",
    "envelope_validator",
    "household_key_of",
    "message_id",
    "peer_id_of",
    "short_peer",
    "zone_topic",
]

log = logging.getLogger(__name__)

DEFAULT_LISTEN = ("/ip4/0.0.0.0/tcp/0",)
PING_PROTOCOL = TProtocol("/ipfs/ping/1.0.0")
PING_BYTES = 32
SIGNATURE_BYTES = 64  # the envelope's trailing signature (protocol/envelope.py)

# GossipSub for a neighbourhood: up to ~10 direct neighbours in the mesh, 6 wanted; the
# others hear of messages through gossip (IHAVE) every heartbeat.
MESH_DEGREE = 6
MESH_DEGREE_LOW = 4
MESH_DEGREE_HIGH = 10
HEARTBEAT_SECONDS = 1
GOSSIP_WINDOW = 3  # heartbeats of message ids advertised in IHAVE
GOSSIP_HISTORY = 5  # heartbeats of messages kept for IWANT and replay to a joining peer

#: ``mesh``: GossipSub pushes every new message to every mesh peer; ``announce``: lazy push.
GOSSIP_MODES = ("mesh", "announce")
DEFAULT_GOSSIP = "announce"  # node/sim/gossip.py's DEFAULT_PRESET models it
#: Announce mode: mesh peers a new message is pushed to; the others get an IHAVE at once.
ANNOUNCE_EAGER = 0
#: Announce mode: an IWANT unanswered this long, the next announcer is asked.
IWANT_TIMEOUT_SECONDS = 0.15
#: Announce mode: IWANTs per message (each announcer in turn, then the last one again).
IWANT_TRIES = 10
#: Announce mode: heartbeats a message stays in the cache that answers IWANT (30 s: far
#: longer than IWANT_TRIES * IWANT_TIMEOUT_SECONDS, even behind a queue of a burst).
ANNOUNCE_HISTORY = 30
#: Announce mode: messages waited for at once (a peer announcing made-up ids cannot grow
#: this without bound); beyond it new announcements wait for the heartbeat's IHAVE.
WANTED_MAX = 8192
#: ...and at most this many first announced by one peer (a peer announcing made-up ids, or
#: never answering, holds up no more).
WANTED_PER_PEER = 512
#: Announce mode: IHAVE and IWANT accepted per second from one peer (py-libp2p: 10 each,
#: which one announcement per message would exceed in any burst).
ANNOUNCE_CONTROL_RATE = 2000.0
#: Announce mode: messages sent in one RPC in answer to IWANTs (py-libp2p sends each
#: IWANT's answer as one RPC, and a 32-RPC send queue overflows in a burst).
ANSWER_BATCH = 64
#: Announce mode: answers wait at most this long for room in a send queue, then go anyway.
ANSWER_WAIT_SECONDS = 5.0
#: Announce mode: messages asked of one peer and not yet received; more wait their turn
#: (their timeout starts when they are asked), so a burst is fetched as fast as it comes
#: instead of timing out behind itself.
IWANT_WINDOW = 16
#: Announce mode: the longest an IWANT waits for its answer (the timeout grows past
#: IWANT_TIMEOUT_SECONDS with the round trips measured to each peer, as TCP's does).
IWANT_TIMEOUT_MAX = 5.0

#: libp2p drops what does not fit in a neighbour's 32-RPC send queue: publish waits below this.
SEND_QUEUE_HIGH_WATER = 16
QUEUE_POLL_SECONDS = 0.002
RECEIVED_BUFFER = 4096
PEER_EVENT_BUFFER = 1024
CONNECTION_EVENT_BUFFER = 4096
#: Which neighbour handed over each validated message, until it is delivered.
FORWARDERS_REMEMBERED = 4096
DIAL_TIMEOUT = 5.0
CLOSE_TIMEOUT = 5.0
REDIAL_INITIAL_DELAY = 0.5
#: Addresses remembered per known peer (the latest first).
KNOWN_ADDRS_PER_PEER = 4
#: Peers seen by mDNS are forgotten after this many failed dials in a row (until seen again).
MDNS_DIAL_ATTEMPTS = 8
#: When two nodes see each other by mDNS, the lower peer id dials; the other waits this long.
MDNS_DIAL_DEFERENCE = 2.0
#: Rejections logged at INFO per reason before only every 100th is.
REJECTIONS_LOGGED = 20


# ---------------------------------------------------------------------------------- helpers


def zone_topic(zone_id: bytes) -> str:
    """The gossip topic of an aid zone."""
    return f"entraide/zone/{zone_id.hex()}/1"


def message_id(raw: bytes) -> bytes:
    """The gossip message id: the envelope id (SHA-256 of the signed part), computed without
    decoding so that any bytes a neighbour sends get an id."""
    if len(raw) > SIGNATURE_BYTES:
        return hashlib.sha256(raw[:-SIGNATURE_BYTES]).digest()
    return hashlib.sha256(b"not an envelope\x00" + raw).digest()


def _key_pair(seed: bytes) -> KeyPair:
    if type(seed) is not bytes or len(seed) != 32:
        raise UsageError("a household seed is 32 bytes")
    private = Ed25519PrivateKey(SigningKey(seed))
    return KeyPair(private, private.get_public_key())


def peer_id_of(seed: bytes) -> str:
    """The libp2p peer id of the household whose Ed25519 seed this is."""
    return str(ID.from_pubkey(_key_pair(seed).public_key))


def household_key_of(peer: str) -> bytes | None:
    """The household's Ed25519 public key inside a peer id (None if it holds another kind)."""
    try:
        key = ID.from_base58(peer).extract_public_key()
    except Exception:  # libp2p raises several kinds for a malformed id
        return None
    return key.to_bytes() if isinstance(key, Ed25519PublicKey) else None


def short_peer(peer: str) -> str:
    """A peer id as logs show it: ``12D3…x7Yq2b``."""
    return f"{peer[:4]}…{peer[-6:]}" if len(peer) > 12 else peer


def envelope_validator(
    policy: Policy,
    limiter: RateLimiter,
    *,
    now: Callable[[], float],
    monotonic: Callable[[], float],
) -> Callable[[bytes, str], bool]:
    """The usual ``validate``: signature and the zone's acceptance rules
    (:func:`protocol.accept`), then the author's rate limit, in that order so that forged
    messages never spend an author's tokens. Raises the :class:`PeerError` that says why."""

    def validate(raw: bytes, from_peer: str) -> bool:
        env = accept(raw, now=int(now()), policy=policy)
        limiter.check(env.author, monotonic())
        return True

    return validate


# ----------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class PeerUp:
    peer: str
    address: str  # "ip:port" of the connection
    via: str  # "bootstrap", "mdns", "manual", "redial" or "inbound"
    up: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class PeerDown:
    peer: str
    address: str
    reason: str  # "connection closed", "no answer to ping for 3 s", "shutdown"
    up: ClassVar[bool] = False


PeerEvent = PeerUp | PeerDown


@dataclass(frozen=True, slots=True)
class PeerState:
    peer: str
    address: str
    via: str
    connected_since: float  # trio.current_time()
    rtt: float | None  # last ping round trip, seconds


class GossipStatistics(TypedDict):
    """The ``gossip`` part of :class:`WifiStatistics`: what the router did."""

    mode: str  # "mesh" or "announce"
    copies: int  # payloads neighbours handed over, first copies and duplicates
    duplicates: int  # ...of messages already seen (dropped before validation)
    ihave_sent: int  # IHAVE control messages (announce mode: one per peer per batch)
    ihave_received: int
    iwant_sent: int  # IWANT control messages, retries included
    iwant_retries: int  # messages asked again, after a timeout or of a faster announcer
    iwant_given_up: int  # messages no announcer delivered within IWANT_TRIES asks
    iwant_received: int


class WifiStatistics(TypedDict):
    """What :meth:`WifiTransport.statistics` returns (JSON-ready)."""

    published: int  # our messages handed to the mesh
    publish_duplicates: int  # publish() of a message already known
    publish_waits: int  # publishes that waited for a send queue to drain
    publish_stalled: int  # ...and gave up waiting on a neighbour that was not reading
    received: int  # validated messages from others put in ``received``
    delivery_overflow: int  # ...that did not fit (``received`` not read fast enough)
    rejected: dict[str, int]  # reason -> count
    peers: int
    dials: int
    dial_failures: int
    watchdog_closes: int  # connections closed because a peer stopped answering pings
    gossip: GossipStatistics


# ---------------------------------------------------------------------------------- streams


class StreamFailed(PeerError):
    """A custom stream broke: reset by the peer, connection lost, protocol refused."""

    code = "stream-failed"


class StreamTimeout(StreamFailed):
    """The peer sent nothing (or read nothing) for longer than the stream's timeout."""

    code = "stream-timeout"


class SyncStream:
    """A byte stream to one peer on a custom protocol, with a timeout on each read and write.

    Framing is the caller's: ``receive_some`` may return any part of what was sent.
    """

    def __init__(self, stream: INetStream, peer: str, timeout: float) -> None:
        self._stream = stream
        self.peer = peer
        self.timeout = timeout
        self._closed = False

    @property
    def protocol(self) -> str:
        return str(self._stream.get_protocol())

    async def send_all(self, data: bytes) -> None:
        """Send all of ``data`` (nothing at all for ``b""``: the end is marked by
        :meth:`send_eof`, never by an empty write)."""
        if not data:
            return
        try:
            with trio.fail_after(self.timeout):
                await self._stream.write(bytes(data))
        except trio.TooSlowError:
            await self._reset()
            raise StreamTimeout(
                f"stream to {short_peer(self.peer)}: not read for {self.timeout:g} s"
            ) from None
        except Exception as exc:  # libp2p's stream, muxer and connection errors
            raise StreamFailed(f"stream to {short_peer(self.peer)}: {_why(exc)}") from exc

    async def receive_some(self, max_bytes: int = 65536) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` once the peer has ended its side."""
        if max_bytes < 1:
            raise UsageError("receive_some needs max_bytes >= 1")
        try:
            with trio.fail_after(self.timeout):
                return await self._stream.read(max_bytes)
        except StreamEOF:
            return b""
        except trio.TooSlowError:
            await self._reset()
            raise StreamTimeout(
                f"stream from {short_peer(self.peer)}: nothing for {self.timeout:g} s"
            ) from None
        except Exception as exc:
            raise StreamFailed(f"stream from {short_peer(self.peer)}: {_why(exc)}") from exc

    async def send_eof(self) -> None:
        """End our side: the peer's ``receive_some`` returns ``b""``; we can still read."""
        try:
            with trio.fail_after(self.timeout):
                await self._stream.close_write()  # type: ignore[attr-defined]
        except Exception as exc:
            raise StreamFailed(f"stream to {short_peer(self.peer)}: {_why(exc)}") from exc

    async def aclose(self) -> None:
        """Close both sides (idempotent, never raises, bounded even when cancelled)."""
        if self._closed:
            return
        self._closed = True
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT) as scope:
            try:
                await self._stream.close()
            except Exception:
                await self._reset()
        if scope.cancelled_caught:
            await self._reset()

    async def _reset(self) -> None:
        self._closed = True
        # Shielded and bounded; a reset on a connection already gone may raise.
        with (
            trio.CancelScope(shield=True),
            trio.move_on_after(CLOSE_TIMEOUT),
            contextlib.suppress(Exception),
        ):
            await self._stream.reset()

    async def __aenter__(self) -> SyncStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


SyncHandler = Callable[[SyncStream, str], Awaitable[None]]


def _why(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------- libp2p, adjusted a bit


class _ZonePubsub(Pubsub):
    """Pubsub handing each validated message straight to the transport (pitfall 7), and
    counting the payloads neighbours hand over."""

    deliver: Callable[[rpc_pb2.Message], None]
    copies = 0
    duplicates = 0

    def notify_subscriptions(self, publish_message: rpc_pb2.Message) -> None:
        self.deliver(publish_message)

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        if msg_forwarder != self.my_id:
            self.copies += 1
            if self._is_msg_seen(msg):
                self.duplicates += 1
        await super().push_msg(msg_forwarder, msg)


class _ContentCache(MessageCache):
    """GossipSub's message cache keyed by our message ids instead of the (sender, seqno)
    pair (announce mode; finding 12): IHAVE then advertises ids every node's seen-cache
    knows, and IWANT asks by them."""

    def __init__(
        self, window: int, history: int, msg_id: Callable[[rpc_pb2.Message], bytes]
    ) -> None:
        super().__init__(window, history)
        self._msg_id = msg_id

    def put(self, msg: rpc_pb2.Message) -> None:
        mid = self._msg_id(msg)
        if mid not in self.msgs:
            self.msgs[mid] = msg
            self.history[0].append(CacheEntry(mid, msg.topicIDs))


@dataclass
class _Wanted:
    """Announce mode: a message announced to us and asked for."""

    announcers: list[ID]  # in the order their IHAVEs came
    asked: list[ID] = field(default_factory=list)  # each IWANT's peer, in order
    peer: ID | None = None  # asked now (or waiting for room in its window)
    deadline: float = 0.0  # when to ask the next announcer (0: not asked yet)
    asked_at: float = 0.0


class _ZoneRouter(GossipSub):
    """GossipSub without its (sender, seqno) equivocation check (finding 12), and with the
    announce mode (lazy push) of the module docstring."""

    def __init__(
        self,
        *,
        announce: bool,
        msg_id: Callable[[rpc_pb2.Message], bytes],
        eager: int = ANNOUNCE_EAGER,
        iwant_timeout: float = IWANT_TIMEOUT_SECONDS,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.announce = announce
        self.eager = eager
        self.iwant_timeout = iwant_timeout
        self._msg_id = msg_id
        self.counts: Counter[str] = Counter()
        self._wanted: dict[bytes, _Wanted] = {}
        self._announce_to: dict[bytes, list[ID]] = {}
        self._ihave_batches: dict[tuple[ID, str], list[bytes]] = {}
        self._answers: dict[ID, dict[bytes, rpc_pb2.Message]] = {}
        self._to_ask: dict[ID, deque[bytes]] = {}
        self._inflight: dict[ID, set[bytes]] = {}
        self._rtt: dict[ID, tuple[float, float]] = {}  # smoothed round trip, deviation
        self._rto: dict[ID, float] = {}  # IWANT timeout per peer
        if announce:
            self.mcache = _ContentCache(options["gossip_window"], ANNOUNCE_HISTORY, msg_id)
            self.max_ihave_messages_per_second = ANNOUNCE_CONTROL_RATE
            self.max_iwant_requests_per_second = ANNOUNCE_CONTROL_RATE

    def _check_equivocation(self, msg: rpc_pb2.Message) -> bool:
        return True

    def _perform_opportunistic_grafting(self, topic: str, peers_to_graft: Any) -> int:
        if self.announce:
            return 0
        return super()._perform_opportunistic_grafting(topic, peers_to_graft)

    # -- pushing and announcing ----------------------------------------------------------

    async def publish(self, msg_forwarder: ID, pubsub_msg: rpc_pb2.Message) -> None:
        """A new validated message (ours or a neighbour's): push it on; in announce mode,
        to ``eager`` mesh peers, and announce it to the other ones."""
        if not self.announce:
            await super().publish(msg_forwarder, pubsub_msg)
            return
        mid = self._msg_id(pubsub_msg)
        for key in (mid, pubsub_msg.from_id + pubsub_msg.seqno):  # a mesh node's IHAVE id
            wanted = self._wanted.pop(key, None)
            if wanted is not None and wanted.peer is not None:
                self._inflight.get(wanted.peer, set()).discard(key)
                if wanted.peer == msg_forwarder and len(wanted.asked) == 1:
                    self._measured(msg_forwarder, trio.current_time() - wanted.asked_at)
                await self._ask_more(wanted.peer)
        try:
            await super().publish(msg_forwarder, pubsub_msg)
        finally:
            lazy = self._announce_to.pop(mid, [])
        pubsub = self.pubsub
        for peer in lazy:
            if pubsub is not None and peer in pubsub.peers:
                for topic in pubsub_msg.topicIDs:
                    self._announce(peer, topic, mid)

    def _get_peers_to_send(
        self,
        topic_ids: Iterable[str],
        msg_forwarder: ID,
        origin: ID,
        msg_id: bytes | None = None,
    ) -> Iterable[ID]:
        topic_ids = list(topic_ids)
        peers = list(super()._get_peers_to_send(topic_ids, msg_forwarder, origin, msg_id))
        if not self.announce or msg_id is None:
            yield from peers
            return
        mesh: set[ID] = set()
        for topic in topic_ids:
            mesh |= self.mesh.get(topic, set())
        lazy = [
            p
            for p in peers
            if p in mesh
            and p not in self.direct_peers
            and self.peer_protocol.get(p) != floodsub.PROTOCOL_ID
        ]
        random.shuffle(lazy)
        lazy = lazy[self.eager :]
        self._announce_to[msg_id] = lazy
        yield from (p for p in peers if p not in lazy)

    def _announce(self, peer: ID, topic: str, mid: bytes) -> None:
        """Queue an IHAVE; the ids of the messages handled at the same moment go in one."""
        key = (peer, topic)
        batch = self._ihave_batches.get(key)
        if batch is not None:
            batch.append(mid)
            return
        self._ihave_batches[key] = [mid]
        self.manager.run_task(self._flush_ihave, key)

    async def _flush_ihave(self, key: tuple[ID, str]) -> None:
        await trio.lowlevel.checkpoint()  # let the messages being handled now join in
        ids = self._ihave_batches.pop(key, [])
        peer, topic = key
        if ids and self.pubsub is not None and peer in self.pubsub.peers:
            await self.emit_ihave(topic, ids, peer)

    async def emit_ihave(self, topic: str, msg_ids: Sequence[bytes], to_peer: ID) -> None:
        self.counts["ihave_sent"] += 1
        await super().emit_ihave(topic, msg_ids, to_peer)

    async def _emit_control_msgs(
        self,
        peers_to_graft: dict[ID, list[str]],
        peers_to_prune: dict[ID, list[str]],
        peers_to_gossip: dict[ID, dict[str, list[bytes]]],
    ) -> None:
        self.counts["ihave_sent"] += sum(len(topics) for topics in peers_to_gossip.values())
        await super()._emit_control_msgs(peers_to_graft, peers_to_prune, peers_to_gossip)

    async def emit_iwant(self, msg_ids: Sequence[bytes], to_peer: ID) -> None:
        self.counts["iwant_sent"] += 1
        await super().emit_iwant(msg_ids, to_peer)

    # -- fetching ------------------------------------------------------------------------

    async def handle_ihave(self, ihave_msg: rpc_pb2.ControlIHave, sender_peer_id: ID) -> None:
        """Announce mode: ask the first announcer of each unseen id; later announcers are
        remembered in order, for the retries."""
        self.counts["ihave_received"] += 1
        pubsub = self.pubsub
        if not self.announce or pubsub is None:
            await super().handle_ihave(ihave_msg, sender_peer_id)
            return
        if not self._check_ihave_rate_limit(sender_peer_id, ihave_msg.topicID):
            log.warning("wifi: too many IHAVE from %s; ignored", short_peer(str(sender_peer_id)))
            return
        if ihave_msg.topicID not in pubsub.topic_ids:
            return
        now = trio.current_time()
        moved_from: set[ID] = set()
        for wire_id in ihave_msg.messageIDs:
            mid = safe_bytes_from_hex(wire_id)
            if mid is None or pubsub.seen_messages.has(mid):
                continue
            wanted = self._wanted.get(mid)
            if wanted is not None:
                if sender_peer_id not in wanted.announcers:
                    wanted.announcers.append(sender_peer_id)
                    timeout = self._timeout(sender_peer_id)
                    if wanted.peer is not None and (
                        wanted.deadline > now + timeout
                        if wanted.deadline
                        else self._has_room(sender_peer_id)
                        or timeout < self._timeout(wanted.peer)
                    ):
                        # Waiting its turn with a busy peer, or asked of one that has
                        # stopped answering (its timeout grew): this one is asked now.
                        if wanted.deadline:  # asked again, of another peer
                            self._inflight.get(wanted.peer, set()).discard(mid)
                            moved_from.add(wanted.peer)
                            self.counts["iwant_retries"] += 1
                        wanted.peer, wanted.deadline = sender_peer_id, 0.0
                        self._to_ask.setdefault(sender_peer_id, deque()).append(mid)
                continue
            first = len(self._to_ask.get(sender_peer_id, ()))
            first += len(self._inflight.get(sender_peer_id, ()))
            if len(self._wanted) >= WANTED_MAX or first >= WANTED_PER_PEER:
                self.counts["wanted_overflow"] += 1
                continue
            self._wanted[mid] = _Wanted([sender_peer_id], peer=sender_peer_id)
            self._to_ask.setdefault(sender_peer_id, deque()).append(mid)
        await self._ask_more(sender_peer_id)
        for peer in moved_from:
            await self._ask_more(peer)

    def _has_room(self, peer: ID) -> bool:
        return len(self._inflight.get(peer, ())) + len(self._to_ask.get(peer, ())) < IWANT_WINDOW

    async def _ask_more(self, peer: ID) -> None:
        """Ask ``peer`` (one IWANT) for what waits its turn, as far as its window allows."""
        waiting = self._to_ask.get(peer)
        inflight = self._inflight.setdefault(peer, set())
        ask: list[bytes] = []
        now = trio.current_time()
        moved: set[ID] = set()
        while waiting and len(inflight) < IWANT_WINDOW:
            mid = waiting.popleft()
            wanted = self._wanted.get(mid)
            if wanted is None or wanted.peer != peer or mid in inflight:
                continue  # arrived meanwhile, or moved on to another announcer
            better = self._better_announcer(wanted, peer)
            if better is not None:  # this peer's answers have been late: ask that one
                wanted.peer = better
                self._to_ask.setdefault(better, deque()).append(mid)
                moved.add(better)
                continue
            wanted.asked.append(peer)
            wanted.asked_at = now
            wanted.deadline = now + self._timeout(peer)
            inflight.add(mid)
            self.manager.run_task(self._iwant_timer, mid, wanted.deadline)
            ask.append(mid)
        if not waiting:
            self._to_ask.pop(peer, None)
        if ask:
            await self.emit_iwant(ask, peer)
        for other in moved:
            await self._ask_more(other)

    def _better_announcer(self, wanted: _Wanted, peer: ID) -> ID | None:
        """Another announcer not asked yet whose timeout is shorter than ``peer``'s."""
        timeout = self._timeout(peer)
        if timeout <= self.iwant_timeout or self.pubsub is None:
            return None
        others = [
            p
            for p in wanted.announcers
            if p != peer and p not in wanted.asked and p in self.pubsub.peers
        ]
        best = min(others, key=self._timeout, default=None)
        return best if best is not None and self._timeout(best) < timeout else None

    def _measured(self, peer: ID, rtt: float) -> None:
        """A round trip IWANT -> message (first asks only: Karn's rule)."""
        srtt, dev = self._rtt.get(peer, (rtt, rtt / 2))
        dev = 0.75 * dev + 0.25 * abs(srtt - rtt)
        srtt = 0.875 * srtt + 0.125 * rtt
        self._rtt[peer] = (srtt, dev)
        self._rto[peer] = min(max(self.iwant_timeout, srtt + 4 * dev), IWANT_TIMEOUT_MAX)

    def _timeout(self, peer: ID) -> float:
        return self._rto.get(peer, self.iwant_timeout)

    def _timed_out(self, peer: ID) -> None:
        """No answer in time: wait twice as long for this peer until a round trip is
        measured again (TCP's backoff)."""
        self._rto[peer] = min(2 * self._timeout(peer), IWANT_TIMEOUT_MAX)

    async def _iwant_timer(self, mid: bytes, deadline: float) -> None:
        await trio.sleep_until(deadline)
        wanted = self._wanted.get(mid)
        if wanted is None or wanted.deadline != deadline or wanted.peer is None:
            return  # arrived meanwhile
        late = wanted.peer
        self._inflight.get(late, set()).discard(mid)
        self._timed_out(late)
        await self._next_announcer(mid, wanted)
        await self._ask_more(late)

    async def _next_announcer(self, mid: bytes, wanted: _Wanted) -> None:
        """Ask the next announcer not asked yet (else the last one again), first in its
        line; give up after IWANT_TRIES."""
        pubsub = self.pubsub
        if pubsub is None or pubsub.seen_messages.has(mid):
            self._wanted.pop(mid, None)
            return
        live = [p for p in wanted.announcers if p in pubsub.peers]
        fresh = [p for p in live if p not in wanted.asked]
        peer = fresh[0] if fresh else (live[-1] if live else None)
        if peer is None or len(wanted.asked) >= IWANT_TRIES:
            del self._wanted[mid]
            self.counts["iwant_given_up"] += 1
            return
        self.counts["iwant_retries"] += 1
        wanted.peer, wanted.deadline = peer, 0.0
        self._to_ask.setdefault(peer, deque()).appendleft(mid)
        await self._ask_more(peer)

    async def handle_iwant(self, iwant_msg: rpc_pb2.ControlIWant, sender_peer_id: ID) -> None:
        self.counts["iwant_received"] += 1
        if not self.announce:
            await super().handle_iwant(iwant_msg, sender_peer_id)
            return
        if not self._check_iwant_rate_limit(sender_peer_id):
            log.warning("wifi: too many IWANT from %s; ignored", short_peer(str(sender_peer_id)))
            return
        pending = self._answers.get(sender_peer_id)
        start = pending is None
        if pending is None:
            pending = self._answers[sender_peer_id] = {}
        for wire_id in iwant_msg.messageIDs:
            mid = safe_bytes_from_hex(wire_id)
            msg = None if mid is None else self.mcache.get(mid)
            if mid is not None and msg is not None:
                pending.setdefault(mid, msg)
        if start:
            self.manager.run_task(self._send_answers, sender_peer_id)

    async def _send_answers(self, peer: ID) -> None:
        """Send what ``peer`` asked for, in batches, as its send queue makes room."""
        deadline = trio.current_time() + ANSWER_WAIT_SECONDS
        while True:
            pending = self._answers.get(peer)
            pubsub = self.pubsub
            queue = None if pubsub is None else pubsub.peer_queues.get(peer)
            if not pending or queue is None or pubsub is None:
                self._answers.pop(peer, None)
                return
            if len(queue) >= SEND_QUEUE_HIGH_WATER and trio.current_time() < deadline:
                await trio.sleep(QUEUE_POLL_SECONDS)
                continue
            batch = [pending.pop(mid) for mid in list(pending)[:ANSWER_BATCH]]
            packet = rpc_pb2.RPC(publish=batch)
            packet.senderRecord = env_to_send_in_RPC(pubsub.host)[0]
            self.send_rpc(peer, packet)
            self.counts["answered"] += len(batch)
            deadline = trio.current_time() + ANSWER_WAIT_SECONDS
            await trio.lowlevel.checkpoint()  # requests arriving meanwhile join the next batch

    def answers_waiting(self) -> bool:
        return any(self._answers.values())

    def remove_peer(self, peer_id: ID) -> None:
        super().remove_peer(peer_id)
        for key in [k for k in self._ihave_batches if k[0] == peer_id]:
            del self._ihave_batches[key]
        self._answers.pop(peer_id, None)
        self._inflight.pop(peer_id, None)  # their timers move them on
        self._rtt.pop(peer_id, None)
        self._rto.pop(peer_id, None)
        for mid in self._to_ask.pop(peer_id, ()):
            wanted = self._wanted.get(mid)
            if wanted is not None and wanted.peer == peer_id:
                wanted.deadline = trio.current_time()
                self.manager.run_task(self._iwant_timer, mid, wanted.deadline)


class _ConnectionWatcher(INotifee):
    """Forwards libp2p's connection notifications to the transport's own task."""

    def __init__(self, events: trio.MemorySendChannel[tuple[bool, INetConn]]) -> None:
        self._events = events

    def _send(self, up: bool, conn: INetConn) -> None:
        try:
            self._events.send_nowait((up, conn))
        except trio.WouldBlock:
            log.error("wifi: connection events overflowed; peer list may be stale")
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # shutting down

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self._send(True, conn)

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self._send(False, conn)

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def listen(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        await trio.lowlevel.checkpoint()

    async def listen_close(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        await trio.lowlevel.checkpoint()


@dataclass
class _Peer:
    """A connected peer."""

    peer: str
    address: str
    via: str
    since: float
    conns: list[INetConn]
    watchdog: trio.CancelScope = field(default_factory=trio.CancelScope)
    rtt: float | None = None
    down_reason: str | None = None


@dataclass
class _Known:
    """A peer we keep connected: a bootstrap or manual peer, or one seen by mDNS."""

    peer: str
    addrs: list[str]
    via: str
    max_failures: int | None  # None: keep trying while the transport runs
    maintained: bool = False


def _conn_peer(conn: INetConn) -> str:
    return str(conn.muxed_conn.peer_id)


def _conn_address(conn: INetConn) -> str:
    try:
        remote = conn.muxed_conn.get_remote_address()  # type: ignore[attr-defined]
    except Exception:
        remote = None
    return f"{remote[0]}:{remote[1]}" if remote else "?"


def _conn_outbound(conn: INetConn) -> bool:
    direction = getattr(conn, "direction", None)
    return str(getattr(direction, "name", direction)).lower() == "outbound"


def _conn_closed(conn: INetConn) -> bool:
    return bool(getattr(conn, "is_closed", False))


class _Advertised:
    """libp2p's ``addrs_factory``: our listen addresses with 0.0.0.0 expanded. libp2p asks for
    them on every RPC it sends (to sign a peer record), so the answer is cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ...], list[multiaddr.Multiaddr]] = {}

    def __call__(self, candidates: list[multiaddr.Multiaddr]) -> list[multiaddr.Multiaddr]:
        key = tuple(str(c) for c in candidates)
        found = self._cache.get(key)
        if found is None:
            found = [multiaddr.Multiaddr(a) for a in expand_wildcard(key)]
            self._cache = {key: found}  # addresses change rarely: keep the last answer only
        return list(found)


def _parse_peer_addr(addr: str) -> tuple[str, str]:
    """(peer id, multiaddr without /p2p/) of a ``…/p2p/<peer id>`` multiaddr."""
    try:
        info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    except Exception as exc:
        raise UsageError(
            f"peer address {addr!r} is not a multiaddr ending in /p2p/<peer id>: {_why(exc)}"
        ) from None
    return str(info.peer_id), str(info.addrs[0])


# -------------------------------------------------------------------------------- transport


class WifiTransport:
    """The Wi-Fi/LAN transport of one household node (see the module docstring)."""

    def __init__(
        self,
        seed: bytes,
        zone_id: bytes,
        *,
        validate: Callable[[bytes, str], bool],
        listen: Sequence[str] = DEFAULT_LISTEN,
        bootstrap: Iterable[str] = (),
        mdns: bool = True,
        gossip: str = DEFAULT_GOSSIP,
        ping_interval: float = 1.0,
        ping_timeout: float = 3.0,
        stream_timeout: float = 10.0,
        redial_max_delay: float = 30.0,
        received_buffer: int = RECEIVED_BUFFER,
    ) -> None:
        if type(zone_id) is not bytes or len(zone_id) != 4:
            raise UsageError("a zone id is 4 bytes")
        if gossip not in GOSSIP_MODES:
            raise UsageError(f"gossip mode {gossip!r}: one of {', '.join(GOSSIP_MODES)}")
        self.gossip = gossip
        self._key_pair = _key_pair(seed)
        self._self_id = ID.from_pubkey(self._key_pair.public_key)
        self._self_id_bytes = self._self_id.to_bytes()
        self.peer_id = str(self._self_id)
        self.zone_id = zone_id
        self.topic = zone_topic(zone_id)
        self._validate = validate
        self._listen = [multiaddr.Multiaddr(a) for a in listen]
        self._mdns = mdns
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.stream_timeout = stream_timeout
        self.redial_max_delay = redial_max_delay
        self.listen_addrs: list[str] = []

        self._known: dict[str, _Known] = {}
        for addr in bootstrap:
            self._remember(addr, via="bootstrap")

        self._received_in, self.received = trio.open_memory_channel[tuple[bytes, str]](
            received_buffer
        )
        self._events_in, self.peer_events = trio.open_memory_channel[PeerEvent](PEER_EVENT_BUFFER)
        self._conn_events_in, self._conn_events = trio.open_memory_channel[tuple[bool, INetConn]](
            CONNECTION_EVENT_BUFFER
        )

        self._handlers: dict[str, SyncHandler] = {}
        self._handler_scopes: set[trio.CancelScope] = set()
        self._host: IHost | None = None
        self._pubsub: _ZonePubsub | None = None
        self._router: _ZoneRouter | None = None
        self._nursery: trio.Nursery | None = None
        self._served = False
        self._peers: dict[str, _Peer] = {}
        self._changed: dict[str, trio.Event] = {}
        self._dial_via: dict[str, str] = {}
        self._forwarders: OrderedDict[bytes, str] = OrderedDict()
        self._publish_lock = trio.Lock()

        self._published = 0
        self._publish_duplicates = 0
        self._publish_waits = 0
        self._publish_stalled = 0
        self._received = 0
        self._delivery_overflow = 0
        self._rejected: Counter[str] = Counter()
        self._dials = 0
        self._dial_failures = 0
        self._watchdog_closes = 0

    # -- the interface -------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Run the transport until cancelled (once per instance)."""
        if self._served:
            raise UsageError("a WifiTransport runs once; make a new one")
        self._served = True
        host, pubsub, router = self._build()
        try:
            # Pitfall 4: pubsub and its router run before the host accepts connections.
            async with background_trio_service(pubsub), background_trio_service(router):
                await pubsub.wait_until_ready()
                pubsub.set_topic_validator(self.topic, self._validator, False)
                await pubsub.subscribe(self.topic)
                async with host.run(self._listen), trio.open_nursery() as nursery:
                    self._nursery = nursery
                    transport_addrs = [str(a) for a in host.get_transport_addrs()]
                    self.listen_addrs = [
                        f"{a}/p2p/{self.peer_id}" for a in expand_wildcard(transport_addrs)
                    ]
                    nursery.start_soon(self._follow_connections)
                    for known in list(self._known.values()):
                        self._maintain(known)
                    if self._mdns:
                        nursery.start_soon(self._run_mdns, transport_addrs)
                    log.info(
                        "wifi: peer %s listening on %s, topic %s",
                        short_peer(self.peer_id),
                        ", ".join(self.listen_addrs),
                        self.topic,
                    )
                    task_status.started(list(self.listen_addrs))
                    await trio.sleep_forever()
        finally:
            self._nursery = None
            for scope in list(self._handler_scopes):
                scope.cancel()
            # Pitfall 5: leaving host.run() leaves outgoing connections open.
            with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT):
                await host.close()
            for state in list(self._peers.values()):
                self._emit(PeerDown(state.peer, state.address, "shutdown"))
            self._peers.clear()
            self._host = self._pubsub = None
            self._received_in.close()
            self._events_in.close()
            log.info("wifi: stopped")

    async def publish(self, raw: bytes) -> bool:
        """Send one of our signed envelopes to the zone. Returns False if this node already
        has it (published or received before: nothing is sent again)."""
        pubsub = self._running_pubsub()
        if type(raw) is not bytes or not 0 < len(raw) <= MAX_ENVELOPE_BYTES:
            raise UsageError(f"publish takes a signed envelope of 1..{MAX_ENVELOPE_BYTES} bytes")
        async with self._publish_lock:
            if pubsub.seen_messages.has(message_id(raw)):
                self._publish_duplicates += 1
                return False
            await self._wait_for_send_queues(pubsub)
            await pubsub.publish(self.topic, raw)
        self._published += 1
        return True

    def peers(self) -> list[str]:
        """The peers connected now."""
        return list(self._peers)

    def peer_states(self) -> list[PeerState]:
        """The peers connected now, with how and since when."""
        return [PeerState(p.peer, p.address, p.via, p.since, p.rtt) for p in self._peers.values()]

    def statistics(self) -> WifiStatistics:
        return WifiStatistics(
            published=self._published,
            publish_duplicates=self._publish_duplicates,
            publish_waits=self._publish_waits,
            publish_stalled=self._publish_stalled,
            received=self._received,
            delivery_overflow=self._delivery_overflow,
            rejected=dict(self._rejected),
            peers=len(self._peers),
            dials=self._dials,
            dial_failures=self._dial_failures,
            watchdog_closes=self._watchdog_closes,
            gossip=self._gossip_statistics(),
        )

    def _gossip_statistics(self) -> GossipStatistics:
        router = self._router  # kept after serve() ends, with its pubsub: counts stay
        counts = Counter() if router is None else router.counts
        pubsub = None if router is None else router.pubsub
        return GossipStatistics(
            mode=self.gossip,
            copies=pubsub.copies if isinstance(pubsub, _ZonePubsub) else 0,
            duplicates=pubsub.duplicates if isinstance(pubsub, _ZonePubsub) else 0,
            ihave_sent=counts["ihave_sent"],
            ihave_received=counts["ihave_received"],
            iwant_sent=counts["iwant_sent"],
            iwant_retries=counts["iwant_retries"],
            iwant_given_up=counts["iwant_given_up"],
            iwant_received=counts["iwant_received"],
        )

    def add_peer(self, addr: str) -> str:
        """Keep a peer connected (``…/p2p/<peer id>``), like a bootstrap peer; its id."""
        known = self._remember(addr, via="manual")
        if known is not None and self._nursery is not None:
            self._maintain(known)
        return _parse_peer_addr(addr)[0]

    def register_protocol(self, protocol_id: str, handler: SyncHandler) -> None:
        """Serve ``protocol_id`` streams with ``handler(stream, peer)``. The stream is closed
        when the handler returns; a handler's exception is logged, never fatal."""
        self._handlers[protocol_id] = handler
        if self._host is not None:
            self._host.set_stream_handler(TProtocol(protocol_id), self._on_stream(handler))

    async def open_stream(self, peer: str, protocol_id: str) -> SyncStream:
        """Open a ``protocol_id`` stream to a peer (dialling it if needed)."""
        host = self._running_host()
        if household_key_of(peer) is None:
            raise UsageError(f"{peer!r} is not the peer id of a household")
        peer_id = ID.from_base58(peer)
        try:
            with trio.fail_after(self.stream_timeout):
                stream = await host.new_stream(peer_id, [TProtocol(protocol_id)])
        except trio.TooSlowError:
            raise StreamTimeout(
                f"opening {protocol_id} with {short_peer(peer)}: no answer in "
                f"{self.stream_timeout:g} s"
            ) from None
        except Exception as exc:
            raise StreamFailed(
                f"cannot open {protocol_id} with {short_peer(peer)}: {_why(exc)}"
            ) from exc
        return SyncStream(stream, peer, self.stream_timeout)

    def _on_stream(self, handler: SyncHandler) -> Callable[[INetStream], Awaitable[None]]:
        async def on_stream(net_stream: INetStream) -> None:
            peer = str(net_stream.muxed_conn.peer_id)
            stream = SyncStream(net_stream, peer, self.stream_timeout)
            # libp2p runs stream handlers in its own tasks: ours are cancelled on shutdown.
            scope = trio.CancelScope()
            self._handler_scopes.add(scope)
            try:
                with scope:
                    await handler(stream, peer)
            except StreamFailed as exc:
                log.info("wifi: %s stream from %s: %s", stream.protocol, short_peer(peer), exc)
            except Exception:
                log.exception(
                    "wifi: the %s handler failed on a stream from %s",
                    stream.protocol,
                    short_peer(peer),
                )
            finally:
                self._handler_scopes.discard(scope)
                await stream.aclose()

        return on_stream

    # -- building libp2p ------------------------------------------------------------------

    def _build(self) -> tuple[IHost, _ZonePubsub, _ZoneRouter]:
        host = new_host(
            key_pair=self._key_pair,
            sec_opt={
                NOISE_PROTOCOL_ID: NoiseTransport(
                    self._key_pair, noise_privkey=new_noise_key_pair().private_key
                )
            },
            muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},
            listen_addrs=self._listen,
            connection_config=ConnectionConfig(max_connections_per_peer=1),
            # Finding 17: advertise (Identify) real addresses, not 0.0.0.0.
            addrs_factory=_Advertised(),
        )
        router = _ZoneRouter(
            announce=self.gossip == "announce",
            msg_id=self._message_id,
            protocols=[PROTOCOL_ID_V11],  # pitfall 9
            degree=MESH_DEGREE,
            degree_low=MESH_DEGREE_LOW,
            degree_high=MESH_DEGREE_HIGH,
            gossip_window=GOSSIP_WINDOW,
            gossip_history=GOSSIP_HISTORY,
            heartbeat_interval=HEARTBEAT_SECONDS,  # pitfall 2
            adaptive_gossip_enabled=False,  # pitfall 2
            spam_protection_enabled=False,  # pitfall 1
            # Scoring is not configured (every peer scores 0), so IP diversity would only
            # churn a neighbourhood mesh.
            eclipse_protection_enabled=False,
        )
        pubsub = _ZonePubsub(
            host,
            router,
            strict_signing=False,  # our envelopes are signed; every node must agree
            msg_id_constructor=self._message_id,
            validation_cache_ttl=0,  # finding 11
            validation_cache_size=1,
        )
        pubsub.deliver = self._deliver
        # Finding 12: seqnos start from the clock in seconds, so a node restarted within as
        # many seconds as it sent messages re-uses them; GossipSub's message cache keys on
        # (sender, seqno) and keeps only the first message of a pair. Start at random.
        pubsub.counter = secrets.randbits(62)
        host.get_network().register_notifee(_ConnectionWatcher(self._conn_events_in))
        for protocol_id, handler in self._handlers.items():
            host.set_stream_handler(TProtocol(protocol_id), self._on_stream(handler))
        self._host, self._pubsub, self._router = host, pubsub, router
        return host, pubsub, router

    @staticmethod
    def _message_id(msg: rpc_pb2.Message) -> bytes:
        return message_id(msg.data)

    def _running_pubsub(self) -> _ZonePubsub:
        if self._pubsub is None or self._nursery is None:
            raise UsageError("the Wi-Fi transport is not running")
        return self._pubsub

    def _running_host(self) -> IHost:
        if self._host is None or self._nursery is None:
            raise UsageError("the Wi-Fi transport is not running")
        return self._host

    # -- messages -------------------------------------------------------------------------

    def _validator(self, forwarder: ID, msg: rpc_pb2.Message) -> bool:
        """libp2p's topic validator: before delivery and before forwarding."""
        if forwarder == self._self_id:
            return True  # our own publish
        peer = str(forwarder)
        raw = bytes(msg.data)
        reason, why = self._judge(raw, peer, msg)
        if reason is None:
            self._forwarders[message_id(raw)] = peer
            while len(self._forwarders) > FORWARDERS_REMEMBERED:
                self._forwarders.popitem(last=False)
            return True
        self._rejected[reason] += 1
        count = self._rejected[reason]
        if count <= REJECTIONS_LOGGED or count % 100 == 0:
            log.info(
                "rejected message %s… from %s: %s%s",
                message_id(raw)[:4].hex(),
                short_peer(peer),
                why,
                f" ({count} so far)" if count > REJECTIONS_LOGGED else "",
            )
        return False

    def _judge(self, raw: bytes, peer: str, msg: rpc_pb2.Message) -> tuple[str | None, str]:
        if msg.from_id == self._self_id_bytes:
            return "claims-our-origin", "claims to come from this node"  # finding 13
        if len(raw) > MAX_ENVELOPE_BYTES:
            return "oversize", f"{len(raw)} bytes (max {MAX_ENVELOPE_BYTES})"
        try:
            ok = self._validate(raw, peer)
        except PeerError as exc:
            return exc.code, str(exc)
        except Exception:
            log.exception("wifi: the validator failed on a message from %s", short_peer(peer))
            return "validator-error", "the validator failed (a bug; see the log)"
        return (None, "") if ok else ("rejected", "refused by the validator")

    def _deliver(self, msg: rpc_pb2.Message) -> None:
        """A validated message libp2p delivers (and forwards) now."""
        if self.topic not in msg.topicIDs or msg.from_id == self._self_id_bytes:
            return  # another topic, or our own publish coming back (pitfall 7)
        raw = bytes(msg.data)
        peer = self._forwarders.pop(message_id(raw), "")
        try:
            self._received_in.send_nowait((raw, peer))
        except trio.WouldBlock:
            self._delivery_overflow += 1
            log.error(
                "wifi: received queue full (%d): message %s… from %s dropped; the daemon "
                "is not keeping up (sync will bring it back)",
                self._delivery_overflow,
                message_id(raw)[:4].hex(),
                short_peer(peer),
            )
            return
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            return  # nobody listens any more
        self._received += 1

    async def _wait_for_send_queues(self, pubsub: _ZonePubsub) -> None:
        """Pitfall 3: wait while any neighbour's send queue is filling up. A neighbour that
        stops reading is closed by the watchdog within ``ping_timeout``; past that (plus a
        margin) we publish anyway and say so."""
        deadline = trio.current_time() + 2 * self.ping_timeout + 1.0
        waited = False
        router = self._router
        while True:
            busy = [p for p, q in pubsub.peer_queues.items() if len(q) >= SEND_QUEUE_HIGH_WATER]
            if router is not None and router.answers_waiting():
                busy.extend(p for p, answers in router._answers.items() if answers)
            if not busy:
                break
            if trio.current_time() >= deadline:
                self._publish_stalled += 1
                log.warning(
                    "wifi: %s not reading; publishing anyway (it will miss this message "
                    "until sync)",
                    ", ".join(short_peer(str(p)) for p in busy),
                )
                break
            waited = True
            await trio.sleep(QUEUE_POLL_SECONDS)
        if waited:
            self._publish_waits += 1

    # -- peers ----------------------------------------------------------------------------

    def _emit(self, event: PeerEvent) -> None:
        try:
            self._events_in.send_nowait(event)
        except trio.WouldBlock:
            log.error("wifi: peer events not read; %r dropped", event)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def _changed_now(self, peer: str) -> None:
        event = self._changed.pop(peer, None)
        if event is not None:
            event.set()

    async def _wait_change(self, peer: str) -> None:
        await self._changed.setdefault(peer, trio.Event()).wait()

    async def _follow_connections(self) -> None:
        async for up, conn in self._conn_events:
            if up:
                self._connected(conn)
            else:
                self._disconnected(conn)

    def _connected(self, conn: INetConn) -> None:
        peer = _conn_peer(conn)
        state = self._peers.get(peer)
        if state is not None:
            if conn in state.conns:
                return
            live = [c for c in state.conns if not _conn_closed(c)]
            if any(_conn_outbound(c) != _conn_outbound(conn) for c in live):
                state.conns = [*live, conn]
                self._drop_duplicate_connections(state)
                return
            # A second connection in the same direction: the peer came back (restarted, or
            # its network did) before we saw it leave. The old connection is dead or dying.
            for old in live:
                self._close_soon(old)
            self._gone(state, "reconnected")
        outbound = _conn_outbound(conn)
        via = self._dial_via.pop(peer, "dial") if outbound else "inbound"
        state = _Peer(peer, _conn_address(conn), via, trio.current_time(), [conn])
        self._peers[peer] = state
        log.info("peer %s up (%s, via %s)", short_peer(peer), state.address, via)
        self._emit(PeerUp(peer, state.address, via))
        self._changed_now(peer)
        if self._nursery is not None:
            self._nursery.start_soon(self._watch, state)

    def _disconnected(self, conn: INetConn) -> None:
        peer = _conn_peer(conn)
        self._forget_stale_pubsub_stream(conn)
        state = self._peers.get(peer)
        if state is None or conn not in state.conns:
            return  # a connection we already replaced
        state.conns = [c for c in state.conns if c is not conn and not _conn_closed(c)]
        if not state.conns:
            self._gone(state, state.down_reason or "connection closed")

    def _forget_stale_pubsub_stream(self, closed: INetConn) -> None:
        """Finding 16: when one of two connections to a peer closes (a peer that came back,
        or a duplicate), libp2p's pubsub keeps writing to its stream on the closed one as
        long as the peer has another connection, and never tells the peer our
        subscriptions again. Make it open a fresh stream on the live connection."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        peer_id = closed.muxed_conn.peer_id
        stream = pubsub.peers.get(peer_id)
        if stream is not None and stream.muxed_conn is closed.muxed_conn:
            pubsub._handle_dead_peer(peer_id)  # re-registers the peer if still connected

    def _gone(self, state: _Peer, reason: str) -> None:
        del self._peers[state.peer]
        state.watchdog.cancel()
        log.info("peer %s down (%s): %s", short_peer(state.peer), state.address, reason)
        self._emit(PeerDown(state.peer, state.address, reason))
        self._changed_now(state.peer)

    def _drop_duplicate_connections(self, state: _Peer) -> None:
        """Two nodes that dial each other at once get two connections: both keep the one
        the lower peer id dialled (so both close the same one)."""
        keep_outbound = self.peer_id < state.peer
        kept = [c for c in state.conns if _conn_outbound(c) == keep_outbound][-1:]
        for conn in state.conns:
            if conn not in kept:
                self._close_soon(conn)
        state.conns = kept

    def _close_soon(self, conn: INetConn) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._close_connection, conn)

    @staticmethod
    async def _close_connection(conn: INetConn) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT):
            try:
                await conn.close()
            except Exception as exc:
                log.debug("wifi: closing a duplicate connection: %s", _why(exc))

    async def _watch(self, state: _Peer) -> None:
        """Pitfall 6: ping the peer every ``ping_interval``; close the connection when an
        answer takes longer than ``ping_timeout`` (a neighbour gone without closing)."""
        host = self._running_host()
        peer_id = ID.from_base58(state.peer)
        with state.watchdog:
            while state.peer in self._peers:
                try:
                    with trio.fail_after(self.ping_timeout):
                        stream = await host.new_stream(peer_id, [PING_PROTOCOL])
                    try:
                        await self._ping_loop(state, stream)
                    finally:
                        with (
                            trio.CancelScope(shield=True),
                            trio.move_on_after(1.0),
                            contextlib.suppress(Exception),
                        ):
                            await stream.reset()
                except trio.TooSlowError:
                    state.down_reason = f"no answer to ping for {self.ping_timeout:g} s"
                    self._watchdog_closes += 1
                    log.warning(
                        "peer %s silent for %g s: closing its connection",
                        short_peer(state.peer),
                        self.ping_timeout,
                    )
                    with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT):
                        try:
                            await host.disconnect(peer_id)
                        except Exception as exc:
                            log.debug("wifi: disconnect %s: %s", short_peer(state.peer), _why(exc))
                    return
                except Exception as exc:
                    # The stream broke but maybe not the connection: try again shortly.
                    log.debug("wifi: ping stream to %s: %s", short_peer(state.peer), _why(exc))
                    await trio.sleep(self.ping_interval)

    async def _ping_loop(self, state: _Peer, stream: INetStream) -> None:
        while True:
            payload = secrets.token_bytes(PING_BYTES)
            started = trio.current_time()
            with trio.fail_after(self.ping_timeout):
                await stream.write(payload)
                echo = b""
                while len(echo) < PING_BYTES:
                    echo += await stream.read(PING_BYTES - len(echo))
            if echo != payload:
                raise ValueError("ping answered with other bytes")
            state.rtt = trio.current_time() - started
            await trio.sleep(self.ping_interval)

    # -- dialling -------------------------------------------------------------------------

    def _remember(self, addr: str, *, via: str, max_failures: int | None = None) -> _Known | None:
        peer, where = _parse_peer_addr(addr)
        if peer == self.peer_id:
            return None
        known = self._known.get(peer)
        if known is None:
            known = self._known[peer] = _Known(peer, [where], via, max_failures)
        elif where not in known.addrs:
            known.addrs.insert(0, where)  # the latest first; a few at most
            del known.addrs[KNOWN_ADDRS_PER_PEER:]
        return known

    def _maintain(self, known: _Known) -> None:
        if not known.maintained and self._nursery is not None:
            known.maintained = True
            self._nursery.start_soon(self._keep_connected, known)

    async def _keep_connected(self, known: _Known) -> None:
        """Dial a known peer, and again whenever it is lost, with exponential backoff.
        Ends with the transport, or (mDNS peers) after ``max_failures`` failed dials."""
        delay = REDIAL_INITIAL_DELAY
        failures = 0
        via = known.via
        try:
            if via == "mdns" and self.peer_id > known.peer:
                # It saw us too and, having the lower id, dials: give it a moment.
                with trio.move_on_after(MDNS_DIAL_DEFERENCE):
                    while known.peer not in self._peers:
                        await self._wait_change(known.peer)
            while True:
                if known.peer in self._peers:
                    while known.peer in self._peers:
                        await self._wait_change(known.peer)
                    via, delay, failures = "redial", REDIAL_INITIAL_DELAY, 0
                    await trio.sleep(delay * random.uniform(0.5, 1.0))
                    continue
                if await self._dial(known, via):
                    continue
                failures += 1
                if known.max_failures is not None and failures >= known.max_failures:
                    log.info(
                        "wifi: giving up on %s after %d failed dials (until seen again)",
                        short_peer(known.peer),
                        failures,
                    )
                    del self._known[known.peer]
                    return
                with trio.move_on_after(delay * random.uniform(0.8, 1.2)):
                    await self._wait_change(known.peer)  # or it dials us meanwhile
                delay = min(delay * 2, self.redial_max_delay)
        finally:
            known.maintained = False

    async def _dial(self, known: _Known, via: str) -> bool:
        """Dial a known peer at each of its known addresses in turn."""
        host = self._running_host()
        peer_id = ID.from_base58(known.peer)
        network, peerstore = host.get_network(), host.get_peerstore()
        for addr in list(known.addrs):
            if known.peer in self._peers:
                return True  # it dialled us meanwhile
            # Finding 17: libp2p dials one TCP address per peer, the first in its peerstore
            # (which Identify fills with whatever the peer advertises): give it just this one.
            peerstore.clear_addrs(peer_id)
            # Finding 14: libp2p refuses to dial a peer for 60 s after a failed dial.
            unblock = getattr(network, "unblock_peer", None)
            if unblock is not None:
                unblock(peer_id)
            self._dials += 1
            self._dial_via[known.peer] = via
            try:
                with trio.fail_after(DIAL_TIMEOUT):
                    await host.connect(PeerInfo(peer_id, [multiaddr.Multiaddr(addr)]))
            except Exception as exc:  # TooSlowError, SwarmException and kin
                self._dial_failures += 1
                self._dial_via.pop(known.peer, None)
                log.debug(
                    "wifi: dialling %s at %s (%s) failed: %s",
                    short_peer(known.peer),
                    addr,
                    via,
                    _why(exc),
                )
                continue
            return True
        return False

    async def _run_mdns(self, transport_addrs: list[str]) -> None:
        tcp = [a for a in transport_addrs if "/tcp/" in a]
        if not tcp:
            log.warning("wifi: no TCP listen address to announce by mDNS")
            return
        port = int(multiaddr.Multiaddr(tcp[0]).value_for_protocol("tcp"))
        ips = [
            str(multiaddr.Multiaddr(a).value_for_protocol("ip4"))
            for a in expand_wildcard(tcp)
            if a.startswith("/ip4/")
        ]
        discovery = MdnsDiscovery(
            peer_id=self.peer_id, zone_hex=self.zone_id.hex(), port=port, addresses=ips
        )
        sightings_in, sightings = trio.open_memory_channel[Sighting](64)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(discovery.serve, sightings_in)
            async for sighting in sightings:
                self._sighted(sighting)

    def _sighted(self, sighting: Sighting) -> None:
        fresh = sighting.peer_id not in self._known
        known = None
        for addr in sighting.addrs:
            known = self._remember(
                f"{addr}/p2p/{sighting.peer_id}", via="mdns", max_failures=MDNS_DIAL_ATTEMPTS
            )
        if known is not None:
            if fresh:
                log.info(
                    "wifi: mDNS sighted %s at %s", short_peer(known.peer), ", ".join(known.addrs)
                )
            self._maintain(known)
