"""The device side of the stream API, driven by a raw client in trio on a MockClock."""

from __future__ import annotations

import socket
import struct
from collections import deque
from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing
from meshtastic.protobuf import channel_pb2, config_pb2, mesh_pb2, portnums_pb2
from trio.testing import MockClock

from radio.airspace import BROADCAST
from radio.emulator import NONCE_ONLY_CONFIG, NONCE_ONLY_NODES, Emulator, EmulatorOptions
from radio.streamproto import Frame, FrameDecoder, LogLine, encode_frame

Routing = mesh_pb2.Routing
TEXT = portnums_pb2.PortNum.TEXT_MESSAGE_APP


class RawClient:
    """A minimal stream API client: frames in and out, nothing hidden."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.decoder = FrameDecoder()
        self.frames: deque[mesh_pb2.FromRadio] = deque()
        self.log_lines: list[str] = []

    async def send(self, message: mesh_pb2.ToRadio) -> None:
        await self.stream.send_all(encode_frame(message.SerializeToString()))

    async def receive(self) -> mesh_pb2.FromRadio:
        while not self.frames:
            with trio.fail_after(3600):  # simulated: a missing answer fails at once
                data = await self.stream.receive_some(4096)
            if not data:
                raise EOFError
            for event in self.decoder.feed(data):
                if isinstance(event, Frame):
                    self.frames.append(mesh_pb2.FromRadio.FromString(event.payload))
                elif isinstance(event, LogLine):
                    self.log_lines.append(event.text)
        return self.frames.popleft()

    async def handshake(self, nonce: int = 1234) -> list[mesh_pb2.FromRadio]:
        await self.stream.send_all(bytes([0xC3] * 32))
        await self.send(mesh_pb2.ToRadio(want_config_id=nonce))
        records = []
        while True:
            record = await self.receive()
            records.append(record)
            if record.WhichOneof("payload_variant") == "config_complete_id":
                assert record.config_complete_id == nonce
                return records

    async def send_packet(
        self, to: int, payload: bytes, packet_id: int, *, portnum: int = TEXT, **fields: object
    ) -> None:
        packet = mesh_pb2.MeshPacket(to=to, id=packet_id, **fields)  # type: ignore[arg-type]
        packet.decoded.portnum = portnum  # type: ignore[assignment]
        packet.decoded.payload = payload
        await self.send(mesh_pb2.ToRadio(packet=packet))

    async def next_of(self, variant: str) -> mesh_pb2.FromRadio:
        while True:
            message = await self.receive()
            if message.WhichOneof("payload_variant") == variant:
                return message


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Three radios in a chain. Tests take ``autojump_clock`` too: pytest-trio runs a test on
    a mock clock only when the test itself asks for it."""
    async with trio.open_nursery() as nursery:
        emulator = await nursery.start(EmulatorOptions(radios=3, seed=1).build().serve)
        yield emulator
        nursery.cancel_scope.cancel()


async def connect(emulator: Emulator, index: int) -> RawClient:
    port = emulator.endpoints()[index].port
    return RawClient(await trio.open_tcp_stream("127.0.0.1", port))


def variants(records: list[mesh_pb2.FromRadio]) -> list[str]:
    return [str(r.WhichOneof("payload_variant")) for r in records]


@pytest.mark.trio
async def test_handshake_like_the_firmware(emulator: Emulator, autojump_clock: MockClock) -> None:
    client = await connect(emulator, 0)
    records = await client.handshake(1234)
    kinds = variants(records)
    assert kinds[:3] == ["my_info", "node_info", "metadata"]
    assert kinds[3:11] == ["channel"] * 8
    assert kinds[11:19] == ["config"] * 8
    assert kinds[19:] == ["node_info", "node_info", "config_complete_id"]
    me = emulator.endpoints()[0]
    assert records[0].my_info.my_node_num == me.node_num == 0x1000000
    assert records[1].node_info.user.id == me.node_id
    assert records[1].node_info.user.long_name == "Radio 0"
    channels = [r.channel for r in records[3:11]]
    assert [c.index for c in channels] == list(range(8))
    assert channels[0].role == channel_pb2.Channel.Role.PRIMARY
    assert all(c.role == channel_pb2.Channel.Role.DISABLED for c in channels[1:])
    lora = next(r.config.lora for r in records if r.config.HasField("lora"))
    assert lora.region == config_pb2.Config.LoRaConfig.RegionCode.EU_868
    assert lora.modem_preset == config_pb2.Config.LoRaConfig.ModemPreset.LONG_FAST
    assert lora.hop_limit == 3 and lora.use_preset
    others = [r.node_info for r in records[19:21]]
    assert [(n.num, n.hops_away) for n in others] == [(0x1000001, 0), (0x1000002, 1)]


@pytest.mark.trio
async def test_special_nonces(emulator: Emulator, autojump_clock: MockClock) -> None:
    client = await connect(emulator, 1)
    config_only = variants(await client.handshake(NONCE_ONLY_CONFIG))
    assert "node_info" in config_only and config_only.count("node_info") == 1
    assert "channel" in config_only
    nodes_only = variants(await client.handshake(NONCE_ONLY_NODES))
    assert nodes_only == ["node_info"] * 3 + ["config_complete_id"]


@pytest.mark.trio
async def test_queue_status_heartbeat_and_repeated_ids(
    emulator: Emulator, autojump_clock: MockClock
) -> None:
    client = await connect(emulator, 0)
    await client.handshake()
    await client.send(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat()))
    status = (await client.next_of("queueStatus")).queueStatus
    assert (status.res, status.mesh_packet_id, status.maxlen) == (0, 0, 16)
    await client.send_packet(BROADCAST, b"one", 77, hop_limit=0)
    status = (await client.next_of("queueStatus")).queueStatus
    assert (status.res, status.mesh_packet_id) == (0, 77)
    await trio.sleep(5)
    await client.send_packet(BROADCAST, b"again", 77, hop_limit=0)  # ignored
    await client.send(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat()))
    status = (await client.next_of("queueStatus")).queueStatus
    assert status.mesh_packet_id == 0  # the heartbeat's: the repeated id got no answer
    assert emulator.airspace.transmission_count == 1


@pytest.mark.trio
async def test_delivery_and_relay_in_simulated_time(
    emulator: Emulator, autojump_clock: MockClock
) -> None:
    sender, middle, far = [await connect(emulator, i) for i in range(3)]
    for client in (sender, middle, far):
        await client.handshake()
    start = emulator.sim_now()
    await sender.send_packet(BROADCAST, b"hello", 501, hop_limit=3, want_ack=True)
    got = (await far.next_of("packet")).packet
    assert getattr(got, "from") == 0x1000000 and got.decoded.payload == b"hello"
    assert (got.hop_start, got.hop_limit) == (3, 2)
    assert got.rx_snr == 6.0 and got.rx_rssi == -90 and got.relay_node == 0x01
    assert got.transport_mechanism == mesh_pb2.MeshPacket.TRANSPORT_LORA
    # Two frames and a relay delay of at least 2·CWmax slots: simulated time went by.
    frame = emulator.transmissions[0].airtime_s
    assert emulator.sim_now() - start >= 2 * frame + 16 * emulator.airspace.slot_s
    heard = (await middle.next_of("packet")).packet
    assert heard.hop_limit == 3 and heard.relay_node == 0
    ack = (await sender.next_of("packet")).packet  # implicit: the middle radio's relay
    assert ack.decoded.portnum == portnums_pb2.PortNum.ROUTING_APP
    assert ack.decoded.request_id == 501
    assert Routing.FromString(ack.decoded.payload).error_reason == Routing.NONE


@pytest.mark.trio
async def test_text_rate_limit(emulator: Emulator, autojump_clock: MockClock) -> None:
    client = await connect(emulator, 0)
    await client.handshake()
    await client.send_packet(BROADCAST, b"first", 1, hop_limit=0)
    assert (await client.next_of("queueStatus")).queueStatus.mesh_packet_id == 1
    await trio.sleep(1.5)
    await client.send_packet(BROADCAST, b"too soon", 2, hop_limit=0)
    status = (await client.next_of("queueStatus")).queueStatus
    assert (status.res, status.mesh_packet_id) == (0, 2)
    nak = (await client.next_of("packet")).packet
    assert nak.decoded.request_id == 2
    assert Routing.FromString(nak.decoded.payload).error_reason == Routing.RATE_LIMIT_EXCEEDED
    await trio.sleep(0.6)
    await client.send_packet(BROADCAST, b"fine now", 3, hop_limit=0)
    status = (await client.next_of("queueStatus")).queueStatus
    assert (status.res, status.mesh_packet_id) == (0, 3)
    await trio.sleep(5)
    assert [tx.packet.id for tx in emulator.transmissions] == [1, 3]


@pytest.mark.trio
async def test_too_large_gets_a_nak_and_queue_status_result(
    emulator: Emulator, autojump_clock: MockClock
) -> None:
    client = await connect(emulator, 0)
    await client.handshake()
    await client.send_packet(BROADCAST, b"x" * 232, 9, portnum=portnums_pb2.PortNum.PRIVATE_APP)
    status = (await client.next_of("queueStatus")).queueStatus
    assert (status.res, status.mesh_packet_id) == (Routing.TOO_LARGE, 9)
    nak = (await client.next_of("packet")).packet
    assert Routing.FromString(nak.decoded.payload).error_reason == Routing.TOO_LARGE


@pytest.mark.trio
async def test_one_client_at_a_time(emulator: Emulator, autojump_clock: MockClock) -> None:
    first = await connect(emulator, 0)
    await first.handshake()
    second = await connect(emulator, 0)
    await second.handshake()
    with pytest.raises(EOFError):
        await first.receive()  # the device closed the first connection
    await second.send(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat()))
    assert (await second.next_of("queueStatus")).queueStatus.mesh_packet_id == 0
    await second.send(mesh_pb2.ToRadio(disconnect=True))
    with pytest.raises(EOFError):
        await second.receive()
    assert emulator.radios[0x1000000].connections == 2


@pytest.mark.trio
async def test_clients_resetting_mid_handshake_harm_nothing(
    emulator: Emulator, autojump_clock: MockClock
) -> None:
    port = emulator.endpoints()[0].port
    hello = bytes([0xC3] * 32) + encode_frame(
        mesh_pb2.ToRadio(want_config_id=5).SerializeToString()
    )
    for _ in range(5):
        sock = trio.socket.socket()
        await sock.connect(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await sock.send(hello)
        await trio.sleep(0)
        sock.close()  # linger 0: a reset, while the radio is still answering
    await trio.sleep(1)
    client = await connect(emulator, 0)
    await client.handshake()
    assert emulator.radios[0x1000000].connections == 6


@pytest.mark.trio
async def test_packets_wait_for_a_client(emulator: Emulator, autojump_clock: MockClock) -> None:
    sender = await connect(emulator, 0)
    await sender.handshake()
    await sender.send_packet(BROADCAST, b"while you were away", 5, hop_limit=0)
    await trio.sleep(10)
    late = await connect(emulator, 1)
    await late.handshake()
    got = (await late.next_of("packet")).packet
    assert got.decoded.payload == b"while you were away"


@pytest.mark.trio
async def test_log_lines_between_frames(autojump_clock: MockClock) -> None:
    options = EmulatorOptions(radios=2, topology="full", emit_log_lines=True, time_scale=4)
    async with trio.open_nursery() as nursery:
        emulator = await nursery.start(options.build().serve)
        a, b = await connect(emulator, 0), await connect(emulator, 1)
        await a.handshake()
        await b.handshake()
        await a.send_packet(BROADCAST, b"hi", 8, hop_limit=0)
        assert (await b.next_of("packet")).packet.decoded.payload == b"hi"
        assert b.log_lines and "to client" in b.log_lines[0]
        nursery.cancel_scope.cancel()


def test_summary_is_json_ready() -> None:
    import json

    async def main() -> str:
        async with trio.open_nursery() as nursery:
            emulator = await nursery.start(EmulatorOptions(radios=2).build().serve)
            text = json.dumps(emulator.summary())
            nursery.cancel_scope.cancel()
        return text

    summary = json.loads(trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0)))
    assert [r["node_id"] for r in summary["radios"]] == ["!01000000", "!01000001"]
    assert summary["transmissions"] == 0
