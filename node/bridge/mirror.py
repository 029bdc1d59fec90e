"""From CAP messages to signed mirrors: supersession, cancellation, dialects, lifetimes.

:class:`Mirror` holds what the bridge has mirrored (:class:`BridgeState`) and decides, for
each validated CAP message, what to sign: no I/O here. :meth:`Mirror.decide` returns a
:class:`Decision` (a mirror to post, tombstones to post, or a reason not to); the service signs
and stores them through the node, then :meth:`Mirror.commit`\\ s the decision. The rules:

- **Keys.** A CAP message is known by ``(sender, identifier, sent)``. A message already
  mirrored (or cancelled, or that withdrew a mirror) is a duplicate; a refused one leaves no
  trace, so a garbage copy cannot hide the genuine message with the same key. System and
  Draft messages, non-public scopes, Ack and Error are not shown. Exercise and Test messages
  are mirrored with ``exercise`` set: never shown as real.
- **Supersession.** An Update names earlier messages in ``references``; only references to
  the same sender (or an allow-listed aggregator) count, others are flagged and ignored, and a
  reference to itself too. The new mirror cites the mirrors of what it updates (``refs``), and
  each of those becomes a **tombstone**: a signed retraction that outlives it, so that no node
  shows it again even when the update expires first. A reference to a message the bridge
  never saw is remembered: that message, if it comes later, is not mirrored (nor is anything
  it names looped back to: every decision looks one level deep, so loops end).
  An Update without references is mirrored as a new alert, flagged.
- **Cancel.** Each referenced mirror (same sender) becomes a tombstone; an unknown reference is
  remembered, so a cancelled message arriving late is never published. A Cancel naming only
  other senders' messages is refused.
- **Window and lifetime.** "No warning" markers (expires at or before onset, or a green
  Meteo-France level) and expired messages are not mirrored. A mirror lives until the CAP
  ``expires`` (from the bridge's now), at most 14 days (the alert kind's maximum); without
  ``expires``, ``default_lifetime_min``.
- **Area.** Only messages whose area touches the zone are mirrored. An Update that moves away
  from the zone (or gives no usable area) still tombstones the mirrors it updates.
- **Meteo-France** (sender ``vigilance@meteo.fr``, through MeteoAlarm) issues a new identifier
  on every re-issue, without references, and splits a warning into one message per day. Its
  messages are grouped by *slot* (sender, awareness type, set of geocodes): a newer message of
  a slot whose window overlaps a mirrored one replaces it; the next day's part of a warning
  (same slot and level, windows that meet) is merged into one mirror covering both days.
- **Bookkeeping** is forgotten a day after the mirrors it concerns expire (and at most 15
  days after a message was handled); a feed outage never removes anything: only a Cancel,
  an Update or the expiry does.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from protocol import kinds as k
from protocol.errors import InvalidMessage
from protocol.schema import check_text

from .area import AreaMatch, AreaMatcher
from .cap import CapAlert, CapInfo, CapKey, Flag
from .errors import CapRejected, Reason
from .settings import BridgeSettings

__all__ = ["BridgeState", "Decision", "Mirror", "MirrorRecord", "Tombstone", "build_body"]

MINUTE = 60
MAX_MIRROR_MINUTES = k.KIND_RULES[k.Kind.ALERT].max_lifetime
#: How long a handled message is remembered (beyond any mirror's life).
FORGET_AFTER_S = 15 * 86_400
#: How close two Meteo-France windows must be to be one warning split by day.
DAY_SPLIT_GAP_S = 3600
#: The instruction (or description) carried by a mirror: LoRa airtime is precious.
MIRROR_TEXT_BYTES = 600
METEO_FRANCE = "vigilance@meteo.fr"
#: Refs of an alert (SPEC.md 7.1: 0-4).
MAX_REFS = k.KIND_RULES[k.Kind.ALERT].max_refs

_SEVERITY = {
    "Extreme": k.Severity.EXTREME,
    "Severe": k.Severity.SEVERE,
    "Moderate": k.Severity.MODERATE,
    "Minor": k.Severity.MINOR,
    "Unknown": k.Severity.UNKNOWN,
}
_URGENCY = {
    "Immediate": k.Urgency.IMMEDIATE,
    "Expected": k.Urgency.EXPECTED,
    "Future": k.Urgency.FUTURE,
    "Past": k.Urgency.PAST,
    "Unknown": k.Urgency.UNKNOWN,
}
_CERTAINTY = {
    "Observed": k.Certainty.OBSERVED,
    "Likely": k.Certainty.LIKELY,
    "Possible": k.Certainty.POSSIBLE,
    "Unlikely": k.Certainty.UNLIKELY,
    "Unknown": k.Certainty.UNKNOWN,
}
_CATEGORY = {
    "Geo": k.Category.GEO,
    "Met": k.Category.MET,
    "Safety": k.Category.SAFETY,
    "Security": k.Category.SECURITY,
    "Rescue": k.Category.RESCUE,
    "Fire": k.Category.FIRE,
    "Health": k.Category.HEALTH,
    "Env": k.Category.ENV,
    "Transport": k.Category.TRANSPORT,
    "Infra": k.Category.INFRA,
    "CBRNE": k.Category.CBRNE,
    "Other": k.Category.OTHER,
}


# --- state ----------------------------------------------------------------------------------


@dataclass
class MirrorRecord:
    """One mirror this bridge signed, and the CAP message(s) it reproduces."""

    key: CapKey
    mirror_id: bytes
    expires: int  # the mirror's expiry (unix seconds)
    onset: int  # the warning's window, as CAP gives it
    ends: int
    source: str
    slot: str = ""  # Meteo-France: sender|type|geocodes
    level: str = ""
    retracted: bool = False
    #: Other CAP messages merged into this mirror (a Meteo-France warning split by day).
    covers: tuple[CapKey, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": list(self.key),
            "mirror": self.mirror_id.hex(),
            "expires": self.expires,
            "onset": self.onset,
            "ends": self.ends,
            "source": self.source,
            "slot": self.slot,
            "level": self.level,
            "retracted": self.retracted,
            "covers": [list(c) for c in self.covers],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MirrorRecord:
        return cls(
            key=CapKey(*data["key"]),
            mirror_id=bytes.fromhex(data["mirror"]),
            expires=int(data["expires"]),
            onset=int(data["onset"]),
            ends=int(data["ends"]),
            source=str(data["source"]),
            slot=str(data.get("slot", "")),
            level=str(data.get("level", "")),
            retracted=bool(data.get("retracted", False)),
            covers=tuple(CapKey(*c) for c in data.get("covers", ())),
        )


@dataclass
class BridgeState:
    """Everything the bridge remembers between polls (and restarts: :meth:`to_json`)."""

    #: By the CAP key of each message a mirror reproduces (merged ones too).
    mirrors: dict[CapKey, MirrorRecord] = field(default_factory=dict)
    #: Messages handled (whatever the outcome): key -> forget after (unix seconds).
    handled: dict[CapKey, int] = field(default_factory=dict)
    #: Messages a Cancel named before the bridge saw them: key -> forget after.
    cancelled: dict[CapKey, int] = field(default_factory=dict)
    #: Messages an Update named before the bridge saw them: key -> forget after.
    superseded: dict[CapKey, int] = field(default_factory=dict)
    #: Per source: the documents already read (entry id or file -> hex digest).
    documents: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Per URL: the last ETag and Last-Modified.
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def records(self) -> list[MirrorRecord]:
        """Each record once."""
        return list({id(r): r for r in self.mirrors.values()}.values())

    def prune(self, now: int) -> None:
        for key, record in list(self.mirrors.items()):
            if record.expires + 86_400 <= now:
                del self.mirrors[key]
        for table in (self.handled, self.cancelled, self.superseded):
            for key, until in list(table.items()):
                if until <= now:
                    del table[key]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "mirrors": [r.to_json() for r in self.records()],
            "handled": [[*key, until] for key, until in self.handled.items()],
            "cancelled": [[*key, until] for key, until in self.cancelled.items()],
            "superseded": [[*key, until] for key, until in self.superseded.items()],
            "documents": self.documents,
            "validators": {url: list(v) for url, v in self.validators.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BridgeState:
        state = cls()
        for item in data.get("mirrors", []):
            record = MirrorRecord.from_json(item)
            for key in (record.key, *record.covers):
                state.mirrors[key] = record
        for name in ("handled", "cancelled", "superseded"):
            table = getattr(state, name)
            for sender, identifier, sent, until in data.get(name, []):
                table[CapKey(sender, identifier, int(sent))] = int(until)
        state.documents = {
            str(s): {str(e): str(d) for e, d in docs.items()}
            for s, docs in data.get("documents", {}).items()
        }
        state.validators = {str(url): (v[0], v[1]) for url, v in data.get("validators", {}).items()}
        return state

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8")


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tombstone:
    """A retraction to sign: ``mirror_id`` is superseded or cancelled."""

    mirror_id: bytes
    lifetime: int  # minutes: outlives the mirror
    reason: str


@dataclass
class Decision:
    """What to do with one CAP message."""

    key: CapKey
    #: "mirror" (post a mirror), "cancel" (tombstones only), or "skip" (nothing to sign
    #: beyond ``tombstones``: see ``reason``).
    action: str
    reason: Reason | None = None
    detail: str = ""
    body: k.Alert | None = None
    refs: tuple[bytes, ...] = ()
    lifetime: int = 0  # minutes
    tombstones: list[Tombstone] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    #: The record the mirror will have (its mirror_id is filled in by commit).
    record: MirrorRecord | None = None
    #: Records this decision retires, and unseen messages to remember.
    retired: list[MirrorRecord] = field(default_factory=list)
    remember_cancelled: list[CapKey] = field(default_factory=list)
    remember_superseded: list[CapKey] = field(default_factory=list)
    #: Whether the message is remembered as handled: only when it changed something (a
    #: mirror, a tombstone). A refused document leaves no trace, so that a garbage copy can
    #: never hide the genuine message with the same key.
    final: bool = True


class Mirror:
    """The bridge's memory and its rules (see the module docstring)."""

    def __init__(self, settings: BridgeSettings, area: AreaMatcher, state: BridgeState) -> None:
        self.settings = settings
        self.area = area
        self.state = state

    # --- deciding -------------------------------------------------------------------------

    def decide(self, alert: CapAlert, *, source: str, now: int) -> Decision:
        key = alert.key
        flags = list(alert.flags)

        def skip(reason: Reason, detail: str) -> Decision:
            return Decision(key, "skip", reason, detail, flags=flags, final=False)

        if key in self.state.handled or key in self.state.mirrors:
            return skip(Reason.DUPLICATE, f"{key.identifier} was already handled")
        if alert.status in ("System", "Draft"):
            return skip(Reason.STATUS_NOT_SHOWN, f"status {alert.status} is not for the public")
        if alert.scope != "Public":
            return skip(Reason.SCOPE_NOT_PUBLIC, f"scope {alert.scope}")
        if alert.msg_type in ("Ack", "Error"):
            return skip(Reason.MSGTYPE_IGNORED, f"msgType {alert.msg_type}")
        own = self._own_references(alert, flags)
        if alert.msg_type == "Cancel":
            return self._cancel(alert, own, flags, now)
        if key in self.state.cancelled:
            return skip(Reason.ALREADY_CANCELLED, f"a Cancel for {key.identifier} came first")
        if key in self.state.superseded:
            return skip(Reason.ALREADY_SUPERSEDED, f"an Update of {key.identifier} came first")
        if alert.msg_type == "Alert" and alert.references:
            flags.append((Reason.REFERENCES_ON_ALERT, "an Alert's references are ignored"))
            own = []
        if alert.msg_type == "Update" and not alert.references:
            flags.append(
                (Reason.UPDATE_WITHOUT_REFERENCES, "an Update naming nothing: mirrored as new")
            )
        return self._alert(alert, own, flags, source, now)

    def _own_references(self, alert: CapAlert, flags: list[Flag]) -> list[CapKey]:
        own = []
        for ref in alert.references:
            if ref == alert.key:
                flags.append((Reason.SELF_REFERENCE, "a reference to itself, ignored"))
            elif ref.sender != alert.sender and alert.sender not in self.settings.aggregators:
                flags.append(
                    (Reason.FOREIGN_REFERENCE, f"a reference to sender {ref.sender!r}, ignored")
                )
            else:
                own.append(ref)
        return own

    def _live_record(self, key: CapKey, now: int) -> MirrorRecord | None:
        record = self.state.mirrors.get(key)
        if record is None or record.retracted or record.expires <= now:
            return None
        return record

    def _tombstone(self, record: MirrorRecord, now: int, why: str) -> Tombstone:
        rules = k.KIND_RULES[k.Kind.RETRACTION]
        remaining = math.ceil((record.expires - now) / MINUTE) + 1
        lifetime = min(max(rules.default_lifetime, remaining), rules.max_lifetime)
        return Tombstone(record.mirror_id, lifetime, _fit(why, k.LINE))

    def _cancel(self, alert: CapAlert, own: list[CapKey], flags: list[Flag], now: int) -> Decision:
        key = alert.key
        if not own:
            if alert.references:
                raise CapRejected(
                    Reason.FOREIGN_CANCEL,
                    f"Cancel {key.identifier} names only other senders' messages",
                )
            raise CapRejected(Reason.BAD_REFERENCES, f"Cancel {key.identifier} names nothing")
        decision = Decision(key, "cancel", flags=flags)
        seen: set[int] = set()
        for ref in own:
            record = self._live_record(ref, now)
            if record is None:
                if ref not in self.state.mirrors:
                    flags.append(
                        (Reason.DANGLING_REFERENCE, f"cancels {ref.identifier}, never seen here")
                    )
                    decision.remember_cancelled.append(ref)
                continue
            if id(record) not in seen:
                seen.add(id(record))
                why = f"CAP Cancel {key.identifier}"
                decision.tombstones.append(self._tombstone(record, now, why))
                decision.retired.append(record)
        decision.detail = f"{len(decision.tombstones)} mirror(s) withdrawn"
        return decision

    def _alert(
        self, alert: CapAlert, own: list[CapKey], flags: list[Flag], source: str, now: int
    ) -> Decision:
        key = alert.key
        if not alert.infos:
            raise CapRejected(Reason.NO_INFO, f"{alert.msg_type} {key.identifier} says nothing")
        info = choose_info(alert.infos, self.settings.languages)
        meteo_france = alert.sender.casefold() == METEO_FRANCE
        level = _awareness(info, "awareness_level") if meteo_france else ""
        declared_start = info.onset if info.onset is not None else info.effective
        if (
            info.expires is not None
            and declared_start is not None
            and (info.expires <= declared_start)
        ):
            raise CapRejected(
                Reason.NO_WARNING_MARKER,
                f"{key.identifier}: expires at or before its onset (a 'no warning' marker)",
            )
        if meteo_france and level == "1":
            raise CapRejected(Reason.NO_WARNING_MARKER, f"{key.identifier}: green level")
        start = declared_start if declared_start is not None else alert.sent
        ends = info.expires
        if ends is None:
            ends = max(now, start) + MINUTE * self.settings.default_lifetime_min
            flags.append((Reason.LIFETIME_CLAMPED, "no <expires>: default lifetime"))
        if ends <= now:
            raise CapRejected(Reason.EXPIRED, f"{key.identifier} expired")

        decision = Decision(key, "mirror", flags=flags)
        targets: list[MirrorRecord] = []
        for ref in own:
            record = self._live_record(ref, now)
            if record is None:
                if ref not in self.state.mirrors:
                    decision.remember_superseded.append(ref)
                    flags.append(
                        (Reason.DANGLING_REFERENCE, f"updates {ref.identifier}, never seen here")
                    )
            elif record not in targets:
                targets.append(record)
        slot = ""
        if meteo_france:
            slot = _slot(alert.sender, info)
            start, ends = self._meteo_france(alert, slot, level, start, ends, targets, flags, now)

        match, area_flags = self.area.match(info.areas)
        flags.extend(area_flags)
        retire_why = f"CAP {alert.msg_type} {key.identifier}"
        decision.retired = targets
        decision.tombstones = [self._tombstone(r, now, retire_why) for r in targets]
        if match is not AreaMatch.TOUCHES:
            decision.action = "skip"
            decision.final = bool(targets)
            decision.reason = (
                Reason.OUTSIDE_AREA if match is AreaMatch.OUTSIDE else Reason.NO_USABLE_AREA
            )
            decision.detail = f"{key.identifier}: " + (
                "its area does not touch the zone"
                if match is AreaMatch.OUTSIDE
                else "no area that can be compared with the zone"
            )
            return decision

        minutes = math.ceil((ends - now) / MINUTE)
        if minutes > MAX_MIRROR_MINUTES:
            flags.append((Reason.LIFETIME_CLAMPED, "longer than a mirror may live: 14 days"))
            minutes = MAX_MIRROR_MINUTES
        body = build_body(alert, info, source, flags)
        ordered = sorted(targets, key=lambda r: (-r.key.sent, r.mirror_id))
        decision.body = body
        decision.refs = tuple(r.mirror_id for r in ordered[:MAX_REFS])
        decision.lifetime = max(1, minutes)
        decision.record = MirrorRecord(
            key=key,
            mirror_id=b"",
            expires=now + MINUTE * decision.lifetime,
            onset=start,
            ends=ends,
            source=source,
            slot=slot,
            level=level,
            covers=tuple(
                c for r in targets if r.slot and r.slot == slot for c in (r.key, *r.covers)
            ),
        )
        decision.detail = f"{key.identifier} mirrored"
        return decision

    def _meteo_france(
        self,
        alert: CapAlert,
        slot: str,
        level: str,
        start: int,
        ends: int,
        targets: list[MirrorRecord],
        flags: list[Flag],
        now: int,
    ) -> tuple[int, int]:
        """Re-issues replace, day-split parts merge (see the module docstring)."""
        for record in self.state.records():
            if record.slot != slot or record.retracted or record.expires <= now:
                continue
            if record in targets:
                continue
            overlap = start < record.ends and record.onset < ends
            meets = abs(start - record.ends) <= DAY_SPLIT_GAP_S or (
                abs(record.onset - ends) <= DAY_SPLIT_GAP_S
            )
            if overlap:
                if alert.sent < record.key.sent:
                    raise CapRejected(
                        Reason.ALREADY_SUPERSEDED,
                        f"{alert.identifier}: a newer Meteo-France message covers its window",
                    )
                targets.append(record)
                flags.append(
                    (Reason.REISSUE_REPLACED, f"replaces {record.key.identifier} (re-issue)")
                )
            elif meets and record.level == level:
                targets.append(record)
                start, ends = min(start, record.onset), max(ends, record.ends)
                flags.append(
                    (Reason.DAY_SPLIT_MERGED, f"merged with {record.key.identifier} (next day)")
                )
        return start, ends

    # --- committing -------------------------------------------------------------------------

    def commit(self, decision: Decision, mirror_id: bytes | None, now: int) -> None:
        """Remember ``decision`` once its mirror (``mirror_id``) and tombstones are stored."""
        forget = now + FORGET_AFTER_S
        for record in decision.retired:
            record.retracted = True
        for key in decision.remember_cancelled:
            self.state.cancelled[key] = forget
        for key in decision.remember_superseded:
            self.state.superseded[key] = forget
        if decision.record is not None and mirror_id is not None:
            record = replace(decision.record, mirror_id=mirror_id)
            for key in (record.key, *record.covers):
                self.state.mirrors[key] = record
        if decision.final:
            self.state.handled[decision.key] = forget


def choose_info(infos: tuple[CapInfo, ...], languages: tuple[str, ...]) -> CapInfo:
    """The info block in the first preferred language that has one, else the first."""
    for wanted in languages:
        for info in infos:
            if info.language.replace("_", "-").split("-")[0].casefold() == wanted.casefold():
                return info
    return infos[0]


def _awareness(info: CapInfo, name: str) -> str:
    """The number of a MeteoAlarm awareness parameter ("2; yellow; Moderate" -> "2")."""
    value = info.parameter(name) or ""
    return value.split(";", 1)[0].strip()


def _slot(sender: str, info: CapInfo) -> str:
    codes = sorted({f"{n.upper()}={v.upper()}" for a in info.areas for n, v in a.geocodes})
    return f"{sender.casefold()}|{_awareness(info, 'awareness_type')}|{','.join(codes)}"


# --- the mirror's body ----------------------------------------------------------------------


def build_body(alert: CapAlert, info: CapInfo, source: str, flags: list[Flag]) -> k.Alert:
    """The official-mirror alert body for ``info`` of ``alert``."""
    headline = _text(info.headline or info.event, k.LINE, False, flags, "headline")
    instruction = _text(
        info.instruction or info.description, MIRROR_TEXT_BYTES, True, flags, "instruction"
    )
    area = _text(
        "; ".join(dict.fromkeys(a.desc for a in info.areas if a.desc)), k.LINE, False, flags, "area"
    )
    category = next((c for c in info.categories if c != "Other"), "Other")
    try:
        official = k.OfficialSource(
            source=_fit(source, k.SHORT),
            sender=alert.sender,
            identifier=alert.identifier,
            sent=alert.sent,
            digest=alert.digest,
        )
        return k.Alert(
            headline=headline,
            severity=_SEVERITY[info.severity],
            urgency=_URGENCY[info.urgency],
            certainty=_CERTAINTY[info.certainty],
            category=_CATEGORY[category],
            instruction=instruction,
            area=area,
            origin=k.AlertOrigin.OFFICIAL,
            official=official,
            exercise=alert.exercise,
            all_clear=any("AllClear" in i.response_types for i in (info, *alert.infos)),
        )
    except InvalidMessage as exc:
        reason = Reason.FIELD_TOO_LARGE if "bytes" in str(exc) else Reason.BAD_VALUE
        raise CapRejected(reason, f"{alert.identifier}: cannot be mirrored ({exc})") from None


def _fit(text: str, max_bytes: int) -> str:
    """``text`` cut to ``max_bytes`` of UTF-8 (with "…"), on a character boundary."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    cut = text.encode("utf-8")[: max_bytes - 3].decode("utf-8", "ignore")
    return cut.rstrip() + "…"


def _text(value: str, max_bytes: int, multiline: bool, flags: list[Flag], what: str) -> str:
    """Text made safe for a mirror: controls turned to spaces, bidi and invisible format
    characters removed (flagged), white space tidied, cut to ``max_bytes``."""
    out = []
    removed = False
    for ch in value:
        if ch in "\n\u2028\u2029":
            out.append("\n" if multiline else " ")
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            out.append(" ")
            removed |= ch not in "\t\r"
        elif category == "Cf" and ch not in "\u200c\u200d":
            removed = True
        else:
            out.append(ch)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    text = "\n".join(line for line in lines if line) if multiline else " ".join(lines)
    if removed:
        flags.append((Reason.CONTROL_CHARACTERS, f"{what}: control or bidi characters removed"))
    fitted = _fit(text.strip(), max_bytes)
    if fitted != text.strip():
        flags.append((Reason.TRUNCATED_TEXT, f"{what}: cut to {max_bytes} bytes"))
    try:
        check_text(fitted, what, max_bytes, multiline)
    except InvalidMessage:  # a character this Python's Unicode does not class as Cf yet
        fitted = fitted.encode("ascii", "ignore").decode("ascii")
        flags.append((Reason.CONTROL_CHARACTERS, f"{what}: kept in plain ASCII"))
    return fitted
