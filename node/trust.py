"""The node's trust state (SPEC.md 11a): the zone's charter, who holds which role, the
receiver policy those give, per-author rate limits, and how wrong the node's clock is.

- **Charter**: ``<home>/charter.ent``, the file form of protocol/charter.py, written by
  ``entraide init --charter`` or ``entraide charter join`` once the user has compared its
  fingerprint in person (config.toml is unchanged). A zone without one keeps the rules of
  version 1: the configured bridge keys, every key in the household class.
- **Roles** (:class:`ZoneTrust`): derived from the charter and the stored vouches,
  revocations and retractions, again whenever one of those is stored and every
  :data:`REFRESH_S` seconds (vouches expire). Their policy is what every acceptance uses.
  The vouches and revocations of a batch are stored first, and again while the new roles
  authorise more of them: a batch never needs a particular order.
- **Not yet** (:class:`NodeTrust`): a message refused as unauthorised or future-dated may
  become acceptable (the vouch that authorises it, or the right time, has not come yet).
  It is kept aside, a few per author, and offered to the store again every tick and when
  the roles or the clock change, for :data:`PENDING_TTL_S` at most. Its id is never
  remembered as bad: a peer that offers it again is heard.
- **Rate limits**: a token bucket per author (protocol/ratelimit.py) in the author's class
  (SPEC.md 11a.6, stricter for unvouched keys), charged for live pushes (gossip, radio) once
  the signature has verified and the receiver's rules passed.
- **Storage quotas** (protocol/quota.py): the store refuses, in its transaction, a message
  that would take its author past its class's live messages or bytes, whatever brought it.
  A live push is refused before it is forwarded by the same rule, on :attr:`NodeTrust.usage`:
  the authors' live messages as the store last counted them, plus what the push screen let
  through since (counted again after every ingest, and in full when expired messages are
  pruned).
- **Clock** (SPEC.md 11a.7): the authors and creation times of live pushes, signature
  checked, feed a :class:`protocol.clock.ClockObserver`; the node's time
  (:meth:`NodeTrust.now`) is the local clock plus the estimated offset, for acceptance, the
  board and the messages it signs. ``ENTRAIDE_CLOCK_OFFSET_S`` shifts the local clock
  itself: a test and diagnostic knob (what a Raspberry Pi booted without network time sees).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nacl.signing
import trio

from protocol.charter import SignedCharter, check_replaces, check_zone, decode_charter
from protocol.clock import MIN_SOURCES, NO_ESTIMATE, ClockEstimate, ClockObserver
from protocol.envelope import Envelope, Policy, check_acceptable, decode
from protocol.errors import FutureMessage, InvalidCharter, PeerError, Unauthorized
from protocol.kinds import Kind, Role
from protocol.quota import OverQuota, Usage, check_quota, is_priority
from protocol.ratelimit import RateLimited, RateLimiter
from protocol.roster import Escalation, RosterItem, escalations, read_roster
from protocol.state import derive, latest_alert
from protocol.trust import RateLimit, Roles, derive_roles

from .config import Config, ConfigError
from .fsutil import atomic_write
from .store import IngestResult, Store

if TYPE_CHECKING:
    from .daemon import Node

__all__ = [
    "CHARTER_FILE",
    "CLOCK_OFFSET_ENV",
    "NodeTrust",
    "ZoneTrust",
    "adopt_charter",
    "charter_path",
    "kind_of",
    "load_charter",
    "local_clock",
    "role_kinds_first",
]

log = logging.getLogger("entraide.trust")

CHARTER_FILE = "charter.ent"
CLOCK_OFFSET_ENV = "ENTRAIDE_CLOCK_OFFSET_S"
#: The kinds the roles are derived from (retractions withdraw vouches).
ROLE_KINDS = frozenset({Kind.VOUCH, Kind.REVOKE, Kind.RETRACTION})
#: Roles, clock estimate and the roster are derived again this often (seconds), and the
#: messages kept aside are offered again.
REFRESH_S = 30.0
#: After a wake-up, wait this long for more of the same (a burst of samples or messages).
SETTLE_S = 0.2
#: A clock estimate this far from the local clock (seconds) is logged as a warning.
CLOCK_WARNING_S = 600
#: The clock offset is estimated again at most this often while samples arrive (seconds).
ESTIMATE_EVERY_S = 1.0
#: A local clock that moves this much more (or less) than the monotonic clock between two
#: ticks was set (seconds): the samples measured the old clock and are forgotten.
CLOCK_SET_S = 60.0
#: Messages kept aside as "not yet": at most this many, this many per author, this long.
PENDING_MAX = 1024
PENDING_PER_AUTHOR = 16
PENDING_TTL_S = 3600.0
#: Refusals that may turn into acceptance later.
NOT_YET = (Unauthorized, FutureMessage)
_SIGNATURE = 64


def local_clock(environ: Mapping[str, str] | None = None) -> Callable[[], float]:
    """The system clock, shifted by ``$ENTRAIDE_CLOCK_OFFSET_S`` seconds when set (a test and
    diagnostic knob: a node whose clock is days off)."""
    env = os.environ if environ is None else environ
    text = env.get(CLOCK_OFFSET_ENV, "").strip()
    if not text:
        return time.time
    try:
        offset = float(text)
    except ValueError:
        raise ConfigError.tr(
            "{variable}={value}: expected a number of seconds",
            variable=CLOCK_OFFSET_ENV,
            value=text,
        ) from None
    return lambda: time.time() + offset


def kind_of(raw: bytes) -> Kind | None:
    """The kind of an envelope from its first bytes (``01 A? 00 <kind>`` in canonical form),
    without decoding it; None if the bytes do not start like an envelope."""
    if len(raw) < 4 or raw[2] != 0 or raw[3] >= 24:
        return None
    try:
        return Kind(raw[3])
    except ValueError:
        return None


def role_kinds_first(raws: Sequence[bytes]) -> list[bytes]:
    """``raws`` with vouches, revocations and retractions first (a stable sort): what a
    receiver needs to authorise the rest (SPEC.md 11a.3)."""
    return sorted(raws, key=lambda raw: kind_of(raw) not in ROLE_KINDS)


def message_id(raw: bytes) -> bytes:
    return hashlib.sha256(raw[:-_SIGNATURE]).digest()


# --- the charter file ----------------------------------------------------------------------


def charter_path(home: Path) -> Path:
    return home / CHARTER_FILE


def load_charter(home: Path, zone: bytes) -> SignedCharter | None:
    """The charter this node joined, None if it has none. A damaged file, or one of another
    zone, is a :class:`ConfigError` that says what to do."""
    path = charter_path(home)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError.tr(
            "cannot read {path}: {reason}", path=str(path), reason=exc.strerror
        ) from None
    try:
        signed = decode_charter(data)
        check_zone(signed, zone)
    except InvalidCharter as exc:
        raise ConfigError.tr(
            "the zone charter {path} cannot be used ({reason}); join the zone's charter again "
            "with `entraide charter join FILE`, or move the file away",
            path=str(path),
            reason=str(exc),
        ) from None
    return signed


def adopt_charter(home: Path, zone: bytes, signed: SignedCharter) -> str:
    """Make ``signed`` this node's charter: "new" (it had none), "same" (already in use) or
    "replaced" (a newer one, signed by more than half of the current founders). Raises
    :class:`InvalidCharter` if it is for another zone or may not replace the current one."""
    check_zone(signed, zone)
    current = load_charter(home, zone)
    if current is not None and current.charter.id == signed.charter.id:
        return "same"
    if current is not None:
        check_replaces(current, signed)
    atomic_write(charter_path(home), signed.to_bytes(), 0o644)
    return "new" if current is None else "replaced"


# --- roles and the ordered ingest ---------------------------------------------------------


def _same_roles(a: Roles, b: Roles) -> bool:
    return (
        a.charter == b.charter
        and a.bridge_keys == b.bridge_keys
        and dict(a.grants) == dict(b.grants)
        and {k: [e.id for e in v] for k, v in a.revocations.items()}
        == {k: [e.id for e in v] for k, v in b.revocations.items()}
    )


class ZoneTrust:
    """The roles of a zone as a node sees them, and the policy they give. Synchronous: the
    CLI uses it directly, the daemon from its store thread."""

    def __init__(self, config: Config, charter: SignedCharter | None) -> None:
        self.config = config
        self.charter = charter
        self.roles = self._derive((), now=0)
        self.policy = self._policy()
        #: Bumped whenever the roles change.
        self.version = 0

    @property
    def zone(self) -> bytes:
        return self.config.zone.zone_id

    def _derive(self, messages: Iterable[Envelope], *, now: int) -> Roles:
        return derive_roles(
            None if self.charter is None else self.charter.charter,
            messages,
            now=now,
            bridge_keys=frozenset(self.config.zone.bridge_keys),
        )

    def _policy(self) -> Policy:
        # A charter states the zone's clock tolerance; without one, config.toml does.
        skew = None if self.charter is not None else self.config.zone.max_clock_skew_s
        return self.roles.policy(zone=self.zone, max_skew=skew)

    def set_charter(self, charter: SignedCharter | None) -> None:
        """A new charter: call :meth:`refresh` next."""
        self.charter = charter

    def quota_for(self, author: bytes) -> RateLimit:
        """An author's storage quota: its class's, by the current roles (SPEC.md 11a.6)."""
        return self.roles.rate_limit(author)

    def role_messages(self, store: Store) -> list[Envelope]:
        """Every stored vouch, revocation and retraction of the zone, expired ones too: a
        revocation counts for as long as the node holds it."""
        return store.live(0, ROLE_KINDS, zone=self.zone)

    def refresh(self, store: Store, *, now: int) -> bool:
        """Derive the roles again from ``store`` (blocking); whether they changed."""
        roles = self._derive(self.role_messages(store), now=now)
        if _same_roles(roles, self.roles):
            return False
        self.roles = roles
        self.policy = self._policy()
        self.version += 1
        return True

    def ingest(self, store: Store, raws: Sequence[bytes], *, now: int) -> list[IngestResult]:
        """:meth:`Store.ingest` with the vouches, revocations and retractions first: each time
        they change the roles, those refused as unauthorised are tried again, then the rest
        of the batch is checked with the roles they give (blocking)."""
        results: list[IngestResult | None] = [None] * len(raws)
        todo = [i for i, raw in enumerate(raws) if kind_of(raw) in ROLE_KINDS]
        rest = [i for i, raw in enumerate(raws) if kind_of(raw) not in ROLE_KINDS]
        while todo:
            got = store.ingest(
                [raws[i] for i in todo], now=now, policy=self.policy, quota_for=self.quota_for
            )
            for i, result in zip(todo, got, strict=True):
                results[i] = result
            if not any(r.status == "new" for r in got) or not self.refresh(store, now=now):
                break
            todo = [i for i, r in zip(todo, got, strict=True) if _not_yet(r, Unauthorized)]
        if rest:
            got = store.ingest(
                [raws[i] for i in rest], now=now, policy=self.policy, quota_for=self.quota_for
            )
            for i, result in zip(rest, got, strict=True):
                results[i] = result
        return [r for r in results if r is not None]


def _not_yet(result: IngestResult, kinds: tuple[type[PeerError], ...] | type[PeerError]) -> bool:
    return result.status == "rejected" and isinstance(result.error, kinds)


# --- the daemon's side ---------------------------------------------------------------------


@dataclass
class _Pending:
    raw: bytes
    author: bytes
    since: float  # monotonic


class NodeTrust:
    """A running node's trust state: :class:`ZoneTrust`, the clock estimate, the rate
    limits, the messages kept aside as "not yet" and, for a relay, its roster."""

    def __init__(
        self,
        home: Path,
        config: Config,
        me: bytes,
        *,
        clock: Callable[[], float],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home = home
        self.me = me
        self.clock = clock
        self.monotonic = monotonic
        self.zone = ZoneTrust(config, load_charter(home, config.zone.zone_id))
        self.observer = ClockObserver()
        self.estimate: ClockEstimate = NO_ESTIMATE
        self.limiter = RateLimiter(limit_for=lambda key: self.zone.roles.rate_limit(key))
        self.roster: tuple[RosterItem, ...] = ()
        self.escalations: tuple[Escalation, ...] = ()
        self._pending: OrderedDict[bytes, _Pending] = OrderedDict()
        self._per_author: Counter[bytes] = Counter()
        self._wake = trio.Event()
        self._charter_stamp = self._stamp()
        self._estimated = -ESTIMATE_EVERY_S  # monotonic time of the last estimate
        self._clock_moved = False  # since the last tick
        self._reading = (monotonic(), clock())  # to notice that the local clock was set
        #: Live messages held per author and quota pool (see the module docstring); the
        #: pools not here hold none.
        self.usage: dict[tuple[bytes, bool], Usage] = {}
        self.counters = {"not_yet": 0, "retried": 0, "rate_limited": 0, "over_quota": 0}

    # --- facts -----------------------------------------------------------------------------

    @property
    def roles(self) -> Roles:
        return self.zone.roles

    @property
    def policy(self) -> Policy:
        return self.zone.policy

    @property
    def charter(self) -> SignedCharter | None:
        return self.zone.charter

    def local_now(self) -> int:
        return int(self.clock())

    def now(self) -> int:
        """The network's time: the local clock corrected by the estimated offset."""
        return self.estimate.now(self.local_now())

    def wake(self) -> None:
        """Derive again soon (new role messages, new clock samples)."""
        self._wake.set()

    # --- live pushes -----------------------------------------------------------------------

    def screen_live(self, raw: bytes) -> Envelope:
        """What a live push (gossip, radio) must pass before it is stored or forwarded: its
        signature, then (a clock sample taken) the receiver's rules, then its author's rate
        limit. Raises the :class:`PeerError` that says why not; a "not yet" is kept aside."""
        env = decode(raw)
        self.observer.observe(env.author, env.created, self.local_now())
        if (
            self.estimate.sources < MIN_SOURCES
            or self.monotonic() - self._estimated >= ESTIMATE_EVERY_S
        ) and self.update_estimate():
            self.wake()  # offer again what was refused as future-dated
        try:
            check_acceptable(env, now=self.now(), policy=self.policy)
        except NOT_YET:
            self.defer(raw, env.author)
            raise
        pool = (env.author, is_priority(env))
        try:
            check_quota(env, self.usage.get(pool, Usage()), self.zone.quota_for(env.author))
        except OverQuota:
            self.counters["over_quota"] += 1
            raise
        try:
            self.limiter.check(env.author, self.monotonic())
        except RateLimited:
            self.counters["rate_limited"] += 1
            raise
        # Counted until the store counts again: a burst cannot pass the quota before it is
        # stored (and a message kept aside, or refused by the store, is counted only until
        # then).
        self.usage[pool] = self.usage.get(pool, Usage()).plus(len(raw))
        return env

    def set_usage(
        self, usage: Mapping[tuple[bytes, bool], Usage], authors: Iterable[bytes] | None
    ) -> None:
        """The store's count of live messages per author and pool: of ``authors`` (pools
        missing from ``usage`` hold none), or of every author (``authors`` None)."""
        if authors is None:
            self.usage = dict(usage)
            return
        for author in authors:
            for pool in ((author, False), (author, True)):
                held = usage.get(pool)
                if held is None:
                    self.usage.pop(pool, None)
                else:
                    self.usage[pool] = held

    # --- not yet ---------------------------------------------------------------------------

    def defer(self, raw: bytes, author: bytes | None = None) -> None:
        """Keep ``raw`` aside to offer it again later (a few per author, bounded). Its
        signature is checked first: a forgery must not take its author's places."""
        mid = message_id(raw)
        if mid in self._pending:
            return
        if author is None:
            try:
                author = decode(raw).author
            except PeerError:
                return
        if self._per_author[author] >= PENDING_PER_AUTHOR:
            return
        self._pending[mid] = _Pending(raw, author, self.monotonic())
        self._per_author[author] += 1
        self.counters["not_yet"] += 1
        while len(self._pending) > PENDING_MAX:
            self._forget(next(iter(self._pending)))

    def _forget(self, mid: bytes) -> None:
        gone = self._pending.pop(mid, None)
        if gone is not None:
            self._per_author[gone.author] -= 1
            if not self._per_author[gone.author]:
                del self._per_author[gone.author]

    def settle(self, raws: Sequence[bytes], results: Sequence[IngestResult]) -> None:
        """After an ingest: keep aside what is "not yet", forget what was decided."""
        for raw, result in zip(raws, results, strict=True):
            if _not_yet(result, NOT_YET):
                self.defer(raw)
            elif self._pending:
                self._forget(message_id(raw))

    def pending(self) -> list[bytes]:
        """The messages kept aside that are still worth offering again."""
        oldest = self.monotonic() - PENDING_TTL_S
        for mid in [m for m, p in self._pending.items() if p.since < oldest]:
            self._forget(mid)
        return [p.raw for p in self._pending.values()]

    # --- clock -----------------------------------------------------------------------------

    def update_estimate(self) -> bool:
        """Estimate the clock offset again; whether it changed."""
        self._estimated = self.monotonic()
        estimate = self.observer.estimate(local_now=self.local_now(), trusted=self.roles.vouched)
        changed = estimate.offset != self.estimate.offset
        self.estimate = estimate
        self._clock_moved |= changed
        if changed and abs(estimate.offset) >= CLOCK_WARNING_S:
            log.warning(
                "this node's clock seems %s the network (%d peers' clocks agree, within %d s): "
                "using the network's time; set the clock (date) when you can",
                _span(estimate.offset),
                estimate.sources,
                estimate.spread,
            )
        elif changed:
            log.info("clock offset now %+d s (%d sources)", estimate.offset, estimate.sources)
        return changed

    def check_clock_set(self) -> bool:
        """Whether the local clock was set since the last call (say, by NTP once a network
        came back): then the samples, which measured the old clock, are forgotten."""
        mono, local = self.monotonic(), self.clock()
        last_mono, last_local = self._reading
        self._reading = (mono, local)
        if abs((local - last_local) - (mono - last_mono)) < CLOCK_SET_S:
            return False
        log.info(
            "the local clock was set (by %+.0f s): clock samples forgotten", local - last_local
        )
        self.observer.clear()
        self._clock_moved |= self.estimate.offset != 0
        self.estimate = NO_ESTIMATE
        return True

    # --- the roster (a relay's) ------------------------------------------------------------

    def refresh_roster(self, store: Store, signing_key: nacl.signing.SigningKey) -> None:
        """The roster entries this node can open, and who needs a visit now (blocking)."""
        if not self.roles.has(bytes(signing_key.verify_key), Role.RELAY):
            self.roster, self.escalations = (), ()
            return
        now = self.now()
        messages = store.live(now, zone=self.zone.zone)
        self.roster = read_roster(messages, signing_key, now=now)
        if not self.roster:
            self.escalations = ()
            return
        board = derive(messages, now=now, trust=self.roles)
        alert = latest_alert(board)
        self.escalations = escalations(
            self.roster, board, self.roles, since=None if alert is None else alert.started, now=now
        )

    # --- the loop --------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = charter_path(self.home).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def reload_charter(self) -> bool:
        """Read ``charter.ent`` again if it changed; whether it did. A file that cannot be
        used is logged and the charter in use is kept."""
        stamp = self._stamp()
        if stamp == self._charter_stamp:
            return False
        self._charter_stamp = stamp
        try:
            charter = load_charter(self.home, self.zone.zone)
        except ConfigError as exc:
            log.error("%s", exc)
            return False
        if charter is None or self.charter is None or charter.charter.id != self.charter.charter.id:
            log.info(
                "zone charter %s",
                "removed" if charter is None else f"in use: {charter.charter.fingerprint}",
            )
            self.zone.set_charter(charter)
            return True
        return False

    async def serve(self, node: Node, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Derive the roles from the store, then keep everything up to date until cancelled."""
        await node.refresh_trust()
        await node.refresh_usage()
        await node.refresh_roster()
        task_status.started()
        while True:
            with trio.move_on_after(REFRESH_S) as timer:
                await self._wake.wait()
            self._wake = trio.Event()
            if not timer.cancelled_caught:
                await trio.sleep(SETTLE_S)
            await self.tick(node)

    async def tick(self, node: Node) -> None:
        """One round: the charter, the roles, the clock, the roster, and the messages kept
        aside offered again."""
        if self.reload_charter() and self.charter is not None and node.wifi is not None:
            for peer in self.charter.charter.peers:  # the new charter's bootstrap peers
                try:
                    node.wifi.add_peer(peer)
                except Exception as exc:  # a multiaddr libp2p cannot use: say so, go on
                    log.warning("charter peer %s not usable: %s", peer, exc)
        await node.refresh_trust()
        self.check_clock_set()
        self.update_estimate()
        clock_changed, self._clock_moved = self._clock_moved, False
        await node.refresh_roster()
        waiting = self.pending()
        if waiting:
            self.counters["retried"] += len(waiting)
            await node.submit(waiting, source="retry")
        if clock_changed and node.syncer is not None:
            node.syncer.sync_all_now()  # what was refused as future-dated may be accepted now

    def status(self) -> dict[str, Any]:
        charter = self.charter
        me_roles = sorted(r.name.lower() for r in self.roles.roles_of(self.me))
        est = self.estimate
        return {
            "charter": None if charter is None else charter.to_text(),
            "trust": {
                "charter": None
                if charter is None
                else {
                    "name": charter.charter.name,
                    "fingerprint": charter.charter.fingerprint,
                    "serial": charter.charter.serial,
                },
                "roles": me_roles,
                "rate_class": self.roles.rate_class(self.me).value,
                "coordinators": len(self.roles.coordinators),
                "relays": len(self.roles.relays),
                "bridges": len(self.roles.bridges),
                "households": len(self.roles.households),
                "pending": len(self._pending),
                "counters": dict(self.counters),
                "rate_limiter": dataclasses.asdict(self.limiter.statistics()),
            },
            "clock": {
                "local": self.local_now(),
                "offset": est.offset,
                "measured": est.measured,
                "sources": est.sources,
                "trusted": est.trusted,
                "spread": est.spread,
            },
        }


def _span(seconds: int) -> str:
    value = abs(seconds)
    sign = "ahead" if seconds < 0 else "behind"  # a negative offset: the local clock is fast
    if value >= 2 * 86400:
        return f"{value / 86400:.1f} days {sign}"
    if value >= 3600:
        return f"{value / 3600:.1f} h {sign}"
    return f"{value // 60} min {sign}"
