"""Helpers for the Wi-Fi transport tests, and a worker process for the mDNS test.

As a script (run inside the network namespace the mDNS test makes)::

    python wifi_worker.py <node number> <peers> <barrier directory>

starts node ``n`` with mDNS and no bootstrap peer, prints one JSON line per step
(``{"ready": addrs}``, ``{"up": peer}``, ``{"published": …}``, ``{"received": hex}``) and
exits 0 once it has heard every peer and every peer has heard everybody; 3 after 20 s.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nacl.signing
import trio

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node.wifi import PeerEvent, WifiTransport, envelope_validator
from protocol import kinds as k
from protocol.envelope import Policy, seal
from protocol.ratelimit import Limit, RateLimiter

ZONE = bytes.fromhex("0a0b0c0d")
LOOPBACK = ["/ip4/127.0.0.1/tcp/0"]
WAIT = 10.0


def seed(n: int) -> bytes:
    return bytes([n]) * 32


def checkin(key: nacl.signing.SigningKey, n: int, *, zone: bytes = ZONE) -> bytes:
    body = k.CheckIn(status=k.CheckInStatus.SAFE, text=f"#{n}")
    return seal(body, signing_key=key, created=int(time.time()), zone=zone).raw


GENEROUS = Limit(burst=10_000, per_hour=0)


def validator(limit: Limit = GENEROUS) -> Callable[[bytes, str], bool]:
    """Signature, zone rules, then the author's rate limit."""
    return envelope_validator(
        Policy(zone=ZONE), RateLimiter(limit), now=time.time, monotonic=time.monotonic
    )


def accept_all(raw: bytes, from_peer: str) -> bool:
    return True


def transport(n: int, **options: object) -> WifiTransport:
    options.setdefault("validate", validator())
    options.setdefault("listen", LOOPBACK)
    options.setdefault("mdns", False)
    return WifiTransport(seed(n), ZONE, **options)  # type: ignore[arg-type]


async def start(nursery: trio.Nursery, n: int, **options: object) -> WifiTransport:
    wifi = transport(n, **options)
    await nursery.start(wifi.serve)
    return wifi


async def next_event(
    wifi: WifiTransport, match: Callable[[PeerEvent], bool], timeout: float = WAIT
) -> PeerEvent:
    """The next peer event that matches (earlier ones are consumed)."""
    with trio.fail_after(timeout):
        async for event in wifi.peer_events:
            if match(event):
                return event
    raise AssertionError("peer events ended")


async def peer_up(wifi: WifiTransport, other: WifiTransport, timeout: float = WAIT) -> PeerEvent:
    return await next_event(wifi, lambda e: e.up and e.peer == other.peer_id, timeout)


async def peer_down(wifi: WifiTransport, other: WifiTransport, timeout: float = WAIT) -> PeerEvent:
    return await next_event(wifi, lambda e: not e.up and e.peer == other.peer_id, timeout)


async def receive(
    wifi: WifiTransport, count: int, timeout: float = WAIT
) -> list[tuple[bytes, str]]:
    got: list[tuple[bytes, str]] = []
    with trio.fail_after(timeout):
        while len(got) < count:
            got.append(await wifi.received.receive())
    return got


def nothing_pending(wifi: WifiTransport) -> bool:
    try:
        wifi.received.receive_nowait()
    except trio.WouldBlock:
        return True
    return False


# ------------------------------------------------------------------- a link that can vanish


class Blackhole:
    """A TCP forwarder to a local port that can go silent: after :meth:`cut` it forwards
    nothing more and closes nothing (a neighbour whose Wi-Fi dropped), and refuses new
    connections until :meth:`restore`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.forwarding = True
        self._generation = 0

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._handle, listeners)
            task_status.started(port)

    def cut(self) -> None:
        self.forwarding = False
        self._generation += 1

    def restore(self) -> None:
        self.forwarding = True

    async def _handle(self, client: trio.SocketStream) -> None:
        if not self.forwarding:
            await client.aclose()
            return
        server = await trio.open_tcp_stream("127.0.0.1", self.target_port)
        generation = self._generation
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump, client, server, generation)
            nursery.start_soon(self._pump, server, client, generation)

    async def _pump(
        self, source: trio.SocketStream, sink: trio.SocketStream, generation: int
    ) -> None:
        while True:
            data = await source.receive_some(65536)
            if generation != self._generation:
                await trio.sleep_forever()  # silent: swallow everything, close nothing
            if not data:
                await sink.send_eof()
                return
            await sink.send_all(data)


# ---------------------------------------------------------------------- the mDNS worker


async def _worker(n: int, peers: int, barrier: Path) -> int:
    """Node ``n``: wait for ``peers`` peers by mDNS, publish one message, receive one from
    each peer, then wait at a barrier (a file per node in ``barrier``) so that nobody leaves
    before everybody has heard everybody."""
    wifi = WifiTransport(seed(n), ZONE, validate=validator(), listen=["/ip4/0.0.0.0/tcp/0"])

    def say(**what: object) -> None:
        print(json.dumps(what), flush=True)

    async def all_peers_up() -> None:
        seen: set[str] = set()
        async for event in wifi.peer_events:
            if event.up and event.peer not in seen:
                seen.add(event.peer)
                say(up=event.peer, via=getattr(event, "via", ""))
                if len(seen) == peers:
                    return

    async with trio.open_nursery() as nursery:
        say(ready=await nursery.start(wifi.serve), peer=wifi.peer_id)
        with trio.move_on_after(20) as deadline:
            await all_peers_up()
            say(published=await wifi.publish(checkin(nacl.signing.SigningKey(seed(n)), n)))
            for _ in range(peers):
                raw, peer = await wifi.received.receive()
                say(received=raw.hex(), peer=peer)
            (barrier / f"done{n}").touch()
            while len(list(barrier.glob("done*"))) <= peers:
                await trio.sleep(0.05)  # the others' files (no event crosses processes)
        nursery.cancel_scope.cancel()
    return 3 if deadline.cancelled_caught else 0


if __name__ == "__main__":
    number, peer_count, barrier_dir = sys.argv[1:4]
    sys.exit(trio.run(_worker, int(number), int(peer_count), Path(barrier_dir)))
