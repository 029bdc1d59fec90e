"""Real `entraide node` processes on loopback, driven through their control sockets.

Used by the multi-node tests and the propagation benchmark. Every process is started with
``--listen /ip4/127.0.0.1/tcp/0 --no-mdns`` (loopback only) and stopped with SIGTERM (then
SIGKILL after a grace period); :class:`Cluster` is a context manager that always cleans up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.client import ControlClient, NodeUnavailable, b64, unb64
from node.config import Config, ZoneSettings, save_config
from node.identity import create_identity

ZONE = bytes.fromhex("3f2a9c01")
START_TIMEOUT = 30.0


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


@dataclass
class NodeProcess:
    name: str
    home: Path
    peers: list[str] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)
    wifi: bool = True
    #: Extra environment variables of the process (e.g. ENTRAIDE_CLOCK_OFFSET_S).
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    address: str = ""  # its /ip4/127.0.0.1/tcp/PORT/p2p/ID once started

    @property
    def log_path(self) -> Path:
        return self.home / "node.log"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        args = [
            sys.executable,
            "-m",
            "node.cli",
            "--home",
            str(self.home),
            "node",
            # A restarted node keeps its port: its neighbours redial the address they know.
            *(["--listen", self.listen_on(), "--no-mdns"] if self.wifi else ["--offline"]),
            *[a for p in self.peers for a in ("--peer", p)],
            *self.extra_args,
        ]
        log = self.log_path.open("ab")
        env = os.environ | {"PYTHONUNBUFFERED": "1"} | self.env
        self.process = subprocess.Popen(args, stdout=log, stderr=log, env=env)
        log.close()

        def ready() -> str | None:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                status = self.call("status")
            except (NodeUnavailable, OSError):
                return None
            if not self.wifi:
                return "offline"
            listen = status["wifi"]["listen"]
            return next((a for a in listen if a.startswith("/ip4/127.0.0.1/")), None)

        self.address = wait_for(ready, timeout, f"{self.name} to start")

    def listen_on(self) -> str:
        port = self.address.split("/tcp/")[1].split("/")[0] if self.address else "0"
        return f"/ip4/127.0.0.1/tcp/{port}"

    def stop(self, timeout: float = 15.0) -> int | None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            raise RuntimeError(f"{self.name} ignored SIGTERM:\n{self.log_tail()}") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def call(self, op: str, **arguments: Any) -> Any:
        with ControlClient(self.home, timeout=30) as client:
            return client.call(op, **arguments)

    def post(self, kind: str, **body: Any) -> str:
        return str(self.call("post", kind=kind, body=body)["id"])

    def submit(self, raws: Iterable[bytes]) -> list[dict[str, Any]]:
        return list(self.call("submit", raws=[b64(r) for r in raws]))

    def message_ids(self) -> set[str]:
        from protocol.envelope import decode

        raws = self.call("messages")["raws"]
        return {decode(unb64(r), verify=False).id.hex() for r in raws}

    def peer_count(self) -> int:
        return len(self.call("status")["wifi"]["peers"])

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class Cluster:
    """Several nodes of one zone, each in its own home under ``root``."""

    def __init__(self, root: Path, count: int, *, zone: bytes = ZONE) -> None:
        self.root = root
        self.zone = zone
        self.nodes: list[NodeProcess] = []
        for i in range(count):
            self.add(f"n{i}")

    def add(self, name: str, **options: Any) -> NodeProcess:
        home = self.root / name
        home.mkdir(mode=0o700)
        save_config(
            home, Config(zone=ZoneSettings(zone_id=self.zone, name="Rue des Lilas"), language="en")
        )
        create_identity(home)
        node = NodeProcess(name, home, **options)
        self.nodes.append(node)
        return node

    def start_chain(self, nodes: list[NodeProcess] | None = None) -> None:
        """Start ``nodes`` one after the other, each dialling the one before it."""
        previous: NodeProcess | None = None
        for node in nodes if nodes is not None else self.nodes:
            if previous is not None and previous.address not in node.peers:
                node.peers.append(previous.address)
            node.start()
            previous = node

    def wait_connected(self, nodes: list[NodeProcess] | None = None, timeout: float = 30) -> None:
        for node in nodes if nodes is not None else self.nodes:
            wait_for(node.peer_count, timeout, f"{node.name} to have a peer")

    def close(self) -> None:
        problems = []
        for node in self.nodes:
            try:
                node.stop()
            except RuntimeError as exc:
                problems.append(str(exc))
        if problems:
            raise RuntimeError("\n".join(problems))

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
