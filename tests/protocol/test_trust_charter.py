"""The zone charter (protocol/charter.py, SPEC.md 11a.1) and its test vectors."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from protocol.charter import (
    CHARTER_MAGIC,
    MAX_CHARTER_BYTES,
    TEXT_PREFIX,
    Charter,
    LoraSettings,
    SignedCharter,
    check_replaces,
    decode_charter,
    sign_charter,
)
from protocol.errors import InvalidCharter, PeerError, UsageError
from protocol.fingerprint import fingerprint
from protocol.i18n import error_text

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text(encoding="utf-8"))
KEYS = {name: SigningKey(bytes.fromhex(k["seed"])) for name, k in VECTORS["keys"].items()}
T0 = 1_780_000_000
ZONE = bytes.fromhex("01020304")
#: The largest QR code (version 40, correction level L) holds 4296 alphanumeric characters.
QR_ALPHANUMERIC_MAX = 4296


def pub(name: str) -> bytes:
    return bytes(KEYS[name].verify_key)


def charter(**changes: Any) -> Charter:
    fields: dict[str, Any] = {
        "zone": ZONE,
        "name": "Rue des Lilas",
        "founders": (pub("carol"),),
        "issued": T0,
    }
    fields.update(changes)
    return Charter(**fields)


# --- the vectors ------------------------------------------------------------------------


def vector_charter() -> Charter:
    given = VECTORS["charters"]["valid"][0]["inputs"]
    return Charter(
        zone=bytes.fromhex(given["zone"]),
        name=given["name"],
        area=given["area"],
        founders=tuple(pub(n) for n in given["founders"]),
        bridges=tuple(pub(n) for n in given["bridges"]),
        relays=tuple(pub(n) for n in given["relays"]),
        lora=LoraSettings(**given["lora"]),
        peers=tuple(given["peers"]),
        issued=given["issued"],
    )


def test_the_charter_vector_decodes_and_is_rebuilt_byte_for_byte() -> None:
    vector = VECTORS["charters"]["valid"][0]
    signed = decode_charter(bytes.fromhex(vector["file"]))
    assert signed == decode_charter(vector["text"])
    assert signed.charter == vector_charter()
    assert signed.charter.body.hex() == vector["body"]
    assert signed.charter.id.hex() == vector["id"]
    assert signed.charter.fingerprint == vector["fingerprint"]
    rebuilt = sign_charter(vector_charter(), KEYS["carol"])
    assert rebuilt.to_bytes().hex() == vector["file"]
    assert rebuilt.to_text() == vector["text"]
    assert len(rebuilt.to_bytes()) - len(CHARTER_MAGIC) == vector["size"]


@pytest.mark.parametrize(
    "vector",
    VECTORS["charters"]["invalid"],
    ids=[v["name"] for v in VECTORS["charters"]["invalid"]],
)
def test_the_invalid_charter_vectors_are_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(InvalidCharter) as info:
        decode_charter(bytes.fromhex(vector["file"]))
    assert info.value.fault == "peer" and info.value.code == "invalid-charter"


def test_the_spec_quotes_the_charter_vector() -> None:
    import re

    spec = re.sub(r"\s+", "", (Path(__file__).parents[2] / "SPEC.md").read_text(encoding="utf-8"))
    vector = VECTORS["charters"]["valid"][0]
    for value in (
        vector["file"],
        vector["text"],
        vector["id"],
        vector["fingerprint"].replace(" ", ""),
    ):
        assert value in spec


# --- forms --------------------------------------------------------------------------------


def test_the_text_form_is_qr_alphanumeric_and_forgiving() -> None:
    signed = sign_charter(charter(area="Quartier Saint-Michel"), KEYS["carol"])
    text = signed.to_text()
    assert text.startswith(TEXT_PREFIX)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:")
    assert text[len(TEXT_PREFIX) :] == base64.b32encode(signed.to_bytes()[8:]).decode().rstrip("=")
    wrapped = "\n".join(text[i : i + 40] for i in range(0, len(text), 40))
    assert decode_charter(f"  {wrapped.lower()}\n") == signed
    assert decode_charter(text.encode("ascii")) == signed


def test_the_largest_charter_fits_a_qr_code() -> None:
    founders = [SigningKey(bytes([i]) * 32) for i in range(1, 5)]
    big = charter(
        name="x" * 140,
        area="y" * 140,
        founders=tuple(bytes(k.verify_key) for k in founders),
        bridges=tuple(bytes([0x40 + i]) * 32 for i in range(4)),
        relays=tuple(bytes([0x80 + i]) * 32 for i in range(16)),
        lora=LoraSettings(
            region="EU_868", preset="LONG_FAST", channel="c" * 11, psk=bytes(32), slot=9
        ),
        peers=tuple(f"/ip4/10.0.0.{i}/tcp/4001/p2p/12D3KooW" + "x" * 40 for i in range(3)),
        serial=7,
        max_skew=900,
    )
    signed = sign_charter(big, *founders)  # 4 founders, 4 bridges, 16 relays, 3 peers
    assert 1800 < len(signed.to_bytes()) - 8 <= MAX_CHARTER_BYTES
    assert len(TEXT_PREFIX) - (-MAX_CHARTER_BYTES * 8 // 5) <= QR_ALPHANUMERIC_MAX
    assert len(signed.to_text()) <= QR_ALPHANUMERIC_MAX
    assert decode_charter(signed.to_text()) == signed
    too_big = dataclasses.replace(big, relays=tuple(bytes([0x80 + i]) * 32 for i in range(32)))
    with pytest.raises(UsageError, match="max 2048"):
        sign_charter(too_big, *founders).to_bytes()


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_a_charter_or_an_invalid_charter(data: bytes) -> None:
    for form in (
        data,
        CHARTER_MAGIC + data,
        TEXT_PREFIX + base64.b32encode(data).decode().rstrip("="),
    ):
        with contextlib.suppress(InvalidCharter):
            decode_charter(form)


def test_not_a_charter_says_what_one_looks_like() -> None:
    for junk in (b"ENTRAID1\x00\x01", "hello", b"\xff\xfe"):
        with pytest.raises(InvalidCharter) as info:
            decode_charter(junk)
        assert "ENTZONE1" in str(info.value)
        assert "n'est pas une charte" in error_text(info.value, "fr")


# --- rules ---------------------------------------------------------------------------------


def test_defaults_are_omitted_and_lists_sorted() -> None:
    a = charter(relays=(pub("dave"), pub("alice")), lora=LoraSettings())
    b = charter(relays=(pub("alice"), pub("dave")))
    assert a == b and a.body == b.body and a.lora is None
    assert a.relays == tuple(sorted(a.relays))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"zone": b"\x01\x02\x03"}, "zone id"),
        ({"name": " "}, "name"),
        ({"name": "a\u202eb"}, "control character"),
        ({"founders": ()}, "founders"),
        ({"founders": (b"x" * 31,)}, "32-byte"),
        ({"relays": (b"r" * 32, b"r" * 32)}, "twice"),
        ({"bridges": (b"b" * 32,), "relays": (b"b" * 32,)}, "only a bridge"),
        ({"peers": ("ip4/1.2.3.4",)}, "multiaddr"),
        ({"serial": 0}, "serial"),
        ({"issued": 5}, "issued"),
        ({"max_skew": 86_401}, "max_skew"),
    ],
)
def test_rules_of_the_fields(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        charter(**changes)


def test_lora_settings_rules() -> None:
    with pytest.raises(PeerError):
        LoraSettings(psk=bytes(20))
    with pytest.raises(PeerError):
        LoraSettings(channel="c" * 12)
    assert LoraSettings(psk=bytes(16)).psk == bytes(16)


def test_every_founder_must_sign() -> None:
    two = charter(founders=(pub("carol"), pub("alice")))
    partial = sign_charter(two, KEYS["carol"])
    assert not partial.complete
    with pytest.raises(InvalidCharter, match="not signed by its founder"):
        decode_charter(partial.to_bytes())
    assert decode_charter(partial.to_bytes(), complete=False) == partial
    full = partial.with_signature(KEYS["alice"])  # the second founder signs on its own device
    assert decode_charter(full.to_text()).complete
    assert full.with_signature(KEYS["alice"]) == full


def test_a_forged_or_altered_charter_is_refused() -> None:
    signed = sign_charter(charter(), KEYS["carol"])
    other = charter(name="Rue des Roses")
    swapped = SignedCharter(other, signed.signatures)
    with pytest.raises(InvalidCharter, match="does not verify"):
        decode_charter(swapped.to_bytes())
    assert other.fingerprint != signed.charter.fingerprint


# --- replacing a charter -------------------------------------------------------------------


def test_a_new_charter_needs_a_majority_of_the_old_founders() -> None:
    names = ["alice", "bob", "carol"]
    old = sign_charter(charter(founders=tuple(pub(n) for n in names)), *(KEYS[n] for n in names))
    new_founders = (pub("alice"), pub("dave"))
    new = charter(founders=new_founders, serial=2, relays=(pub("bob"),))
    by_two = sign_charter(new, KEYS["alice"], KEYS["dave"], KEYS["carol"])
    check_replaces(old, decode_charter(by_two.to_bytes()))
    by_one = sign_charter(new, KEYS["alice"], KEYS["dave"])
    with pytest.raises(InvalidCharter, match="1 of the 3 founders"):
        check_replaces(old, by_one)
    with pytest.raises(InvalidCharter, match="not newer"):
        check_replaces(by_two, by_two)
    elsewhere = sign_charter(charter(zone=b"\x09" * 4, serial=3), KEYS["carol"])
    with pytest.raises(InvalidCharter, match="is for zone 09090909"):
        check_replaces(old, elsewhere)
    with pytest.raises(InvalidCharter, match="not signed by all its founders"):
        check_replaces(old, sign_charter(new, KEYS["alice"], KEYS["carol"], KEYS["bob"]))


# --- malformed documents ---------------------------------------------------------------------

BODY = {0: ZONE, 1: "Rue des Lilas", 3: [pub("carol")], 9: T0}


def _doc(body: Any, pairs: Any = None, signers: tuple[str, ...] = ("carol",)) -> bytes:
    raw = body if isinstance(body, bytes) else cbor2.dumps(body, canonical=True)
    if pairs is None:
        pairs = sorted(
            [pub(k), KEYS[k].sign(b"entraide/charter\x00" + raw).signature] for k in signers
        )
    return CHARTER_MAGIC + cbor2.dumps({0: raw, 1: pairs}, canonical=True)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (CHARTER_MAGIC + cbor2.dumps([1, 2]), "not a map of a body"),
        (CHARTER_MAGIC + cbor2.dumps({0: "body", 1: []}), "byte string"),
        (_doc([1]), "not a map"),
        (_doc(b"\xa1\x00"), "charter body"),
        (_doc({**BODY, 11: 1}), "unknown field 11"),
        (_doc({k: v for k, v in BODY.items() if k != 9}), "required field 9"),
        (_doc({**BODY, 6: [1]}), "lora is not a map"),
        (_doc({**BODY, 6: {}}), "canonical"),
        (_doc({**BODY, 6: {3: bytes(20)}}), "psk"),
        (_doc({**BODY, 5: b"x"}), "field 5 is not a list"),
        (_doc({**BODY, 5: [b"x" * 32, 7]}), "charter body"),
        (_doc({**BODY, 8: 1}), "canonical"),  # the default serial, stated
        (_doc(BODY, pairs=[]), "1 to 16 signatures"),
        (_doc(BODY, pairs=[[pub("carol"), b"short"]]), "64-byte signature"),
        (_doc(BODY, pairs=[[pub("bob"), bytes(64)], [pub("carol"), bytes(64)]]), "sorted by key"),
        ((TEXT_PREFIX + "ABC1").encode(), "not a base32 character"),
    ],
)
def test_malformed_charters(data: bytes, words: str) -> None:
    with pytest.raises(InvalidCharter, match=words):
        decode_charter(data)


def test_more_rules_of_the_fields() -> None:
    with pytest.raises(UsageError, match="bootstrap peers"):
        charter(peers=tuple(f"/ip4/10.0.0.{i}/tcp/1" for i in range(9)))
    with pytest.raises(UsageError, match="lora"):
        charter(lora="EU_868")


def test_charter_and_key_fingerprints_are_the_same_kind_of_digits() -> None:
    assert fingerprint(pub("alice")) == "49724 93655 71600 24695"  # SPEC.md section 3
    with pytest.raises(UsageError):
        fingerprint(b"short")
    assert len(charter().fingerprint) == 23 and charter().fingerprint != fingerprint(pub("carol"))


def test_a_node_uses_a_charter_only_for_its_zone() -> None:
    from protocol.charter import check_zone

    signed = sign_charter(charter(), KEYS["carol"])
    check_zone(signed, ZONE)
    with pytest.raises(InvalidCharter) as info:
        check_zone(signed, bytes.fromhex("3f2a9c01"))
    assert "01020304" in str(info.value) and "3f2a9c01" in str(info.value)
    assert "cette charte est celle de la zone 01020304" in error_text(info.value, "fr")
