"""Each pitfall of py-libp2p 0.8.1 (shared/reference/libp2p.md, node/wifi.py's docstring) and
its handling, one test each; plus mDNS inside a network namespace made by the test."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import multiaddr
import nacl.signing
import pytest
import trio
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11
from libp2p.pubsub.pb import rpc_pb2

from node.wifi import (
    ANNOUNCE_HISTORY,
    GOSSIP_HISTORY,
    GOSSIP_WINDOW,
    MESH_DEGREE,
    WifiTransport,
)
from protocol.ratelimit import Limit
from tests.node.wifi_worker import (
    Blackhole,
    accept_all,
    checkin,
    nothing_pending,
    peer_down,
    peer_up,
    receive,
    seed,
    start,
    transport,
    validator,
)

log = logging.getLogger(__name__)
WORKER = Path(__file__).with_name("wifi_worker.py")


def forged(raw: bytes) -> bytes:
    """The same message with a broken signature (so the same envelope id)."""
    return raw[:-1] + bytes([raw[-1] ^ 1])


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """For state that has no event to wait on: look again every 10 ms, at most ``timeout``."""
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.01)


async def chain(nursery: trio.Nursery, *options: dict[str, object]) -> list[WifiTransport]:
    """Nodes 1..n, each dialling the previous one: messages must hop."""
    nodes: list[WifiTransport] = []
    for n, opts in enumerate(options, start=1):
        bootstrap = nodes[-1].listen_addrs if nodes else ()
        node = await start(nursery, n, bootstrap=bootstrap, **opts)
        if nodes:
            await peer_up(node, nodes[-1])
            await peer_up(nodes[-1], node)
        nodes.append(node)
    return nodes


def router_of(wifi: WifiTransport):  # type: ignore[no-untyped-def]
    assert wifi._pubsub is not None
    return wifi._pubsub.router


@pytest.mark.trio
async def test_pitfalls_1_3_7_a_burst_of_200_arrives_completely() -> None:
    """1: spam protection off; 3: publish paced on the send queues; 7: every validated
    message kept for the daemon (even unread during the burst), our own never."""
    key = nacl.signing.SigningKey(seed(9))
    raws = [checkin(key, i) for i in range(200)]
    async with trio.open_nursery() as nursery:
        a, b, c = await chain(nursery, {}, {}, {})
        assert not router_of(b).spam_protection_enabled
        started = time.perf_counter()
        for raw in raws:
            assert await a.publish(raw)
        got_c = await receive(c, 200, timeout=30)
        elapsed = time.perf_counter() - started
        got_b = await receive(b, 200, timeout=1)  # b was not read during the burst
        # Complete, once each (gossip does not keep the order).
        assert sorted(r for r, _ in got_c) == sorted(raws) == sorted(r for r, _ in got_b)
        assert nothing_pending(a) and nothing_pending(b) and nothing_pending(c)
        stats = a.statistics()
        assert stats["published"] == 200
        assert stats["publish_stalled"] == 0
        for node in (b, c):
            assert node.statistics()["delivery_overflow"] == 0
            assert node.statistics()["rejected"] == {}
        log.warning("burst: 200 messages over 2 hops in %.2f s (%.0f/s)", elapsed, 200 / elapsed)
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_3_publish_waits_for_a_filling_send_queue() -> None:
    """A neighbour's send queue holds 32 RPCs and libp2p drops what does not fit: publish
    waits while one is half full, and if a neighbour stops reading altogether, publishes
    anyway after a while (and says so) rather than block the node."""
    key = nacl.signing.SigningKey(seed(9))
    async with trio.open_nursery() as nursery:
        a, b = await chain(nursery, {"ping_timeout": 0.25}, {})
        assert a._pubsub is not None
        b_id = ID.from_base58(b.peer_id)
        await wait_until(lambda: b_id in a._pubsub.peer_queues)  # type: ignore[union-attr]
        queue = a._pubsub.peer_queues[b_id]
        for _ in range(32):  # full: a message pushed now would be dropped
            assert queue.push(rpc_pb2.RPC())
        raw = checkin(key, 1)
        assert await a.publish(raw)
        assert await receive(b, 1) == [(raw, a.peer_id)]
        assert a.statistics()["publish_waits"] == 1

        class Stuck:  # a neighbour whose queue never drains
            def __len__(self) -> int:
                return 32

        stuck = ID.from_base58(transport(5).peer_id)
        a._pubsub.peer_queues[stuck] = Stuck()  # type: ignore[assignment]
        started = trio.current_time()
        assert await a.publish(checkin(key, 2))
        assert 1.4 < trio.current_time() - started < 3  # 2 x ping_timeout + 1 s
        assert a.statistics()["publish_stalled"] == 1
        del a._pubsub.peer_queues[stuck]
        assert len(await receive(b, 1)) == 1
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_2_heartbeat_stays_at_one_second() -> None:
    async with trio.open_nursery() as nursery:
        a = await start(nursery, 1)
        router = router_of(a)
        assert not router.adaptive_gossip_enabled  # what stretched it to 30 s
        assert router.heartbeat_interval == 1
        assert (router.degree_low, router.degree, router.degree_high) == (4, MESH_DEGREE, 10)
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_4_pubsub_runs_before_the_first_inbound_connection() -> None:
    with socket.socket() as probe:  # a port from the OS, free again at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with trio.open_nursery() as nursery:
        b = await start(nursery, 2)
        a = transport(1, listen=[f"/ip4/127.0.0.1/tcp/{port}"])
        nursery.start_soon(a.serve)
        with trio.fail_after(10):
            while True:  # the first TCP connection a accepts
                try:
                    stream = await trio.open_tcp_stream("127.0.0.1", port)
                    break
                except OSError:
                    await trio.sleep(0)
        assert a._pubsub is not None and a._pubsub.manager.is_running
        assert router_of(a).manager.is_running
        await stream.aclose()
        # Dial at once: a connection right at start.
        assert b._host is not None
        target = PeerInfo(
            ID.from_base58(a.peer_id), [multiaddr.Multiaddr(f"/ip4/127.0.0.1/tcp/{port}")]
        )
        await b._host.connect(target)
        await peer_up(b, a)
        raw = checkin(nacl.signing.SigningKey(seed(9)), 1)
        assert await b.publish(raw)
        assert await receive(a, 1) == [(raw, b.peer_id)]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_6_a_silent_peer_is_found_and_redialled() -> None:
    """A link that goes silent without closing (Wi-Fi lost): the ping watchdog closes it in
    ~ping_timeout; the known peer is redialled with backoff when it comes back (after failed
    dials, which libp2p would otherwise refuse to retry for 60 s: finding 14)."""
    fast = {"ping_interval": 0.3, "ping_timeout": 1.0, "redial_max_delay": 1.0}
    async with trio.open_nursery() as nursery:
        b = await start(nursery, 2, **fast)
        port = int(b.listen_addrs[0].split("/")[4])
        link = Blackhole(port)
        link_port = await nursery.start(link.serve)
        a = await start(
            nursery, 1, bootstrap=[f"/ip4/127.0.0.1/tcp/{link_port}/p2p/{b.peer_id}"], **fast
        )
        await peer_up(a, b)
        await peer_up(b, a)
        await wait_until(lambda: all(s.rtt is not None for s in a.peer_states()))

        link.cut()
        cut = time.perf_counter()
        down = await peer_down(a, b, timeout=5)
        detected = time.perf_counter() - cut
        assert down.reason == "no answer to ping for 1 s"  # type: ignore[union-attr]
        assert (await peer_down(b, a, timeout=5)).reason.startswith("no answer")  # type: ignore[union-attr]
        assert a.statistics()["watchdog_closes"] == 1
        await wait_until(lambda: a.statistics()["dial_failures"] >= 2)  # it is away

        link.restore()
        back = time.perf_counter()
        up = await peer_up(a, b, timeout=10)
        assert up.via == "redial"  # type: ignore[union-attr]
        reconnected = time.perf_counter() - back
        raw = checkin(nacl.signing.SigningKey(seed(9)), 1)
        assert await a.publish(raw)
        assert await receive(b, 1) == [(raw, a.peer_id)]
        log.warning(
            "silent peer found in %.2f s, redialled %.2f s after it came back",
            detected,
            reconnected,
        )
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_8_gossip_replays_only_a_short_window() -> None:
    """A message published just before a peer connects reaches it (the router replays its
    last 3 heartbeats of messages); anything older is the sync protocol's job. (The cache
    keeps 5 heartbeats for IWANT, 30 in announce mode, where IWANT is how messages travel.)"""
    async with trio.open_nursery() as nursery:
        a = await start(nursery, 1)
        mcache = router_of(a).mcache
        assert mcache.window_size == GOSSIP_WINDOW == 3
        history = ANNOUNCE_HISTORY if a.gossip == "announce" else GOSSIP_HISTORY
        assert mcache.history_size == history
        raw = checkin(nacl.signing.SigningKey(seed(9)), 1)
        assert await a.publish(raw)  # nobody to send it to yet
        b = await start(nursery, 2, bootstrap=a.listen_addrs)
        assert await receive(b, 1) == [(raw, a.peer_id)]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_9_gossipsub_v1_1_only() -> None:
    async with trio.open_nursery() as nursery:
        a, b = await chain(nursery, {}, {})
        assert router_of(a).protocols == [PROTOCOL_ID_V11]
        await wait_until(lambda: ID.from_base58(b.peer_id) in router_of(a).peer_protocol)
        assert router_of(a).peer_protocol[ID.from_base58(b.peer_id)] == PROTOCOL_ID_V11
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_pitfall_10_one_fast_connection_even_when_both_dial() -> None:
    async with trio.open_nursery() as nursery:
        a = await start(nursery, 1)
        b = await start(nursery, 2)
        assert a._host is not None and b._host is not None
        assert a._host.get_network().connection_config.max_connections_per_peer == 1  # type: ignore[attr-defined]
        started = time.perf_counter()
        b.add_peer(a.listen_addrs[0])
        await peer_up(b, a)
        connect_ms = (time.perf_counter() - started) * 1000
        assert connect_ms < 200  # ~250 ms with libp2p's default of 3 connections per peer

        c = await start(nursery, 3)
        d = await start(nursery, 4)
        c.add_peer(d.listen_addrs[0])  # both dial at once
        d.add_peer(c.listen_addrs[0])
        await peer_up(c, d)
        await peer_up(d, c)
        network_c, network_d = c._host.get_network(), d._host.get_network()  # type: ignore[union-attr]
        await wait_until(
            lambda: (
                len(network_c.get_connections(ID.from_base58(d.peer_id))) == 1
                and len(network_d.get_connections(ID.from_base58(c.peer_id))) == 1
            )
        )
        raw = checkin(nacl.signing.SigningKey(seed(9)), 1)
        assert await c.publish(raw)
        assert await receive(d, 1) == [(raw, c.peer_id)]
        assert c.peers() == [d.peer_id] and d.peers() == [c.peer_id]
        log.warning("connect: %.1f ms", connect_ms)
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_a_forged_message_stops_at_the_first_honest_neighbour() -> None:
    key = nacl.signing.SigningKey(seed(9))
    async with trio.open_nursery() as nursery:
        rogue, b, c = await chain(nursery, {"validate": accept_all}, {}, {})
        assert await rogue.publish(forged(checkin(key, 1)))
        genuine = checkin(key, 2)  # then something valid on the same path
        assert await rogue.publish(genuine)
        assert await receive(c, 1) == [(genuine, b.peer_id)]  # the forged one never came
        assert await receive(b, 1) == [(genuine, rogue.peer_id)]
        assert nothing_pending(b) and nothing_pending(c)
        assert b.statistics()["rejected"] == {"bad-signature": 1}
        assert c.statistics()["rejected"] == {}
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_an_author_over_its_rate_limit_is_dropped() -> None:
    limit = Limit(burst=5, per_hour=0)
    spammer = nacl.signing.SigningKey(seed(9))
    other = nacl.signing.SigningKey(seed(10))
    async with trio.open_nursery() as nursery:
        a, b, c = await chain(
            nursery,
            {"validate": accept_all},
            {"validate": validator(limit)},  # each node has its own limiter
            {"validate": validator(limit)},
        )
        spam = [checkin(spammer, i) for i in range(8)]
        for raw in spam:
            assert await a.publish(raw)
        calm = checkin(other, 1)
        assert await a.publish(calm)
        at_c = [raw for raw, _ in await receive(c, 6)]
        at_b = [raw for raw, _ in await receive(b, 6)]
        assert calm in at_c and sorted(at_b) == sorted(at_c)  # the 5 that b let through
        assert len(set(at_c) & set(spam)) == 5
        assert nothing_pending(c)
        assert b.statistics()["rejected"] == {"rate-limited": 3}
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_finding_11_a_forged_copy_first_does_not_block_the_genuine_message() -> None:
    key = nacl.signing.SigningKey(seed(9))
    genuine = checkin(key, 1)
    async with trio.open_nursery() as nursery:
        a, b, rogue = await chain(nursery, {}, {}, {"validate": accept_all})
        assert await rogue.publish(forged(genuine))
        await wait_until(lambda: b.statistics()["rejected"] == {"bad-signature": 1})
        assert await a.publish(genuine)
        assert await receive(b, 1) == [(genuine, a.peer_id)]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_finding_12_a_node_restarted_at_once_is_heard() -> None:
    """GossipSub keys its message cache and its equivocation check on (sender, seqno); with
    seqnos from the clock in seconds, the restarted node's first message would re-use the
    seqno of the last run's first one and be dropped."""
    key = nacl.signing.SigningKey(seed(9))
    first, second = checkin(key, 1), checkin(key, 2)
    async with trio.open_nursery() as nursery:
        b = await start(nursery, 2)
        async with trio.open_nursery() as first_run:
            a = await start(first_run, 1, bootstrap=b.listen_addrs)
            await peer_up(a, b)
            assert await a.publish(first)
            assert await receive(b, 1) == [(first, a.peer_id)]
            first_run.cancel_scope.cancel()
        again = await start(nursery, 1, bootstrap=b.listen_addrs)  # same household, same second
        await peer_up(again, b)
        assert await again.publish(second)
        assert await receive(b, 1) == [(second, again.peer_id)]
        assert again._pubsub is not None and a._pubsub is None
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_finding_13_a_message_claiming_our_origin_cannot_suppress_the_real_one() -> None:
    key = nacl.signing.SigningKey(seed(9))
    raw = checkin(key, 1)
    async with trio.open_nursery() as nursery:
        a, b, rogue = await chain(nursery, {}, {}, {"validate": accept_all})
        assert rogue._pubsub is not None
        fake = rpc_pb2.Message(
            data=raw, topicIDs=[b.topic], from_id=ID.from_base58(b.peer_id).to_bytes(), seqno=b"1"
        )
        b_id = ID.from_base58(b.peer_id)
        await wait_until(lambda: b_id in rogue._pubsub.peer_queues)  # type: ignore[union-attr]
        router_of(rogue).send_rpc(b_id, rpc_pb2.RPC(publish=[fake]))
        await wait_until(lambda: b.statistics()["rejected"] == {"claims-our-origin": 1})
        assert await a.publish(raw)
        assert await receive(b, 1) == [(raw, a.peer_id)]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_a_validator_that_raises_rejects_and_the_node_carries_on() -> None:
    def broken(raw: bytes, peer: str) -> bool:
        raise RuntimeError("a bug in the daemon's validator")

    key = nacl.signing.SigningKey(seed(9))
    async with trio.open_nursery() as nursery:
        a, b = await chain(nursery, {}, {"validate": broken})
        assert await a.publish(checkin(key, 1))
        await wait_until(lambda: b.statistics()["rejected"] == {"validator-error": 1})
        assert await b.publish(checkin(key, 2))  # b still works
        assert len(await receive(a, 1)) == 1
        nursery.cancel_scope.cancel()


def _namespace_works() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip not installed"
    probe = subprocess.run(
        ["unshare", "-rn", "sh", "-c", "ip link set lo up multicast on"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if probe.returncode != 0:
        return f"user+network namespaces not permitted here: {probe.stderr.strip()}"
    return None


def test_mdns_discovery_inside_a_network_namespace(tmp_path: Path) -> None:
    """Three node processes in a private network namespace (loopback only, multicast on):
    they find each other by mDNS alone, dial, and each one's message reaches the others."""
    why_not = _namespace_works()
    if why_not:
        pytest.skip(why_not)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = " ".join(
        f"{sys.executable} {WORKER} {n} 2 {barrier} > {tmp_path}/out{n} 2> {tmp_path}/err{n} &"
        f" p{n}=$!;"
        for n in (1, 2, 3)
    )
    script = (
        "ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo || exit 9; "
        f"{workers} status=0; for p in $p1 $p2 $p3; do wait $p || status=$?; done; exit $status"
    )
    started = time.perf_counter()
    done = subprocess.run(
        ["unshare", "-rn", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    elapsed = time.perf_counter() - started
    outputs = {n: (tmp_path / f"out{n}").read_text() for n in (1, 2, 3)}
    errors = {n: (tmp_path / f"err{n}").read_text()[-1500:] for n in (1, 2, 3)}
    assert done.returncode == 0, (done.returncode, done.stderr, outputs, errors)
    peer_ids = {n: transport(n).peer_id for n in (1, 2, 3)}
    dialled = 0
    for n in (1, 2, 3):
        lines = [json.loads(line) for line in outputs[n].splitlines()]
        others = {peer_ids[m] for m in (1, 2, 3) if m != n}
        assert {line["up"] for line in lines if "up" in line} == others
        assert len({line["received"] for line in lines if "received" in line}) == 2
        dialled += sum(line.get("via") == "mdns" for line in lines)
    assert dialled >= 3  # each pair: the lower peer id dialled what it saw
    log.warning("mDNS: 3 processes found each other and exchanged messages in %.1f s", elapsed)
