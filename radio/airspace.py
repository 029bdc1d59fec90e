"""A simulated LoRa airspace where emulated Meshtastic radios route like the firmware does.

Sans-I/O: no clock, no sockets, no threads. Time is simulated seconds passed in by the caller
(``submit(..., now=)``, ``advance(now)``); ``next_deadline()`` says when something is due.
Decisions for the API clients come back from ``take_events()``. Randomness comes from one
``random.Random(seed)``, so a run is reproducible.

Physics (simple but honest):
- a radio hears another only over a ``Link`` of the topology, with that link's SNR, RSSI and
  loss probability;
- a frame occupies the channel for its airtime (``radio.airtime``); a radio that transmits
  during any part of a frame does not hear it (half duplex);
- two frames overlapping at a receiver collide: both are lost, unless one is at least
  ``CAPTURE_DB`` stronger than every other (LoRa capture effect);
- before transmitting a radio listens (channel activity detection): if it hears a frame in
  progress it backs off for a random contention window.

Firmware behaviour (facts from meshtastic/firmware Router, FloodingRouter, ReliableRouter,
RadioInterface; see also shared/reference/meshtastic.md):
- managed flooding: a radio that receives a packet for the first time, not addressed to it
  and with hop_limit > 0, queues a copy with hop_limit - 1 after a contention-window delay
  weighted by SNR (``2·CWmax·slot + random(0, 2^CW)·slot``, CW from 3 at SNR -20 dB to 8 at
  SNR +10 dB: weaker signal relays sooner); a CLIENT cancels it when it overhears another
  relay of the same packet; a packet already seen is never relayed again;
- own packets wait ``random(0, 2^CW)·slot`` with CW growing with channel utilisation;
- ``want_ack``: a broadcast is acknowledged implicitly when its sender overhears a relay; a
  direct message by a routing ACK from its destination; up to 3 transmissions, then a
  ``MAX_RETRANSMIT`` NAK;
- payload limits: the encoded ``Data`` (with its bitfield) plus the 16-byte header must fit
  255 bytes, 12 more bytes for a PKI-encrypted direct message, else ``TOO_LARGE``;
- duty cycle: once a radio's rolling-hour transmit time has reached the region's limit,
  it refuses to send (``DUTY_CYCLE_LIMIT`` for its own packets; relays are dropped).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import tomllib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from .airtime import (
    MAX_LORA_FRAME_BYTES,
    MESH_HEADER_BYTES,
    PRESETS,
    REGIONS,
    DutyCycleLedger,
    ModemPreset,
    Region,
    airtime_s,
)

BROADCAST = 0xFFFFFFFF
FIRST_NODE_NUM = 0x1000000
HOP_LIMIT_DEFAULT = 3
HOP_LIMIT_MAX = 7
PKI_OVERHEAD_BYTES = 12
MAX_TX_QUEUE = 16
CAPTURE_DB = 6.0

# Contention window (RadioInterface): sizes as powers of two, and the SNR range they map.
CW_MIN, CW_MAX = 3, 8
SNR_MIN, SNR_MAX = -20, 10
RELIABLE_TRANSMISSIONS = 3  # one send and two retransmissions
PROCESSING_S = 4.5  # the firmware's allowance in the retransmission interval
SEEN_MEMORY = 1000  # packets a radio remembers having seen
CHANNEL_UTIL_WINDOW_S = 60.0

# LoRa demodulation floor by spreading factor (Semtech datasheets), dB.
_DEMOD_SNR_FLOOR = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}

Routing = mesh_pb2.Routing
Priority = mesh_pb2.MeshPacket.Priority
_NO_PKI_PORTS = {
    portnums_pb2.PortNum.ROUTING_APP,
    portnums_pb2.PortNum.TRACEROUTE_APP,
    portnums_pb2.PortNum.NODEINFO_APP,
    portnums_pb2.PortNum.POSITION_APP,
}
ROLES = ("CLIENT", "CLIENT_MUTE", "ROUTER")


# ---------------------------------------------------------------- radios and links


@dataclass(frozen=True)
class RadioSpec:
    """One emulated radio: identity and role."""

    num: int
    long_name: str
    short_name: str
    role: str = "CLIENT"
    public_key: bytes = b""

    @property
    def node_id(self) -> str:
        return f"!{self.num:08x}"


def default_radios(count: int, names: Sequence[str] = ()) -> list[RadioSpec]:
    """``count`` radios with node nums 0x1000000 + i; names from ``names`` or "Radio i"."""
    radios = []
    for i in range(count):
        long_name = names[i] if i < len(names) else f"Radio {i}"
        radios.append(
            RadioSpec(
                num=FIRST_NODE_NUM + i,
                long_name=long_name,
                short_name=_short_name(long_name, i),
                public_key=_fake_public_key(FIRST_NODE_NUM + i),
            )
        )
    return radios


def _short_name(long_name: str, index: int) -> str:
    letters = "".join(c for c in long_name if c.isalnum())[:2].upper() or "R"
    return f"{letters}{index:02d}"[:4]


def _fake_public_key(num: int) -> bytes:
    """A stable stand-in for a radio's x25519 key (the emulator does not encrypt)."""
    return hashlib.sha256(b"entraide-emulator-key" + num.to_bytes(4, "big")).digest()


@dataclass(frozen=True)
class Link:
    """What a receiver gets from one transmitter: signal quality and loss probability."""

    snr: float = 6.0
    rssi: float = -90.0
    loss: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.loss <= 1:
            raise ValueError(f"link loss is a probability, not {self.loss}")


@dataclass(frozen=True)
class Topology:
    """Who hears whom: ``links[(tx, rx)]`` by radio index (directional)."""

    size: int
    links: dict[tuple[int, int], Link]
    names: tuple[str, ...] = ()

    @classmethod
    def full(cls, size: int, link: Link = Link()) -> Topology:
        return cls(size, {(a, b): link for a in range(size) for b in range(size) if a != b})

    @classmethod
    def chain(cls, size: int, link: Link = Link()) -> Topology:
        """0 - 1 - 2 - …: each radio hears only its neighbours."""
        links: dict[tuple[int, int], Link] = {}
        for a in range(size - 1):
            links[(a, a + 1)] = link
            links[(a + 1, a)] = link
        return cls(size, links)

    @classmethod
    def from_positions(
        cls,
        positions: Sequence[tuple[float, float]],
        preset: ModemPreset,
        *,
        loss: float = 0.0,
        tx_power_dbm: float = 20.0,
        path_loss_exponent: float = 3.0,
        names: Sequence[str] = (),
    ) -> Topology:
        """Links from positions in metres, by a log-distance path loss model at 869 MHz
        (31.2 dB at 1 m, exponent 3: built-up area) and a 6 dB noise figure; a link exists
        where the SNR is above the preset's demodulation floor."""
        noise_dbm = -174 + 10 * math.log10(preset.bandwidth_hz) + 6
        floor = _DEMOD_SNR_FLOOR[preset.spreading_factor]
        links: dict[tuple[int, int], Link] = {}
        for a, (ax, ay) in enumerate(positions):
            for b, (bx, by) in enumerate(positions):
                if a == b:
                    continue
                distance = max(math.hypot(ax - bx, ay - by), 1.0)
                rssi = tx_power_dbm - (31.2 + 10 * path_loss_exponent * math.log10(distance))
                snr = rssi - noise_dbm
                if snr >= floor:
                    links[(a, b)] = Link(snr=round(snr, 1), rssi=round(rssi), loss=loss)
        return cls(len(positions), links, tuple(names))

    @classmethod
    def from_toml(cls, path: str | Path, preset: ModemPreset, *, loss: float = 0.0) -> Topology:
        """A topology file: ``[[radio]]`` tables (``name``, optional ``position = [x, y]`` in
        metres) and either ``[[link]]`` tables (``a``, ``b`` as index or name, optional
        ``snr``, ``rssi``, ``loss``, ``oneway``) or positions for every radio."""
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        return cls.from_mapping(doc, preset, loss=loss)

    @classmethod
    def from_mapping(
        cls, doc: dict[str, Any], preset: ModemPreset, *, loss: float = 0.0
    ) -> Topology:
        radios = doc.get("radio", [])
        if not isinstance(radios, list) or not radios:
            raise ValueError("a topology file needs at least one [[radio]] table")
        names = tuple(str(r.get("name", f"Radio {i}")) for i, r in enumerate(radios))
        link_tables = doc.get("link", [])
        if not link_tables:
            try:
                positions = [(float(r["position"][0]), float(r["position"][1])) for r in radios]
            except (KeyError, IndexError, TypeError, ValueError):
                raise ValueError(
                    "a topology file without [[link]] tables needs position = [x, y] "
                    "(metres) on every [[radio]]"
                ) from None
            return cls.from_positions(positions, preset, loss=loss, names=names)

        def index(ref: object) -> int:
            if isinstance(ref, int) and 0 <= ref < len(radios):
                return ref
            if isinstance(ref, str) and ref in names:
                return names.index(ref)
            raise ValueError(f"link end {ref!r} is neither a radio index nor a radio name")

        links: dict[tuple[int, int], Link] = {}
        for table in link_tables:
            a, b = index(table.get("a")), index(table.get("b"))
            if a == b:
                raise ValueError(f"link from radio {a} to itself")
            link = Link(
                snr=float(table.get("snr", Link.snr)),
                rssi=float(table.get("rssi", Link.rssi)),
                loss=float(table.get("loss", loss)),
            )
            links[(a, b)] = link
            if not table.get("oneway", False):
                links[(b, a)] = link
        return cls(len(radios), links, names)


# ---------------------------------------------------------------- packets and events


@dataclass(frozen=True)
class AirPacket:
    """A Meshtastic packet as it travels: the 16-byte header's fields and the encoded Data."""

    source: int
    dest: int
    id: int
    hop_limit: int
    hop_start: int
    want_ack: bool
    data: bytes  # serialised mesh_pb2.Data
    channel: int = 0
    priority: int = Priority.DEFAULT
    pki_encrypted: bool = False
    relay_node: int = 0  # last byte of the node num of the radio that sent this copy

    @property
    def key(self) -> tuple[int, int]:
        return (self.source, self.id)

    @property
    def frame_bytes(self) -> int:
        extra = PKI_OVERHEAD_BYTES if self.pki_encrypted else 0
        return MESH_HEADER_BYTES + len(self.data) + extra

    def decoded(self) -> mesh_pb2.Data:
        message = mesh_pb2.Data()
        message.ParseFromString(self.data)
        return message


@dataclass(frozen=True)
class Delivery:
    """A packet for the API client of radio ``node`` (FromRadio.packet)."""

    node: int
    packet: AirPacket
    rx_time: float
    rx_snr: float = 0.0
    rx_rssi: int = 0


@dataclass(frozen=True)
class Notice:
    """A text for the API client of radio ``node`` (FromRadio.clientNotification)."""

    node: int
    message: str
    reply_id: int = 0


Event = Delivery | Notice


@dataclass
class Transmission:
    """One frame on the air. ``outcomes`` (receiver node num → ``received``, ``duplicate``,
    ``collision``, ``lost``, ``half_duplex``) is filled when the frame ends."""

    seq: int
    start: float
    end: float
    sender: int
    packet: AirPacket
    outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def airtime_s(self) -> float:
        return self.end - self.start

    @property
    def is_relay(self) -> bool:
        return self.packet.source != self.sender


@dataclass(frozen=True)
class RadioStatistics:
    """Counters and channel use of one radio (``Airspace.statistics()``)."""

    node_num: int
    name: str
    tx_frames: int
    tx_own: int
    tx_relayed: int
    tx_airtime_s: float
    rx_frames: int
    rx_duplicates: int
    rx_collisions: int
    rx_lost: int
    rx_missed_transmitting: int
    relays_cancelled: int
    refused_duty_cycle: int
    refused_too_large: int
    channel_utilization: float  # share of the last minute the channel was busy, as heard here
    air_util_tx: float  # share of the rolling hour spent transmitting
    duty_cycle: float  # the region's limit for air_util_tx
    tx_queue: int


# ---------------------------------------------------------------- one radio's firmware state


@dataclass
class _Queued:
    packet: AirPacket
    not_before: float
    order: int
    relay_snr: float | None = None  # None: our own packet


@dataclass
class _Pending:
    """An own want_ack packet waiting for its (implicit) ACK."""

    packet: AirPacket
    transmissions_left: int
    deadline: float = math.inf


class _Node:
    def __init__(self, spec: RadioSpec, index: int, region: Region) -> None:
        self.spec = spec
        self.index = index
        self.num = spec.num
        self.ledger = DutyCycleLedger(region.duty_cycle)
        self.seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self.queue: list[_Queued] = []
        self.pending: dict[int, _Pending] = {}  # own packet id → awaiting ACK
        self.transmitting_until = -math.inf
        self.busy: deque[tuple[float, float]] = deque()  # channel busy intervals, last minute
        self.heard_nodes: dict[int, tuple[float, float, int]] = {}  # num → (time, snr, hops)
        self.counters = dict.fromkeys(
            (
                "tx_frames",
                "tx_own",
                "tx_relayed",
                "rx_frames",
                "rx_duplicates",
                "rx_collisions",
                "rx_lost",
                "rx_missed_transmitting",
                "relays_cancelled",
                "refused_duty_cycle",
                "refused_too_large",
            ),
            0,
        )
        self.tx_airtime_s = 0.0

    def mark_seen(self, key: tuple[int, int]) -> bool:
        """Remember ``key``; True if it was already known."""
        if key in self.seen:
            self.seen.move_to_end(key)
            return True
        self.seen[key] = None
        if len(self.seen) > SEEN_MEMORY:
            self.seen.popitem(last=False)
        return False

    def add_busy(self, start: float, end: float) -> None:
        self.busy.append((start, end))

    def channel_utilization(self, now: float) -> float:
        window_start = now - CHANNEL_UTIL_WINDOW_S
        while self.busy and self.busy[0][1] <= window_start:
            self.busy.popleft()
        busy = 0.0
        covered_until = window_start
        for start, end in sorted(self.busy):
            start, end = max(start, covered_until), min(end, now)
            if end > start:
                busy += end - start
                covered_until = end
        return busy / CHANNEL_UTIL_WINDOW_S


# ---------------------------------------------------------------- the airspace


class Airspace:
    """Radios, the links between them, and the firmware's routing, in simulated time."""

    def __init__(
        self,
        radios: Sequence[RadioSpec],
        topology: Topology,
        *,
        preset: ModemPreset | str = "LONG_FAST",
        region: Region | str = "EU_868",
        hop_limit: int = HOP_LIMIT_DEFAULT,
        seed: int = 0,
        log_limit: int = 100_000,
        prepopulate_nodes: bool = True,
    ) -> None:
        if topology.size != len(radios):
            raise ValueError(f"topology is for {topology.size} radios, not {len(radios)}")
        if len({r.num for r in radios}) != len(radios):
            raise ValueError("two radios share a node num")
        for r in radios:
            if r.role not in ROLES:
                raise ValueError(f"radio {r.node_id}: role {r.role} (known: {', '.join(ROLES)})")
        self.preset = PRESETS[preset] if isinstance(preset, str) else preset
        self.region = REGIONS[region] if isinstance(region, str) else region
        if not 0 <= hop_limit <= HOP_LIMIT_MAX:
            raise ValueError(f"hop limit {hop_limit} (0 to {HOP_LIMIT_MAX})")
        self.hop_limit = hop_limit
        self.topology = topology
        self.radios = tuple(radios)
        self.rng = random.Random(seed)
        self.now = 0.0
        self.transmissions: deque[Transmission] = deque(maxlen=log_limit)
        self.transmission_count = 0
        self.slot_s = (2.5 * self.preset.symbol_s * 1000 + 0.2 + 0.4 + 7.0) / 1000
        self._nodes = {r.num: _Node(r, i, self.region) for i, r in enumerate(radios)}
        self._by_index = {i: r.num for i, r in enumerate(radios)}
        # hearers[tx num] = [(rx num, link)], in radio order
        self._hearers: dict[int, list[tuple[int, Link]]] = {r.num: [] for r in radios}
        self._links: dict[tuple[int, int], Link] = {}
        for (a, b), link in sorted(topology.links.items()):
            self._hearers[self._by_index[a]].append((self._by_index[b], link))
            self._links[(self._by_index[a], self._by_index[b])] = link
        if prepopulate_nodes:
            self._prepopulate_node_db()
        self._on_air: list[Transmission] = []  # in progress or recently ended
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._events: list[Event] = []

    def _prepopulate_node_db(self) -> None:
        """Every radio starts knowing every radio it can reach, as in a mesh that has run
        long enough for NodeInfo broadcasts to go round: hops away by breadth-first search."""
        for num, node in self._nodes.items():
            hops = {num: 0}
            frontier = [num]
            while frontier:
                following = []
                for current in frontier:
                    for neighbour, _ in self._hearers[current]:
                        if neighbour not in hops:
                            hops[neighbour] = hops[current] + 1
                            following.append(neighbour)
                frontier = following
            for other, distance in hops.items():
                if other != num:
                    link = self._links.get((other, num))
                    node.heard_nodes[other] = (0.0, link.snr if link else 0.0, distance - 1)

    # -------------------------------------------------------------- inspection

    @property
    def node_nums(self) -> list[int]:
        return [r.num for r in self.radios]

    def spec(self, num: int) -> RadioSpec:
        return self._nodes[num].spec

    def link(self, tx: int, rx: int) -> Link | None:
        """What ``rx`` gets from ``tx`` (node nums), or None if it does not hear it."""
        return self._links.get((tx, rx))

    def known_nodes(self, num: int) -> list[tuple[RadioSpec, float, float, int]]:
        """Other radios ``num`` has heard: (spec, last heard, snr, hops away), newest first."""
        node = self._nodes[num]
        rows = [
            (self._nodes[other].spec, heard, snr, hops)
            for other, (heard, snr, hops) in node.heard_nodes.items()
        ]
        return sorted(rows, key=lambda row: -row[1])

    def queue_free(self, num: int) -> int:
        return max(MAX_TX_QUEUE - len(self._nodes[num].queue), 0)

    def statistics(self) -> dict[int, RadioStatistics]:
        stats = {}
        for num, node in self._nodes.items():
            stats[num] = RadioStatistics(
                node_num=num,
                name=node.spec.long_name,
                **node.counters,
                tx_airtime_s=node.tx_airtime_s,
                channel_utilization=node.channel_utilization(self.now),
                air_util_tx=node.ledger.fraction(self.now),
                duty_cycle=self.region.duty_cycle,
                tx_queue=len(node.queue),
            )
        return stats

    def spend_airtime(self, num: int, seconds: float) -> None:
        """Count ``seconds`` of transmission by radio ``num`` now, as if it had been busy
        before (tests and demos of a radio at its duty-cycle limit)."""
        self._nodes[num].ledger.record(self.now, seconds)

    def take_events(self) -> list[Event]:
        """Deliveries and notices produced since the last call, in order."""
        events, self._events = self._events, []
        return events

    # -------------------------------------------------------------- time

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def advance(self, now: float) -> None:
        """Run everything due up to ``now``; each step runs at its own scheduled time."""
        while self._timers and self._timers[0][0] <= now:
            at, _, action = heapq.heappop(self._timers)
            self.now = max(self.now, at)
            action()
        self.now = max(self.now, now)

    def run_until_idle(self, max_time: float) -> None:
        """Advance until nothing is scheduled or simulated time reaches ``max_time``."""
        while self._timers and self._timers[0][0] <= max_time:
            self.advance(self._timers[0][0])

    def _at(self, when: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, action))

    # -------------------------------------------------------------- API client side

    def submit(
        self,
        num: int,
        *,
        now: float,
        to: int,
        packet_id: int,
        data: mesh_pb2.Data,
        hop_limit: int | None = None,
        want_ack: bool = False,
        channel: int = 0,
        priority: int = Priority.UNSET,
    ) -> int:
        """A packet from radio ``num``'s API client. Returns a ``Routing.Error`` (0: queued);
        on an error the client also gets a NAK (and a notice for the duty cycle)."""
        self.advance(now)
        node = self._nodes[num]
        data = _copy_data(data)
        data.bitfield = data.bitfield if data.HasField("bitfield") else 0  # as the firmware
        hops = self.hop_limit if hop_limit is None else min(hop_limit, HOP_LIMIT_MAX)
        dest_known = to in self._nodes and to != num and to in node.heard_nodes
        pki = (
            to != BROADCAST
            and to != num
            and dest_known
            and channel == 0
            and data.portnum not in _NO_PKI_PORTS
        )
        packet = AirPacket(
            source=num,
            dest=to,
            id=packet_id,
            hop_limit=hops,
            hop_start=hops,
            want_ack=want_ack,
            data=data.SerializeToString(),
            channel=channel,
            priority=priority or (Priority.RELIABLE if want_ack else Priority.DEFAULT),
            pki_encrypted=pki,
            relay_node=num & 0xFF,
        )
        if channel != 0:
            return self._refuse(node, packet, Routing.NO_CHANNEL)
        if packet.frame_bytes > MAX_LORA_FRAME_BYTES:
            node.counters["refused_too_large"] += 1
            return self._refuse(node, packet, Routing.TOO_LARGE)
        if to == num:
            self._deliver(node, packet, snr=0.0, rssi=0)  # to ourselves: never on the air
            return int(Routing.NONE)
        if len(node.queue) >= MAX_TX_QUEUE:
            return self._refuse(node, packet, Routing.NO_INTERFACE)
        error = self._send(node, packet)
        if error == Routing.NONE and want_ack:
            node.pending[packet.id] = _Pending(packet, RELIABLE_TRANSMISSIONS - 1)
        return error

    def _refuse(self, node: _Node, packet: AirPacket, error: int) -> int:
        self._routing_to_client(node, packet.id, error, source=node.num)
        return error

    # -------------------------------------------------------------- firmware: sending

    def _duty_cycle_exhausted(self, node: _Node) -> bool:
        return self.region.duty_cycle < 1 and node.ledger.fraction(self.now) >= (
            self.region.duty_cycle
        )

    def _send(self, node: _Node, packet: AirPacket, relay_snr: float | None = None) -> int:
        """Router::send: the duty-cycle check, then the transmit queue."""
        if self._duty_cycle_exhausted(node):
            node.counters["refused_duty_cycle"] += 1
            if packet.source == node.num and relay_snr is None:
                minutes = self._silent_minutes(node)
                self._events.append(
                    Notice(
                        node.num,
                        f"Duty cycle limit exceeded. You can send again in {minutes} mins",
                        packet.id,
                    )
                )
                self._routing_to_client(node, packet.id, Routing.DUTY_CYCLE_LIMIT, node.num)
            return int(Routing.DUTY_CYCLE_LIMIT)
        node.mark_seen(packet.key)
        own = relay_snr is None
        delay = self._own_delay(node) if own else self.relay_delay(node.spec.role, relay_snr or 0)
        self._seq += 1
        node.queue.append(_Queued(packet, self.now + delay, self._seq, relay_snr))
        self._at(self.now + delay, lambda: self._try_transmit(node))
        return int(Routing.NONE)

    def _silent_minutes(self, node: _Node) -> int:
        excess = node.ledger.used(self.now) - self.region.duty_cycle * node.ledger.window_s
        return max(1, math.ceil(excess / (self.region.duty_cycle * 60) + 1))

    def _cw_delay(self, cw_size: int) -> float:
        return self.rng.randrange(0, 1 << cw_size) * self.slot_s

    def _own_delay(self, node: _Node) -> float:
        utilization = int(node.channel_utilization(self.now) * 100)
        cw = CW_MIN + utilization * (CW_MAX - CW_MIN) // 100
        return self._cw_delay(_clamp(cw, CW_MIN, CW_MAX))

    def relay_delay(self, role: str, snr: float) -> float:
        """Seconds a radio of ``role`` waits before relaying a packet heard at ``snr``
        (RadioInterface::getTxDelayMsecWeighted): routers first, within 2·CW slots; the
        others after 2·CWmax slots, plus up to 2^CW slots."""
        cw = contention_window(snr)
        if role == "ROUTER":
            return self.rng.randrange(0, 2 * cw) * self.slot_s
        return 2 * CW_MAX * self.slot_s + self._cw_delay(cw)

    def _hears_activity(self, node: _Node) -> bool:
        """Channel activity detection: a frame audible here is in progress."""
        return any(
            tx.start <= self.now < tx.end and self.link(tx.sender, node.num) is not None
            for tx in self._on_air
        )

    def _try_transmit(self, node: _Node) -> None:
        ready = [q for q in node.queue if q.not_before <= self.now]
        if not ready:
            return
        if node.transmitting_until > self.now:
            return  # the end of the current frame calls again
        if self._hears_activity(node):
            backoff = self._own_delay(node) + self.slot_s
            self._at(self.now + backoff, lambda: self._try_transmit(node))
            return
        chosen = max(ready, key=lambda q: (q.packet.priority, -q.order))
        node.queue.remove(chosen)
        self._transmit(node, chosen)

    def _transmit(self, node: _Node, queued: _Queued) -> None:
        packet = queued.packet
        if queued.relay_snr is not None:
            packet = replace(packet, relay_node=node.num & 0xFF)
        duration = airtime_s(packet.frame_bytes, self.preset)
        tx = Transmission(self.transmission_count, self.now, self.now + duration, node.num, packet)
        self.transmission_count += 1
        self.transmissions.append(tx)
        self._on_air.append(tx)
        node.transmitting_until = tx.end
        node.ledger.record(self.now, duration)
        node.tx_airtime_s += duration
        node.add_busy(tx.start, tx.end)
        node.counters["tx_frames"] += 1
        node.counters["tx_own" if packet.source == node.num else "tx_relayed"] += 1
        for rx, _ in self._hearers[node.num]:
            self._nodes[rx].add_busy(tx.start, tx.end)
        pending = node.pending.get(packet.id) if packet.source == node.num else None
        if pending is not None:
            pending.deadline = tx.end + self._retransmission_interval(packet)
            deadline = pending.deadline
            self._at(deadline, lambda: self._retransmission_due(node, packet.id, deadline))
        self._at(tx.end, lambda: self._end_transmission(tx))

    def _retransmission_interval(self, packet: AirPacket) -> float:
        slots = (1 << CW_MAX) + 2 * CW_MAX + (1 << ((CW_MAX + CW_MIN) // 2))
        return 2 * airtime_s(packet.frame_bytes, self.preset) + slots * self.slot_s + PROCESSING_S

    def _retransmission_due(self, node: _Node, packet_id: int, deadline: float) -> None:
        pending = node.pending.get(packet_id)
        if pending is None or pending.deadline != deadline:
            return
        if pending.transmissions_left <= 0:
            del node.pending[packet_id]
            self._routing_to_client(node, packet_id, Routing.MAX_RETRANSMIT, node.num)
            return
        pending.transmissions_left -= 1
        pending.deadline = math.inf
        if self._send(node, pending.packet) != Routing.NONE:
            node.pending.pop(packet_id, None)

    # -------------------------------------------------------------- physics: reception

    def _end_transmission(self, tx: Transmission) -> None:
        sender = self._nodes[tx.sender]
        horizon = self.now - 30.0  # longer than any frame
        self._on_air = [t for t in self._on_air if t.end >= horizon]
        for rx, link in self._hearers[tx.sender]:
            tx.outcomes[rx] = self._reception(tx, rx, link)
        self._try_transmit(sender)
        for rx, outcome in tx.outcomes.items():
            if outcome == "received":
                link = self._hearers_link(tx.sender, rx)
                tx.outcomes[rx] = self._receive(self._nodes[rx], tx.packet, link)

    def _hearers_link(self, tx: int, rx: int) -> Link:
        link = self.link(tx, rx)
        assert link is not None
        return link

    def _reception(self, tx: Transmission, rx: int, link: Link) -> str:
        receiver = self._nodes[rx]
        overlapping = [
            other
            for other in self._on_air
            if other is not tx and other.start < tx.end and other.end > tx.start
        ]
        if any(other.sender == rx for other in overlapping):
            receiver.counters["rx_missed_transmitting"] += 1
            return "half_duplex"
        interferers = [
            other_link.snr
            for other in overlapping
            if (other_link := self.link(other.sender, rx)) is not None
        ]
        if interferers and link.snr < max(interferers) + CAPTURE_DB:
            receiver.counters["rx_collisions"] += 1
            return "collision"
        if link.loss and self.rng.random() < link.loss:
            receiver.counters["rx_lost"] += 1
            return "lost"
        return "received"

    # -------------------------------------------------------------- firmware: receiving

    def _receive(self, node: _Node, packet: AirPacket, link: Link) -> str:
        node.counters["rx_frames"] += 1
        hops = max(packet.hop_start - packet.hop_limit, 0)
        if packet.source != node.num:
            node.heard_nodes[packet.source] = (self.now, link.snr, hops)
        if packet.source == node.num:
            self._heard_own_packet(node, packet)
            node.counters["rx_duplicates"] += 1
            return "duplicate"
        if node.mark_seen(packet.key):
            node.counters["rx_duplicates"] += 1
            repeated = packet.hop_start > 0 and packet.hop_start == packet.hop_limit
            if repeated:
                if not self._in_queue(node, packet.key):
                    self._perhaps_relay(node, packet, link.snr)
            elif node.spec.role != "ROUTER" and self._cancel_relay(node, packet.key):
                node.counters["relays_cancelled"] += 1
            return "duplicate"
        decoded = packet.decoded()
        if decoded.request_id and packet.dest not in (node.num, BROADCAST):
            # An ACK or reply for someone else's direct message: stop flooding that message.
            self._cancel_relay(node, (packet.dest, decoded.request_id))
        if packet.dest in (node.num, BROADCAST):
            self._deliver(node, packet, snr=link.snr, rssi=int(link.rssi))
        if packet.dest == node.num:
            self._on_packet_for_us(node, packet, decoded)
        else:
            self._perhaps_relay(node, packet, link.snr)
        return "received"

    def _heard_own_packet(self, node: _Node, packet: AirPacket) -> None:
        """A relay of our own packet: for a broadcast, that is its implicit ACK."""
        pending = node.pending.get(packet.id)
        if pending is None or packet.dest != BROADCAST:
            return
        del node.pending[packet.id]
        self._cancel_relay(node, packet.key)  # a retransmission still queued
        self._routing_to_client(node, packet.id, Routing.NONE, node.num)

    def _on_packet_for_us(self, node: _Node, packet: AirPacket, decoded: mesh_pb2.Data) -> None:
        if decoded.portnum == portnums_pb2.PortNum.ROUTING_APP and decoded.request_id:
            # A remote ACK/NAK: the client has it (delivered above); stop retransmitting.
            pending = node.pending.pop(decoded.request_id, None)
            if pending is not None:
                self._cancel_relay(node, pending.packet.key)
            return
        if packet.want_ack:
            self._send_routing(node, packet, Routing.NONE)

    def _send_routing(self, node: _Node, request: AirPacket, error: int) -> None:
        """An ACK (or NAK) over the air to the sender of ``request``."""
        hops_used = max(request.hop_start - request.hop_limit, 0)
        hop_limit = hops_used if hops_used > self.hop_limit else min(hops_used + 2, self.hop_limit)
        data = mesh_pb2.Data(
            portnum=portnums_pb2.PortNum.ROUTING_APP,
            payload=Routing(error_reason=error).SerializeToString(),
            request_id=request.id,
            bitfield=0,
        )
        ack = AirPacket(
            source=node.num,
            dest=request.source,
            id=self._new_packet_id(),
            hop_limit=hop_limit,
            hop_start=hop_limit,
            want_ack=False,
            data=data.SerializeToString(),
            channel=request.channel,
            priority=Priority.ACK,
            relay_node=node.num & 0xFF,
        )
        self._send(node, ack, relay_snr=None)

    def _perhaps_relay(self, node: _Node, packet: AirPacket, snr: float) -> None:
        if packet.hop_limit <= 0 or packet.id == 0 or node.spec.role == "CLIENT_MUTE":
            return
        self._send(node, replace(packet, hop_limit=packet.hop_limit - 1), relay_snr=snr)

    def _in_queue(self, node: _Node, key: tuple[int, int]) -> bool:
        return any(q.packet.key == key for q in node.queue)

    def _cancel_relay(self, node: _Node, key: tuple[int, int]) -> bool:
        before = len(node.queue)
        node.queue = [q for q in node.queue if q.packet.key != key]
        return len(node.queue) < before

    # -------------------------------------------------------------- to the API client

    def _deliver(self, node: _Node, packet: AirPacket, *, snr: float, rssi: int) -> None:
        self._events.append(Delivery(node.num, packet, self.now, snr, rssi))

    def _routing_to_client(self, node: _Node, request_id: int, error: int, source: int) -> None:
        """An ACK/NAK generated by the radio itself for its API client."""
        data = mesh_pb2.Data(
            portnum=portnums_pb2.PortNum.ROUTING_APP,
            payload=Routing(error_reason=error).SerializeToString(),
            request_id=request_id,
        )
        packet = AirPacket(
            source=source,
            dest=node.num,
            id=self._new_packet_id(),
            hop_limit=0,
            hop_start=0,
            want_ack=False,
            data=data.SerializeToString(),
            priority=Priority.ACK,
        )
        self._deliver(node, packet, snr=0.0, rssi=0)

    def _new_packet_id(self) -> int:
        return self.rng.randrange(1, 2**32)


# ---------------------------------------------------------------- helpers


def contention_window(snr: float) -> int:
    """The contention window exponent for a relay (RadioInterface::getCWsize): SNR mapped
    linearly from -20 dB → 3 to +10 dB → 8, so a weaker signal relays sooner."""
    cw = CW_MIN + (int(snr) - SNR_MIN) * (CW_MAX - CW_MIN) // (SNR_MAX - SNR_MIN)
    return _clamp(cw, CW_MIN, CW_MAX)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _copy_data(data: mesh_pb2.Data) -> mesh_pb2.Data:
    copy = mesh_pb2.Data()
    copy.CopyFrom(data)
    return copy


def build_topology(kind: str, count: int, preset: ModemPreset, *, loss: float = 0.0) -> Topology:
    """``chain``, ``full`` or the path of a TOML file (see ``Topology.from_toml``)."""
    if kind == "chain":
        return Topology.chain(count, Link(loss=loss))
    if kind == "full":
        return Topology.full(count, Link(loss=loss))
    return Topology.from_toml(kind, preset, loss=loss)


def transmissions_of(
    log: Iterable[Transmission], *, source: int | None = None, packet_id: int | None = None
) -> list[Transmission]:
    """Filter a transmission log by original sender and/or packet id."""
    return [
        tx
        for tx in log
        if (source is None or tx.packet.source == source)
        and (packet_id is None or tx.packet.id == packet_id)
    ]
