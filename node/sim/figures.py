"""The simulator's figures: each runs one scenario and returns what it measured.

- :func:`alert_figure`: alerts posted at random nodes of a town; time until 99 % of the nodes
  hold each, and duplicate receptions per node per message (gossip over lossy links).
- :func:`heal_figure`: a town cut in two for 24 hours, each half posting; when the links come
  back, the time until every node holds the union, and the catch-up's control bytes against
  the envelope bytes it moved.
- :func:`churn_figure`: households leaving and coming back while alerts flow; how soon a
  returning node holds what it missed.
- :func:`replay`: a small scenario of real node processes (tests/sim/test_real_vs_sim.py),
  replayed node for node.
- :func:`node.sim.lora.lora_figure` (its own module): channel utilisation of a LoRa mesh.

Gossip configurations are :data:`node.sim.gossip.PRESETS`: ``announce``
(:data:`~node.sim.gossip.DEFAULT_PRESET`) is what ``entraide node`` does by default,
``gossipsub`` what it does with ``--gossip mesh``; the others are what it could do instead.
The alert and churn figures run the default unless told otherwise; :func:`replay` must be
given the preset of the mode the real nodes ran (``gossipsub`` unless told).
"""

from __future__ import annotations

import functools
import math
import random
import statistics
import time
from dataclasses import dataclass

from .gossip import DEFAULT_PRESET, PRESETS
from .ipnet import NetParams
from .sync import SyncConfig
from .wifi import WifiSetup, WifiWorld

__all__ = [
    "AlertFigure",
    "ChurnFigure",
    "HealFigure",
    "ReplayCounts",
    "alert_figure",
    "churn_figure",
    "heal_figure",
    "replay",
]

#: Redial backoff of a node that has been cut off for long (node/wifi.py: 30 s, ±20 %).
REDIAL_MAX_S = 30.0
HOUR = 3600
#: The what-if of HealFigure: a Bloom filter at 10 bits an id, and each session's fixed part
#: (HELLO's zone, salt, size and fingerprint, REPLY, DONE both ways).
BLOOM_BYTES_PER_ID = 10 / 8
BLOOM_SESSION_OVERHEAD = 48


@dataclass(frozen=True)
class AlertFigure:
    preset: str
    nodes: int
    loss: float
    alerts: int
    t99_median_s: float | None  # over the alerts; None if some alert never reached 99 %
    t99_max_s: float | None
    t100_max_s: float | None
    delivered: float  # share of (node, alert) pairs held at the end
    duplicates_per_node: float  # duplicate payload receptions per node per alert
    payload_bytes_per_node: float  # envelope bytes sent per node per alert
    control_bytes_per_node: float  # everything else gossip sent (headers, IHAVE, IWANT, ...)
    wall_s: float
    events: int


def alert_figure(
    *,
    nodes: int = 1000,
    loss: float = 0.2,
    alerts: int = 10,
    preset: str = DEFAULT_PRESET,
    seed: int = 1,
    spacing_s: float = 3.0,
    settle_s: float = 5.0,
) -> AlertFigure:
    """``alerts`` alerts, one every ``spacing_s``, each posted by a random household; links
    lose ``loss`` of what they carry. Gossip runs ``settle_s`` first to form its mesh."""
    started = time.perf_counter()
    setup = WifiSetup(nodes=nodes, net=NetParams(loss=loss), gossip=PRESETS[preset], seed=seed)
    world = WifiWorld(setup)
    world.start()
    world.loop.run_until(settle_s)
    posted: list[int] = []
    for number in range(alerts):
        origin = world.rng.randrange(nodes)
        message = world.book.alert(origin, world.book.unix(world.loop.now), number).index
        world.note_size(message)
        world.post(origin, message)
        posted.append(message)
        world.loop.run_until(world.loop.now + spacing_s)
    world.loop.run_until(  # what gossip missed, periodic catch-up (60 s) brings
        world.loop.now + 120.0,
        stop=lambda: all(world.holders(m) == nodes for m in posted),
    )
    t99 = [world.reach_time(m, 0.99) for m in posted]
    t100 = [world.reach_time(m, 1.0) for m in posted]
    assert world.gossip is not None
    stats = world.gossip.statistics()
    pairs = nodes * alerts
    gossip_bytes = sum(world.net.bytes[k] for k in ("publish", "ihave", "iwant", "graft-prune"))
    return AlertFigure(
        preset=preset,
        nodes=nodes,
        loss=loss,
        alerts=alerts,
        t99_median_s=None if None in t99 else statistics.median(t for t in t99 if t is not None),
        t99_max_s=None if None in t99 else max(t for t in t99 if t is not None),
        t100_max_s=None if None in t100 else max(t for t in t100 if t is not None),
        delivered=sum(world.holders(m) for m in posted) / pairs,
        duplicates_per_node=stats["duplicate_receptions"] / pairs,
        payload_bytes_per_node=world.gossip.payload_bytes / pairs,
        control_bytes_per_node=(gossip_bytes - world.gossip.payload_bytes) / pairs,
        wall_s=time.perf_counter() - started,
        events=world.loop.events_run,
    )


@dataclass(frozen=True)
class HealFigure:
    nodes: int
    union: int  # messages every node must hold in the end
    posted_during: int  # messages posted during the partition, both halves
    cross_links: int
    first_link_s: float  # when the first link across came back
    t99_s: float | None  # from the first link back until 99 % of the nodes held the union
    t_all_s: float | None  # ... until every node did
    control_bytes: int  # catch-up bytes that were not envelopes
    envelope_bytes: int  # ENVELOPES frames (envelopes, lengths, frame headers)
    redundant_envelopes: int  # envelopes received that the node already had
    #: What-if: control bytes had each session that found a difference swapped Bloom filters
    #: of both sets (10 bits an id, as LoRa summaries; SPEC 11.5) instead of cells or ids.
    bloom_control_bytes: int
    sessions: int
    failed: int
    modes: dict[str, int]
    wall_s: float

    @property
    def control_share(self) -> float:
        return self.control_bytes / max(self.envelope_bytes, 1)

    @property
    def bloom_share(self) -> float:
        return self.bloom_control_bytes / max(self.envelope_bytes, 1)


def heal_figure(
    *,
    nodes: int = 1000,
    hours: float = 24.0,
    per_household: int = 2,
    base_per_household: int = 1,
    seed: int = 1,
    limit_s: float = 300.0,
    sync: SyncConfig | None = None,
) -> HealFigure:
    """A town cut in two along its middle for ``hours``; before, every node held
    ``base_per_household`` check-ins of each household; during, each household posts
    ``per_household`` check-ins that reach every node of its half (the alert figure shows
    gossip does that within seconds, so those hours are not simulated). Then the links across
    come back, each when the first of its two ends redials (node/wifi.py backs off to 30 s
    ± 20 % against an unreachable peer), and catch-up (node/sync.py) heals the town. Gossip
    carries nothing new meanwhile and is not simulated."""
    started = time.perf_counter()
    setup = WifiSetup(nodes=nodes, gossip=None, sync=sync or SyncConfig(), seed=seed)
    world = WifiWorld(setup)
    rng, book, holdings, net = world.rng, world.book, world.holdings, world.net
    middle = statistics.median(x for x, _ in net.positions)
    west = [x < middle for x, _ in net.positions]
    cross = [(a, b) for a, b in net.edges if west[a] != west[b]]
    for a, b in cross:
        net.set_link(a, b, False)
    now = book.unix(0.0)
    everyone = range(nodes)
    for author in everyone:
        for _ in range(base_per_household):
            created = now - int(hours * HOUR) - rng.randrange(12 * HOUR)
            message = book.checkin(author, created).index
            for node in everyone:
                holdings.store(node, message, -1.0, "before")
    during = 0
    for author in everyone:
        for _ in range(per_household):
            message = book.checkin(author, now - rng.randrange(int(hours * HOUR))).index
            during += 1
            for node in everyone:
                if west[node] == west[author]:
                    holdings.store(node, message, -1.0, "before")
    union = len(book.messages)
    missing = [union - len(holdings.held[node]) for node in everyone]
    complete_at: list[float] = []

    def stored(node: int, message: int, source: str) -> None:
        missing[node] -= 1
        if missing[node] == 0:
            complete_at.append(world.loop.now)

    holdings.listeners.append(stored)
    world.start()
    back: list[float] = []
    for a, b in cross:
        delays = [rng.uniform(0, REDIAL_MAX_S * rng.uniform(0.8, 1.2)) for _ in (a, b)]
        back.append(min(delays))
        world.loop.at(min(delays), functools.partial(net.set_link, a, b, True))
    world.loop.run_until(limit_s, stop=lambda: len(complete_at) == nodes)
    first = min(back) if back else 0.0
    assert world.sync is not None
    counts = world.sync.counts
    needed = math.ceil(0.99 * nodes)
    return HealFigure(
        nodes=nodes,
        union=union,
        posted_during=during,
        cross_links=len(cross),
        first_link_s=first,
        t99_s=complete_at[needed - 1] - first if len(complete_at) >= needed else None,
        t_all_s=complete_at[-1] - first if len(complete_at) == nodes else None,
        control_bytes=counts["bytes_control"],
        envelope_bytes=counts["bytes_envelopes"],
        redundant_envelopes=counts["envelopes_redundant"],
        bloom_control_bytes=counts["bytes_control_equal"]
        + math.ceil(BLOOM_BYTES_PER_ID * counts["held_in_unequal_sessions"])
        + BLOOM_SESSION_OVERHEAD * (counts["done"] - world.sync.modes["equal"]),
        sessions=counts["started"],
        failed=counts["failed"],
        modes=dict(world.sync.modes),
        wall_s=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class ReplayCounts:
    """What a small scenario replayed in the simulator counted, node by node."""

    delivered: float  # share of (node, message) pairs held at the end
    copies: list[int]  # payload receptions (first or not) per node
    duplicates: list[int]
    ihave: list[int]  # IHAVE control messages received per node
    sync_sessions: int  # catch-up sessions completed, both sides counted
    received_by_sync: int  # messages stored from catch-up


def replay(
    nodes: int,
    edges: set[tuple[int, int]],
    posts: list[tuple[float, int]],
    *,
    preset: str = "gossipsub",
    settle_s: float = 3.0,
    wait_s: float = 30.0,
    seed: int = 1,
) -> ReplayCounts:
    """The scenario of a real multi-process run, in the simulator (``preset``: the one of
    the gossip mode the real nodes ran, ``gossipsub`` for ``--gossip mesh``, ``announce``
    for ``--gossip announce``): ``nodes`` on loopback
    (0.5 ms links, no loss), connected along ``edges`` from time 0; after ``settle_s``, each
    ``(offset_s, node)`` of ``posts`` has that node publish a check-in of its own household
    (a distinct household per post)."""
    net = NetParams(base_latency_s=0.0005, latency_per_km_s=0.0, loss=0.0, bandwidth_bps=1e9)
    setup = WifiSetup(
        nodes=nodes, net=net, gossip=PRESETS[preset], seed=seed, households=nodes + len(posts)
    )
    world = WifiWorld(setup, edges=edges)
    world.start(connect=True)
    world.loop.run_until(settle_s)
    posted: list[int] = []
    for number, (offset, origin) in enumerate(posts):
        world.loop.run_until(settle_s + offset)
        now = world.book.unix(world.loop.now)
        message = world.book.checkin(nodes + number, now, text=f"bench {number}").index
        world.note_size(message)
        world.post(origin, message)
        posted.append(message)
    world.loop.run_until(
        world.loop.now + wait_s, stop=lambda: all(world.holders(m) == nodes for m in posted)
    )
    world.loop.run_until(world.loop.now + 2.0)  # late copies still on their way
    assert world.gossip is not None and world.sync is not None
    gossip = world.gossip
    return ReplayCounts(
        delivered=sum(world.holders(m) for m in posted) / (nodes * len(posted)),
        copies=list(gossip.copies),
        duplicates=list(gossip.duplicates),
        ihave=list(gossip.ihave_received),
        sync_sessions=world.sync.counts["side_done"],
        received_by_sync=world.holdings.by_source["sync"],
    )


@dataclass(frozen=True)
class ChurnFigure:
    nodes: int
    loss: float
    alerts: int
    departures: int  # times a node left (and came back)
    delivered: float  # share of (node, alert) pairs held at the end
    catch_up_median_s: float | None  # from a node's return until it held what it missed
    catch_up_max_s: float | None
    missed_on_return: int  # (node, alert) pairs posted while a node was away
    wall_s: float


def _redial_delay(rng: random.Random, away_s: float) -> float:
    """When a node's redial timer next fires after ``away_s`` of failed dials (node/wifi.py:
    from 0.5 s, doubling, at most 30 s, ±20 %)."""
    period, elapsed = 0.5, 0.0
    while elapsed + period < away_s and period < REDIAL_MAX_S:
        elapsed += period
        period = min(2 * period, REDIAL_MAX_S)
    return rng.uniform(0, period * rng.uniform(0.8, 1.2))


def _rejoin(world: WifiWorld, node: int, away_s: float) -> None:
    """A node is back: each of its connections comes up when the first of its two ends
    redials."""
    net, rng = world.net, world.rng
    for peer in net.adjacent[node]:
        net.set_link(node, peer, False)
    net.set_node(node, True)
    for peer in net.adjacent[node]:
        delay = min(_redial_delay(rng, away_s), _redial_delay(rng, away_s))
        world.loop.after(delay, functools.partial(net.set_link, node, peer, True))


def churn_figure(
    *,
    nodes: int = 1000,
    loss: float = 0.2,
    alerts: int = 30,
    spacing_s: float = 10.0,
    away_share: float = 0.1,
    away_s: tuple[float, float] = (30.0, 120.0),
    preset: str = DEFAULT_PRESET,
    seed: int = 1,
) -> ChurnFigure:
    """Alerts every ``spacing_s`` while ``away_share`` of the households each leave once,
    at a random time, for a random while (Wi-Fi lost, router rebooted), then come back: the
    node's connections come up again and catch-up brings what it missed."""
    started = time.perf_counter()
    setup = WifiSetup(nodes=nodes, net=NetParams(loss=loss), gossip=PRESETS[preset], seed=seed)
    world = WifiWorld(setup)
    rng, loop, net = world.rng, world.loop, world.net
    world.start()
    loop.run_until(5.0)
    span = alerts * spacing_s
    away: dict[int, tuple[float, float]] = {}
    leaving = rng.sample(range(nodes), round(away_share * nodes))
    for node in leaving:
        leave = loop.now + rng.uniform(0, span - away_s[1])
        back = leave + rng.uniform(*away_s)
        loop.at(leave, functools.partial(net.set_node, node, False))
        loop.at(back, functools.partial(_rejoin, world, node, back - leave))
        away[node] = (leave, back)
    posted: list[int] = []
    for number in range(alerts):
        origin = rng.randrange(nodes)
        while not net.node_up[origin]:
            origin = rng.randrange(nodes)
        message = world.book.alert(origin, world.book.unix(loop.now), number).index
        world.note_size(message)
        world.post(origin, message)
        posted.append(message)
        loop.run_until(loop.now + spacing_s)
    loop.run_until(loop.now + 120.0, stop=lambda: all(world.holders(m) == nodes for m in posted))
    first = world.holdings.first
    catch_up: list[float] = []
    missed = 0
    for node, (leave, back) in away.items():
        while_away = [m for m in posted if leave <= world.posted_at[m] < back]
        late = [first[m].get(node, math.inf) for m in while_away]
        missed += len(late)
        if late:
            catch_up.append(max(late) - back)
    return ChurnFigure(
        nodes=nodes,
        loss=loss,
        alerts=alerts,
        departures=len(leaving),
        delivered=sum(world.holders(m) for m in posted) / (nodes * alerts),
        catch_up_median_s=statistics.median(catch_up) if catch_up else None,
        catch_up_max_s=max(catch_up) if catch_up else None,
        missed_on_return=missed,
        wall_s=time.perf_counter() - started,
    )
