"""Roles, authorisation and verification (protocol/trust.py, SPEC.md 11a.2-11a.4, 11a.6)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from protocol.charter import Charter
from protocol.envelope import Envelope, Policy, accept, check_acceptable, seal
from protocol.errors import Unauthorized
from protocol.kinds import (
    Alert,
    AlertOrigin,
    Body,
    CheckIn,
    CheckInStatus,
    Corroboration,
    HelpRequest,
    Incident,
    IncidentType,
    Mark,
    Need,
    OfficialSource,
    Retraction,
    Revoke,
    RevokeReason,
    Role,
    Verdict,
    Vouch,
)
from protocol.ratelimit import RateLimiter
from protocol.state import RequestStatus, derive, latest_alert, overview
from protocol.trust import (
    RATE_LIMITS,
    RateClass,
    Roles,
    VerificationState,
    derive_roles,
    verify,
)

ZONE = bytes.fromhex("01020304")
T0 = 1_780_000_000
NOW = T0 + 3600
DAY = 86_400


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


FOUNDER, FOUNDER2, COORD, COORD2, RELAY, RELAY2, BRIDGE = (_key(i) for i in range(1, 8))
HOUSEHOLDS = [_key(i) for i in range(10, 16)]
H1, H2, H3, H4, H5, OUTSIDER = HOUSEHOLDS


def pub(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


CHARTER = Charter(
    zone=ZONE,
    name="Rue des Lilas",
    founders=(pub(FOUNDER), pub(FOUNDER2)),
    issued=T0 - DAY,
    bridges=(pub(BRIDGE),),
    relays=(pub(RELAY),),
)


def msg(
    key: SigningKey, body: Body, *, at: int = T0, refs: tuple[bytes, ...] = (), **kw: Any
) -> Envelope:
    return seal(body, signing_key=key, created=at, zone=ZONE, refs=refs, **kw)


def vouch(by: SigningKey, who: SigningKey, role: Role = Role.HOUSEHOLD, at: int = T0) -> Envelope:
    return msg(by, Vouch(subject=pub(who), role=role), at=at)


def revoke(by: SigningKey, who: SigningKey, role: Role | None = None, at: int = T0) -> Envelope:
    return msg(by, Revoke(subject=pub(who), role=role), at=at)


def mark(
    by: SigningKey, target: Envelope, verdict: Verdict = Verdict.CONFIRMED, at: int = T0
) -> Envelope:
    return msg(by, Mark(verdict=verdict), at=at, refs=(target.id,))


def roles(*messages: Envelope, charter: Charter | None = CHARTER, now: int = NOW) -> Roles:
    return derive_roles(charter, messages, now=now)


def official_alert(key: SigningKey) -> Envelope:
    source = OfficialSource(
        source="vigicrues", sender="s", identifier="i", sent=T0, digest=bytes(32)
    )
    return msg(key, Alert(headline="Crue", origin=AlertOrigin.OFFICIAL, official=source))


INCIDENT = msg(H1, Incident(type=IncidentType.FLOODING))


# --- roles ------------------------------------------------------------------------------


def test_the_charter_alone_gives_founders_relays_and_bridges() -> None:
    r = roles()
    assert r.coordinators == {pub(FOUNDER), pub(FOUNDER2)}
    assert r.relays == {pub(RELAY)}
    assert r.bridges == {pub(BRIDGE)}
    assert r.depth(pub(FOUNDER)) == 0 and r.depth(pub(RELAY)) is None
    assert not r.vouched(pub(H1)) and r.roles_of(pub(H1)) == frozenset()
    assert r.vouched(pub(RELAY)) and not r.vouched(pub(BRIDGE))


def test_no_charter_means_nobody_holds_a_role_but_the_configured_bridges() -> None:
    r = derive_roles(None, [vouch(FOUNDER, H1)], now=NOW, bridge_keys=frozenset({pub(BRIDGE)}))
    assert r.coordinators == r.relays == frozenset()
    assert r.bridges == {pub(BRIDGE)} and not r.vouched(pub(H1))
    assert not r.grants and r.charter is None


def test_vouches_chain_from_the_founders() -> None:
    r = roles(
        vouch(FOUNDER, COORD, Role.COORDINATOR),
        vouch(COORD, RELAY2, Role.RELAY),
        vouch(RELAY2, H1),
        vouch(COORD, H2),
    )
    assert r.depth(pub(COORD)) == 1
    assert r.has(pub(RELAY2), Role.RELAY) and r.has(pub(H1), Role.HOUSEHOLD)
    assert r.has(pub(H2), Role.HOUSEHOLD)
    (grant,) = r.grants[pub(H1)]
    assert grant.by == pub(RELAY2) and grant.depth == 3


def test_only_the_right_roles_vouch() -> None:
    r = roles(
        vouch(H1, H2),  # a household cannot vouch
        vouch(RELAY, H3, Role.RELAY),  # a relay cannot make relays
        vouch(RELAY, H4, Role.COORDINATOR),
        vouch(OUTSIDER, H5, Role.BRIDGE),
    )
    assert not any(r.roles_of(pub(k)) for k in (H2, H3, H4, H5))


def test_a_vouch_counts_while_live_and_not_retracted() -> None:
    v = vouch(RELAY, H1)
    assert roles(v).vouched(pub(H1))
    assert not roles(v, now=v.expires).vouched(pub(H1))
    withdrawn = msg(RELAY, Retraction(), refs=(v.id,))
    assert not roles(v, withdrawn).vouched(pub(H1))
    by_other = msg(FOUNDER, Retraction(), refs=(v.id,))
    assert roles(v, by_other).vouched(pub(H1))


def test_a_founder_stays_at_depth_0_whoever_vouches_for_it() -> None:
    r = roles(vouch(FOUNDER, FOUNDER2, Role.COORDINATOR), vouch(FOUNDER, COORD, Role.COORDINATOR))
    assert r.depth(pub(FOUNDER2)) == 0 and r.depth(pub(COORD)) == 1
    r = roles(vouch(FOUNDER, COORD, Role.COORDINATOR), vouch(COORD, FOUNDER2, Role.COORDINATOR))
    assert r.depth(pub(FOUNDER2)) == 0


def test_a_coordinator_cannot_vouch_itself_a_relay() -> None:
    assert not roles(vouch(FOUNDER, FOUNDER, Role.RELAY)).has(pub(FOUNDER), Role.RELAY)


def test_a_relay_revoked_takes_its_vouches_with_it() -> None:
    v1, v2 = vouch(RELAY, H1), vouch(RELAY, H2)
    also = vouch(FOUNDER, H2)
    before = roles(v1, v2, also)
    assert {s for s, _ in before.granted_by(pub(RELAY))} == {pub(H1), pub(H2)}
    after = roles(v1, v2, also, revoke(FOUNDER, RELAY))
    assert not after.has(pub(RELAY), Role.RELAY)
    assert not after.vouched(pub(H1))  # only the relay knew H1
    assert after.vouched(pub(H2))  # the founder vouched too


def test_revocations_by_the_key_itself_and_by_coordinators() -> None:
    assert not roles(revoke(RELAY, RELAY)).has(pub(RELAY), Role.RELAY)
    assert not roles(revoke(FOUNDER, FOUNDER)).has(pub(FOUNDER), Role.COORDINATOR)
    # A founder cannot revoke another founder; a relay or a household cannot revoke anyone.
    r = roles(revoke(FOUNDER, FOUNDER2), revoke(RELAY, BRIDGE), revoke(H1, RELAY))
    assert r.coordinators == {pub(FOUNDER), pub(FOUNDER2)}
    assert r.bridges == {pub(BRIDGE)} and r.relays == {pub(RELAY)}
    # A revocation of one role leaves the others.
    both = [vouch(FOUNDER, RELAY), revoke(FOUNDER, RELAY, Role.RELAY)]
    assert roles(*both).roles_of(pub(RELAY)) == {Role.HOUSEHOLD}


def test_coordinators_revoke_only_deeper_coordinators() -> None:
    c1 = vouch(FOUNDER, COORD, Role.COORDINATOR)
    c2 = vouch(FOUNDER, COORD2, Role.COORDINATOR)
    # Siblings at depth 1 revoking each other: neither takes effect, in any order.
    r = roles(c1, c2, revoke(COORD, COORD2), revoke(COORD2, COORD))
    assert {pub(COORD), pub(COORD2)} <= r.coordinators
    # A deeper coordinator: its sibling's parent-level peer can revoke it.
    deep = vouch(COORD2, H1, Role.COORDINATOR)
    r = roles(c1, c2, deep, revoke(COORD, H1, Role.COORDINATOR), revoke(H1, COORD))
    assert r.depth(pub(H1)) is None and r.depth(pub(COORD)) == 1
    # Any coordinator revokes a relay, whoever vouched for it.
    r = roles(c1, c2, vouch(COORD, H2, Role.RELAY), revoke(COORD2, H2))
    assert not r.has(pub(H2), Role.RELAY)


def test_a_revoked_coordinator_loses_its_acts_whatever_their_dates() -> None:
    c1 = vouch(FOUNDER, COORD, Role.COORDINATOR)
    acts = [vouch(COORD, H1, Role.RELAY, at=T0 - 5 * DAY), revoke(COORD, RELAY, at=T0 - 5 * DAY)]
    r = roles(c1, *acts)
    assert r.has(pub(H1), Role.RELAY) and not r.has(pub(RELAY), Role.RELAY)
    r = roles(c1, *acts, revoke(FOUNDER, COORD, at=T0 + 5))
    assert not r.has(pub(H1), Role.RELAY) and r.has(pub(RELAY), Role.RELAY)


def test_revocations_are_final() -> None:
    banned = revoke(FOUNDER, H1)
    later = msg(FOUNDER2, Vouch(subject=pub(H1)), at=T0 + 50 * DAY, lifetime=400 * 1440)
    assert roles(later, now=T0 + 51 * DAY).vouched(pub(H1))
    assert not roles(banned, later, now=T0 + 51 * DAY).vouched(pub(H1))
    undone = msg(FOUNDER, Retraction(), refs=(banned.id,))
    assert not roles(banned, later, undone, now=T0 + 51 * DAY).vouched(pub(H1))
    # The revocation counts even once expired, while a node holds it.
    assert banned.expires < T0 + 401 * DAY < later.expires
    assert not roles(banned, later, now=T0 + 401 * DAY).vouched(pub(H1))


def test_a_thief_cannot_undo_a_key_lost() -> None:
    lost = msg(RELAY, Revoke(subject=pub(RELAY), reason=RevokeReason.KEY_LOST))
    undo = msg(RELAY, Retraction(), refs=(lost.id,))
    assert not roles(lost, undo).has(pub(RELAY), Role.RELAY)


def _scenario() -> list[Envelope]:
    """A zone with a coordinator, relays and households, a revoked relay and its marks."""
    c = vouch(FOUNDER, COORD, Role.COORDINATOR)
    r2 = vouch(COORD, RELAY2, Role.RELAY)
    hs = [vouch(RELAY2, H1), vouch(COORD, H2), vouch(RELAY, H3)]
    ban = revoke(COORD, RELAY2, at=T0 + 100)
    # RELAY2's marks: one before, one after the revocation, one backdated to before it.
    marks = [
        mark(RELAY2, INCIDENT, at=T0 + 50),
        mark(RELAY2, INCIDENT, Verdict.FALSE, at=T0 + 200),
        mark(RELAY2, INCIDENT, Verdict.FALSE, at=T0 - DAY),
    ]
    return [c, r2, *hs, ban, *marks, INCIDENT]


@settings(max_examples=60, deadline=None)
@given(st.permutations(_scenario()), st.integers(0, 3))
def test_roles_and_verification_ignore_order_and_duplicates(
    messages: list[Envelope], doubled: int
) -> None:
    messages = messages + messages[:doubled]
    r = roles(*messages)
    assert r.coordinators == {pub(FOUNDER), pub(FOUNDER2), pub(COORD)}
    assert r.relays == {pub(RELAY)}
    assert r.households == {pub(H2), pub(H3)}  # H1 was vouched by the revoked relay
    board = derive(messages, now=NOW, trust=r)
    (view,) = board.incidents
    assert view.verification.state is VerificationState.UNVERIFIED  # every mark ignored
    assert r == roles(*_scenario())


# --- authorisation at acceptance ----------------------------------------------------------


def policies() -> list[Policy]:
    """A node without a charter, and nodes of the zone with more or less of its history."""
    c = vouch(FOUNDER, COORD, Role.COORDINATOR)
    return [
        Policy(),
        Policy(bridge_keys=frozenset({pub(BRIDGE)})),
        roles().policy(zone=ZONE),
        roles(c, vouch(COORD, H1)).policy(zone=ZONE),
    ]


@pytest.mark.parametrize("policy", policies())
def test_an_unvouched_key_cannot_send_an_official_mirror_or_a_mark(policy: Policy) -> None:
    for env in (official_alert(OUTSIDER), mark(OUTSIDER, INCIDENT), mark(H1, INCIDENT)):
        with pytest.raises(Unauthorized):
            accept(env.raw, now=NOW, policy=policy)
    for env in (vouch(OUTSIDER, H2), vouch(H1, H2), revoke(OUTSIDER, RELAY)):
        with pytest.raises(Unauthorized):
            check_acceptable(env, now=NOW, policy=policy)


def test_what_each_role_may_send_is_accepted() -> None:
    policy = roles(vouch(FOUNDER, COORD, Role.COORDINATOR)).policy(zone=ZONE)
    for env in (
        official_alert(BRIDGE),
        mark(RELAY, INCIDENT),
        mark(COORD, INCIDENT, Verdict.FALSE),
        vouch(RELAY, H1),
        vouch(COORD, H1, Role.RELAY),
        revoke(COORD, RELAY),
        revoke(H1, H1),  # anyone may give up its own roles
        msg(OUTSIDER, Corroboration(), refs=(INCIDENT.id,)),
    ):
        accept(env.raw, now=NOW, policy=policy)
    with pytest.raises(Unauthorized, match="cannot vouch for itself"):
        check_acceptable(vouch(FOUNDER, FOUNDER, Role.RELAY), now=NOW, policy=policy)
    with pytest.raises(Unauthorized, match="only a coordinator of the zone"):
        check_acceptable(vouch(RELAY, H1, Role.RELAY), now=NOW, policy=policy)
    with pytest.raises(Unauthorized, match="only a relay or a coordinator"):
        check_acceptable(mark(H1, INCIDENT), now=NOW, policy=policy)


def test_a_revoked_relays_later_marks_are_refused_and_its_earlier_ones_void() -> None:
    earlier = mark(RELAY, INCIDENT, at=T0 + 10)
    ban = revoke(FOUNDER, RELAY, at=T0 + 20)
    before = roles()
    accept(earlier.raw, now=NOW, policy=before.policy(zone=ZONE))
    after = roles(ban)
    for later in (mark(RELAY, INCIDENT, at=T0 + 30), mark(RELAY, INCIDENT, at=T0 - DAY)):
        with pytest.raises(Unauthorized):
            accept(later.raw, now=NOW, policy=after.policy(zone=ZONE))
    # What a node accepted before it heard of the revocation stops counting.
    assert derive([INCIDENT, earlier], now=NOW, trust=before).incidents[0].verification.state is (
        VerificationState.CONFIRMED
    )
    assert derive([INCIDENT, earlier, ban], now=NOW, trust=after).incidents[
        0
    ].verification.state is (VerificationState.UNVERIFIED)


# --- verification --------------------------------------------------------------------------


def corroborate(key: SigningKey, target: Envelope) -> Envelope:
    return msg(key, Corroboration(), refs=(target.id,))


def test_unverified_corroborated_confirmed_official() -> None:
    r = roles(vouch(RELAY, H2), vouch(RELAY, H3))
    assert verify(INCIDENT, [], [], r).state is VerificationState.UNVERIFIED
    # Independent: distinct keys, not the author; a vouched key weighs 2, an unvouched one 1.
    own = [corroborate(H1, INCIDENT), corroborate(H4, INCIDENT), corroborate(H4, INCIDENT)]
    v = verify(INCIDENT, [], own, r)
    assert v.state is VerificationState.UNVERIFIED and v.corroborators == (pub(H4),)
    v = verify(INCIDENT, [], [*own, corroborate(H5, INCIDENT), corroborate(H2, INCIDENT)], r)
    assert v.state is VerificationState.CORROBORATED and v.weight == 4
    assert v.vouched_corroborators == 1
    assert verify(
        INCIDENT, [], [corroborate(H2, INCIDENT), corroborate(H3, INCIDENT)], r
    ).state is (VerificationState.CORROBORATED)
    v = verify(INCIDENT, [mark(RELAY, INCIDENT)], [], r)
    assert v.state is VerificationState.CONFIRMED and v.confirmed_by == (pub(RELAY),)
    assert verify(official_alert(BRIDGE), [mark(RELAY, INCIDENT, Verdict.FALSE)], [], r).state is (
        VerificationState.OFFICIAL
    )


def test_marks_the_latest_counts_false_wins_coordinators_decide() -> None:
    r = roles(vouch(FOUNDER, RELAY2, Role.RELAY))
    ok, bad = mark(RELAY, INCIDENT, at=T0 + 1), mark(RELAY, INCIDENT, Verdict.FALSE, at=T0 + 2)
    assert verify(INCIDENT, [ok, bad], [], r).state is VerificationState.MARKED_FALSE
    assert verify(INCIDENT, [bad, mark(RELAY, INCIDENT, at=T0 + 3)], [], r).state is (
        VerificationState.CONFIRMED
    )
    disputed = [ok, mark(RELAY2, INCIDENT, Verdict.FALSE)]
    v = verify(INCIDENT, disputed, [], r)
    assert v.marked_false and v.marked_false_by == (pub(RELAY2),)
    settled = verify(INCIDENT, [*disputed, mark(FOUNDER, INCIDENT)], [], r)
    assert settled.state is VerificationState.CONFIRMED and settled.confirmed_by == (pub(FOUNDER),)
    # A relay's mark of its own report counts for nothing.
    own = msg(RELAY, Incident(type=IncidentType.FIRE))
    assert verify(own, [mark(RELAY, own)], [], r).state is VerificationState.UNVERIFIED


def test_handset_messages_show_their_witness_and_handset() -> None:
    from protocol.kinds import Handset

    sos = msg(H1, HelpRequest(need=Need.MEDICAL, via=Handset(node=0xA1B2C3D4)))
    v = verify(sos, [], [], roles(vouch(RELAY, H1)))
    assert v.via == Handset(node=0xA1B2C3D4) and v.author_roles == {Role.HOUSEHOLD}


def test_the_board_shows_verification_and_puts_false_reports_last() -> None:
    alert = msg(H1, Alert(headline="Crue"), at=T0 + 10)
    fake = msg(H2, Alert(headline="Fausse crue"), at=T0 + 20)
    request = msg(H3, HelpRequest(need=Need.WATER), at=T0 + 5)
    lure = msg(H4, HelpRequest(need=Need.WATER), at=T0 + 1)
    marks = [mark(RELAY, fake, Verdict.FALSE), mark(RELAY, lure, Verdict.FALSE), mark(RELAY, alert)]
    board = derive([alert, fake, request, lure, *marks], now=NOW, trust=roles())
    assert [v.envelope for v in board.alerts] == [alert, fake]
    assert board.alerts[0].verification.state is VerificationState.CONFIRMED
    assert [v.envelope for v in board.requests] == [request, lure]
    assert latest_alert(board) is not None and latest_alert(board).envelope == alert  # type: ignore[union-attr]
    assert overview(board).open_requests == 1
    assert (
        board.requests[1].status is RequestStatus.OPEN
        and board.requests[1].verification.marked_false
    )
    # Without trust the marks are void: nobody is a relay.
    plain = derive([alert, fake, request, lure, *marks], now=NOW)
    assert all(v.verification.state is VerificationState.UNVERIFIED for v in plain.alerts)
    assert overview(plain).open_requests == 2


def test_an_update_does_not_inherit_the_confirmation_of_what_it_replaced() -> None:
    update = msg(H1, Incident(type=IncidentType.FIRE), at=T0 + 60, refs=(INCIDENT.id,))
    board = derive([INCIDENT, update, mark(RELAY, INCIDENT)], now=NOW, trust=roles())
    (view,) = board.incidents
    assert view.envelope == update and view.verification.state is VerificationState.UNVERIFIED


def test_bridges_of_the_charter_mirror_official_alerts_on_the_board() -> None:
    alert = official_alert(BRIDGE)
    assert derive([alert], now=NOW).alerts == ()
    (view,) = derive([alert], now=NOW, trust=roles()).alerts
    assert view.verification.state is VerificationState.OFFICIAL
    assert pub(BRIDGE) not in derive([alert], now=NOW, trust=roles()).households


# --- abuse resistance -----------------------------------------------------------------------


def test_rate_classes() -> None:
    r = roles(vouch(RELAY, H1), vouch(FOUNDER, COORD, Role.COORDINATOR))
    assert r.rate_class(pub(OUTSIDER)) is RateClass.UNVOUCHED
    assert r.rate_class(pub(H1)) is RateClass.HOUSEHOLD
    assert r.rate_class(pub(RELAY)) is RateClass.RELAY
    assert r.rate_class(pub(COORD)) is RateClass.COORDINATOR
    assert r.rate_class(pub(BRIDGE)) is RateClass.BRIDGE
    # Without a charter nobody is vouched, and nobody is penalised for it: today's behaviour.
    assert Roles.without_charter().rate_class(pub(OUTSIDER)) is RateClass.HOUSEHOLD
    unvouched, household = RATE_LIMITS[RateClass.UNVOUCHED], RATE_LIMITS[RateClass.HOUSEHOLD]
    assert unvouched.burst < household.burst and unvouched.per_hour < household.per_hour
    assert r.rate_limit(pub(OUTSIDER)) == unvouched


def test_a_flood_from_one_key_does_not_stop_honest_traffic() -> None:
    """One node's ingest for 10 minutes: accept (signature, zone, time, roles), then the
    author's token bucket of its class, as protocol/ratelimit.py's docstring orders it. 40
    households post as people do in a crisis (bursts when the network comes back); one
    unvouched key posts 10 messages a second, and one vouched household goes rogue too."""
    flooder, rogue = _key(99), H5
    households = [_key(100 + i) for i in range(40)]
    r = roles(*(vouch(RELAY, h, at=T0 - DAY) for h in [*households, rogue]))
    policy = r.policy(zone=ZONE)
    limiter = RateLimiter(limit_for=r.rate_limit)
    start = NOW
    arrivals: list[tuple[int, Envelope, bool]] = []
    for i, h in enumerate(households):
        for j in range(5):  # a burst of 5 when the network comes back...
            at = start + i % 7
            arrivals.append((at, msg(h, CheckIn(status=CheckInStatus.SAFE, people=j), at=at), True))
        for j in range(5):  # ...then one every 2 minutes
            at = start + 60 + 120 * j + i
            arrivals.append((at, msg(h, HelpRequest(need=Need.FOOD, people=j + 1), at=at), True))
    for j in range(6000):  # 10 a second
        at = start + j // 10
        arrivals.append(
            (
                at,
                msg(flooder, CheckIn(status=CheckInStatus.NEED_HELP, people=j % 999), at=at),
                False,
            )
        )
    for j in range(600):  # 1 a second
        at = start + j
        arrivals.append(
            (at, msg(rogue, HelpRequest(need=Need.WATER, people=j % 999 + 1), at=at), False)
        )
    arrivals.sort(key=lambda a: (a[0], a[1].id))
    delivered = {True: 0, False: 0}
    sent = {True: 0, False: 0}
    for at, env, honest in arrivals:
        sent[honest] += 1
        accepted = accept(env.raw, now=at, policy=policy)
        if limiter.allow(accepted.author, float(at)):
            delivered[honest] += 1
    assert delivered[True] / sent[True] >= 0.99
    flood_cap = (
        RATE_LIMITS[RateClass.UNVOUCHED].burst
        + RATE_LIMITS[RateClass.UNVOUCHED].per_hour * 600 // 3600
    )
    rogue_cap = (
        RATE_LIMITS[RateClass.HOUSEHOLD].burst
        + RATE_LIMITS[RateClass.HOUSEHOLD].per_hour * 600 // 3600
    )
    assert delivered[False] <= flood_cap + rogue_cap + 2


def test_describe_says_how_far_and_what_a_handset_is_worth() -> None:
    from protocol.kinds import Handset
    from protocol.trust import describe

    r = roles(vouch(RELAY, H2))
    seen = [corroborate(H2, INCIDENT), corroborate(H3, INCIDENT), corroborate(H4, INCIDENT)]
    cases = {
        VerificationState.UNVERIFIED: verify(INCIDENT, [], [], r),
        VerificationState.CORROBORATED: verify(INCIDENT, [], seen, r),
        VerificationState.CONFIRMED: verify(INCIDENT, [mark(RELAY, INCIDENT)], [], r),
        VerificationState.MARKED_FALSE: verify(
            INCIDENT, [mark(FOUNDER, INCIDENT, Verdict.FALSE)], [], r
        ),
        VerificationState.OFFICIAL: verify(official_alert(BRIDGE), [], [], r),
    }
    english = {state: describe(v, "en") for state, v in cases.items()}
    assert english == {
        VerificationState.UNVERIFIED: "unverified",
        VerificationState.CORROBORATED: "seen by 3 neighbours (1 known)",
        VerificationState.CONFIRMED: "confirmed by a relay",
        VerificationState.MARKED_FALSE: "marked false by the coordination",
        VerificationState.OFFICIAL: "official",
    }
    assert describe(cases[VerificationState.CONFIRMED], "fr") == "confirmé par un relais"
    assert cases[VerificationState.MARKED_FALSE].decided_by is Role.COORDINATOR
    sos = msg(H1, HelpRequest(need=Need.MEDICAL, via=Handset(node=0xA1B2C3D4)))
    v = verify(sos, [mark(RELAY, sos)], [], r)
    assert describe(v, "en", witness="Famille Martin") == (
        "confirmed by a relay; typed on handset !a1b2c3d4, an id anyone can claim, "
        "heard by Famille Martin"
    )
    assert "son témoin" in describe(v, "fr") and "!a1b2c3d4" in describe(v, "fr")
