"""The simulated airspace, sans-I/O: flooding, acknowledgements, limits, physics."""

from __future__ import annotations

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from radio.airspace import (
    BROADCAST,
    Airspace,
    Delivery,
    Link,
    Notice,
    Topology,
    contention_window,
    default_radios,
    transmissions_of,
)
from radio.airtime import PRESETS, airtime_s

TEXT = portnums_pb2.PortNum.TEXT_MESSAGE_APP
PRIVATE = portnums_pb2.PortNum.PRIVATE_APP
ROUTING = portnums_pb2.PortNum.ROUTING_APP
Routing = mesh_pb2.Routing


def data(payload: bytes = b"hello", port: int = TEXT) -> mesh_pb2.Data:
    return mesh_pb2.Data(portnum=port, payload=payload)  # type: ignore[arg-type]


def airspace(topology: Topology, **options: object) -> Airspace:
    return Airspace(default_radios(topology.size), topology, **options)  # type: ignore[arg-type]


def routing_events(air: Airspace, node: int) -> list[tuple[int, int, int]]:
    """(request id, error, from) of the routing packets a radio gave its client."""
    found = []
    for event in air.take_events():
        if isinstance(event, Delivery) and event.node == node:
            decoded = event.packet.decoded()
            if decoded.portnum == ROUTING:
                error = Routing.FromString(decoded.payload).error_reason
                found.append((decoded.request_id, error, event.packet.source))
    return found


def test_chain_relays_with_hop_limit_decremented() -> None:
    air = airspace(Topology.chain(3), seed=1)
    a, b, c = air.node_nums
    assert air.submit(a, now=0, to=BROADCAST, packet_id=7, data=data()) == Routing.NONE
    air.run_until_idle(60)
    hops = [(tx.sender, tx.packet.hop_limit, tx.packet.hop_start) for tx in air.transmissions]
    # The far end relays too: nobody else relays to it, so nothing cancels it.
    assert hops == [(a, 3, 3), (b, 2, 3), (c, 1, 3)]
    deliveries = [e for e in air.take_events() if isinstance(e, Delivery)]
    assert [(e.node, e.packet.hop_limit) for e in deliveries] == [(b, 3), (c, 2)]
    assert all(e.packet.source == a and e.rx_snr == Link().snr for e in deliveries)
    assert air.transmissions[0].outcomes == {b: "received"}
    assert air.transmissions[1].outcomes == {a: "duplicate", c: "received"}
    assert air.transmissions[2].outcomes == {b: "duplicate"}


def test_hop_limit_zero_is_not_relayed() -> None:
    air = airspace(Topology.chain(3))
    a, b, _ = air.node_nums
    air.submit(a, now=0, to=BROADCAST, packet_id=7, data=data(), hop_limit=0)
    air.run_until_idle(60)
    assert [tx.sender for tx in air.transmissions] == [a]
    assert air.statistics()[b].rx_frames == 1


def diamond() -> Topology:
    """0 hears 1 and 2; 1 and 2 hear each other and 3."""
    links = {}
    for x, y in [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]:
        links[(x, y)] = links[(y, x)] = Link()
    return Topology(4, links)


def test_overheard_relay_cancels_the_pending_one() -> None:
    for seed in range(10):
        air = airspace(diamond(), seed=seed)
        a, b, c, d = air.node_nums
        air.submit(a, now=0, to=BROADCAST, packet_id=99, data=data())
        air.run_until_idle(60)
        senders = [tx.sender for tx in air.transmissions]
        stats = air.statistics()
        # One of the middle radios relays, the other hears it and cancels; 3 relays the rest.
        assert senders[0] == a and senders[1] in (b, c) and senders[2:] == [d], senders
        other = c if senders[1] == b else b
        assert stats[other].relays_cancelled == 1
        assert stats[d].tx_relayed == 1
        assert len(senders) == 3  # nothing already seen is relayed again


def test_routers_never_cancel() -> None:
    radios = default_radios(4)
    radios[1] = radios[1].__class__(**{**radios[1].__dict__, "role": "ROUTER"})
    radios[2] = radios[2].__class__(**{**radios[2].__dict__, "role": "ROUTER"})
    air = Airspace(radios, diamond(), seed=3)
    air.submit(air.node_nums[0], now=0, to=BROADCAST, packet_id=5, data=data())
    air.run_until_idle(60)
    a, b, c, d = air.node_nums
    senders = [tx.sender for tx in air.transmissions]
    assert sorted(senders) == [a, b, c]  # both routers relay, even after hearing each other
    assert air.statistics()[d].relays_cancelled == 1  # d, a client, hears both and cancels


def test_contention_window_weighs_snr_weaker_sooner() -> None:
    assert contention_window(-20) == 3
    assert contention_window(-30) == 3
    assert contention_window(10) == 8
    assert contention_window(30) == 8
    assert contention_window(-5) < contention_window(5)
    air = airspace(Topology.chain(2), seed=4)
    slot = air.slot_s
    assert abs(slot - (2.5 * PRESETS["LONG_FAST"].symbol_s + 0.0076)) < 1e-9
    weak = [air.relay_delay("CLIENT", -20) for _ in range(300)]
    strong = [air.relay_delay("CLIENT", 10) for _ in range(300)]
    assert min(weak) >= 16 * slot and max(weak) < (16 + 8) * slot
    assert sum(weak) / len(weak) < sum(strong) / len(strong)
    assert max(air.relay_delay("ROUTER", 10) for _ in range(100)) < 16 * slot


def test_broadcast_implicit_ack_when_a_relay_is_overheard() -> None:
    air = airspace(Topology.chain(3), seed=2)
    a, _, _ = air.node_nums
    air.submit(a, now=0, to=BROADCAST, packet_id=11, data=data(), want_ack=True)
    air.submit(a, now=0, to=BROADCAST, packet_id=12, data=data(b"no ack wanted"))
    air.run_until_idle(120)
    assert routing_events(air, a) == [(11, Routing.NONE, a)]
    assert len(transmissions_of(air.transmissions, packet_id=11)) == 3  # no retransmission


def test_direct_message_is_acked_by_its_destination_through_a_relay() -> None:
    air = airspace(Topology.chain(3), seed=5)
    a, b, c = air.node_nums
    air.submit(a, now=0, to=c, packet_id=21, data=data(b"x", PRIVATE), want_ack=True)
    air.run_until_idle(120)
    events = air.take_events()
    at_c = [e for e in events if isinstance(e, Delivery) and e.node == c]
    assert len(at_c) == 1 and at_c[0].packet.pki_encrypted  # c is known: PKI
    acks = [
        e
        for e in events
        if isinstance(e, Delivery) and e.node == a and e.packet.decoded().portnum == ROUTING
    ]
    assert len(acks) == 1
    assert acks[0].packet.source == c and acks[0].packet.decoded().request_id == 21
    assert Routing.FromString(acks[0].packet.decoded().payload).error_reason == Routing.NONE
    # b is not the destination: it gets nothing for its client
    assert not [e for e in events if e.node == b]


def test_unacknowledged_packet_is_sent_three_times_then_nak() -> None:
    air = airspace(Topology.chain(2, Link(loss=1.0)), seed=6)
    a, b = air.node_nums
    air.submit(a, now=0, to=b, packet_id=31, data=data(), want_ack=True)
    air.run_until_idle(300)
    assert len(transmissions_of(air.transmissions, packet_id=31)) == 3
    assert routing_events(air, a) == [(31, Routing.MAX_RETRANSMIT, a)]
    assert air.statistics()[b].rx_lost == 3


def test_payload_limits() -> None:
    air = airspace(Topology.chain(3))
    a, _, c = air.node_nums
    ok = [
        (BROADCAST, b"x" * 231, PRIVATE),
        (BROADCAST, b"x" * 232, TEXT),
        (c, b"x" * 219, PRIVATE),  # a direct message to a known node is PKI-encrypted
    ]
    too_large = [
        (BROADCAST, b"x" * 232, PRIVATE),
        (BROADCAST, b"x" * 233, TEXT),
        (c, b"x" * 220, PRIVATE),
    ]
    for i, (to, payload, port) in enumerate(ok):
        assert air.submit(a, now=0, to=to, packet_id=100 + i, data=data(payload, port)) == 0
    for i, (to, payload, port) in enumerate(too_large):
        error = air.submit(a, now=0, to=to, packet_id=200 + i, data=data(payload, port))
        assert error == Routing.TOO_LARGE
    assert routing_events(air, a) == [(200 + i, Routing.TOO_LARGE, a) for i in range(3)]
    assert air.statistics()[a].refused_too_large == 3
    air.run_until_idle(600)
    assert max(tx.packet.frame_bytes for tx in air.transmissions) == 255


def test_duty_cycle_refuses_own_packets_and_drops_relays() -> None:
    # UA_868 allows 1 % of the hour: 36 s. Radio 1 fills it with 200-byte frames (hop
    # limit 0: relays would also fill its neighbours' budgets).
    air = airspace(Topology.chain(3), region="UA_868", seed=7)
    a, b, c = air.node_nums
    frame_s = airtime_s(16 + 208, air.preset)
    now = 0.0
    sent = 0
    while air.statistics()[b].air_util_tx < 0.01:
        error = air.submit(
            b, now=now, to=BROADCAST, packet_id=1000 + sent, data=data(b"y" * 200), hop_limit=0
        )
        assert error == Routing.NONE
        sent += 1
        now += 20.0
        air.advance(now)
    assert sent == int(36 // frame_s) + 1
    air.take_events()
    error = air.submit(b, now=now, to=BROADCAST, packet_id=2000, data=data())
    assert error == Routing.DUTY_CYCLE_LIMIT
    events = air.take_events()
    assert any(isinstance(e, Notice) and "Duty cycle limit" in e.message for e in events)
    assert [
        Routing.FromString(e.packet.decoded().payload).error_reason
        for e in events
        if isinstance(e, Delivery)
    ] == [Routing.DUTY_CYCLE_LIMIT]
    # A packet from a still reaches b, which no longer relays it to c.
    air.submit(a, now=now, to=BROADCAST, packet_id=3000, data=data())
    air.run_until_idle(now + 60)
    assert air.statistics()[b].refused_duty_cycle == 2
    assert not [e for e in air.take_events() if e.node == c]
    # An hour later the window has rolled on.
    assert air.submit(b, now=now + 3700, to=BROADCAST, packet_id=4000, data=data()) == 0


def test_hidden_terminals_collide_and_capture() -> None:
    for seed in range(5):
        air = airspace(Topology.chain(3), seed=seed)
        a, b, c = air.node_nums
        air.submit(a, now=0, to=BROADCAST, packet_id=1, data=data(), hop_limit=0)
        air.submit(c, now=0, to=BROADCAST, packet_id=2, data=data(), hop_limit=0)
        air.run_until_idle(10)
        assert [tx.outcomes[b] for tx in air.transmissions] == ["collision", "collision"]
        assert air.statistics()[b].rx_collisions == 2
    links = {(0, 1): Link(snr=12), (1, 0): Link(snr=12), (2, 1): Link(snr=0), (1, 2): Link()}
    air = airspace(Topology(3, links), seed=1)
    a, b, c = air.node_nums
    air.submit(a, now=0, to=BROADCAST, packet_id=1, data=data(), hop_limit=0)
    air.submit(c, now=0, to=BROADCAST, packet_id=2, data=data(), hop_limit=0)
    air.run_until_idle(10)
    outcomes = {tx.packet.source: tx.outcomes[b] for tx in air.transmissions}
    assert outcomes == {a: "received", c: "collision"}  # 12 dB over the other: captured


def test_a_radio_transmitting_does_not_hear() -> None:
    # b hears a, a does not hear b: b starts a long frame, a starts during it.
    air = airspace(Topology(3, {(0, 1): Link(), (1, 2): Link()}), seed=2)
    a, b, _ = air.node_nums
    air.submit(b, now=0, to=BROADCAST, packet_id=1, data=data(b"z" * 200), hop_limit=0)
    air.submit(a, now=0.25, to=BROADCAST, packet_id=2, data=data(), hop_limit=0)
    air.run_until_idle(10)
    from_a = transmissions_of(air.transmissions, source=a)
    assert from_a[0].outcomes == {b: "half_duplex"}
    assert air.statistics()[b].rx_missed_transmitting == 1


def test_listen_before_talk_defers_to_a_frame_in_progress() -> None:
    air = airspace(Topology.full(2), seed=3)
    a, b = air.node_nums
    air.submit(a, now=0, to=BROADCAST, packet_id=1, data=data(b"z" * 200), hop_limit=0)
    air.submit(b, now=0.3, to=BROADCAST, packet_id=2, data=data(), hop_limit=0)
    air.run_until_idle(20)
    first, second = air.transmissions
    assert second.start >= first.end
    assert first.outcomes == {b: "received"} and second.outcomes == {a: "received"}


def test_loss_is_reproducible_with_a_seed() -> None:
    def run(seed: int) -> list[str]:
        air = airspace(Topology.full(2, Link(loss=0.5)), seed=seed)
        a, b = air.node_nums
        for i in range(40):
            air.submit(a, now=i * 5.0, to=BROADCAST, packet_id=i + 1, data=data(), hop_limit=0)
        air.run_until_idle(400)
        return [tx.outcomes[b] for tx in air.transmissions]

    first = run(1)
    assert first == run(1)
    assert 5 < first.count("lost") < 35
    assert first != run(2)


def test_statistics_and_channel_utilisation() -> None:
    air = airspace(Topology.chain(3), seed=8)
    a, b, c = air.node_nums
    air.submit(a, now=0, to=BROADCAST, packet_id=1, data=data(b"q" * 100, PRIVATE))
    air.run_until_idle(30)
    frame = air.transmissions[0].airtime_s
    stats = air.statistics()
    assert stats[a].tx_frames == stats[a].tx_own == 1
    assert stats[b].tx_relayed == 1 and stats[c].tx_relayed == 1
    assert stats[b].rx_frames == 2 and stats[b].rx_duplicates == 1
    # b heard a and c and sent its own relay: three frames of busy channel in the last minute
    assert abs(stats[b].channel_utilization - 3 * frame / 60) < 1e-6
    assert abs(stats[a].air_util_tx - frame / 3600) < 1e-9
    assert stats[a].duty_cycle == 0.10
    air.advance(200)
    assert air.statistics()[b].channel_utilization == 0


def test_node_database_and_positions() -> None:
    air = airspace(Topology.chain(4))
    known = air.known_nodes(air.node_nums[0])
    assert [(spec.num, hops) for spec, _, _, hops in known] == [
        (air.node_nums[1], 0),
        (air.node_nums[2], 1),
        (air.node_nums[3], 2),
    ]
    preset = PRESETS["LONG_FAST"]
    topology = Topology.from_positions([(0, 0), (2000, 0), (40_000, 0)], preset)
    assert set(topology.links) == {(0, 1), (1, 0)}
    assert topology.links[(0, 1)].snr > topology.links[(0, 1)].rssi + 100
    short = Topology.from_positions([(0, 0), (2000, 0)], PRESETS["SHORT_TURBO"])
    assert short.links[(0, 1)].snr < topology.links[(0, 1)].snr  # wider band, more noise


def test_topology_from_mapping() -> None:
    preset = PRESETS["LONG_FAST"]
    doc = {
        "radio": [{"name": "Mairie"}, {"name": "Gymnase"}, {"name": "École"}],
        "link": [
            {"a": "Mairie", "b": "Gymnase", "snr": 3.5, "loss": 0.2},
            {"a": 1, "b": 2, "oneway": True},
        ],
    }
    topology = Topology.from_mapping(doc, preset)
    assert topology.names == ("Mairie", "Gymnase", "École")
    assert topology.links[(1, 0)] == Link(snr=3.5, loss=0.2)
    assert (1, 2) in topology.links and (2, 1) not in topology.links
    positioned = Topology.from_mapping(
        {"radio": [{"position": [0, 0]}, {"position": [500, 0]}]}, preset
    )
    assert set(positioned.links) == {(0, 1), (1, 0)}
    for bad in ({"radio": []}, {"radio": [{"name": "x"}]}, {"radio": [{}], "link": [{"a": 0}]}):
        try:
            Topology.from_mapping(bad, preset)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
