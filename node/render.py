"""Text rendering of identities, messages and the board for the CLI (French or English)."""

from __future__ import annotations

import dataclasses
import enum
import shlex
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from protocol import kinds as k
from protocol import state
from protocol.charter import SignedCharter
from protocol.envelope import Envelope, short_id
from protocol.i18n import label, tr
from protocol.jsonview import envelope_to_json
from protocol.schema import Point
from protocol.trust import Roles, Verification, VerificationState, describe

from .config import Config
from .identity import Identity

SECTIONS = ("alerts", "help", "checkins", "incidents", "resources", "tips")


def duration(minutes: int, lang: str) -> str:
    """A length of time given in minutes, in its largest whole unit ("3 days", "4 h")."""
    if minutes >= 2 * 1440 and minutes % 1440 == 0:
        return tr("{n} days", lang, n=minutes // 1440)
    if minutes >= 60 and minutes % 60 == 0:
        return tr("{n} h", lang, n=minutes // 60)
    return tr("{n} min", lang, n=minutes)


def ago(ts: int, now: int, lang: str) -> str:
    """How long ago (or how far ahead) ``ts`` is: "now", "5 min ago", "in 3 h"."""
    delta = now - ts
    if abs(delta) < 60:
        return tr("now", lang)
    if abs(delta) < 3600:
        rel = tr("{n} min", lang, n=abs(delta) // 60)
    elif abs(delta) < 172800:
        rel = tr("{n} h", lang, n=abs(delta) // 3600)
    else:
        rel = tr("{n} days", lang, n=abs(delta) // 86400)
    return tr("{rel} ago", lang, rel=rel) if delta > 0 else tr("in {rel}", lang, rel=rel)


def when(ts: int, now: int, lang: str) -> str:
    """Local time, with how long ago (or how far ahead) it is."""
    moment = datetime.fromtimestamp(ts).strftime("%d/%m %H:%M")
    return f"{moment} ({ago(ts, now, lang)})"


def who(key: bytes) -> str:
    return key[:4].hex()


def whoami(
    identity: Identity,
    config: Config,
    home: Path,
    lang: str,
    charter: SignedCharter | None = None,
) -> str:
    zone = config.zone
    if charter is not None:  # a neighbour joins with the charter, its fingerprint compared
        return "\n".join(
            [
                tr("Household key:   {key}", lang, key=identity.public_key.hex()),
                tr("Fingerprint:     {fingerprint}", lang, fingerprint=identity.fingerprint),
                tr(
                    "Aid zone:        {name} ({zone_id})",
                    lang,
                    name=zone.name,
                    zone_id=zone.zone_id.hex(),
                ),
                tr(
                    "Zone charter:    fingerprint {fingerprint}",
                    lang,
                    fingerprint=charter.charter.fingerprint,
                ),
                tr("Node directory:  {home}", lang, home=str(home)),
                "",
                tr(
                    "A neighbour joins this zone with the charter (entraide charter show gives "
                    "its text, for a QR code), comparing its fingerprint aloud:",
                    lang,
                ),
                "  entraide init --charter ENTRAIDE-ZONE1:…",
            ]
        )
    lines = [
        tr("Household key:   {key}", lang, key=identity.public_key.hex()),
        tr("Fingerprint:     {fingerprint}", lang, fingerprint=identity.fingerprint),
        tr("Aid zone:        {name} ({zone_id})", lang, name=zone.name, zone_id=zone.zone_id.hex()),
        tr("Trusted bridges: {count}", lang, count=len(zone.bridge_keys)),
        tr("Node directory:  {home}", lang, home=str(home)),
        "",
        tr("A neighbour joins this zone with:", lang),
        f"  entraide init --zone-id {zone.zone_id.hex()} --zone-name {shlex.quote(zone.name)}",
    ]
    return "\n".join(lines)


_TIME_FIELDS = frozenset({"drill_start", "drill_end"})


def _field_text(name: str, value: Any, now: int, lang: str) -> str:
    if isinstance(value, enum.IntEnum):
        return label(value, lang)
    if isinstance(value, bool):
        return tr("yes", lang) if value else tr("no", lang)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Point):
        return str(value)
    if name in _TIME_FIELDS and isinstance(value, int):
        return when(value, now, lang)
    if name in ("eta_minutes", "check_after") and isinstance(value, int):
        return duration(value, lang)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ", ".join(
            f"{f.name}={_field_text(f.name, getattr(value, f.name), now, lang)}"
            for f in dataclasses.fields(value)
        )
    return str(value)


def field_label(name: str, lang: str) -> str:
    """The label of a body field, by its name in protocol.kinds."""
    labels = {
        "headline": tr("headline", lang),
        "severity": tr("severity", lang),
        "urgency": tr("urgency", lang),
        "certainty": tr("certainty", lang),
        "category": tr("category", lang),
        "instruction": tr("instruction", lang),
        "area": tr("area", lang),
        "origin": tr("origin", lang),
        "official": tr("official source", lang),
        "exercise": tr("exercise", lang),
        "all_clear": tr("all clear", lang),
        "need": tr("need", lang),
        "people": tr("people", lang),
        "vulnerable": tr("vulnerable person", lang),
        "place": tr("place", lang),
        "point": tr("position", lang),
        "text": tr("text", lang),
        "what": tr("offer", lang),
        "standing": tr("standing offer", lang),
        "capacity": tr("capacity", lang),
        "eta_minutes": tr("expected in", lang),
        "outcome": tr("outcome", lang),
        "status": tr("status", lang),
        "subject_key": tr("household visited", lang),
        "subject_name": tr("person visited", lang),
        "type": tr("type", lang),
        "name": tr("name", lang),
        "open": tr("open", lang),
        "hours": tr("opening hours", lang),
        "title": tr("title", lang),
        "language": tr("language", lang),
        "drill_start": tr("drill starts", lang),
        "drill_end": tr("drill ends", lang),
        "reason": tr("reason", lang),
        "via": tr("typed on handset", lang),
        "subject": tr("key concerned", lang),
        "role": tr("role", lang),
        "verdict": tr("verdict", lang),
        "needs": tr("needs", lang),
        "address": tr("address", lang),
        "contact": tr("contact", lang),
        "relay": tr("assigned relay", lang),
        "check_after": tr("escalates after", lang),
    }
    return labels.get(name, name)


def request_status(status: state.RequestStatus, lang: str) -> str:
    return {
        state.RequestStatus.OPEN: tr("open", lang),
        state.RequestStatus.CLAIMED: tr("claimed", lang),
        state.RequestStatus.RESOLVED: tr("resolved", lang),
    }[status]


def _pairs(pairs: Sequence[tuple[str, str]], lang: str, indent: str = "  ") -> list[str]:
    """``label: value`` lines with the values aligned."""
    heads = [tr("{label}:", lang, label=name) for name, _ in pairs]
    width = max((len(h) for h in heads), default=0)
    # Continuation lines of a multi-line value are marked and indented under the value, so
    # that a message's text can never pass for another field.
    gutter = f"\n{indent}{' ' * width} │ "
    return [
        f"{indent}{h:<{width}} {value.replace(chr(10), gutter)}"
        for h, (_, value) in zip(heads, pairs, strict=True)
    ]


def message(
    env: Envelope,
    related: Sequence[Envelope],
    *,
    now: int,
    lang: str,
    verification: Verification | None = None,
) -> str:
    """One message in full, with what refers to it (and how far it is verified, if given)."""
    pairs = [
        (tr("author", lang), env.author.hex()),
        (tr("created", lang), when(env.created, now, lang)),
        (tr("expires", lang), when(env.expires, now, lang)),
        (tr("size", lang), tr("{size} bytes", lang, size=len(env.raw))),
    ]
    pairs += [(tr("refers to", lang), short_id(ref)) for ref in env.refs]
    if isinstance(env.body, k.RosterEntry):  # sealed: only its relays read it
        pairs.append(
            (
                tr("sealed to", lang),
                tr(
                    "{count} relay(s); only they can read it",
                    lang,
                    count=len(env.body.slots),
                ),
            )
        )
    else:
        for f in dataclasses.fields(env.body):
            value = getattr(env.body, f.name)
            if value is None or value == f.default:
                continue
            pairs.append((field_label(f.name, lang), _field_text(f.name, value, now, lang)))
    if verification is not None:
        pairs.append((tr("verification", lang), verification_text(verification, env, lang)))
    lines = [f"{label(env.kind, lang)} {env.id.hex()}", *_pairs(pairs, lang)]
    for other in sorted(related, key=lambda e: (e.created, e.id)):
        lines.append(
            "  "
            + tr(
                "← {kind} {id} by {author}, {time}",
                lang,
                kind=label(other.kind, lang),
                id=other.short_id,
                author=who(other.author),
                time=when(other.created, now, lang),
            )
        )
    return "\n".join(lines)


def household_text(household: state.HouseholdKey) -> str:
    if isinstance(household, bytes):
        return who(household)
    return household[1]


#: Terminal width the board is laid out for.
WIDTH = 80
#: The last column of a table is cut to what is left of WIDTH, but never below this.
MIN_LAST_COLUMN = 20


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    notes: Sequence[str] | None = None,
    verified: Sequence[str] | None = None,
) -> list[str]:
    """A plain-text table that stays readable at 80 columns.

    The last column runs free and is cut to the width left; ``notes`` (one per row, may be
    empty) are free text shown on a line of their own under their row, indented.
    ``verified`` (one per row, may be empty): how far the row is verified, on lines of its
    own before the note, wrapped but never cut (the caveat of a handset's message is long)."""
    if not rows:
        return []
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    room = max(WIDTH - sum(widths[:-1]) - 2 * (len(widths) - 1), MIN_LAST_COLUMN)
    indent = " " * (widths[0] + 2)

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False)]
        return "  ".join([*padded, _ellipsis(cells[-1], room)]).rstrip()

    out = [line(headers)]
    for i, row in enumerate(rows):
        out.append(line(row))
        if verified and verified[i]:
            out += textwrap.wrap(
                verified[i], WIDTH, initial_indent=indent, subsequent_indent=indent + "  "
            )
        if notes and notes[i]:
            out.append(indent + _ellipsis(notes[i], WIDTH - len(indent)))
    return out


def _ellipsis(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _details(*parts: str) -> str:
    return " — ".join(p for p in parts if p)


def verification_of(board: state.Board, message_id: bytes) -> Verification | None:
    """The verification of a message the board shows (None: not a verifiable one)."""
    views: tuple[Any, ...] = (
        *board.alerts,
        *board.requests,
        *board.offers,
        *board.incidents,
        *board.resources,
    )
    return next((v.verification for v in views if v.envelope.id == message_id), None)


def verification_text(v: Verification, env: Envelope, lang: str) -> str:
    """How far a message is verified, in words (the handset caveat included)."""
    return describe(v, lang, witness=who(env.author))


def _verified(v: Verification, env: Envelope, lang: str) -> str:
    """The verification as a board shows it: nothing when unverified and typed by its
    author (most messages), else in words, a false report flagged."""
    if v.state is VerificationState.UNVERIFIED and v.via is None:
        return ""
    text = verification_text(v, env, lang)
    if v.marked_false:
        return f"⚠ {text}"
    return text if v.state is VerificationState.UNVERIFIED else f"✓ {text}"


def verification_json(v: Verification, env: Envelope, lang: str) -> dict[str, Any]:
    return {
        "state": v.state.value,
        "text": verification_text(v, env, lang),
        "author_roles": sorted(r.name.lower() for r in v.author_roles),
        "confirmed_by": [key.hex() for key in v.confirmed_by],
        "marked_false_by": [key.hex() for key in v.marked_false_by],
        "corroborators": [key.hex() for key in v.corroborators],
        "vouched_corroborators": v.vouched_corroborators,
        "via": None if v.via is None else str(v.via),
    }


def board(
    messages: Sequence[Envelope],
    *,
    now: int,
    bridge_keys: frozenset[bytes],
    section: str,
    need: k.Need | None,
    urgency: k.RequestUrgency | None,
    mine: bytes | None,
    lang: str,
    trust: Roles | None = None,
) -> tuple[str, dict[str, Any]]:
    """The board (or one section of it) as text and as JSON; ``trust``: the zone's roles now
    (verification marks count only with them)."""
    b = state.derive(messages, now=now, bridge_keys=bridge_keys, trust=trust)
    wanted = SECTIONS if section == "all" else (section,)
    out: list[str] = []
    data: dict[str, Any] = {"now": now}

    def heading(title: str, count: int) -> None:
        if out:
            out.append("")
        out.append(f"== {title} ({count})")

    if "alerts" in wanted:
        heading(tr("Alerts", lang), len(b.alerts))
        rows, verified = [], []
        for view in b.alerts:
            alert = view.alert
            verified.append(
                "" if view.official else _verified(view.verification, view.envelope, lang)
            )
            marks = []
            if view.official:
                marks.append(tr("OFFICIAL", lang))
            if view.exercise:
                marks.append(tr("EXERCISE", lang))
            if view.all_clear:
                marks.append(tr("ALL CLEAR", lang))
            rows.append(
                [
                    view.envelope.short_id,
                    label(alert.severity, lang),
                    " ".join(marks) or tr("community", lang),
                    ago(view.envelope.created, now, lang),
                    alert.headline,
                ]
            )
        out += _table(
            [
                tr("id", lang),
                tr("severity", lang),
                tr("source", lang),
                tr("when", lang),
                tr("headline", lang),
            ],
            rows,
            verified=verified,
        )
        data["alerts"] = [
            envelope_to_json(v.envelope)
            | {
                "official": v.official,
                "exercise": v.exercise,
                "started": v.started,
                "verification": verification_json(v.verification, v.envelope, lang),
            }
            for v in b.alerts
        ]

    if "help" in wanted:
        requests = b.requests
        if need is not None:
            requests = tuple(r for r in requests if r.request.need is need)
        if urgency is not None:
            requests = tuple(r for r in requests if r.request.urgency is urgency)
        if mine is not None:
            requests = tuple(r for r in requests if r.requester == mine or mine in r.claimers)
        heading(tr("Help requests", lang), len(requests))
        rows, notes = [], []
        for r in requests:
            req = r.request
            rows.append(
                [
                    r.envelope.short_id,
                    request_status(r.status, lang),
                    label(req.urgency, lang),
                    label(req.need, lang) + (" ⚠" if req.vulnerable else ""),
                    str(req.people),
                ]
            )
            by = ""
            if r.status is state.RequestStatus.CLAIMED:
                by = tr("claimed by {who}", lang, who=", ".join(who(c) for c in r.claimers))
            elif r.resolved_by is not None and r.resolved_by != r.requester:
                # Only the requester's own word is final: say who closed it otherwise.
                by = tr("closed by helper {who}", lang, who=who(r.resolved_by))
            notes.append(_details(req.place, req.text, by))
        out += _table(
            [
                tr("id", lang),
                tr("status", lang),
                tr("urgency", lang),
                tr("need", lang),
                tr("people", lang),
            ],
            rows,
            notes,
            [_verified(r.verification, r.envelope, lang) for r in requests],
        )
        offers = (
            b.offers if mine is None else tuple(o for o in b.offers if o.envelope.author == mine)
        )
        heading(tr("Help offers", lang), len(offers))
        out += _table(
            [tr("id", lang), tr("offer", lang), tr("standing", lang), tr("details", lang)],
            [
                [
                    o.envelope.short_id,
                    label(o.offer.what, lang),
                    tr("yes", lang) if o.offer.standing else "",
                    _details(o.offer.place, o.offer.text),
                ]
                for o in offers
            ],
            verified=[_verified(o.verification, o.envelope, lang) for o in offers],
        )
        data["requests"] = [
            envelope_to_json(r.envelope)
            | {
                "status": r.status.value,
                "claimers": [c.hex() for c in r.claimers],
                "resolved_by": r.resolved_by.hex() if r.resolved_by else None,
                "comments": [c.id.hex() for c in r.comments],
                "verification": verification_json(r.verification, r.envelope, lang),
            }
            for r in requests
        ]
        data["offers"] = [
            envelope_to_json(o.envelope)
            | {"verification": verification_json(o.verification, o.envelope, lang)}
            for o in offers
        ]

    if "checkins" in wanted:
        heading(tr("Check-ins", lang), len(b.checkins))
        out += _table(
            [tr("household", lang), tr("status", lang), tr("reported by", lang), tr("when", lang)],
            [
                [
                    c.checkin.subject_name
                    if isinstance(c.household, tuple)
                    else household_text(c.household),
                    label(c.status, lang),
                    who(c.reporter) if c.on_behalf else "",
                    ago(c.envelope.created, now, lang),
                ]
                for c in b.checkins
            ],
        )
        summary = state.overview(b)
        data["checkins"] = [
            envelope_to_json(c.envelope)
            | {"household": household_json(c.household), "on_behalf": c.on_behalf}
            for c in b.checkins
        ]
        if summary.since is not None:
            missing = state.not_heard_from(b, since=summary.since)
            heading(
                tr(
                    "Not heard from since the alert of {time}",
                    lang,
                    time=when(summary.since, now, lang),
                ),
                len(missing),
            )
            out += [f"  {household_text(m.household)}" for m in missing]
            data["not_heard_from"] = {
                "since": summary.since,
                "households": [household_json(m.household) for m in missing],
            }

    if "incidents" in wanted:
        heading(tr("Incidents", lang), len(b.incidents))
        out += _table(
            [tr("id", lang), tr("type", lang), tr("severity", lang), tr("when", lang)],
            [
                [
                    i.envelope.short_id,
                    label(i.incident.type, lang),
                    label(i.incident.severity, lang),
                    ago(i.envelope.created, now, lang),
                ]
                for i in b.incidents
            ],
            [_details(i.incident.place, i.incident.text) for i in b.incidents],
            [_verified(i.verification, i.envelope, lang) for i in b.incidents],
        )
        data["incidents"] = [
            envelope_to_json(i.envelope)
            | {
                "first_reported": i.first_reported,
                "verification": verification_json(i.verification, i.envelope, lang),
            }
            for i in b.incidents
        ]

    if "resources" in wanted:
        heading(tr("Resource points", lang), len(b.resources))
        out += _table(
            [tr("id", lang), tr("type", lang), tr("state", lang), tr("name", lang)],
            [
                [
                    r.envelope.short_id,
                    label(r.resource.type, lang),
                    tr("open", lang) if r.open else tr("closed", lang),
                    _details(r.resource.name, r.resource.hours),
                ]
                for r in b.resources
            ],
            verified=[_verified(r.verification, r.envelope, lang) for r in b.resources],
        )
        data["resources"] = [
            envelope_to_json(r.envelope)
            | {"open": r.open, "verification": verification_json(r.verification, r.envelope, lang)}
            for r in b.resources
        ]

    if "tips" in wanted:
        heading(tr("Tips and drills", lang), len(b.tips))
        out += _table(
            [tr("id", lang), tr("type", lang), tr("title", lang)],
            [[t.envelope.short_id, label(t.tip.type, lang), t.tip.title] for t in b.tips],
        )
        data["tips"] = [envelope_to_json(t.envelope) for t in b.tips]

    if not messages:
        out += [
            "",
            tr(
                "Nothing yet. Say you are safe with `entraide post checkin`, or bring messages "
                "from a neighbour with `entraide import FILE`.",
                lang,
            ),
        ]
    return "\n".join(out), data


def household_json(household: state.HouseholdKey) -> str:
    return household.hex() if isinstance(household, bytes) else f"name:{household[1]}"


def status(data: dict[str, Any], lang: str) -> str:
    """What ``entraide status`` prints about the running node."""
    lines = [
        tr("Node of household {fingerprint}", lang, fingerprint=data["fingerprint"]),
        "  " + tr("zone: {name} ({id})", lang, name=data["zone"]["name"], id=data["zone"]["id"]),
    ]
    wifi = data.get("wifi")
    if wifi is None:
        lines.append("  " + tr("Wi-Fi: off", lang))
    else:
        lines.append("  " + tr("peer id: {peer}", lang, peer=wifi["peer_id"]))
        for addr in wifi["listen"]:
            lines.append("  " + tr("listening on {address}", lang, address=addr))
        peers = wifi["peers"]
        lines.append("  " + tr("connected peers: {count}", lang, count=len(peers)))
        lines.extend(f"    {p['peer']}  {p['address']}" for p in peers)
    sync = data.get("sync")
    if sync:
        last = sync.get("last_done")
        lines.append(
            "  " + tr("last catch-up: {when}", lang, when=ago(last, data["now"], lang))
            if last
            else "  " + tr("last catch-up: not yet", lang)
        )
    counts = data["messages"]
    received = sum(counts["received"].values())
    lines.append(
        "  "
        + tr(
            "messages since start: {received} received, {published} published, {rejected} rejected",
            lang,
            received=received,
            published=counts["published"],
            rejected=counts["rejected"],
        )
    )
    lines += trust_lines(data, lang)
    return "\n".join(lines)


def offset_text(seconds: int, lang: str) -> str:
    """A clock offset in words: "3 days behind", "20 min ahead" (of the network)."""
    minutes = max(round(abs(seconds) / 60), 1)
    for unit in (1440, 60):  # rounded to its largest unit: "3 days", not "4319 min"
        if minutes >= 2 * unit:
            minutes = round(minutes / unit) * unit
            break
    span = duration(minutes, lang)
    if seconds > 0:  # the local clock must be moved forward: it is behind
        return tr("{span} behind the network", lang, span=span)
    return tr("{span} ahead of the network", lang, span=span)


def trust_lines(data: dict[str, Any], lang: str) -> list[str]:
    """The zone's charter, this household's roles and the clock, from a node's status."""
    trust, clock = data.get("trust"), data.get("clock")
    if not isinstance(trust, dict) or not isinstance(clock, dict):
        return []
    charter = trust.get("charter")
    lines = [
        "  "
        + (
            tr(
                "zone charter: {name}, fingerprint {fingerprint}",
                lang,
                name=charter["name"],
                fingerprint=charter["fingerprint"],
            )
            if charter
            else tr("zone charter: none (every key is trusted alike)", lang)
        ),
        "  "
        + tr(
            "roles of this household: {roles}",
            lang,
            roles=", ".join(label(k.Role[r.upper()], lang) for r in trust["roles"])
            or tr("none (unvouched)", lang),
        ),
    ]
    if clock["offset"]:
        lines.append(
            "  "
            + tr(
                "clock: {offset} (estimated from {count} peers); messages are dated with the "
                "network's time",
                lang,
                offset=offset_text(clock["offset"], lang),
                count=clock["sources"],
            )
        )
    elif clock["sources"] >= 3:
        lines.append("  " + tr("clock: agrees with {count} peers", lang, count=clock["sources"]))
    else:
        lines.append(
            "  "
            + tr(
                "clock: not checked yet (heard from {count} peers, 3 needed)",
                lang,
                count=clock["sources"],
            )
        )
    return lines
