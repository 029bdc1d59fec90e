"""The messages of a simulated zone: really signed, really checked, verified once.

Every household of a scenario has a real Ed25519 key; every message is sealed with
:func:`protocol.envelope.seal`. A simulated node receiving a message runs the real receiver
checks: :func:`protocol.envelope.decode` (structure, canonical form, signature) and
:func:`protocol.envelope.check_acceptable` (zone, clock skew, expiry, authorisation) with its
own clock. Verifying the same bytes a thousand times (once per node) would only repeat the
same answer, so :class:`MessageBook` verifies each distinct envelope once and caches the
decoded result (``statistics()`` counts both); the per-node cost of verification is charged in
simulated time instead (``VERIFY_S``, from tests/benchmarks/bench_core.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import nacl.signing

from protocol import kinds as k
from protocol.envelope import Envelope, Policy, check_acceptable, decode, seal
from protocol.errors import PeerError

__all__ = ["EPOCH", "VERIFY_S", "MessageBook", "SimMessage"]

#: Unix time at simulated time 0 (created times and expiry are real unix seconds).
EPOCH = 1_780_000_000
#: Simulated CPU time a node spends checking and storing one new envelope (verify ≈ 49 µs,
#: decode, checks and SQLite ≈ 36 µs in bench_core.py's ingest on these machines).
VERIFY_S = 85e-6

ALERT_INSTRUCTION = (
    "Quittez les rez-de-chaussée du quai de Seine. Rejoignez le gymnase Jean Moulin, rue des "
    "Écoles, avec vos médicaments, vos papiers et de l'eau."
)


@dataclass(frozen=True, slots=True)
class SimMessage:
    index: int
    id: bytes
    raw: bytes
    author: int  # household index
    kind: k.Kind
    created: int  # unix seconds
    env: Envelope


class MessageBook:
    """Households, their keys and every message they sign, indexed from 0."""

    def __init__(self, zone: bytes, households: int, *, seed: int = 0, epoch: int = EPOCH):
        rng = random.Random(seed)
        self.zone = zone
        self.epoch = epoch
        self.policy = Policy(zone=zone)
        self.keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(households)]
        self.public_keys = [bytes(key.verify_key) for key in self.keys]
        self.messages: list[SimMessage] = []
        self.ids: list[bytes] = []
        self.expires: list[int] = []
        self.by_prefix: dict[bytes, list[int]] = {}  # first 4 bytes of an id -> messages
        self.by_id: dict[bytes, int] = {}
        self._decoded: dict[bytes, Envelope | PeerError] = {}
        self._verified = 0
        self._cache_hits = 0

    def unix(self, sim_time: float) -> int:
        return int(self.epoch + sim_time)

    # --- signing -------------------------------------------------------------------------

    def seal(self, author: int, body: k.Body, created: int) -> SimMessage:
        env = seal(body, signing_key=self.keys[author], created=created, zone=self.zone)
        message = SimMessage(len(self.messages), env.id, env.raw, author, env.kind, created, env)
        self.messages.append(message)
        self.ids.append(env.id)
        self.expires.append(env.expires)
        self.by_prefix.setdefault(env.id[:4], []).append(message.index)
        self.by_id[env.id] = message.index
        return message

    def checkin(self, author: int, created: int, text: str = "") -> SimMessage:
        return self.seal(author, k.CheckIn(status=k.CheckInStatus.SAFE, text=text), created)

    def alert(self, author: int, created: int, number: int) -> SimMessage:
        body = k.Alert(
            headline=f"Crue : évacuation des quais avant 18 h (n° {number})",
            severity=k.Severity.SEVERE,
            urgency=k.Urgency.IMMEDIATE,
            instruction=ALERT_INSTRUCTION,
            area="Quai de Seine, rue des Lilas",
        )
        return self.seal(author, body, created)

    def help_request(self, author: int, created: int, number: int) -> SimMessage:
        text = f"Plus d'eau, 3e étage ({number})"
        body = k.HelpRequest(need=k.Need.WATER, urgency=k.RequestUrgency.HIGH, text=text)
        return self.seal(author, body, created)

    # --- receiving -----------------------------------------------------------------------

    def accept(self, raw: bytes, now: int) -> Envelope:
        """What a node checks before storing or forwarding ``raw`` (protocol.envelope.accept),
        with the signature verified once per distinct envelope. Raises the PeerError."""
        got = self._decoded.get(raw)
        if got is None:
            self._verified += 1
            try:
                got = decode(raw)
            except PeerError as exc:
                got = exc
            self._decoded[raw] = got
        else:
            self._cache_hits += 1
        if isinstance(got, PeerError):
            raise got
        check_acceptable(got, now=now, policy=self.policy)
        return got

    def statistics(self) -> dict[str, int]:
        return {
            "messages": len(self.messages),
            "verified": self._verified,
            "verification_cache_hits": self._cache_hits,
        }
