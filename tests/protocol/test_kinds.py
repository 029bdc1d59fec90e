"""Message kinds: every field's rules and limits, text rules, cross-field rules (SPEC.md 7)."""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any

import pytest

from protocol.errors import InvalidMessage, NonCanonical, PeerError
from protocol.kinds import (
    BODY_TYPES,
    KIND_RULES,
    RESERVED_KINDS,
    Alert,
    AlertOrigin,
    Category,
    Certainty,
    CheckIn,
    CheckInStatus,
    Claim,
    Comment,
    Corroboration,
    Handset,
    HelpOffer,
    HelpRequest,
    Incident,
    IncidentType,
    Kind,
    Mark,
    Need,
    OfficialSource,
    Outcome,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    ResourceType,
    Retraction,
    Revoke,
    RevokeReason,
    Role,
    RosterEntry,
    Severity,
    Tip,
    TipType,
    Urgency,
    Verdict,
    Vouch,
)
from protocol.schema import FieldSpec, Point, check_text, from_wire, to_wire

HOUR, DAY = 60, 1440

#: The smallest valid wire map of each body.
MINIMAL: dict[type, dict[int, Any]] = {
    Alert: {0: "Crue"},
    HelpRequest: {0: 1},
    HelpOffer: {0: 1},
    Claim: {},
    Resolution: {},
    CheckIn: {0: 1},
    Incident: {0: 1},
    ResourcePoint: {0: 1, 1: "Halle"},
    Tip: {0: "Eau"},
    Retraction: {},
    Comment: {0: "Merci"},
    Vouch: {0: bytes(32)},
    Revoke: {0: bytes(32)},
    Mark: {},
    Corroboration: {},
    RosterEntry: {0: bytes(80), 1: bytes(104)},
    OfficialSource: {0: "vigicrues", 1: "x@y.fr", 2: "FR-1", 3: 0, 4: bytes(32)},
    Handset: {0: 0xA1B2C3D4},
}

#: Fields that need a companion to be valid when set (cross-field rules).
COMPANIONS: dict[tuple[type, str], dict[int, Any]] = {
    (Alert, "official"): {7: 1},
    (Tip, "drill_start"): {1: 2},
    (Tip, "drill_end"): {1: 2},
}


def wire_fields(cls: type) -> list[tuple[str, FieldSpec, Any, Any]]:
    """(name, spec, base type, default) of each wire field."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("wire")
        if spec is None:
            continue
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        out.append((f.name, spec, args[0] if args else tp, f.default))
    return out


ALL_FIELDS = [(cls, *fd) for cls in MINIMAL for fd in wire_fields(cls)]
FIELD_IDS = [f"{cls.__name__}.{name}" for cls, name, *_ in ALL_FIELDS]


def fields_where(pred: Any) -> Any:
    chosen = [(c, n, s, t, d) for c, n, s, t, d in ALL_FIELDS if pred(c, n, s, t, d)]
    ids = [f"{c.__name__}.{n}" for c, n, *_ in chosen]
    return pytest.mark.parametrize(("cls", "name", "spec", "tp", "default"), chosen, ids=ids)


def with_field(cls: type, name: str, spec: FieldSpec, value: Any) -> dict[int, Any]:
    data = dict(MINIMAL[cls])
    data.update(COMPANIONS.get((cls, name), {}))
    data[spec.key] = value
    return data


def load(cls: type, data: dict[int, Any]) -> Any:
    return from_wire(cls, data, cls.__name__.lower())


def refused(cls: type, data: dict[int, Any], error: type = InvalidMessage, *frags: str) -> str:
    with pytest.raises(PeerError) as info:
        load(cls, data)
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    for frag in frags:
        assert frag in str(info.value), f"{frag!r} not in {str(info.value)!r}"
    return str(info.value)


def is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.IntEnum)


# --- the kinds table of SPEC.md 7.1 ----------------------------------------------------------


def test_kind_numbers() -> None:
    assert {k.name.lower(): int(k) for k in Kind} == {
        "alert": 1,
        "help_request": 2,
        "help_offer": 3,
        "claim": 4,
        "resolution": 5,
        "checkin": 6,
        "incident": 7,
        "resource_point": 8,
        "tip": 9,
        "retraction": 10,
        "comment": 13,
        "vouch": 11,
        "revoke": 12,
        "mark": 14,
        "corroboration": 15,
        "roster_entry": 16,
    }
    assert not RESERVED_KINDS  # 11 and 12 were reserved for vouch and revoke
    assert not RESERVED_KINDS & {int(k) for k in Kind}
    assert set(BODY_TYPES) == set(Kind) == set(KIND_RULES)
    for kind, cls in BODY_TYPES.items():
        assert cls.KIND is kind


def test_kind_rules_as_in_the_spec() -> None:
    table = {
        Kind.ALERT: (0, 4, 1 * DAY, 14 * DAY),
        Kind.HELP_REQUEST: (0, 0, 2 * DAY, 7 * DAY),
        Kind.HELP_OFFER: (0, 0, 2 * DAY, 366 * DAY),
        Kind.CLAIM: (1, 1, 2 * DAY, 7 * DAY),
        Kind.RESOLUTION: (1, 1, 7 * DAY, 400 * DAY),
        Kind.CHECKIN: (0, 1, 3 * DAY, 14 * DAY),
        Kind.INCIDENT: (0, 1, 1 * DAY, 7 * DAY),
        Kind.RESOURCE_POINT: (0, 1, 1 * DAY, 31 * DAY),
        Kind.TIP: (0, 0, 30 * DAY, 366 * DAY),
        Kind.RETRACTION: (1, 1, 7 * DAY, 400 * DAY),
        Kind.COMMENT: (1, 1, 2 * DAY, 7 * DAY),
        Kind.VOUCH: (0, 0, 366 * DAY, 400 * DAY),
        Kind.REVOKE: (0, 0, 400 * DAY, 400 * DAY),
        Kind.MARK: (1, 1, 7 * DAY, 400 * DAY),
        Kind.CORROBORATION: (1, 1, 2 * DAY, 31 * DAY),
        Kind.ROSTER_ENTRY: (0, 1, 90 * DAY, 400 * DAY),
    }
    for kind, (lo, hi, default, most) in table.items():
        rules = KIND_RULES[kind]
        assert (rules.min_refs, rules.max_refs) == (lo, hi), kind
        assert (rules.default_lifetime, rules.max_lifetime) == (default, most), kind
        assert 1 <= rules.default_lifetime <= rules.max_lifetime
        assert rules.what_refs_mean


def test_field_tables_as_in_the_spec() -> None:
    """Key, name, default and limit of every field, as SPEC.md's tables state them."""
    table = {
        Alert: "0 headline req 140|1 severity 0|2 urgency 0|3 certainty 0|4 category 0|"
        "5 instruction '' 1000 ml|6 area '' 140|7 origin 0|8 official None|9 exercise False|"
        "10 all_clear False",
        OfficialSource: "0 source req 48|1 sender req 140|2 identifier req 200|3 sent req|"
        "4 digest req 32",
        HelpRequest: "0 need req|1 urgency 2|2 people 1|3 vulnerable False|4 place '' 48|"
        "5 point None|6 text '' 280 ml|7 via None",
        HelpOffer: "0 what req|1 standing False|2 capacity 1|3 place '' 48|4 point None|"
        "5 text '' 280 ml",
        Claim: "0 eta_minutes 0|1 text '' 140|2 via None",
        Resolution: "0 outcome 1|1 text '' 140|2 via None",
        CheckIn: "0 status req|1 subject_key None 32|2 subject_name '' 48|3 people 0|"
        "4 place '' 48|5 text '' 140|6 via None",
        Incident: "0 type req|1 severity 2|2 place '' 48|3 point None|4 text '' 280 ml",
        ResourcePoint: "0 type req|1 name req 48|2 open True|3 point None|4 hours '' 48|"
        "5 text '' 140",
        Tip: "0 title req 140|1 type 1|2 text '' 1000 ml|3 language '' 8|4 drill_start 0|"
        "5 drill_end 0",
        Retraction: "0 reason '' 140",
        Comment: "0 text req 280 ml",
        Vouch: "0 subject req 32|1 role 1|2 name '' 48",
        Revoke: "0 subject req 32|1 role None|2 reason 1|3 text '' 140",
        Mark: "0 verdict 1|1 text '' 140",
        Corroboration: "0 text '' 140",
        RosterEntry: "0 keys req 1280|1 box req 488",
        Handset: "0 node req|1 name '' 48",
    }
    for cls, spec_text in table.items():
        got = []
        for name, spec, _, default in wire_fields(cls):
            words = [str(spec.key), name]
            if spec.required:
                words.append("req")
            elif isinstance(default, enum.IntEnum):
                words.append(str(int(default)))
            else:
                words.append(repr(default))
            if spec.max_bytes:
                words.append(str(spec.max_bytes))
            if spec.multiline:
                words.append("ml")
            got.append(" ".join(words))
        assert "|".join(got) == spec_text, cls.__name__


def test_enumerations_as_in_the_spec() -> None:
    def values(e: type[enum.IntEnum]) -> str:
        return " ".join(f"{int(m)}:{m.name.lower()}" for m in e)

    assert values(Severity) == "0:unknown 1:minor 2:moderate 3:severe 4:extreme"
    assert values(Urgency) == "0:unknown 1:past 2:future 3:expected 4:immediate"
    assert values(Certainty) == "0:unknown 1:unlikely 2:possible 3:likely 4:observed"
    assert values(Category) == (
        "0:other 1:geo 2:met 3:safety 4:security 5:rescue 6:fire 7:health 8:env 9:transport "
        "10:infra 11:cbrne"
    )
    assert values(AlertOrigin) == "0:community 1:official"
    assert values(Need) == (
        "1:water 2:food 3:medical 4:medication 5:evacuation 6:shelter 7:power 8:transport "
        "9:check_on_person 10:other 11:first_aid 12:generator 13:four_by_four 14:spare_room "
        "15:tools"
    )
    assert values(RequestUrgency) == "1:low 2:normal 3:high 4:critical"
    assert values(Outcome) == "1:done 2:cancelled"
    assert values(CheckInStatus) == (
        "1:safe 2:need_help 3:evacuated 4:no_power 5:injured 6:sheltering 7:nobody_home"
    )
    assert values(IncidentType) == (
        "1:flooding 2:road_blocked 3:power_line_down 4:fire 5:gas_leak 6:building_damage "
        "7:tree_down 8:water_contamination 9:chemical 10:other"
    )
    assert values(ResourceType) == (
        "1:water_distribution 2:shelter 3:charging 4:food 5:medical_post 6:information 7:other"
    )
    assert values(TipType) == "1:tip 2:drill"
    assert values(Role) == "1:household 2:relay 3:bridge 4:coordinator"
    assert values(Verdict) == "1:confirmed 2:false"
    assert values(RevokeReason) == "1:withdrawn 2:key_lost 3:misconduct"


# --- generic field rules, on the wire --------------------------------------------------------


@pytest.mark.parametrize("cls", list(MINIMAL), ids=lambda c: c.__name__)
def test_minimal_bodies_round_trip(cls: type) -> None:
    body = load(cls, MINIMAL[cls])
    assert to_wire(body) == MINIMAL[cls]
    assert body == cls(**{f.name: getattr(body, f.name) for f in dataclasses.fields(cls)})


@pytest.mark.parametrize("cls", list(MINIMAL), ids=lambda c: c.__name__)
def test_unknown_body_field(cls: type) -> None:
    top = max(spec.key for _, spec, _, _ in wire_fields(cls))
    for key in (top + 1, 23):
        refused(cls, {**MINIMAL[cls], key: 0}, InvalidMessage, f"unknown field {key}")


@fields_where(lambda c, n, s, t, d: s.required)
def test_required_field_missing(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    data = {k: v for k, v in MINIMAL[cls].items() if k != spec.key}
    refused(cls, data, InvalidMessage, f"required field {name} is missing")


@fields_where(lambda c, n, s, t, d: not s.required and d is not None)
def test_explicit_default_is_non_canonical(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    value = int(default) if is_enum(default) else default
    refused(cls, with_field(cls, name, spec, value), NonCanonical, name, "default value")


WRONG_TYPES: dict[Any, list[Any]] = {
    bool: [0, 1, "true", b"\x01", [True]],
    int: [True, False, "1", b"\x01", [1], {0: 1}],
    str: [b"text", 1, True, ["text"], {0: "x"}],
    bytes: ["00" * 32, 1, True, [b"x"]],
    Point: [[1], [1, 2, 3], [True, 1], [1, "2"], [1, b"2"], {0: 1, 1: 2}, 12, "45.1,4.8"],
}


@fields_where(lambda c, n, s, t, d: True)
def test_wrong_wire_types_are_invalid(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    if is_enum(tp):
        wrong = [True, "1", b"\x01", [1]]
    elif dataclasses.is_dataclass(tp):
        wrong = [[1], b"x", "x", 1, True]
    else:
        wrong = WRONG_TYPES[tp]
    for value in wrong:
        refused(cls, with_field(cls, name, spec, value), InvalidMessage, name)


@fields_where(lambda c, n, s, t, d: t is int)
def test_integer_limits(cls: type, name: str, spec: FieldSpec, tp: Any, default: Any) -> None:
    assert spec.min_value is not None and spec.max_value is not None, "every int is bounded"
    for good in (spec.min_value, spec.max_value):
        if good != default:
            assert getattr(load(cls, with_field(cls, name, spec, good)), name) == good
    refused(cls, with_field(cls, name, spec, spec.min_value - 1), InvalidMessage, "minimum")
    refused(cls, with_field(cls, name, spec, spec.max_value + 1), InvalidMessage, "maximum")
    refused(cls, with_field(cls, name, spec, 2**64 - 1), InvalidMessage, "maximum")
    refused(cls, with_field(cls, name, spec, -(2**64)), InvalidMessage, "minimum")


@fields_where(lambda c, n, s, t, d: is_enum(t))
def test_enum_values(cls: type, name: str, spec: FieldSpec, tp: Any, default: Any) -> None:
    for member in tp:
        if member == default:
            continue
        data = with_field(cls, name, spec, int(member))
        if cls is HelpRequest and name == "need" and member > Need.OTHER:
            refused(cls, data, InvalidMessage, "offered, not asked")
            continue
        if cls is Alert and name == "origin" and member is AlertOrigin.OFFICIAL:
            refused(cls, data, InvalidMessage, "official mirror")
            continue
        value = getattr(load(cls, data), name)
        assert value is member
    for bad in (min(tp) - 1, max(tp) + 1, 2**64 - 1, -1):
        refused(cls, with_field(cls, name, spec, bad), InvalidMessage, f"{bad} is not a known")


@fields_where(lambda c, n, s, t, d: t is bytes and s.min_bytes is None)
def test_fixed_size_bytes(cls: type, name: str, spec: FieldSpec, tp: Any, default: Any) -> None:
    assert getattr(load(cls, with_field(cls, name, spec, b"\xaa" * spec.max_bytes)), name)
    for size in (0, spec.max_bytes - 1, spec.max_bytes + 1):
        refused(
            cls,
            with_field(cls, name, spec, bytes(size)),
            InvalidMessage,
            f"must be {spec.max_bytes}",
        )


@fields_where(lambda c, n, s, t, d: t is Point)
def test_points(cls: type, name: str, spec: FieldSpec, tp: Any, default: Any) -> None:
    for lat, lon in [(0, 0), (9_000_000, 18_000_000), (-9_000_000, -18_000_000)]:
        assert getattr(load(cls, with_field(cls, name, spec, [lat, lon])), name) == Point(lat, lon)
    for lat, lon, what in [
        (9_000_001, 0, "latitude"),
        (-9_000_001, 0, "latitude"),
        (0, 18_000_001, "longitude"),
        (0, -18_000_001, "longitude"),
        (2**64 - 1, 0, "latitude"),
    ]:
        refused(cls, with_field(cls, name, spec, [lat, lon]), InvalidMessage, name, what)


# --- text -------------------------------------------------------------------------------------


TEXT_FIELDS = fields_where(lambda c, n, s, t, d: t is str)


@TEXT_FIELDS
def test_text_size_is_counted_in_utf8_bytes(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    limit = spec.max_bytes
    filler = "" if limit % 2 == 0 else "x"
    accents = "é" * (limit // 2) + filler  # exactly the limit, in half as many characters
    assert len(accents.encode()) == limit
    assert getattr(load(cls, with_field(cls, name, spec, accents)), name) == accents
    assert getattr(load(cls, with_field(cls, name, spec, "x" * limit)), name) == "x" * limit
    over = accents + "x"
    assert len(over) < limit  # short in characters, too long in bytes
    refused(
        cls,
        with_field(cls, name, spec, over),
        InvalidMessage,
        f"{limit + 1} bytes of text (max {limit})",
    )
    three = "–" * (limit // 3 + 1)  # U+2013 is 3 bytes
    refused(cls, with_field(cls, name, spec, three), InvalidMessage, "bytes of text")


FORBIDDEN = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\t",
    "\x0b",
    "\x0c",
    "\r",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x80",
    "\x85",
    "\x9b",
    "\x9f",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    # the other format (Cf) characters: invisible, they make texts look alike or empty
    "\xad",
    "\u0600",
    "\u180e",
    "\u200b",
    "\u2060",
    "\u2064",
    "\u206a",
    "\u206f",
    "\ufeff",
    "\ufff9",
    "\ufffb",
    "\U0001d173",
    "\U000e0001",
    "\U000e0041",
    "\U000e007f",
]

ALLOWED = [
    " ",
    "~",
    "\xa0",
    "\xa0",
    "é",
    "œ",
    "’",
    "«\u202f»",
    "€",
    "–",
    "\u200c",  # ZWNJ and ZWJ: the format characters that Indic scripts and emoji need
    "\u200d",
    "👩\u200d👧",
    "\u3164",  # a Hangul filler: allowed, but blank
    "\U000e0100",  # a variation selector (Mn), not a tag
    "日本",
    "🌊",
    "\U0010fffd",
]


@TEXT_FIELDS
def test_control_and_format_characters_are_refused(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    for char in FORBIDDEN:
        refused(
            cls,
            with_field(cls, name, spec, f"a{char}b"),
            InvalidMessage,
            name,
            f"control character U+{ord(char):04X} not allowed",
        )


@TEXT_FIELDS
def test_newline_only_in_multiline_fields(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    data = with_field(cls, name, spec, "a\nb")
    separated = with_field(cls, name, spec, "a\u2028b")
    if spec.multiline:
        assert getattr(load(cls, data), name) == "a\nb"
        assert getattr(load(cls, separated), name) == "a\u2028b"
        refused(cls, with_field(cls, name, spec, "a\r\nb"), InvalidMessage, "U+000D")
    else:
        refused(cls, data, InvalidMessage, "U+000A")
        refused(cls, separated, InvalidMessage, "U+2028")


@TEXT_FIELDS
def test_printable_unicode_is_allowed(
    cls: type, name: str, spec: FieldSpec, tp: Any, default: Any
) -> None:
    for text in ALLOWED:
        if len(f"a{text}b".encode()) > spec.max_bytes:
            continue
        assert getattr(load(cls, with_field(cls, name, spec, f"a{text}b")), name) == f"a{text}b"


def test_check_text_directly() -> None:
    check_text("", "x", 0, False)
    check_text("abc", "x", 3, False)
    with pytest.raises(InvalidMessage, match=r"^where: 4 bytes of text \(max 3\)$"):
        check_text("abcd", "where", 3, False)
    with pytest.raises(InvalidMessage, match=r"U\+000A"):
        check_text("a\nb", "x", 10, False)
    check_text("a\nb", "x", 10, True)


def test_the_arabic_letter_mark_is_a_bidi_control_too() -> None:
    """BUG (protocol/schema.py, _FORBIDDEN): U+061C ARABIC LETTER MARK has the Unicode property
    Bidi_Control like U+200E/U+200F, but is accepted. Fix: add ``\\u061c`` to _FORBIDDEN."""
    with pytest.raises(InvalidMessage, match=r"U\+061C"):
        Comment(text="a\u061cb")


def test_lone_surrogates_are_refused_as_invalid() -> None:
    """BUG (protocol/schema.py, check_text): text with a lone surrogate (e.g. from a terminal
    read with surrogateescape) raises UnicodeEncodeError instead of InvalidMessage. Fix: catch
    UnicodeEncodeError around ``value.encode("utf-8")`` and raise InvalidMessage."""
    with pytest.raises(InvalidMessage):
        Comment(text="a\udcffb")
    with pytest.raises(InvalidMessage):
        HelpRequest(need=Need.FOOD, place="\ud800")


# --- text rules also apply when a body is built in memory ----------------------------------


def test_construction_validates_every_field() -> None:
    with pytest.raises(InvalidMessage, match=r"help_request\.people: 0 is below the minimum 1"):
        HelpRequest(need=Need.FOOD, people=0)
    with pytest.raises(InvalidMessage, match=r"help_request\.place: 49 bytes of text \(max 48\)"):
        HelpRequest(need=Need.FOOD, place="é" * 24 + "x")
    HelpRequest(need=Need.FOOD, place="é" * 24)
    with pytest.raises(InvalidMessage, match=r"checkin\.text: control character U\+000A"):
        CheckIn(status=CheckInStatus.SAFE, text="a\nb")
    with pytest.raises(InvalidMessage, match="expected true or false"):
        HelpRequest(need=Need.FOOD, vulnerable=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match=r"official\.digest: 31 bytes"):
        OfficialSource(source="s", sender="s", identifier="i", sent=0, digest=bytes(31))


# --- kind by kind: the cross-field rules ------------------------------------------------------


def test_alert_rules() -> None:
    refused(Alert, {0: ""}, InvalidMessage, "headline is empty")
    refused(Alert, {0: "  \u3000\xa0"}, InvalidMessage, "headline is empty")
    refused(Alert, {0: "Crue", 7: 1}, InvalidMessage, "official mirror")
    refused(Alert, {0: "Crue", 8: MINIMAL[OfficialSource]}, InvalidMessage, "official mirror")
    refused(Alert, {0: "Crue", 7: 1, 8: {}}, InvalidMessage, "source is missing")
    alert = load(Alert, {0: "Crue", 7: 1, 8: MINIMAL[OfficialSource], 9: True, 10: True})
    assert alert.origin is AlertOrigin.OFFICIAL
    assert alert.official == OfficialSource("vigicrues", "x@y.fr", "FR-1", 0, bytes(32))
    assert alert.exercise and alert.all_clear
    with pytest.raises(InvalidMessage):
        Alert(headline="Crue", origin=AlertOrigin.OFFICIAL)


def test_official_source_rules() -> None:
    base = MINIMAL[OfficialSource]
    refused(OfficialSource, {**base, 2: "x" * 201}, InvalidMessage, "201 bytes")
    assert load(OfficialSource, {**base, 2: "x" * 200}).identifier == "x" * 200
    refused(OfficialSource, {**base, 3: -1}, InvalidMessage, "minimum 0")
    refused(OfficialSource, {**base, 3: 2**32}, InvalidMessage, "maximum")
    source = load(OfficialSource, {**base, 0: "", 1: ""})  # required, yet may be empty
    assert source.source == ""


def test_help_request_rules() -> None:
    for need in Need:
        data = {0: int(need)}
        if need <= Need.OTHER:
            assert load(HelpRequest, data).need is need
        else:
            refused(HelpRequest, data, InvalidMessage, f"{need.name.lower()} is offered, not asked")
    request = load(HelpRequest, {0: 5, 1: 4, 2: 999, 3: True, 5: [4_575_812, 484_655]})
    assert request.urgency is RequestUrgency.CRITICAL
    assert request.point == Point(4_575_812, 484_655)


def test_help_offer_offers_anything() -> None:
    for need in Need:
        assert load(HelpOffer, {0: int(need)}).what is need
    assert load(HelpOffer, {0: 12, 1: True, 2: 999}).capacity == 999


def test_claim_rules() -> None:
    assert load(Claim, {0: 7 * DAY}).eta_minutes == 7 * DAY
    refused(Claim, {0: 7 * DAY + 1}, InvalidMessage, "maximum")


def test_resolution_rules() -> None:
    assert load(Resolution, {}).outcome is Outcome.DONE
    assert load(Resolution, {0: 2}).outcome is Outcome.CANCELLED
    refused(Resolution, {0: 1}, NonCanonical)
    refused(Resolution, {0: 3}, InvalidMessage)


def test_checkin_rules() -> None:
    key = bytes(range(32))
    refused(CheckIn, {0: 1, 1: key, 2: "Dupont"}, InvalidMessage, "by key or by name, not both")
    assert load(CheckIn, {0: 7, 1: key}).on_behalf
    assert load(CheckIn, {0: 3, 2: "Mme Dupont"}).on_behalf
    assert not load(CheckIn, {0: 1, 3: 4}).on_behalf
    with pytest.raises(InvalidMessage, match="not both"):
        CheckIn(status=CheckInStatus.SAFE, subject_key=key, subject_name="x")


def test_incident_rules() -> None:
    assert load(Incident, {0: 1}).severity is Severity.MODERATE
    refused(Incident, {0: 1, 1: 2}, NonCanonical, "severity")
    assert load(Incident, {0: 1, 1: 0}).severity is Severity.UNKNOWN


def test_resource_point_rules() -> None:
    refused(ResourcePoint, {0: 1, 1: " "}, InvalidMessage, "name is empty")
    refused(ResourcePoint, {0: 1}, InvalidMessage, "name is missing")
    assert load(ResourcePoint, {0: 1, 1: "Halle"}).open is True
    assert load(ResourcePoint, {0: 1, 1: "Halle", 2: False}).open is False
    refused(ResourcePoint, {0: 1, 1: "Halle", 2: True}, NonCanonical, "open")


def test_tip_rules() -> None:
    refused(Tip, {0: "\n"}, InvalidMessage, "U+000A")
    refused(Tip, {0: " "}, InvalidMessage, "title is empty")
    refused(Tip, {0: "Eau", 4: 10}, InvalidMessage, "only a drill notice has a drill time")
    refused(Tip, {0: "Eau", 5: 10}, InvalidMessage, "only a drill notice has a drill time")
    refused(Tip, {0: "Eau", 1: 2, 4: 20, 5: 10}, InvalidMessage, "ends before it starts")
    assert load(Tip, {0: "Eau", 1: 2, 4: 20, 5: 20}).drill_end == 20
    assert load(Tip, {0: "Eau", 1: 2, 4: 20}).drill_end == 0  # open-ended
    assert load(Tip, {0: "Eau", 1: 2, 5: 20}).drill_start == 0
    assert load(Tip, {0: "Eau", 1: 2}).type is TipType.DRILL
    assert load(Tip, {0: "Eau", 3: "fr"}).language == "fr"
    refused(Tip, {0: "Eau", 3: "fr-FR-x-y"}, InvalidMessage, "9 bytes of text (max 8)")


def test_retraction_rules() -> None:
    assert load(Retraction, {}).reason == ""
    assert load(Retraction, {0: "Doublon"}).reason == "Doublon"


def test_comment_rules() -> None:
    refused(Comment, {0: ""}, InvalidMessage, "text is empty")
    refused(Comment, {0: "\n \n"}, InvalidMessage, "text is empty")
    assert load(Comment, {0: "Merci\n\nà demain"}).text == "Merci\n\nà demain"


def test_nested_errors_name_the_path() -> None:
    data = {0: "Crue", 7: 1, 8: {**MINIMAL[OfficialSource], 4: bytes(31)}}
    message = refused(Alert, data, InvalidMessage)
    assert "official" in message and "digest" in message and "31 bytes" in message


# --- points ------------------------------------------------------------------------------------


def test_point_helpers() -> None:
    point = Point.from_degrees(45.75812, 4.84655)
    assert point == Point(4_575_812, 484_655)
    assert str(point) == "45.75812,4.84655"
    assert point.lat == pytest.approx(45.75812)
    assert point.lon == pytest.approx(4.84655)
    assert str(Point(-9_000_000, -18_000_000)) == "-90.00000,-180.00000"
    with pytest.raises(InvalidMessage, match="latitude"):
        Point.from_degrees(90.00001, 0)
    with pytest.raises(InvalidMessage, match="longitude"):
        Point(0, True)  # type: ignore[arg-type]


def test_text_that_shows_nothing_counts_as_empty() -> None:
    with pytest.raises(InvalidMessage, match="headline is empty"):
        Alert(headline="\u3164\u200d ")
    with pytest.raises(InvalidMessage, match="name is blank"):
        CheckIn(status=CheckInStatus.NOBODY_HOME, subject_name="\u2800")
