"""Loopback Meshtastic devices: each emulated radio is a TCP server speaking the device side of
the stream API, and all of them share one simulated airspace (``radio.airspace``).

The real ``meshtastic.tcp_interface.TCPInterface`` connects to ``127.0.0.1:<port>`` as to a
radio on the network. What the firmware does, and the emulator with it:
- handshake: on ``want_config_id`` it streams my_info, its own node_info, metadata, the 8
  channel records (0 PRIMARY), the configs (lora with region, preset and hop limit), the
  other known nodes' node_info (not for nonce 69420; nonce 69421 asks for nodes only), then
  ``config_complete_id`` = the nonce;
- a ``queueStatus`` after each packet from the client, and after each heartbeat;
- a packet id seen among the client's last 20 is ignored;
- text faster than 1 per 2 s gets ``RATE_LIMIT_EXCEEDED``; position, telemetry, alert and
  waypoint packets faster than 1 per 10 s are dropped; traceroute 1 per 30 s;
- one API client at a time: a new connection closes the previous one (as the firmware's
  TCP server does). A library client whose connection is closed reconnects by itself a
  second later, so two clients on one radio keep pushing each other off.

Time: the airspace runs in simulated seconds = trio seconds × ``time_scale``; with a time
scale of 10 the whole emulated world (airtime, relay delays, rate limits, the duty-cycle
hour) runs 10 times faster than real time. The clock is trio's, so a MockClock drives it.

From trio: ``emulator = await nursery.start(Emulator(airspace).serve)``, then
``emulator.endpoints()``. From blocking code: ``with run_in_thread(airspace) as emulator:``.
From a shell or another process: ``entraide radio-emulator --json`` prints one JSON line with
every radio's node num and port once they listen (node/cli.py).
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import trio
from meshtastic.protobuf import channel_pb2, config_pb2, mesh_pb2, portnums_pb2

from .airspace import (
    Airspace,
    Delivery,
    Event,
    Notice,
    RadioSpec,
    RadioStatistics,
    Transmission,
    build_topology,
    default_radios,
)
from .airtime import PRESETS, REGIONS
from .streamproto import Frame, FrameDecoder, encode_frame, encode_log_line

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
NONCE_ONLY_CONFIG = 69420  # the library's "no nodes" nonce
NONCE_ONLY_NODES = 69421
RECENT_PACKET_IDS = 20
MAX_CHANNELS = 8
TX_QUEUE_MAXLEN = 16
BACKLOG = 32  # packets kept for a radio while no client is connected
CLIENT_BUFFER = 256  # frames queued for a slow client before new ones are dropped
FIRMWARE_VERSION = "2.7.11.emulator"
CONFIG_SECTIONS = (
    "device", "position", "power", "network", "display", "lora", "bluetooth", "security"
)  # fmt: skip

Port = portnums_pb2.PortNum
_RATE_LIMITS_S = {
    Port.TEXT_MESSAGE_APP: 2.0,
    Port.POSITION_APP: 10.0,
    Port.WAYPOINT_APP: 10.0,
    Port.ALERT_APP: 10.0,
    Port.TELEMETRY_APP: 10.0,
    Port.TRACEROUTE_APP: 30.0,
}


@dataclass(frozen=True)
class Endpoint:
    """Where a client reaches one emulated radio."""

    node_num: int
    node_id: str
    long_name: str
    short_name: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


# ---------------------------------------------------------------- the emulator


class Emulator:
    """Serves every radio of ``airspace`` on its own loopback TCP port."""

    def __init__(
        self,
        airspace: Airspace,
        *,
        host: str = HOST,
        base_port: int = 0,
        time_scale: float = 1.0,
        emit_log_lines: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, not {time_scale}")
        self.airspace = airspace
        self.host = host
        self.base_port = base_port
        self.time_scale = time_scale
        self.emit_log_lines = emit_log_lines
        self._wall_clock = wall_clock
        self._epoch = 0.0
        self._t0 = 0.0
        self._wakeup = trio.Event()
        self.trio_token: trio.lowlevel.TrioToken | None = None
        self.radios = {
            spec.num: EmulatedRadio(self, spec) for spec in airspace.radios
        }  # by node num, in radio order

    # -------------------------------------------------------------- time

    def sim_now(self) -> float:
        """Simulated seconds since the emulator started."""
        return (trio.current_time() - self._t0) * self.time_scale

    def wall_time(self, sim_time: float) -> int:
        """Unix time of a simulated moment (packets carry it as rx_time)."""
        return int(self._epoch + sim_time)

    # -------------------------------------------------------------- service

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Open every radio's port, then run until cancelled. ``started()`` hands back
        this emulator, with ``endpoints()`` filled in."""
        self._t0 = trio.current_time()
        self._epoch = self._wall_clock()
        self.trio_token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            for i, radio in enumerate(self.radios.values()):
                port = self.base_port + i if self.base_port else 0
                listeners = await trio.open_tcp_listeners(port, host=self.host)
                radio.port = listeners[0].socket.getsockname()[1]
                nursery.start_soon(trio.serve_listeners, radio.handle_connection, listeners)
            nursery.start_soon(self._drive_airspace)
            task_status.started(self)

    def from_thread(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in the emulator's trio loop from another thread; return its result."""
        if self.trio_token is None:
            raise RuntimeError("the emulator is not running")
        return trio.from_thread.run_sync(fn, trio_token=self.trio_token)

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(
                r.spec.num, r.spec.node_id, r.spec.long_name, r.spec.short_name, self.host, r.port
            )
            for r in self.radios.values()
        ]

    def statistics(self) -> dict[int, RadioStatistics]:
        """Counters and channel use per radio (see ``RadioStatistics``)."""
        self.airspace.advance(self.sim_now())
        self.dispatch()
        return self.airspace.statistics()

    @property
    def transmissions(self) -> deque[Transmission]:
        """Every frame sent on the air so far (bounded by the airspace's ``log_limit``)."""
        return self.airspace.transmissions

    def summary(self) -> dict[str, Any]:
        """Channel use per radio, for a final report or a JSON line."""
        return {
            "simulated_s": round(self.sim_now(), 3),
            "transmissions": self.airspace.transmission_count,
            "radios": [
                {
                    "node_id": f"!{s.node_num:08x}",
                    **{k: v for k, v in asdict(s).items() if k != "node_num"},
                }
                for s in self.statistics().values()
            ],
        }

    async def _drive_airspace(self) -> None:
        """Run the airspace's timers on trio's clock."""
        while True:
            deadline = self.airspace.next_deadline()
            wake_at = math.inf if deadline is None else self._t0 + deadline / self.time_scale
            timed_out = True
            with trio.move_on_at(wake_at):
                await self._wakeup.wait()
                timed_out = False
            self._wakeup = trio.Event()
            now = self.sim_now()
            if timed_out and deadline is not None:
                now = max(now, deadline)  # never spin on a rounding error
            self.airspace.advance(now)
            self.dispatch()

    def submit(self, num: int, packet: mesh_pb2.MeshPacket) -> int:
        """A packet from a client of radio ``num`` into the airspace; its Routing.Error."""
        error = self.airspace.submit(
            num,
            now=self.sim_now(),
            to=packet.to,
            packet_id=packet.id,
            data=packet.decoded,
            hop_limit=packet.hop_limit,
            want_ack=packet.want_ack,
            channel=packet.channel,
            priority=packet.priority,
        )
        self._wakeup.set()
        return error

    def dispatch(self) -> None:
        """Hand the airspace's deliveries and notices to the radios' clients."""
        for event in self.airspace.take_events():
            self.radios[event.node].deliver(event)


# ---------------------------------------------------------------- one radio


class EmulatedRadio:
    """One device: its TCP port, its one API client, and packets kept while none is there."""

    def __init__(self, emulator: Emulator, spec: RadioSpec) -> None:
        self.emulator = emulator
        self.spec = spec
        self.port = 0
        self.session: ClientSession | None = None
        self.backlog: deque[mesh_pb2.FromRadio] = deque(maxlen=BACKLOG)
        self.connections = 0

    async def handle_connection(self, stream: trio.SocketStream) -> None:
        previous = self.session
        if previous is not None:
            log.info("%s: new API client, closing the previous one", self.spec.node_id)
            previous.close()
        self.connections += 1
        session = ClientSession(self, stream)
        self.session = session
        try:
            await session.run()
        finally:
            if self.session is session:
                self.session = None

    def deliver(self, event: Event) -> None:
        message = mesh_pb2.FromRadio()
        if isinstance(event, Delivery):
            message.packet.CopyFrom(self._packet_for_client(event))
        elif isinstance(event, Notice):
            message.clientNotification.reply_id = event.reply_id
            message.clientNotification.message = event.message
            message.clientNotification.level = mesh_pb2.LogRecord.Level.WARNING
            message.clientNotification.time = self.emulator.wall_time(self.emulator.sim_now())
        session = self.session
        if session is not None and session.wants_packets:
            session.send(message)
        else:
            self.backlog.append(message)

    def _packet_for_client(self, event: Delivery) -> mesh_pb2.MeshPacket:
        air = event.packet
        packet = mesh_pb2.MeshPacket()
        setattr(packet, "from", air.source)
        packet.to = air.dest
        packet.id = air.id
        packet.channel = air.channel
        packet.decoded.ParseFromString(air.data)
        packet.hop_limit = air.hop_limit
        packet.hop_start = air.hop_start
        packet.want_ack = air.want_ack
        packet.priority = air.priority
        packet.rx_time = self.emulator.wall_time(event.rx_time)
        if air.source == self.spec.num:  # made by this radio for its client
            packet.transport_mechanism = mesh_pb2.MeshPacket.TRANSPORT_INTERNAL
        else:
            packet.transport_mechanism = mesh_pb2.MeshPacket.TRANSPORT_LORA
            packet.rx_snr = event.rx_snr
            packet.rx_rssi = event.rx_rssi
            packet.relay_node = air.relay_node
        if air.pki_encrypted:
            packet.pki_encrypted = True
            packet.public_key = self.emulator.airspace.spec(air.source).public_key
        return packet


# ---------------------------------------------------------------- one API client


class ClientSession:
    """The device side of one stream API connection (PhoneAPI in the firmware)."""

    def __init__(self, radio: EmulatedRadio, stream: trio.SocketStream) -> None:
        self.radio = radio
        self.stream = stream
        self.wants_packets = False  # after config_complete_id
        self.recent_ids: deque[int] = deque(maxlen=RECENT_PACKET_IDS)
        self.last_by_port: dict[int, float] = {}
        self.dropped_frames = 0
        self._from_radio_id = 0
        self._outgoing, self._outgoing_reader = trio.open_memory_channel[bytes](CLIENT_BUFFER)
        self._scope = trio.CancelScope()

    @property
    def emulator(self) -> Emulator:
        return self.radio.emulator

    def close(self) -> None:
        self._scope.cancel()

    async def run(self) -> None:
        with self._scope:
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write_frames)
                    await self._read_frames()
                    nursery.cancel_scope.cancel()
            except* (trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # the client went away (a reset arrives while reading or writing)
        await trio.aclose_forcefully(self.stream)

    async def _read_frames(self) -> None:
        decoder = FrameDecoder()
        while True:
            data = await self.stream.receive_some(4096)
            if not data:
                return
            for event in decoder.feed(data):
                if not isinstance(event, Frame):
                    continue
                try:
                    keep_going = self._handle(event.payload)
                except Exception:  # a bug: drop this client, keep the radios running
                    log.exception("%s: error handling a ToRadio", self.radio.spec.node_id)
                    return
                if not keep_going:
                    return

    async def _write_frames(self) -> None:
        async for frame in self._outgoing_reader:
            await self.stream.send_all(frame)

    def send(self, message: mesh_pb2.FromRadio) -> None:
        self._from_radio_id += 1
        message.id = self._from_radio_id
        frame = encode_frame(message.SerializeToString())
        if self.emulator.emit_log_lines and message.HasField("packet"):
            frame = encode_log_line(f"DEBUG | [Router] to client: {_describe(message)}") + frame
        try:
            self._outgoing.send_nowait(frame)
        except trio.WouldBlock:
            self.dropped_frames += 1  # a client that does not read loses packets, like firmware

    # -------------------------------------------------------------- ToRadio

    def _handle(self, payload: bytes) -> bool:
        """Act on one ToRadio; False ends the session."""
        message = mesh_pb2.ToRadio()
        try:
            message.ParseFromString(payload)
        except Exception:  # the firmware ignores a malformed ToRadio
            log.warning("%s: malformed ToRadio ignored", self.radio.spec.node_id)
            return True
        variant = message.WhichOneof("payload_variant")
        if variant == "want_config_id":
            self._send_config(message.want_config_id)
        elif variant == "packet":
            self._handle_packet(message.packet)
        elif variant == "heartbeat":
            self._send_queue_status(0, 0)
        elif variant == "disconnect":
            return False
        return True

    def _handle_packet(self, packet: mesh_pb2.MeshPacket) -> None:
        if packet.id:
            if packet.id in self.recent_ids:
                return  # the firmware ignores a repeated id, without a word
            self.recent_ids.append(packet.id)
        port = packet.decoded.portnum
        now = self.emulator.sim_now()
        limit = _RATE_LIMITS_S.get(port)
        last = self.last_by_port.get(port)
        if limit is not None and last is not None and now - last < limit:
            self._send_queue_status(0, packet.id)
            if port == Port.TEXT_MESSAGE_APP:
                self._send_local_routing(packet.id, mesh_pb2.Routing.RATE_LIMIT_EXCEEDED)
            elif port == Port.TRACEROUTE_APP:
                self._send_notice(packet.id, "TraceRoute can only be sent once every 30 seconds")
            return
        self.last_by_port[port] = now
        error = self.emulator.submit(self.radio.spec.num, packet)
        self._send_queue_status(error, packet.id)  # first, as the firmware does
        self.emulator.dispatch()

    # -------------------------------------------------------------- FromRadio

    def _send_queue_status(self, result: int, packet_id: int) -> None:
        message = mesh_pb2.FromRadio()
        status = message.queueStatus
        status.res = result
        status.free = self.emulator.airspace.queue_free(self.radio.spec.num)
        status.maxlen = TX_QUEUE_MAXLEN
        status.mesh_packet_id = packet_id
        self.send(message)

    def _send_local_routing(self, request_id: int, error: int) -> None:
        message = mesh_pb2.FromRadio()
        packet = message.packet
        num = self.radio.spec.num
        setattr(packet, "from", num)
        packet.to = num
        packet.id = self.emulator.airspace.rng.randrange(1, 2**32)
        packet.priority = mesh_pb2.MeshPacket.ACK
        packet.decoded.portnum = Port.ROUTING_APP
        packet.decoded.request_id = request_id
        packet.decoded.payload = mesh_pb2.Routing(error_reason=error).SerializeToString()
        packet.transport_mechanism = mesh_pb2.MeshPacket.TRANSPORT_INTERNAL
        packet.rx_time = self.emulator.wall_time(self.emulator.sim_now())
        self.send(message)

    def _send_notice(self, reply_id: int, text: str) -> None:
        message = mesh_pb2.FromRadio()
        message.clientNotification.reply_id = reply_id
        message.clientNotification.message = text
        message.clientNotification.level = mesh_pb2.LogRecord.Level.WARNING
        self.send(message)

    def _send_config(self, nonce: int) -> None:
        """The handshake, in the firmware's order (PhoneAPI::getFromRadio)."""
        self.wants_packets = False
        spec = self.radio.spec
        airspace = self.emulator.airspace
        now = self.emulator.sim_now()
        if nonce != NONCE_ONLY_NODES:
            message = mesh_pb2.FromRadio()
            info = message.my_info
            info.my_node_num = spec.num
            info.min_app_version = 30200
            info.device_id = spec.num.to_bytes(4, "big") * 4
            info.pio_env = "entraide-emulator"
            info.nodedb_count = 1 + len(airspace.known_nodes(spec.num))
            self.send(message)
        message = mesh_pb2.FromRadio()
        _fill_node_info(message.node_info, spec)
        message.node_info.last_heard = self.emulator.wall_time(now)
        message.node_info.is_favorite = True
        self.send(message)
        if nonce != NONCE_ONLY_NODES:
            for record in self._config_records():
                self.send(record)
        if nonce != NONCE_ONLY_CONFIG:
            for other, heard, snr, hops in airspace.known_nodes(spec.num):
                message = mesh_pb2.FromRadio()
                _fill_node_info(message.node_info, other)
                message.node_info.snr = snr
                message.node_info.hops_away = max(hops, 0)
                message.node_info.last_heard = self.emulator.wall_time(heard)
                self.send(message)
        message = mesh_pb2.FromRadio()
        message.config_complete_id = nonce
        self.send(message)
        self.wants_packets = True
        while self.radio.backlog:
            self.send(self.radio.backlog.popleft())

    def _config_records(self) -> Iterator[mesh_pb2.FromRadio]:
        spec = self.radio.spec
        airspace = self.emulator.airspace
        message = mesh_pb2.FromRadio()
        meta = message.metadata
        meta.firmware_version = FIRMWARE_VERSION
        meta.device_state_version = 24
        meta.hasWifi = True
        meta.hasPKC = True
        meta.role = config_pb2.Config.DeviceConfig.Role.Value(spec.role)
        meta.hw_model = mesh_pb2.HardwareModel.PORTDUINO
        yield message
        for index in range(MAX_CHANNELS):
            message = mesh_pb2.FromRadio()
            channel = message.channel
            channel.index = index
            if index == 0:
                channel.role = channel_pb2.Channel.Role.PRIMARY
                channel.settings.psk = b"\x01"  # the default (public) key
            else:
                channel.role = channel_pb2.Channel.Role.DISABLED
            yield message
        role = config_pb2.Config.DeviceConfig.Role.Value(spec.role)
        for section in CONFIG_SECTIONS:
            message = mesh_pb2.FromRadio()
            part = getattr(message.config, section)
            part.SetInParent()
            if section == "device":
                part.role = role
            elif section == "lora":
                _fill_lora(part, airspace)
            elif section == "security":
                part.public_key = spec.public_key
            yield message


def _fill_node_info(info: mesh_pb2.NodeInfo, spec: RadioSpec) -> None:
    info.num = spec.num
    info.user.id = spec.node_id
    info.user.long_name = spec.long_name
    info.user.short_name = spec.short_name
    info.user.hw_model = mesh_pb2.HardwareModel.PORTDUINO
    info.user.role = config_pb2.Config.DeviceConfig.Role.Value(spec.role)
    info.user.public_key = spec.public_key


def _fill_lora(lora: config_pb2.Config.LoRaConfig, airspace: Airspace) -> None:
    lora.use_preset = True
    lora.modem_preset = config_pb2.Config.LoRaConfig.ModemPreset.Value(airspace.preset.name)
    lora.region = config_pb2.Config.LoRaConfig.RegionCode.Value(airspace.region.name)
    lora.hop_limit = airspace.hop_limit
    lora.tx_enabled = True
    lora.tx_power = 20


def _describe(message: mesh_pb2.FromRadio) -> str:
    packet = message.packet
    return (
        f"id=0x{packet.id:08x} from=0x{getattr(packet, 'from'):08x} to=0x{packet.to:08x} "
        f"port={packet.decoded.portnum} hop_limit={packet.hop_limit}"
    )


# ---------------------------------------------------------------- building and running


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything the command line sets (see ``entraide radio-emulator --help``)."""

    radios: int = 3
    topology: str = "chain"  # chain, full, or the path of a TOML file
    loss: float = 0.0
    preset: str = "LONG_FAST"
    region: str = "EU_868"
    hop_limit: int = 3
    time_scale: float = 1.0
    base_port: int = 0
    seed: int = 0
    names: tuple[str, ...] = ()
    emit_log_lines: bool = False

    def build_airspace(self) -> Airspace:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset}")
        if self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region}")
        preset = PRESETS[self.preset]
        topology = build_topology(self.topology, self.radios, preset, loss=self.loss)
        names = self.names or topology.names
        return Airspace(
            default_radios(topology.size, names),
            topology,
            preset=preset,
            region=self.region,
            hop_limit=self.hop_limit,
            seed=self.seed,
        )

    def build(self) -> Emulator:
        return Emulator(
            self.build_airspace(),
            base_port=self.base_port,
            time_scale=self.time_scale,
            emit_log_lines=self.emit_log_lines,
        )


@contextlib.contextmanager
def run_in_thread(emulator: Emulator, *, timeout: float = 10.0) -> Iterator[Emulator]:
    """Run ``emulator`` in its own trio loop on a helper thread, for blocking code (tests of
    the threaded meshtastic library, benchmarks). The loop is stopped and the thread joined
    on exit. Read its state from the caller's thread with ``emulator.from_thread(fn)``."""
    ready = threading.Event()
    failure: list[BaseException] = []
    cancel = trio.CancelScope()

    async def main() -> None:
        with cancel:
            async with trio.open_nursery() as nursery:
                await nursery.start(emulator.serve)
                ready.set()

    def target() -> None:
        try:
            trio.run(main)
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=target, name="radio-emulator", daemon=True)
    thread.start()
    if not ready.wait(timeout) or failure:
        raise RuntimeError("the radio emulator did not start") from (
            failure[0] if failure else None
        )
    try:
        yield emulator
    finally:
        with contextlib.suppress(trio.RunFinishedError):
            emulator.from_thread(cancel.cancel)
        thread.join(timeout)


async def run_until_signalled(
    emulator: Emulator, ready: Callable[[Emulator], None] | None = None
) -> tuple[str, dict[str, Any]]:
    """Serve until SIGINT or SIGTERM (``ready`` is called once the ports are open). Returns
    the signal's name and the final ``summary()``; everything is closed before it returns."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(emulator.serve)
            if ready is not None:
                ready(emulator)
            async for signum in signals:
                summary = emulator.summary()
                nursery.cancel_scope.cancel()
                return signal.Signals(signum).name, summary
    return "cancelled", emulator.summary()  # pragma: no cover - the loop only ends by returning
