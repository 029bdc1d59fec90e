"""JSON views of envelopes: names for enums, hex for bytes, degrees for points."""

from __future__ import annotations

import json

import nacl.signing

from protocol.envelope import seal
from protocol.jsonview import envelope_to_json
from protocol.kinds import (
    Alert,
    AlertOrigin,
    CheckIn,
    CheckInStatus,
    HelpRequest,
    Need,
    OfficialSource,
    Point,
    Severity,
)

KEY = nacl.signing.SigningKey(bytes(range(32)))
T0 = 1_780_000_000
ZONE = bytes.fromhex("01020304")


def test_a_help_request_with_a_point() -> None:
    env = seal(
        HelpRequest(need=Need.WATER, point=Point.from_degrees(48.85661, 2.35222), text="Eau"),
        signing_key=KEY,
        created=T0,
        zone=ZONE,
    )
    view = envelope_to_json(env)
    assert view["kind"] == "help_request"
    assert view["id"] == env.id.hex()
    assert view["author"] == bytes(KEY.verify_key).hex()
    assert view["zone"] == "01020304"
    assert view["expires"] == env.expires
    assert view["size"] == len(env.raw)
    assert view["body"]["need"] == "water"
    assert view["body"]["urgency"] == "normal"
    assert view["body"]["point"] == [48.85661, 2.35222]
    assert json.loads(json.dumps(view)) == view  # plain JSON all the way down


def test_nested_bodies_and_bytes_and_absent_fields() -> None:
    official = OfficialSource(
        source="meteoalarm-fr", sender="meteo", identifier="x1", sent=T0, digest=b"\xab" * 32
    )
    alert = seal(
        Alert(
            headline="Crue",
            severity=Severity.SEVERE,
            origin=AlertOrigin.OFFICIAL,
            official=official,
        ),
        signing_key=KEY,
        created=T0,
        zone=ZONE,
    )
    body = envelope_to_json(alert)["body"]
    assert body["origin"] == "official"
    assert body["official"]["digest"] == "ab" * 32
    visit = seal(
        CheckIn(status=CheckInStatus.NOBODY_HOME, subject_key=b"\x01" * 32),
        signing_key=KEY,
        created=T0,
        zone=ZONE,
    )
    body = envelope_to_json(visit)["body"]
    assert body["subject_key"] == "01" * 32
    assert body["status"] == "nobody_home"
    checkin = envelope_to_json(
        seal(CheckIn(status=CheckInStatus.SAFE), signing_key=KEY, created=T0, zone=ZONE)
    )
    assert "subject_key" not in checkin["body"]  # None fields are left out
