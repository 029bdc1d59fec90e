"""The board depends on the set of messages only: never on arrival order or duplicates."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from protocol.envelope import Envelope, decode, seal
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
    Kind,
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
from protocol.state import Board, RequestStatus, derive, name_household, not_heard_from

ZONE = b"\x00\x00\x00\x01"
T0 = 1_780_000_000
HOUR = 3600

KEYS = [SigningKey(bytes([i]) * 32) for i in range(1, 5)]
SIGNER = {bytes(k.verify_key): k for k in KEYS}
PUBLIC = list(SIGNER)
BRIDGES = frozenset({PUBLIC[3]})  # the fourth key, when drawn, also mirrors official alerts
NAMES = ["Mme Dupont", "  mme   DUPONT ", "M. Martin"]
REQUEST_NEEDS = [n for n in Need if n <= Need.OTHER]

Draw = Any  # hypothesis' draw function
#: Trust kinds (vouch, revoke, marks, corroborations, roster) have their own properties in
#: test_trust.py: without a charter they change nothing on the board.
BOARD_KINDS = [k for k in Kind if k <= Kind.COMMENT and k not in (Kind.VOUCH, Kind.REVOKE)]


def _official() -> OfficialSource:
    return OfficialSource(source="feed", sender="s", identifier="i", sent=T0, digest=bytes(32))


def _target(draw: Draw, done: list[Envelope], kinds: set[Kind]) -> Envelope:
    """An earlier message, usually of one of ``kinds``, sometimes anything."""
    fitting = [e for e in done if e.kind in kinds]
    pool = fitting if fitting and draw(st.integers(0, 4)) else done
    return draw(st.sampled_from(pool))  # type: ignore[no-any-return]


def _author(draw: Draw, keys: list[SigningKey], *likely: bytes) -> SigningKey:
    """A key, biased towards ``likely`` authors so the same-author rules get exercised."""
    choices = [SIGNER[k] for k in likely] + keys
    return draw(st.sampled_from(choices))  # type: ignore[no-any-return]


def _step(draw: Draw, done: list[Envelope], keys: list[SigningKey]) -> Envelope:
    """One more message, citing earlier ones where its kind does."""
    kind = draw(st.sampled_from(BOARD_KINDS))
    if kind in (Kind.CLAIM, Kind.RESOLUTION, Kind.RETRACTION, Kind.COMMENT) and not done:
        kind = Kind.HELP_REQUEST
    at = T0 + draw(st.integers(0, 12)) * HOUR // 2  # few distinct times: ties happen
    key = draw(st.sampled_from(keys))
    refs: list[Envelope] = []
    body: Body
    if kind is Kind.ALERT:
        earlier = [e for e in done if e.kind is Kind.ALERT]
        if earlier and draw(st.integers(0, 2)):  # mostly an update
            refs = draw(
                st.lists(st.sampled_from(earlier), min_size=1, max_size=3, unique_by=lambda e: e.id)
            )
            key = _author(draw, keys, *(e.author for e in refs), refs[0].author)
        official = draw(st.integers(0, 5)) == 0
        body = Alert(
            headline="alerte",
            severity=draw(st.sampled_from(Severity)),
            exercise=draw(st.booleans()),
            all_clear=draw(st.integers(0, 4)) == 0,
            origin=AlertOrigin.OFFICIAL if official else AlertOrigin.COMMUNITY,
            official=_official() if official else None,
        )
    elif kind is Kind.HELP_REQUEST:
        body = HelpRequest(
            need=draw(st.sampled_from(REQUEST_NEEDS)),
            urgency=draw(st.sampled_from(RequestUrgency)),
        )
    elif kind is Kind.HELP_OFFER:
        body = HelpOffer(what=draw(st.sampled_from(Need)))
    elif kind is Kind.CLAIM:
        refs = [_target(draw, done, {Kind.HELP_REQUEST})]
        body = Claim()
    elif kind is Kind.RESOLUTION:
        refs = [_target(draw, done, {Kind.HELP_REQUEST, Kind.HELP_OFFER, Kind.INCIDENT})]
        claimers = [e.author for e in done if e.kind is Kind.CLAIM and refs[0].id in e.refs]
        key = _author(draw, keys, refs[0].author, *claimers)
        body = Resolution(outcome=draw(st.sampled_from(Outcome)))
    elif kind is Kind.CHECKIN:
        subject = draw(st.sampled_from(["self", "key", "name"]))
        body = CheckIn(
            status=draw(st.sampled_from(CheckInStatus)),
            subject_key=draw(st.sampled_from(PUBLIC)) if subject == "key" else None,
            subject_name=draw(st.sampled_from(NAMES)) if subject == "name" else "",
        )
    elif kind in (Kind.INCIDENT, Kind.RESOURCE_POINT):
        earlier = [e for e in done if e.kind is kind]
        if earlier and draw(st.booleans()):
            refs = [draw(st.sampled_from(earlier))]
            key = _author(draw, keys, refs[0].author, refs[0].author)
        if kind is Kind.INCIDENT:
            body = Incident(
                type=draw(st.sampled_from(IncidentType)),
                severity=draw(st.sampled_from(Severity)),
            )
        else:
            body = ResourcePoint(
                type=draw(st.sampled_from(ResourceType)),
                name=draw(st.sampled_from(["Gymnase", "Mairie"])),
                open=draw(st.booleans()),
            )
    elif kind is Kind.TIP:
        drill = draw(st.booleans())
        body = Tip(title="conseil", type=TipType.DRILL if drill else TipType.TIP)
    elif kind is Kind.RETRACTION:
        refs = [draw(st.sampled_from(done))]
        key = _author(draw, keys, refs[0].author, refs[0].author)
        body = Retraction()
    else:
        refs = [_target(draw, done, {Kind.HELP_REQUEST, Kind.HELP_OFFER, Kind.INCIDENT})]
        body = Comment(text="note")
    return seal(body, signing_key=key, created=at, zone=ZONE, refs=[e.id for e in refs])


@st.composite
def scenarios(draw: Draw) -> tuple[list[Envelope], int]:
    """A random message set from 3 or 4 keys, and a time to look at it."""
    keys = KEYS[: draw(st.integers(3, 4))]
    done: list[Envelope] = []
    for _ in range(draw(st.integers(0, 30))):
        done.append(_step(draw, done, keys))
    hours = draw(st.one_of(st.integers(0, 8), st.integers(0, 100)))
    return done, T0 + hours * HOUR + draw(st.sampled_from([0, 1, HOUR // 2]))


def _shuffled_with_duplicates(data: st.DataObject, messages: list[Envelope]) -> list[Envelope]:
    """The same set: some envelopes repeated (as the same or as separately decoded objects)."""
    extra: list[Envelope] = []
    if messages:
        extra = data.draw(st.lists(st.sampled_from(messages), max_size=len(messages)))
        extra = [decode(e.raw, verify=False) if i % 2 else e for i, e in enumerate(extra)]
    return list(data.draw(st.permutations(messages + extra)))


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(), data=st.data())
def test_board_ignores_order_and_duplicates(
    scenario: tuple[list[Envelope], int], data: st.DataObject
) -> None:
    messages, now = scenario
    expected = derive(messages, now=now, bridge_keys=BRIDGES)
    other = _shuffled_with_duplicates(data, messages)
    board = derive(other, now=now, bridge_keys=BRIDGES)
    assert board == expected
    assert derive(reversed(other), now=now, bridge_keys=BRIDGES) == expected

    since = T0 + data.draw(st.integers(0, 12)) * HOUR // 2
    silent = not_heard_from(expected, since=since)
    assert not_heard_from(board, since=since) == silent
    assert not_heard_from(other, since=since, now=now, bridge_keys=BRIDGES) == silent
    asked = [*PUBLIC, name_household(NAMES[0]), name_household("Nobody")]
    assert not_heard_from(board, since=since, households=reversed(asked)) == not_heard_from(
        expected, since=since, households=asked
    )


def _shown(board: Board) -> list[Envelope]:
    views: list[Any] = [
        *board.alerts,
        *board.requests,
        *board.offers,
        *board.checkins,
        *board.incidents,
        *board.resources,
        *board.tips,
    ]
    shown = [v.envelope for v in views]
    for r in board.requests:
        shown += [*r.claims, *r.comments]
    return shown


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios())
def test_board_invariants(scenario: tuple[list[Envelope], int]) -> None:
    messages, now = scenario
    board = derive(messages, now=now, bridge_keys=BRIDGES)
    assert all(now < env.expires for env in _shown(board))
    for r in board.requests:
        assert (r.status is RequestStatus.RESOLVED) == (r.resolution is not None)
        if r.status is RequestStatus.CLAIMED:
            assert r.claims
        if r.status is RequestStatus.OPEN:
            assert not r.claims
    households = [v.household for v in board.checkins]
    assert len(households) == len(set(households))
    assert set(households) - BRIDGES <= set(board.households)
    assert not BRIDGES & set(board.households)
