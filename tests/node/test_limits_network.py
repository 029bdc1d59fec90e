"""The node's limits against a hostile or broken peer, with real `entraide node` processes
on loopback: catch-up sessions opened in a tight loop are refused beyond the per-peer limit
while an honest neighbour still catches up (node/sync.py); an author over its storage quota
gets its extra messages refused and counted, never forwarded, while others' go through
(protocol/quota.py, SPEC.md 11a.6)."""

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

from node.sync import RESPONDER_LIMIT
from protocol import kinds as k
from protocol.envelope import seal
from protocol.trust import RATE_LIMITS, RateClass
from tests.node.netharness import ZONE, Cluster, wait_for

WAIT = 60.0
SYNC_FLOOD = Path(__file__).with_name("sync_flood_peer.py")
SESSIONS = 60


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lim", dir="/tmp"))  # short Unix socket paths
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_session_loop_is_refused_while_an_honest_neighbour_catches_up(root: Path) -> None:
    with Cluster(root, 1) as cluster:
        (a,) = cluster.nodes
        a.start()
        posted = {a.post("checkin", status="safe")} | {
            a.post("help_request", need="water", text=f"#{i}") for i in range(5)
        }
        report = root / "flood.json"
        flood = subprocess.Popen(
            [sys.executable, str(SYNC_FLOOD), a.address, ZONE.hex(), str(SESSIONS), str(report)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            # An honest neighbour joins while the loop runs: it lacks everything, and only
            # catch-up can bring it (gossip does not replay old messages).
            c = cluster.add("c", peers=[a.address])
            c.start()
            wait_for(lambda: posted <= c.message_ids(), WAIT, "the honest neighbour to catch up")
            _, err = flood.communicate(timeout=WAIT)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        assert flood.returncode == 0, err.decode()
        sent = json.loads(report.read_text())
        # Beyond the burst, one session per refill period at most; the rest refused cleanly
        # (an ABORT "busy: …" the loop reads as SyncRefused), none failed.
        allowed = RESPONDER_LIMIT.burst + int(sent["seconds"] * RESPONDER_LIMIT.per_hour / 3600) + 1
        assert sent["failed"] == 0, sent["reasons"]
        assert sent["done"] + sent["refused"] == SESSIONS
        assert RESPONDER_LIMIT.burst <= sent["done"] <= allowed
        assert sent["refused"] >= SESSIONS - allowed > 0
        assert all("busy: too many sessions from you" in r for r in sent["reasons"])
        status = a.call("status")
        assert status["sync"]["refused"]["rate"] == sent["refused"]
        assert "refused a catch-up session from" in a.log_path.read_text()
        # The honest neighbour was never refused.
        assert c.call("status")["sync"]["sessions"]["refused_by_peer"] == 0


def test_an_author_over_quota_is_refused_and_not_forwarded(root: Path) -> None:
    quota = RATE_LIMITS[RateClass.HOUSEHOLD].max_live  # a zone without a charter
    extra = 20
    with Cluster(root, 2) as cluster:
        a, b = cluster.nodes
        cluster.start_chain()
        cluster.wait_connected()
        flooder = nacl.signing.SigningKey.generate()
        neighbour = nacl.signing.SigningKey.generate()
        now = int(time.time())

        def sealed(key: nacl.signing.SigningKey, i: int) -> bytes:
            body = k.HelpRequest(need=k.Need.FOOD, urgency=k.RequestUrgency.LOW, text=f"#{i}")
            return seal(body, signing_key=key, created=now - 2 * 3600, zone=ZONE).raw

        # Older than an hour: submitted messages travel by catch-up, not gossip.
        raws = [sealed(flooder, i) for i in range(quota + extra)]
        statuses: list[str] = []
        for start in range(0, len(raws), 100):
            statuses += [
                r["status"] if r["error"] is None else r["error"]["code"]
                for r in a.submit(raws[start : start + 100])
            ]
        assert statuses == ["new"] * quota + ["over-quota"] * extra
        # Another author's messages and the flooder's alert (the priority reserve) go in.
        others = [sealed(neighbour, i) for i in range(5)]
        urgent = seal(
            k.Alert(headline="Crue", severity=k.Severity.SEVERE),
            signing_key=flooder,
            created=now - 2 * 3600,
            zone=ZONE,
        ).raw
        answers = a.submit([*others, urgent])
        assert [r["status"] for r in answers] == ["new"] * 6
        status = a.call("status")
        assert status["trust"]["counters"]["over_quota"] == extra
        assert "over its author's storage quota" in a.log_path.read_text()

        from protocol.envelope import decode

        kept = {decode(r).id.hex() for r in raws[:quota] + others + [urgent]}
        refused = {decode(r).id.hex() for r in raws[quota:]}
        wait_for(lambda: kept <= b.message_ids(), WAIT, "b to catch up what a kept")
        b.call("sync")  # once more: nothing refused at a may reach b
        time.sleep(1)
        assert not refused & b.message_ids()
        assert not refused & a.message_ids()
        # Offered directly, b refuses them too, by the same rule.
        answers = b.submit(raws[quota:])
        assert {r["error"]["code"] for r in answers} == {"over-quota"}
