"""A volunteer's plain Meshtastic handset, played by the meshtastic library's own TCP client.

Used by ``entraide demo`` (and usable by tests): the handset runs nothing of entraide. It
connects to a radio (an emulated one: ``radio.emulator``), keeps every text it receives and
sends texts, to the channel or to one node, as a volunteer would with the handset's buttons.

The library is threaded and blocking: the constructor waits for the radio's configuration
(bounded by ``timeout``), texts arrive on its pub/sub thread. Call everything here from a
worker thread (``trio.to_thread.run_sync``); :meth:`texts` may be read from any thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from .link import BROADCAST, node_id

__all__ = ["Handset", "ReceivedText"]

#: Texts kept per handset (the oldest are forgotten first).
MAX_TEXTS = 200
TEXT_TOPIC = "meshtastic.receive.text"


@dataclass(frozen=True, slots=True)
class ReceivedText:
    sender: str  # "!a1b2c3d4"
    direct: bool  # addressed to this handset, not to the channel
    text: str
    at: float  # time.time() when it arrived


class Handset:
    """One handset on the radio at ``host:port``; :meth:`close` it when done."""

    def __init__(self, name: str, host: str, port: int, *, timeout: int = 20) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._texts: list[ReceivedText] = []
        self.sent: list[str] = []
        self.iface = TCPInterface(hostname=host, portNumber=port, timeout=timeout)
        # pypubsub keeps weak references: subscribe a bound method, never a lambda.
        pub.subscribe(self._on_text, TEXT_TOPIC)

    @property
    def node_num(self) -> int:
        return int(self.iface.myInfo.my_node_num) if self.iface.myInfo else 0

    @property
    def node_id(self) -> str:
        return node_id(self.node_num)

    def _on_text(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is not self.iface:
            return
        decoded = packet.get("decoded") or {}
        text = decoded.get("text")
        if not isinstance(text, str):
            return
        received = ReceivedText(
            sender=node_id(int(packet.get("from", 0))),
            direct=int(packet.get("to", BROADCAST)) != BROADCAST,
            text=text,
            at=time.time(),
        )
        with self._lock:
            self._texts.append(received)
            del self._texts[:-MAX_TEXTS]

    def texts(self) -> list[ReceivedText]:
        with self._lock:
            return list(self._texts)

    def send_text(self, text: str, destination: int | None = None) -> None:
        """Send ``text`` to the channel, or to one node (a direct message)."""
        self.iface.sendText(text, destinationId=BROADCAST if destination is None else destination)
        self.sent.append(text)

    def close(self) -> None:
        pub.unsubscribe(self._on_text, TEXT_TOPIC)
        self.iface.close()
