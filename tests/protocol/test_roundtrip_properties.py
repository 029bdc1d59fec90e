"""Round-trip properties (hypothesis): every valid message survives seal → bytes → decode.

Body strategies are derived from the field declarations (type, map key, limits), so a new
field is covered without touching this file; the cross-field rules of each kind are then
applied to the drawn values.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any

import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.encoding import MAX_DEPTH, MAX_KEY, decode_canonical, encode_canonical
from protocol.envelope import MAX_CREATED, MIN_CREATED, Envelope, decode, seal
from protocol.errors import DecodeError, Truncated
from protocol.kinds import (
    BODY_TYPES,
    KIND_RULES,
    REQUEST_NEEDS,
    Alert,
    AlertOrigin,
    CheckIn,
    Comment,
    HelpRequest,
    Kind,
    ResourcePoint,
    Tip,
    TipType,
)
from protocol.schema import FieldSpec, Point, from_wire, to_wire

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Characters a text may contain (SPEC.md 7.1): no C0/C1 controls, no format characters
#: (bidi and invisible ones; ZWNJ and ZWJ are allowed but left out here), no surrogates, no
#: line breaks; line breaks added for multi-line fields.
SAFE_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"))
NEWLINE_CHARS = st.one_of(SAFE_CHARS, st.sampled_from(["\n", "\u2028", "\u2029"]))


def utf8_text(max_bytes: int, multiline: bool) -> st.SearchStrategy[str]:
    """Text within ``max_bytes`` of UTF-8, biased towards the limit and towards accents."""
    chars = NEWLINE_CHARS if multiline else SAFE_CHARS
    alphabet = st.one_of(chars, st.sampled_from("éèàçœ’ «»–"), st.sampled_from("abc "))
    return st.text(alphabet, max_size=max_bytes).map(lambda s: _clip(s, max_bytes))


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")[:max_bytes]
    return data.decode("utf-8", errors="ignore")


def wire_fields(cls: type) -> list[tuple[str, FieldSpec, Any, bool]]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("wire")
        if spec is None:
            continue
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = bool(args)
        out.append((f.name, spec, args[0] if args else tp, optional))
    return out


def value_strategy(spec: FieldSpec, tp: Any) -> st.SearchStrategy[Any]:
    if tp is bool:
        return st.booleans()
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        return st.sampled_from(list(tp))
    if tp is int:
        assert spec.min_value is not None and spec.max_value is not None
        return st.integers(spec.min_value, spec.max_value)
    if tp is str:
        return utf8_text(spec.max_bytes, spec.multiline)
    if tp is bytes:
        return st.binary(min_size=spec.max_bytes, max_size=spec.max_bytes)
    if tp is Point:
        return st.builds(
            Point, st.integers(-9_000_000, 9_000_000), st.integers(-18_000_000, 18_000_000)
        )
    if dataclasses.is_dataclass(tp):
        return fields_strategy(tp).map(lambda kw: tp(**kw))
    raise AssertionError(f"no strategy for {tp!r}")


def fields_strategy(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, spec, tp, optional in wire_fields(cls):
        strategy = value_strategy(spec, tp)
        parts[name] = st.one_of(st.none(), strategy) if optional else strategy
    return st.fixed_dictionaries(parts)


def _non_blank(text: str) -> str:
    return text if text.strip() else "x"


def _fix_cross_field_rules(cls: type, kw: dict[str, Any]) -> dict[str, Any]:
    """Adjust drawn values so the kind's cross-field rules hold (SPEC.md 7.2–7.12)."""
    if cls is Alert:
        kw["headline"] = _non_blank(kw["headline"])
        if kw["official"] is None:
            kw["origin"] = AlertOrigin.COMMUNITY
        else:
            kw["origin"] = AlertOrigin.OFFICIAL
    elif cls is HelpRequest:
        if kw["need"] not in REQUEST_NEEDS:
            kw["need"] = sorted(REQUEST_NEEDS)[kw["need"] % len(REQUEST_NEEDS)]
    elif cls is CheckIn:
        if kw["subject_key"] is not None:
            kw["subject_name"] = ""
    elif cls is ResourcePoint:
        kw["name"] = _non_blank(kw["name"])
    elif cls is Tip:
        kw["title"] = _non_blank(kw["title"])
        if kw["type"] is not TipType.DRILL:
            kw["drill_start"] = kw["drill_end"] = 0
        elif kw["drill_end"] and kw["drill_end"] < kw["drill_start"]:
            kw["drill_start"], kw["drill_end"] = kw["drill_end"], kw["drill_start"]
    elif cls is Comment:
        kw["text"] = _non_blank(kw["text"])
    return kw


def body_strategy(kind: Kind) -> st.SearchStrategy[Any]:
    cls = BODY_TYPES[kind]
    return fields_strategy(cls).map(lambda kw: cls(**_fix_cross_field_rules(cls, kw)))


@st.composite
def envelope_inputs(draw: st.DrawFn, kind: Kind) -> dict[str, Any]:
    rules = KIND_RULES[kind]
    ids = st.binary(min_size=32, max_size=32)
    return {
        "body": draw(body_strategy(kind)),
        "signing_key": nacl.signing.SigningKey(draw(st.binary(min_size=32, max_size=32))),
        "created": draw(st.integers(MIN_CREATED, MAX_CREATED)),
        "zone": draw(st.binary(min_size=4, max_size=4)),
        "refs": tuple(
            draw(st.lists(ids, min_size=rules.min_refs, max_size=rules.max_refs, unique=True))
        ),
        "lifetime": draw(st.one_of(st.none(), st.integers(1, rules.max_lifetime))),
    }


def check_round_trip(inputs: dict[str, Any]) -> None:
    env = seal(**inputs)
    assert isinstance(env, Envelope)
    again = decode(env.raw)
    assert again == env
    assert again.raw == env.raw
    assert again.body == inputs["body"]
    assert again.refs == inputs["refs"]
    assert again.created == inputs["created"]
    rules = KIND_RULES[env.kind]
    want_lifetime = inputs["lifetime"] or rules.default_lifetime
    assert again.lifetime == want_lifetime
    # The decoded fields seal back to the very same bytes.
    resealed = seal(
        again.body,
        signing_key=inputs["signing_key"],
        created=again.created,
        zone=again.zone,
        refs=again.refs,
        lifetime=again.lifetime,
    )
    assert resealed.raw == env.raw
    # The body's wire map is canonical: defaults omitted, and it reads back identically.
    wire = to_wire(again.body)
    assert from_wire(type(again.body), wire) == again.body
    assert encode_canonical(wire) == encode_canonical(to_wire(inputs["body"]))
    assert len(env.raw) <= 2048


def _make_kind_test(kind: Kind) -> Any:
    @SETTINGS
    @given(envelope_inputs(kind))
    def test(inputs: dict[str, Any]) -> None:
        check_round_trip(inputs)

    test.__name__ = f"test_round_trip_{kind.name.lower()}"
    return test


test_round_trip_alert = _make_kind_test(Kind.ALERT)
test_round_trip_help_request = _make_kind_test(Kind.HELP_REQUEST)
test_round_trip_help_offer = _make_kind_test(Kind.HELP_OFFER)
test_round_trip_claim = _make_kind_test(Kind.CLAIM)
test_round_trip_resolution = _make_kind_test(Kind.RESOLUTION)
test_round_trip_checkin = _make_kind_test(Kind.CHECKIN)
test_round_trip_incident = _make_kind_test(Kind.INCIDENT)
test_round_trip_resource_point = _make_kind_test(Kind.RESOURCE_POINT)
test_round_trip_tip = _make_kind_test(Kind.TIP)
test_round_trip_retraction = _make_kind_test(Kind.RETRACTION)
test_round_trip_comment = _make_kind_test(Kind.COMMENT)
test_round_trip_vouch = _make_kind_test(Kind.VOUCH)
test_round_trip_revoke = _make_kind_test(Kind.REVOKE)
test_round_trip_mark = _make_kind_test(Kind.MARK)
test_round_trip_corroboration = _make_kind_test(Kind.CORROBORATION)
test_round_trip_roster_entry = _make_kind_test(Kind.ROSTER_ENTRY)


def test_every_kind_has_a_round_trip_test() -> None:
    names = {name for name in globals() if name.startswith("test_round_trip_")}
    assert names == {f"test_round_trip_{k.name.lower()}" for k in Kind}


# --- the canonical encoding on the restricted data model ------------------------------------

SCALARS = st.one_of(
    st.integers(-(2**64), 2**64 - 1),
    st.integers(-30, 300),
    st.booleans(),
    st.binary(max_size=40),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)


def data_model(depth: int = MAX_DEPTH) -> st.SearchStrategy[Any]:
    """Values of the restricted data model nested at most ``depth`` containers deep."""
    if depth == 0:
        return SCALARS
    inner = data_model(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=5),
        st.dictionaries(st.integers(0, MAX_KEY), inner, max_size=5),
    )


def same(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and keeps container types apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(data_model())
def test_canonical_round_trip(value: Any) -> None:
    raw = encode_canonical(value)
    back = decode_canonical(raw, max_size=len(raw))
    assert same(back, value)
    assert encode_canonical(back) == raw


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, MAX_KEY), SCALARS, min_size=2))
def test_key_order_does_not_matter(value: dict[int, Any]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert encode_canonical(reordered) == encode_canonical(value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_accepted_bytes_are_exactly_the_canonical_encoding(data: bytes) -> None:
    """Whatever the decoder accepts re-encodes to the same bytes: one encoding per value."""
    try:
        value = decode_canonical(data, max_size=64)
    except DecodeError:
        return
    assert encode_canonical(value) == data


@settings(max_examples=200, deadline=None)
@given(data_model(), st.integers(0, 10_000))
def test_any_truncation_is_refused_as_truncated(value: Any, cut: int) -> None:
    """CBOR items are self-delimiting: no proper prefix of one is a complete item."""
    raw = encode_canonical(value)
    end = cut % len(raw)
    with pytest.raises(Truncated):
        decode_canonical(raw[:end], max_size=len(raw))
