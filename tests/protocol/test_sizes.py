"""The largest possible envelope of each kind, computed from the code, and SPEC.md 12 quoting it.

A body is searched for, field by field, among the values that take the most bytes on the
wire (every text at its byte limit, every integer at its largest, every optional field
present with a non-default value), keeping the largest that the kind accepts: cross-field
rules exclude some combinations (a check-in names the visited household by key or by name,
not both). The envelope around it has the most references and a non-default lifetime.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from functools import cache
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from protocol.encoding import encode_canonical
from protocol.envelope import MAX_ENVELOPE_BYTES, MIN_CREATED, seal
from protocol.errors import PeerError
from protocol.kinds import BODY_TYPES, KIND_RULES, Kind
from protocol.schema import Point, from_wire

SPEC = Path(__file__).resolve().parents[2] / "SPEC.md"
KEY = nacl.signing.SigningKey(bytes(range(32)))
ZONE = bytes.fromhex("01020304")
OMIT = object()  # an optional field left out (at its default)
#: The largest coordinates of a point (SPEC.md 7.1, *point*), as a wire value.
LARGEST_POINT = [9_000_000, 18_000_000]


def wire_size(value: Any) -> int:
    return len(encode_canonical(value))


def candidates(cls: type, name: str, tp: Any, spec: Any, default: Any) -> list[Any]:
    """The wire values worth trying for one field, largest first; OMIT last if optional."""
    if tp is bool:
        values: list[Any] = [True, False]
    elif isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        values = sorted((int(m) for m in tp), reverse=True)
    elif tp is int:
        assert spec.min_value is not None and spec.max_value is not None, f"{name} unbounded"
        values = [spec.max_value, spec.min_value]
    elif tp is str:
        # The limit is in bytes: ASCII fills it exactly, as much as any multi-byte text can.
        values = ["x" * spec.max_bytes]
    elif tp is bytes:
        values = [bytes(i % 256 for i in range(spec.max_bytes))]
    elif tp is Point:
        values = [LARGEST_POINT]
    elif dataclasses.is_dataclass(tp):
        values = [largest_body(tp)[1]]
    else:
        raise AssertionError(f"{cls.__name__}.{name}: no candidates for {tp!r}")
    plain_default = int(default) if isinstance(default, enum.IntEnum) else default
    values = [v for v in values if spec.required or v != plain_default]
    values.sort(key=wire_size, reverse=True)
    return values if spec.required else [*values, OMIT]


@cache
def largest_body(cls: type) -> tuple[int, dict[int, Any]]:
    """(CBOR size, wire map) of the largest body of ``cls`` that ``from_wire`` accepts."""
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("wire")
        if spec is None:
            continue
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0] if args else tp
        options = [
            (v, 0 if v is OMIT else 1 + wire_size(v))  # key byte + value
            for v in candidates(cls, f.name, tp, spec, f.default)
        ]
        fields.append((spec.key, options))
    # The most each remaining field can add: an upper bound to prune the search with.
    most = [max(size for _, size in options) for _, options in fields]
    bound_after = [sum(most[i:]) for i in range(len(most) + 1)]
    best: list[Any] = [-1, None]

    def search(i: int, chosen: dict[int, Any], size: int) -> None:
        if size + bound_after[i] <= best[0]:
            return
        if i == len(fields):
            try:
                from_wire(cls, chosen)
            except PeerError:
                return
            best[:] = [size, dict(chosen)]
            return
        key, options = fields[i]
        for value, added in options:
            if value is not OMIT:
                chosen[key] = value
            search(i + 1, chosen, size + added)
            chosen.pop(key, None)

    search(0, {}, 0)
    assert best[1] is not None, f"{cls.__name__}: no valid body found"
    return wire_size(best[1]), best[1]


def largest_envelope(kind: Kind) -> bytes:
    rules = KIND_RULES[kind]
    cls = BODY_TYPES[kind]
    _, wire = largest_body(cls)
    body = from_wire(cls, wire)
    lifetime = max(
        (v for v in (rules.max_lifetime, rules.max_lifetime - 1) if v != rules.default_lifetime),
        key=wire_size,
    )
    refs = [bytes([i]) * 32 for i in range(1, rules.max_refs + 1)]
    env = seal(body, signing_key=KEY, created=MIN_CREATED, zone=ZONE, refs=refs, lifetime=lifetime)
    assert env.lifetime == lifetime and len(env.refs) == rules.max_refs
    return env.raw


@cache
def maxima() -> dict[Kind, int]:
    return {kind: len(largest_envelope(kind)) for kind in Kind}


def spec_section_12() -> str:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index("## 12. Message sizes")
    return text[start : text.index("\n## ", start + 1)]


def test_the_spec_quotes_the_largest_envelope_of_each_kind() -> None:
    quoted = {
        int(number): (name, int(size))
        for number, name, size in re.findall(
            r"^\| (\d+) (\w+) \| (\d+) \|$", spec_section_12(), re.MULTILINE
        )
    }
    computed = {int(k): (k.name.lower(), size) for k, size in maxima().items()}
    assert quoted == computed


def test_the_spec_names_the_largest_of_all() -> None:
    largest = max(maxima().values())
    assert largest < MAX_ENVELOPE_BYTES
    assert maxima()[Kind.ALERT] == largest
    quoted = re.search(
        r"the largest, an official alert .*?, is (\d+) bytes", spec_section_12(), re.DOTALL
    )
    assert quoted is not None and int(quoted.group(1)) == largest


def test_the_spec_states_the_fixed_part() -> None:
    content = {0: int(Kind.RETRACTION), 1: bytes(KEY.verify_key), 2: MIN_CREATED, 4: ZONE}
    fixed = 1 + wire_size(content) + 64
    assert f"The fixed part of every envelope is **{fixed} bytes**" in spec_section_12()


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name.lower())
def test_no_field_is_left_out_of_the_largest_body(kind: Kind) -> None:
    """Every field is in the largest body, but where a cross-field rule excludes it."""
    cls = BODY_TYPES[kind]
    _, wire = largest_body(cls)
    keys = {f.metadata["wire"].key: f.name for f in dataclasses.fields(cls) if f.metadata}
    left_out = {name for key, name in keys.items() if key not in wire}
    assert left_out == ({"subject_key"} if cls.__name__ == "CheckIn" else set())


def test_the_largest_bodies_take_the_larger_side_of_each_rule() -> None:
    _, checkin = largest_body(BODY_TYPES[Kind.CHECKIN])
    assert checkin[2] == "x" * 48  # a 48-byte subject_name beats a 32-byte subject_key
    _, resource = largest_body(BODY_TYPES[Kind.RESOURCE_POINT])
    assert resource[2] is False  # open=false is sent; open=true is the default
    _, alert = largest_body(BODY_TYPES[Kind.ALERT])
    assert alert[7] == 1 and 8 in alert  # an official mirror, with its source
