"""A rogue peer for tests/node/test_network.py: a libp2p host of the zone that forwards
anything (its validator accepts all) and publishes forged messages, a flood from one key
and one honest message. Usage: rogue_peer.py MULTIADDR REPORT.json ZONE_HEX"""

from __future__ import annotations

import json
import sys
import time

import nacl.signing
import trio

from node.wifi import WifiTransport
from protocol import kinds as k
from protocol.envelope import seal

FLOOD = 200


async def main(target: str, report: str, zone: bytes) -> None:
    key = nacl.signing.SigningKey.generate()
    victim = nacl.signing.SigningKey.generate()
    rogue = WifiTransport(
        bytes(nacl.signing.SigningKey.generate()),
        zone,
        validate=lambda raw, peer: True,
        listen=["/ip4/127.0.0.1/tcp/0"],
        bootstrap=[target],
        mdns=False,
    )
    now = int(time.time())
    sent: dict[str, list[str]] = {"forged": [], "flood": [], "honest": []}
    async with trio.open_nursery() as nursery:
        await nursery.start(rogue.serve)
        with trio.fail_after(20):
            while not rogue.peers():
                await trio.sleep(0.05)
        await trio.sleep(1.5)  # let the GossipSub mesh form (heartbeat 1 s)
        honest = seal(
            k.CheckIn(status=k.CheckInStatus.SAFE), signing_key=key, created=now, zone=zone
        )
        await rogue.publish(honest.raw)
        sent["honest"].append(honest.id.hex())
        for i in range(20):  # a victim's words with a signature that does not match
            env = seal(
                k.Alert(headline=f"Fausse alerte {i}", severity=k.Severity.EXTREME),
                signing_key=victim,
                created=now,
                zone=zone,
            )
            forged = env.raw[:-64] + bytes(64)
            await rogue.publish(forged)
            sent["forged"].append(env.id.hex())
        for i in range(FLOOD):  # one key, far over its rate limit
            env = seal(
                k.HelpRequest(need=k.Need.FOOD, urgency=k.RequestUrgency.LOW, text=f"spam {i}"),
                signing_key=key,
                created=now,
                zone=zone,
            )
            await rogue.publish(env.raw)
            sent["flood"].append(env.id.hex())
        await trio.sleep(2)
        nursery.cancel_scope.cancel()
    with open(report, "w") as out:
        json.dump(sent, out)


if __name__ == "__main__":
    trio.run(main, sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]))
