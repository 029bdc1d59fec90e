"""The simulator, small enough for every CI run: each figure on a small town, the pieces it
is built of, and the `entraide simulate` command."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from node.cli import main
from node.sim.figures import alert_figure, churn_figure, heal_figure, replay
from node.sim.gossip import PRESETS
from node.sim.ipnet import NetParams
from node.sim.loop import EventLoop, TooManyEvents
from node.sim.lora import LORA_BEFORE, LORA_RELAYS, LORA_TODAY, lora_figure
from node.sim.messages import MessageBook
from node.sim.wifi import ZONE, WifiSetup, WifiWorld
from protocol.errors import BadSignature


def test_the_loop_runs_actions_in_time_order_and_is_bounded() -> None:
    loop = EventLoop(max_events=10)
    seen: list[tuple[float, str]] = []
    loop.at(2.0, lambda: seen.append((loop.now, "b")))
    loop.at(1.0, lambda: seen.append((loop.now, "a")))
    loop.at(2.0, lambda: seen.append((loop.now, "c")))  # same time: in order scheduled
    loop.run_until(5.0)
    assert seen == [(1.0, "a"), (2.0, "b"), (2.0, "c")]
    assert loop.now == 5.0

    def forever() -> None:
        loop.after(1.0, forever)

    loop.after(0.0, forever)
    with pytest.raises(TooManyEvents):
        loop.run_until(1e9)


def test_messages_are_really_signed_and_checked_once_per_distinct_envelope() -> None:
    book = MessageBook(ZONE, 2, seed=3)
    message = book.checkin(0, book.unix(0))
    assert book.accept(message.raw, book.unix(1)).id == message.id
    assert book.accept(message.raw, book.unix(2)).id == message.id
    assert book.statistics() == {"messages": 1, "verified": 1, "verification_cache_hits": 1}
    forged = message.raw[:-1] + bytes([message.raw[-1] ^ 1])
    with pytest.raises(BadSignature):
        book.accept(forged, book.unix(1))
    with pytest.raises(BadSignature):  # the verdict is cached too
        book.accept(forged, book.unix(1))


def test_gossip_on_a_chain_sends_each_message_once_per_link() -> None:
    # 0 - 1 - 2: no cycle, so no duplicate; each node gets one copy of each message.
    counts = replay(3, {(0, 1), (1, 2)}, [(0.0, 0), (0.5, 2)], settle_s=2.0)
    assert counts.delivered == 1.0
    assert counts.copies == [1, 2, 1]
    assert counts.duplicates == [0, 0, 0]
    assert counts.sync_sessions == 4  # one session per connection, counted by both sides


def test_catch_up_is_the_real_reconciliation() -> None:
    world = WifiWorld(WifiSetup(nodes=2, gossip=None), edges={(0, 1)})
    book = world.book
    for author, node in ((0, 0), (0, 0), (1, 1)):
        message = book.checkin(author, book.unix(0) - len(book.messages)).index
        world.holdings.store(node, message, 0.0, "local")
    world.start(connect=True)
    world.loop.run_until(5.0)
    assert world.holdings.held[0] == world.holdings.held[1] == {0, 1, 2}
    assert world.holdings.by_source["sync"] == 3
    assert world.sync is not None and world.sync.counts["done"] == 1


def test_alert_figure_small_town() -> None:
    today = alert_figure(nodes=120, alerts=3, loss=0.2, preset="gossipsub", seed=2)
    assert today.delivered == 1.0
    assert today.t99_max_s is not None and today.t99_max_s < 2.0
    assert today.duplicates_per_node > 1.0
    lazy = alert_figure(nodes=120, alerts=3, loss=0.2, preset="announce", seed=2)
    assert lazy.delivered == 1.0
    assert lazy.duplicates_per_node < 0.2 < today.duplicates_per_node
    again = alert_figure(nodes=120, alerts=3, loss=0.2, preset="gossipsub", seed=2)
    assert replace(again, wall_s=0) == replace(today, wall_s=0)  # same seed, same run


def test_every_gossip_preset_delivers_without_loss() -> None:
    for preset in PRESETS:
        fig = alert_figure(nodes=60, alerts=2, loss=0.0, preset=preset, seed=4)
        assert fig.delivered == 1.0, preset


def test_heal_figure_small_town() -> None:
    fig = heal_figure(nodes=60, seed=3)
    assert fig.t_all_s is not None and fig.t_all_s < 30
    assert fig.union == 60 * 3 and fig.posted_during == 120
    assert fig.cross_links > 0 and fig.failed == 0
    assert 0 < fig.control_bytes < fig.envelope_bytes


def test_churn_figure_small_town() -> None:
    fig = churn_figure(nodes=60, alerts=8, spacing_s=20.0, away_share=0.2, seed=5)
    assert fig.delivered == 1.0
    assert fig.missed_on_return > 0
    assert fig.catch_up_max_s is not None and fig.catch_up_max_s < 60


def test_lora_figure_small_airspace() -> None:
    small = {"nodes": 20, "warmup_s": 300.0, "hours": 0.1, "drain_s": 300.0}
    before = lora_figure(replace(LORA_BEFORE, **small))
    today = lora_figure(replace(LORA_TODAY, **small))
    relays = lora_figure(replace(LORA_RELAYS, **small))
    for fig in (before, today, relays):
        assert 0 < fig.utilisation_median <= fig.utilisation_max <= 1
        assert fig.air_util_tx_max <= 0.1 + 1e-9  # the duty cycle holds
        assert fig.delivered > 0.9
    assert today.utilisation_max < before.utilisation_max
    assert before.airtime_by_kind["summary"] > today.airtime_by_kind.get("summary", 0)


def test_the_simulated_node_is_the_real_one() -> None:
    """node/sim/lora.py's default setup is node/lora.py's defaults, not a copy of them."""
    from node import lora

    assert LORA_TODAY.summary_interval_s == lora.SUMMARY_INTERVAL_S == 1800
    assert LORA_TODAY.summary_hop_limit == lora.SUMMARY_HOP_LIMIT == 0
    assert LORA_TODAY.summary_suppress is lora.SUMMARY_SUPPRESSED is True
    assert LORA_TODAY.hop_limit_auto is lora.HOP_LIMIT_FROM_NODE_LIST is True
    assert LORA_TODAY.relay_share == 1.0  # CLIENT_MUTE is a deployment choice (LORA_RELAYS)


def test_simulate_command() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["simulate", "alert", "--nodes", "40", "--alerts", "2", "--preset", "gossipsub", "--json"],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    (figure,) = json.loads(out.getvalue())["alert"]
    assert figure["preset"] == "gossipsub" and figure["delivered"] == 1.0
    out = io.StringIO()
    code = main(
        ["--lang", "fr", "simulate", "churn", "--nodes", "30", "--loss", "0"], out=out, err=err
    )
    assert code == 0
    assert out.getvalue().startswith("| chiffre | mesuré | référence | objectif |")
    assert main(["simulate", "--nodes", "5"], out=io.StringIO(), err=err) == 2


def test_a_town_without_loss_is_a_connected_graph() -> None:
    world = WifiWorld(WifiSetup(nodes=200, net=NetParams(), gossip=None, sync=None))
    seen, frontier = {0}, [0]
    while frontier:
        frontier = [b for a in frontier for b in world.net.adjacent[a] if b not in seen]
        seen.update(frontier)
    assert len(seen) == 200
