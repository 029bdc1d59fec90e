"""Message kinds: what each says, its fields, limits, lifetimes and who may send it.

Each kind has a number on the wire (:class:`Kind`), a body dataclass declared with
:func:`protocol.schema.field` (map key, default, limits) and a :class:`KindRules` entry
(reference count, default and maximum lifetime). Enumerations are small integers; their
French and English labels live in :mod:`protocol.i18n`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import InvalidMessage
from .schema import Point, field, is_blank, validate_fields

__all__ = [
    "BODY_TYPES",
    "CLAIM_HOLD",
    "KIND_RULES",
    "Alert",
    "AlertOrigin",
    "Body",
    "Category",
    "Certainty",
    "CheckIn",
    "CheckInStatus",
    "Claim",
    "Comment",
    "Corroboration",
    "Handset",
    "HelpOffer",
    "HelpRequest",
    "Incident",
    "IncidentType",
    "Kind",
    "KindRules",
    "Mark",
    "Need",
    "OfficialSource",
    "Outcome",
    "Point",
    "RequestUrgency",
    "Resolution",
    "ResourcePoint",
    "ResourceType",
    "Retraction",
    "Revoke",
    "RevokeReason",
    "Role",
    "RosterEntry",
    "Severity",
    "Tip",
    "TipType",
    "Urgency",
    "Verdict",
    "Vouch",
]

HOUR = 60  # lifetimes are counted in minutes on the wire
DAY = 24 * HOUR


class Kind(enum.IntEnum):
    ALERT = 1
    HELP_REQUEST = 2
    HELP_OFFER = 3
    CLAIM = 4
    RESOLUTION = 5
    CHECKIN = 6
    INCIDENT = 7
    RESOURCE_POINT = 8
    TIP = 9
    RETRACTION = 10
    VOUCH = 11
    REVOKE = 12
    COMMENT = 13
    MARK = 14  # a relay's or coordinator's verification mark
    CORROBORATION = 15  # a neighbour saw it too
    ROSTER_ENTRY = 16  # "please check on me", readable by the relays only


#: Kind numbers reserved for later versions; an envelope using one is an unknown kind today.
RESERVED_KINDS: frozenset[int] = frozenset()


class Severity(enum.IntEnum):
    """CAP severity."""

    UNKNOWN = 0
    MINOR = 1
    MODERATE = 2
    SEVERE = 3
    EXTREME = 4


class Urgency(enum.IntEnum):
    """CAP urgency: how soon to act on an alert."""

    UNKNOWN = 0
    PAST = 1
    FUTURE = 2
    EXPECTED = 3
    IMMEDIATE = 4


class RequestUrgency(enum.IntEnum):
    """How urgent a help request is."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    CRITICAL = 4  # a life is at risk


class Certainty(enum.IntEnum):
    """CAP certainty."""

    UNKNOWN = 0
    UNLIKELY = 1
    POSSIBLE = 2
    LIKELY = 3
    OBSERVED = 4


class Category(enum.IntEnum):
    """CAP event category."""

    OTHER = 0
    GEO = 1
    MET = 2
    SAFETY = 3
    SECURITY = 4
    RESCUE = 5
    FIRE = 6
    HEALTH = 7
    ENV = 8
    TRANSPORT = 9
    INFRA = 10
    CBRNE = 11


class AlertOrigin(enum.IntEnum):
    COMMUNITY = 0
    OFFICIAL = 1  # a mirror of an official (CAP) alert; only zone-authorised bridges


class Need(enum.IntEnum):
    """What a help request asks for or a help offer provides."""

    WATER = 1
    FOOD = 2
    MEDICAL = 3
    MEDICATION = 4
    EVACUATION = 5
    SHELTER = 6
    POWER = 7  # power or charging
    TRANSPORT = 8
    CHECK_ON_PERSON = 9
    OTHER = 10
    # skills and equipment, mostly standing offers made before any crisis
    FIRST_AID = 11
    GENERATOR = 12
    FOUR_BY_FOUR = 13
    SPARE_ROOM = 14
    TOOLS = 15


#: Needs a help request may ask for (the rest are things one offers).
REQUEST_NEEDS = frozenset(n for n in Need if n <= Need.OTHER)


class Outcome(enum.IntEnum):
    DONE = 1
    CANCELLED = 2


class CheckInStatus(enum.IntEnum):
    SAFE = 1
    NEED_HELP = 2
    EVACUATED = 3
    NO_POWER = 4
    INJURED = 5
    SHELTERING = 6  # sheltering in place
    NOBODY_HOME = 7  # a visit on someone's behalf found nobody


class IncidentType(enum.IntEnum):
    FLOODING = 1
    ROAD_BLOCKED = 2
    POWER_LINE_DOWN = 3
    FIRE = 4
    GAS_LEAK = 5
    BUILDING_DAMAGE = 6
    TREE_DOWN = 7
    WATER_CONTAMINATION = 8
    CHEMICAL = 9  # smell, cloud, spill (SEVESO)
    OTHER = 10


class ResourceType(enum.IntEnum):
    WATER_DISTRIBUTION = 1
    SHELTER = 2
    CHARGING = 3
    FOOD = 4
    MEDICAL_POST = 5
    INFORMATION = 6
    OTHER = 7


class TipType(enum.IntEnum):
    TIP = 1  # a quiet-time safety tip
    DRILL = 2  # notice of an exercise: never a real alert


class Role(enum.IntEnum):
    """What a key may do in a zone that has a charter (SPEC.md 11a)."""

    HOUSEHOLD = 1  # a neighbour a relay or a coordinator knows
    RELAY = 2  # marks reports, reads the check-on-me roster, visits
    BRIDGE = 3  # mirrors official alerts
    COORDINATOR = 4  # vouches and revokes: the founders, and whom they make coordinators


class Verdict(enum.IntEnum):
    """A relay's or coordinator's verdict on a report or request."""

    CONFIRMED = 1
    FALSE = 2


class RevokeReason(enum.IntEnum):
    """Why a role is revoked: shown to users, no effect on the rules."""

    WITHDRAWN = 1  # stepping down, moved away
    KEY_LOST = 2  # lost or stolen
    MISCONDUCT = 3


# Text limits in UTF-8 bytes.
SHORT = 48  # a place or a name
LINE = 140  # a headline, a short note
TEXT = 280  # a request's or a comment's text
LONG = 1000  # an alert's instruction, a tip


class _BodyBase:
    """Validation on construction, shared by every body."""

    KIND: ClassVar[Kind]

    def __post_init__(self) -> None:
        validate_fields(self, self.KIND.name.lower())
        self.check()

    def check(self) -> None:
        """Cross-field rules of the kind (overridden where there are some)."""


@dataclass(frozen=True, slots=True)
class OfficialSource:
    """Where an official mirror comes from: the CAP message it reproduces."""

    source: str = field(0, max_bytes=SHORT)  # the configured feed's name
    sender: str = field(1, max_bytes=LINE)  # CAP <sender>
    identifier: str = field(2, max_bytes=200)  # CAP <identifier>
    sent: int = field(3, min_value=0, max_value=2**32 - 1)  # CAP <sent>, unix seconds
    digest: bytes = field(4, max_bytes=32)  # SHA-256 of the original CAP document

    def __post_init__(self) -> None:
        validate_fields(self, "official")


#: Meshtastic node numbers: 32 bits; 0 is no node and 0xFFFFFFFF is the broadcast address.
_NODE_MIN, _NODE_MAX = 1, 2**32 - 2


@dataclass(frozen=True, slots=True)
class Handset:
    """The plain Meshtastic handset a message was heard from: the author (the witness) typed
    nothing, it only vouches that it heard this node number (spoofable on a channel)."""

    node: int = field(0, min_value=_NODE_MIN, max_value=_NODE_MAX)  # Meshtastic node number
    name: str = field(1, default="", max_bytes=SHORT)  # the name the handset announced

    def __post_init__(self) -> None:
        validate_fields(self, "handset")

    def __str__(self) -> str:
        return f"!{self.node:08x}"  # how Meshtastic writes a node id


@dataclass(frozen=True, slots=True)
class Alert(_BodyBase):
    KIND: ClassVar[Kind] = Kind.ALERT
    headline: str = field(0, max_bytes=LINE)
    severity: Severity = field(1, default=Severity.UNKNOWN)
    urgency: Urgency = field(2, default=Urgency.UNKNOWN)
    certainty: Certainty = field(3, default=Certainty.UNKNOWN)
    category: Category = field(4, default=Category.OTHER)
    instruction: str = field(5, default="", max_bytes=LONG, multiline=True)
    area: str = field(6, default="", max_bytes=LINE)
    origin: AlertOrigin = field(7, default=AlertOrigin.COMMUNITY)
    official: OfficialSource | None = field(8, default=None)
    exercise: bool = field(9, default=False)  # CAP Exercise/Test: never shown as real
    all_clear: bool = field(10, default=False)  # the danger is over (CAP AllClear)

    def check(self) -> None:
        if is_blank(self.headline):
            raise InvalidMessage("alert: the headline is empty")
        if (self.origin is AlertOrigin.OFFICIAL) != (self.official is not None):
            raise InvalidMessage("alert: an official mirror, and only one, names its source")


@dataclass(frozen=True, slots=True)
class HelpRequest(_BodyBase):
    KIND: ClassVar[Kind] = Kind.HELP_REQUEST
    need: Need = field(0)
    urgency: RequestUrgency = field(1, default=RequestUrgency.NORMAL)
    people: int = field(2, default=1, min_value=1, max_value=999)
    vulnerable: bool = field(3, default=False)
    place: str = field(4, default="", max_bytes=SHORT)  # coarse: street, block, geohash
    point: Point | None = field(5, default=None)  # precise, optional
    text: str = field(6, default="", max_bytes=TEXT, multiline=True)
    via: Handset | None = field(7, default=None)  # typed on a handset, heard by the author

    def check(self) -> None:
        if self.need not in REQUEST_NEEDS:
            raise InvalidMessage(f"help_request: {self.need.name.lower()} is offered, not asked")


@dataclass(frozen=True, slots=True)
class HelpOffer(_BodyBase):
    KIND: ClassVar[Kind] = Kind.HELP_OFFER
    what: Need = field(0)
    standing: bool = field(1, default=False)  # offered ahead of any crisis
    capacity: int = field(2, default=1, min_value=1, max_value=999)
    place: str = field(3, default="", max_bytes=SHORT)
    point: Point | None = field(4, default=None)
    text: str = field(5, default="", max_bytes=TEXT, multiline=True)


#: How long a claim holds a request after its expected arrival time (created + eta): a helper
#: who neither resolves nor renews the claim by then lets the request go back to open.
CLAIM_HOLD = 4 * HOUR


@dataclass(frozen=True, slots=True)
class Claim(_BodyBase):
    """I am taking care of the referenced request.

    The claim *holds* the request for ``eta_minutes`` + :data:`CLAIM_HOLD` after its creation
    (then it lapses), but the message itself lives as long as the request, so that the
    claimer's resolution keeps counting when every node has pruned what expired.
    """

    KIND: ClassVar[Kind] = Kind.CLAIM
    eta_minutes: int = field(0, default=0, min_value=0, max_value=7 * DAY)
    text: str = field(1, default="", max_bytes=LINE)
    via: Handset | None = field(2, default=None)


@dataclass(frozen=True, slots=True)
class Resolution(_BodyBase):
    """The referenced request (or offer, or incident) is done or cancelled."""

    KIND: ClassVar[Kind] = Kind.RESOLUTION
    outcome: Outcome = field(0, default=Outcome.DONE)
    text: str = field(1, default="", max_bytes=LINE)
    via: Handset | None = field(2, default=None)


@dataclass(frozen=True, slots=True)
class CheckIn(_BodyBase):
    """How a household is, reported by itself or by a neighbour who visited."""

    KIND: ClassVar[Kind] = Kind.CHECKIN
    status: CheckInStatus = field(0)
    subject_key: bytes | None = field(1, default=None, max_bytes=32)  # visited household's key
    subject_name: str = field(2, default="", max_bytes=SHORT)  # or its name, if it has no node
    people: int = field(3, default=0, min_value=0, max_value=999)
    place: str = field(4, default="", max_bytes=SHORT)
    text: str = field(5, default="", max_bytes=LINE)
    via: Handset | None = field(6, default=None)

    def check(self) -> None:
        if self.subject_key is not None and self.subject_name:
            raise InvalidMessage("checkin: name the visited household by key or by name, not both")
        if self.subject_name and is_blank(self.subject_name):
            raise InvalidMessage("checkin: the visited household's name is blank")

    @property
    def on_behalf(self) -> bool:
        return self.subject_key is not None or bool(self.subject_name)


@dataclass(frozen=True, slots=True)
class Incident(_BodyBase):
    KIND: ClassVar[Kind] = Kind.INCIDENT
    type: IncidentType = field(0)
    severity: Severity = field(1, default=Severity.MODERATE)
    place: str = field(2, default="", max_bytes=SHORT)
    point: Point | None = field(3, default=None)
    text: str = field(4, default="", max_bytes=TEXT, multiline=True)


@dataclass(frozen=True, slots=True)
class ResourcePoint(_BodyBase):
    """A place to get water, shelter, power...; a new version supersedes the one it cites."""

    KIND: ClassVar[Kind] = Kind.RESOURCE_POINT
    type: ResourceType = field(0)
    name: str = field(1, max_bytes=SHORT)
    open: bool = field(2, default=True)
    point: Point | None = field(3, default=None)
    hours: str = field(4, default="", max_bytes=SHORT)
    text: str = field(5, default="", max_bytes=LINE)

    def check(self) -> None:
        if is_blank(self.name):
            raise InvalidMessage("resource_point: the name is empty")


@dataclass(frozen=True, slots=True)
class Tip(_BodyBase):
    KIND: ClassVar[Kind] = Kind.TIP
    title: str = field(0, max_bytes=LINE)
    type: TipType = field(1, default=TipType.TIP)
    text: str = field(2, default="", max_bytes=LONG, multiline=True)
    language: str = field(3, default="", max_bytes=8)  # "fr", "en"; empty = any
    drill_start: int = field(4, default=0, min_value=0, max_value=2**32 - 1)
    drill_end: int = field(5, default=0, min_value=0, max_value=2**32 - 1)

    def check(self) -> None:
        if is_blank(self.title):
            raise InvalidMessage("tip: the title is empty")
        if self.type is not TipType.DRILL and (self.drill_start or self.drill_end):
            raise InvalidMessage("tip: only a drill notice has a drill time")
        if self.drill_end and self.drill_end < self.drill_start:
            raise InvalidMessage("tip: the drill ends before it starts")


@dataclass(frozen=True, slots=True)
class Retraction(_BodyBase):
    """Withdraw one of one's own messages."""

    KIND: ClassVar[Kind] = Kind.RETRACTION
    reason: str = field(0, default="", max_bytes=LINE)


@dataclass(frozen=True, slots=True)
class Comment(_BodyBase):
    KIND: ClassVar[Kind] = Kind.COMMENT
    text: str = field(0, max_bytes=TEXT, multiline=True)

    def check(self) -> None:
        if is_blank(self.text):
            raise InvalidMessage("comment: the text is empty")


@dataclass(frozen=True, slots=True)
class Vouch(_BodyBase):
    """The author knows the household of key ``subject`` and gives it ``role``."""

    KIND: ClassVar[Kind] = Kind.VOUCH
    subject: bytes = field(0, max_bytes=32)
    role: Role = field(1, default=Role.HOUSEHOLD)
    name: str = field(2, default="", max_bytes=SHORT)  # how the voucher knows it: public


@dataclass(frozen=True, slots=True)
class Revoke(_BodyBase):
    """Key ``subject`` loses ``role`` (every role when absent), for good."""

    KIND: ClassVar[Kind] = Kind.REVOKE
    subject: bytes = field(0, max_bytes=32)
    role: Role | None = field(1, default=None)
    reason: RevokeReason = field(2, default=RevokeReason.WITHDRAWN)
    text: str = field(3, default="", max_bytes=LINE)


@dataclass(frozen=True, slots=True)
class Mark(_BodyBase):
    """A relay's or coordinator's verdict on the referenced report or request."""

    KIND: ClassVar[Kind] = Kind.MARK
    verdict: Verdict = field(0, default=Verdict.CONFIRMED)
    text: str = field(1, default="", max_bytes=LINE)


@dataclass(frozen=True, slots=True)
class Corroboration(_BodyBase):
    """A neighbour saw it too (an incident), or knows the need is real (a request)."""

    KIND: ClassVar[Kind] = Kind.CORROBORATION
    text: str = field(0, default="", max_bytes=LINE)


#: A roster entry's content key sealed to one relay: an X25519 ephemeral key, a 32-byte
#: key, a 16-byte tag (libsodium crypto_box_seal).
ROSTER_SLOT = 80
#: The most relays one roster entry is sealed to (SPEC.md 7.17: 17 would still fit).
MAX_ROSTER_RELAYS = 16
#: The roster plaintext is padded to a multiple of this, up to the maximum.
ROSTER_PAD = 64
MAX_ROSTER_PLAINTEXT = 7 * ROSTER_PAD
#: XChaCha20-Poly1305: a 24-byte nonce before the ciphertext, a 16-byte tag after it.
ROSTER_BOX_OVERHEAD = 24 + 16


@dataclass(frozen=True, slots=True)
class RosterEntry(_BodyBase):
    """"Please check on me": details only the zone's relays can read (protocol.roster)."""

    KIND: ClassVar[Kind] = Kind.ROSTER_ENTRY
    keys: bytes = field(0, min_bytes=ROSTER_SLOT, max_bytes=MAX_ROSTER_RELAYS * ROSTER_SLOT)
    box: bytes = field(
        1,
        min_bytes=ROSTER_BOX_OVERHEAD + ROSTER_PAD,
        max_bytes=ROSTER_BOX_OVERHEAD + MAX_ROSTER_PLAINTEXT,
    )

    def check(self) -> None:
        if len(self.keys) % ROSTER_SLOT:
            raise InvalidMessage(f"roster_entry: keys are slots of {ROSTER_SLOT} bytes")
        if (len(self.box) - ROSTER_BOX_OVERHEAD) % ROSTER_PAD:
            raise InvalidMessage(f"roster_entry: the content is padded to {ROSTER_PAD} bytes")

    @property
    def slots(self) -> tuple[bytes, ...]:
        return tuple(
            self.keys[i : i + ROSTER_SLOT] for i in range(0, len(self.keys), ROSTER_SLOT)
        )


Body = (
    Alert
    | HelpRequest
    | HelpOffer
    | Claim
    | Resolution
    | CheckIn
    | Incident
    | ResourcePoint
    | Tip
    | Retraction
    | Comment
    | Vouch
    | Revoke
    | Mark
    | Corroboration
    | RosterEntry
)

BODY_TYPES: dict[Kind, type[Any]] = {
    cls.KIND: cls
    for cls in (
        Alert,
        HelpRequest,
        HelpOffer,
        Claim,
        Resolution,
        CheckIn,
        Incident,
        ResourcePoint,
        Tip,
        Retraction,
        Comment,
        Vouch,
        Revoke,
        Mark,
        Corroboration,
        RosterEntry,
    )
}


@dataclass(frozen=True, slots=True)
class KindRules:
    """Envelope-level rules of a kind."""

    min_refs: int
    max_refs: int
    default_lifetime: int  # minutes; omitted from the wire when used
    max_lifetime: int  # minutes
    what_refs_mean: str


KIND_RULES: dict[Kind, KindRules] = {
    Kind.ALERT: KindRules(
        0, 4, 1 * DAY, 14 * DAY, "earlier alerts of the same author it supersedes"
    ),
    Kind.HELP_REQUEST: KindRules(0, 0, 2 * DAY, 7 * DAY, "none"),
    Kind.HELP_OFFER: KindRules(0, 0, 2 * DAY, 366 * DAY, "none"),
    Kind.CLAIM: KindRules(1, 1, 2 * DAY, 7 * DAY, "the help request claimed"),
    Kind.RESOLUTION: KindRules(1, 1, 7 * DAY, 400 * DAY, "the request, offer or incident closed"),
    Kind.CHECKIN: KindRules(0, 1, 3 * DAY, 14 * DAY, "optionally, the alert it answers"),
    Kind.INCIDENT: KindRules(0, 1, 1 * DAY, 7 * DAY, "optionally, the earlier report it updates"),
    Kind.RESOURCE_POINT: KindRules(0, 1, 1 * DAY, 31 * DAY, "the earlier version it replaces"),
    Kind.TIP: KindRules(0, 0, 30 * DAY, 366 * DAY, "none"),
    Kind.RETRACTION: KindRules(1, 1, 7 * DAY, 400 * DAY, "the author's own message withdrawn"),
    Kind.COMMENT: KindRules(1, 1, 2 * DAY, 7 * DAY, "the message commented on"),
    Kind.VOUCH: KindRules(0, 0, 366 * DAY, 400 * DAY, "none"),
    Kind.REVOKE: KindRules(0, 0, 400 * DAY, 400 * DAY, "none"),
    Kind.MARK: KindRules(1, 1, 7 * DAY, 400 * DAY, "the report or request marked"),
    Kind.CORROBORATION: KindRules(1, 1, 2 * DAY, 31 * DAY, "the report or request seen too"),
    Kind.ROSTER_ENTRY: KindRules(
        0, 1, 90 * DAY, 400 * DAY, "optionally, the author's earlier entry it replaces"
    ),
}
