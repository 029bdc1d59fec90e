"""The node's trust state (node/trust.py) and the trust commands (node/cli_trust.py), in
process: the charter file and its commands, roles in any arrival order, "not yet" messages
taken once their vouch arrives, rate limits per class, the clock estimate, the check-on-me
roster (a relay reads it, a non-relay cannot), and what the board and status show."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.signing
import pytest
import trio

from node.cli import main
from node.config import Config, ZoneSettings, load_config, save_config
from node.daemon import Node, NodeOptions
from node.identity import create_identity, load_identity
from node.render import status as render_status
from node.store import Store
from node.trust import (
    CHARTER_FILE,
    CLOCK_OFFSET_ENV,
    NodeTrust,
    ZoneTrust,
    kind_of,
    local_clock,
    role_kinds_first,
)
from protocol import kinds as k
from protocol.charter import Charter, SignedCharter, sign_charter
from protocol.envelope import Envelope, seal
from protocol.errors import FutureMessage, Unauthorized
from protocol.ratelimit import RateLimited

ZONE = bytes.fromhex("3f2a9c01")
DAY = 86_400
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "ENTRAIDE_HOME", CLOCK_OFFSET_ENV)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ENTRAIDE_HOME", str(tmp_path / "default-home"))


def key_of(signing_key: nacl.signing.SigningKey) -> bytes:
    return bytes(signing_key.verify_key)


def signed(
    signing_key: nacl.signing.SigningKey,
    body: k.Body,
    *,
    refs: Sequence[bytes] = (),
    created: int | None = None,
) -> Envelope:
    created = int(time.time()) if created is None else created
    return seal(body, signing_key=signing_key, created=created, zone=ZONE, refs=list(refs))


def charter_of(founder: nacl.signing.SigningKey, *, relays: Sequence[bytes] = ()) -> SignedCharter:
    return sign_charter(
        Charter(
            zone=ZONE,
            name="Rue des Lilas",
            founders=(key_of(founder),),
            relays=tuple(relays),
            issued=int(time.time()),
        ),
        founder,
    )


def make_home(path: Path, charter: SignedCharter | None = None) -> Path:
    path.mkdir(mode=0o700)
    save_config(path, Config(zone=ZoneSettings(zone_id=ZONE, name="Rue des Lilas"), language="en"))
    create_identity(path)
    if charter is not None:
        (path / CHARTER_FILE).write_bytes(charter.to_bytes())
    return path


# --- the command line ---------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.out)


@dataclass
class Household:
    home: Path

    def run(self, *argv: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main([*argv, "--home", str(self.home)], out=out, err=err)
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *argv: str) -> Result:
        result = self.run(*argv)
        assert result.code == 0, result
        return result

    @property
    def key(self) -> str:
        return str(self.ok("whoami", "--json").json()["public_key"])

    def give(self, other: Household, tmp: Path) -> None:
        """Carry every message of this node to ``other`` on a USB stick."""
        bundle = tmp / f"{self.home.name}-to-{other.home.name}.ent"
        self.ok("export", str(bundle), "--force")
        other.run("import", str(bundle))


def household(tmp_path: Path, name: str) -> Household:
    h = Household(tmp_path / name)
    h.ok("init", "--zone-id", ZONE.hex(), "--zone-name", "Rue des Lilas", "--language", "en")
    return h


def test_a_charter_is_created_signed_by_every_founder_and_joined(tmp_path: Path) -> None:
    mairie, asso, voisin = (household(tmp_path, n) for n in ("mairie", "asso", "voisin"))
    draft = tmp_path / "zone.ent"
    mairie.ok(
        "charter",
        "create",
        str(draft),
        "--founder",
        mairie.key,
        "--founder",
        asso.key,
        "--relay",
        voisin.key,
        "--area",
        "rue des Lilas",
    )
    # Not every founder signed yet: nobody can join it.
    refused = voisin.run("charter", "join", str(draft), "--yes")
    assert refused.code == 4 and "not signed by its founder" in refused.err
    signing = asso.ok("charter", "sign", str(draft), "--json").json()
    assert signing["complete"]
    fingerprint = signing["fingerprint"]
    # Joining asks for the fingerprint read aloud: a wrong one is refused, nothing changes.
    wrong = voisin.run("charter", "join", str(draft), "--fingerprint", "11111 22222 33333 44444")
    assert wrong.code == 2 and "is not this charter's" in wrong.err
    assert not (voisin.home / CHARTER_FILE).exists()
    asked = voisin.run("charter", "join", str(draft))
    assert asked.code == 2 and f'--fingerprint "{fingerprint}"' in asked.err
    joined = voisin.ok("charter", "join", str(draft), "--fingerprint", fingerprint, "--json")
    assert joined.json()["outcome"] == "new" and joined.json()["roles"] == ["relay"]
    # The text form, as a QR code would carry it, joins a new household from nothing.
    text = voisin.ok("charter", "show", "--text").out.strip()
    assert text.startswith("ENTRAIDE-ZONE1:") and text.replace("-", "").replace(":", "").isalnum()
    newcomer = Household(tmp_path / "newcomer")
    result = newcomer.ok("init", "--charter", text, "--fingerprint", fingerprint, "--json")
    assert result.json()["zone"]["id"] == ZONE.hex() and result.json()["charter"] == fingerprint
    shown = newcomer.ok("--lang", "fr", "charter", "show").out
    assert fingerprint in shown and "fondateurs (coordination)" in shown
    assert "rue des Lilas" in shown
    # A charter of another zone is not for this node.
    other = household(tmp_path, "other")
    other.ok("init", "--zone-id", "00000001", "--zone-name", "Ailleurs", "--force")
    foreign = other.run("charter", "join", text, "--yes")
    assert foreign.code == 4 and "this charter is for zone 3f2a9c01" in foreign.err


def test_a_new_charter_needs_more_than_half_of_the_founders(tmp_path: Path) -> None:
    a, b, c = (household(tmp_path, n) for n in "abc")
    first = tmp_path / "v1.ent"
    a.ok("charter", "create", str(first), "--founder", a.key, "--founder", b.key)
    b.ok("charter", "sign", str(first))
    for h in (a, b, c):
        h.ok("charter", "join", str(first), "--yes")
    second = tmp_path / "v2.ent"  # a alone writes a charter where it is the only founder
    a.ok("charter", "create", str(second))
    refused = c.run("charter", "join", str(second), "--yes")
    assert refused.code == 4 and "more than half must sign it" in refused.err
    b.ok("charter", "sign", str(second))  # b, a founder of version 1, agrees
    assert c.ok("charter", "join", str(second), "--yes", "--json").json()["outcome"] == "replaced"
    assert c.ok("roles", "--json").json()["roles"]["coordinator"] == [
        {"key": a.key, "granted_by": [None]}
    ]


def test_roles_vouches_and_marks_from_the_command_line(tmp_path: Path) -> None:
    founder, relay, neighbour = (household(tmp_path, n) for n in ("founder", "relay", "nb"))
    charter = tmp_path / "zone.ent"
    founder.ok("charter", "create", str(charter))
    for h in (founder, relay, neighbour):
        h.ok("charter", "join", str(charter), "--yes")
    # Only a coordinator makes relays; nobody vouches for themselves.
    refused = neighbour.run("vouch", relay.key, "--role", "relay")
    assert refused.code == 2 and "only a coordinator of the zone can send this" in refused.err
    assert "none (unvouched)" in refused.err
    assert "personne ne peut parrainer" in founder.run("--lang", "fr", "vouch", "me").err
    assert founder.run("vouch", relay.key[:10], "--role", "relay").code == 5  # unknown here
    founder.ok("vouch", relay.key, "--role", "relay", "--name", "Jean, n°12")
    founder.give(relay, tmp_path)
    relay.ok("vouch", neighbour.key, "--name", "Mme Martin")
    assert relay.ok("roles", "--json").json()["roles"]["household"] == [
        {"key": neighbour.key, "granted_by": [relay.key]}
    ]
    # The neighbour reports; it cannot mark; the relay confirms; the board says so.
    relay.give(neighbour, tmp_path)
    incident = neighbour.ok(
        "post", "incident", "--type", "flooding", "--place", "quai", "--json"
    ).json()["id"]
    unvouched = founder.run("corroborate", incident[:8])  # founder does not have it yet
    assert unvouched.code == 5
    neighbour.give(relay, tmp_path)
    assert neighbour.run("mark", "confirmed", incident[:8]).code == 2  # its own report
    marked = relay.ok("mark", "confirmed", incident[:8], "--text", "vu sur place").out
    assert "Boards now say: confirmed by a relay." in marked
    assert "✓ confirmed by a relay" in relay.ok("board", "incidents").out
    fr = relay.ok("--lang", "fr", "board", "incidents").out
    assert "✓ confirmé par un relais" in fr
    shown = relay.ok("show", incident[:8]).out
    assert "verification: confirmed by a relay" in " ".join(shown.split())
    data = relay.ok("board", "--json").json()["incidents"][0]["verification"]
    assert data["state"] == "confirmed" and data["confirmed_by"] == [relay.key]
    # The coordinator revokes the relay: its vouch and its mark stop counting.
    relay.give(founder, tmp_path)
    founder.ok("revoke", relay.key[:8], "--role", "relay", "--reason", "misconduct")
    founder.give(relay, tmp_path)
    assert relay.ok("board", "--json").json()["incidents"][0]["verification"]["state"] == (
        "unverified"
    )
    assert relay.ok("roles", "--json").json()["mine"] == []
    assert relay.run("mark", "false", incident[:8]).code == 2


def test_a_relay_reads_the_roster_and_a_non_relay_cannot(tmp_path: Path) -> None:
    """(e) the roster entry is sealed to the relays: the relay reads it, escalates it after an
    alert and records its visit; the coordinator (not a relay) and others read nothing."""
    founder, relay, fragile = (household(tmp_path, n) for n in ("founder", "relay", "fragile"))
    charter = tmp_path / "zone.ent"
    founder.ok("charter", "create", str(charter), "--relay", relay.key)
    for h in (founder, relay, fragile):
        h.ok("charter", "join", str(charter), "--yes")
    joined = fragile.ok(
        "roster",
        "join",
        "--needs",
        "oxygène à domicile",
        "--address",
        "12 rue des Lilas, 3e",
        "--contact",
        "06 12 34 56 78",
        "--check-after",
        "15m",
        "--json",
    ).json()
    assert joined["relays"] == [relay.key] and joined["assigned"] == relay.key
    for reader in (founder, relay):
        fragile.give(reader, tmp_path)
    # What the entry shows to everyone: that it exists, sealed; none of its details.
    for reader in (founder, relay, fragile):
        raw = (reader.home / "store.sqlite3").read_bytes()
        assert "oxygène".encode() not in raw and b"06 12 34" not in raw
    assert "sealed to: 1 relay(s); only they can read it" in " ".join(
        founder.ok("show", joined["id"][:8]).out.split()
    )
    nothing = founder.ok("roster").out
    assert "Only the zone's relays can read" in nothing and "oxygène" not in nothing
    assert founder.ok("roster", "--json").json()["entries"] == []
    seen = relay.ok("roster", "--json").json()
    assert seen["relay"] and [e["needs"] for e in seen["entries"]] == ["oxygène à domicile"]
    assert seen["entries"][0]["address"] == "12 rue des Lilas, 3e"
    assert seen["escalations"] == []  # no alert
    # An alert started 20 minutes ago; the household has not checked in: it escalates to its
    # assigned relay, who visits and records it.
    store_path = relay.home / "store.sqlite3"
    alert = seal(
        k.Alert(headline="Crue", severity=k.Severity.SEVERE),
        signing_key=load_identity(founder.home).signing_key,
        created=int(time.time()) - 1200,
        zone=ZONE,
    )
    with Store.open(store_path, verify_workers=0) as store:
        trust = ZoneTrust(load_config(relay.home), charter=None)
        trust.ingest(store, [alert.raw], now=int(time.time()))
    due = relay.ok("roster", "--json").json()["escalations"]
    assert [(e["household"], e["reason"], e["level"], e["mine"]) for e in due] == [
        (fragile.key, "silent", 1, True)
    ]
    assert "not heard from — for you" in relay.ok("roster").out
    visited = relay.ok("roster", "visit", fragile.key[:8], "--status", "safe").out
    assert "Visit recorded" in visited
    assert relay.ok("roster", "--json").json()["escalations"] == []
    # A relay enters a person without a node by name; the household can leave.
    relay.ok("roster", "add", "--name", "M. Petit", "--needs", "fauteuil roulant")
    assert len(relay.ok("roster", "--json").json()["entries"]) == 2
    assert fragile.ok("roster", "leave", "--json").json()["withdrawn"] == [joined["id"]]
    fragile.give(relay, tmp_path)
    assert [e["household"] for e in relay.ok("roster", "--json").json()["entries"]] == [
        "name:m. petit"
    ]


# --- roles in any order, and "not yet" --------------------------------------------------------


def test_a_batch_in_the_worst_order_is_taken_whole(tmp_path: Path) -> None:
    founder, relay, household_key = (nacl.signing.SigningKey.generate() for _ in range(3))
    target = signed(household_key, k.Incident(type=k.IncidentType.FLOODING))
    mark = signed(relay, k.Mark(), refs=[target.id])
    by_relay = signed(relay, k.Vouch(subject=key_of(household_key)))
    by_founder = signed(founder, k.Vouch(subject=key_of(relay), role=k.Role.RELAY))
    batch = [mark.raw, by_relay.raw, target.raw, by_founder.raw]
    assert [kind_of(raw) for raw in role_kinds_first(batch)] == [
        k.Kind.VOUCH,
        k.Kind.VOUCH,
        k.Kind.MARK,
        k.Kind.INCIDENT,
    ]
    config = Config(zone=ZoneSettings(zone_id=ZONE, name="Rue des Lilas"))
    with Store.open(tmp_path / "store.sqlite3", verify_workers=0) as store:
        trust = ZoneTrust(config, charter_of(founder))
        results = trust.ingest(store, batch, now=int(time.time()))
        assert [r.status for r in results] == ["new"] * 4
        assert trust.roles.has(key_of(household_key), k.Role.HOUSEHOLD)
        assert trust.version >= 2  # the relay's vouch needed the founder's first


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, nacl.signing.SigningKey]]:
    founder = nacl.signing.SigningKey.generate()
    home = make_home(tmp_path / "home", charter_of(founder))
    store = Store.open(home / "store.sqlite3", verify_workers=0)
    n = Node(home, load_config(home), load_identity(home), store, NodeOptions(wifi=False))
    async with trio.open_nursery() as nursery:
        await nursery.start(n.serve)
        yield n, founder
        nursery.cancel_scope.cancel()
    store.close()


@pytest.mark.trio
async def test_a_mark_that_came_before_its_vouch_is_taken_when_the_vouch_comes(
    node: tuple[Node, nacl.signing.SigningKey],
) -> None:
    n, founder = node
    relay = nacl.signing.SigningKey.generate()
    target = (await n.post(k.Incident(type=k.IncidentType.FIRE)))[0]
    mark = signed(relay, k.Mark(), refs=[target.id])
    (early,) = await n.submit([mark.raw], source="sync")
    assert early.status == "rejected" and isinstance(early.error, Unauthorized)
    assert n.trust.status()["trust"]["pending"] == 1
    (vouch,) = await n.submit(
        [signed(founder, k.Vouch(subject=key_of(relay), role=k.Role.RELAY)).raw]
    )
    assert vouch.status == "new"
    with trio.fail_after(5):
        # Stored first (visible to other readers), then forgotten from the pending list.
        while (
            mark.id not in {e.id for e in await n.live([k.Kind.MARK])}
            or n.trust.status()["trust"]["pending"]
        ):
            await trio.sleep(0.05)


def test_live_pushes_are_rate_limited_by_class_after_the_signature(tmp_path: Path) -> None:
    founder = nacl.signing.SigningKey.generate()
    vouched, stranger = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
    home = make_home(tmp_path / "home", charter_of(founder))
    ticks = iter(range(10**6))
    trust = NodeTrust(home, load_config(home), b"\0" * 32, clock=time.time, monotonic=lambda: 0.0)
    with Store.open(home / "store.sqlite3", verify_workers=0) as store:
        trust.zone.ingest(
            store, [signed(founder, k.Vouch(subject=key_of(vouched))).raw], now=int(time.time())
        )

    def push(key: nacl.signing.SigningKey) -> int:
        taken = 0
        for _ in range(40):
            env = signed(key, k.HelpRequest(need=k.Need.FOOD, text=str(next(ticks))))
            try:
                trust.screen_live(env.raw)
                taken += 1
            except RateLimited:
                pass
        return taken

    assert push(stranger) == 10  # unvouched: a burst of 10
    assert push(vouched) == 30  # household: 30
    # A forged copy in a key's name spends none of its tokens.
    forged = signed(vouched, k.HelpRequest(need=k.Need.FOOD)).raw[:-64] + bytes(64)
    with pytest.raises(Exception, match="signature"):
        trust.screen_live(forged)
    assert trust.counters["rate_limited"] == 40


def test_a_clock_days_off_is_corrected_from_three_peers(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    real = int(time.time())
    local = [real - 3 * DAY]  # a Raspberry Pi booted with the time it was switched off
    trust = NodeTrust(home, load_config(home), b"\0" * 32, clock=lambda: float(local[0]))
    peers = [nacl.signing.SigningKey.generate() for _ in range(3)]
    first = signed(peers[0], k.CheckIn(status=k.CheckInStatus.SAFE), created=real)
    with pytest.raises(FutureMessage):
        trust.screen_live(first.raw)  # kept aside: "not yet"
    assert trust.pending() == [first.raw]
    with pytest.raises(FutureMessage):
        trust.screen_live(
            signed(peers[1], k.CheckIn(status=k.CheckInStatus.SAFE), created=real - 5).raw
        )
    trust.screen_live(
        signed(peers[2], k.CheckIn(status=k.CheckInStatus.SAFE), created=real - 2).raw
    )  # the third source
    assert abs(trust.estimate.offset - 3 * DAY) <= 5 and trust.now() - real <= 5
    status = trust.status()["clock"]
    assert status["sources"] == 3 and status["offset"] == trust.estimate.offset
    text = render_status(
        {
            "fingerprint": "x",
            "zone": {"name": "Rue des Lilas", "id": ZONE.hex()},
            "messages": {"received": {}, "published": 0, "rejected": 2},
            "now": trust.now(),
        }
        | trust.status(),
        "fr",
    )
    assert "horloge : 3 jours de retard sur le réseau (estimé d'après 3 pairs)" in text
    assert "charte de zone : aucune" in text
    # The network comes back and NTP sets the clock: the samples measured the old one.
    assert not trust.check_clock_set()
    local[0] = real
    assert trust.check_clock_set() and trust.estimate.offset == 0
    assert abs(trust.now() - real) <= 5 and trust.observer.samples(local_now=real) == []


def test_the_clock_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_clock({})() == pytest.approx(time.time(), abs=2)
    assert local_clock({CLOCK_OFFSET_ENV: "-259200"})() == pytest.approx(
        time.time() - 3 * DAY, abs=2
    )
    with pytest.raises(Exception, match="expected a number of seconds"):
        local_clock({CLOCK_OFFSET_ENV: "3 days"})


def test_a_damaged_charter_file_says_what_to_do(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    (home / CHARTER_FILE).write_bytes(b"ENTZONE1garbage")
    out, err = io.StringIO(), io.StringIO()
    code = main(["board", "--home", str(home)], out=out, err=err)
    assert code == 3 and "entraide charter join FILE" in err.getvalue()


def test_the_board_says_what_a_handset_message_is_worth() -> None:
    from node import render

    witness = nacl.signing.SigningKey.generate()
    spoof = "✓ confirmed by a relay"  # what a requester might write to look verified
    env = signed(
        witness,
        k.HelpRequest(
            need=k.Need.WATER, text=spoof, via=k.Handset(node=0xA1B2C3D4, name="Mme Martin")
        ),
    )
    for lang, words in (
        ("en", "typed on handset !a1b2c3d4, an id anyone can claim, heard by"),
        ("fr", "!a1b2c3d4"),
    ):
        text, data = render.board(
            [env],
            now=int(time.time()),
            bridge_keys=frozenset(),
            section="help",
            need=None,
            urgency=None,
            mine=None,
            lang=lang,
        )
        lines = text.splitlines()
        row = next(i for i, line in enumerate(lines) if line.startswith(env.short_id))
        verification = " ".join(lines[row + 1 : row + 3])  # its own lines, whole, first
        assert words in " ".join(verification.split()), text
        assert render.who(witness.verify_key.encode()) in verification
        assert spoof in lines[row + 3] and spoof not in verification  # the text comes after
        assert all(len(line) <= render.WIDTH for line in lines)
        assert data["requests"][0]["verification"]["via"] == "!a1b2c3d4"
