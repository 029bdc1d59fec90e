"""The situation report: what the zone knows now, for the mayor and the emergency services.

:func:`build_situation` derives it from the node's live messages (the same board every
household sees, :func:`protocol.state.derive`) at the node's time:

- the active alerts (official mirrors first);
- open and claimed help requests, the most urgent first;
- households not heard from since the alert started (since the latest real alert's start,
  or since a time the caller gives);
- vulnerable neighbours not yet visited: the check-on-me roster entries that escalate
  (:func:`protocol.roster.escalations`), which only a relay's node can read; other nodes say
  so instead of listing nothing;
- incidents, and resource points (open ones first).

Every item keeps its message id, so that a reader can ask any node for the message itself.
Text stays text: the formats escape it (HTML) or quote it (CSV).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import nacl.signing

from protocol import kinds as k
from protocol import state
from protocol.envelope import Envelope
from protocol.roster import EscalationReason, escalations, read_roster
from protocol.schema import Point
from protocol.trust import Roles, derive_roles

from ..render import request_status

__all__ = ["Item", "Situation", "build_situation"]


@dataclass(frozen=True)
class Item:
    """One line of the report, in a shape every format can use."""

    section: str  # "alert", "request", "silent", "vulnerable", "incident", "resource"
    id: str  # message id (hex), or the household's key / name
    created: int
    title: str  # what it is, in the report's language
    detail: str = ""  # free text as written by its author
    place: str = ""
    point: Point | None = None
    status: str = ""
    level: str = ""  # urgency or severity label
    people: int = 0
    vulnerable: bool = False
    official: bool = False
    exercise: bool = False


@dataclass
class Situation:
    zone_name: str
    zone_id: str
    now: int
    #: The start of the emergency the report counts from (None: no real alert, no --since).
    since: int | None
    signer_key: bytes
    signer_fingerprint: str
    lang: str
    alerts: list[Item] = field(default_factory=list)
    requests: list[Item] = field(default_factory=list)
    silent: list[Item] = field(default_factory=list)
    vulnerable: list[Item] = field(default_factory=list)
    #: False when this node cannot read the roster (it is not a relay of the zone).
    roster_readable: bool = False
    incidents: list[Item] = field(default_factory=list)
    resources: list[Item] = field(default_factory=list)
    #: Latest check-in of each household, counted by status label.
    checkins: Counter[str] = field(default_factory=Counter)

    def items(self) -> list[Item]:
        return [
            *self.alerts,
            *self.requests,
            *self.silent,
            *self.vulnerable,
            *self.incidents,
            *self.resources,
        ]


def _household_id(household: state.HouseholdKey) -> str:
    return household.hex() if isinstance(household, bytes) else f"name:{household[1]}"


def build_situation(
    messages: Sequence[Envelope],
    *,
    now: int,
    zone_name: str,
    zone_id: bytes,
    bridge_keys: frozenset[bytes],
    signing_key: nacl.signing.SigningKey,
    fingerprint: str,
    lang: str,
    since: int | None = None,
    roles: Roles | None = None,
) -> Situation:
    from protocol.i18n import label, tr  # the report speaks the reader's language

    if roles is None:  # a zone without a charter: roles from the vouches among messages
        roles = derive_roles(None, messages, now=now, bridge_keys=bridge_keys)
    board = state.derive(messages, now=now, bridge_keys=bridge_keys, trust=roles)
    alert = state.latest_alert(board)
    start = since if since is not None else (None if alert is None else alert.started)
    me = bytes(signing_key.verify_key)
    situation = Situation(
        zone_name=zone_name,
        zone_id=zone_id.hex(),
        now=now,
        since=start,
        signer_key=me,
        signer_fingerprint=fingerprint,
        lang=lang,
    )
    for view in board.alerts:
        body = view.alert
        situation.alerts.append(
            Item(
                "alert",
                view.envelope.id.hex(),
                view.envelope.created,
                body.headline,
                body.instruction,
                place=body.area,
                status=tr("all clear", lang) if body.all_clear else "",
                level=label(body.severity, lang),
                official=view.official,
                exercise=view.exercise,
            )
        )
    open_requests = [r for r in board.requests if r.status is not state.RequestStatus.RESOLVED]
    for req_view in sorted(
        open_requests, key=lambda v: (-v.request.urgency, v.envelope.created, v.envelope.id)
    ):
        req = req_view.request
        situation.requests.append(
            Item(
                "request",
                req_view.envelope.id.hex(),
                req_view.envelope.created,
                label(req.need, lang),
                req.text,
                place=req.place,
                point=req.point,
                status=request_status(req_view.status, lang),
                level=label(req.urgency, lang),
                people=req.people,
                vulnerable=req.vulnerable,
            )
        )
    if start is not None:
        for quiet in state.not_heard_from(board, since=start):
            latest = quiet.latest
            situation.silent.append(
                Item(
                    "silent",
                    _household_id(quiet.household),
                    0 if latest is None else latest.envelope.created,
                    _household_title(quiet.household),
                    status="" if latest is None else label(latest.status, lang),
                    place="" if latest is None else latest.checkin.place,
                )
            )
    roster = read_roster(messages, signing_key, now=now)
    situation.roster_readable = bool(roster) or roles.has(me, k.Role.RELAY, k.Role.COORDINATOR)
    for due in escalations(roster, board, roles, since=start, now=now):
        details = due.item.details
        reason = {
            EscalationReason.SILENT: tr("no news since the alert", lang),
            EscalationReason.NEEDS_HELP: tr("asked for help", lang),
            EscalationReason.NOBODY_HOME: tr("nobody home at the last visit", lang),
        }[due.reason]
        situation.vulnerable.append(
            Item(
                "vulnerable",
                _household_id(due.item.household),
                due.due,
                details.name or _household_title(due.item.household),
                details.needs,
                place=details.address,
                status=reason,
                vulnerable=True,
            )
        )
    for inc_view in board.incidents:
        inc = inc_view.incident
        situation.incidents.append(
            Item(
                "incident",
                inc_view.envelope.id.hex(),
                inc_view.first_reported,
                label(inc.type, lang),
                inc.text,
                place=inc.place,
                point=inc.point,
                level=label(inc.severity, lang),
            )
        )
    for res_view in board.resources:
        res = res_view.resource
        situation.resources.append(
            Item(
                "resource",
                res_view.envelope.id.hex(),
                res_view.envelope.created,
                res.name,
                res.text,
                place=res.hours,
                point=res.point,
                status=tr("open", lang) if res.open else tr("closed", lang),
                level=label(res.type, lang),
            )
        )
    situation.checkins = Counter(label(v.status, lang) for v in board.checkins)
    return situation


def _household_title(household: state.HouseholdKey) -> str:
    if isinstance(household, bytes):
        return household[:4].hex()
    return household[1]
