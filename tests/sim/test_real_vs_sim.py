"""The simulator against real `entraide node` processes on the same small scenario.

Eight real nodes on loopback (tests/node/netharness.py), each dialling the previous one and
one random earlier node, publish twelve check-ins from twelve households; every node counts,
with tests/sim/gossip_probe.py, the publish messages py-libp2p hands it (first copies and
duplicates) and the IHAVEs it gets. The simulator replays the same graph and the same posts
(node.sim.figures.replay). Delivery must be the same (every message at every node); message
counts must be close: GossipSub's mesh here is every connection (no node has more than
D_high = 10 peers), so a node receives a copy from each neighbour that forwards to it, in the
simulator as on the wire; and each connection brings one catch-up session.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from node.sim.figures import replay
from protocol import kinds as k
from protocol.envelope import seal
from tests.node import netharness
from tests.node.netharness import ZONE, Cluster, NodeProcess, wait_for
from tests.sim.gossip_probe import PROBE_FILE

PROBE = Path(__file__).with_name("gossip_probe.py")
NODES = 8
POSTS = 12
SPACING_S = 0.3


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sim", dir="/tmp"))  # short Unix socket paths
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node processes start through gossip_probe.py instead of `python -m node.cli`."""
    popen = subprocess.Popen

    def probed_popen(args: list[str], *rest: Any, **options: Any) -> Any:
        args = list(args)
        if args[1:3] == ["-m", "node.cli"]:
            args[1:3] = [str(PROBE)]
        return popen(args, *rest, **options)

    monkeypatch.setattr(netharness.subprocess, "Popen", probed_popen)


def graph(count: int, rng: random.Random) -> dict[int, list[int]]:
    """Whom each node dials: the previous node and one random earlier one."""
    dials: dict[int, list[int]] = {i: [] for i in range(count)}
    for i in range(1, count):
        dials[i].append(i - 1)
        if i > 1:
            dials[i].append(rng.randrange(i - 1))
    return dials


def dense_graph(count: int, rng: random.Random, dials_per_node: int = 3) -> dict[int, list[int]]:
    """Whom each node dials: up to ``dials_per_node`` random earlier nodes (the first one
    always the previous node, so the graph is connected)."""
    dials: dict[int, list[int]] = {i: [] for i in range(count)}
    for i in range(1, count):
        earlier = list(range(i - 1))
        dials[i] = [i - 1, *rng.sample(earlier, min(dials_per_node - 1, len(earlier)))]
    return dials


def run_real(
    root: Path, dials: dict[int, list[int]], origins: list[int]
) -> tuple[list[dict[str, int]], list[float], list[dict[str, Any]], bool]:
    """Start the nodes, post, wait for delivery; the probes' counts, the posts' offsets,
    every node's status, and whether every node held every message."""
    edges = {(min(a, b), max(a, b)) for a, peers in dials.items() for b in peers}
    degree = [sum(1 for e in edges if n in e) for n in range(len(dials))]
    offsets: list[float] = []
    with Cluster(root, len(dials)) as cluster:
        nodes = cluster.nodes
        for i, node in enumerate(nodes):
            node.peers.extend(nodes[j].address for j in dials[i])
            node.start()
        for node, wanted in zip(nodes, degree, strict=True):
            wait_for(lambda n=node, d=wanted: n.peer_count() >= d, 30, f"{node.name}'s peers")
        time.sleep(3)  # a few heartbeats: every GossipSub mesh formed
        ids: set[str] = set()
        first = time.monotonic()
        for number, origin in enumerate(origins):
            env = seal(
                k.CheckIn(status=k.CheckInStatus.SAFE, text=f"bench {number}"),
                signing_key=nacl.signing.SigningKey.generate(),
                created=int(time.time()),
                zone=ZONE,
            )
            offsets.append(time.monotonic() - first)
            (answer,) = nodes[origin].submit([env.raw])
            assert answer["status"] == "new", answer
            ids.add(env.id.hex())
            time.sleep(SPACING_S)

        def everywhere(nodes: list[NodeProcess] = nodes) -> bool:
            return all(ids <= node.message_ids() for node in nodes)

        delivered = bool(wait_for(everywhere, 30, "every message at every node"))
        time.sleep(2)  # duplicates still on their way
        statuses = [node.call("status") for node in nodes]
    probes = [json.loads((n.home / PROBE_FILE).read_text()) for n in cluster.nodes]
    return probes, offsets, statuses, delivered


def test_small_network_real_and_simulated_agree(root: Path, probed: None) -> None:
    rng = random.Random(5)
    dials = graph(NODES, rng)
    origins = [rng.randrange(NODES) for _ in range(POSTS)]
    probes, offsets, statuses, delivered = run_real(root, dials, origins)
    edges = {(min(a, b), max(a, b)) for a, peers in dials.items() for b in peers}
    sim = replay(NODES, edges, list(zip(offsets, origins, strict=True)))

    # Same delivery: every message at every node, in both.
    assert delivered
    assert sim.delivered == 1.0
    # Comparable message counts.
    real_copies = [p.get("copies", 0) for p in probes]
    real_duplicates = [p.get("duplicates", 0) for p in probes]
    report = (
        f"copies real {real_copies} sim {sim.copies}; duplicates real {real_duplicates} "
        f"sim {sim.duplicates}; ihave real {[p.get('ihave', 0) for p in probes]} sim {sim.ihave}"
    )
    print(report)
    assert abs(sum(real_copies) - sum(sim.copies)) <= 0.1 * sum(real_copies), report
    for real, simulated in zip(real_copies, sim.copies, strict=True):
        assert abs(real - simulated) <= max(3, 0.2 * real), report
    assert abs(sum(real_duplicates) - sum(sim.duplicates)) <= 0.15 * sum(real_duplicates), report
    # One catch-up session per connection, counted by both of its sides.
    real_sessions = sum(s["sync"]["sessions"]["done"] for s in statuses)
    assert sim.sync_sessions == 2 * len(edges)
    assert 2 * len(edges) <= real_sessions <= 2 * len(edges) + 4, real_sessions
    assert sum(p.get("ihave", 0) for p in probes) == sum(sim.ihave) == 0


def test_a_smaller_mesh_real_and_simulated_agree(
    root: Path, probed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten real nodes with up to nine connections each, run with the mesh degrees of the
    simulator's ``gossipsub-d3`` (D=3, D_low=2, D_high=4) instead of node/wifi.py's: what the
    simulator predicts for that change is what real processes do. Both show py-libp2p's
    opportunistic grafting and backoff too: meshes churn between D and D_high, and no IHAVE
    reaches the peers outside the mesh (each was pruned less than a minute ago)."""
    monkeypatch.setenv("ENTRAIDE_PROBE_MESH", "3,2,4")
    rng = random.Random(7)
    dials = dense_graph(10, rng, 4)
    origins = [rng.randrange(10) for _ in range(POSTS)]
    probes, offsets, _statuses, delivered = run_real(root, dials, origins)
    edges = {(min(a, b), max(a, b)) for a, peers in dials.items() for b in peers}
    posts = list(zip(offsets, origins, strict=True))
    runs = [replay(10, edges, posts, preset="gossipsub-d3", seed=seed) for seed in range(1, 6)]

    assert delivered
    assert all(run.delivered == 1.0 for run in runs)
    real = sum(p.get("copies", 0) for p in probes)
    simulated = [sum(run.copies) for run in runs]
    mean = sum(simulated) / len(simulated)
    report = f"copies real {real}, simulated {simulated}"
    print(report)
    assert abs(real - mean) <= 0.25 * mean, report
    full_mesh = sum(replay(10, edges, posts, preset="gossipsub").copies)
    assert real < 0.6 * full_mesh  # the smaller mesh really halves what travels
    assert sum(p.get("ihave", 0) for p in probes) == 0
    assert all(sum(run.ihave) == 0 for run in runs)
