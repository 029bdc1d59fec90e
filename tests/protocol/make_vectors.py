"""Write tests/protocol/vectors.json, the byte-exact test vectors of SPEC.md.

Run by hand when the protocol changes on purpose, then review the diff::

    PYTHONPATH=. python tests/protocol/make_vectors.py            # rewrite vectors.json
    PYTHONPATH=. python tests/protocol/make_vectors.py --sizes    # print the sizes

The tests never run this script: they read the committed JSON. It deliberately builds
envelopes without ``protocol.envelope.seal`` (its own canonical CBOR and signing, following
SPEC.md), so the vectors check the implementation instead of restating it. It borrows only
the body classes, to turn a body into its field values.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
import sys
import typing
from pathlib import Path
from typing import Any

import cbor2
import nacl.bindings
import nacl.signing

from protocol import kinds
from protocol.kinds import (
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
from protocol.schema import Point

OUT = Path(__file__).with_name("vectors.json")

# --- what SPEC.md says, restated independently -------------------------------------------------

VERSION = 1
SIGNING_CONTEXT = b"entraide/envelope\x00"
DEFAULT_LIFETIME = {  # minutes, per kind number
    1: 1440,
    2: 2880,
    3: 2880,
    4: 2880,
    5: 10080,
    6: 4320,
    7: 1440,
    8: 1440,
    9: 43200,
    10: 10080,
    11: 527040,
    12: 576000,
    13: 2880,
    14: 10080,
    15: 2880,
    16: 129600,
}
ZONE = bytes.fromhex("01020304")
T0 = 1_780_000_000  # 2026-05-28T20:26:40Z
NOW = T0 + 600  # the receiver's clock for every vector unless stated

KEYS = {
    "alice": bytes(range(32)),
    "bob": bytes(range(32, 64)),
    "bridge": bytes(range(64, 96)),
    "carol": bytes(range(96, 128)),  # the charter's founding coordinator
    "dave": bytes(range(128, 160)),  # a relay listed by the charter
}
#: The roles the vectors' zone gives (its charter, below): every vector is checked with them.
ROLES = {"carol": ["coordinator"], "dave": ["relay"], "bridge": ["bridge"]}


def signing_key(name: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(KEYS[name])


def public(name: str) -> bytes:
    return bytes(signing_key(name).verify_key)


# --- a minimal CBOR writer, able to write non-canonical forms on purpose --------------------


def head(major: int, n: int, width: int | None = None) -> bytes:
    """A CBOR head; ``width`` forces the argument's size in bytes (0 = in the first byte)."""
    if width is None:
        width = 0 if n < 24 else 1 if n < 256 else 2 if n < 65536 else 4 if n < 2**32 else 8
    if width == 0:
        return bytes([major << 5 | n])
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + n.to_bytes(width, "big")


def enc(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def raw_map(pairs: list[tuple[int, bytes]]) -> bytes:
    """A map from already-encoded values, in the order given (duplicates allowed)."""
    return head(5, len(pairs)) + b"".join(head(0, k) + v for k, v in pairs)


def pairs_of(content: dict[int, Any]) -> list[tuple[int, bytes]]:
    return [(k, enc(content[k])) for k in sorted(content)]


def sign(signed: bytes, key: str) -> bytes:
    return signed + signing_key(key).sign(SIGNING_CONTEXT + signed).signature


# --- bodies as field values ---------------------------------------------------------------


def wire_specs(cls: type) -> list[tuple[str, Any, Any, Any]]:
    """(name, spec, type without None, default) of each wire field of a body class."""
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


def to_json(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, enum.IntEnum):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Point):
        return [value.lat_e5, value.lon_e5]
    if dataclasses.is_dataclass(value):
        return {name: to_json(getattr(value, name)) for name, *_ in wire_specs(type(value))}
    if value is None:
        return None
    raise TypeError(value)


def to_map(body: Any) -> dict[int, Any]:
    """The body's CBOR map: each non-default field under its key."""
    out: dict[int, Any] = {}
    for name, spec, _, default in wire_specs(type(body)):
        value = getattr(body, name)
        if not spec.required and value == default:
            continue
        if isinstance(value, Point):
            value = [value.lat_e5, value.lon_e5]
        elif isinstance(value, enum.IntEnum):
            value = int(value)
        elif dataclasses.is_dataclass(value):
            value = to_map(value)
        out[spec.key] = value
    return out


def inputs_json(body: Any) -> dict[str, Any]:
    """Only the fields given (the non-default ones), as JSON values."""
    out = {}
    for name, spec, _, default in wire_specs(type(body)):
        value = getattr(body, name)
        if spec.required or value != default:
            out[name] = to_json(value)
    return out


# --- envelopes ----------------------------------------------------------------------------


def content_of(
    body: Any, *, key: str, created: int, lifetime: int | None, refs: list[bytes]
) -> dict[int, Any]:
    kind = int(body.KIND)
    content: dict[int, Any] = {0: kind, 1: public(key), 2: created, 4: ZONE}
    if lifetime is not None and lifetime != DEFAULT_LIFETIME[kind]:
        content[3] = lifetime
    if refs:
        content[5] = list(refs)
    body_map = to_map(body)
    if body_map:
        content[6] = body_map
    return content


def signed_of(content: dict[int, Any]) -> bytes:
    return bytes([VERSION]) + raw_map(pairs_of(content))


# --- roster entries and charters (SPEC.md 7.17 and 11a.1), restated ------------------------


def roster_box(details: dict[int, Any], relays: list[str], author: str, entropy: bytes) -> Any:
    """(keys, box) of a roster entry, built as SPEC.md 7.17 says."""
    data = enc(details)
    size = -(-(2 + len(data)) // 64) * 64
    plaintext = len(data).to_bytes(2, "big") + data + bytes(size - 2 - len(data))
    stream = hashlib.shake_256(b"entraide roster keys v1\x00" + entropy).digest(
        32 + 24 + 32 * len(relays)
    )
    key, nonce = stream[:32], stream[32:56]
    slots = b""
    for i, relay in enumerate(relays):
        x25519 = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public(relay))
        secret = stream[56 + 32 * i : 88 + 32 * i]
        ephemeral = nacl.bindings.crypto_scalarmult_base(secret)
        seal_nonce = hashlib.blake2b(ephemeral + x25519, digest_size=24).digest()
        slots += ephemeral + nacl.bindings.crypto_box_easy(key, seal_nonce, x25519, secret)
    aad = b"entraide roster v1\x00" + ZONE + public(author)
    box = nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, aad, nonce, key
    )
    return slots, box


def digits(domain: bytes, data: bytes) -> str:
    n = int.from_bytes(hashlib.sha256(domain + data).digest()[:9], "big") % 10**20
    text = f"{n:020d}"
    return " ".join(text[i : i + 5] for i in range(0, 20, 5))


def charter_doc(body: dict[int, Any], signers: list[str]) -> bytes:
    body_bytes = enc(body)
    pairs = sorted(
        [public(k), signing_key(k).sign(b"entraide/charter\x00" + body_bytes).signature]
        for k in signers
    )
    return enc({0: body_bytes, 1: pairs})


def charter_text(doc: bytes) -> str:
    return "ENTRAIDE-ZONE1:" + base64.b32encode(doc).decode().rstrip("=")


CHARTER_INPUTS = {
    "zone": ZONE.hex(),
    "name": "Rue des Lilas",
    "area": "Quartier Saint-Michel, Toulouse",
    "founders": ["carol"],
    "bridges": ["bridge"],
    "relays": ["dave"],
    "lora": {"region": "EU_868", "preset": "LONG_FAST", "channel": "entraide"},
    "peers": ["/ip4/192.168.1.10/tcp/4001"],
    "issued": T0 - 86_400,
}


def charters() -> dict[str, Any]:
    c = CHARTER_INPUTS
    body = {
        0: ZONE,
        1: c["name"],
        2: c["area"],
        3: [public("carol")],
        4: [public("bridge")],
        5: [public("dave")],
        6: {0: "EU_868", 1: "LONG_FAST", 2: "entraide"},
        7: list(c["peers"]),
        9: c["issued"],
    }
    doc = charter_doc(body, ["carol"])
    body_bytes = enc(body)
    valid = {
        "name": "charter",
        "inputs": c,
        "body": body_bytes.hex(),
        "file": (b"ENTZONE1" + doc).hex(),
        "text": charter_text(doc),
        "id": hashlib.sha256(body_bytes).hexdigest(),
        "fingerprint": digits(b"entraide charter v1\x00", body_bytes),
        "size": len(doc),
    }
    forged = bytearray(doc)
    forged[-1] ^= 1
    two = sorted([public("carol"), public("alice")], reverse=True)
    invalid = [
        {
            "name": "charter-not-signed-by-its-founder",
            "file": (b"ENTZONE1" + charter_doc(body, ["dave"])).hex(),
            "note": "the charter signed by dave, a relay, and not by carol, its founder",
        },
        {
            "name": "charter-forged-signature",
            "file": (b"ENTZONE1" + bytes(forged)).hex(),
            "note": "the last bit of carol's signature flipped",
        },
        {
            "name": "charter-unsorted-founders",
            "file": (b"ENTZONE1" + charter_doc({**body, 3: two}, ["alice", "carol"])).hex(),
            "note": "two founders in descending order, both signatures valid",
        },
        {
            "name": "charter-text-cut-off",
            "file": charter_text(doc)[:-2].encode().hex(),
            "note": "the text form without its last two characters",
        },
    ]
    return {"valid": [valid], "invalid": invalid}


VALID: list[dict[str, Any]] = []
IDS: dict[str, bytes] = {}


def valid(
    name: str,
    body: Any,
    *,
    key: str = "alice",
    created: int = T0,
    lifetime: int | None = None,
    refs: tuple[str, ...] = (),
    in_spec: bool = False,
    note: str = "",
) -> bytes:
    ref_ids = [IDS[r] for r in refs]
    content = content_of(body, key=key, created=created, lifetime=lifetime, refs=ref_ids)
    signed = signed_of(content)
    envelope = sign(signed, key)
    IDS[name] = hashlib.sha256(signed).digest()
    kind = int(body.KIND)
    effective_lifetime = lifetime if lifetime is not None else DEFAULT_LIFETIME[kind]
    VALID.append(
        {
            "name": name,
            "note": note,
            "in_spec": in_spec,
            "inputs": {
                "key": key,
                "seed": KEYS[key].hex(),
                "kind": kind,
                "created": created,
                "zone": ZONE.hex(),
                "lifetime": lifetime,
                "refs": [r.hex() for r in ref_ids],
                "body": inputs_json(body),
            },
            "envelope": envelope.hex(),
            "signed": signed.hex(),
            "id": IDS[name].hex(),
            "size": len(envelope),
            "decoded": {
                "kind": kind,
                "kind_name": kinds.Kind(kind).name.lower(),
                "author": public(key).hex(),
                "created": created,
                "lifetime": effective_lifetime,
                "expires": created + 60 * effective_lifetime,
                "zone": ZONE.hex(),
                "refs": [r.hex() for r in ref_ids],
                "body": to_json(body),
                "signature": envelope[-64:].hex(),
            },
            "now": NOW,
            "bridge_keys": [public("bridge").hex()],
        }
    )
    return envelope


def roster_vector(
    name: str, details: dict[int, Any], relays: list[str], entropy: bytes, **kwargs: Any
) -> None:
    author = kwargs.get("key", "alice")
    keys, box = roster_box(details, relays, author, entropy)
    valid(name, RosterEntry(keys=keys, box=box), **kwargs)
    VALID[-1]["roster"] = {
        "relays": relays,
        "entropy": entropy.hex(),
        "details": {str(k): v.hex() if isinstance(v, bytes) else v for k, v in details.items()},
    }


INVALID: list[dict[str, Any]] = []


def invalid(
    name: str, envelope: bytes, error: str, code: str, note: str, *, now: int = NOW
) -> None:
    INVALID.append(
        {
            "name": name,
            "note": note,
            "envelope": envelope.hex(),
            "error": error,
            "code": code,
            "now": now,
            "bridge_keys": [public("bridge").hex()],
        }
    )


def build() -> dict[str, Any]:
    VALID.clear()
    INVALID.clear()
    IDS.clear()

    # ---- valid: one minimal and one rich envelope per kind (the first three are in SPEC.md)
    valid(
        "checkin-min",
        CheckIn(status=CheckInStatus.SAFE),
        in_spec=True,
        note="the smallest useful message: 'we are safe'",
    )
    valid(
        "help-request-rich",
        HelpRequest(
            need=Need.WATER,
            urgency=RequestUrgency.HIGH,
            people=3,
            vulnerable=True,
            place="12 rue des Lilas",
            point=Point(4_575_812, 484_655),
            text="Plus d'eau potable depuis hier.\nDeux enfants, une personne âgée.",
        ),
        key="bob",
        created=T0 + 60,
        in_spec=True,
        note="every optional field set; multi-line French text",
    )
    valid(
        "claim-rich",
        Claim(eta_minutes=45, text="J'arrive avec 20 L d'eau"),
        created=T0 + 120,
        refs=("help-request-rich",),
        in_spec=True,
        note="refers to help-request-rich by its id",
    )
    valid("help-request-min", HelpRequest(need=Need.MEDICATION), key="bob", created=T0 + 1)
    valid("alert-min", Alert(headline="Crue de la Loire : montée des eaux"), created=T0 + 2)
    valid(
        "alert-official",
        Alert(
            headline="Vigilance rouge crues",
            severity=Severity.SEVERE,
            urgency=Urgency.IMMEDIATE,
            certainty=Certainty.LIKELY,
            category=Category.MET,
            instruction="Ne prenez pas votre véhicule.\nMontez dans les étages.",
            area="Loire (42)",
            origin=AlertOrigin.OFFICIAL,
            official=OfficialSource(
                source="vigicrues",
                sender="vigicrues@developpement-durable.gouv.fr",
                identifier="FR-VIGICRUES-2026-05-28-0042",
                sent=T0 - 300,
                digest=hashlib.sha256(b"<alert/>").digest(),
            ),
        ),
        key="bridge",
        created=T0 + 3,
        lifetime=2 * 1440,
        note="an official mirror: accepted only from a zone bridge key; explicit lifetime",
    )
    valid(
        "alert-all-clear",
        Alert(
            headline="Fin d'alerte (exercice)",
            severity=Severity.MINOR,
            exercise=True,
            all_clear=True,
        ),
        created=T0 + 4,
        refs=("alert-min",),
        note="supersedes alert-min, same author",
    )
    valid("help-offer-min", HelpOffer(what=Need.TRANSPORT), key="bob", created=T0 + 5)
    valid(
        "help-offer-standing",
        HelpOffer(
            what=Need.GENERATOR,
            standing=True,
            capacity=2,
            place="Impasse du Moulin",
            point=Point(-2_196_412, 5_553_821),
            text="Groupe électrogène 3 kW, essence fournie.",
        ),
        key="bob",
        created=T0 + 6,
        lifetime=366 * 1440,
        note="a standing offer with the maximum lifetime; southern hemisphere point",
    )
    valid("claim-min", Claim(), key="bob", created=T0 + 7, refs=("help-request-min",))
    valid(
        "resolution-min",
        Resolution(),
        key="bob",
        created=T0 + 8,
        refs=("help-request-min",),
        note="empty body: the content map has no key 6",
    )
    valid(
        "resolution-rich",
        Resolution(outcome=Outcome.CANCELLED, text="Finalement plus besoin"),
        key="bob",
        created=T0 + 9,
        refs=("help-request-rich",),
    )
    valid(
        "checkin-on-behalf",
        CheckIn(
            status=CheckInStatus.NOBODY_HOME,
            subject_key=public("bob"),
            people=0,
            place="Bât. B, 3e étage",
            text="Volets fermés, voiture absente",
        ),
        created=T0 + 10,
        refs=("alert-min",),
        note="a neighbour's visit, naming the household by key; answers alert-min",
    )
    valid(
        "checkin-by-name",
        CheckIn(status=CheckInStatus.EVACUATED, subject_name="Mme Dupont", people=2),
        created=T0 + 11,
    )
    valid("incident-min", Incident(type=IncidentType.TREE_DOWN), created=T0 + 12)
    valid(
        "incident-rich",
        Incident(
            type=IncidentType.ROAD_BLOCKED,
            severity=Severity.SEVERE,
            place="D1082 sortie nord",
            point=Point(4_580_001, 486_002),
            text="Arbre et coulée de boue.\nPassage impossible.",
        ),
        created=T0 + 13,
        refs=("incident-min",),
        note="an update of incident-min",
    )
    valid(
        "resource-point-min",
        ResourcePoint(type=ResourceType.WATER_DISTRIBUTION, name="Gymnase"),
        created=T0 + 14,
    )
    valid(
        "resource-point-rich",
        ResourcePoint(
            type=ResourceType.CHARGING,
            name="Mairie annexe",
            open=False,
            point=Point(4_576_000, 485_000),
            hours="8h–20h",
            text="Fermé pour la nuit",
        ),
        created=T0 + 15,
        lifetime=3 * 1440,
        refs=("resource-point-min",),
        note="a new version replacing resource-point-min",
    )
    valid("tip-min", Tip(title="Gardez 6 L d'eau par personne"), created=T0 + 16)
    valid(
        "tip-drill",
        Tip(
            title="Exercice d'évacuation samedi",
            type=TipType.DRILL,
            text="Rendez-vous au gymnase.\nCeci est un exercice.",
            language="fr",
            drill_start=T0 + 86_400,
            drill_end=T0 + 90_000,
        ),
        created=T0 + 17,
    )
    valid("retraction-min", Retraction(), key="bob", created=T0 + 18, refs=("help-offer-min",))
    valid(
        "retraction-rich",
        Retraction(reason="Erreur d'adresse"),
        created=T0 + 19,
        refs=("incident-min",),
    )
    valid("comment-min", Comment(text="Merci !"), key="bob", created=T0 + 20, refs=("tip-min",))
    valid(
        "comment-rich",
        Comment(text="J'ai un pack en plus.\nSonnez au 2e, côté cour."),
        created=T0 + 21,
        lifetime=7 * 1440,
        refs=("help-request-rich",),
    )
    valid(
        "help-request-via-handset",
        HelpRequest(
            need=Need.OTHER,
            urgency=RequestUrgency.CRITICAL,
            via=Handset(node=0xA1B2C3D4, name="Marie relais"),
        ),
        created=T0 + 22,
        note="an SOS typed on a plain Meshtastic handset, signed by alice as the witness",
    )
    valid(
        "vouch-min",
        Vouch(subject=public("bob")),
        key="carol",
        created=T0 + 23,
        note="carol, a coordinator, knows bob's household",
    )
    valid(
        "vouch-relay",
        Vouch(subject=public("alice"), role=Role.RELAY, name="Alice, 14 rue des Lilas"),
        key="carol",
        created=T0 + 24,
        lifetime=400 * 1440,
        in_spec=True,
        note="carol makes alice a relay, for the longest lifetime",
    )
    valid(
        "revoke-min",
        Revoke(subject=public("bob")),
        key="bob",
        created=T0 + 25,
        note="bob gives up every role of his own key",
    )
    valid(
        "revoke-rich",
        Revoke(
            subject=public("dave"),
            role=Role.RELAY,
            reason=RevokeReason.KEY_LOST,
            text="Téléphone volé le 27 mai",
        ),
        key="carol",
        created=T0 + 26,
        note="carol revokes dave's relay role: his key was stolen",
    )
    valid(
        "mark-min",
        Mark(),
        key="dave",
        created=T0 + 27,
        refs=("incident-rich",),
        note="dave, a relay, confirms incident-rich: empty body, verdict confirmed",
    )
    valid(
        "mark-false",
        Mark(verdict=Verdict.FALSE, text="Pas de crue : fausse alerte"),
        key="carol",
        created=T0 + 28,
        refs=("alert-min",),
        in_spec=True,
        note="carol, a coordinator, marks alert-min false",
    )
    valid(
        "corroboration-min",
        Corroboration(),
        key="bob",
        created=T0 + 29,
        refs=("incident-rich",),
    )
    valid(
        "corroboration-rich",
        Corroboration(text="Vu aussi, la route est coupée"),
        key="dave",
        created=T0 + 30,
        refs=("incident-rich",),
    )
    roster_vector(
        "roster-entry-min",
        {0: "Oxygène à domicile", 4: public("dave")},
        ["dave"],
        bytes(range(160, 192)),
        created=T0 + 31,
        in_spec=True,
        note="alice asks to be checked on; only dave, the relay, can read it",
    )
    roster_vector(
        "roster-entry-rich",
        {
            0: "Fauteuil roulant, malentendante",
            1: "14 rue des Lilas, 3e étage, code 4512",
            2: "Fille : 06 12 34 56 78",
            3: "Mme Dupont",
            4: public("carol"),
            5: 60,
        },
        ["carol", "dave"],
        bytes(range(192, 224)),
        created=T0 + 32,
        lifetime=365 * 1440,
        refs=("roster-entry-min",),
        note="every detail, for a person without a node, sealed to two relays; replaces "
        "roster-entry-min",
    )

    # ---- invalid: each breaks exactly one rule and is otherwise properly signed
    checkin = bytes.fromhex(VALID[0]["envelope"])
    c_checkin = content_of(
        CheckIn(status=CheckInStatus.SAFE), key="alice", created=T0, lifetime=None, refs=[]
    )
    c_request = content_of(
        HelpRequest(need=Need.WATER, people=2, text="x"),
        key="alice",
        created=T0,
        lifetime=None,
        refs=[],
    )

    def resign(pairs: list[tuple[int, bytes]], version: int = VERSION) -> bytes:
        return sign(bytes([version]) + raw_map(pairs), "alice")

    forged = bytearray(checkin)
    forged[-1] ^= 0x01
    invalid(
        "forged-signature",
        bytes(forged),
        "BadSignature",
        "bad-signature",
        "checkin-min with the last bit of its signature flipped",
    )
    invalid(
        "signed-by-another-key",
        sign(checkin[:-64], "bob"),
        "BadSignature",
        "bad-signature",
        "checkin-min's content (author alice) signed by bob",
    )
    invalid(
        "truncated",
        checkin[:-1],
        "Truncated",
        "truncated",
        "checkin-min without its last byte: the content ends inside an item",
    )
    invalid(
        "too-short",
        checkin[:65],
        "Truncated",
        "truncated",
        "65 bytes: shorter than a version byte, a 1-byte content and a signature",
    )
    big = {0: 13, 1: public("alice"), 2: T0, 4: ZONE, 5: [bytes(32)], 6: {0: "a" * 1892}}
    oversize = sign(signed_of(big), "alice")
    assert len(oversize) == 2049, len(oversize)
    invalid("oversize", oversize, "Oversize", "oversize", "a 2049-byte envelope (max 2048)")
    pairs = pairs_of(c_checkin)
    pairs[0] = (0, b"\x18\x06")
    invalid(
        "non-shortest-integer",
        resign(pairs),
        "NonCanonical",
        "non-canonical",
        "kind 6 written as 0x18 0x06 instead of 0x06",
    )
    pairs = pairs_of(c_checkin)
    pairs = [(k, head(2, 4, 1) + ZONE) if k == 4 else (k, v) for k, v in pairs]
    invalid(
        "non-shortest-length",
        resign(pairs),
        "NonCanonical",
        "non-canonical",
        "the zone's length written as 0x58 0x04 instead of 0x44",
    )
    pairs = pairs_of(c_checkin)
    pairs[2], pairs[3] = pairs[3], pairs[2]
    invalid(
        "unsorted-keys",
        resign(pairs),
        "NonCanonical",
        "non-canonical",
        "content keys in the order 0 1 4 2 6",
    )
    invalid(
        "explicit-default-lifetime",
        resign(pairs_of({**c_checkin, 3: 4320})),
        "NonCanonical",
        "non-canonical",
        "a check-in stating its default lifetime (4320 min)",
    )
    body = dict(c_request[6])
    body[1] = int(RequestUrgency.NORMAL)
    invalid(
        "explicit-default-body-field",
        resign(pairs_of({**c_request, 6: body})),
        "NonCanonical",
        "non-canonical",
        "a help request stating its default urgency (2, normal)",
    )
    invalid(
        "empty-body-map",
        resign(
            pairs_of(
                {
                    0: 10,
                    1: public("alice"),
                    2: T0,
                    4: ZONE,
                    5: [IDS["incident-min"]],
                    6: {},
                }
            )
        ),
        "NonCanonical",
        "non-canonical",
        "a retraction with an empty body map instead of no key 6",
    )
    invalid(
        "empty-refs",
        resign(pairs_of({**c_request, 5: []})),
        "NonCanonical",
        "non-canonical",
        "a help request with an empty reference list instead of no key 5",
    )
    invalid(
        "trailing-byte",
        sign(signed_of(c_checkin) + b"\x00", "alice"),
        "NonCanonical",
        "non-canonical",
        "a 0x00 after the content map, inside the signed bytes",
    )
    inner = b"".join(head(0, k) + v for k, v in pairs_of(c_checkin))
    invalid(
        "indefinite-length-map",
        sign(bytes([VERSION]) + b"\xbf" + inner + b"\xff", "alice"),
        "DecodeError",
        "malformed",
        "the content map written with an indefinite length (0xbf ... 0xff)",
    )
    body = {k: enc(v) for k, v in c_request[6].items()}
    body[6] = b"\x7f" + enc("x") + b"\xff"
    pairs = [(k, v) for k, v in pairs_of(c_request) if k != 6]
    pairs.append((6, raw_map(sorted(body.items()))))
    invalid(
        "indefinite-length-text",
        resign(pairs),
        "DecodeError",
        "malformed",
        "a help request whose text is an indefinite-length string (0x7f 0x61 0x78 0xff)",
    )
    pairs = pairs_of(c_checkin)
    pairs.insert(3, pairs[2])
    invalid(
        "duplicate-key",
        resign(pairs),
        "DecodeError",
        "malformed",
        "key 2 (created) twice with the same value",
    )
    pairs = [(k, b"\xc1" + v) if k == 2 else (k, v) for k, v in pairs_of(c_checkin)]
    invalid(
        "tag",
        resign(pairs),
        "DecodeError",
        "malformed",
        "created wrapped in tag 1 (epoch date/time)",
    )
    body = {k: enc(v) for k, v in c_request[6].items()}
    body[2] = bytes.fromhex("f94000")
    pairs = [(k, v) for k, v in pairs_of(c_request) if k != 6]
    pairs.append((6, raw_map(sorted(body.items()))))
    invalid(
        "float",
        resign(pairs),
        "DecodeError",
        "malformed",
        "a help request whose people count is the half-precision float 2.0",
    )
    invalid(
        "wrong-version",
        resign(pairs_of(c_checkin), version=2),
        "UnsupportedVersion",
        "unsupported-version",
        "version byte 0x02",
    )
    invalid(
        "unknown-kind",
        resign(pairs_of({0: 99, 1: public("alice"), 2: T0, 4: ZONE})),
        "UnknownKind",
        "unknown-kind",
        "kind 99",
    )
    invalid(
        "roster-entry-cut-slot",
        resign(
            pairs_of({0: 16, 1: public("alice"), 2: T0, 4: ZONE, 6: {0: bytes(81), 1: bytes(104)}})
        ),
        "InvalidMessage",
        "invalid",
        "a roster entry whose sealed keys are 81 bytes, not a multiple of 80",
    )
    invalid(
        "unknown-envelope-field",
        resign(pairs_of({**c_checkin, 7: 1})),
        "InvalidMessage",
        "invalid",
        "content key 7 does not exist",
    )
    invalid(
        "created-too-early",
        resign(pairs_of({**c_checkin, 2: 1_704_067_199})),
        "InvalidMessage",
        "invalid",
        "created one second before MIN_CREATED (2024-01-01T00:00:00Z)",
    )
    invalid(
        "bidi-override",
        resign(
            pairs_of(
                {
                    0: 13,
                    1: public("alice"),
                    2: T0,
                    4: ZONE,
                    5: [IDS["tip-min"]],
                    6: {0: "OK \u202egpj.exe"},
                }
            )
        ),
        "InvalidMessage",
        "invalid",
        "a comment containing U+202E RIGHT-TO-LEFT OVERRIDE",
    )
    invalid(
        "claim-without-ref",
        resign(pairs_of({0: 4, 1: public("alice"), 2: T0, 4: ZONE})),
        "InvalidMessage",
        "invalid",
        "a claim must reference exactly one message",
    )
    invalid(
        "request-for-an-offer-only-need",
        resign(pairs_of({**c_checkin, 0: 2, 6: {0: int(Need.GENERATOR)}})),
        "InvalidMessage",
        "invalid",
        "a help request asking for need 12 (generator), which is only offered",
    )
    invalid(
        "expired",
        checkin,
        "ExpiredMessage",
        "expired",
        "checkin-min received exactly at its expiry (created + 4320 min)",
        now=T0 + 4320 * 60,
    )
    invalid(
        "future-dated",
        resign(pairs_of({**c_checkin, 2: NOW + 601})),
        "FutureMessage",
        "future-dated",
        "created 601 s after the receiver's clock (max skew 600 s)",
    )
    incident = IDS["incident-rich"]
    invalid(
        "mark-from-unvouched",
        resign(pairs_of({0: 14, 1: public("alice"), 2: T0, 4: ZONE, 5: [incident]})),
        "Unauthorized",
        "unauthorized",
        "a verification mark by alice, who is neither a relay nor a coordinator",
    )
    invalid(
        "vouch-for-itself",
        sign(
            signed_of({0: 11, 1: public("carol"), 2: T0, 4: ZONE, 6: {0: public("carol")}}),
            "carol",
        ),
        "Unauthorized",
        "unauthorized",
        "carol, a coordinator, vouches for her own key",
    )
    invalid(
        "relay-vouches-for-a-relay",
        sign(
            signed_of({0: 11, 1: public("dave"), 2: T0, 4: ZONE, 6: {0: public("bob"), 1: 2}}),
            "dave",
        ),
        "Unauthorized",
        "unauthorized",
        "dave, a relay, vouches for bob as a relay: only coordinators make relays",
    )
    invalid(
        "revoke-by-a-relay",
        sign(
            signed_of({0: 12, 1: public("dave"), 2: T0, 4: ZONE, 6: {0: public("bob")}}), "dave"
        ),
        "Unauthorized",
        "unauthorized",
        "dave, a relay, revokes bob's key: only the key itself or a coordinator may",
    )
    official = bytes.fromhex(next(v for v in VALID if v["name"] == "alert-official")["signed"])
    official_by_alice = official.replace(public("bridge"), public("alice"))
    invalid(
        "official-alert-from-non-bridge",
        sign(official_by_alice, "alice"),
        "Unauthorized",
        "unauthorized",
        "alert-official signed by alice, whose key is not a bridge key of the zone",
    )

    return {
        "description": (
            "entraide wire protocol test vectors (SPEC.md, 'Test vectors'). Generated by "
            "tests/protocol/make_vectors.py; checked by tests/protocol/test_vectors.py."
        ),
        "version": VERSION,
        "signing_context": SIGNING_CONTEXT.hex(),
        "zone": ZONE.hex(),
        "now": NOW,
        "max_skew": 600,
        "keys": {
            name: {"seed": seed.hex(), "public": public(name).hex()} for name, seed in KEYS.items()
        },
        "roles": {public(name).hex(): roles for name, roles in ROLES.items()},
        "valid": VALID,
        "invalid": INVALID,
        "charters": charters(),
    }


def main() -> None:
    data = build()
    if "--sizes" in sys.argv:
        for v in data["valid"]:
            print(f"| {v['name']} | {v['decoded']['kind_name']} | {v['size']} |")
        return
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(data['valid'])} valid, {len(data['invalid'])} invalid vectors")


if __name__ == "__main__":
    main()
