"""A flooding peer for tests/node/test_trust_network.py: a libp2p host of the zone that dials
every node given and publishes, for DURATION seconds and as fast as its neighbours take them,
help requests signed by one key nobody vouched for. Its own validator accepts anything.

Usage: flood_peer.py ZONE_HEX DURATION REPORT.json MULTIADDR... The report lists the ids sent.
"""

from __future__ import annotations

import json
import sys
import time

import nacl.signing
import trio

from node.wifi import WifiTransport
from protocol import kinds as k
from protocol.envelope import seal


async def main(zone: bytes, duration: float, report: str, targets: list[str]) -> None:
    key = nacl.signing.SigningKey.generate()
    peer = WifiTransport(
        bytes(nacl.signing.SigningKey.generate()),
        zone,
        validate=lambda raw, peer: True,
        listen=["/ip4/127.0.0.1/tcp/0"],
        bootstrap=targets,
        mdns=False,
    )
    sent: list[str] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(peer.serve)
        with trio.fail_after(20):
            while len(peer.peers()) < len(targets):
                await trio.sleep(0.05)
        await trio.sleep(1.5)  # the GossipSub mesh forms (heartbeat 1 s)
        print("flooding", flush=True)
        deadline = trio.current_time() + duration
        while trio.current_time() < deadline:
            env = seal(
                k.HelpRequest(need=k.Need.FOOD, text=f"spam {len(sent)}"),
                signing_key=key,
                created=int(time.time()),
                zone=zone,
            )
            await peer.publish(env.raw)
            sent.append(env.id.hex())
            await trio.sleep(0)
        nursery.cancel_scope.cancel()
    with open(report, "w") as out:
        json.dump({"key": bytes(key.verify_key).hex(), "sent": sent}, out)


if __name__ == "__main__":
    trio.run(main, bytes.fromhex(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:])
