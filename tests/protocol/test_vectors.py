"""The byte-exact test vectors of SPEC.md (tests/protocol/vectors.json).

Nothing is regenerated here: every valid vector's hex must decode to the recorded fields and
id, and sealing its recorded inputs must give the same bytes; every invalid vector must be
refused with exactly the recorded error class. SPEC.md must quote the vectors marked
``in_spec`` byte for byte, so the document and the code cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import typing
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from protocol import errors
from protocol.charter import decode_charter
from protocol.envelope import (
    DEFAULT_MAX_SKEW,
    SIGNING_CONTEXT,
    VERSION,
    Envelope,
    Policy,
    accept,
    decode,
    seal,
)
from protocol.kinds import BODY_TYPES, Kind
from protocol.schema import Point
from protocol.trust import derive_roles

HERE = Path(__file__).parent
VECTORS = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
SPEC = HERE.parent.parent / "SPEC.md"
VALID = VECTORS["valid"]
INVALID = VECTORS["invalid"]


def _wire_fields(cls: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if "wire" not in f.metadata:
            continue
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        out.append((f.name, args[0] if args else tp))
    return out


def body_from_json(cls: type, data: dict[str, Any]) -> Any:
    """Build a body (or nested structure) from the vector's JSON field values."""
    types = dict(_wire_fields(cls))
    assert set(data) <= set(types), f"unknown fields {set(data) - set(types)}"
    kwargs = {}
    for name, value in data.items():
        tp = types[name]
        if value is None:
            kwargs[name] = None
        elif tp is bytes:
            kwargs[name] = bytes.fromhex(value)
        elif tp is Point:
            kwargs[name] = Point(*value)
        elif isinstance(tp, type) and issubclass(tp, enum.IntEnum):
            kwargs[name] = tp(value)
        elif dataclasses.is_dataclass(tp):
            kwargs[name] = body_from_json(tp, value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def body_to_json(value: Any) -> Any:
    """Every field of a decoded body (defaults included) as JSON values."""
    if isinstance(value, Point):
        return [value.lat_e5, value.lon_e5]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: body_to_json(getattr(value, name)) for name, _ in _wire_fields(type(value))}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, enum.IntEnum):
        return int(value)
    return value


#: The vectors' zone: the roles its charter gives (carol founds it, dave relays).
CHARTER = decode_charter(bytes.fromhex(VECTORS["charters"]["valid"][0]["file"])).charter
ROLES = derive_roles(CHARTER, [], now=VECTORS["now"])


def policy_of(vector: dict[str, Any]) -> Policy:
    bridges = frozenset(bytes.fromhex(k) for k in vector["bridge_keys"])
    return Policy(bridge_keys=bridges, trust=ROLES)


def test_the_recorded_roles_are_the_charters() -> None:
    recorded = {k: sorted(v) for k, v in VECTORS["roles"].items()}
    derived = {
        key.hex(): sorted(r.name.lower() for r in ROLES.roles_of(key))
        for key in (*CHARTER.founders, *CHARTER.relays, *CHARTER.bridges)
    }
    assert recorded == derived


def by_name(vectors: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


# --- the file itself ------------------------------------------------------------------------


def test_vector_file_covers_every_kind_and_the_constants() -> None:
    assert VECTORS["version"] == VERSION
    assert bytes.fromhex(VECTORS["signing_context"]) == SIGNING_CONTEXT
    assert VECTORS["max_skew"] == DEFAULT_MAX_SKEW
    kinds = {v["inputs"]["kind"] for v in VALID}
    assert kinds == {int(k) for k in Kind}
    for kind in Kind:
        assert sum(v["inputs"]["kind"] == kind for v in VALID) >= 2, f"{kind.name}: min and rich"
    names = [v["name"] for v in VALID + INVALID]
    assert len(names) == len(set(names))
    for key in VECTORS["keys"].values():
        seed = bytes.fromhex(key["seed"])
        assert bytes(nacl.signing.SigningKey(seed).verify_key).hex() == key["public"]


def test_every_error_class_has_an_invalid_vector() -> None:
    recorded = {v["error"] for v in INVALID}
    expected = {
        "BadSignature",
        "Truncated",
        "Oversize",
        "NonCanonical",
        "DecodeError",
        "UnsupportedVersion",
        "UnknownKind",
        "InvalidMessage",
        "ExpiredMessage",
        "FutureMessage",
        "Unauthorized",
    }
    assert recorded == expected


# --- valid vectors -------------------------------------------------------------------------


@by_name(VALID)
def test_valid_vector_decodes_to_the_recorded_fields(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["envelope"])
    env = decode(raw)
    want = vector["decoded"]
    assert env.id.hex() == vector["id"]
    assert raw[:-64].hex() == vector["signed"]
    assert len(raw) == vector["size"]
    assert int(env.kind) == want["kind"]
    assert env.kind.name.lower() == want["kind_name"]
    assert env.author.hex() == want["author"]
    assert env.created == want["created"]
    assert env.lifetime == want["lifetime"]
    assert env.expires == want["expires"]
    assert env.zone.hex() == want["zone"]
    assert [r.hex() for r in env.refs] == want["refs"]
    assert body_to_json(env.body) == want["body"]
    assert env.signature.hex() == want["signature"]
    assert env.raw == raw


@by_name(VALID)
def test_valid_vector_is_accepted_at_the_recorded_time(vector: dict[str, Any]) -> None:
    env = accept(bytes.fromhex(vector["envelope"]), now=vector["now"], policy=policy_of(vector))
    assert env.id.hex() == vector["id"]


@by_name(VALID)
def test_sealing_the_recorded_inputs_gives_the_same_bytes(vector: dict[str, Any]) -> None:
    given = vector["inputs"]
    key = nacl.signing.SigningKey(bytes.fromhex(given["seed"]))
    body = body_from_json(BODY_TYPES[Kind(given["kind"])], given["body"])
    env = seal(
        body,
        signing_key=key,
        created=given["created"],
        zone=bytes.fromhex(given["zone"]),
        refs=[bytes.fromhex(r) for r in given["refs"]],
        lifetime=given["lifetime"],
    )
    assert env.raw.hex() == vector["envelope"]
    assert env.id.hex() == vector["id"]
    assert isinstance(env, Envelope)


@by_name(VALID)
def test_recorded_refs_point_at_earlier_vectors(vector: dict[str, Any]) -> None:
    earlier = {v["id"] for v in VALID[: VALID.index(vector)]}
    assert set(vector["inputs"]["refs"]) <= earlier


# --- invalid vectors -------------------------------------------------------------------------


@by_name(INVALID)
def test_invalid_vector_raises_exactly_its_class(vector: dict[str, Any]) -> None:
    cls = getattr(errors, vector["error"])
    with pytest.raises(errors.PeerError) as info:
        accept(bytes.fromhex(vector["envelope"]), now=vector["now"], policy=policy_of(vector))
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == vector["code"]
    assert info.value.fault == "peer"


@by_name([v for v in INVALID if v["error"] not in {"ExpiredMessage", "FutureMessage"}])
def test_invalid_vector_is_refused_whatever_the_clock(vector: dict[str, Any]) -> None:
    """Apart from time, validity does not depend on the receiver's clock."""
    cls = getattr(errors, vector["error"])
    for now in (vector["now"], vector["now"] + 86_400):
        with pytest.raises(cls):
            accept(bytes.fromhex(vector["envelope"]), now=now, policy=policy_of(vector))


@by_name(
    [v for v in INVALID if v["error"] not in {"ExpiredMessage", "FutureMessage", "Unauthorized"}]
)
def test_receiver_independent_vectors_fail_in_decode(vector: dict[str, Any]) -> None:
    with pytest.raises(getattr(errors, vector["error"])):
        decode(bytes.fromhex(vector["envelope"]))


@by_name([v for v in INVALID if v["error"] in {"ExpiredMessage", "FutureMessage", "Unauthorized"}])
def test_receiver_dependent_vectors_decode(vector: dict[str, Any]) -> None:
    """Expiry, skew and authorisation are the receiver's checks: the bytes themselves are fine."""
    decode(bytes.fromhex(vector["envelope"]))


# --- SPEC.md quotes the vectors ------------------------------------------------------------


def _spec_hex() -> str:
    """SPEC.md with all whitespace removed, so wrapped hex blocks read as one string."""
    return re.sub(r"\s+", "", SPEC.read_text(encoding="utf-8"))


@by_name([v for v in VALID if v["in_spec"]])
def test_spec_quotes_the_vector(vector: dict[str, Any]) -> None:
    text = _spec_hex()
    assert vector["envelope"] in text, f"SPEC.md does not quote {vector['name']}'s envelope"
    assert vector["id"] in text, f"SPEC.md does not quote {vector['name']}'s id"


def test_spec_quotes_at_least_the_first_three_vectors() -> None:
    assert [v["in_spec"] for v in VALID[:3]] == [True, True, True]


def test_spec_states_the_vector_keys() -> None:
    text = _spec_hex()
    for key in VECTORS["keys"].values():
        assert key["public"] in text
