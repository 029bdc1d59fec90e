"""The board: what the neighbourhood knows right now, derived from the set of messages.

Every function here is a pure function of a *set* of accepted envelopes and the time ``now``
(unix seconds, a parameter: nothing here reads a clock). Arrival order and duplicates never
matter: envelopes are deduplicated by id and every list is sorted with a total order that
ends on the id. Expired messages may be passed in; they are filtered here.

Rules (SPEC.md, one section per kind):

- **Live**: a message is live while ``now < envelope.expires``.
- **Retraction** (refs = [target]): hides the target if both have the same author, whatever
  the kinds; a retraction by anyone else is ignored. A retraction takes effect even once it
  has itself expired (withdrawing is final), and a retraction cannot be retracted.
- **Alerts**: an alert citing an earlier alert *of the same author* supersedes it for good
  (even if the newer one later expires or is retracted); citations of another author's alert
  are ignored. An official mirror is shown only if its author is a bridge key of the zone
  *now*. Active = live, not superseded, not retracted. ``started`` is the creation time of
  the oldest alert the chain supersedes: when this emergency began.
- **Help requests** (live, not retracted) are ``resolved`` if a non-retracted RESOLUTION
  cites them, authored by the requester or by anyone who ever claimed them (even a lapsed
  claim, but not a retracted one); the latest such resolution, by (created, id), is the one
  shown. Otherwise ``claimed`` if a non-retracted CLAIM citing them still *holds* them: until
  ``created + eta_minutes + CLAIM_HOLD`` (4 h), and while the claim is live (claims lapse);
  otherwise ``open``. A claim message lives as long as its request, so the claimer's right to
  resolve survives pruning.
- **Help offers**: live, not retracted, not resolved by their author.
- **Incidents** and **resource points**: an envelope of the same kind and author citing an
  earlier one replaces it for good; only the latest versions (the heads) are shown, if live
  and not retracted. An incident is closed by a RESOLUTION of its author citing any version
  of it, unless a newer version was created after that resolution.
  Closed resource points stay listed (``open`` is False).
- **Comments** (live, not retracted) are attached to the request, offer or incident they cite
  (for an incident, to any version of its chain), ordered by (created, id).
- **Check-ins**: one household is ``subject_key`` if set, else the normalised
  ``subject_name`` if given (NFC, trimmed, inner white space collapsed, casefolded), else the
  author. The latest non-retracted check-in of each household, by (created, id), is the one
  shown, while it is live: an older report never comes back when a newer one expires.
- **Households** known to the board: every author of any message, every subject key and every
  subject name of a non-retracted check-in, expired or not; bridge keys are never households.
- **Handsets**: a message with ``via`` was typed on a plain handset and signed by its author
  as a witness (SPEC.md 7.1); every rule above applies to the witness, the author.
- **Trust** (SPEC.md 11a): with ``trust``, the zone's roles at ``now``
  (:func:`protocol.trust.derive_roles`), bridges are also the keys it gives that role. Every
  alert, request, offer, incident and resource point view has a ``verification``
  (:func:`protocol.trust.verify`: official, confirmed, corroborated, unverified, or marked
  false). Marked-false ones stay listed, last in their list; they are never the latest
  alert and not counted in the overview.
"""

from __future__ import annotations

import enum
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypeVar

from .envelope import Envelope
from .errors import UsageError
from .kinds import (
    CLAIM_HOLD,
    Alert,
    AlertOrigin,
    CheckIn,
    CheckInStatus,
    Claim,
    Handset,
    HelpOffer,
    HelpRequest,
    Incident,
    Kind,
    Need,
    Outcome,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    Tip,
    TipType,
)
from .trust import UNVERIFIED, Roles, Verification, verify

__all__ = [
    "AlertView",
    "Board",
    "CheckInView",
    "HouseholdKey",
    "IncidentView",
    "NotHeard",
    "OfferView",
    "Overview",
    "RequestStatus",
    "RequestView",
    "ResourceView",
    "TipView",
    "claimed_by",
    "derive",
    "household_key",
    "household_of",
    "latest_alert",
    "may_resolve",
    "name_household",
    "normalise_name",
    "not_heard_from",
    "overview",
    "requested_by",
    "requests_for_need",
    "requests_with_urgency",
    "via_handset",
]

#: A household: its member's public key, or ``("name", normalised name)`` for a household
#: without a node that a neighbour reports on.
HouseholdKey: TypeAlias = bytes | tuple[Literal["name"], str]

_B = TypeVar("_B")


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


_STATUS_RANK = {RequestStatus.OPEN: 0, RequestStatus.CLAIMED: 1, RequestStatus.RESOLVED: 2}


@dataclass(frozen=True, slots=True)
class AlertView:
    envelope: Envelope
    #: Creation time of the oldest alert this one supersedes, directly or not (else its own).
    started: int
    verification: Verification = UNVERIFIED

    @property
    def alert(self) -> Alert:
        return _body(self.envelope, Alert)

    @property
    def exercise(self) -> bool:
        return self.alert.exercise

    @property
    def all_clear(self) -> bool:
        return self.alert.all_clear

    @property
    def official(self) -> bool:
        return self.alert.origin is AlertOrigin.OFFICIAL


@dataclass(frozen=True, slots=True)
class RequestView:
    envelope: Envelope
    status: RequestStatus
    #: Live, non-retracted claims, by (created, id).
    claims: tuple[Envelope, ...]
    #: The resolution that counts, when ``status`` is resolved.
    resolution: Envelope | None
    comments: tuple[Envelope, ...]
    verification: Verification = UNVERIFIED

    @property
    def request(self) -> HelpRequest:
        return _body(self.envelope, HelpRequest)

    @property
    def requester(self) -> bytes:
        return self.envelope.author

    @property
    def claimers(self) -> tuple[bytes, ...]:
        """Keys with a live claim, each once, first claim first."""
        return tuple(dict.fromkeys(c.author for c in self.claims))

    @property
    def outcome(self) -> Outcome | None:
        return None if self.resolution is None else _body(self.resolution, Resolution).outcome

    @property
    def resolved_by(self) -> bytes | None:
        return None if self.resolution is None else self.resolution.author

    @property
    def via_handset(self) -> Handset | None:
        """The handset the request was typed on; ``requester`` is then the witness."""
        return self.request.via


@dataclass(frozen=True, slots=True)
class OfferView:
    envelope: Envelope
    comments: tuple[Envelope, ...]
    verification: Verification = UNVERIFIED

    @property
    def offer(self) -> HelpOffer:
        return _body(self.envelope, HelpOffer)


@dataclass(frozen=True, slots=True)
class CheckInView:
    envelope: Envelope
    household: HouseholdKey
    #: Reported by someone else than the household itself (a neighbour's visit).
    on_behalf: bool

    @property
    def checkin(self) -> CheckIn:
        return _body(self.envelope, CheckIn)

    @property
    def status(self) -> CheckInStatus:
        return self.checkin.status

    @property
    def reporter(self) -> bytes:
        return self.envelope.author

    @property
    def via_handset(self) -> Handset | None:
        """The handset the check-in came from; ``reporter`` is then the witness."""
        return self.checkin.via


@dataclass(frozen=True, slots=True)
class IncidentView:
    envelope: Envelope  # the latest version
    #: Creation time of the first report of this incident (the root of its chain).
    first_reported: int
    comments: tuple[Envelope, ...]  # on any version
    verification: Verification = UNVERIFIED  # of this version

    @property
    def incident(self) -> Incident:
        return _body(self.envelope, Incident)


@dataclass(frozen=True, slots=True)
class ResourceView:
    envelope: Envelope  # the latest version
    verification: Verification = UNVERIFIED  # of this version

    @property
    def resource(self) -> ResourcePoint:
        return _body(self.envelope, ResourcePoint)

    @property
    def open(self) -> bool:
        return self.resource.open


@dataclass(frozen=True, slots=True)
class TipView:
    envelope: Envelope

    @property
    def tip(self) -> Tip:
        return _body(self.envelope, Tip)

    @property
    def drill(self) -> bool:
        return self.tip.type is TipType.DRILL


@dataclass(frozen=True, slots=True)
class Board:
    """Everything a UI shows, at time ``now``; every tuple in a deterministic order."""

    now: int
    #: Real before exercise, then severity (highest first), newest first, id.
    alerts: tuple[AlertView, ...]
    #: Open, claimed, resolved; then urgency (highest first), oldest first, id.
    requests: tuple[RequestView, ...]
    #: Newest first, id.
    offers: tuple[OfferView, ...]
    #: The latest check-in of each household; newest first, id.
    checkins: tuple[CheckInView, ...]
    #: Severity (highest first), newest first, id.
    incidents: tuple[IncidentView, ...]
    #: Open before closed, then type, name, newest first, id.
    resources: tuple[ResourceView, ...]
    #: Drill notices first, then newest first, id.
    tips: tuple[TipView, ...]
    #: Every household the message set knows of, sorted (keys, then names).
    households: tuple[HouseholdKey, ...]

    def checkin_of(self, household: HouseholdKey) -> CheckInView | None:
        """The latest live check-in of ``household``, if any."""
        for view in self.checkins:
            if view.household == household:
                return view
        return None


@dataclass(frozen=True, slots=True)
class NotHeard:
    household: HouseholdKey
    #: Its latest live check-in (older than ``since``), or None if there is none.
    latest: CheckInView | None


@dataclass(frozen=True, slots=True)
class Overview:
    open_requests: int
    claimed_requests: int
    #: Households not heard from since ``since``; 0 when there is no real alert.
    not_heard_from: int
    #: When the latest active real (non-exercise) alert's emergency started, if any.
    since: int | None


# --- helpers ---------------------------------------------------------------------------


def via_handset(env: Envelope) -> Handset | None:
    """The handset a message was typed on, if its author signed it as a witness (any kind)."""
    via = getattr(env.body, "via", None)
    return via if isinstance(via, Handset) else None


def _body(env: Envelope, cls: type[_B]) -> _B:
    body = env.body
    assert isinstance(body, cls), f"{env!r} is not a {cls.__name__}"
    return body


def _order(env: Envelope) -> tuple[int, bytes]:
    return (env.created, env.id)


def _newest_first(env: Envelope) -> tuple[int, bytes]:
    return (-env.created, env.id)


def normalise_name(name: str) -> str:
    """A household name as compared: NFC, trimmed, inner spaces collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def name_household(name: str) -> HouseholdKey:
    """The household key of a household known only by its name."""
    return ("name", normalise_name(name))


def household_of(env: Envelope) -> HouseholdKey:
    """The household a check-in reports on."""
    return household_key(_body(env, CheckIn), env.author)


def household_key(body: CheckIn, author: bytes) -> HouseholdKey:
    """The household a check-in body by ``author`` reports on: the visited household's key,
    else its name, else the author's own household."""
    if body.subject_key is not None:
        return body.subject_key
    name = normalise_name(body.subject_name)
    if name:
        return ("name", name)
    return author


def _household_order(household: HouseholdKey) -> tuple[int, bytes, str]:
    if isinstance(household, bytes):
        return (0, household, "")
    return (1, b"", household[1])


# --- derivation ------------------------------------------------------------------------


class _Index:
    """The deduplicated message set, sorted by (created, id), with its lookup tables."""

    def __init__(
        self, messages: Iterable[Envelope], now: int, roles: Roles | None = None
    ) -> None:
        self.roles = Roles.without_charter() if roles is None else roles
        # One envelope per id. Two copies can differ only in their signature (an author who
        # signed the same bytes twice with a non-deterministic signer): keep the smallest, so
        # that the result never depends on which copy came first.
        unique: dict[bytes, Envelope] = {}
        for env in messages:
            kept = unique.get(env.id)
            if kept is None or env.raw < kept.raw:
                unique[env.id] = env
        self.now = now
        self.all = sorted(unique.values(), key=_order)
        self.by_id = unique
        self.by_kind: dict[Kind, list[Envelope]] = defaultdict(list)
        self.citing: dict[tuple[Kind, bytes], list[Envelope]] = defaultdict(list)
        for env in self.all:
            self.by_kind[env.kind].append(env)
            for ref in env.refs:
                self.citing[(env.kind, ref)].append(env)
        self.retracted = frozenset(
            target.id
            for r in self.by_kind[Kind.RETRACTION]
            if (target := unique.get(r.refs[0])) is not None
            and target.author == r.author
            and target.kind is not Kind.RETRACTION
        )

    def live(self, env: Envelope) -> bool:
        return self.now < env.expires

    def shown(self, env: Envelope) -> bool:
        return self.live(env) and env.id not in self.retracted

    def cited_by(self, kind: Kind, target: Envelope) -> list[Envelope]:
        """Non-retracted envelopes of ``kind`` citing ``target``, by (created, id)."""
        return [e for e in self.citing[(kind, target.id)] if e.id not in self.retracted]

    def same_author_parents(self, env: Envelope) -> list[Envelope]:
        """The envelopes of its kind and author that ``env`` supersedes or replaces."""
        found = (self.by_id.get(ref) for ref in env.refs)
        return [p for p in found if p is not None and p.kind is env.kind and p.author == env.author]

    def replaced(self, kind: Kind) -> frozenset[bytes]:
        return frozenset(p.id for env in self.by_kind[kind] for p in self.same_author_parents(env))

    def ancestors(self, env: Envelope) -> list[Envelope]:
        """``env`` and everything it supersedes, directly or not."""
        seen = {env.id: env}
        stack = [env]
        while stack:
            for parent in self.same_author_parents(stack.pop()):
                if parent.id not in seen:
                    seen[parent.id] = parent
                    stack.append(parent)
        return list(seen.values())

    def verification(self, env: Envelope) -> Verification:
        marks, seen = self.cited_by(Kind.MARK, env), self.cited_by(Kind.CORROBORATION, env)
        return verify(env, marks, seen, self.roles)

    def comments_on(self, *targets: Envelope) -> tuple[Envelope, ...]:
        found = {c.id: c for t in targets for c in self.cited_by(Kind.COMMENT, t) if self.live(c)}
        return tuple(sorted(found.values(), key=_order))


def _alerts(ix: _Index, bridge_keys: frozenset[bytes]) -> tuple[AlertView, ...]:
    superseded = ix.replaced(Kind.ALERT)
    views = [
        AlertView(env, min(a.created for a in ix.ancestors(env)), ix.verification(env))
        for env in ix.by_kind[Kind.ALERT]
        if ix.shown(env)
        and env.id not in superseded
        and (_body(env, Alert).origin is not AlertOrigin.OFFICIAL or env.author in bridge_keys)
    ]
    return tuple(
        sorted(
            views,
            key=lambda v: (
                v.verification.marked_false,
                v.exercise,
                -v.alert.severity,
                *_newest_first(v.envelope),
            ),
        )
    )


def _holds(claim: Envelope, now: int) -> bool:
    """Whether a claim still holds its request at ``now`` (it lapses after eta + 4 h)."""
    body = _body(claim, Claim)
    return now < min(claim.expires, claim.created + 60 * (body.eta_minutes + CLAIM_HOLD))


def _entitled(ix: _Index, env: Envelope) -> frozenset[bytes]:
    """Whose resolution closes ``env``: its author's; for a help request, also the claimers'."""
    if env.kind is Kind.HELP_REQUEST:
        return frozenset({env.author, *(c.author for c in ix.cited_by(Kind.CLAIM, env))})
    return frozenset({env.author})


def may_resolve(target: Envelope, related: Iterable[Envelope], key: bytes) -> bool:
    """Whether a resolution of ``target`` by ``key`` would count, given the messages that cite
    ``target`` and those that cite them (claims and their retractions)."""
    return key in _entitled(_Index([target, *related], now=0), target)


def _request(ix: _Index, env: Envelope) -> RequestView:
    all_claims = ix.cited_by(Kind.CLAIM, env)
    entitled = _entitled(ix, env)
    resolutions = [r for r in ix.cited_by(Kind.RESOLUTION, env) if r.author in entitled]
    claims = tuple(c for c in all_claims if _holds(c, ix.now))
    resolution = resolutions[-1] if resolutions else None
    if resolution is not None:
        status = RequestStatus.RESOLVED
    elif claims:
        status = RequestStatus.CLAIMED
    else:
        status = RequestStatus.OPEN
    return RequestView(
        env, status, claims, resolution, ix.comments_on(env), ix.verification(env)
    )


def _requests(ix: _Index) -> tuple[RequestView, ...]:
    views = [_request(ix, env) for env in ix.by_kind[Kind.HELP_REQUEST] if ix.shown(env)]
    return tuple(
        sorted(
            views,
            key=lambda v: (
                v.verification.marked_false,
                _STATUS_RANK[v.status],
                -v.request.urgency,
                *_order(v.envelope),
            ),
        )
    )


def _resolved_by_author(ix: _Index, env: Envelope) -> bool:
    entitled = _entitled(ix, env)
    return any(r.author in entitled for r in ix.cited_by(Kind.RESOLUTION, env))


def _offers(ix: _Index) -> tuple[OfferView, ...]:
    views = [
        OfferView(env, ix.comments_on(env), ix.verification(env))
        for env in ix.by_kind[Kind.HELP_OFFER]
        if ix.shown(env) and not _resolved_by_author(ix, env)
    ]
    return tuple(
        sorted(views, key=lambda v: (v.verification.marked_false, *_newest_first(v.envelope)))
    )


def _checkins(ix: _Index) -> tuple[CheckInView, ...]:
    latest: dict[HouseholdKey, Envelope] = {}
    for env in ix.by_kind[Kind.CHECKIN]:  # by (created, id): the last one wins
        if env.id not in ix.retracted:
            latest[household_of(env)] = env
    # A newer report replaces older ones even once it expired: never fall back to an older one.
    views = [CheckInView(env, hh, hh != env.author) for hh, env in latest.items() if ix.live(env)]
    return tuple(sorted(views, key=lambda v: _newest_first(v.envelope)))


def _heads(ix: _Index, kind: Kind) -> list[Envelope]:
    replaced = ix.replaced(kind)
    return [env for env in ix.by_kind[kind] if env.id not in replaced and ix.shown(env)]


def _incidents(ix: _Index) -> tuple[IncidentView, ...]:
    views = []
    for head in _heads(ix, Kind.INCIDENT):
        chain = ix.ancestors(head)
        # Closed by its author's resolution of any version, unless an update came after it.
        if any(
            r.created >= head.created
            for v in chain
            for r in ix.cited_by(Kind.RESOLUTION, v)
            if r.author == head.author
        ):
            continue
        first = min(e.created for e in chain)
        views.append(IncidentView(head, first, ix.comments_on(*chain), ix.verification(head)))
    return tuple(
        sorted(
            views,
            key=lambda v: (
                v.verification.marked_false,
                -v.incident.severity,
                *_newest_first(v.envelope),
            ),
        )
    )


def _resources(ix: _Index) -> tuple[ResourceView, ...]:
    views = [ResourceView(env, ix.verification(env)) for env in _heads(ix, Kind.RESOURCE_POINT)]
    return tuple(
        sorted(
            views,
            key=lambda v: (
                v.verification.marked_false,
                not v.open,
                v.resource.type,
                normalise_name(v.resource.name),
                *_newest_first(v.envelope),
            ),
        )
    )


def _tips(ix: _Index) -> tuple[TipView, ...]:
    views = [TipView(env) for env in ix.by_kind[Kind.TIP] if ix.shown(env)]
    return tuple(sorted(views, key=lambda v: (not v.drill, *_newest_first(v.envelope))))


def _households(ix: _Index, bridge_keys: frozenset[bytes]) -> tuple[HouseholdKey, ...]:
    found: set[HouseholdKey] = {env.author for env in ix.all}
    found.update(
        household_of(env) for env in ix.by_kind[Kind.CHECKIN] if env.id not in ix.retracted
    )
    return tuple(sorted(found - bridge_keys, key=_household_order))


def derive(
    messages: Iterable[Envelope],
    *,
    now: int,
    bridge_keys: frozenset[bytes] = frozenset(),
    trust: Roles | None = None,
) -> Board:
    """The board at ``now`` for a set of accepted envelopes (any order, duplicates allowed).

    ``bridge_keys`` are the keys the zone trusts *now* to mirror official alerts; ``trust``
    the zone's roles at ``now`` (its bridges are added), None for a zone without a charter.
    """
    ix = _Index(messages, now, trust)
    bridge_keys = frozenset(bridge_keys) | ix.roles.bridges
    return Board(
        now=now,
        alerts=_alerts(ix, bridge_keys),
        requests=_requests(ix),
        offers=_offers(ix),
        checkins=_checkins(ix),
        incidents=_incidents(ix),
        resources=_resources(ix),
        tips=_tips(ix),
        households=_households(ix, bridge_keys),
    )


# --- queries ---------------------------------------------------------------------------


def latest_alert(board: Board, *, exercise: bool = False) -> AlertView | None:
    """The most recently created active alert; exercises only if ``exercise`` is True."""
    candidates = [
        v
        for v in board.alerts
        if (exercise or not v.exercise) and not v.verification.marked_false
    ]
    return min(candidates, key=lambda v: _newest_first(v.envelope), default=None)


def not_heard_from(
    source: Board | Iterable[Envelope],
    *,
    since: int,
    households: Iterable[HouseholdKey] | None = None,
    now: int | None = None,
    bridge_keys: frozenset[bytes] = frozenset(),
) -> tuple[NotHeard, ...]:
    """Households with no live check-in created at or after ``since``, sorted.

    ``source`` is a board, or envelopes (then ``now`` is required and ``bridge_keys``
    excludes the bridges from the known households). ``households`` defaults to every
    household the set knows of (see :attr:`Board.households`).
    """
    if isinstance(source, Board):
        board = source
    else:
        if now is None:
            raise UsageError("not_heard_from: the time `now` is needed to read messages")
        board = derive(source, now=now, bridge_keys=bridge_keys)
    latest = {view.household: view for view in board.checkins}
    wanted = board.households if households is None else households
    out = []
    for household in sorted(set(wanted), key=_household_order):
        view = latest.get(household)
        if view is None or view.envelope.created < since:
            out.append(NotHeard(household, view))
    return tuple(out)


def overview(board: Board) -> Overview:
    """Counts for a summary line: requests waiting, and who to check on."""
    alert = latest_alert(board)
    silent = 0 if alert is None else len(not_heard_from(board, since=alert.started))
    return Overview(
        open_requests=sum(_counted(v, RequestStatus.OPEN) for v in board.requests),
        claimed_requests=sum(_counted(v, RequestStatus.CLAIMED) for v in board.requests),
        not_heard_from=silent,
        since=None if alert is None else alert.started,
    )


def _counted(view: RequestView, status: RequestStatus) -> bool:
    return view.status is status and not view.verification.marked_false


def requests_for_need(board: Board, need: Need) -> tuple[RequestView, ...]:
    return tuple(v for v in board.requests if v.request.need is need)


def requests_with_urgency(board: Board, minimum: RequestUrgency) -> tuple[RequestView, ...]:
    """Requests at least as urgent as ``minimum``."""
    return tuple(v for v in board.requests if v.request.urgency >= minimum)


def claimed_by(board: Board, key: bytes) -> tuple[RequestView, ...]:
    """Requests ``key`` currently holds a live claim on and that are not resolved yet."""
    return tuple(
        v for v in board.requests if v.status is RequestStatus.CLAIMED and key in v.claimers
    )


def requested_by(board: Board, key: bytes) -> tuple[RequestView, ...]:
    """Every request ``key`` made that is still on the board, whatever its status."""
    return tuple(v for v in board.requests if v.requester == key)
