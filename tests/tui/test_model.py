"""The app's pure parts: reading the node's status, the message set, the views it derives."""

from __future__ import annotations

import base64

from tui_scenario import BRIDGE, ME, NEIGHBOURS, NOW, FakeNode, neighbourhood, pub, sign, status

from protocol import kinds as k
from protocol.state import RequestStatus
from protocol.trust import VerificationState
from tui.model import (
    MessageSet,
    NodeFacts,
    build_snapshot,
    checked_on,
    filter_requests,
    may_resolve,
    outliving_lifetime,
    parse_household,
    rollup_by_place,
    verification_of,
)
from tui.text import ago, household


def b64(env) -> str:  # type: ignore[no-untyped-def]
    return base64.b64encode(env.raw).decode()


def snapshot_of(envelopes=None, **status_extra):  # type: ignore[no-untyped-def]
    messages = MessageSet()
    messages.reset(b64(e) for e in (neighbourhood() if envelopes is None else envelopes))
    return build_snapshot(messages, NodeFacts.from_status(status(NOW, **status_extra)), NOW)


def test_facts_from_the_status_of_an_offline_node() -> None:
    facts = NodeFacts.from_status({"household": pub(ME).hex(), "zone": {}, "wifi": None})
    assert not facts.wifi and facts.peers is None and facts.last_sync is None
    assert facts.radio_connected is None and facts.airtime_used is None
    assert facts.bridge_last_seen is None and facts.roster is None and facts.bridge_keys is None


def test_facts_read_fields_the_node_will_report() -> None:
    other = pub(NEIGHBOURS[0])
    facts = NodeFacts.from_status(
        status(
            radio={"link": {"connected": True}, "preset": "LONG_FAST", "airtime_used": 0.12},
            bridge={"last_seen": NOW - 60},
            roster=[other.hex(), "name:Mme Martin", "junk"],
            bridge_keys=[other.hex()],
        )
    )
    assert facts.peers == 3 and facts.last_sync == NOW - 240
    assert facts.radio_connected and facts.radio_preset == "LONG_FAST"
    assert facts.airtime_used == 0.12
    assert facts.bridge_last_seen == NOW - 60
    assert facts.roster == (other, ("name", "mme martin"))
    assert facts.bridge_keys == frozenset({other})


def test_bridge_last_seen_is_its_newest_message() -> None:
    snap = snapshot_of()
    official = snap.board.alerts[0].envelope
    assert snap.facts.bridge_last_seen == official.created


def test_parse_household() -> None:
    assert parse_household("ab" * 32) == bytes.fromhex("ab" * 32)
    assert parse_household("name:  Mme  MARTIN ") == ("name", "mme martin")
    assert parse_household("abcd") is None and parse_household("zz") is None


def test_message_set_skips_what_it_cannot_read_and_drops_expired() -> None:
    messages = MessageSet()
    envs = neighbourhood()
    messages.reset([b64(e) for e in envs] + ["not base64!", base64.b64encode(b"junk").decode()])
    assert len(messages) == len(envs)
    messages.drop_expired(max(e.expires for e in envs))
    assert len(messages) == 0


def test_official_alerts_show_without_the_bridge_list() -> None:
    snap = snapshot_of()
    assert [a.official for a in snap.board.alerts] == [True, False]
    # When the node lists the zone's bridges, that list decides.
    assert [a.official for a in snapshot_of(bridge_keys=[]).board.alerts] == [False]


def test_overview_counts() -> None:
    snap = snapshot_of()
    assert snap.overview.open_requests == 2 and snap.overview.claimed_requests == 1
    assert snap.overview.since is not None
    # Households with no check-in since the official alert began (45 min ago).
    assert len(snap.not_heard) == snap.overview.not_heard_from == 5
    assert snap.my_checkin is None


def test_filter_requests() -> None:
    board = snapshot_of().board
    assert [v.request.need for v in filter_requests(board, need=k.Need.WATER)] == [k.Need.WATER]
    urgent = filter_requests(board, min_urgency=k.RequestUrgency.HIGH)
    assert {v.request.urgency for v in urgent} == {k.RequestUrgency.HIGH, k.RequestUrgency.CRITICAL}
    assert all(
        v.status is not RequestStatus.RESOLVED
        for v in filter_requests(board, include_resolved=False)
    )
    claimer = pub(NEIGHBOURS[5])
    assert [v.status for v in filter_requests(board, mine=claimer)] == [RequestStatus.CLAIMED]


def test_rollup_by_place() -> None:
    rows = rollup_by_place(snapshot_of().board)
    assert [(r.place, r.safe, r.need_help, r.total) for r in rows] == [
        ("rue des Lilas", 2, 1, 3),
        ("rue Haute", 2, 0, 2),
    ]


def test_checked_on_is_the_roster_or_whom_i_visited() -> None:
    board = snapshot_of().board
    visited = checked_on(board, pub(ME), None)
    assert [(w.household, w.name) for w in visited] == [(("name", "mme martin"), "Mme Martin")]
    roster = checked_on(board, pub(ME), [pub(NEIGHBOURS[1])])
    assert [w.latest.status for w in roster if w.latest] == [k.CheckInStatus.NEED_HELP]


def test_may_resolve_the_requester_and_the_claimers_only() -> None:
    snap = snapshot_of()
    water = next(v for v in snap.board.requests if v.request.need is k.Need.WATER)
    assert may_resolve(snap.messages, water.envelope, water.requester)
    assert may_resolve(snap.messages, water.envelope, pub(NEIGHBOURS[5]))  # the claimer
    assert not may_resolve(snap.messages, water.envelope, pub(ME))


def test_a_claim_outlives_its_request() -> None:
    request = sign(k.HelpRequest(need=k.Need.WATER), NEIGHBOURS[0], 0)
    lifetime = outliving_lifetime(k.Kind.CLAIM, [request], NOW)
    assert lifetime is not None and NOW + lifetime * 60 >= request.expires
    assert outliving_lifetime(k.Kind.CLAIM, [], NOW) is None


def test_verification_levels_come_from_the_trust_model() -> None:
    snap = snapshot_of()
    official, community = snap.board.alerts
    assert verification_of(official) is VerificationState.OFFICIAL
    assert verification_of(community) is VerificationState.UNVERIFIED
    assert verification_of(snap.board.checkins[0]) is None  # check-ins are not verified
    # Independent neighbours who saw it too corroborate a report.
    incident = snap.board.incidents[0].envelope
    seen = [
        sign(k.Corroboration(text="vu"), neighbour, 1, (incident,))
        for neighbour in [*NEIGHBOURS, BRIDGE]
        if pub(neighbour) != incident.author
    ]
    again = snapshot_of([*neighbourhood(), *seen])
    assert verification_of(again.views[incident.id]) is VerificationState.CORROBORATED
    assert not again.i_mark  # no charter: nobody is a relay


def test_words() -> None:
    assert ago(NOW - 600, NOW, "fr") == "il y a 10 min"
    assert ago(NOW + 7200, NOW, "en") == "in 2 h"
    board = snapshot_of().board
    assert household(board, pub(ME), pub(ME), "fr") == "vous"
    assert household(board, ("name", "mme martin"), pub(ME), "en") == "Mme Martin"


def test_the_fake_node_serves_the_scenario() -> None:
    node = FakeNode()
    assert len(node.envelopes) == len(neighbourhood())
