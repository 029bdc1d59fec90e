"""Household nodes on emulated LoRa only: real `entraide node --offline --radio` processes,
each owning one emulated radio, the real meshtastic client inside them, and a bare
meshtastic TCPInterface in this process acting as a volunteer's handset."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.signing
import pytest
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from node.client import unb64
from protocol import kinds as k
from protocol.envelope import decode, seal
from protocol.radio_frame import FRAME_VERSION, RADIO_PORT, FrameType, encode_frames
from radio.airspace import Transmission
from radio.emulator import Emulator, EmulatorOptions, Endpoint, run_in_thread
from tests.node.netharness import ZONE, Cluster, NodeProcess, wait_for

FAST = 20.0  # emulator time scale: a LongFast frame takes ~0.1 s instead of ~1.5 s
SUMMARY_TYPE = FRAME_VERSION << 4 | FrameType.SUMMARY  # a SUMMARY frame's first byte
WAIT = 45.0


class Handset:
    """A volunteer's plain Meshtastic handset: the library's own client, nothing of ours."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.texts: queue.Queue[dict[str, Any]] = queue.Queue()
        self.iface = TCPInterface(hostname=endpoint.host, portNumber=endpoint.port, timeout=20)
        pub.subscribe(self.on_text, "meshtastic.receive.text")

    def on_text(self, packet: dict[str, Any], interface: Any) -> None:  # bound: pubsub is weak
        if interface is self.iface:
            self.texts.put(packet)

    def next_text(self, predicate: Any = lambda p: True) -> dict[str, Any]:
        while True:
            packet = self.texts.get(timeout=WAIT)
            if predicate(packet):
                return packet

    def close(self) -> None:
        pub.unsubscribe(self.on_text, "meshtastic.receive.text")
        self.iface.close()


@contextlib.contextmanager
def lora_world(topology: str) -> Iterator[tuple[Emulator, Cluster, list[Endpoint]]]:
    root = Path(tempfile.mkdtemp(prefix="lora", dir="/tmp"))  # short Unix socket paths
    try:
        with contextlib.ExitStack() as stack:
            options = EmulatorOptions(radios=3, topology=topology, time_scale=FAST)
            emulator = stack.enter_context(run_in_thread(options.build()))
            cluster = stack.enter_context(Cluster(root, 0))
            yield emulator, cluster, emulator.endpoints()
    finally:
        if not os.environ.get("KEEP_LORA"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def lora() -> Iterator[tuple[Emulator, Cluster, list[Endpoint]]]:
    """Three radios that all hear each other."""
    with lora_world("full") as world:
        yield world


@pytest.fixture
def chain() -> Iterator[tuple[Emulator, Cluster, list[Endpoint]]]:
    """Three radios in a row: the first and the last hear only the middle one, which relays."""
    with lora_world("chain") as world:
        yield world


def entraide_frames(emulator: Emulator) -> list[Transmission]:
    """Every frame on the entraide port the emulated radios have put on the air so far."""
    sent = emulator.from_thread(lambda: list(emulator.transmissions))
    return [t for t in sent if t.packet.decoded().portnum == RADIO_PORT]


def is_summary(tx: Transmission) -> bool:
    return tx.packet.decoded().payload[:1] == bytes([SUMMARY_TYPE])


def radio_node(cluster: Cluster, name: str, endpoint: Endpoint) -> NodeProcess:
    node = cluster.add(
        name,
        wifi=False,
        extra_args=["--radio", f"tcp:{endpoint.host}:{endpoint.port}", "--handset-lang", "fr"],
    )
    node.start()
    return node


def test_two_nodes_without_wifi_exchange_signed_messages_over_lora(
    lora: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    emulator, cluster, ends = lora
    a = radio_node(cluster, "a", ends[0])
    b = radio_node(cluster, "b", ends[1])
    checkin = a.post("checkin", status="safe")
    wait_for(lambda: checkin in b.message_ids(), WAIT, "the check-in to cross the radio")
    request = b.post(
        "help_request", need="water", urgency="high", people=3, text="é" * 40 + "x" * 40
    )
    wait_for(lambda: request in a.message_ids(), WAIT, "the help request to cross the radio")
    # Exactly the signed bytes: the id is the hash of what the author signed.
    raw = next(unb64(r) for r in a.call("messages")["raws"] if decode(unb64(r)).id.hex() == request)
    assert decode(raw).body.text.startswith("é")
    status = a.call("status")["radio"]
    assert status["link"]["connected"] and status["out"] >= 1 and status["in"] >= 1
    sent = [t for t in emulator.from_thread(lambda: list(emulator.transmissions))]
    assert sent, "the emulator saw no transmission"


def test_handset_gets_alert_text_and_its_sos_is_witnessed_and_carried(
    lora: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    _, cluster, ends = lora
    a = radio_node(cluster, "a", ends[0])
    b = radio_node(cluster, "b", ends[1])
    handset = Handset(ends[2])
    try:
        a.call(
            "post",
            kind="alert",
            body={
                "headline": "Crue de la Loire : montez dans les étages",
                "severity": "severe",
                "urgency": "immediate",
                "area": "Quais",
            },
        )
        shown = handset.next_text(lambda p: "Crue" in p["decoded"]["text"])
        text = shown["decoded"]["text"]
        assert text.startswith("\x07!!") and len(text.encode()) <= 200

        # The volunteer answers the node's radio directly: "SOS eau 2".
        handset.iface.sendText("SOS eau 2", destinationId=ends[0].node_num)
        ack = handset.next_text(lambda p: "SOS" in p["decoded"]["text"] and p["to"] != 0xFFFFFFFF)
        assert "FAIT" in ack["decoded"]["text"]  # French, as the node was told
        short = ack["decoded"]["text"].split("FAIT ")[1][:8]

        def carried() -> bool:
            for r in b.call("messages")["raws"]:
                env = decode(unb64(r))
                if env.id.hex().startswith(short):
                    assert env.kind is k.Kind.HELP_REQUEST
                    assert env.body.urgency is k.RequestUrgency.CRITICAL
                    assert env.body.via is not None and env.body.via.node == ends[2].node_num
                    return True
            return False

        wait_for(carried, WAIT, "the witnessed SOS to reach the other node over LoRa")
    finally:
        handset.close()


def test_malformed_and_oversize_frames_are_dropped_with_a_reason(
    lora: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    _, cluster, ends = lora
    a = radio_node(cluster, "a", ends[0])
    handset = Handset(ends[2])  # any radio client can put bytes on the entraide port
    try:
        handset.iface.sendData(b"\x11garbage", portNum=RADIO_PORT)
        handset.iface.sendData(b"\x11" + bytes(219), portNum=RADIO_PORT)  # over 200 bytes
        # A forged envelope: well framed, signed by someone else's key with a flipped byte.
        key = nacl.signing.SigningKey.generate()
        env = seal(
            k.CheckIn(status=k.CheckInStatus.SAFE),
            signing_key=key,
            created=int(time.time()),
            zone=ZONE,
        )
        (frame,) = encode_frames(env)
        forged = frame[:-1] + bytes([frame[-1] ^ 1])
        handset.iface.sendData(forged, portNum=RADIO_PORT)

        def logged() -> bool:
            log = a.log_path.read_text()
            return (
                "another zone" in log  # the garbage
                and "220 bytes (max 200)" in log  # the oversize frame
                and "signature does not verify" in log  # the forgery
            )

        wait_for(logged, WAIT, "the node to log why it dropped the frames")
        assert env.id.hex() not in a.message_ids()
        # The node is still fine and still carries good frames.
        good = seal(
            k.CheckIn(status=k.CheckInStatus.SAFE),
            signing_key=key,
            created=int(time.time()),
            zone=ZONE,
        )
        (frame,) = encode_frames(good)
        handset.iface.sendData(frame, portNum=RADIO_PORT)
        wait_for(lambda: good.id.hex() in a.message_ids(), WAIT, "a good frame after bad ones")
    finally:
        handset.close()


def test_gateways_join_two_wifi_islands_and_carry_a_handset_sos(
    lora: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    _, cluster, ends = lora

    def island(name: str, radio: Endpoint) -> tuple[NodeProcess, NodeProcess]:
        gateway = cluster.add(f"g{name}", extra_args=["--radio", f"tcp:{radio.host}:{radio.port}"])
        gateway.start()
        wifi_only = cluster.add(f"w{name}", peers=[gateway.address])
        wifi_only.start()
        return gateway, wifi_only

    _, wa = island("a", ends[0])
    _, wb = island("b", ends[1])
    cluster.wait_connected([wa, wb])
    # Wi-Fi-only households on both sides: nothing joins them but the two radios.
    checkin = wa.post("checkin", status="safe")
    request = wb.post("help_request", need="medical", urgency="high", text="Insuline")
    wait_for(lambda: checkin in wb.message_ids(), WAIT, "a check-in from island A to B")
    wait_for(lambda: request in wa.message_ids(), WAIT, "a request from island B to A")

    handset = Handset(ends[2])
    try:
        handset.iface.sendText("SOS eau 2")  # to the channel: both gateways hear it

        def witnessed(node: NodeProcess) -> set[bytes]:
            found = set()
            for r in node.call("messages")["raws"]:
                env = decode(unb64(r))
                via = getattr(env.body, "via", None)
                if via is not None and via.node == ends[2].node_num:
                    assert env.kind is k.Kind.HELP_REQUEST
                    found.add(env.id)
            return found

        def sos_everywhere() -> bool:
            on_a, on_b = witnessed(wa), witnessed(wb)
            return bool(on_a) and on_a == on_b

        wait_for(sos_everywhere, WAIT, "the handset's SOS on both islands")
        # Usually one gateway witnesses it; two may, when neither hears the other's message
        # on the radio before its own random delay ends (SPEC 11.8). Never more.
        assert len(witnessed(wa)) <= 2
    finally:
        handset.close()


def test_lora_catch_up_brings_what_a_node_missed_while_it_was_off(
    lora: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    _, cluster, ends = lora
    # a posts while its radio is unplugged: nothing goes on the air.
    a = cluster.add("a", wifi=False)
    a.start()
    missed = {
        a.post("help_request", need="water", urgency="high", text="Plus d'eau au 12"),
        a.post("checkin", status="safe"),
    }
    a.stop()
    a.extra_args = ["--radio", f"tcp:{ends[0].host}:{ends[0].port}"]
    a.start()
    b = cluster.add(
        "b",
        wifi=False,
        extra_args=["--radio", f"tcp:{ends[1].host}:{ends[1].port}", "--radio-summary", "3"],
    )
    b.start()  # b's summaries say what it holds; a sends what is not in them
    wait_for(lambda: missed <= b.message_ids(), WAIT, "b to catch up over LoRa")
    assert a.call("status")["radio"]["out"] >= 2  # a's answers to b's summaries


def test_summaries_reach_direct_neighbours_only_and_yield_to_a_neighbours(
    chain: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    emulator, cluster, ends = chain
    # a summarises every second or so, b every 3-5 s: b keeps hearing a's summary first.
    a = cluster.add(
        "a",
        wifi=False,
        extra_args=["--radio", f"tcp:{ends[0].host}:{ends[0].port}", "--radio-summary", "1"],
    )
    a.start()
    b = cluster.add(
        "b",
        wifi=False,
        extra_args=["--radio", f"tcp:{ends[1].host}:{ends[1].port}", "--radio-summary", "4"],
    )
    b.start()

    def b_radio() -> dict[str, Any]:
        return dict(b.call("status")["radio"])

    wait_for(lambda: b_radio()["summaries_skipped"] >= 1, WAIT, "b to skip its summary")
    a.stop()

    def b_summaries() -> int:
        return sum(1 for t in entraide_frames(emulator) if is_summary(t) and t.sender == b_num)

    b_num = ends[1].node_num
    before = b_summaries()
    # Without a's, b's own summaries go out again.
    wait_for(lambda: b_summaries() > before, WAIT, "b's summary once a is gone")
    summaries = [t for t in entraide_frames(emulator) if is_summary(t)]
    assert {t.sender for t in summaries} == {ends[0].node_num, ends[1].node_num}
    # Hop limit 0: the middle radio (b's) never relays a's summaries to the last one.
    assert all(t.packet.hop_start == 0 and not t.is_relay for t in summaries)


def test_checkins_use_the_hop_limit_the_radios_node_list_needs(
    chain: tuple[Emulator, Cluster, list[Endpoint]],
) -> None:
    emulator, cluster, ends = chain
    # The first radio's node list: the middle one 0 hops away, the last one 1 hop away.
    a = radio_node(cluster, "a", ends[0])
    c = radio_node(cluster, "c", ends[2])
    assert a.call("status")["radio"]["hop_limit"] == 1  # not the radio's 3
    checkin = a.post("checkin", status="safe")
    wait_for(lambda: checkin in c.message_ids(), WAIT, "the check-in, relayed once, at c")
    request = c.post("help_request", need="water", urgency="high", text="Plus d'eau au 12")
    wait_for(lambda: request in a.message_ids(), WAIT, "the request at a")
    ours = [t for t in entraide_frames(emulator) if not t.is_relay and not is_summary(t)]
    assert {t.sender for t in ours} == {ends[0].node_num, ends[2].node_num}
    # The routine check-in with the node list's hop limit; the request for help with the
    # radio's own (the node list may be short after a blackout).
    assert all(t.packet.hop_start == 1 for t in ours if t.sender == ends[0].node_num)
    assert all(t.packet.hop_start == 3 for t in ours if t.sender == ends[2].node_num)
    relays = [t for t in entraide_frames(emulator) if t.is_relay]
    assert relays and all(t.sender == ends[1].node_num for t in relays)
