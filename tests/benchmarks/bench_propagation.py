"""Propagation latency across real node processes on loopback, and a node's idle memory.

    .venv/bin/python tests/benchmarks/bench_propagation.py [--nodes 20] [--messages 60]
        [--gossip mesh|announce|both]

Starts N `entraide node` processes (each dials the previous one and one random earlier
node: a connected mesh a few hops across), subscribes to every node's events, posts
messages at random nodes, and reports the delay from the post until each other node has
stored the message (each from another household, signed in this process, handed to a
random node): p50, p90, p99 and the maximum. All nodes share this machine's cores, so the
figures include the CPU contention of N nodes verifying and storing every message. The
baseline, measured in the same run, is the same delay between two directly connected nodes;
the ratio says what the extra hops cost. Also prints the resident memory (RSS) and CPU use
of the nodes once idle, and the duplicate copies each node received per message (the nodes'
own gossip counters).

``--gossip both`` (the default) runs the whole measurement once per gossip mode of
`entraide node --gossip`, one after the other on the same graph, and ends with the ratios
between them: the two modes compared in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node.client import ControlClient, NodeUnavailable
from protocol import kinds as k
from protocol.envelope import seal
from tests.node.netharness import ZONE, Cluster, NodeProcess, wait_for


class Arrivals:
    """Every node's "message" events, stamped on arrival, in background threads."""

    def __init__(self, nodes: list[NodeProcess]) -> None:
        self.seen: dict[str, dict[str, float]] = {n.name: {} for n in nodes}
        self.threads = []
        self.clients = []
        for node in nodes:
            client = ControlClient(node.home, timeout=None)
            client.call("subscribe")
            thread = threading.Thread(target=self._listen, args=(node.name, client), daemon=True)
            thread.start()
            self.threads.append(thread)
            self.clients.append(client)

    def _listen(self, name: str, client: ControlClient) -> None:
        with client:
            while True:
                try:
                    event = client.next_event()
                except (NodeUnavailable, OSError):
                    return  # interrupted by close()
                if event.get("event") == "message":
                    self.seen[name].setdefault(event["id"], time.monotonic())

    def close(self) -> None:
        for client in self.clients:
            client.interrupt()
        for thread in self.threads:
            thread.join(5)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


IDLE_S = 10.0


def measure(nodes: list[NodeProcess], messages: int, rng: random.Random) -> list[float]:
    arrivals = Arrivals(nodes)
    delays: list[float] = []
    try:
        posted: list[tuple[str, str, float]] = []
        for i in range(messages):
            origin = rng.choice(nodes)
            # Each message from another household: one author's burst would meet the
            # per-author rate limit, as it should.
            env = seal(
                k.CheckIn(status=k.CheckInStatus.SAFE, text=f"bench {i}"),
                signing_key=nacl.signing.SigningKey.generate(),
                created=int(time.time()),
                zone=ZONE,
            )
            start = time.monotonic()
            (answer,) = origin.submit([env.raw])
            assert answer["status"] == "new", answer
            posted.append((env.id.hex(), origin.name, start))
            time.sleep(0.05)
        expected = len(posted) * (len(nodes) - 1)

        def arrived() -> bool:
            got = sum(
                1
                for message_id, origin, _ in posted
                for n in nodes
                if n.name != origin and message_id in arrivals.seen[n.name]
            )
            return got >= expected

        try:
            wait_for(arrived, 30, "every message at every node")
        except TimeoutError:
            print({k: len(v) for k, v in arrivals.seen.items()}, posted[:2], file=sys.stderr)
            raise
        for message_id, origin, start in posted:
            for n in nodes:
                if n.name != origin:
                    delays.append(arrivals.seen[n.name][message_id] - start)
    finally:
        arrivals.close()
    return delays


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def duplicates(nodes: list[NodeProcess]) -> int:
    return sum(n.call("status")["wifi"]["statistics"]["gossip"]["duplicates"] for n in nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gossip", choices=["mesh", "announce", "both"], default="both")
    args = parser.parse_args()
    modes = ["mesh", "announce"] if args.gossip == "both" else [args.gossip]
    p50: dict[str, float] = {}
    dups: dict[str, float] = {}
    for mode in modes:
        print(f"--- gossip {mode}")
        p50[mode], dups[mode] = run(args, mode)
    if len(modes) == 2:
        print(
            f"announce / mesh: p50 {p50['announce'] / p50['mesh']:.2f}; duplicates per node "
            f"per message {dups['announce']:.2f} against {dups['mesh']:.2f}"
        )


def run(args: argparse.Namespace, mode: str) -> tuple[float, float]:
    """One measurement with every node in gossip ``mode``: the p50 delay and the duplicate
    copies per node per message."""
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="bench", dir="/tmp"))
    try:
        with Cluster(root, args.nodes) as cluster:
            nodes = cluster.nodes
            began = time.monotonic()
            for i, node in enumerate(nodes):
                node.extra_args.extend(["--gossip", mode])
                if i:
                    node.peers.append(nodes[i - 1].address)
                if i > 1:
                    node.peers.append(nodes[rng.randrange(i - 1)].address)
                node.start()
            cluster.wait_connected()
            print(f"{args.nodes} nodes up and connected in {time.monotonic() - began:.1f} s")
            time.sleep(3)  # let every GossipSub mesh form
            measure(nodes[:2], 10, rng)  # warm-up: first messages pay for lazy set-up
            time.sleep(1)  # the warm-up's late duplicates
            dups_before = duplicates(nodes)
            delays = measure(nodes, args.messages, rng)
            time.sleep(1)
            dups = (duplicates(nodes) - dups_before) / (args.messages * (args.nodes - 1))
            baseline = measure(nodes[:2], max(20, args.messages // 3), rng)
            time.sleep(5)
            pids = [n.process.pid for n in nodes if n.process is not None]
            rss = [rss_mib(pid) for pid in pids]
            before = [cpu_seconds(pid) for pid in pids]
            time.sleep(IDLE_S)
            idle_cpu = [
                (cpu_seconds(p) - b) / IDLE_S * 100 for p, b in zip(pids, before, strict=True)
            ]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    base = statistics.median(baseline)
    print(
        f"baseline, one hop (2 nodes of the run): p50 {ms(base)}, "
        f"p99 {ms(quantile(baseline, 0.99))}"
    )
    print(
        f"{args.nodes} nodes, {args.messages} messages, {len(delays)} deliveries: "
        f"p50 {ms(statistics.median(delays))}, p90 {ms(quantile(delays, 0.9))}, "
        f"p99 {ms(quantile(delays, 0.99))}, max {ms(max(delays))}"
    )
    print(f"p50 ratio to one hop: {statistics.median(delays) / base:.2f}")
    print(f"duplicate copies per node per message: {dups:.2f}")
    print(
        f"idle RSS per node: median {statistics.median(rss):.0f} MiB "
        f"(min {min(rss):.0f}, max {max(rss):.0f}); idle CPU per node: median "
        f"{statistics.median(idle_cpu):.1f} % of a core over {IDLE_S:.0f} s"
    )
    return statistics.median(delays), dups


if __name__ == "__main__":
    main()
