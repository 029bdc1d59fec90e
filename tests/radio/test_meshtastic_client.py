"""The real meshtastic library (TCPInterface) against emulated radios.

The library is threaded and blocking: the emulator runs its own trio loop on a helper thread
(``run_in_thread``) and these tests are plain synchronous tests. pubsub callbacks arrive on
the library's publishing thread and go through a queue; listeners are bound methods kept
alive by the test (pypubsub holds weak references) and filter on ``interface``.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from meshtastic.protobuf import mesh_pb2
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from radio.emulator import Emulator, EmulatorOptions, Endpoint, run_in_thread
from radio.streamproto import Frame, FrameDecoder, encode_frame

FAST = 20.0  # time scale: relays of a few simulated seconds take a fraction of a second
WAIT_S = 10.0


class Inbox:
    """Packets published on ``topic`` for one interface."""

    def __init__(self, interface: TCPInterface, topic: str) -> None:
        self.interface = interface
        self.topic = topic
        self.packets: queue.Queue[dict[str, Any]] = queue.Queue()
        pub.subscribe(self.on_packet, topic)

    def on_packet(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is self.interface:
            self.packets.put(packet)

    def get(self) -> dict[str, Any]:
        return self.packets.get(timeout=WAIT_S)

    def close(self) -> None:
        pub.unsubscribe(self.on_packet, self.topic)


class Notices:
    """Client notifications for one interface."""

    def __init__(self, interface: TCPInterface) -> None:
        self.interface = interface
        self.messages: queue.Queue[str] = queue.Queue()
        pub.subscribe(self.on_notification, "meshtastic.clientNotification")

    def on_notification(self, notification: Any, interface: Any) -> None:
        if interface is self.interface:
            self.messages.put(notification.message)

    def close(self) -> None:
        pub.unsubscribe(self.on_notification, "meshtastic.clientNotification")


class Mesh:
    """Emulators, clients and listeners of one test, all closed at the end."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack
        self.emulator: Emulator | None = None
        self.clients: list[TCPInterface] = []
        self.inboxes: list[Inbox | Notices] = []

    def start(self, **options: Any) -> list[Endpoint]:
        options.setdefault("time_scale", FAST)
        self.emulator = self.stack.enter_context(run_in_thread(EmulatorOptions(**options).build()))
        return self.emulator.endpoints()

    def connect(self, endpoint: Endpoint) -> TCPInterface:
        client = TCPInterface(hostname="127.0.0.1", portNumber=endpoint.port, timeout=5)
        self.clients.append(client)
        return client

    def inbox(self, client: TCPInterface, topic: str) -> Inbox:
        box = Inbox(client, topic)
        self.inboxes.append(box)
        return box

    def notices(self, client: TCPInterface) -> Notices:
        box = Notices(client)
        self.inboxes.append(box)
        return box

    def call(self, fn: Callable[[], Any]) -> Any:
        assert self.emulator is not None
        return self.emulator.from_thread(fn)

    def wait_for(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while not self.call(condition):
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.02)

    def close(self) -> None:
        for box in self.inboxes:
            box.close()
        for client in self.clients:
            client.close()


@pytest.fixture
def mesh() -> Iterator[Mesh]:
    with contextlib.ExitStack() as stack:
        mesh = Mesh(stack)
        try:
            yield mesh
        finally:
            mesh.close()


def routing_error(packet: dict[str, Any]) -> str:
    return str(packet["decoded"]["routing"].get("errorReason", "NONE"))


def test_client_reads_the_radio(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=3, names=("Mairie", "Gymnase", "École"))
    client = mesh.connect(endpoints[1])
    assert client.myInfo is not None and client.myInfo.my_node_num == 0x1000001
    user = client.getMyNodeInfo()["user"]  # type: ignore[index]
    assert (user["id"], user["longName"], user["shortName"]) == ("!01000001", "Gymnase", "GY01")
    assert sorted(client.nodes) == ["!01000000", "!01000001", "!01000002"]  # type: ignore[arg-type]
    lora = client.localNode.localConfig.lora
    assert lora.hop_limit == 3 and lora.region == lora.RegionCode.EU_868
    assert client.localNode.channels[0].role == client.localNode.channels[0].Role.PRIMARY
    assert client.metadata is not None and client.metadata.hasPKC


def test_text_and_private_port_reach_another_client(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=2, topology="full")
    sender, receiver = mesh.connect(endpoints[0]), mesh.connect(endpoints[1])
    texts = mesh.inbox(receiver, "meshtastic.receive.text")
    private = mesh.inbox(receiver, "meshtastic.receive.data.PRIVATE_APP")
    sender.sendText("Bonjour, ici la mairie", destinationId=endpoints[1].node_id)
    sender.sendData(b"\x00\x01signed", destinationId=endpoints[1].node_num, portNum=256)
    text = texts.get()
    assert text["decoded"]["text"] == "Bonjour, ici la mairie"
    assert text["fromId"] == "!01000000" and text["toId"] == "!01000001"
    assert text["pkiEncrypted"] and text["rxSnr"] == 6.0
    data = private.get()
    assert data["decoded"]["payload"] == b"\x00\x01signed"
    assert data["from"] == endpoints[0].node_num and data["hopStart"] == 3


def test_chain_delivers_through_the_middle_relay(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=3, topology="chain", seed=3)
    sender, far = mesh.connect(endpoints[0]), mesh.connect(endpoints[2])
    texts = mesh.inbox(far, "meshtastic.receive.text")
    acks: queue.Queue[dict[str, Any]] = queue.Queue()

    def onAckNak(packet: dict[str, Any]) -> None:  # the library passes ACKs to this name only
        acks.put(packet)

    sent = sender.sendText("au bout de la rue", wantAck=True, onResponse=onAckNak)
    got = texts.get()
    assert (got["hopStart"], got["hopLimit"]) == (3, 2)
    assert got["relayNode"] == endpoints[1].node_num & 0xFF
    ack = acks.get(timeout=WAIT_S)  # implicit: the sender overheard the middle radio's relay
    assert ack["decoded"]["requestId"] == sent.id and routing_error(ack) == "NONE"
    assert mesh.emulator is not None
    log = mesh.emulator.transmissions
    mesh.wait_for(lambda: len(log) == 3)
    assert [(tx.sender, tx.packet.hop_limit) for tx in log] == [
        (endpoints[0].node_num, 3),
        (endpoints[1].node_num, 2),
        (endpoints[2].node_num, 1),  # the far end relays: no other relay to cancel it
    ]


def test_overheard_relay_cancels_the_other_one(mesh: Mesh, tmp_path: Path) -> None:
    topology = tmp_path / "diamond.toml"
    topology.write_text(
        '[[radio]]\nname = "Mairie"\n[[radio]]\nname = "Nord"\n'
        '[[radio]]\nname = "Sud"\n[[radio]]\nname = "Gare"\n'
        + "".join(
            f'[[link]]\na = "{a}"\nb = "{b}"\n'
            for a, b in [
                ("Mairie", "Nord"),
                ("Mairie", "Sud"),
                ("Nord", "Sud"),
                ("Nord", "Gare"),
                ("Sud", "Gare"),
            ]
        )
    )
    endpoints = mesh.start(radios=0, topology=str(topology))
    assert [e.long_name for e in endpoints] == ["Mairie", "Nord", "Sud", "Gare"]
    sender, far = mesh.connect(endpoints[0]), mesh.connect(endpoints[3])
    texts = mesh.inbox(far, "meshtastic.receive.text")
    sender.sendText("coupure d'eau rue des Lilas")
    assert texts.get()["hopLimit"] == 2
    assert mesh.emulator is not None
    emulator = mesh.emulator
    mesh.wait_for(lambda: len(emulator.transmissions) == 3)
    stats = mesh.call(emulator.statistics)
    middle = [stats[e.node_num] for e in endpoints[1:3]]
    assert sorted((s.tx_relayed, s.relays_cancelled) for s in middle) == [(0, 1), (1, 0)]


def test_too_large_payload_gets_a_nak(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=2, topology="full")
    client = mesh.connect(endpoints[0])
    responses: queue.Queue[dict[str, Any]] = queue.Queue()
    client.sendData(b"x" * 233, portNum=256, onResponse=responses.put)  # the library lets it by
    nak = responses.get(timeout=WAIT_S)
    assert routing_error(nak) == "TOO_LARGE"
    client.sendText("é" * 116 + "!", onResponse=responses.put)  # 233 bytes of UTF-8
    assert routing_error(responses.get(timeout=WAIT_S)) == "TOO_LARGE"
    client.sendData(b"x" * 231, portNum=256, onResponse=responses.put)  # fits
    time.sleep(0.3)
    assert responses.empty()


def test_text_faster_than_one_per_two_seconds_is_refused(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=2, topology="full", time_scale=1.0)
    client = mesh.connect(endpoints[0])
    responses: queue.Queue[dict[str, Any]] = queue.Queue()
    client.sendText("premier")
    second = client.sendText("deuxième, trop tôt", onResponse=responses.put)
    nak = responses.get(timeout=WAIT_S)
    assert nak["decoded"]["requestId"] == second.id
    assert routing_error(nak) == "RATE_LIMIT_EXCEEDED"


def test_duty_cycle_exhausted_radio_refuses(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=2, topology="full", region="EU_868")
    client = mesh.connect(endpoints[0])
    notices = mesh.notices(client)
    assert mesh.emulator is not None
    airspace = mesh.emulator.airspace
    mesh.call(lambda: airspace.spend_airtime(endpoints[0].node_num, 360.0))  # 10 % of an hour
    responses: queue.Queue[dict[str, Any]] = queue.Queue()
    client.sendData(b"offre: groupe electrogene", portNum=256, onResponse=responses.put)
    assert routing_error(responses.get(timeout=WAIT_S)) == "DUTY_CYCLE_LIMIT"
    assert "Duty cycle limit exceeded" in notices.messages.get(timeout=WAIT_S)


def test_a_second_client_replaces_the_first(mesh: Mesh) -> None:
    endpoints = mesh.start(radios=2, topology="full")
    with socket.create_connection(("127.0.0.1", endpoints[0].port), timeout=WAIT_S) as first:
        first.sendall(encode_frame(mesh_pb2.ToRadio(want_config_id=42).SerializeToString()))
        decoder = FrameDecoder()
        complete = False
        while not complete:
            for event in decoder.feed(first.recv(4096)):
                if isinstance(event, Frame):
                    message = mesh_pb2.FromRadio.FromString(event.payload)
                    complete = complete or message.config_complete_id == 42
        second = mesh.connect(endpoints[0])  # the firmware closes the first connection
        first.settimeout(WAIT_S)
        while first.recv(4096):
            pass
    other = mesh.connect(endpoints[1])
    texts = mesh.inbox(other, "meshtastic.receive.text")
    second.sendText("toujours là")
    assert texts.get()["decoded"]["text"] == "toujours là"
