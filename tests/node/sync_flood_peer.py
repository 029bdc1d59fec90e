"""A peer that opens catch-up sessions in a tight loop, for tests/node/test_limits_network.py:
a libp2p host of the zone that dials one node and runs SESSIONS catch-up sessions with it,
one after the other, as the initiator with an empty set (each one makes the node read its
live ids and sketch them). Usage: sync_flood_peer.py MULTIADDR ZONE_HEX SESSIONS REPORT.json

The report counts the sessions "done", "refused" (SyncRefused: the node's limit) and
"failed" (anything else), and gives the seconds the loop took and the refusal texts seen."""

from __future__ import annotations

import json
import secrets
import sys
import time

import nacl.signing
import trio

from node.wifi import WifiTransport
from protocol.errors import PeerError
from protocol.reconcile import SYNC_PROTOCOL, Finished, NeedData, SyncRefused, SyncSession


async def session(transport: WifiTransport, peer: str, zone: bytes) -> str:
    stream = await transport.open_stream(peer, SYNC_PROTOCOL)
    try:
        s = SyncSession([], zone=zone, initiator=True, salt=secrets.token_bytes(16))
        while True:
            event = s.next_event()
            out = s.data_to_send()
            if out:
                await stream.send_all(out)
            if isinstance(event, NeedData):
                s.receive_data(await stream.receive_some(65536))
            elif isinstance(event, Finished):
                return "done"
            else:  # an empty set: nothing to send; envelopes received are dropped
                pass
    finally:
        await stream.aclose()


async def main(target: str, zone: bytes, sessions: int, report: str) -> None:
    transport = WifiTransport(
        bytes(nacl.signing.SigningKey.generate()),
        zone,
        validate=lambda raw, peer: True,
        listen=["/ip4/127.0.0.1/tcp/0"],
        bootstrap=[target],
        mdns=False,
    )
    counts = {"done": 0, "refused": 0, "failed": 0}
    reasons: set[str] = set()
    async with trio.open_nursery() as nursery:
        await nursery.start(transport.serve)
        with trio.fail_after(20):
            while not transport.peers():
                await trio.sleep(0.05)
        (peer,) = transport.peers()
        started = time.monotonic()
        for _ in range(sessions):
            try:
                counts[await session(transport, peer, zone)] += 1
            except SyncRefused as exc:
                counts["refused"] += 1
                reasons.add(str(exc))
            except PeerError as exc:
                counts["failed"] += 1
                reasons.add(f"failed: {exc}")
        elapsed = time.monotonic() - started
        nursery.cancel_scope.cancel()
    with open(report, "w") as out:
        json.dump(counts | {"seconds": elapsed, "reasons": sorted(reasons)}, out)


if __name__ == "__main__":
    trio.run(main, sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
