"""The situation report and the reflex sheet: contents, GeoJSON that validates, a PDF that
renders to an image, a printable HTML page that escapes what neighbours wrote, CSV that no
spreadsheet runs, signatures that verify; and the `entraide report` and `entraide bridge
--once` commands."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geojson
import pypdfium2
import pytest

from node.cli import main
from node.identity import Identity
from node.report import (
    BadReportSignature,
    ReflexSheet,
    build_situation,
    verify_report,
    write_reflex_sheet,
    write_situation_report,
)
from node.report.formats import as_csv, as_geojson, as_html
from node.report.reflex import Contact, parse_contacts, phone_tree
from protocol import kinds as k
from protocol.envelope import Envelope, seal
from protocol.roster import RosterDetails, seal_entry
from protocol.schema import Point

ZONE = bytes.fromhex("3f2a9c01")
NOW = 1_790_000_000
ME = Identity.from_seed(bytes(range(32)))
BRIDGE = Identity.from_seed(bytes(range(1, 33)))
NEIGHBOURS = [Identity.from_seed(bytes([i]) * 32) for i in range(40, 46)]


def post(who: Identity, body: k.Body, ago_s: int, refs: tuple[bytes, ...] = ()) -> Envelope:
    return seal(body, signing_key=who.signing_key, created=NOW - ago_s, zone=ZONE, refs=refs)


def messages() -> list[Envelope]:
    a, b, c, d, e, f = NEIGHBOURS
    official = k.OfficialSource(
        source="Préfecture", sender="p@x.invalid", identifier="X-1", sent=NOW - 4000,
        digest=bytes(32),
    )  # fmt: skip
    entry = seal_entry(
        RosterDetails(needs="oxygène à domicile", address="3 rue des Lilas, 2e", check_after=30),
        relays=[ME.public_key],
        author=f.public_key,
        zone=ZONE,
        entropy=bytes(32),
    )
    return [
        post(
            BRIDGE,
            k.Alert(
                headline="Crue de la Seine : évacuation du quai",
                severity=k.Severity.SEVERE,
                origin=k.AlertOrigin.OFFICIAL,
                official=official,
            ),
            3600,
        ),
        post(a, k.HelpRequest(need=k.Need.WATER, urgency=k.RequestUrgency.NORMAL), 3000),
        post(
            b,
            k.HelpRequest(
                need=k.Need.MEDICAL,
                urgency=k.RequestUrgency.CRITICAL,
                people=2,
                vulnerable=True,
                place="12 rue des Lilas",
                point=Point.from_degrees(49.44012, 1.09034),
                text='<script>alert("x")</script> dialyse',
            ),
            1200,
        ),
        post(c, k.CheckIn(status=k.CheckInStatus.SAFE), 600),  # heard from since the alert
        post(d, k.CheckIn(status=k.CheckInStatus.SAFE), 7200),  # not since the alert
        post(
            e,
            k.Incident(
                type=k.IncidentType.FLOODING,
                severity=k.Severity.SEVERE,
                place="quai",
                point=Point.from_degrees(49.45, 1.1),
                text='=HYPERLINK("http://x") cave inondée',
            ),
            900,
        ),
        post(
            ME,
            k.ResourcePoint(
                type=k.ResourceType.WATER_DISTRIBUTION,
                name="Gymnase Jean Jaurès",
                hours="8h-20h",
                point=Point.from_degrees(49.441, 1.08),
            ),
            300,
        ),
        post(f, entry, 86_400),
    ]


def situation(lang: str = "fr") -> object:
    return build_situation(
        messages(),
        now=NOW,
        zone_name="Rue des Lilas",
        zone_id=ZONE,
        bridge_keys=frozenset({BRIDGE.public_key}),
        signing_key=ME.signing_key,
        fingerprint=ME.fingerprint,
        lang=lang,
    )


def test_what_the_situation_holds() -> None:
    s = situation()
    assert [i.title for i in s.alerts] == ["Crue de la Seine : évacuation du quai"]
    assert s.alerts[0].official
    assert [i.level for i in s.requests] == ["urgence vitale", "normale"]  # most urgent first
    assert s.requests[0].vulnerable and s.requests[0].people == 2
    silent = {i.id for i in s.silent}
    assert NEIGHBOURS[3].public_key.hex() in silent  # checked in before the alert only
    assert NEIGHBOURS[2].public_key.hex() not in silent
    assert BRIDGE.public_key.hex() not in silent  # a bridge is not a household
    # the roster entry sealed to this node (a relay) escalates: no news since the alert,
    # more than 30 min (its check_after) after it started
    assert s.roster_readable
    assert [(i.detail, i.status) for i in s.vulnerable] == [
        ("oxygène à domicile", "sans nouvelles depuis l'alerte")
    ]
    assert [i.title for i in s.incidents] == ["inondation"]
    assert [i.title for i in s.resources] == ["Gymnase Jean Jaurès"]
    assert s.since == NOW - 3600


def test_a_node_that_is_not_a_relay_says_it_cannot_read_the_roster() -> None:
    other = build_situation(
        messages(),
        now=NOW,
        zone_name="Rue des Lilas",
        zone_id=ZONE,
        bridge_keys=frozenset({BRIDGE.public_key}),
        signing_key=NEIGHBOURS[0].signing_key,
        fingerprint="x",
        lang="en",
    )
    assert not other.roster_readable and other.vulnerable == []
    assert "Only a relay&#x27;s node" in as_html(other)


def test_the_geojson_validates() -> None:
    text = as_geojson(situation())
    collection = geojson.loads(text)
    assert isinstance(collection, geojson.FeatureCollection)
    assert collection.is_valid, collection.errors()
    for feature in collection["features"]:
        assert geojson.Feature(**feature).is_valid
    located = {f["properties"]["section"]: f["geometry"] for f in collection["features"]
               if f["geometry"]}  # fmt: skip
    assert located["request"] == {"type": "Point", "coordinates": [1.09034, 49.44012]}  # lon, lat
    assert set(located) == {"request", "incident", "resource"}
    assert json.loads(text)["properties"]["signer_fingerprint"] == ME.fingerprint


def test_the_csv_is_inert_in_a_spreadsheet() -> None:
    rows = list(csv.DictReader(io.StringIO(as_csv(situation()).lstrip("\ufeff"))))
    incident = next(r for r in rows if r["section"] == "incident")
    assert incident["detail"].startswith("'=HYPERLINK")
    assert {r["section"] for r in rows} == {
        "alert", "request", "silent", "vulnerable", "incident", "resource",
    }  # fmt: skip


def test_the_html_page_escapes_what_neighbours_wrote() -> None:
    page = as_html(situation())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Point de situation - Rue des Lilas" in page
    assert ME.fingerprint in page
    assert "<link" not in page and "src=" not in page  # self-contained


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_pdf_renders_and_is_signed(tmp_path: Path, lang: str) -> None:
    files = write_situation_report(tmp_path, situation(lang), ME)
    assert sorted(p.suffix for p in files) == [".csv", ".geojson", ".html", ".pdf", ".sig", ".txt"]
    pdf_path = next(p for p in files if p.suffix == ".pdf")
    document = pypdfium2.PdfDocument(pdf_path)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    image = document[0].render(scale=1).to_pil().convert("L")
    document.close()
    assert image.size[0] > 500 and image.size[1] > 700  # A4
    histogram = image.histogram()
    dark = sum(histogram[:128])
    assert 0.005 < dark / (image.size[0] * image.size[1]) < 0.5  # printed, not blank
    assert ME.fingerprint in " ".join(text.split())
    title = "Point de situation" if lang == "fr" else "Situation report"
    assert title in text and "Gymnase" in text
    verified = verify_report(tmp_path, ME.public_key)
    assert verified.fingerprint == ME.fingerprint and len(verified.files) == 4


def test_a_tampered_report_or_another_signer_is_refused(tmp_path: Path) -> None:
    files = write_situation_report(tmp_path, situation(), ME, ("geojson", "csv"))
    with pytest.raises(BadReportSignature, match="signed by"):
        verify_report(tmp_path, BRIDGE.public_key)
    csv_path = next(p for p in files if p.suffix == ".csv")
    csv_path.write_bytes(csv_path.read_bytes() + b"x")
    with pytest.raises(BadReportSignature, match="altered"):
        verify_report(tmp_path)


def test_phone_tree_and_reflex_sheet(tmp_path: Path) -> None:
    contacts = parse_contacts(
        b"name;phone;role;place\n"
        b"Mairie;0102030405;coordinator;\n"
        b"Relais Nord;0601;relay;\n"
        b"Relais Sud;0602;relay;\n"
        b"Mme Martin;0611;household;12 rue des Lilas\n"
        b"M. Diallo;0612;;\n"
        b"Famille Nguyen;0613;household;\n",
        "fr",
    )
    tree = phone_tree(contacts)
    assert [(b.caller.name if b.caller else None, [c.name for c in b.calls]) for b in tree] == [
        ("Mairie", ["Relais Nord", "Relais Sud"]),
        ("Relais Nord", ["Mme Martin", "Famille Nguyen"]),
        ("Relais Sud", ["M. Diallo"]),
    ]
    sheet = ReflexSheet(
        "Rue des Lilas", ZONE.hex(), NOW, "fr", ME.fingerprint, (BRIDGE.public_key,), contacts
    )
    files = write_reflex_sheet(tmp_path, sheet, ME)
    document = pypdfium2.PdfDocument(files[0])
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "Fiche réflexe" in text and "Relais Nord" in text and "0611" in text
    assert verify_report(tmp_path).files == (files[0].name,)
    blank = ReflexSheet("Rue des Lilas", ZONE.hex(), NOW, "en", ME.fingerprint)
    assert b"%PDF" in write_reflex_sheet(tmp_path / "blank", blank, ME)[0].read_bytes()[:8]
    assert phone_tree([Contact("A", "1")]) == phone_tree([Contact("A", "1", "household")])


# --- the commands -------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENTRAIDE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LANG", raising=False)
    code, _, err = run("init", "--zone-name", "Rue des Lilas", "--language", "fr")
    assert code == 0, err
    return tmp_path / "home"


def test_entraide_report_writes_and_verifies(home: Path, tmp_path: Path) -> None:
    assert run("post", "request", "--need", "water", "--urgency", "high")[0] == 0
    out_dir = tmp_path / "rapport"
    code, out, err = run("report", "--out", str(out_dir), "--json")
    assert code == 0, err
    files = json.loads(out)["files"]
    assert len(files) == 6 and all(os.path.exists(f) for f in files)
    code, out, _ = run("report", "verify", str(out_dir))
    assert code == 0 and "Signature valide" in out
    code, out, _ = run("--lang", "en", "report", "reflex", "--out", str(tmp_path / "fiche"))
    assert code == 0 and "Report written and signed" in out
    Path(files[1]).write_text("changed")
    code, _, err = run("report", "verify", str(out_dir))
    assert code == 4 and "altered" in err


def test_entraide_bridge_once_reads_a_folder(home: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "cle-usb"
    inbox.mkdir()
    moment = datetime.now(UTC)
    stamp = (moment - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    ends = (moment + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    (inbox / "alerte.xml").write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>CLI-1</identifier><sender>sidpc@prefecture.example.invalid</sender>
  <sent>{stamp}</sent><status>Exercise</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>fr-FR</language><category>Safety</category><event>Essai</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
    <expires>{ends}</expires><headline>EXERCICE - mise à l'abri</headline>
    <area><areaDesc>Quartier</areaDesc><circle>49.443,1.085 2</circle></area></info>
</alert>""",
        encoding="utf-8",
    )
    (inbox / "bombe.xml").write_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    code, _, err = run("bridge", "--once")
    assert code == 3 and "[bridge]" in err  # not configured yet
    (home / "bridge.toml").write_text(
        f'[bridge]\nfolders = ["{inbox}"]\n'
        "[bridge.area]\ncircle = { lat = 49.44, lon = 1.09, radius_km = 1 }\n",
        encoding="utf-8",
    )
    code, out, err = run("bridge", "--once", "--json")
    assert code == 0, err
    result = json.loads(out)
    by_file = {Path(d["where"]).name: d for d in result["folders"]}
    assert by_file["alerte.xml"]["status"] == "mirrored"
    assert by_file["bombe.xml"]["reason"] == "doctype-forbidden"
    board = json.loads(run("board", "alerts", "--json")[1])
    # this node trusts its own bridge key only while it runs as the bridge
    assert board["alerts"] == []
    key = result["bridge_key"]
    assert run("init", "--bridge-key", key, "--force")[0] == 0
    board = json.loads(run("board", "alerts", "--json")[1])
    assert [(a["official"], a["exercise"]) for a in board["alerts"]] == [(True, True)]
    code, out, _ = run("bridge", "--once")
    assert code == 0 and "CLI-1" not in out  # each file is read once


def test_the_report_uses_the_zone_charter_roles() -> None:
    """A relay named by the zone's charter (not by a vouch among the messages) is a relay in
    the report too: it may read the roster, as on the board."""
    from node.report.situation import Situation
    from protocol.charter import Charter
    from protocol.trust import Roles, derive_roles

    relay = NEIGHBOURS[0]
    founder = Identity.from_seed(bytes([99]) * 32)
    charter = Charter(
        zone=ZONE,
        name="Rue des Lilas",
        founders=(founder.public_key,),
        issued=NOW - 86_400 * 30,
        bridges=(BRIDGE.public_key,),
        relays=(relay.public_key,),
    )
    bridge_keys = frozenset({BRIDGE.public_key})

    def report(roles: Roles | None) -> Situation:
        return build_situation(
            messages(),
            now=NOW,
            zone_name="Rue des Lilas",
            zone_id=ZONE,
            bridge_keys=bridge_keys,
            signing_key=relay.signing_key,
            fingerprint="x",
            lang="en",
            roles=roles,
        )

    without = report(None)
    assert not without.roster_readable
    chartered = derive_roles(charter, messages(), now=NOW, bridge_keys=bridge_keys)
    assert report(chartered).roster_readable
