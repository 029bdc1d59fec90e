"""The ``entraide`` command line: run in-process through ``node.cli.main`` (fast), plus a few
runs of the installed command in a real process."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from node.cli import main
from node.cli_args import parse_duration_minutes
from node.identity import load_identity
from node.store import Store
from protocol import kinds as k
from protocol.bundle import MAGIC, encode_bundle, iter_bundle
from protocol.envelope import Policy, decode, seal

ZONE = "3f2a9c01"
FINGERPRINT = re.compile(r"^\d{5} \d{5} \d{5} \d{5}$")
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "ENTRAIDE_HOME")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests choose their language; the developer's locale and node must not leak in."""
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ENTRAIDE_HOME", str(tmp_path / "default-home"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.out)


def words(text: str) -> str:
    """Help text with argparse's line wrapping undone."""
    return " ".join(text.split())


def run(*argv: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


@dataclass
class Household:
    """One node, with its own --home directory."""

    home: Path

    def run(self, *argv: str) -> Result:
        return run(*argv, "--home", str(self.home))

    def ok(self, *argv: str) -> Result:
        result = self.run(*argv)
        assert result.code == 0, result
        return result

    def post(self, *argv: str) -> str:
        """Post a message; return its full id."""
        env = self.ok("post", *argv, "--json").json()
        return str(env["id"])

    def board(self, *argv: str) -> dict[str, Any]:
        data: dict[str, Any] = self.ok("board", "--json", *argv).json()
        return data

    @property
    def key(self) -> str:
        return str(self.ok("whoami", "--json").json()["public_key"])

    def count(self) -> int:
        with Store.open(self.home / "store.sqlite3") as store:
            return store.count()

    def export(self, path: Path) -> bytes:
        self.ok("export", str(path))
        return path.read_bytes()


def household(tmp_path: Path, name: str) -> Household:
    h = Household(tmp_path / name)
    h.ok("init", "--zone-id", ZONE, "--zone-name", "Rue des Lilas")
    return h


@pytest.fixture
def alice(tmp_path: Path) -> Household:
    return household(tmp_path, "alice")


@pytest.fixture
def bob(tmp_path: Path) -> Household:
    return household(tmp_path, "bob")


def share(sender: Household, receiver: Household, tmp_path: Path) -> Result:
    """Carry everything ``sender`` has to ``receiver`` in a bundle file."""
    path = tmp_path / f"{sender.home.name}-to-{receiver.home.name}.bundle"
    sender.export(path)
    return receiver.run("import", str(path))


def by_id(items: list[dict[str, Any]], message_id: str) -> dict[str, Any]:
    (item,) = [i for i in items if i["id"] == message_id]
    return item


# --- init and whoami --------------------------------------------------------------------------


def test_init_creates_identity_config_and_store(tmp_path: Path) -> None:
    home = tmp_path / "node"
    result = run("init", "--home", str(home), "--zone-name", "Quartier Saint-Michel")
    assert result.code == 0, result
    for name in ("identity.key", "config.toml", "store.sqlite3"):
        assert (home / name).is_file()
    assert "New household identity created." in result.out
    assert "Quartier Saint-Michel" in result.out
    assert "Compare the fingerprint aloud" in result.out


def test_init_twice_with_the_same_arguments_changes_nothing(alice: Household) -> None:
    key, config = alice.key, (alice.home / "config.toml").read_bytes()
    again = alice.ok("init", "--zone-id", ZONE, "--zone-name", "Rue des Lilas")
    assert "nothing changed" in again.out
    assert "New household identity" not in again.out
    assert alice.key == key
    assert (alice.home / "config.toml").read_bytes() == config
    assert alice.ok("init").out  # no arguments at all: also fine


def test_init_in_another_zone_needs_force(alice: Household) -> None:
    key = alice.key
    refused = alice.run("init", "--zone-id", "01020304")
    assert refused.code == 2
    assert "--force" in refused.err and ZONE in refused.err
    assert alice.ok("whoami", "--json").json()["zone"]["id"] == ZONE

    moved = alice.ok("init", "--zone-id", "01020304", "--force", "--json").json()
    assert moved["zone"]["id"] == "01020304"
    assert moved["public_key"] == key  # the household keeps its identity
    assert not moved["created_identity"]


def test_init_with_force_keeps_what_is_not_given_again(alice: Household) -> None:
    bridge = "ab" * 32
    alice.ok("init", "--bridge-key", bridge, "--force")
    zone = alice.ok("whoami", "--json").json()["zone"]
    assert zone == {
        "id": ZONE,
        "name": "Rue des Lilas",
        "bridge_keys": [bridge],
        "bootstrap_peers": [],
    }


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--zone-id", "xyz", "not a zone id"),
        ("--zone-name", "", "1 to 64 characters"),
        ("--bridge-key", "1234", "64 hex digits"),
        ("--peer", "localhost:4001", "peer address"),
    ],
)
def test_init_rejects_bad_values(tmp_path: Path, option: str, value: str, message: str) -> None:
    result = run("init", "--home", str(tmp_path / "n"), option, value)
    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "n").exists()


def test_whoami_text_and_json(alice: Household) -> None:
    data = alice.ok("whoami", "--json").json()
    assert re.fullmatch(r"[0-9a-f]{64}", data["public_key"])
    assert FINGERPRINT.match(data["fingerprint"])
    assert data["home"] == str(alice.home)
    assert data["zone"]["id"] == ZONE and data["zone"]["name"] == "Rue des Lilas"
    text = alice.ok("whoami").out
    assert data["fingerprint"] in text and data["public_key"] in text
    assert "Rue des Lilas (3f2a9c01)" in text
    french = alice.ok("whoami", "--lang", "fr").out
    assert "Empreinte" in french and data["fingerprint"] in french


def test_common_options_go_before_or_after_the_command(alice: Household) -> None:
    home = str(alice.home)
    before = run("--home", home, "--json", "whoami")
    after = run("whoami", "--json", "--home", home)
    assert before.json() == after.json()
    nested = run("post", "--home", home, "tip", "--title", "Eau", "--json")
    assert nested.json()["kind"] == "tip"
    french = run("--lang", "fr", "--home", home, "board")
    assert "Alertes" in french.out


# --- before init ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["whoami"],
        ["board"],
        ["show", "abcd"],
        ["export", "out.bundle"],
        ["import", "in.bundle"],
        ["post", "request", "--need", "water"],
    ],
    ids=lambda argv: argv[0],
)
@pytest.mark.parametrize("exists", [False, True], ids=["no-home", "empty-home"])
def test_commands_before_init_say_to_run_init(
    tmp_path: Path, argv: list[str], exists: bool
) -> None:
    home = tmp_path / "nowhere"
    if exists:
        home.mkdir()
    result = run(*argv, "--home", str(home))
    assert result.code == 3, result
    assert "entraide init" in result.err
    assert not (home / "store.sqlite3").exists()


def test_before_init_in_french(tmp_path: Path) -> None:
    result = run("board", "--home", str(tmp_path / "x"), "--lang", "fr")
    assert result.code == 3
    assert "lancez d'abord `entraide init`" in result.err


# --- post, and what the board shows -----------------------------------------------------------


def test_post_alert_and_supersede_it(alice: Household) -> None:
    first = alice.post("alert", "--headline", "Crue", "--severity", "moderate")
    second = alice.post(
        "alert",
        "--headline",
        "Crue : évacuez les quais",
        "--severity",
        "grave",
        "--urgency",
        "immédiate",
        "--category",
        "met",
        "--supersedes",
        first[:8],
    )
    (alert,) = alice.board("alerts")["alerts"]
    assert alert["id"] == second
    assert alert["body"]["severity"] == "severe" and alert["body"]["urgency"] == "immediate"
    assert alert["body"]["category"] == "met"


def test_a_withdrawn_standing_offer_stays_withdrawn(alice: Household) -> None:
    offer = alice.ok(
        "post", "offer", "--what", "generator", "--standing", "--lifetime", "26w", "--json"
    )
    resolution = alice.ok("post", "resolve", offer.json()["id"][:8], "--json").json()
    # The resolution lasts as long as the offer, or the offer would come back when the
    # resolution expired and was pruned.
    assert resolution["expires"] >= offer.json()["expires"]
    assert alice.board("help")["offers"] == []


def test_what_replaces_or_depends_on_a_message_lasts_as_long(alice: Household) -> None:
    """Nodes prune what expired: a newer message that expired first would let the older one
    come back (an all-clear before the evacuation order it ends, say)."""

    def posted(*argv: str) -> dict[str, Any]:
        return dict(alice.ok("post", *argv, "--json").json())

    order = posted("alert", "--headline", "Évacuez", "--severity", "extreme", "--lifetime", "7d")
    clear = posted("alert", "--headline", "Fin", "--all-clear", "--supersedes", order["id"][:8])
    assert clear["expires"] >= order["expires"]
    injured = posted("checkin", "--status", "injured", "--lifetime", "14d")
    safe = posted("checkin")
    assert safe["expires"] >= injured["expires"]
    request = posted("request", "--need", "water", "--lifetime", "7d")
    held = posted("claim", request["id"][:8], "--eta", "30m")
    assert held["expires"] >= request["expires"]  # the claimer may still resolve it
    point = posted(
        "resource", "--type", "water_distribution", "--name", "Gymnase", "--lifetime", "30d"
    )
    closed = posted(
        "resource",
        "--type",
        "water_distribution",
        "--name",
        "Gymnase",
        "--closed",
        "--replaces",
        point["id"][:8],
    )
    assert closed["expires"] >= point["expires"]


def test_post_request_and_offer(alice: Household) -> None:
    request = alice.post(
        "request",
        "--need",
        "eau",
        "--urgency",
        "high",
        "--people",
        "3",
        "--vulnerable",
        "--place",
        "12 rue des Lilas",
        "--point",
        "43.6045,1.444",
        "--text",
        "Plus d'eau potable",
    )
    offer = alice.post("offer", "--what", "generator", "--standing", "--lifetime", "30d")
    board = alice.board()
    body = by_id(board["requests"], request)["body"]
    assert body == {
        "need": "water",
        "urgency": "high",
        "people": 3,
        "vulnerable": True,
        "place": "12 rue des Lilas",
        "point": [43.6045, 1.444],
        "text": "Plus d'eau potable",
    }
    assert by_id(board["requests"], request)["status"] == "open"
    offered = by_id(board["offers"], offer)
    assert offered["body"]["what"] == "generator" and offered["body"]["standing"]
    assert offered["expires"] - offered["created"] == 30 * 86400


def test_claim_then_resolve_by_the_requester(
    alice: Household, bob: Household, tmp_path: Path
) -> None:
    request = alice.post("request", "--need", "food")
    share(alice, bob, tmp_path)
    claim = bob.post("claim", request[:8], "--eta", "20m", "--text", "J'arrive")
    seen = by_id(bob.board("help")["requests"], request)
    assert seen["status"] == "claimed"
    assert seen["claimers"] == [bob.key]
    assert "pris en charge par" in bob.ok("board", "help", "--lang", "fr").out

    share(bob, alice, tmp_path)
    assert by_id(alice.board()["requests"], request)["status"] == "claimed"
    alice.post("resolve", request[:8], "--text", "Merci !")
    done = by_id(alice.board()["requests"], request)
    assert done["status"] == "resolved" and done["resolved_by"] == alice.key
    assert claim in alice.ok("show", request[:8], "--json").json()["referenced_by"]


def test_the_claimer_may_resolve_a_stranger_may_not(
    alice: Household, bob: Household, tmp_path: Path
) -> None:
    request = alice.post("request", "--need", "transport")
    share(alice, bob, tmp_path)
    before = bob.count()
    refused = bob.run("post", "resolve", request[:8])
    assert refused.code == 2
    assert "only its author or someone who claimed it" in refused.err
    assert bob.count() == before  # nothing stored

    bob.post("claim", request[:8])
    bob.post("resolve", request[:8], "--cancelled")
    resolved = by_id(bob.board()["requests"], request)
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == bob.key
    assert f"closed by helper {bob.key[:8]}" in bob.ok("board", "help").out


def test_retract(alice: Household, bob: Household, tmp_path: Path) -> None:
    mine = alice.post("request", "--need", "medication")
    share(alice, bob, tmp_path)
    refused = bob.run("post", "retract", mine[:8])
    assert refused.code == 2
    assert "only retract your own messages" in refused.err

    retraction = alice.post("retract", mine[:8], "--reason", "réglé")
    assert alice.board()["requests"] == []
    assert alice.run("post", "retract", retraction[:8]).code == 2  # not a retraction's


def test_checkin_for_myself_and_on_behalf_of_a_name(alice: Household) -> None:
    alice.post("checkin", "--status", "no power", "--people", "2")
    alice.post("checkin", "--for-name", "Mme Dupont", "--status", "en sécurité")
    checkins = alice.board("checkins")["checkins"]
    by_household = {c["household"]: c for c in checkins}
    assert by_household[alice.key]["body"]["status"] == "no_power"
    assert not by_household[alice.key]["on_behalf"]
    dupont = by_household["name:mme dupont"]
    assert dupont["on_behalf"] and dupont["body"]["status"] == "safe"
    assert "Mme Dupont" in alice.ok("board", "checkins").out


def test_checkin_answers_an_alert(alice: Household) -> None:
    alert = alice.post("alert", "--headline", "Tempête")
    alice.post("checkin", "--answers", alert[:8])
    data = alice.board()
    assert data["checkins"][0]["refs"] == [alert]
    assert data["not_heard_from"]["households"] == []


def test_incident_update(alice: Household) -> None:
    first = alice.post("incident", "--type", "tree down", "--place", "Rue Haute")
    update = alice.post(
        "incident", "--type", "route coupée", "--severity", "severe", "--updates", first[:8]
    )
    (incident,) = alice.board("incidents")["incidents"]
    assert incident["id"] == update and incident["refs"] == [first]
    assert incident["body"]["type"] == "road_blocked"
    assert incident["first_reported"] <= incident["created"]


def test_update_of_someone_elses_incident_is_refused(
    alice: Household, bob: Household, tmp_path: Path
) -> None:
    first = alice.post("incident", "--type", "fire")
    share(alice, bob, tmp_path)
    refused = bob.run("post", "incident", "--type", "fire", "--updates", first[:8])
    assert refused.code == 2 and "another household" in refused.err


def test_resource_replaced_then_closed(alice: Household) -> None:
    first = alice.post("resource", "--type", "shelter", "--name", "Gymnase")
    second = alice.post(
        "resource", "--type", "shelter", "--name", "Gymnase Léo Lagrange", "--replaces", first[:8]
    )
    (point,) = alice.board("resources")["resources"]
    assert point["id"] == second and point["open"]
    closed = alice.post(
        "resource", "--type", "shelter", "--name", "Gymnase Léo Lagrange", "--closed",
        "--replaces", second[:8],
    )  # fmt: skip
    (point,) = alice.board("resources")["resources"]
    assert point["id"] == closed and not point["open"]


def test_tip_and_drill_notice(alice: Household) -> None:
    alice.post("tip", "--title", "Remplissez vos bidons", "--language", "fr")
    drill = alice.post(
        "tip",
        "--title",
        "Exercice d'évacuation",
        "--drill",
        "--drill-start",
        "2030-11-22T14:00",
        "--drill-end",
        "2030-11-22T16:00",
    )
    tips = alice.board("tips")["tips"]
    assert tips[0]["id"] == drill  # drill notices first
    assert by_id(tips, drill)["body"]["type"] == "drill"
    refused = alice.run("post", "tip", "--title", "x", "--drill-start", "2030-11-22T14:00")
    assert refused.code == 2 and "--drill" in refused.err


def test_comment(alice: Household) -> None:
    request = alice.post("request", "--need", "shelter")
    comment = alice.post("comment", request[:8], "--text", "Une chambre est libre au 14")
    assert by_id(alice.board()["requests"], request)["comments"] == [comment]
    shown = alice.ok("show", comment[:8]).out
    assert "Une chambre est libre au 14" in shown


def test_a_reference_to_the_wrong_kind_is_refused(alice: Household) -> None:
    offer = alice.post("offer", "--what", "tools")
    refused = alice.run("post", "claim", offer[:8])
    assert refused.code == 2
    assert 'is of kind "help offer"; expected: "help request"' in refused.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["request", "--need", "water", "--people", "0"], "0 is out of range: from 1 to 999"),
        (["request", "--need", "water", "--people", "two"], "not a whole number"),
        (["request", "--need", "unknown"], 'unrecognised need "unknown"'),
        (["request", "--need", "generator"], "can be offered but not requested"),
        (["request", "--need", "water", "--place", "x" * 49], "too long: 49 bytes, at most 48"),
        (["request", "--need", "water", "--lifetime", "0"], "at least 1 minute"),
        (["request", "--need", "water", "--lifetime", "8d"], "lasts at most 7 days"),
        (["request", "--need", "water", "--lifetime", "3 weeks"], "not a duration"),
        (["request", "--need", "water", "--point", "43,6;1,4"], "not a position"),
        (["alert", "--headline", "é" * 250], "too long: 500 bytes, at most 140"),
        (["alert", "--headline", "   "], "must not be empty"),
        (["alert", "--headline", "a\nb"], "control character"),
        (["comment", "abcd"], "--text"),
        (["checkin", "--for-name", "x", "--for-key", "ab" * 32], "not allowed with"),
        (["claim", "zz"], "not a message id"),
        (["offer", "--what", "water", "--capacity", "1000"], "from 1 to 999"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_invalid_values_are_refused_and_nothing_is_stored(
    alice: Household, argv: list[str], message: str
) -> None:
    result = alice.run("post", *argv)
    assert result.code == 2, result
    assert message in result.err
    assert "Traceback" not in result.err
    assert alice.count() == 0


def test_invalid_value_in_french(alice: Household) -> None:
    result = alice.run("post", "request", "--need", "inconnu", "--lang", "fr")
    assert result.code == 2
    assert "« inconnu » n'est pas reconnu comme besoin" in result.err
    assert "eau, nourriture" in result.err


def test_json_errors(alice: Household) -> None:
    result = alice.run("show", "xyz", "--json")
    assert result.code == 2
    error = json.loads(result.err)
    assert error["error"] == "usage" and error["fault"] == "local"
    assert "not a message id" in error["message"]


# --- the board --------------------------------------------------------------------------------


def test_board_filters_and_sections(alice: Household, bob: Household, tmp_path: Path) -> None:
    water = alice.post("request", "--need", "water", "--urgency", "critical")
    food = alice.post("request", "--need", "food", "--urgency", "low")
    alice.post("alert", "--headline", "Coupure d'eau")
    share(alice, bob, tmp_path)
    own = bob.post("request", "--need", "water")
    bob.post("claim", food[:8])

    def ids(*argv: str) -> set[str]:
        return {r["id"] for r in bob.board(*argv)["requests"]}

    assert ids() == {water, food, own}
    assert ids("--need", "water") == {water, own}
    assert ids("--need", "eau") == {water, own}
    assert ids("--urgency", "urgence vitale") == {water}
    assert ids("--mine") == {own, food}  # my request and the one I claimed
    assert ids("help", "--need", "food", "--urgency", "low") == {food}

    help_only = bob.board("help")
    assert set(help_only) == {"now", "requests", "offers"}
    alerts_only = bob.board("alerts")
    assert set(alerts_only) == {"now", "alerts"}
    assert set(bob.board()) >= {"alerts", "requests", "offers", "checkins", "incidents"}
    assert bob.run("board", "everything").code == 2


def test_board_text_in_french_and_english(alice: Household) -> None:
    alice.post(
        "request",
        "--need",
        "power",
        "--urgency",
        "critical",
        "--vulnerable",
        "--place",
        "12 rue des Lilas",
        "--text",
        "Personne sous oxygène, batterie faible, merci de passer avant ce soir " * 3,
    )
    alice.post("alert", "--headline", "Crue de la Garonne : évacuez les rez-de-chaussée " * 2)
    alice.post("incident", "--type", "power line down", "--text", "Câble au sol " * 10)
    alice.post("resource", "--type", "water distribution", "--name", "Gymnase Léo Lagrange")
    alice.post("checkin", "--status", "sheltering")
    alice.post("offer", "--what", "4x4 vehicle", "--text", "Disponible " * 20)
    alice.post("tip", "--title", "Remplissez vos bidons d'eau avant la coupure " * 3)

    french = alice.ok("board", "--lang", "fr").out
    for text in (
        "Demandes d'aide",
        "électricité / recharge ⚠",
        "urgence vitale",
        "Alertes",
        "citoyenne",
        "ligne électrique à terre",
        "point de distribution d'eau",
        "mise à l'abri",
        "véhicule 4x4",
        "Sans nouvelles depuis l'alerte",
    ):
        assert text in french
    assert "power / charging" not in french and "life at risk" not in french

    english = alice.ok("board").out
    assert "Help requests" in english and "power / charging ⚠" in english
    assert "électricité" not in english

    for text in (french, english):
        too_wide = [line for line in text.splitlines() if len(line) > 80]
        assert not too_wide


def test_board_in_the_language_of_the_node(tmp_path: Path) -> None:
    home = tmp_path / "fr"
    assert run("init", "--home", str(home), "--language", "fr").code == 0
    assert "Demandes d'aide" in run("board", "--home", str(home)).out
    assert "Help requests" in run("board", "--home", str(home), "--lang", "en").out


# --- show -------------------------------------------------------------------------------------


def test_show_by_prefix(alice: Household) -> None:
    request = alice.post("request", "--need", "water", "--people", "4", "--text", "Au 3e étage")
    for prefix in (request[:4], request[:8], request, request[:8].upper()):
        data = alice.ok("show", prefix, "--json").json()
        assert data["id"] == request
    text = alice.ok("show", request[:8]).out
    assert request in text and "Au 3e étage" in text and "people" in text
    french = alice.ok("show", request[:8], "--lang", "fr").out
    assert "personnes" in french and "eau" in french


def test_show_unknown_id_is_not_found(alice: Household) -> None:
    request = alice.post("tip", "--title", "x")
    other = "0000" if not request.startswith("0000") else "ffff"
    result = alice.run("show", other)
    assert result.code == 5
    assert f"no message with id {other}" in result.err


@pytest.mark.parametrize("text", ["abc", "xyz12", "", "12345g"])
def test_show_invalid_prefix_is_a_usage_error(alice: Household, text: str) -> None:
    result = alice.run("show", text)
    assert result.code == 2
    assert "not a message id" in result.err


def test_show_ambiguous_prefix_is_a_usage_error(alice: Household) -> None:
    identity = load_identity(alice.home)
    now = int(time.time())
    by_prefix: dict[bytes, bytes] = {}
    for i in range(100_000):  # two ids sharing their first 2 bytes: ~300 tries
        env = seal(
            k.Tip(title=f"conseil {i}"),
            signing_key=identity.signing_key,
            created=now,
            zone=bytes.fromhex(ZONE),
        )
        if env.id[:2] in by_prefix:
            pair = [by_prefix[env.id[:2]], env.raw]
            break
        by_prefix[env.id[:2]] = env.raw
    with Store.open(alice.home / "store.sqlite3") as store:
        assert [r.status for r in store.ingest(pair, now=now, policy=Policy())] == ["new"] * 2
    prefix = env.id[:2].hex()
    result = alice.run("show", prefix)
    assert result.code == 2
    assert f"2 messages start with {prefix}: give more digits" in result.err
    assert alice.ok("show", env.id[:3].hex(), "--json").json()["id"] == env.id.hex()


# --- export and import ------------------------------------------------------------------------


@pytest.fixture
def three_messages(alice: Household) -> list[str]:
    return [
        alice.post("request", "--need", "water"),
        alice.post("offer", "--what", "tools"),
        alice.post("incident", "--type", "flooding"),
    ]


def test_export_then_import_in_another_household(
    alice: Household, bob: Household, tmp_path: Path, three_messages: list[str]
) -> None:
    path = tmp_path / "cle-usb.bundle"
    exported = alice.ok("export", str(path), "--json").json()
    assert exported == {"exported": 3, "bytes": path.stat().st_size, "file": str(path)}

    first = bob.ok("import", str(path), "--json").json()
    assert (first["new"], first["duplicate"], first["rejected"]) == (3, 0, 0)
    board = bob.board()
    assert {r["id"] for r in board["requests"]} == {three_messages[0]}
    assert {o["id"] for o in board["offers"]} == {three_messages[1]}
    assert {i["id"] for i in board["incidents"]} == {three_messages[2]}

    again = bob.ok("import", str(path))
    assert "0 new, 3 already known, 0 rejected" in again.out
    assert bob.count() == 3


def test_a_bundle_from_another_zone_is_rejected(
    alice: Household, tmp_path: Path, three_messages: list[str]
) -> None:
    stranger = Household(tmp_path / "stranger")
    stranger.ok("init", "--zone-id", "ffffffff", "--zone-name", "Ailleurs")
    path = tmp_path / "cle-usb.bundle"
    alice.export(path)
    result = stranger.run("import", str(path), "--json")
    assert result.code == 4
    report = json.loads(result.out)
    assert (report["new"], report["rejected"]) == (0, 3)
    assert {r["code"] for r in report["rejections"]} == {"wrong-zone"}
    assert stranger.count() == 0


def test_export_since(alice: Household, tmp_path: Path, three_messages: list[str]) -> None:
    path = tmp_path / "future.bundle"
    out = alice.ok("export", str(path), "--since", "2099-01-01T00:00").out
    assert "Exported 0 message(s)" in out
    assert list(iter_bundle(path.read_bytes())) == []


def test_messages_from_the_future_point_at_the_clock(bob: Household, tmp_path: Path) -> None:
    key = nacl.signing.SigningKey(b"\x09" * 32)
    ahead = seal(
        k.CheckIn(status=k.CheckInStatus.SAFE),
        signing_key=key,
        created=int(time.time()) + 3 * 3600,
        zone=bytes.fromhex(ZONE),
    )
    path = tmp_path / "from-the-future.bundle"
    path.write_bytes(encode_bundle([ahead.raw]))
    result = bob.run("import", str(path), "--lang", "fr")
    assert result.code == 4
    assert "daté du futur" in result.out
    assert "L'horloge de cet ordinateur indique" in result.out
    assert bob.count() == 0


def test_a_forged_envelope_is_rejected_and_the_others_imported(
    alice: Household, bob: Household, tmp_path: Path, three_messages: list[str]
) -> None:
    raws = list(iter_bundle(alice.export(tmp_path / "good.bundle")))
    ids = [decode(raw).id.hex() for raw in raws]
    assert sorted(ids) == sorted(three_messages)
    forged = bytearray(raws[1])
    forged[-1] ^= 0x01  # one bit of the signature
    raws[1] = bytes(forged)
    path = tmp_path / "forged.bundle"
    path.write_bytes(encode_bundle(raws))

    result = bob.run("import", str(path), "--json")
    assert result.code == 4
    report = json.loads(result.out)
    assert (report["new"], report["rejected"]) == (2, 1)
    (rejection,) = report["rejections"]
    assert rejection["index"] == 1 and rejection["code"] == "bad-signature"
    assert rejection["id"] == ids[1]
    assert bob.count() == 2
    assert bob.run("show", ids[1]).code == 5  # the forged one was not stored
    assert bob.ok("show", ids[0]).out and bob.ok("show", ids[2]).out

    text = bob.run("import", str(path), "--lang", "fr")
    assert text.code == 4
    assert "signature falsifiée ou corrompue" in text.out


def test_a_truncated_bundle_keeps_the_records_before_the_damage(
    alice: Household, bob: Household, tmp_path: Path, three_messages: list[str]
) -> None:
    data = alice.export(tmp_path / "full.bundle")
    last = decode(list(iter_bundle(data))[-1]).id.hex()
    path = tmp_path / "cut.bundle"
    path.write_bytes(data[:-10])

    result = bob.run("import", str(path))
    assert result.code == 4
    assert "2 new, 0 already known, 0 rejected" in result.out
    assert "The file is damaged" in result.out and "after 2 message(s)" in result.out
    assert bob.count() == 2
    assert bob.run("show", last).code == 5

    french = bob.run("import", str(path), "--lang", "fr")
    assert french.code == 4 and "Le fichier est endommagé" in french.out


def test_a_file_that_is_not_a_bundle_is_rejected(bob: Household, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a bundle")
    result = bob.run("import", str(path))
    assert result.code == 4
    assert "is not an entraide bundle" in result.err
    assert bob.count() == 0
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert bob.run("import", str(empty)).code == 4


def test_importing_a_missing_file_is_a_usage_error(bob: Household, tmp_path: Path) -> None:
    result = bob.run("import", str(tmp_path / "absent.bundle"))
    assert result.code == 2
    assert "cannot read" in result.err and "absent.bundle" in result.err
    assert bob.run("import", str(tmp_path)).code == 2  # a directory


def test_exporting_to_an_impossible_place_is_a_usage_error(
    alice: Household, tmp_path: Path
) -> None:
    result = alice.run("export", str(tmp_path / "no" / "such" / "dir.bundle"))
    assert result.code == 2
    assert "cannot write" in result.err


# --- help -------------------------------------------------------------------------------------


def test_no_command_prints_the_help() -> None:
    result = run()
    assert result.code == 2
    assert "usage: entraide" in result.out and "Exit codes" in result.out


def test_help_in_english_and_french(monkeypatch: pytest.MonkeyPatch) -> None:
    english = run("--help")
    assert english.code == 0
    assert "show the zone's board" in words(english.out)
    assert "afficher" not in english.out

    french = run("--lang", "fr", "--help")
    assert french.code == 0
    assert "afficher le tableau de la zone" in words(french.out)
    assert "Codes de sortie" in french.out

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert run("--help").out == french.out
    assert run("board", "--help").code == 0
    assert "quelle partie du tableau" in words(run("board", "--help").out)


def test_post_help_lists_the_accepted_values_in_the_users_language() -> None:
    english = words(run("post", "request", "--help").out)
    assert "{water, food, medical care," in english
    assert "(default: normal)" in english
    assert "generator" not in english  # offered, not requested
    french = words(run("post", "request", "--help", "--lang", "fr").out)
    assert "{eau, nourriture, soins médicaux," in french
    assert "(par défaut : normale)" in french
    incident = words(run("post", "incident", "--help", "--lang", "fr").out)
    assert "ligne électrique à terre" in incident and "ce qui s'est passé" in incident


def test_usage_errors_in_french() -> None:
    result = run("post", "request", "--need", "water", "--people", "0", "--lang", "fr")
    assert result.code == 2
    assert "0 est hors limites : de 1 à 999" in result.err


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("90m", 90), ("45 min", 45), ("4h", 240), ("3d", 4320), ("3j", 4320),
     ("1w", 10080), ("1sem", 10080), ("2H", 120)],
)  # fmt: skip
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration_minutes(text) == minutes


# --- the installed command, in a real process -------------------------------------------------


def _entraide() -> str:
    found = shutil.which("entraide", path=str(Path(sys.executable).parent)) or shutil.which(
        "entraide"
    )
    if found is None:
        pytest.skip("the entraide command is not installed")
    return found


def _env(**extra: str) -> dict[str, str]:
    """The environment of a real run: no locale and no node of the developer's."""
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    return env | {"ENTRAIDE_HOME": os.environ["ENTRAIDE_HOME"]} | extra


@pytest.fixture
def command() -> Iterator[str]:
    yield _entraide()


def test_installed_command_help_in_french(command: str) -> None:
    done = subprocess.run(
        [command, "--help"], capture_output=True, text=True, env=_env(LANG="fr_FR.UTF-8")
    )
    assert done.returncode == 0
    assert "afficher le tableau de la zone" in words(done.stdout)


def test_installed_command_carries_a_bundle_through_a_pipe(command: str, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    env = _env()

    def entraide(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([command, *argv], input=stdin, capture_output=True, env=env)

    assert entraide("init", "--home", a, "--zone-id", ZONE).returncode == 0
    assert entraide("--home", b, "init", "--zone-id", ZONE).returncode == 0
    assert entraide("whoami", "--home", a).returncode == 0
    posted = entraide("post", "request", "--need", "water", "--home", a, "--json")
    assert posted.returncode == 0
    request = json.loads(posted.stdout)["id"]

    exported = entraide("export", "-", "--home", a)
    assert exported.returncode == 0 and exported.stdout.startswith(b"ENTRAID1")
    assert b"Exported 1 message(s)" in exported.stderr
    imported = entraide("import", "-", "--home", b, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    board = json.loads(entraide("board", "--json", "--home", b).stdout)
    assert [r["id"] for r in board["requests"]] == [request]

    missing = entraide("show", "abcd", "--home", str(tmp_path / "none"))
    assert missing.returncode == 3 and b"entraide init" in missing.stderr


def test_module_runs_as_a_script(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "node.cli", "whoami", "--home", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 3
    assert "entraide init" in done.stderr


# --- hostile input and interruptions (from the node review) ----------------------------


def test_a_hostile_bundle_is_reported_in_bounded_space(bob: Household, tmp_path: Path) -> None:
    path = tmp_path / "hostile.bundle"
    path.write_bytes(MAGIC + b"\x00\x01\x00" * 20_000)  # 20,000 one-byte records
    result = bob.run("import", str(path))
    assert result.code == 4
    assert "20000 rejected" in result.out
    assert "… and 19950 more rejected." in result.out
    assert len(result.out.splitlines()) < 60
    report = json.loads(bob.run("import", str(path), "--json").out)
    assert len(report["rejections"]) == 50 and report["rejections_not_listed"] == 19_950


def test_what_is_not_a_bundle_is_refused_without_reading_it(bob: Household) -> None:
    result = bob.run("import", "/dev/zero")
    assert result.code == 4 and "not an entraide bundle" in result.err


def test_a_message_text_cannot_pass_for_another_field(alice: Household) -> None:
    spoof = "Buvez.\n  official source:  Préfecture\n  author:           0000"
    message_id = alice.post("alert", "--headline", "x", "--instruction", spoof)
    shown = alice.ok("show", message_id[:8]).out.splitlines()
    continuation = [line for line in shown if "official source" in line]
    assert continuation and all("│" in line for line in continuation)
    assert sum(line.lstrip().startswith("author:") for line in shown) == 1


def test_ctrl_c_says_what_was_kept(alice: Household, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "ingest", interrupted)
    result = alice.run("post", "checkin")
    assert result.code == 130
    assert "Interrupted" in result.err and "Traceback" not in result.err


def test_force_on_an_unreadable_config_needs_the_zone_id(alice: Household) -> None:
    config = alice.home / "config.toml"
    config.write_text(
        config.read_text().replace("max_clock_skew_s = 600", 'max_clock_skew_s = "x"')
    )
    result = alice.run("init", "--force")
    assert result.code == 2 and "--zone-id" in result.err
    alice.ok("init", "--force", "--zone-id", ZONE, "--zone-name", "Rue des Lilas")
    assert alice.ok("whoami", "--json").json()["zone"]["id"] == ZONE


def test_a_bad_point_or_home_is_a_usage_error(alice: Household) -> None:
    assert alice.run("post", "request", "--need", "water", "--point", "inf,0").code == 2
    assert run("whoami", "--home", "~nosuchuser-entraide/x").code == 2


def test_export_never_replaces_something_that_is_not_a_bundle(alice: Household) -> None:
    key = alice.home / "identity.key"
    before = key.read_bytes()
    result = alice.run("export", str(key))
    assert result.code == 2 and "--force" in result.err
    assert key.read_bytes() == before
    bundle = alice.home.parent / "again.bundle"
    alice.ok("export", str(bundle))
    alice.ok("export", str(bundle))  # an earlier bundle may be replaced


def test_board_and_export_keep_to_the_current_zone(alice: Household, tmp_path: Path) -> None:
    alice.post("request", "--need", "water")
    alice.ok("init", "--force", "--zone-id", "0000beef", "--zone-name", "Ailleurs")
    assert alice.board("help")["requests"] == []
    assert list(iter_bundle(alice.export(tmp_path / "z.bundle"))) == []


def test_argparse_speaks_french_too(alice: Household) -> None:
    result = alice.run("post", "request", "--lang", "fr")
    assert result.code == 2
    assert (
        "utilisation :" in result.err and "arguments obligatoires manquants : --need" in result.err
    )
    english = alice.run("post", "request", "--lang", "en")
    assert "usage:" in english.err and "the following arguments are required" in english.err
    assert "afficher cette aide et quitter" in run("--lang", "fr", "--help").out
