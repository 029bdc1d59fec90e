"""The check-on-me roster (protocol/roster.py, SPEC.md 7.17 and 11a.5)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
import pytest
from nacl.signing import SigningKey

from protocol.charter import Charter
from protocol.envelope import Envelope, seal
from protocol.errors import InvalidMessage, UsageError
from protocol.kinds import (
    MAX_ROSTER_RELAYS,
    Alert,
    Body,
    CheckIn,
    CheckInStatus,
    Retraction,
    Revoke,
    RosterEntry,
)
from protocol.roster import (
    EscalationReason,
    RosterDetails,
    escalations,
    open_entry,
    read_roster,
    recipients,
    seal_entry,
    visit,
)
from protocol.state import derive, latest_alert, name_household
from protocol.trust import Roles, derive_roles

HERE = Path(__file__).parent
VECTORS = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
ZONE = bytes.fromhex("01020304")
T0 = 1_780_000_000
MIN = 60


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


FOUNDER, RELAY, RELAY2, COORD, HOUSE, OTHER = (_key(i) for i in range(1, 7))


def pub(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


CHARTER = Charter(
    zone=ZONE,
    name="Rue des Lilas",
    founders=(pub(FOUNDER),),
    issued=T0,
    relays=(pub(RELAY), pub(RELAY2)),
)
ROLES = derive_roles(CHARTER, [], now=T0)
DETAILS = RosterDetails(needs="Oxygène à domicile", address="14 rue des Lilas, 3e", contact="06…")


def msg(key: SigningKey, body: Body, *, at: int = T0, refs: tuple[bytes, ...] = ()) -> Envelope:
    return seal(body, signing_key=key, created=at, zone=ZONE, refs=refs)


def entry(
    author: SigningKey = HOUSE,
    details: RosterDetails = DETAILS,
    relays: tuple[bytes, ...] | None = None,
    *,
    at: int = T0,
    refs: tuple[bytes, ...] = (),
    entropy: bytes = bytes(range(32)),
) -> Envelope:
    chosen = recipients(ROLES.relays, details.household(pub(author))) if relays is None else relays
    body = seal_entry(details, relays=chosen, author=pub(author), zone=ZONE, entropy=entropy)
    return msg(author, body, at=at, refs=refs)


# --- only relays read -----------------------------------------------------------------------


def test_a_relay_can_read_the_roster_and_no_one_else_can() -> None:
    env = entry()
    for relay in (RELAY, RELAY2):
        details = open_entry(env, relay)
        assert details is not None and details.needs == DETAILS.needs
        assert details.relay in ROLES.relays  # the assigned relay is written in
    for outsider in (HOUSE, OTHER, FOUNDER, COORD):  # its own author, a coordinator too
        assert open_entry(env, outsider) is None
    assert b"Oxyg" not in env.raw and DETAILS.address.encode() not in env.raw


def test_a_slot_is_a_libsodium_sealed_box() -> None:
    body = entry().body
    assert isinstance(body, RosterEntry) and len(body.slots) == 2
    private = RELAY.to_curve25519_private_key()
    opened = []
    for slot in body.slots:
        with contextlib.suppress(nacl.exceptions.CryptoError):
            opened.append(nacl.public.SealedBox(private).decrypt(slot))
    assert len(opened) == 1 and len(opened[0]) == 32


def test_details_copied_into_another_keys_entry_do_not_open() -> None:
    stolen = entry().body
    assert isinstance(stolen, RosterEntry)
    copy = msg(OTHER, stolen)
    with pytest.raises(InvalidMessage, match="does not open"):
        open_entry(copy, RELAY)
    assert read_roster([copy], RELAY, now=T0) == ()


def test_sealing_is_deterministic_from_its_entropy_and_padded() -> None:
    a, b = entry(), entry()
    c = entry(entropy=bytes(32))
    assert a.raw == b.raw and a.body != c.body
    assert isinstance(a.body, RosterEntry)
    assert (len(a.body.box) - 40) % 64 == 0
    long = RosterDetails(needs="x" * 140, address="y" * 140, contact="z" * 48, name="w" * 48)
    body = entry(details=long).body
    assert isinstance(body, RosterEntry) and len(body.box) == 40 + 448
    with pytest.raises(UsageError, match="entropy"):
        seal_entry(DETAILS, relays=[pub(RELAY)], author=pub(HOUSE), zone=ZONE, entropy=b"x")


def test_how_many_relays_fit() -> None:
    many = tuple(pub(_key(50 + i)) for i in range(MAX_ROSTER_RELAYS + 1))
    with pytest.raises(UsageError, match="at most 16"):
        entry(relays=many)
    long = RosterDetails(needs="x" * 140, address="y" * 140, contact="z" * 48, name="w" * 48)
    biggest = seal(
        seal_entry(
            long, relays=many[:MAX_ROSTER_RELAYS], author=pub(HOUSE), zone=ZONE, entropy=bytes(32)
        ),
        signing_key=HOUSE,
        created=T0,
        zone=ZONE,
        refs=[bytes(32)],
        lifetime=400 * 1440 - 1,
    )
    assert len(biggest.raw) <= 1935 < 2048 < len(biggest.raw) + 2 * 80
    with pytest.raises(UsageError, match="no relay"):
        entry(relays=())


def test_recipients_are_ranked_per_household_and_stable() -> None:
    relays = [pub(_key(50 + i)) for i in range(20)]
    ranked = recipients(relays, pub(HOUSE))
    assert len(ranked) == MAX_ROSTER_RELAYS and len(set(ranked)) == MAX_ROSTER_RELAYS
    assert ranked == recipients(reversed(relays), pub(HOUSE))
    assert ranked != recipients(relays, pub(OTHER))
    assert recipients(relays, pub(HOUSE), preferred=relays[7])[0] == relays[7]
    # Removing a relay does not reorder the others (rendezvous hashing).
    gone = ranked[3]
    after = recipients([r for r in relays if r != gone], pub(HOUSE))
    assert [r for r in ranked if r != gone] == list(after[: MAX_ROSTER_RELAYS - 1])
    assert recipients(relays, name_household("Mme Dupont")) == recipients(
        relays, name_household("  mme   DUPONT ")
    )


# --- the test vectors ----------------------------------------------------------------------


def _details_of(recorded: dict[str, Any]) -> RosterDetails:
    names = ["needs", "address", "contact", "name", "relay", "check_after"]
    values: dict[str, Any] = {}
    for key, value in recorded.items():
        name = names[int(key)]
        values[name] = bytes.fromhex(value) if name == "relay" else value
    return RosterDetails(**values)


ROSTER_VECTORS = [v for v in VECTORS["valid"] if "roster" in v]


@pytest.mark.parametrize("vector", ROSTER_VECTORS, ids=[v["name"] for v in ROSTER_VECTORS])
def test_roster_vectors_open_and_reseal(vector: dict[str, Any]) -> None:
    from protocol.envelope import decode

    keys = {n: SigningKey(bytes.fromhex(k["seed"])) for n, k in VECTORS["keys"].items()}
    env = decode(bytes.fromhex(vector["envelope"]))
    recorded = vector["roster"]
    details = _details_of(recorded["details"])
    for name in recorded["relays"]:
        assert open_entry(env, keys[name]) == details
    for name in set(keys) - set(recorded["relays"]):
        assert open_entry(env, keys[name]) is None
    body = seal_entry(
        details,
        relays=[bytes(keys[n].verify_key) for n in recorded["relays"]],
        author=env.author,
        zone=env.zone,
        entropy=bytes.fromhex(recorded["entropy"]),
    )
    assert body == env.body


# --- the roster a relay reads ---------------------------------------------------------------


def test_read_roster_keeps_the_latest_live_entry_of_each_household() -> None:
    first = entry(at=T0)
    update = entry(details=RosterDetails(needs="Dialyse le mardi"), at=T0 + 10, refs=(first.id,))
    other = entry(OTHER, at=T0 + 5)
    by_name = entry(RELAY, RosterDetails(needs="Aveugle", name="Mme Dupont"), at=T0 + 6)
    withdrawn = entry(_key(40), at=T0 + 7)
    retraction = msg(_key(40), Retraction(), refs=(withdrawn.id,))
    items = read_roster(
        [first, update, other, by_name, withdrawn, retraction, update], RELAY, now=T0 + 20
    )
    assert [i.envelope for i in items] == [other, by_name, update]
    assert items[1].household == name_household("mme dupont")
    assert read_roster([first], RELAY, now=first.expires) == ()
    assert read_roster([first, update], HOUSE, now=T0 + 20) == ()


# --- escalations ------------------------------------------------------------------------------


def _round(*extra: Envelope, roles: Roles = ROLES, now: int) -> Any:
    alert = msg(FOUNDER, Alert(headline="Crue"), at=T0 + 1000)
    roster_entry = entry(details=RosterDetails(needs="Oxygène", check_after=60, relay=pub(RELAY)))
    board = derive([alert, roster_entry, *extra], now=now, trust=roles)
    since = latest_alert(board)
    assert since is not None and since.started == T0 + 1000
    items = read_roster([roster_entry], RELAY2, now=now)
    return escalations(items, board, roles, since=since.started, now=now)


def test_a_missing_check_in_escalates_to_the_assigned_relay_then_to_all() -> None:
    start = T0 + 1000
    assert _round(now=start + 59 * MIN) == ()
    (first,) = _round(now=start + 60 * MIN)
    assert first.reason is EscalationReason.SILENT and first.level == 1
    assert first.relays == (pub(RELAY),) and first.due == start + 60 * MIN
    (second,) = _round(now=start + 120 * MIN)
    assert second.level == 2 and set(second.relays) == {pub(RELAY), pub(RELAY2)}


def test_a_check_in_since_the_alert_ends_it_an_older_one_does_not() -> None:
    start, now = T0 + 1000, T0 + 1000 + 3 * 3600
    before = msg(HOUSE, CheckIn(status=CheckInStatus.SAFE), at=start - 1)
    assert len(_round(before, now=now)) == 1
    safe = msg(HOUSE, CheckIn(status=CheckInStatus.SAFE), at=start + 5)
    assert _round(safe, now=now) == ()
    (item,) = read_roster([entry()], RELAY, now=now)
    visit_body = visit(item, CheckInStatus.SAFE, text="Tout va bien")
    assert visit_body.subject_key == pub(HOUSE)
    assert _round(msg(RELAY, visit_body, at=start + 600), now=now) == ()


def test_help_needed_and_nobody_home_escalate_at_once() -> None:
    start = T0 + 1000
    hurt = msg(HOUSE, CheckIn(status=CheckInStatus.INJURED), at=start + 60)
    (e,) = _round(hurt, now=start + 61)
    assert e.reason is EscalationReason.NEEDS_HELP and e.level == 1 and e.latest is not None
    (e,) = _round(hurt, now=start + 60 + 60 * MIN)
    assert e.level == 2
    nobody = msg(
        RELAY, CheckIn(status=CheckInStatus.NOBODY_HOME, subject_key=pub(HOUSE)), at=start + 60
    )
    (e,) = _round(nobody, now=start + 61)
    assert e.reason is EscalationReason.NOBODY_HOME and e.level == 2


def test_an_assigned_relay_that_lost_its_role_hands_over_to_every_relay() -> None:
    start = T0 + 1000
    revoked = derive_roles(CHARTER, [msg(FOUNDER, Revoke(subject=pub(RELAY)))], now=T0)
    (e,) = _round(roles=revoked, now=start + 60 * MIN)
    assert e.level == 2 and e.relays == (pub(RELAY2),)


def test_no_alert_no_escalation_and_a_person_without_a_node() -> None:
    board = derive([], now=T0)
    items = read_roster([entry()], RELAY, now=T0)
    assert escalations(items, board, ROLES, since=None, now=T0 + 10**6) == ()
    by_name = entry(RELAY, RosterDetails(needs="Aveugle", name="Mme Dupont", check_after=15))
    (item,) = read_roster([by_name], RELAY2, now=T0)
    board = derive([by_name], now=T0 + 3600)
    (e,) = escalations([item], board, ROLES, since=T0, now=T0 + 3600)
    assert e.item.household == name_household("Mme Dupont")
    checkin = visit(item, CheckInStatus.EVACUATED)
    assert checkin.subject_name == "Mme Dupont" and checkin.subject_key is None
    board = derive([by_name, msg(RELAY2, checkin, at=T0 + 100)], now=T0 + 3600)
    assert escalations([item], board, ROLES, since=T0, now=T0 + 3600) == ()


def test_details_rules() -> None:
    with pytest.raises(InvalidMessage):
        RosterDetails(needs=" ")
    with pytest.raises(InvalidMessage):
        RosterDetails(needs="x", check_after=5)
    with pytest.raises(InvalidMessage):
        RosterDetails(needs="x", name=" ")
    with pytest.raises(UsageError, match="not a usable public key"):
        entry(relays=(bytes(32),))
    with pytest.raises(UsageError, match="not a roster entry"):
        open_entry(msg(HOUSE, Retraction(), refs=(bytes(32),)), RELAY)


def _sealed_with(plaintext: bytes) -> Envelope:
    """An entry for RELAY whose content is ``plaintext`` (padded or not), as a bad sender could."""
    import hashlib

    import nacl.bindings

    key, nonce = bytes(range(32)), bytes(24)
    x25519 = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(pub(RELAY))
    secret = hashlib.sha256(b"e").digest()
    ephemeral = nacl.bindings.crypto_scalarmult_base(secret)
    seal_nonce = hashlib.blake2b(ephemeral + x25519, digest_size=24).digest()
    slot = ephemeral + nacl.bindings.crypto_box_easy(key, seal_nonce, x25519, secret)
    aad = b"entraide roster v1\x00" + ZONE + pub(HOUSE)
    box = nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, aad, nonce, key
    )
    return msg(HOUSE, RosterEntry(keys=slot, box=box))


@pytest.mark.parametrize(
    ("plaintext", "words"),
    [
        (b"\x00\x50" + bytes(62), "bad padding"),  # says 80 bytes, holds 62
        (b"\x00\x01\xa0\x01" + bytes(60), "bad padding"),  # padding that is not zeros
        (b"\x00\x01\x80" + bytes(61), "not a map"),
        (b"\x00\x02\xa1\x00" + bytes(60), "ends in the middle"),
        (b"\x00\x01\xa0" + bytes(61), "needs is missing"),
    ],
)
def test_garbage_sealed_by_its_author_is_invalid_for_the_relay(
    plaintext: bytes, words: str
) -> None:
    env = _sealed_with(plaintext)
    with pytest.raises(InvalidMessage, match=words):
        open_entry(env, RELAY)
    assert read_roster([env], RELAY, now=T0) == ()
