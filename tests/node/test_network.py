"""Five and more real `entraide node` processes on loopback: gossip, catch-up, a rogue peer,
a partition that heals. Each node is its own process with its own home, store and libp2p
host; the test drives them through their control sockets only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nacl.signing
import pytest

from protocol import kinds as k
from protocol.envelope import decode, seal
from tests.node.netharness import ZONE, Cluster, NodeProcess, wait_for

WAIT = 60.0
ROGUE = Path(__file__).with_name("rogue_peer.py")


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="net", dir="/tmp"))  # short Unix socket paths
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def everyone_has(nodes: list[NodeProcess], ids: set[str]) -> bool:
    return all(ids <= node.message_ids() for node in nodes)


def board(node: NodeProcess) -> str:
    data = node.call("board", lang="en")["data"]
    data.pop("now", None)
    return json.dumps(data, sort_keys=True)


def test_five_nodes_gossip_catch_up_and_heal(root: Path) -> None:
    with Cluster(root, 5) as cluster:
        nodes = cluster.nodes
        cluster.start_chain()  # n0 - n1 - n2 - n3 - n4: messages must hop
        cluster.wait_connected()

        # 1. A message posted at any node reaches all.
        posted = {node.post("checkin", status="safe") for node in nodes}
        wait_for(lambda: everyone_has(nodes, posted), WAIT, "every check-in to reach every node")

        # 2. A node stopped while 500 messages are posted catches up after restart.
        n3 = nodes[3]
        n3.stop()
        n4 = nodes[4]  # now cut off from n0-n2: it too must catch up, through n3
        keys = [nacl.signing.SigningKey.generate() for _ in range(50)]
        now = int(time.time())
        raws = [
            seal(
                k.HelpRequest(need=k.Need.WATER, urgency=k.RequestUrgency.NORMAL, text=f"#{i}"),
                signing_key=keys[i % 50],
                created=now - i,
                zone=ZONE,
            ).raw
            for i in range(500)
        ]
        for start in range(0, 500, 50):
            answers = nodes[start // 50 % 3].submit(raws[start : start + 50])
            assert all(a["status"] == "new" for a in answers)
        batch_ids = {decode(r).id.hex() for r in raws}
        wait_for(lambda: everyone_has(nodes[:3], batch_ids), WAIT, "the 500 to reach n0-n2")
        assert not batch_ids & n4.message_ids()
        n3.start()
        wait_for(lambda: everyone_has(nodes, batch_ids), WAIT, "n3 and n4 to catch up")

        # 3. A partition heals: n2 stops; each half posts; n2 comes back and both converge.
        n2 = nodes[2]
        n2.stop()
        left = {nodes[0].post("help_request", need="food", urgency="high", text="gauche")}
        right = {nodes[4].post("help_request", need="shelter", urgency="high", text="droite")}
        time.sleep(1)
        assert not left & nodes[4].message_ids() and not right & nodes[0].message_ids()
        n2.start()
        wait_for(lambda: everyone_has(nodes, left | right), WAIT, "the halves to converge")
        boards = {board(node) for node in nodes}
        assert len(boards) == 1, "the nodes disagree on the board"


def test_a_rogue_peer_is_stopped_by_its_first_honest_neighbour(root: Path) -> None:
    with Cluster(root, 3) as cluster:
        a, b, c = cluster.nodes
        cluster.start_chain()
        cluster.wait_connected()
        report = root / "rogue.json"
        proc = subprocess.run(
            [sys.executable, str(ROGUE), a.address, str(report), ZONE.hex()],
            capture_output=True,
            timeout=WAIT,
        )
        assert proc.returncode == 0, proc.stderr.decode()
        sent = json.loads(report.read_text())
        forged, flood, honest = set(sent["forged"]), set(sent["flood"]), set(sent["honest"])
        # The honest message of the rogue's own key passes; forgeries never do; the flood
        # passes only up to the author's rate limit.
        wait_for(lambda: honest <= c.message_ids(), WAIT, "the rogue's honest message")
        time.sleep(2)  # anything that was going to leak would have by now
        for node in (a, b, c):
            held = node.message_ids()
            assert not forged & held
            assert len(flood & held) < len(flood)
        assert a.call("status")["messages"]["rejected"] > 0
        assert not (flood & c.message_ids()) - (flood & a.message_ids())
