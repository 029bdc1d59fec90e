"""The derived board (protocol.state): one test per rule, edge cases included."""

from __future__ import annotations

import hashlib

import pytest
from nacl.signing import SigningKey

from protocol.envelope import SIGNING_CONTEXT, Envelope, decode, seal
from protocol.errors import InvalidMessage, UsageError
from protocol.kinds import (
    Alert,
    AlertOrigin,
    Body,
    CheckIn,
    CheckInStatus,
    Claim,
    Comment,
    HelpOffer,
    HelpRequest,
    Incident,
    IncidentType,
    Need,
    OfficialSource,
    Outcome,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    ResourceType,
    Retraction,
    Severity,
    Tip,
    TipType,
)
from protocol.state import (
    Board,
    NotHeard,
    Overview,
    RequestStatus,
    RequestView,
    claimed_by,
    derive,
    household_of,
    latest_alert,
    may_resolve,
    name_household,
    normalise_name,
    not_heard_from,
    overview,
    requested_by,
    requests_for_need,
    requests_with_urgency,
)

ZONE = b"\x00\x00\x00\x01"
T0 = 1_780_000_000
HOUR = 3600
DAY = 24 * HOUR

ALICE, BOB, CAROL, DAVE, BRIDGE = (SigningKey(bytes([i]) * 32) for i in range(1, 6))
A, B, C, D, BR = (bytes(k.verify_key) for k in (ALICE, BOB, CAROL, DAVE, BRIDGE))
BRIDGES = frozenset({BR})


def msg(
    body: Body,
    key: SigningKey,
    at: int = 0,
    refs: tuple[Envelope, ...] = (),
    lifetime: int | None = None,
) -> Envelope:
    """Seal ``body`` by ``key``, created ``at`` seconds after T0, citing ``refs``."""
    return seal(
        body,
        signing_key=key,
        created=T0 + at,
        zone=ZONE,
        refs=[r.id for r in refs],
        lifetime=lifetime,
    )


def board(*messages: Envelope, at: int = 60, bridges: frozenset[bytes] = BRIDGES) -> Board:
    return derive(messages, now=T0 + at, bridge_keys=bridges)


def alert(key: SigningKey = ALICE, at: int = 0, *refs: Envelope, **kw: object) -> Envelope:
    return msg(Alert(headline=str(kw.pop("headline", "Crue")), **kw), key, at, refs)  # type: ignore[arg-type]


def official(key: SigningKey = BRIDGE, at: int = 0) -> Envelope:
    source = OfficialSource(
        source="vigicrues", sender="x", identifier="1", sent=T0, digest=bytes(32)
    )
    return msg(
        Alert(headline="Vigilance rouge", origin=AlertOrigin.OFFICIAL, official=source), key, at
    )


def request(key: SigningKey = ALICE, at: int = 0, **kw: object) -> Envelope:
    kw.setdefault("need", Need.WATER)
    return msg(HelpRequest(**kw), key, at)  # type: ignore[arg-type]


def claim(
    target: Envelope, key: SigningKey = BOB, at: int = 60, lifetime: int | None = None
) -> Envelope:
    return msg(Claim(), key, at, (target,), lifetime)


def resolve(
    target: Envelope, key: SigningKey, at: int = 120, outcome: Outcome = Outcome.DONE
) -> Envelope:
    return msg(Resolution(outcome=outcome), key, at, (target,))


def retract(target: Envelope, key: SigningKey, at: int = 120) -> Envelope:
    return msg(Retraction(), key, at, (target,))


def comment(target: Envelope, key: SigningKey = CAROL, at: int = 30, text: str = "ok") -> Envelope:
    return msg(Comment(text=text), key, at, (target,))


def checkin(
    key: SigningKey = ALICE,
    at: int = 0,
    status: CheckInStatus = CheckInStatus.SAFE,
    lifetime: int | None = None,
    **kw: object,
) -> Envelope:
    return msg(CheckIn(status=status, **kw), key, at, lifetime=lifetime)  # type: ignore[arg-type]


def incident(key: SigningKey = ALICE, at: int = 0, *refs: Envelope, **kw: object) -> Envelope:
    kw.setdefault("type", IncidentType.FLOODING)
    return msg(Incident(**kw), key, at, refs)  # type: ignore[arg-type]


def resource(key: SigningKey = ALICE, at: int = 0, *refs: Envelope, **kw: object) -> Envelope:
    kw.setdefault("type", ResourceType.WATER_DISTRIBUTION)
    kw.setdefault("name", "Gymnase")
    return msg(ResourcePoint(**kw), key, at, refs)  # type: ignore[arg-type]


def ids(views: tuple[object, ...]) -> list[bytes]:
    return [v.envelope.id for v in views]  # type: ignore[attr-defined]


def only_request(b: Board) -> RequestView:
    (view,) = b.requests
    return view


# --- the message set -------------------------------------------------------------------


def test_empty_set() -> None:
    b = derive([], now=T0)
    assert b == Board(T0, (), (), (), (), (), (), (), ())
    assert latest_alert(b) is None
    assert overview(b) == Overview(0, 0, 0, None)
    assert not_heard_from(b, since=T0) == ()


def test_duplicates_and_order_do_not_matter() -> None:
    r = request()
    messages = [r, claim(r), comment(r), alert(), checkin(BOB), incident()]
    shuffled = [*reversed(messages), *messages[:3]]
    assert board(*messages) == board(*shuffled)


def test_equal_envelopes_from_separate_decodes_are_one() -> None:
    r = request()
    again = decode(r.raw)
    assert again is not r
    assert len(board(r, again).requests) == 1


# --- alerts ----------------------------------------------------------------------------


def test_alert_active_until_it_expires() -> None:
    a = alert()
    assert ids(board(a).alerts) == [a.id]
    assert board(a, at=DAY - 1).alerts != ()
    assert board(a, at=DAY).alerts == ()


def test_alert_view_keeps_flags() -> None:
    drill = alert(exercise=True)
    clear = alert(BOB, all_clear=True)
    views = {v.envelope.id: v for v in board(drill, clear).alerts}
    assert views[drill.id].exercise and not views[drill.id].all_clear
    assert views[clear.id].all_clear and not views[clear.id].exercise
    assert not views[clear.id].official
    assert views[clear.id].alert.headline == "Crue"


def test_update_by_same_author_supersedes() -> None:
    first = alert(at=0)
    update = alert(ALICE, 600, first, severity=Severity.SEVERE)
    (view,) = board(first, update, at=700).alerts
    assert view.envelope == update
    assert view.started == first.created


def test_supersession_is_transitive_and_accepts_several_refs() -> None:
    a1 = alert(at=0, headline="a1")
    a2 = alert(ALICE, 10, headline="a2")
    a3 = alert(ALICE, 20, a1, a2, headline="a3")
    a4 = alert(ALICE, 30, a3, a2, headline="a4")  # a diamond: a2 is reached twice
    (view,) = board(a1, a2, a3, a4).alerts
    assert view.envelope == a4
    assert view.started == a1.created


def test_citing_another_authors_alert_does_not_supersede() -> None:
    first = alert(ALICE, 0)
    other = alert(BOB, 10, first)
    assert set(ids(board(first, other).alerts)) == {first.id, other.id}
    assert {v.started for v in board(first, other).alerts} == {first.created, other.created}


def test_superseded_alert_stays_hidden_when_the_update_expires_or_is_retracted() -> None:
    first = msg(Alert(headline="long"), ALICE, 0, lifetime=3 * 24 * 60)
    update = alert(ALICE, 10, first)
    assert board(first, update, at=DAY + 60).alerts == ()
    assert board(first, update, retract(update, ALICE)).alerts == ()


def test_alert_citing_a_non_alert_supersedes_nothing() -> None:
    r = request(ALICE)
    a = alert(ALICE, 10, r)
    b = board(r, a)
    assert ids(b.alerts) == [a.id]
    assert ids(b.requests) == [r.id]
    assert b.alerts[0].started == a.created


def test_official_alert_shown_only_from_a_current_bridge() -> None:
    mirror = official()
    assert ids(board(mirror).alerts) == [mirror.id]
    assert board(mirror).alerts[0].official
    assert board(mirror, bridges=frozenset()).alerts == ()  # the zone stopped trusting it
    assert board(official(ALICE)).alerts == ()


def test_alert_order_real_then_severity_then_newest_then_id() -> None:
    drill = alert(ALICE, 50, exercise=True, severity=Severity.EXTREME)
    minor = alert(BOB, 40, severity=Severity.MINOR)
    severe_old = alert(CAROL, 10, severity=Severity.SEVERE)
    severe_new = alert(DAVE, 20, severity=Severity.SEVERE)
    tie_1 = alert(ALICE, 30, severity=Severity.MODERATE, headline="x")
    tie_2 = alert(BOB, 30, severity=Severity.MODERATE, headline="y")
    first, second = sorted([tie_1, tie_2], key=lambda e: e.id)
    b = board(drill, minor, severe_old, severe_new, tie_1, tie_2)
    assert ids(b.alerts) == [
        severe_new.id,
        severe_old.id,
        first.id,
        second.id,
        minor.id,
        drill.id,
    ]


def test_latest_alert() -> None:
    real = alert(ALICE, 0)
    drill = alert(BOB, 50, exercise=True)
    b = board(real, drill)
    assert latest_alert(b) is not None
    assert latest_alert(b).envelope == real  # type: ignore[union-attr]
    assert latest_alert(b, exercise=True).envelope == drill  # type: ignore[union-attr]
    assert latest_alert(board(drill)) is None


def test_latest_alert_tie_broken_by_id() -> None:
    x, y = alert(ALICE, 5), alert(BOB, 5)
    assert latest_alert(board(x, y)).envelope == min(x, y, key=lambda e: e.id)  # type: ignore[union-attr]


# --- retraction ------------------------------------------------------------------------


def test_retraction_by_the_author_hides_the_target() -> None:
    a = alert(ALICE)
    assert board(a, retract(a, ALICE)).alerts == ()


def test_retraction_by_someone_else_is_ignored() -> None:
    a = alert(ALICE)
    assert ids(board(a, retract(a, BOB)).alerts) == [a.id]


def test_retraction_still_counts_after_it_expires() -> None:
    offer = msg(HelpOffer(what=Need.TRANSPORT), ALICE, 0, lifetime=30 * 24 * 60)
    gone = msg(Retraction(), ALICE, 60, (offer,), lifetime=60)
    assert board(offer, gone, at=10 * DAY).offers == ()


def test_a_retraction_cannot_be_retracted() -> None:
    a = alert(ALICE)
    first = retract(a, ALICE, 10)
    assert board(a, first, retract(first, ALICE, 20)).alerts == ()


def test_retraction_of_a_message_not_in_the_set_is_harmless() -> None:
    a = alert(ALICE)
    assert board(retract(a, ALICE)).alerts == ()
    assert board(retract(a, ALICE)).households == (A,)


# --- help requests ---------------------------------------------------------------------


def test_new_request_is_open() -> None:
    r = request(people=3, text="Plus d'eau")
    view = only_request(board(r))
    assert view.status is RequestStatus.OPEN
    assert view.claims == () and view.claimers == ()
    assert view.resolution is None and view.outcome is None and view.resolved_by is None
    assert view.requester == A
    assert view.request.people == 3


def test_claim_makes_it_claimed_with_claimers_in_order() -> None:
    r = request()
    c1 = claim(r, BOB, 60)
    c2 = claim(r, CAROL, 30)
    c3 = claim(r, BOB, 90)
    view = only_request(board(r, c1, c2, c3, at=120))
    assert view.status is RequestStatus.CLAIMED
    assert view.claims == (c2, c1, c3)
    assert view.claimers == (C, B)


def test_claims_lapse_after_four_hours_by_default() -> None:
    r = request()
    c = claim(r, BOB, 60)
    assert only_request(board(r, c, at=60 + 4 * HOUR - 1)).status is RequestStatus.CLAIMED
    lapsed = only_request(board(r, c, at=60 + 4 * HOUR))
    assert lapsed.status is RequestStatus.OPEN
    assert lapsed.claims == ()


def test_a_claim_holds_four_hours_after_its_eta() -> None:
    r = request()
    late = msg(Claim(eta_minutes=3 * 60), BOB, 60, (r,))
    assert only_request(board(r, late, at=60 + 7 * HOUR - 1)).status is RequestStatus.CLAIMED
    assert only_request(board(r, late, at=60 + 7 * HOUR)).status is RequestStatus.OPEN


def test_a_claim_with_a_short_lifetime_lapses_when_it_expires() -> None:
    r = request()
    c = claim(r, BOB, 60, lifetime=60)
    assert only_request(board(r, c, at=60 + HOUR - 1)).status is RequestStatus.CLAIMED
    assert only_request(board(r, c, at=60 + HOUR)).status is RequestStatus.OPEN


def test_a_helpers_resolution_survives_the_claim_lapsing_and_pruning() -> None:
    """Every node prunes what expired: the claim, which proves the helper's right to
    resolve, must still be there as long as the request is."""
    r = request()
    c = claim(r, BOB, 60)
    res = resolve(r, BOB, at=2 * HOUR)
    assert c.expires >= r.expires  # a default claim lives as long as a default request
    last_second = r.expires - 1 - T0
    assert only_request(board(r, c, res, at=last_second)).status is RequestStatus.RESOLVED


def test_retracted_claim_does_not_count() -> None:
    r = request()
    c = claim(r, BOB)
    assert only_request(board(r, c, retract(c, BOB))).status is RequestStatus.OPEN
    assert only_request(board(r, c, retract(c, CAROL))).status is RequestStatus.CLAIMED


def test_claim_citing_something_else_is_ignored() -> None:
    r = request()
    offer = msg(HelpOffer(what=Need.WATER), CAROL)
    assert only_request(board(r, claim(offer, BOB))).status is RequestStatus.OPEN


@pytest.mark.parametrize("outcome", list(Outcome))
def test_requester_resolves(outcome: Outcome) -> None:
    r = request()
    res = resolve(r, ALICE, outcome=outcome)
    view = only_request(board(r, claim(r), res))
    assert view.status is RequestStatus.RESOLVED
    assert view.resolution == res
    assert view.outcome is outcome
    assert view.resolved_by == A


def test_claimer_resolves_even_after_the_claim_lapsed() -> None:
    r = request()
    c = claim(r, BOB, 60)
    res = resolve(r, BOB, at=5 * HOUR)
    view = only_request(board(r, c, res, at=6 * HOUR))
    assert view.status is RequestStatus.RESOLVED
    assert view.resolved_by == B
    assert view.claims == ()


def test_resolution_by_a_stranger_is_ignored() -> None:
    r = request()
    assert only_request(board(r, resolve(r, CAROL))).status is RequestStatus.OPEN
    view = only_request(board(r, claim(r, BOB), resolve(r, CAROL)))
    assert view.status is RequestStatus.CLAIMED
    assert view.resolution is None


def test_resolution_by_a_claimer_who_retracted_the_claim_is_ignored() -> None:
    r = request()
    c = claim(r, BOB, 60)
    assert only_request(board(r, c, retract(c, BOB, 90), resolve(r, BOB, 120), at=200)).status is (
        RequestStatus.OPEN
    )


def test_may_resolve_follows_the_same_rules_as_the_board() -> None:
    r = request()
    c = claim(r, BOB, 60)
    assert may_resolve(r, [], A)
    assert not may_resolve(r, [], B)
    assert may_resolve(r, [c], B)
    assert not may_resolve(r, [c], C)
    assert not may_resolve(r, [c, retract(c, BOB, 90)], B)
    assert may_resolve(r, [c, retract(c, CAROL, 90)], B)  # only its author withdraws a claim


def test_retracted_resolution_does_not_count() -> None:
    r = request()
    res = resolve(r, ALICE)
    assert only_request(board(r, res, retract(res, ALICE, 200), at=300)).status is (
        RequestStatus.OPEN
    )


def test_resolution_still_counts_after_it_expires() -> None:
    r = msg(HelpRequest(need=Need.FOOD), ALICE, 0, lifetime=7 * 24 * 60)
    res = msg(Resolution(), ALICE, 60, (r,), lifetime=60)
    assert only_request(board(r, res, at=DAY)).status is RequestStatus.RESOLVED


def test_latest_resolution_is_the_one_shown() -> None:
    r = request()
    cancel = resolve(r, ALICE, 100, Outcome.CANCELLED)
    done = resolve(r, BOB, 200, Outcome.DONE)
    view = only_request(board(r, claim(r, BOB), cancel, done, at=300))
    assert view.resolution == done
    assert view.outcome is Outcome.DONE


def test_resolved_request_stays_listed_until_it_expires() -> None:
    r = request()
    res = resolve(r, ALICE)
    assert only_request(board(r, res, at=DAY)).status is RequestStatus.RESOLVED
    assert board(r, res, at=2 * DAY).requests == ()


def test_expired_or_retracted_request_is_gone() -> None:
    r = request()
    c = claim(r, BOB)
    assert board(r, c, at=2 * DAY).requests == ()
    assert board(r, c, retract(r, ALICE)).requests == ()
    assert board(r, retract(r, BOB)).requests != ()


def test_comments_attached_in_order_without_expired_or_retracted_ones() -> None:
    r = request()
    late = comment(r, CAROL, 300, "j'arrive")
    early = comment(r, BOB, 100, "où ?")
    withdrawn = comment(r, BOB, 200, "oups")
    short = msg(Comment(text="bref"), DAVE, 50, (r,), lifetime=5)
    view = only_request(board(r, late, early, withdrawn, retract(withdrawn, BOB), short, at=400))
    assert view.comments == (early, late)


def test_request_order_status_then_urgency_then_oldest() -> None:
    resolved = request(ALICE, 0, urgency=RequestUrgency.CRITICAL)
    claimed = request(BOB, 0, urgency=RequestUrgency.CRITICAL)
    low = request(CAROL, 0, urgency=RequestUrgency.LOW)
    high_new = request(DAVE, 20, urgency=RequestUrgency.HIGH)
    high_old = request(ALICE, 10, urgency=RequestUrgency.HIGH, need=Need.FOOD)
    b = board(resolved, resolve(resolved, ALICE), claimed, claim(claimed), low, high_new, high_old)
    assert ids(b.requests) == [high_old.id, high_new.id, low.id, claimed.id, resolved.id]


def test_request_filters() -> None:
    water = request(ALICE, 0, need=Need.WATER, urgency=RequestUrgency.LOW)
    food = request(BOB, 10, need=Need.FOOD, urgency=RequestUrgency.HIGH)
    meds = request(ALICE, 20, need=Need.MEDICATION, urgency=RequestUrgency.CRITICAL)
    done = request(DAVE, 30, need=Need.FOOD)
    lapsed = request(ALICE, 40, need=Need.SHELTER)
    b = board(
        water,
        food,
        meds,
        done,
        lapsed,
        claim(food, CAROL, 60),
        claim(meds, CAROL, 60),
        claim(done, CAROL, 60),
        resolve(done, CAROL, 90),
        claim(lapsed, CAROL, 60, lifetime=1),
        at=200,
    )
    assert ids(requests_for_need(b, Need.FOOD)) == [food.id, done.id]
    assert ids(requests_with_urgency(b, RequestUrgency.HIGH)) == [meds.id, food.id]
    assert ids(claimed_by(b, C)) == [meds.id, food.id]
    assert claimed_by(b, B) == ()
    assert ids(requested_by(b, A)) == [lapsed.id, water.id, meds.id]
    assert requested_by(b, C) == ()


# --- help offers -----------------------------------------------------------------------


def test_offers() -> None:
    old = msg(HelpOffer(what=Need.GENERATOR, standing=True), ALICE, 0)
    new = msg(HelpOffer(what=Need.TRANSPORT), BOB, 10)
    note = comment(new, CAROL, 20)
    b = board(old, new, note, resolve(old, CAROL))  # a stranger cannot close an offer
    assert ids(b.offers) == [new.id, old.id]
    assert b.offers[0].comments == (note,)
    assert b.offers[1].offer.standing
    assert ids(board(old, new, resolve(old, ALICE)).offers) == [new.id]
    assert ids(board(old, new, retract(new, BOB)).offers) == [old.id]
    assert board(old, new, at=2 * DAY + 10).offers == ()


# --- check-ins -------------------------------------------------------------------------


def test_latest_checkin_per_household() -> None:
    safe = checkin(ALICE, 0)
    later = checkin(ALICE, 100, CheckInStatus.NO_POWER)
    bob = checkin(BOB, 50)
    b = board(safe, later, bob, at=200)
    assert ids(b.checkins) == [later.id, bob.id]
    assert b.checkin_of(A) is not None
    assert b.checkin_of(A).status is CheckInStatus.NO_POWER  # type: ignore[union-attr]
    assert b.checkin_of(A).reporter == A  # type: ignore[union-attr]
    assert not b.checkin_of(A).on_behalf  # type: ignore[union-attr]
    assert b.checkin_of(C) is None


def test_checkin_tie_broken_by_id() -> None:
    x = checkin(ALICE, 10, CheckInStatus.SAFE)
    y = checkin(ALICE, 10, CheckInStatus.INJURED)
    assert board(x, y).checkin_of(A).envelope == max(x, y, key=lambda e: e.id)  # type: ignore[union-attr]


def test_checkin_on_behalf_by_key() -> None:
    visit = checkin(BOB, 10, CheckInStatus.NOBODY_HOME, subject_key=C)
    b = board(visit)
    view = b.checkin_of(C)
    assert view is not None and view.on_behalf and view.reporter == B
    assert view.checkin.subject_key == C
    assert b.checkin_of(B) is None  # visiting someone is not checking in oneself
    own = checkin(CAROL, 20)
    assert board(visit, own).checkin_of(C).envelope == own  # type: ignore[union-attr]


def test_checkin_naming_oneself_by_key_is_not_on_behalf() -> None:
    view = board(checkin(ALICE, 0, subject_key=A)).checkin_of(A)
    assert view is not None and not view.on_behalf


def test_households_by_name_are_normalised() -> None:
    first = checkin(BOB, 0, subject_name="  Mme   DUPONT ")
    second = checkin(CAROL, 10, CheckInStatus.EVACUATED, subject_name="mme dupont")
    b = board(first, second)
    (view,) = (v for v in b.checkins if v.household == ("name", "mme dupont"))
    assert view.envelope == second and view.on_behalf
    assert household_of(first) == household_of(second) == name_household("Mme Dupont")


def test_normalise_name() -> None:
    assert normalise_name("  Jean\u00a0 Élie ") == "jean élie"
    assert normalise_name("E\u0301lie") == normalise_name("Élie")  # NFC
    assert normalise_name("STRASSE") == normalise_name("straße")  # casefold


def test_an_expired_newer_checkin_does_not_bring_back_an_older_one() -> None:
    old = checkin(ALICE, 0, CheckInStatus.INJURED, lifetime=14 * DAY // 60)
    short = checkin(ALICE, 100, CheckInStatus.SAFE, lifetime=10)
    assert board(old, short, at=200).checkin_of(A).envelope == short  # type: ignore[union-attr]
    assert board(old, short, at=1000).checkin_of(A) is None  # not the older INJURED
    assert board(old, at=3 * DAY).checkin_of(A).envelope == old  # type: ignore[union-attr]


def test_retracted_checkin_is_not_latest() -> None:
    old = checkin(ALICE, 0)
    newer = checkin(ALICE, 100, CheckInStatus.INJURED)
    assert board(old, newer, retract(newer, ALICE)).checkin_of(A).envelope == old  # type: ignore[union-attr]


# --- not heard from --------------------------------------------------------------------


def test_known_households_and_not_heard_from() -> None:
    warning = official(BRIDGE, 0)
    req = request(DAVE, 10)  # Dave wrote, never checked in
    alice = checkin(ALICE, 100)
    bob_old = checkin(BOB, -HOUR)
    visit = checkin(BOB, 200, subject_name="Mme Dupont")
    typo = checkin(BOB, 210, subject_name="Mme Dupond")
    odd = checkin(BRIDGE, 0)  # a bridge is never a household, even if it checks in
    b = board(warning, req, alice, bob_old, visit, typo, retract(typo, BOB, 220), odd, at=300)
    dupont = ("name", "mme dupont")
    assert b.households == (*sorted([A, B, D]), dupont)  # bridges and retracted names left out
    silent = not_heard_from(b, since=T0)
    assert silent == tuple(
        sorted(
            [NotHeard(B, b.checkin_of(B)), NotHeard(D, None)],
            key=lambda n: n.household,  # type: ignore[arg-type, return-value]
        )
    )
    assert silent[[n.household for n in silent].index(B)].latest is not None


def test_not_heard_from_since_is_inclusive() -> None:
    c = checkin(ALICE, 100)
    assert not_heard_from(board(c), since=T0 + 100) == ()
    assert not_heard_from(board(c), since=T0 + 101) == (NotHeard(A, board(c).checkins[0]),)


def test_not_heard_from_explicit_households() -> None:
    b = board(checkin(ALICE, 100), checkin(BOB, 0, subject_name="Mme Dupont"))
    dupont = name_household("mme  dupont")
    asked = [C, dupont, A, C]  # duplicates and unknown households are fine
    assert not_heard_from(b, since=T0 + 50, households=asked) == (
        NotHeard(C, None),
        NotHeard(dupont, b.checkin_of(dupont)),
    )


def test_not_heard_from_messages() -> None:
    messages = [official(BRIDGE, 0), checkin(ALICE, 100), alert(BOB, 10)]
    assert not_heard_from(messages, since=T0 + 50, now=T0 + 200, bridge_keys=BRIDGES) == (
        NotHeard(B, None),
    )
    assert [n.household for n in not_heard_from(messages, since=T0, now=T0 + 200)] == sorted(
        [B, BR]
    )
    with pytest.raises(UsageError, match="now"):
        not_heard_from(messages, since=T0)


def test_overview() -> None:
    first = alert(ALICE, 0)
    update = alert(ALICE, 1000, first, severity=Severity.SEVERE)
    drill = alert(BOB, 2000, exercise=True)
    r1, r2, r3 = request(BOB, 10), request(CAROL, 20), request(DAVE, 30)
    messages = [first, update, drill, r1, r2, r3, claim(r1, CAROL, 40), resolve(r3, DAVE, 50)]
    heard = checkin(BOB, 500)  # after the alert began, before its update: still heard from
    b = board(*messages, heard, at=3000)
    assert overview(b) == Overview(open_requests=1, claimed_requests=1, not_heard_from=3, since=T0)
    assert overview(board(drill, r1)) == Overview(1, 0, 0, None)


# --- incidents -------------------------------------------------------------------------


def test_incident_update_replaces_the_earlier_report() -> None:
    v1 = incident(ALICE, 0, severity=Severity.MINOR)
    v2 = incident(ALICE, 100, v1, severity=Severity.SEVERE)
    v3 = incident(ALICE, 200, v2, text="pire")
    note_1 = comment(v1, BOB, 50)
    note_3 = comment(v3, CAROL, 250)
    (view,) = board(v1, v2, v3, note_1, note_3, at=300).incidents
    assert view.envelope == v3
    assert view.first_reported == v1.created
    assert view.comments == (note_1, note_3)
    assert view.incident.text == "pire"


def test_incident_cited_by_someone_else_is_not_replaced() -> None:
    mine = incident(ALICE, 0)
    theirs = incident(BOB, 10, mine)
    assert set(ids(board(mine, theirs).incidents)) == {mine.id, theirs.id}


def test_replaced_incident_stays_hidden_when_the_update_expires() -> None:
    v1 = msg(Incident(type=IncidentType.TREE_DOWN), ALICE, 0, lifetime=3 * 24 * 60)
    v2 = incident(ALICE, 10, v1)
    assert board(v1, v2, at=DAY + 60).incidents == ()


def test_incident_closed_by_its_author_only() -> None:
    inc = incident(ALICE, 0)
    assert board(inc, resolve(inc, ALICE)).incidents == ()
    assert ids(board(inc, resolve(inc, BOB)).incidents) == [inc.id]
    assert board(inc, retract(inc, ALICE)).incidents == ()
    assert board(inc, at=DAY).incidents == ()


def test_resolving_an_earlier_version_closes_the_incident_unless_updated_after() -> None:
    first = incident(ALICE, 0)
    update = incident(ALICE, 60, first)
    assert board(first, update, resolve(first, ALICE, 120)).incidents == ()
    later = incident(ALICE, 180, update)  # it flooded again after the resolution
    reopened = board(first, update, resolve(first, ALICE, 120), later, at=240).incidents
    assert [v.envelope for v in reopened] == [later]
    assert board(first, update, resolve(first, BOB, 120)).incidents != ()  # not the author


def test_incident_order() -> None:
    minor = incident(ALICE, 100, severity=Severity.MINOR)
    old = incident(BOB, 0, severity=Severity.EXTREME)
    new = incident(CAROL, 50, severity=Severity.EXTREME)
    assert ids(board(minor, old, new, at=200).incidents) == [new.id, old.id, minor.id]


# --- resource points -------------------------------------------------------------------


def test_resource_point_versions_and_closed_points_listed() -> None:
    v1 = resource(ALICE, 0, hours="8h-20h")
    v2 = resource(ALICE, 100, v1, open=False)
    (view,) = board(v1, v2, at=200).resources
    assert view.envelope == v2
    assert not view.open
    assert view.resource.name == "Gymnase"


def test_resource_point_cited_by_another_author_is_not_replaced() -> None:
    v1 = resource(ALICE, 0)
    other = resource(BOB, 10, v1, name="Mairie")
    assert set(ids(board(v1, other).resources)) == {v1.id, other.id}


def test_resource_point_expired_or_retracted() -> None:
    v1 = resource(ALICE, 0)
    v2 = resource(ALICE, 100, v1)
    assert board(v1, v2, retract(v2, ALICE)).resources == ()
    assert board(v1, at=DAY).resources == ()


def test_resource_order_open_first_then_type_then_name() -> None:
    closed = resource(ALICE, 0, open=False, name="Aaa")
    shelter = resource(BOB, 0, type=ResourceType.SHELTER, name="Salle")
    water_b = resource(CAROL, 0, name="b fontaine")
    water_a = resource(DAVE, 0, name="A fontaine")
    b = board(closed, shelter, water_b, water_a)
    assert ids(b.resources) == [water_a.id, water_b.id, shelter.id, closed.id]


# --- tips ------------------------------------------------------------------------------


def test_tips_and_drills() -> None:
    tip = msg(Tip(title="Kit d'urgence"), ALICE, 100)
    drill = msg(Tip(title="Exercice", type=TipType.DRILL, drill_start=T0, drill_end=T0 + 1), BOB)
    b = board(tip, drill, at=200)
    assert ids(b.tips) == [drill.id, tip.id]
    assert b.tips[0].drill and not b.tips[1].drill
    assert b.tips[1].tip.title == "Kit d'urgence"
    assert ids(board(tip, drill, retract(drill, BOB)).tips) == [tip.id]
    assert board(tip, drill, at=31 * DAY).tips == ()


def _resign_with_nonce(env: Envelope, key: SigningKey, nonce: int) -> Envelope:
    """The same signed bytes under a second valid signature, as a randomised Ed25519 signer
    (RFC 8032 allows any nonce) would make: same id, different raw bytes."""
    from nacl import bindings

    digest = hashlib.sha512(bytes(key)).digest()
    clamped = bytearray(digest[:32])
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    a = bindings.crypto_core_ed25519_scalar_reduce(bytes(clamped) + bytes(32))
    r = bindings.crypto_core_ed25519_scalar_reduce(nonce.to_bytes(64, "little"))
    big_r = bindings.crypto_scalarmult_ed25519_base_noclamp(r)
    message = SIGNING_CONTEXT + env.raw[:-64]
    k = bindings.crypto_core_ed25519_scalar_reduce(
        hashlib.sha512(big_r + bytes(key.verify_key) + message).digest()
    )
    s = bindings.crypto_core_ed25519_scalar_add(r, bindings.crypto_core_ed25519_scalar_mul(k, a))
    return decode(env.raw[:-64] + big_r + s)


def test_two_signatures_of_one_message_give_one_board_whatever_the_order() -> None:
    r = request()
    other = _resign_with_nonce(r, ALICE, 12345)
    assert other.id == r.id and other.raw != r.raw
    assert board(r, other) == board(other, r)


def test_a_blank_visited_name_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="name is blank"):
        CheckIn(status=CheckInStatus.NOBODY_HOME, subject_name="\u00a0 ")
