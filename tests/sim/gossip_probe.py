"""Run a real `entraide node` with counters on py-libp2p's pubsub, for comparing with the
simulator (tests/sim/test_real_vs_sim.py).

    python tests/sim/gossip_probe.py --home DIR node --listen … (the arguments of `entraide`)

Counts every publish a neighbour hands over (first copy or duplicate: py-libp2p drops a
message already seen before validating it), and the IHAVE and IWANT control messages
received; writes them to ``<home>/gossip_probe.json`` when the node stops. With
``ENTRAIDE_PROBE_MESH=d,d_low,d_high`` the node runs with those mesh degrees instead of
node/wifi.py's (to try a setting on real processes before changing it).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PROBE_FILE = "gossip_probe.json"
PROBE = Path(__file__).resolve()


@contextlib.contextmanager
def probing(mesh: str | None = None) -> Iterator[None]:
    """Node processes started meanwhile by tests/node/netharness.py run through this probe
    (instead of `python -m node.cli`); ``mesh`` ("d,d_low,d_high") changes their mesh."""
    from tests.node import netharness

    popen = netharness.subprocess.Popen
    saved = os.environ.get("ENTRAIDE_PROBE_MESH")

    def probed_popen(args: list[str], *rest: Any, **options: Any) -> Any:
        args = list(args)
        if args[1:3] == ["-m", "node.cli"]:
            args[1:3] = [str(PROBE)]
        return popen(args, *rest, **options)

    netharness.subprocess.Popen = probed_popen  # type: ignore[assignment,misc]
    if mesh:
        os.environ["ENTRAIDE_PROBE_MESH"] = mesh
    try:
        yield
    finally:
        netharness.subprocess.Popen = popen  # type: ignore[misc]
        if saved is None:
            os.environ.pop("ENTRAIDE_PROBE_MESH", None)
        else:
            os.environ["ENTRAIDE_PROBE_MESH"] = saved


def probe(argv: Sequence[str]) -> int:
    from libp2p.pubsub.pubsub import Pubsub

    import node.wifi
    from node.cli import main
    from node.wifi import _ZoneRouter as GossipSub  # its own IHAVE/IWANT handling included

    counts: Counter[str] = Counter()
    push_msg, handle_ihave, handle_iwant = (
        Pubsub.push_msg,
        GossipSub.handle_ihave,
        (GossipSub.handle_iwant),
    )

    async def counting_push_msg(self: Pubsub, forwarder: Any, msg: Any) -> None:
        if forwarder != self.my_id:  # not our own publish
            counts["copies"] += 1
            if self._is_msg_seen(msg):
                counts["duplicates"] += 1
        await push_msg(self, forwarder, msg)

    async def counting_ihave(self: GossipSub, ihave: Any, sender: Any) -> None:
        counts["ihave"] += 1
        await handle_ihave(self, ihave, sender)

    async def counting_iwant(self: GossipSub, iwant: Any, sender: Any) -> None:
        counts["iwant"] += 1
        await handle_iwant(self, iwant, sender)

    Pubsub.push_msg = counting_push_msg  # type: ignore[method-assign]
    GossipSub.handle_ihave = counting_ihave  # type: ignore[method-assign]
    GossipSub.handle_iwant = counting_iwant  # type: ignore[method-assign]
    mesh = os.environ.get("ENTRAIDE_PROBE_MESH")
    if mesh:
        degree, low, high = (int(v) for v in mesh.split(","))
        node.wifi.MESH_DEGREE, node.wifi.MESH_DEGREE_LOW, node.wifi.MESH_DEGREE_HIGH = (
            degree,
            low,
            high,
        )
    home = Path(argv[argv.index("--home") + 1])
    try:
        return main(list(argv))
    finally:
        (home / PROBE_FILE).write_text(json.dumps(dict(counts)))


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1:]))
