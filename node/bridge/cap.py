"""CAP 1.2 and 1.1 documents: parsed safely, then validated for meaning.

Parsing (:mod:`node.bridge.safexml`) only proves the bytes are harmless XML. Every XML parser
also accepts *semantic* attacks, so this module checks what the document says
(OASIS CAP 1.2, section 3), strict where safety is at stake and lenient on form:

- the root is ``alert`` in the CAP 1.2 or 1.1 namespace, nothing else (no namespace, a
  ``cap:1.3`` that does not exist, an Atom feed: refused with their own reasons);
- singletons (identifier, sender, sent, status, msgType, scope, urgency...) appear at most
  once: two ``<status>`` (Test, then Actual) are an ambiguity attack, refused;
- required elements are present (identifier, sender, sent, status, msgType; an info block's
  event, urgency and severity); a missing ``category`` or ``certainty`` only costs a flag;
- values are among those CAP allows (case-insensitive, as real feeds vary), dates parse and
  carry a time zone, references are ``sender,identifier,sent`` triplets;
- element order is not checked (real feeds get it wrong; strict XSD validation would drop
  genuine alerts); unknown elements (XMLDSig signatures, extensions) are ignored;
- coordinates are checked one by one: a polygon of fewer than 4 pairs, out of range or
  unreadable is dropped with a flag (the other area elements still count), an unclosed one
  is closed and flagged, a circle must read ``lat,lon radius_km``.

The result is a frozen :class:`CapAlert` keeping the digest of the original bytes; the
original bytes themselves are never altered (upstream XMLDSig signatures are not checked).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from xml.etree.ElementTree import Element

from .errors import CapRejected, Reason
from .safexml import Limits, local_name, namespace, parse_xml

__all__ = [
    "CAP_NAMESPACES",
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapKey",
    "Circle",
    "Flag",
    "parse_cap",
    "parse_cap_time",
]

CAP_NAMESPACES = {
    "urn:oasis:names:tc:emergency:cap:1.2": "1.2",
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
}

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
    "Infra", "CBRNE", "Other",
)  # fmt: skip
RESPONSE_TYPES = (
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear",
    "None",
)  # fmt: skip
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
#: CAP 1.0/1.1's "Very Likely", read as "Likely" (CAP 1.2, section 3.2.2).
_CERTAINTY_ALIASES = {"very likely": "Likely"}

#: YYYY-MM-DDThh:mm:ss with a zone (CAP's form; "Z" and fractions seen in real feeds too).
_CAP_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[+-]\d{2}:\d{2}|Z)$")
_MIN_TIME, _MAX_TIME = 0, 2**32 - 1

Flag = tuple[Reason, str]


class CapKey(NamedTuple):
    """What identifies a CAP message: its sender, identifier and sent time (unix seconds)."""

    sender: str
    identifier: str
    sent: int

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class CapArea:
    desc: str
    #: Each polygon as (lat, lon) pairs, closed (first == last), at least 4 pairs.
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    #: (valueName, value) pairs, e.g. ("NUTS3", "FR821").
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CapInfo:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: tuple[str, ...] = ()
    effective: int | None = None
    onset: int | None = None
    expires: int | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    areas: tuple[CapArea, ...] = ()

    def parameter(self, name: str) -> str | None:
        """The first parameter named ``name`` (case-insensitive), if any."""
        wanted = name.casefold()
        return next((v for n, v in self.parameters if n.casefold() == wanted), None)


@dataclass(frozen=True)
class CapAlert:
    version: str  # "1.2" or "1.1"
    identifier: str
    sender: str
    sent: int
    status: str
    msg_type: str
    scope: str
    references: tuple[CapKey, ...]
    infos: tuple[CapInfo, ...]
    #: SHA-256 of the original document bytes.
    digest: bytes
    note: str = ""
    incidents: str = ""
    #: Things repaired or ignored while reading (the document is still used).
    flags: tuple[Flag, ...] = field(default=())

    @property
    def key(self) -> CapKey:
        return CapKey(self.sender, self.identifier, self.sent)

    @property
    def exercise(self) -> bool:
        """Exercise and Test messages are shown only as exercises, never as real alerts."""
        return self.status in ("Exercise", "Test")


# --- reading --------------------------------------------------------------------------------


def parse_cap(data: bytes, limits: Limits | None = None) -> CapAlert:
    """A validated CAP alert from the document ``data``, or :class:`CapRejected`."""
    limits = limits or Limits()
    parsed = parse_xml(data, limits, max_bytes=limits.max_document_bytes, what="CAP document")
    root = parsed.root
    ns = namespace(root.tag)
    name = local_name(root.tag)
    if name == "alert" and not ns:
        raise CapRejected(Reason.NO_NAMESPACE, "<alert> without the CAP namespace: not CAP")
    if name == "alert" and ns not in CAP_NAMESPACES:
        raise CapRejected(
            Reason.WRONG_NAMESPACE, f"<alert> in namespace {ns!r}: not CAP 1.2 or 1.1"
        )
    if name != "alert":
        raise CapRejected(Reason.NOT_CAP, f"the document is a <{name}>, not a CAP <alert>")
    reader = _Reader(ns, limits, list(parsed.flags))
    return reader.alert(root, hashlib.sha256(data).digest(), CAP_NAMESPACES[ns])


def parse_cap_time(text: str, what: str) -> int:
    """A CAP date and time (with its zone) in unix seconds."""
    value = text.strip()
    if not _CAP_TIME.match(value):
        raise CapRejected(Reason.BAD_DATE, f"{what}: {_short(value)!r} is not a CAP date and time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CapRejected(
            Reason.BAD_DATE, f"{what}: {_short(value)!r} is not a real date"
        ) from None
    seconds = int(moment.timestamp())
    if not _MIN_TIME <= seconds <= _MAX_TIME:
        raise CapRejected(Reason.BAD_DATE, f"{what}: {value} is out of range")
    return seconds


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class _Reader:
    """Reads one document; collects flags as it goes."""

    def __init__(self, ns: str, limits: Limits, flags: list[Flag]) -> None:
        self.ns = ns
        self.limits = limits
        self.flags = flags
        self.points = 0

    def flag(self, reason: Reason, detail: str) -> None:
        self.flags.append((reason, detail))

    # --- element access ---------------------------------------------------------------

    def children(self, elem: Element, name: str) -> list[Element]:
        tag = f"{{{self.ns}}}{name}"
        return [child for child in elem if child.tag == tag]

    def one(self, elem: Element, name: str, *, required: bool, where: str) -> str | None:
        found = self.children(elem, name)
        if len(found) > 1:
            raise CapRejected(
                Reason.DUPLICATE_ELEMENT, f"{where}: <{name}> appears {len(found)} times"
            )
        if not found:
            if required:
                raise CapRejected(Reason.MISSING_ELEMENT, f"{where}: <{name}> is missing")
            return None
        text = (found[0].text or "").strip()
        if not text and required:
            raise CapRejected(Reason.MISSING_ELEMENT, f"{where}: <{name}> is empty")
        return text

    def text(self, elem: Element, name: str, where: str) -> str:
        return self.one(elem, name, required=False, where=where) or ""

    def required(self, elem: Element, name: str, where: str) -> str:
        value = self.one(elem, name, required=True, where=where)
        assert value is not None
        return value

    def choice(
        self, elem: Element, name: str, allowed: Iterable[str], where: str, default: str | None
    ) -> str:
        value = self.one(elem, name, required=default is None, where=where)
        if value is None:
            assert default is not None
            self.flag(Reason.MISSING_OPTIONAL, f"{where}: no <{name}>, taken as {default}")
            return default
        return _member(value, allowed, f"{where}: <{name}>")

    def time(self, elem: Element, name: str, where: str) -> int | None:
        value = self.one(elem, name, required=False, where=where)
        return None if value is None else parse_cap_time(value, f"{where}: <{name}>")

    # --- the document ---------------------------------------------------------------------

    def alert(self, root: Element, digest: bytes, version: str) -> CapAlert:
        where = "alert"
        identifier = self.required(root, "identifier", where)
        sender = self.required(root, "sender", where)
        sent = parse_cap_time(self.required(root, "sent", where), "alert: <sent>")
        status = self.choice(root, "status", STATUSES, where, None)
        msg_type = self.choice(root, "msgType", MSG_TYPES, where, None)
        scope = self.choice(root, "scope", SCOPES, where, "Public")
        for value, what in ((identifier, "identifier"), (sender, "sender")):
            if any(c.isspace() or c in ",<&" for c in value):
                raise CapRejected(
                    Reason.BAD_VALUE, f"alert: <{what}> {_short(value)!r} has spaces or commas"
                )
        references = self.references(self.text(root, "references", where))
        info_elems = self.children(root, "info")
        if len(info_elems) > self.limits.max_infos:
            raise CapRejected(
                Reason.TOO_LARGE,
                f"alert: {len(info_elems)} <info> blocks (max {self.limits.max_infos})",
            )
        infos = tuple(self.info(elem, i) for i, elem in enumerate(info_elems))
        return CapAlert(
            version=version,
            identifier=identifier,
            sender=sender,
            sent=sent,
            status=status,
            msg_type=msg_type,
            scope=scope,
            references=references,
            infos=infos,
            digest=digest,
            note=self.text(root, "note", where),
            incidents=self.text(root, "incidents", where),
            flags=tuple(self.flags),
        )

    def references(self, text: str) -> tuple[CapKey, ...]:
        triplets = text.split()
        if len(triplets) > self.limits.max_references:
            raise CapRejected(
                Reason.BAD_REFERENCES,
                f"alert: {len(triplets)} references (max {self.limits.max_references})",
            )
        keys = []
        for triplet in triplets:
            parts = triplet.split(",")
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise CapRejected(
                    Reason.BAD_REFERENCES,
                    f"alert: reference {_short(triplet)!r} is not sender,identifier,sent",
                )
            sent = parse_cap_time(parts[2], "alert: a reference's sent time")
            keys.append(CapKey(parts[0], parts[1], sent))
        return tuple(dict.fromkeys(keys))

    def info(self, elem: Element, index: int) -> CapInfo:
        where = f"info #{index + 1}"
        categories = []
        for child in self.children(elem, "category"):
            categories.append(
                _member((child.text or "").strip(), CATEGORIES, f"{where}: <category>")
            )
        if not categories:
            self.flag(Reason.MISSING_OPTIONAL, f"{where}: no <category>, taken as Other")
            categories.append("Other")
        response_types = []
        for child in self.children(elem, "responseType"):
            value = (child.text or "").strip()
            try:
                response_types.append(_member(value, RESPONSE_TYPES, f"{where}: <responseType>"))
            except CapRejected as exc:
                self.flag(exc.reason, exc.detail + " (ignored)")
        certainty = self.one(elem, "certainty", required=False, where=where)
        if certainty is not None:
            certainty = _CERTAINTY_ALIASES.get(certainty.casefold(), certainty)
        if certainty is None:
            self.flag(Reason.MISSING_OPTIONAL, f"{where}: no <certainty>, taken as Unknown")
            certainty = "Unknown"
        area_elems = self.children(elem, "area")
        if len(area_elems) > self.limits.max_areas:
            raise CapRejected(
                Reason.TOO_LARGE, f"{where}: {len(area_elems)} areas (max {self.limits.max_areas})"
            )
        return CapInfo(
            language=self.text(elem, "language", where) or "en-US",
            categories=tuple(dict.fromkeys(categories)),
            event=self.required(elem, "event", where),
            urgency=self.choice(elem, "urgency", URGENCIES, where, None),
            severity=self.choice(elem, "severity", SEVERITIES, where, None),
            certainty=_member(certainty, CERTAINTIES, f"{where}: <certainty>"),
            response_types=tuple(dict.fromkeys(response_types)),
            effective=self.time(elem, "effective", where),
            onset=self.time(elem, "onset", where),
            expires=self.time(elem, "expires", where),
            sender_name=self.text(elem, "senderName", where),
            headline=self.text(elem, "headline", where),
            description=self.text(elem, "description", where),
            instruction=self.text(elem, "instruction", where),
            web=self.text(elem, "web", where),
            parameters=self.pairs(elem, "parameter"),
            areas=tuple(self.area(a, f"{where}, area #{i + 1}") for i, a in enumerate(area_elems)),
        )

    def pairs(self, elem: Element, name: str) -> tuple[tuple[str, str], ...]:
        out = []
        for child in self.children(elem, name):
            key = self.text(child, "valueName", f"<{name}>")
            value = self.text(child, "value", f"<{name}>")
            if key:
                out.append((key, value))
        return tuple(out)

    def area(self, elem: Element, where: str) -> CapArea:
        polygons = []
        for child in self.children(elem, "polygon"):
            if not (child.text or "").strip():
                continue  # <polygon/>: nothing said (Israel's IMS sends these)
            polygon = self.polygon(child.text or "", where)
            if polygon is not None:
                polygons.append(polygon)
        circles = []
        for child in self.children(elem, "circle"):
            circle = _circle(child.text or "")
            if circle is None:
                self.flag(
                    Reason.BAD_CIRCLE,
                    f"{where}: circle {_short((child.text or '').strip())!r} is not "
                    "'lat,lon radius_km' (dropped)",
                )
            else:
                circles.append(circle)
        return CapArea(
            desc=self.text(elem, "areaDesc", where),
            polygons=tuple(polygons),
            circles=tuple(circles),
            geocodes=self.pairs(elem, "geocode"),
        )

    def polygon(self, text: str, where: str) -> tuple[tuple[float, float], ...] | None:
        tokens = text.split()
        if len(tokens) > self.limits.max_polygon_points or (
            self.points + len(tokens) > self.limits.max_total_points
        ):
            self.flag(
                Reason.POLYGON_TOO_LARGE,
                f"{where}: a polygon of {len(tokens)} points (max "
                f"{self.limits.max_polygon_points}, {self.limits.max_total_points} in all; "
                "dropped)",
            )
            return None
        self.points += len(tokens)
        pairs = []
        for token in tokens:
            pair = _lat_lon(token)
            if pair is None:
                self.flag(
                    Reason.BAD_POLYGON,
                    f"{where}: polygon point {_short(token)!r} is not lat,lon in range (dropped)",
                )
                return None
            pairs.append(pair)
        if len(pairs) >= 3 and pairs[0] != pairs[-1]:
            pairs.append(pairs[0])
            self.flag(
                Reason.POLYGON_UNCLOSED, f"{where}: polygon not closed (closed by the bridge)"
            )
        if len(pairs) < 4 or len(set(pairs)) < 3:
            self.flag(
                Reason.POLYGON_TOO_FEW_POINTS,
                f"{where}: polygon of {len(tokens)} points (CAP needs 4 pairs, closed; dropped)",
            )
            return None
        return tuple(pairs)


def _member(value: str, allowed: Iterable[str], where: str) -> str:
    folded = value.strip().casefold()
    for member in allowed:
        if member.casefold() == folded:
            return member
    raise CapRejected(Reason.BAD_VALUE, f"{where}: {_short(value)!r} is not a CAP value")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # no NaN, no inf


def _lat_lon(token: str) -> tuple[float, float] | None:
    parts = token.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _number(parts[0]), _number(parts[1])
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return (lat, lon)


def _circle(text: str) -> Circle | None:
    parts = text.split()
    if len(parts) != 2:
        return None
    centre = _lat_lon(parts[0])
    radius = _number(parts[1])
    if centre is None or radius is None or not 0 <= radius <= 20_000:
        return None
    return Circle(centre[0], centre[1], radius)
