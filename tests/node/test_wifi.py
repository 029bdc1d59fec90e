"""The Wi-Fi transport (node/wifi.py): several transports in one trio process over loopback.

The pitfalls of py-libp2p each have their own test in test_wifi_pitfalls.py.
"""

from __future__ import annotations

import json
import logging
import time

import nacl.signing
import pytest
import trio

from node.wifi import (
    PeerDown,
    PeerUp,
    StreamFailed,
    StreamTimeout,
    SyncStream,
    household_key_of,
    message_id,
    peer_id_of,
    short_peer,
    zone_topic,
)
from protocol.errors import UsageError
from tests.node.wifi_worker import (
    ZONE,
    checkin,
    nothing_pending,
    peer_down,
    peer_up,
    receive,
    seed,
    start,
    transport,
)

log = logging.getLogger(__name__)

ECHO = "/entraide/test-echo/1"


def test_identity_is_the_household_key() -> None:
    key = nacl.signing.SigningKey(seed(1))
    wifi = transport(1)
    assert wifi.peer_id == peer_id_of(seed(1)) and wifi.peer_id.startswith("12D3KooW")
    assert household_key_of(wifi.peer_id) == bytes(key.verify_key)
    assert household_key_of("not a peer id") is None
    assert wifi.topic == zone_topic(ZONE) == "entraide/zone/0a0b0c0d/1"
    assert short_peer(wifi.peer_id) == f"12D3…{wifi.peer_id[-6:]}"


def test_message_ids_are_envelope_ids() -> None:
    from protocol.envelope import decode

    raw = checkin(nacl.signing.SigningKey(seed(1)), 1)
    assert message_id(raw) == decode(raw).id
    assert len(message_id(b"short")) == 32  # any bytes get an id


def test_bad_arguments_are_our_mistake() -> None:
    with pytest.raises(UsageError):
        transport(1, bootstrap=["/ip4/127.0.0.1/tcp/1"])  # no /p2p/<peer id>
    with pytest.raises(UsageError):
        transport(1, bootstrap=["nonsense"])
    with pytest.raises(UsageError):
        type(transport(1))(b"short", ZONE, validate=lambda raw, peer: True)
    with pytest.raises(UsageError):
        type(transport(1))(seed(1), b"\x01", validate=lambda raw, peer: True)


@pytest.mark.trio
async def test_publish_reaches_all_through_a_chain() -> None:
    key = nacl.signing.SigningKey(seed(9))
    async with trio.open_nursery() as nursery:
        a = await start(nursery, 1)
        assert a.listen_addrs and all(x.endswith(f"/p2p/{a.peer_id}") for x in a.listen_addrs)
        started = time.perf_counter()
        b = await start(nursery, 2, bootstrap=a.listen_addrs)
        up = await peer_up(b, a)
        connect_ms = (time.perf_counter() - started) * 1000
        assert isinstance(up, PeerUp) and up.via == "bootstrap" and up.address.startswith("127.")
        assert (await peer_up(a, b)).via == "inbound"
        c = await start(nursery, 3, bootstrap=b.listen_addrs)
        await peer_up(c, b)
        assert sorted(b.peers()) == sorted([a.peer_id, c.peer_id])
        assert [s.peer for s in c.peer_states()] == [b.peer_id]

        raw = checkin(key, 1)
        sent = time.perf_counter()
        assert await a.publish(raw)
        (at_c,) = await receive(c, 1)
        latency_ms = (time.perf_counter() - sent) * 1000
        assert at_c == (raw, b.peer_id)  # handed over by the neighbour in between
        assert await receive(b, 1) == [(raw, a.peer_id)]
        assert nothing_pending(a)  # our own publish never comes back
        assert not await a.publish(raw)  # already known: nothing sent
        assert not await c.publish(raw)  # received: already known too

        other = checkin(key, 2)
        sent = time.perf_counter()
        assert await c.publish(other)
        assert await receive(a, 1) == [(other, b.peer_id)]
        warm_ms = (time.perf_counter() - sent) * 1000

        stats = a.statistics()
        assert stats["published"] == 1 and stats["received"] == 1 and stats["peers"] == 1
        assert stats["publish_duplicates"] == 1 and stats["rejected"] == {}
        json.dumps(stats)  # the control socket shows it as is
        log.warning(
            "connect %.1f ms; publish->deliver over 2 hops: first %.1f ms, then %.1f ms",
            connect_ms,
            latency_ms,
            warm_ms,
        )
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_publish_needs_a_running_transport_and_an_envelope() -> None:
    wifi = transport(1)
    with pytest.raises(UsageError):
        await wifi.publish(b"x")
    async with trio.open_nursery() as nursery:
        await nursery.start(wifi.serve)
        with pytest.raises(UsageError):
            await wifi.publish(b"")
        with pytest.raises(UsageError):
            await wifi.publish(b"x" * 2049)
        with pytest.raises(UsageError):
            await nursery.start(wifi.serve)  # runs once
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_add_peer_at_run_time() -> None:
    async with trio.open_nursery() as nursery:
        a = await start(nursery, 1)
        b = await start(nursery, 2)
        assert b.add_peer(a.listen_addrs[0]) == a.peer_id
        assert (await peer_up(b, a)).via == "manual"
        assert b.add_peer(b.listen_addrs[0]) == b.peer_id  # ourselves: ignored
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_sync_streams() -> None:
    async def echo(stream: SyncStream, peer: str) -> None:
        while data := await stream.receive_some(1000):
            await stream.send_all(data.upper())
        await stream.send_all(b"|" + peer.encode())

    async def silent(stream: SyncStream, peer: str) -> None:
        await trio.sleep_forever()

    async def crashing(stream: SyncStream, peer: str) -> None:
        raise RuntimeError("a bug in a handler")

    async with trio.open_nursery() as nursery:
        a = transport(1)
        a.register_protocol(ECHO, echo)  # before serve
        await nursery.start(a.serve)
        a.register_protocol("/entraide/test-silent/1", silent)  # while running
        a.register_protocol("/entraide/test-crash/1", crashing)
        b = await start(nursery, 2, bootstrap=a.listen_addrs, stream_timeout=1.0)
        await peer_up(b, a)

        async with await b.open_stream(a.peer_id, ECHO) as stream:
            assert stream.peer == a.peer_id and stream.protocol == ECHO
            payload = bytes(range(256)) * 200
            await stream.send_all(b"")  # nothing at all: never an empty frame
            await stream.send_all(payload)
            await stream.send_eof()
            got = b""
            while chunk := await stream.receive_some(65536):
                got += chunk
        assert got == payload.upper() + b"|" + b.peer_id.encode()

        stream = await b.open_stream(a.peer_id, "/entraide/test-silent/1")
        with pytest.raises(StreamTimeout):
            await stream.receive_some()
        await stream.aclose()

        stream = await b.open_stream(a.peer_id, "/entraide/test-crash/1")
        assert await stream.receive_some() == b""  # closed by the transport, node still fine
        await stream.aclose()

        with pytest.raises(StreamFailed, match=r"cannot open"):
            await b.open_stream(a.peer_id, "/entraide/unknown/1")
        with pytest.raises(UsageError):
            await b.open_stream("nonsense", ECHO)
        async with await b.open_stream(a.peer_id, ECHO) as stream:
            await stream.send_all(b"still there")
            assert await stream.receive_some(100) == b"STILL THERE"
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_close_on_exit_leaves_no_connection_and_no_task() -> None:
    baseline = trio.lowlevel.current_statistics().tasks_living
    async with trio.open_nursery() as outer:
        a = await start(outer, 1)
        async with trio.open_nursery() as nursery:
            b = await start(nursery, 2, bootstrap=a.listen_addrs)
            await peer_up(b, a)
            await peer_up(a, b)
            nursery.cancel_scope.cancel()
        # b is gone: a hears it at once (its connection was closed, not left to time out).
        down = await peer_down(a, b, timeout=2.0)
        assert isinstance(down, PeerDown) and down.reason == "connection closed"
        assert a.peers() == []
        # b's channels end, so the daemon's loops over them end too.
        rest = [event async for event in b.peer_events]
        assert [(e.peer, e.up, getattr(e, "reason", "")) for e in rest] == [
            (a.peer_id, False, "shutdown")
        ]
        async for _ in b.received:
            raise AssertionError("nothing was published")
        outer.cancel_scope.cancel()
    with trio.fail_after(2):
        while trio.lowlevel.current_statistics().tasks_living > baseline:
            await trio.sleep(0.01)
