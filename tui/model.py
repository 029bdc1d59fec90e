"""What the app shows, computed from what the node says: pure functions, no Textual, no I/O.

The app keeps a copy of the zone's live messages (:class:`MessageSet`, filled by the
``messages`` operation and then by pushed ``message`` events), reads the node's ``status``
into :class:`NodeFacts`, and derives a :class:`Snapshot` from both with
:func:`protocol.state.derive`. Screens only ever read snapshots.

Fields the node does not report yet (radio link, airtime, bridge last seen, the relay roster,
the zone's charter) are ``None`` here and shown as "—" or left out; nothing is made up.
Verification levels come from :mod:`protocol.trust`: with the charter when the node reports
it, else from what needs none (official mirrors of the zone's bridges, corroborations).
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from protocol import kinds as k
from protocol import state
from protocol.charter import Charter, decode_charter
from protocol.envelope import Envelope, decode, lifetime_to_outlive
from protocol.errors import EntraideError
from protocol.state import Board, HouseholdKey, NotHeard, Overview, RequestView
from protocol.trust import Roles, VerificationState, derive_roles


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_household(text: str) -> HouseholdKey | None:
    """A household as the node writes it: 64 hex digits, or ``name:<normalised name>``."""
    if text.startswith("name:"):
        return ("name", state.normalise_name(text[5:]))
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) == 32 else None


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """The node's ``status`` answer, read defensively: every field may be missing."""

    household: bytes
    fingerprint: str
    zone_id: str
    zone_name: str
    now: int
    #: Whether the node runs Wi-Fi at all (``--offline`` nodes do not).
    wifi: bool
    peers: int | None = None
    last_sync: int | None = None
    #: Whether the node's LoRa radio is connected (None: the node has no radio).
    radio_connected: bool | None = None
    #: The radio's Meshtastic preset ("LONG_FAST"...), when it has one.
    radio_preset: str | None = None
    #: Share (0..1) of the radio's duty-cycle budget used over the rolling hour.
    airtime_used: float | None = None
    bridge_last_seen: int | None = None
    #: Households a relay checks on (the trust issue's roster), when the node has one.
    roster: tuple[HouseholdKey, ...] | None = None
    #: Keys the zone trusts for official alerts, when the node reports them.
    bridge_keys: frozenset[bytes] | None = None
    #: The zone's charter (founders, relays, bridges), when the node reports it.
    charter: Charter | None = None

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> NodeFacts:
        zone = _dict(status.get("zone"))
        wifi = status.get("wifi")
        peers = None
        if isinstance(wifi, dict) and isinstance(wifi.get("peers"), list):
            peers = len(wifi["peers"])
        radio = _dict(status.get("radio"))
        airtime = radio.get("airtime_used")
        roster = status.get("roster")
        bridge_keys = status.get("bridge_keys")
        household = status.get("household")
        return cls(
            charter=_charter(status.get("charter")),
            household=bytes.fromhex(household) if isinstance(household, str) else b"",
            fingerprint=str(status.get("fingerprint") or ""),
            zone_id=str(zone.get("id") or ""),
            zone_name=str(zone.get("name") or ""),
            now=_int_or_none(status.get("now")) or 0,
            wifi=isinstance(wifi, dict),
            peers=peers,
            last_sync=_int_or_none(_dict(status.get("sync")).get("last_done")),
            radio_connected=None if not radio else bool(_dict(radio.get("link")).get("connected")),
            radio_preset=radio.get("preset") if isinstance(radio.get("preset"), str) else None,
            airtime_used=float(airtime) if isinstance(airtime, (int, float)) else None,
            bridge_last_seen=_int_or_none(_dict(status.get("bridge")).get("last_seen")),
            roster=None
            if not isinstance(roster, list)
            else tuple(h for t in roster if isinstance(t, str) and (h := parse_household(t))),
            bridge_keys=None
            if not isinstance(bridge_keys, list)
            else frozenset(bytes.fromhex(b) for b in bridge_keys if isinstance(b, str)),
        )


def _charter(text: Any) -> Charter | None:
    """The zone's charter from its text form, if the node gives a valid one."""
    if not isinstance(text, str):
        return None
    try:
        return decode_charter(text).charter
    except (EntraideError, ValueError):
        return None


class MessageSet:
    """The zone's live messages as the app knows them, decoded once.

    The node verified every message before storing it, and it speaks only to its own user
    over a private socket, so signatures are not checked again here."""

    def __init__(self) -> None:
        self._by_id: dict[bytes, Envelope] = {}

    def reset(self, raws_b64: Iterable[str]) -> None:
        self._by_id = {}
        for raw in raws_b64:
            self.add(raw)

    def add(self, raw_b64: str) -> Envelope | None:
        """Add one message (base64, as the node sends it); None if it is not readable."""
        try:
            env = decode(base64.b64decode(raw_b64, validate=True), verify=False)
        except (EntraideError, binascii.Error, ValueError):
            return None
        self._by_id[env.id] = env
        return env

    def copy(self) -> MessageSet:
        """The same messages, in a set of their own (to derive from while this one grows)."""
        other = MessageSet()
        other._by_id = dict(self._by_id)
        return other

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Envelope]:
        return iter(self._by_id.values())

    def get(self, message_id: bytes) -> Envelope | None:
        return self._by_id.get(message_id)

    def drop_expired(self, now: int) -> None:
        self._by_id = {i: e for i, e in self._by_id.items() if now < e.expires}

    def last_seen(self, authors: frozenset[bytes]) -> int | None:
        """When the newest message by one of ``authors`` was created."""
        return max((e.created for e in self._by_id.values() if e.author in authors), default=None)

    def official_authors(self) -> frozenset[bytes]:
        """Authors of stored official alerts: the node accepted each from a zone bridge."""
        return frozenset(
            e.author
            for e in self._by_id.values()
            if e.kind is k.Kind.ALERT and getattr(e.body, "origin", None) is k.AlertOrigin.OFFICIAL
        )

    def citing(self, target: Envelope) -> list[Envelope]:
        """Messages that refer to ``target``, oldest first."""
        found = [e for e in self._by_id.values() if target.id in e.refs]
        return sorted(found, key=lambda e: (e.created, e.id))


@dataclass(frozen=True, slots=True)
class PlaceRollup:
    """Latest check-ins of the households reported at one place (a street, a block)."""

    place: str  # as first written; "" for check-ins that name no place
    safe: int = 0
    need_help: int = 0  # needs help or injured
    other: int = 0

    @property
    def total(self) -> int:
        return self.safe + self.need_help + self.other


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """Everything the screens show at one moment."""

    board: Board
    facts: NodeFacts
    messages: MessageSet = field(compare=False)
    overview: Overview
    #: Households without news since the latest real alert started (empty without one).
    not_heard: tuple[NotHeard, ...]
    #: Who holds which role in the zone now.
    roles: Roles = field(compare=False)
    #: The view of every alert, request, offer, incident and resource point, by id.
    views: Mapping[bytes, Any] = field(compare=False)

    @property
    def now(self) -> int:
        return self.board.now

    @property
    def me(self) -> bytes:
        return self.facts.household

    @property
    def my_checkin(self) -> state.CheckInView | None:
        return self.board.checkin_of(self.me)

    @property
    def i_mark(self) -> bool:
        """Whether my verdicts count: I am a relay or a coordinator of the zone."""
        return self.roles.has(self.me, k.Role.RELAY, k.Role.COORDINATOR)


def build_snapshot(messages: MessageSet, facts: NodeFacts, now: int) -> Snapshot:
    # Without the zone's bridge list from the node, trust the official alerts it stored: the
    # node only accepts one from a bridge of the zone.
    bridges = facts.bridge_keys if facts.bridge_keys is not None else messages.official_authors()
    roles = derive_roles(facts.charter, messages, now=now, bridge_keys=bridges)
    board = state.derive(messages, now=now, bridge_keys=bridges, trust=roles)
    summary = state.overview(board)
    not_heard = () if summary.since is None else state.not_heard_from(board, since=summary.since)
    if facts.bridge_last_seen is None and bridges:
        facts = replace(facts, bridge_last_seen=messages.last_seen(bridges))
    views: dict[bytes, Any] = {}
    for group in (board.alerts, board.requests, board.offers, board.incidents, board.resources):
        views.update((v.envelope.id, v) for v in group)
    return Snapshot(board, facts, messages, summary, not_heard, roles, views)


# --- views for the screens -----------------------------------------------------------------


def verification_of(view: object) -> VerificationState | None:
    """How far the trust model verified a report or request (None for what it does not
    verify, such as check-ins)."""
    state_ = getattr(getattr(view, "verification", None), "state", None)
    return state_ if isinstance(state_, VerificationState) else None


def filter_requests(
    board: Board,
    *,
    need: k.Need | None = None,
    min_urgency: k.RequestUrgency | None = None,
    mine: bytes | None = None,
    include_resolved: bool = True,
) -> list[RequestView]:
    """The requests a help board shows; ``mine``: those I made or hold a live claim on."""
    return [
        v
        for v in board.requests
        if (need is None or v.request.need is need)
        and (min_urgency is None or v.request.urgency >= min_urgency)
        and (mine is None or v.requester == mine or mine in v.claimers)
        and (include_resolved or v.status is not state.RequestStatus.RESOLVED)
    ]


def _place_key(place: str) -> str:
    return " ".join(unicodedata.normalize("NFC", place).split()).casefold()


_NEEDS_HELP = frozenset({k.CheckInStatus.NEED_HELP, k.CheckInStatus.INJURED})


def rollup_by_place(board: Board) -> list[PlaceRollup]:
    """Latest check-ins counted per place (street or block), busiest first; check-ins that
    name no place are counted last under ``""``."""
    names: dict[str, str] = {}
    counts: dict[str, list[int]] = {}
    for view in board.checkins:
        key = _place_key(view.checkin.place)
        names.setdefault(key, " ".join(view.checkin.place.split()))
        row = counts.setdefault(key, [0, 0, 0])
        if view.status is k.CheckInStatus.SAFE:
            row[0] += 1
        elif view.status in _NEEDS_HELP:
            row[1] += 1
        else:
            row[2] += 1
    out = [PlaceRollup(names[key], *row) for key, row in counts.items()]
    return sorted(out, key=lambda r: (r.place == "", -r.need_help, -r.total, _place_key(r.place)))


@dataclass(frozen=True, slots=True)
class Watched:
    """A household a relay checks on, with its latest news."""

    household: HouseholdKey
    latest: state.CheckInView | None
    name: str  # how the reporter wrote the name, for households without a node


def checked_on(board: Board, me: bytes, roster: Iterable[HouseholdKey] | None) -> list[Watched]:
    """The households I check on: the node's relay roster when it has one, else every
    household I reported on behalf of."""
    names: dict[HouseholdKey, str] = {}
    visited: dict[HouseholdKey, None] = {}
    for view in board.checkins:
        if view.on_behalf and view.reporter == me:
            visited[view.household] = None
        if view.checkin.subject_name:
            names.setdefault(view.household, view.checkin.subject_name)
    wanted = list(dict.fromkeys(roster)) if roster is not None else list(visited)
    return [Watched(h, board.checkin_of(h), names.get(h, "")) for h in wanted]


def subject_name(board: Board, household: HouseholdKey) -> str:
    """How a household known by name was written in its latest check-in."""
    view = board.checkin_of(household)
    if view is not None and view.checkin.subject_name:
        return view.checkin.subject_name
    return household[1] if isinstance(household, tuple) else ""


# --- what a post needs besides its body ---------------------------------------------------


def outliving_lifetime(kind: k.Kind, targets: Iterable[Envelope], now: int) -> int | None:
    """A lifetime that makes a new message of ``kind`` last as long as what it replaces or
    depends on (else the older one would come back once this one is pruned), as the
    command line does; None: the kind's default."""
    lifetimes = [lifetime_to_outlive(t, kind, now=now) for t in targets]
    return max(lifetimes) if lifetimes else None


def earlier_checkins(messages: MessageSet, household: HouseholdKey) -> list[Envelope]:
    return [e for e in messages if e.kind is k.Kind.CHECKIN and state.household_of(e) == household]


def may_resolve(messages: MessageSet, target: Envelope, me: bytes) -> bool:
    """Whether my resolution of ``target`` would count (its author, or one of its claimers)."""
    related = messages.citing(target)
    related += [r for c in related if c.kind is k.Kind.CLAIM for r in messages.citing(c)]
    return state.may_resolve(target, related, me)
