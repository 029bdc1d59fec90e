"""A LoRa neighbourhood in virtual time: every household's node with its Meshtastic radio.

Real: the airspace and the firmware's managed flooding, collisions and duty cycle
(:mod:`radio.airspace`), airtime (:mod:`radio.airtime`), the airtime scheduler with its
priority classes (:mod:`radio.scheduler`), the framing, compact envelopes, fragments,
summaries and reassembly (:mod:`protocol.radio_frame`), the handset texts
(:mod:`protocol.handset`), signing and the receiver checks (:mod:`node.sim.messages`).

Modelled: the node's LoRa service (node/lora.py), whose decisions this module repeats
without trio or a radio link, with its constants (imported from it): a new message of the
household is offered to the scheduler (check-ins coalesced, bulk never), urgent ones also as
a handset text; the scheduler's next frame goes to the radio as soon as the scheduler
allows, our frames with the hop limit the radio's node list needs (``hopsAway``, as the
node reads it when it connects), handset texts with the radio's own; frames heard are
reassembled, checked and stored (and cancel the same message still queued); a SUMMARY goes
out every ``summary_interval_s`` (±25 %) to direct neighbours only (hop limit 0), skipped
when another node's summary was heard since our last one, and a node hearing one answers,
after 2–8 s, with up to 4 messages the summary certainly lacks. Radios relay as the
firmware does (a CLIENT_MUTE radio never relays); every node knows every household's key
(a zone that has run for more than a day), so authors are abbreviated.

Channel utilisation is measured as Meshtastic reports it: the share of time a radio hears
the channel busy (any audible frame, its own included), over the measured hours and over the
worst minute.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from meshtastic.protobuf import mesh_pb2

from protocol import handset
from protocol.envelope import Envelope
from protocol.errors import PeerError, UnknownKeyRef
from protocol.radio_frame import (
    RADIO_PORT,
    KeyBook,
    RadioMessage,
    RadioPriority,
    Reassembler,
    SummaryFrame,
    build_summary,
    encode_summary,
    radio_priority,
)
from radio.airspace import (
    BROADCAST,
    CW_MAX,
    CW_MIN,
    Airspace,
    Delivery,
    Topology,
    default_radios,
)
from radio.airtime import MAX_LORA_FRAME_BYTES, PRESETS, airtime_s
from radio.link import covering_hop_limit
from radio.scheduler import AirtimeScheduler, Outgoing, Refused

from ..lora import (
    ANSWER_DELAY_S,
    ANSWER_MAX,
    HEARD_REMEMBERED,
    HOP_LIMIT_FROM_NODE_LIST,
    SUMMARY_HOP_LIMIT,
    SUMMARY_INTERVAL_S,
    SUMMARY_MAX_IDS,
    SUMMARY_SUPPRESSED,
    SUMMARY_WINDOW_S,
)
from .loop import EventLoop
from .messages import MessageBook
from .sync import Holdings
from .wifi import ZONE

__all__ = [
    "LORA_BEFORE",
    "LORA_RELAYS",
    "LORA_SETUPS",
    "LORA_TODAY",
    "LoraFigure",
    "LoraSetup",
    "lora_figure",
]

TEXT_PORT = 1  # TEXT_MESSAGE_APP (radio/link.py)
#: Delivery is counted this long after each message was posted, then after the drain.
SOON_S = 300.0


@dataclass(frozen=True)
class LoraSetup:
    name: str = "node/lora.py today"
    nodes: int = 150
    area_m: float = 4000.0  # households spread over a square this wide
    path_loss_exponent: float = 3.5  # built-up area
    preset: str = "LONG_FAST"
    region: str = "EU_868"
    hop_limit: int = 3
    #: Send our messages with the smallest hop limit that reaches every radio ours knows of
    #: (the firmware's node list says how many hops away each is), not the radio's default.
    hop_limit_auto: bool = HOP_LIMIT_FROM_NODE_LIST
    #: Share of the radios that relay (role CLIENT); the others are CLIENT_MUTE.
    relay_share: float = 1.0
    checkins_per_hour: float = 1.0  # per household
    alerts_per_hour: float = 10.0  # in the whole mesh
    warmup_s: float = 1800.0
    hours: float = 1.0
    summary_interval_s: float = SUMMARY_INTERVAL_S
    summary_hop_limit: int | None = SUMMARY_HOP_LIMIT  # None: the radio's (hop_limit)
    #: Skip a summary when another node's summary was heard since our last one.
    summary_suppress: bool = SUMMARY_SUPPRESSED
    handset_texts: bool = True
    #: After the measured hours, no new messages: catch-up runs this long before delivery
    #: is counted.
    drain_s: float = 1800.0
    seed: int = 1


#: The real node's defaults (node/lora.py), every radio relaying (role CLIENT).
LORA_TODAY = LoraSetup()
#: History: the node until these defaults, whose summaries saturated the channel.
LORA_BEFORE = replace(
    LORA_TODAY,
    name="before: summaries every 10 min to the whole mesh",
    summary_interval_s=600.0,
    summary_hop_limit=None,
    summary_suppress=False,
    hop_limit_auto=False,
)
#: A deployment choice, not the node's: a fifth of the radios relay, the others are set to
#: role CLIENT_MUTE (README, "LoRa radio"; SPEC.md 11.5).
LORA_RELAYS = replace(
    LORA_TODAY,
    name="node/lora.py today, a fifth of the radios relaying (the others CLIENT_MUTE)",
    relay_share=0.2,
)
LORA_SETUPS = (LORA_BEFORE, LORA_TODAY, LORA_RELAYS)


class _SimAirspace(Airspace):
    """:class:`radio.airspace.Airspace` with one shortcut: a radio's channel utilisation, from
    which it sizes its contention window, is recomputed at most once per simulated second
    (instead of at every attempt to transmit). Same behaviour, far less work when the channel
    is saturated and every radio keeps backing off."""

    UTILISATION_REFRESH_S = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._utilisation: dict[int, tuple[float, int]] = {}
        self._longest_frame_s = airtime_s(MAX_LORA_FRAME_BYTES, self.preset)

    def _hears_activity(self, node: Any) -> bool:
        """As the original, looking only at the frames started within the longest airtime
        (frames are on the air list in the order they started)."""
        now, horizon = self.now, self.now - self._longest_frame_s
        for tx in reversed(self._on_air):
            if tx.start < horizon:
                return False
            if tx.start <= now < tx.end and self.link(tx.sender, node.num) is not None:
                return True
        return False

    def _own_delay(self, node: Any) -> float:
        cached = self._utilisation.get(node.num)
        if cached is None or self.now - cached[0] >= self.UTILISATION_REFRESH_S:
            cached = (self.now, int(node.channel_utilization(self.now) * 100))
            self._utilisation[node.num] = cached
        cw = CW_MIN + cached[1] * (CW_MAX - CW_MIN) // 100
        return self._cw_delay(max(CW_MIN, min(CW_MAX, cw)))


@dataclass
class _Radio:
    """One household's node and its radio, as node/lora.py's LoraService sees them."""

    index: int
    num: int
    scheduler: AirtimeScheduler
    reassembler: Reassembler
    heard: OrderedDict[bytes, None] = field(default_factory=OrderedDict)
    texts: dict[bytes, str] = field(default_factory=dict)
    summaries: set[bytes] = field(default_factory=set)  # item ids of our summaries
    hop_limit: int | None = None  # for our messages; None: the radio's default
    labels: dict[bytes, str] = field(default_factory=dict)  # item id -> "answer"
    heard_summary: bool = False
    wake_at: float = math.inf


@dataclass(frozen=True)
class LoraFigure:
    setup: LoraSetup
    utilisation_max: float  # the busiest node's channel utilisation over the measured hours
    utilisation_median: float
    worst_minute: float  # the busiest minute at the busiest node
    air_util_tx_max: float  # a node's own share of the air (duty cycle is 10 %)
    transmissions_per_hour: int
    airtime_by_kind: dict[str, float]  # seconds per hour: checkin, alert, text, summary, answer
    relayed_share: float  # share of transmissions that were relays
    delivered_soon: float  # share of (node, message) pairs held 5+ min after posting
    delivered: float  # ... and after ``drain_s`` of catch-up
    delivery_p90_s: float | None  # time until a message is held, 90th percentile
    collisions: int
    neighbours_median: float
    hops_max: int
    wall_s: float


class _LoraWorld:
    def __init__(self, setup: LoraSetup) -> None:
        self.setup = setup
        self.rng = random.Random(setup.seed)
        self.loop = EventLoop()
        self.book = MessageBook(ZONE, setup.nodes, seed=setup.seed)
        self.holdings = Holdings(self.book, setup.nodes)
        preset = PRESETS[setup.preset]
        positions = [
            (self.rng.uniform(0, setup.area_m), self.rng.uniform(0, setup.area_m))
            for _ in range(setup.nodes)
        ]
        self.topology = Topology.from_positions(
            positions, preset, path_loss_exponent=setup.path_loss_exponent
        )
        radios = default_radios(setup.nodes)
        relays = set(self.rng.sample(range(setup.nodes), round(setup.relay_share * setup.nodes)))
        radios = [
            r if i in relays else replace(r, role="CLIENT_MUTE") for i, r in enumerate(radios)
        ]
        self.air = _SimAirspace(
            radios,
            self.topology,
            preset=preset,
            region=setup.region,
            hop_limit=setup.hop_limit,
            seed=setup.seed,
            log_limit=2_000_000,
        )
        self.by_num = {r.num: i for i, r in enumerate(radios)}
        keys = KeyBook(self.book.public_keys)  # every household known for more than a day
        self.keys = keys
        self.radios = [
            _Radio(
                i,
                r.num,
                AirtimeScheduler(preset=preset, region=self.air.region),
                Reassembler(zone=ZONE),
            )
            for i, r in enumerate(radios)
        ]
        if setup.hop_limit_auto:  # node/lora.py: LoraService.hop_limit
            for radio in self.radios:
                known = self.air.known_nodes(radio.num)
                radio.hop_limit = covering_hop_limit((hops for *_, hops in known), setup.hop_limit)
        self.kind_of_packet: dict[tuple[int, int], str] = {}
        self._might_hold: OrderedDict[bytes, dict[int, bool]] = OrderedDict()
        self.unknown_keys = 0

    # --- time --------------------------------------------------------------------------------

    def run_until(self, end: float) -> None:
        loop, air = self.loop, self.air
        while True:
            t_loop, t_air = loop.next_time(), air.next_deadline()
            candidates = [t for t in (t_loop, t_air) if t is not None and t <= end]
            if not candidates:
                break
            t = min(candidates)
            if t_air is not None and t_air == t and (t_loop is None or t_air < t_loop):
                loop.run_until(t)
                air.advance(t)
            else:
                loop.run_until(t)
            self._deliveries()
        loop.run_until(end)
        air.advance(end)
        self._deliveries()

    def _deliveries(self) -> None:
        for event in self.air.take_events():
            if isinstance(event, Delivery) and event.packet.dest == BROADCAST:
                self._heard(self.radios[self.by_num[event.node]], event.packet.decoded())

    # --- out ---------------------------------------------------------------------------------

    def post(self, node: int, message: int) -> None:
        """The household posts a message: stored, then offered to the radio (node.post)."""
        env = self.book.messages[message].env
        self.holdings.store(node, message, self.loop.now, "local")
        radio = self.radios[node]
        priority = radio_priority(env)
        if priority is RadioPriority.BULK:
            return
        self._enqueue(radio, Outgoing.from_envelope(env, keys=self.keys), priority, "message")
        if self.setup.handset_texts and handset.is_urgent(env):
            text = handset.render_for_handset(env, "fr", now=self.book.unix(self.loop.now))
            item_id = b"T" + BROADCAST.to_bytes(4, "big") + text.encode()[:27]
            radio.texts[item_id] = text
            self._enqueue(
                radio, Outgoing(frames=(text.encode(),), id=item_id), RadioPriority.URGENT, "text"
            )

    def _enqueue(self, radio: _Radio, item: Outgoing, priority: RadioPriority, kind: str) -> None:
        outcome = radio.scheduler.enqueue(item, priority, self.loop.now)
        if isinstance(outcome, Refused):
            radio.texts.pop(item.id, None)
            return
        if kind == "answer":
            radio.labels[item.id] = kind
        for dropped in outcome.dropped:
            radio.texts.pop(dropped.item.id, None)
        self._wake(radio, self.loop.now)

    def _wake(self, radio: _Radio, when: float) -> None:
        if when >= radio.wake_at:
            return
        radio.wake_at = when
        self.loop.at(when, lambda: self._send(radio, when))

    def _send(self, radio: _Radio, scheduled: float) -> None:
        if radio.wake_at != scheduled:
            return
        radio.wake_at = math.inf
        now = self.loop.now
        tx = radio.scheduler.next_to_send(now)
        if tx is not None:
            item = tx.item
            text = item.id in radio.texts
            summary = item.id in radio.summaries
            hop_limit = self.setup.summary_hop_limit if summary else None
            if not text and not summary and tx.priority is RadioPriority.CHECKIN:
                hop_limit = radio.hop_limit  # node/lora.py: LoraService.hop_limit
            packet_id = self.rng.randrange(1, 2**32)
            kind = "text" if text else "summary" if summary else _kind_of(item, self.book)
            kind = radio.labels.get(item.id, kind)
            self.kind_of_packet[(radio.num, packet_id)] = kind
            self.air.submit(
                radio.num,
                now=now,
                to=BROADCAST,
                packet_id=packet_id,
                data=mesh_pb2.Data(portnum=TEXT_PORT if text else RADIO_PORT, payload=tx.frame),
                hop_limit=hop_limit,
            )
            if tx.index == tx.count - 1:
                radio.texts.pop(item.id, None)
                radio.summaries.discard(item.id)
                radio.labels.pop(item.id, None)
        until = radio.scheduler.wait_until(now)
        if until is not None:
            self._wake(radio, max(until, now + 1e-3))

    # --- in ----------------------------------------------------------------------------------

    def _heard(self, radio: _Radio, data: mesh_pb2.Data) -> None:
        if data.portnum == TEXT_PORT:
            text = data.payload.decode("utf-8", "replace")
            for item_id, queued in list(radio.texts.items()):
                if queued == text:  # another gateway told the handsets already
                    radio.scheduler.cancel(item_id)
                    radio.texts.pop(item_id, None)
            return
        if data.portnum != RADIO_PORT:
            return
        held = self.holdings.held[radio.index]
        prefixes = self.book.by_prefix

        def have(prefix: bytes) -> bool:
            return any(m in held for m in prefixes.get(prefix, ()))

        try:
            got = radio.reassembler.receive(
                data.payload, now=self.loop.now, keys=self.keys, have=have
            )
        except UnknownKeyRef:
            self.unknown_keys += 1
            return
        except PeerError:
            return
        if isinstance(got, RadioMessage):
            self._message(radio, got.envelope)
        elif isinstance(got, SummaryFrame):
            radio.heard_summary = True
            delay = self.rng.uniform(*ANSWER_DELAY_S)
            payload = bytes(data.payload)
            self.loop.after(delay, lambda: self._answer(radio, got, payload))

    def _message(self, radio: _Radio, raw: bytes) -> None:
        try:
            env = self.book.accept(raw, self.book.unix(self.loop.now))
        except PeerError:
            return
        radio.heard[env.id] = None
        while len(radio.heard) > HEARD_REMEMBERED:
            radio.heard.popitem(last=False)
        radio.scheduler.cancel(env.id)  # another node carried it
        self.holdings.store(radio.index, self.book.by_id[env.id], self.loop.now, "radio")

    # --- catch-up ----------------------------------------------------------------------------

    def start_summaries(self) -> None:
        for radio in self.radios:
            self._summary_later(radio)

    def _summary_later(self, radio: _Radio) -> None:
        delay = self.setup.summary_interval_s * self.rng.uniform(0.75, 1.25)
        self.loop.after(delay, lambda: self._summary(radio))

    def _live_recent(self, node: int) -> list[Envelope]:
        now = self.book.unix(self.loop.now)
        messages = self.book.messages
        recent = [
            messages[m].env
            for m in self.holdings.held[node]
            if messages[m].created >= now - SUMMARY_WINDOW_S and messages[m].env.expires > now
        ]
        recent.sort(key=lambda e: e.created)
        return recent

    def _summary(self, radio: _Radio) -> None:
        self._summary_later(radio)
        if self.setup.summary_suppress and radio.heard_summary:
            radio.heard_summary = False
            return
        radio.heard_summary = False
        envs = self._live_recent(radio.index)[-SUMMARY_MAX_IDS:]
        now = self.book.unix(self.loop.now)
        since = envs[0].created if envs else now - SUMMARY_WINDOW_S
        summary = build_summary((e.id for e in envs), since=since, salt=self.rng.randrange(256))
        frame = encode_summary(summary, zone=ZONE)
        item = Outgoing(frames=(frame,), id=b"S" + frame[-8:])
        radio.summaries.add(item.id)
        self._enqueue(radio, item, RadioPriority.CHECKIN, "summary")

    def _answer(self, radio: _Radio, summary: SummaryFrame, payload: bytes) -> None:
        known = self._might_hold.setdefault(payload, {})
        self._might_hold.move_to_end(payload)
        while len(self._might_hold) > 256:
            self._might_hold.popitem(last=False)
        missing = []
        for env in self._live_recent(radio.index):
            if env.created < summary.since:
                continue
            if env.id in radio.heard:
                continue  # node/lora.py answers only with what it did not hear by radio
            if radio_priority(env) is RadioPriority.BULK:
                continue
            index = self.book.by_id[env.id]
            if index not in known:
                known[index] = summary.might_hold(env.id)
            if not known[index]:
                missing.append(env)
        missing.sort(key=lambda e: (radio_priority(e), -e.created))
        for env in missing[:ANSWER_MAX]:
            item = Outgoing.from_envelope(env, keys=self.keys)
            self._enqueue(radio, item, radio_priority(env), "answer")


def _kind_of(item: Outgoing, book: MessageBook) -> str:
    index = book.by_id.get(item.id)
    if index is None:
        return "other"
    return book.messages[index].kind.name.lower()


def lora_figure(setup: LoraSetup = LORA_TODAY) -> LoraFigure:
    """Households post a check-in an hour each and the mesh 10 alerts an hour, from time 0
    until the end of the measured hours; utilisation is measured after ``warmup_s``,
    delivery after ``drain_s`` more (catch-up)."""
    started = time.perf_counter()
    world = _LoraWorld(setup)
    rng, book = world.rng, world.book
    end = setup.warmup_s + setup.hours * 3600
    world.start_summaries()
    posted: dict[int, float] = {}

    def schedule(node: int, alert: bool, at: float, number: int) -> None:
        def act() -> None:
            now = book.unix(world.loop.now)
            made = book.alert(node, now, number) if alert else book.checkin(node, now)
            posted[made.index] = world.loop.now
            world.post(node, made.index)

        world.loop.at(at, act)

    for node in range(setup.nodes):
        every = 3600 / setup.checkins_per_hour
        t = rng.uniform(0, every)
        while t < end:
            schedule(node, False, t, 0)
            t += every
    count = 0
    t = rng.expovariate(setup.alerts_per_hour / 3600)
    while t < end:
        schedule(rng.randrange(setup.nodes), True, t, count)
        count += 1
        t += rng.expovariate(setup.alerts_per_hour / 3600)
    world.run_until(end + setup.drain_s)
    return _measure(world, posted, started)


def _busy_share(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    busy, covered = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, covered), min(b, end)
        if b > a:
            busy += b - a
            covered = b
    return busy / (end - start)


def _measure(world: _LoraWorld, posted: dict[int, float], started: float) -> LoraFigure:
    setup, air = world.setup, world.air
    start, end = setup.warmup_s, setup.warmup_s + setup.hours * 3600
    transmissions = [tx for tx in air.transmissions if tx.end > start and tx.start < end]
    heard: dict[int, list[tuple[float, float]]] = {r.num: [] for r in world.radios}
    for tx in transmissions:
        heard[tx.sender].append((tx.start, tx.end))
        for rx in heard:
            if rx != tx.sender and air.link(tx.sender, rx) is not None:
                heard[rx].append((tx.start, tx.end))
    shares = {num: _busy_share(v, start, end) for num, v in heard.items()}
    busiest = max(shares, key=shares.__getitem__)
    minutes = [
        _busy_share(heard[busiest], m, m + 60.0) for m in range(int(start), int(end) - 59, 60)
    ]
    airtime: dict[str, float] = {}
    for tx in transmissions:
        kind = world.kind_of_packet.get((tx.packet.source, tx.packet.id), "routing")
        airtime[kind] = airtime.get(kind, 0.0) + tx.airtime_s / setup.hours
    measured = [m for m, at in posted.items() if start <= at < end]
    pairs = max(len(measured) * setup.nodes, 1)
    first = world.holdings.first
    delays = sorted(
        t - posted[m] for m in measured for t in first.get(m, {}).values() if t > posted[m]
    )
    stats = air.statistics()
    return LoraFigure(
        setup=setup,
        utilisation_max=shares[busiest],
        utilisation_median=statistics.median(shares.values()),
        worst_minute=max(minutes) if minutes else 0.0,
        air_util_tx_max=max(s.air_util_tx for s in stats.values()),
        transmissions_per_hour=round(len(transmissions) / setup.hours),
        airtime_by_kind={k: round(v, 1) for k, v in sorted(airtime.items())},
        relayed_share=sum(tx.is_relay for tx in transmissions) / max(len(transmissions), 1),
        delivered_soon=sum(
            1 for m in measured for t in first.get(m, {}).values() if t <= posted[m] + SOON_S
        )
        / pairs,
        delivered=sum(len(first.get(m, {})) for m in measured) / pairs,
        delivery_p90_s=delays[int(0.9 * (len(delays) - 1))] if delays else None,
        collisions=sum(s.rx_collisions for s in stats.values()),
        neighbours_median=statistics.median(
            sum(1 for (a, _b) in world.topology.links if a == i) for i in range(setup.nodes)
        ),
        hops_max=_hops(world.topology),
        wall_s=time.perf_counter() - started,
    )


def _hops(topology: Topology) -> int:
    """The mesh's diameter in radio hops (breadth-first search from every radio)."""
    neighbours: dict[int, list[int]] = {i: [] for i in range(topology.size)}
    for a, b in topology.links:
        neighbours[a].append(b)
    worst = 0
    for source in range(topology.size):
        seen = {source: 0}
        frontier = [source]
        while frontier:
            following = []
            for node in frontier:
                for other in neighbours[node]:
                    if other not in seen:
                        seen[other] = seen[node] + 1
                        following.append(other)
            frontier = following
        worst = max(worst, max(seen.values()))
    return worst
