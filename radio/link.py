"""The link to one Meshtastic device, through the real ``meshtastic`` library, bridged into trio.

The library is threaded and blocking: its constructor waits for the device's configuration,
``sendData`` may spin while the device's queue is full, and every received packet arrives on
its global pub/sub "publishing" thread (ACKs and NAKs on its reader thread). This adapter:

- opens the interface (TCP ``tcp:HOST[:PORT]`` or ``serial:/dev/ttyUSB0``) in a worker
  thread, always with a ``timeout`` (the library's default is 300 s);
- subscribes **bound methods** (pypubsub keeps weak references: a lambda would never fire),
  filters on its own interface, and hands each packet into trio with
  ``trio.from_thread.run_sync`` on a bounded channel (the oldest is dropped, and counted,
  if the node falls behind);
- runs every send in a worker thread and waits for the device's ACK/NAK with its own timeout;
- rebuilds the interface when the connection is lost (the library's object is dead after
  ``meshtastic.connection.lost``), with backoff, and reports it.

It knows ports, payload sizes and node numbers, not what messages mean. radio/ is the only
package that imports meshtastic.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import trio

from protocol.errors import LocalError
from protocol.radio_frame import RADIO_PORT

log = logging.getLogger("entraide.radio")

#: Meshtastic's broadcast destination.
BROADCAST = 0xFFFFFFFF
TEXT_PORT = 1  # TEXT_MESSAGE_APP
#: What the firmware really carries on a private port (the library lets 233 B through).
MAX_PAYLOAD = 231
MAX_TEXT_BYTES = 200
#: Packets waiting for the node before the oldest is dropped.
RECEIVE_BUFFER = 256
CONNECT_TIMEOUT_S = 20
ACK_TIMEOUT_S = 30.0
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 60.0


class RadioError(LocalError):
    """The device cannot be reached or refused a packet (``reason`` is the firmware's)."""

    code = "radio"

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RadioPacket:
    """One packet the device received."""

    sender: int  # node number
    destination: int
    port: int
    payload: bytes
    channel: int
    packet_id: int
    rx_snr: float | None
    rx_rssi: int | None
    hop_limit: int | None
    hop_start: int | None
    pki_encrypted: bool

    @property
    def sender_id(self) -> str:
        return node_id(self.sender)

    @property
    def direct(self) -> bool:
        return self.destination != BROADCAST

    @property
    def text(self) -> str | None:
        if self.port != TEXT_PORT:
            return None
        return self.payload.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class SendResult:
    packet_id: int
    acked: bool  # the device (or a relay, for a broadcast) confirmed it
    reason: str  # "NONE" when acked; else the firmware's error or "TIMEOUT"


def node_id(num: int) -> str:
    """A node number as Meshtastic writes it: ``!a1b2c3d4``."""
    return f"!{num:08x}"


@dataclass(frozen=True, slots=True)
class RadioSettings:
    """What the device says of its LoRa configuration (Meshtastic's names; "" if unknown)."""

    region: str
    preset: str  # "" when the device uses custom modem settings
    channel: str  # the primary channel's name ("" for the preset's default name)
    hop_limit: int


def covering_hop_limit(hops_away: Iterable[int | None], configured: int | None) -> int | None:
    """The smallest hop limit that reaches every radio of a node list, given how many hops
    away each one is (0: a direct neighbour; None: unknown), never more than ``configured``.
    With no distance known, ``configured`` (None: let the device use its own).

    >>> covering_hop_limit([0, 1, None, 0], 3), covering_hop_limit([5], 3)
    (1, 3)
    >>> covering_hop_limit([None], 3), covering_hop_limit([2], None)
    (3, None)
    """
    known = [h for h in hops_away if h is not None and h >= 0]
    if not known or configured is None:
        return configured
    return min(max(known), configured)


def parse_target(text: str) -> tuple[str, str, int | None]:
    """``tcp:HOST[:PORT]`` or ``serial:DEVICE`` → (kind, host or device, port)."""
    kind, _, rest = text.partition(":")
    if kind == "tcp" and rest:
        host, sep, port = rest.rpartition(":")
        if sep and port.isdigit() and host:
            return "tcp", host.strip("[]"), int(port)
        return "tcp", rest, None
    if kind == "serial" and rest:
        return "serial", rest, None
    raise ValueError(
        f"radio {text!r}: expected tcp:HOST[:PORT] (a networked or emulated device) or "
        "serial:DEVICE (e.g. serial:/dev/ttyUSB0)"
    )


def _packet_from(packet: dict[str, Any]) -> RadioPacket | None:
    decoded = packet.get("decoded")
    if not isinstance(decoded, dict):
        return None  # encrypted for a channel we do not have
    raw = packet.get("raw")
    port = int(raw.decoded.portnum) if raw is not None else 0
    payload = decoded.get("payload", b"")
    return RadioPacket(
        sender=int(packet.get("from", 0)),
        destination=int(packet.get("to", BROADCAST)),
        port=port,
        payload=bytes(payload),
        channel=int(packet.get("channel", 0)),
        packet_id=int(packet.get("id", 0)),
        rx_snr=packet.get("rxSnr"),
        rx_rssi=packet.get("rxRssi"),
        hop_limit=packet.get("hopLimit"),
        hop_start=packet.get("hopStart"),
        pki_encrypted=bool(packet.get("pkiEncrypted", False)),
    )


class RadioLink:
    """The node's own connection to its Meshtastic device (firmware serves one client)."""

    def __init__(
        self,
        target: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT_S,
        ack_timeout: float = ACK_TIMEOUT_S,
    ) -> None:
        self.kind, self.address, self.port = parse_target(target)
        self.target = target
        self.connect_timeout = connect_timeout
        self.ack_timeout = ack_timeout
        self._iface: Any = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._send, self.received = trio.open_memory_channel[RadioPacket](RECEIVE_BUFFER)
        self._lost = trio.Event()
        self.connected = trio.Event()
        self.my_node_num: int | None = None
        self.stats = {"received": 0, "dropped": 0, "sent": 0, "refused": 0, "reconnects": 0}

    # --- life cycle ---------------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, then keep the device connected until cancelled. ``started()`` after the
        first successful connection (a first failure raises :class:`RadioError`)."""
        self._token = trio.lowlevel.current_trio_token()
        await self._connect()
        task_status.started()
        delay = RECONNECT_MIN_S
        try:
            while True:
                await self._lost.wait()
                log.warning("radio %s: connection lost; reconnecting", self.target)
                await self._disconnect()
                while True:
                    await trio.sleep(delay)
                    try:
                        await self._connect()
                    except RadioError as exc:
                        delay = min(delay * 2, RECONNECT_MAX_S)
                        log.warning("radio %s: %s (next try in %.0f s)", self.target, exc, delay)
                        continue
                    self.stats["reconnects"] += 1
                    delay = RECONNECT_MIN_S
                    break
        finally:
            with trio.CancelScope(shield=True):
                await self._disconnect()

    async def _connect(self) -> None:
        from pubsub import pub

        def open_interface() -> Any:
            if self.kind == "tcp":
                from meshtastic.tcp_interface import TCPInterface

                kwargs: dict[str, Any] = {"timeout": self.connect_timeout}
                if self.port is not None:
                    kwargs["portNumber"] = self.port
                return TCPInterface(hostname=self.address, **kwargs)
            from meshtastic.serial_interface import SerialInterface

            return SerialInterface(devPath=self.address, timeout=self.connect_timeout)

        try:
            iface = await trio.to_thread.run_sync(open_interface, abandon_on_cancel=True)  # type: ignore[call-arg]  # trio-stubs lag trio
        except Exception as exc:  # the library raises bare Exceptions, OSError, MeshInterfaceError
            raise RadioError(f"cannot connect to the radio {self.target}: {exc}") from exc
        except SystemExit as exc:  # the library calls sys.exit() on some failures
            raise RadioError(f"cannot connect to the radio {self.target}: {exc}") from exc
        self._iface = iface
        self._lost = trio.Event()
        self.my_node_num = int(iface.myInfo.my_node_num) if iface.myInfo else None
        pub.subscribe(self._on_receive, "meshtastic.receive")
        pub.subscribe(self._on_lost, "meshtastic.connection.lost")
        self.connected.set()
        log.info(
            "radio %s connected: node %s",
            self.target,
            node_id(self.my_node_num) if self.my_node_num is not None else "?",
        )

    async def _disconnect(self) -> None:
        from pubsub import pub

        iface, self._iface = self._iface, None
        self.connected = trio.Event()
        with contextlib.suppress(Exception):
            pub.unsubscribe(self._on_receive, "meshtastic.receive")
        with contextlib.suppress(Exception):
            pub.unsubscribe(self._on_lost, "meshtastic.connection.lost")
        if iface is not None:
            with contextlib.suppress(Exception):
                await trio.to_thread.run_sync(iface.close, abandon_on_cancel=True)  # type: ignore[call-arg]  # trio-stubs lag trio

    # --- callbacks from the library's threads ------------------------------------------------

    def _to_trio(self, fn: Callable[[], None]) -> None:
        if self._token is None:
            return
        with contextlib.suppress(trio.RunFinishedError, trio.Cancelled):
            trio.from_thread.run_sync(fn, trio_token=self._token)

    def _on_receive(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is not self._iface:
            return  # another interface of this process (pypubsub is process-global)
        parsed = _packet_from(packet)
        if parsed is not None:
            self._to_trio(lambda: self._deliver(parsed))

    def _deliver(self, packet: RadioPacket) -> None:
        self.stats["received"] += 1
        try:
            self._send.send_nowait(packet)
        except trio.WouldBlock:
            self.stats["dropped"] += 1
            log.warning("radio %s: node busy, dropped a received packet", self.target)

    def _on_lost(self, interface: Any) -> None:
        if interface is self._iface:
            self._to_trio(self._lost.set)

    # --- what the device knows --------------------------------------------------------------

    def hops_away(self) -> dict[int, int | None]:
        """The device's node list (other radios only): node number -> hops away (0: a direct
        neighbour; None: not known). As the device sent it when the connection was made."""
        iface = self._iface
        if iface is None:
            return {}
        try:
            nodes = list((iface.nodesByNum or {}).values())
        except RuntimeError:  # changed size on the library's thread: take it next time
            return {}
        hops: dict[int, int | None] = {}
        for node in nodes:
            num = node.get("num")
            if not isinstance(num, int) or num == self.my_node_num:
                continue
            value = node.get("hopsAway")
            hops[num] = value if isinstance(value, int) else None
        return hops

    def configured_hop_limit(self) -> int | None:
        """The hop limit the device gives its packets (None before it sent its LoRa config)."""
        settings = self.lora_settings()
        return None if settings is None else settings.hop_limit

    def lora_settings(self) -> RadioSettings | None:
        """The device's LoRa configuration, None before it sent it."""
        iface = self._iface
        if iface is None:
            return None
        try:
            config = iface.localNode.localConfig
            if not config.HasField("lora"):
                return None
            lora = config.lora
            region = lora.RegionCode.Name(lora.region) if lora.region else ""
            preset = lora.ModemPreset.Name(lora.modem_preset) if lora.use_preset else ""
            channels = iface.localNode.channels or []
            channel = channels[0].settings.name if channels else ""
        except (AttributeError, ValueError):  # an older or partial configuration
            return None
        return RadioSettings(region, preset, channel, int(lora.hop_limit))

    # --- sending -------------------------------------------------------------------------------

    async def send_data(
        self,
        payload: bytes,
        *,
        port: int = RADIO_PORT,
        destination: int = BROADCAST,
        want_ack: bool = True,
        hop_limit: int | None = None,
        channel: int = 0,
    ) -> SendResult:
        """Send one packet; with ``want_ack``, wait for the ACK/NAK (at most ``ack_timeout``)."""
        if len(payload) > MAX_PAYLOAD:
            raise RadioError(f"payload of {len(payload)} bytes is too large for one packet")
        iface = self._iface
        if iface is None:
            raise RadioError(f"radio {self.target} is not connected")
        answer: trio.MemorySendChannel[str]
        answer, answers = trio.open_memory_channel[str](1)
        token = trio.lowlevel.current_trio_token()

        def on_ack_nak(packet: dict[str, Any]) -> None:  # named so the library passes ACKs
            routing = packet.get("decoded", {}).get("routing", {})
            reason = str(routing.get("errorReason", "NONE"))
            with contextlib.suppress(trio.RunFinishedError, trio.WouldBlock, trio.Cancelled):
                trio.from_thread.run_sync(answer.send_nowait, reason, trio_token=token)

        on_ack_nak.__name__ = "onAckNak"

        def send() -> int:
            sent = iface.sendData(
                payload,
                destinationId=destination,
                portNum=port,
                wantAck=want_ack,
                onResponse=on_ack_nak if want_ack else None,
                channelIndex=channel,
                hopLimit=hop_limit,
            )
            return int(sent.id)

        try:
            packet_id = await trio.to_thread.run_sync(send, abandon_on_cancel=True)  # type: ignore[call-arg]  # trio-stubs lag trio
        except Exception as exc:
            raise RadioError(f"radio {self.target}: sending failed: {exc}") from exc
        self.stats["sent"] += 1
        if not want_ack:
            return SendResult(packet_id, acked=False, reason="NOT_REQUESTED")
        reason = "TIMEOUT"
        with trio.move_on_after(self.ack_timeout):
            reason = await answers.receive()
        if reason != "NONE":
            self.stats["refused"] += 1
        return SendResult(packet_id, acked=reason == "NONE", reason=reason)

    async def send_text(
        self, text: str, *, destination: int = BROADCAST, channel: int = 0, want_ack: bool = True
    ) -> SendResult:
        """Plain text a handset shows (at most :data:`MAX_TEXT_BYTES` UTF-8 bytes)."""
        data = text.encode("utf-8")
        if len(data) > MAX_TEXT_BYTES:
            raise RadioError(f"text of {len(data)} bytes is longer than {MAX_TEXT_BYTES}")
        return await self.send_data(
            data, port=TEXT_PORT, destination=destination, want_ack=want_ack, channel=channel
        )

    def statistics(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "connected": self._iface is not None,
            "node": None if self.my_node_num is None else node_id(self.my_node_num),
            **self.stats,
        }
