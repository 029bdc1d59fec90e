"""The app's way to the node: a control connection, and starting the node when none runs.

The app talks to the node only through :class:`NodeConnection`, the interface of
:class:`node.client.AsyncControlClient`; tests may give it another implementation (a
scripted node with a fixed clock for snapshots).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from node.client import AsyncControlClient, NodeUnavailable
from protocol.errors import LocalError

#: Log file of a node the app started, in the node's home.
NODE_LOG = "node.log"
#: How long a node the app started may take to answer (Wi-Fi nodes import libp2p first).
START_TIMEOUT_S = 60.0


class NodeConnection(Protocol):
    async def connect(self) -> None: ...

    async def call(self, op: str, **arguments: Any) -> Any: ...

    def events(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


ConnectionFactory = Callable[[], NodeConnection]


def control_connection(home: Path) -> ConnectionFactory:
    """Connections to the node of ``home`` through its control socket."""
    return lambda: AsyncControlClient(home)


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    STARTING = "starting"  # the app is starting the node
    UP = "up"
    DOWN = "down"  # no node answers; the app keeps trying


class NodeStartFailed(LocalError):
    """The node the app started did not come up; the message ends with its log."""

    code = "node-start-failed"


@dataclass(frozen=True, slots=True)
class NodeLauncher:
    """Starts ``entraide node`` in the background, detached from the terminal, so that it
    keeps running (and passing messages on) after the app quits."""

    home: Path
    #: Start the node without Wi-Fi (``entraide node --offline``).
    offline: bool = False
    timeout: float = START_TIMEOUT_S

    @property
    def log_path(self) -> Path:
        return self.home / NODE_LOG

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "node.cli", "--home", os.fspath(self.home), "node"]
        return [*args, "--offline"] if self.offline else args

    async def start(self) -> subprocess.Popen[bytes]:
        """Start the node and wait until its control socket answers. The caller keeps the
        process object while it runs: the node outlives the app."""
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # no SIGHUP or Ctrl-C from the app's terminal
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NodeStartFailed(f"the node stopped at once:\n{self.log_tail()}")
            if await answers(self.home):
                return process
            await asyncio.sleep(0.1)
        raise NodeStartFailed(
            f"the node did not answer within {self.timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


async def answers(home: Path) -> bool:
    """Whether a node answers on ``home``'s control socket."""
    client = AsyncControlClient(home)
    try:
        await client.connect()
        await asyncio.wait_for(client.call("status"), 5.0)
    except (NodeUnavailable, OSError, TimeoutError):
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.close()
    return True
