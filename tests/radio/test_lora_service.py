"""node/lora.py's catch-up and hop-limit decisions, fast: the real LoraService, scheduler and
framing on a MockClock, with a recording stand-in for the radio link; then radio.link's view
of the node list, through the real meshtastic client against the emulator."""

from __future__ import annotations

import socket
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import nacl.signing
import pytest
import trio

from node.lora import (
    SUMMARY_HOP_LIMIT,
    SUMMARY_INTERVAL_S,
    LoraService,
    RadioOptions,
    zone_radio_settings,
)
from protocol import kinds as k
from protocol.charter import LoraSettings
from protocol.envelope import Envelope, seal
from protocol.radio_frame import RADIO_PORT, build_summary, encode_summary
from radio.emulator import EmulatorOptions, run_in_thread
from radio.link import BROADCAST, RadioLink, RadioPacket, SendResult, covering_hop_limit

ZONE = bytes.fromhex("3f2a9c01")
EPOCH = 1_790_000_000
SUMMARY = 0x13  # a SUMMARY frame's first byte (version 1, type 3)
ME, NEIGHBOUR = 0x10, 0x20


class RecordingLink:
    """What LoraService uses of radio.link.RadioLink, recording every frame sent."""

    def __init__(self, hops: dict[int, int | None], configured: int | None = 3) -> None:
        self.hops = hops
        self.configured = configured
        self.my_node_num = ME
        self.sent: list[tuple[bytes, int | None]] = []  # (payload, hop limit)

    def hops_away(self) -> dict[int, int | None]:
        return dict(self.hops)

    def configured_hop_limit(self) -> int | None:
        return self.configured

    def statistics(self) -> dict[str, Any]:
        return {"sent": len(self.sent)}

    async def send_data(self, payload: bytes, **options: Any) -> SendResult:
        self.sent.append((payload, options.get("hop_limit")))
        return SendResult(len(self.sent), acked=False, reason="NOT_REQUESTED")


class StubNode:
    """The few facts of a node LoraService reads."""

    zone_id = ZONE

    def __init__(self) -> None:
        self.trust = SimpleNamespace(charter=None)
        self.store = SimpleNamespace(find_prefix=lambda prefix: [])
        self.envs: list[Envelope] = []

    def now(self) -> int:
        return EPOCH + int(trio.current_time())

    async def live(self) -> list[Envelope]:
        return list(self.envs)


def checkin(node: StubNode) -> Envelope:
    return seal(
        k.CheckIn(status=k.CheckInStatus.SAFE),
        signing_key=nacl.signing.SigningKey(bytes(range(32))),
        created=node.now(),
        zone=ZONE,
    )


def neighbours_summary(node: StubNode) -> RadioPacket:
    frame = encode_summary(build_summary([], since=node.now() - 3600, salt=7), zone=ZONE)
    return RadioPacket(
        sender=NEIGHBOUR,
        destination=BROADCAST,
        port=RADIO_PORT,
        payload=frame,
        channel=0,
        packet_id=1,
        rx_snr=5.0,
        rx_rssi=-90,
        hop_limit=0,
        hop_start=0,
        pki_encrypted=False,
    )


async def until(predicate: Callable[[], bool]) -> None:
    with trio.fail_after(3 * SUMMARY_INTERVAL_S):
        while not predicate():
            await trio.sleep(0.5)


def service_with(link: RecordingLink, node: StubNode, interval: float = 100.0) -> LoraService:
    service = LoraService(node, RadioOptions("tcp:127.0.0.1:1", summary_interval_s=interval))  # type: ignore[arg-type]
    service.link = link  # type: ignore[assignment]
    return service


@pytest.mark.trio
async def test_summaries_go_to_neighbours_only_and_yield_to_a_neighbours(
    autojump_clock: trio.testing.MockClock,
) -> None:
    node, link = StubNode(), RecordingLink({0x30: 0, 0x40: 1, 0x50: None})
    service = service_with(link, node)
    async with trio.open_nursery() as nursery:
        service._nursery = nursery
        nursery.start_soon(service._send_loop)
        nursery.start_soon(service._summary_loop)

        await until(lambda: len(link.sent) == 1)
        payload, hop_limit = link.sent[0]
        assert payload[0] == SUMMARY and hop_limit == SUMMARY_HOP_LIMIT == 0

        # A neighbour's summary, which lacks a check-in we hold: we answer it, with the hop
        # limit our node list needs (1), and skip our own next summary.
        node.envs.append(checkin(node))
        await service._frame(neighbours_summary(node))
        await until(lambda: service.stats["summaries_skipped"] + service.stats["summaries"] > 1)
        assert service.stats == service.stats | {"summaries": 1, "summaries_skipped": 1}
        answer = [(p, h) for p, h in link.sent if p[0] != SUMMARY]
        assert len(answer) == 1 and answer[0][1] == 1

        # Nothing heard since: the next one goes out.
        await until(lambda: service.stats["summaries"] == 2)
        await until(lambda: sum(p[0] == SUMMARY for p, _ in link.sent) == 2)
        assert all(h == 0 for p, h in link.sent if p[0] == SUMMARY)
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_our_messages_take_the_hop_limit_of_the_node_list(
    autojump_clock: trio.testing.MockClock,
) -> None:
    node, link = StubNode(), RecordingLink({0x30: 0, 0x40: 2})
    service = service_with(link, node, interval=1e9)
    async with trio.open_nursery() as nursery:
        service._nursery = nursery
        nursery.start_soon(service._send_loop)
        service.offer(checkin(node), "local")
        await until(lambda: len(link.sent) == 1)
        assert link.sent[0][1] == 2
        assert service.status()["hop_limit"] == 2
        nursery.cancel_scope.cancel()
    link.hops = {0x30: 5}
    assert service.hop_limit() == 3  # never more than the radio's own
    link.hops = {0x30: None}
    assert service.hop_limit() == 3  # the list says nothing: the radio's own
    link.configured = None
    assert service.hop_limit() is None  # the radio's configuration is unknown: its own


@pytest.mark.trio
async def test_only_routine_checkins_take_the_node_lists_hop_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a blackout the node list holds only the radios heard since: an alert or a
    request for help must not stop where the list ends, so it keeps the radio's own."""
    node, link = StubNode(), RecordingLink({0x30: 0})
    service = service_with(link, node, interval=1e9)
    key = nacl.signing.SigningKey(bytes(range(32)))
    alert = seal(
        k.Alert(headline="Crue : évacuation du quai", severity=k.Severity.SEVERE),
        signing_key=key,
        created=node.now(),
        zone=ZONE,
    )
    request = seal(
        k.HelpRequest(need=k.Need.WATER, urgency=k.RequestUrgency.NORMAL),
        signing_key=key,
        created=node.now(),
        zone=ZONE,
    )
    async with trio.open_nursery() as nursery:
        service._nursery = nursery
        nursery.start_soon(service._send_loop)
        service.offer(checkin(node), "local")
        await until(lambda: len(link.sent) == 1)
        service.offer(alert, "local")
        service.offer(request, "local")
        await until(lambda: len(link.sent) > 2)
        await trio.sleep(60)  # every fragment of both
        assert link.sent[0][1] == 0  # the check-in: the node list's
        assert [hop_limit for _, hop_limit in link.sent[1:]] == [None] * (len(link.sent) - 1)
        nursery.cancel_scope.cancel()


def test_covering_hop_limit() -> None:
    assert covering_hop_limit([0, 0, 0], 3) == 0  # every radio a direct neighbour
    assert covering_hop_limit([0, 1, None], 3) == 1
    assert covering_hop_limit([6], 3) == 3
    assert covering_hop_limit([], 3) == 3
    assert covering_hop_limit([None, -1], 5) == 5
    assert covering_hop_limit([1], None) is None


def test_preset_and_region_come_from_the_charter_unless_the_command_line_names_them() -> None:
    charter = LoraSettings(region="US", preset="MEDIUM_FAST", channel="entraide")
    assert zone_radio_settings(RadioOptions("tcp:x"), None) == ("LONG_FAST", "EU_868")
    assert zone_radio_settings(RadioOptions("tcp:x"), charter) == ("MEDIUM_FAST", "US")
    explicit = RadioOptions("tcp:x", preset="LONG_SLOW", region="EU_433")
    assert zone_radio_settings(explicit, charter) == ("LONG_SLOW", "EU_433")
    unknown = LoraSettings(region="MARS", preset="WARP")
    assert zone_radio_settings(RadioOptions("tcp:x"), unknown) == ("LONG_FAST", "EU_868")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.trio
async def test_the_link_reads_hops_away_and_the_lora_config_from_the_device() -> None:
    port = free_port()
    options = EmulatorOptions(radios=4, topology="chain", time_scale=20, base_port=port)
    emulator = run_in_thread(options.build())
    await trio.to_thread.run_sync(emulator.__enter__)
    try:
        link = RadioLink(f"tcp:127.0.0.1:{port}", connect_timeout=10, ack_timeout=5)
        async with trio.open_nursery() as nursery:
            await nursery.start(link.serve)
            first = link.my_node_num
            assert first is not None
            # The first radio of four in a row: the others are 0, 1 and 2 hops away.
            assert sorted(link.hops_away().values()) == [0, 1, 2]
            assert first not in link.hops_away()
            assert link.configured_hop_limit() == 3
            settings = link.lora_settings()
            assert settings is not None
            assert (settings.preset, settings.region) == ("LONG_FAST", "EU_868")
            assert covering_hop_limit(link.hops_away().values(), 3) == 2
            nursery.cancel_scope.cancel()
    finally:
        await trio.to_thread.run_sync(emulator.__exit__, None, None, None)
