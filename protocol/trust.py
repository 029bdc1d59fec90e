"""Trust in a zone: who holds which role, how far a report is verified, rate-limit classes.

Everything here is a pure function of the zone's charter, a *set* of accepted messages and
``now``: arrival order and ``created`` times never decide who holds a role (SPEC.md 11a).

**Roles.** A charter's founders are coordinators at depth 0. A vouch (kind 11) by a key that
holds the right role grants its subject a role one step deeper than its author:

- coordinator, relay, bridge: vouched by a coordinator (the charter also lists relays and
  bridges: granted at depth 1);
- household: vouched by a relay or a coordinator.

A vouch counts while it is live, is not retracted by its author (withdrawing one's vouch),
and its author holds a vouching role *now*. So when a key loses a role, every vouch, mark and
revocation it made in that role loses its effect, whatever dates they carry: a revoked key
cannot dodge its revocation by backdating, and nothing depends on which message came first.

**Revocations** (kind 12) are final while a node holds them (even expired; a retraction does
not undo them). A key may revoke its own roles (stepping down, or a key lost or stolen, which
a thief cannot undo); a coordinator may revoke a relay, bridge or household role of any key,
and a coordinator role granted deeper than its own depth. Among coordinators only the one
closer to the founders wins, so no two coordinators can revoke each other and the result is
well defined; a founder is revoked only by itself or by a new charter. To revoke a key
without undoing what it did, re-vouch what should stay first (:meth:`Roles.granted_by`).

**Verification** of a report or request (:func:`verify`): *official* (a bridge's official
alert mirror) > *marked false* or *confirmed* (the latest mark of each relay or coordinator
counts; coordinators' marks override relays'; between peers "false" wins) > *corroborated*
(independent neighbours: distinct keys other than the author, a vouched one weighing
:data:`VOUCHED_WEIGHT`, an unvouched one 1, until :data:`CORROBORATION_THRESHOLD`) >
*unverified*. Marks and corroborations apply to the exact version cited, never to a later
update of it. A message typed on a handset (``via``) is only as trustworthy as its witness,
the author, and the handset's self-declared, spoofable node number.

A zone without a charter has no coordinator, relay or vouched household: every key is in the
household rate class (today's behaviour), official mirrors come from the configured bridge
keys, and vouches and marks are refused.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .charter import Charter
from .envelope import DEFAULT_MAX_SKEW, Envelope, Policy
from .i18n import tr
from .kinds import (
    Alert,
    AlertOrigin,
    Handset,
    Kind,
    Mark,
    Revoke,
    Role,
    Verdict,
    Vouch,
)

__all__ = [
    "CORROBORATION_THRESHOLD",
    "RATE_LIMITS",
    "VOUCHED_WEIGHT",
    "Grant",
    "RateClass",
    "RateLimit",
    "Roles",
    "Verification",
    "VerificationState",
    "derive_roles",
    "describe",
    "verify",
]

#: Who may vouch for each role.
VOUCHERS: Mapping[Role, frozenset[Role]] = MappingProxyType(
    {
        Role.HOUSEHOLD: frozenset({Role.RELAY, Role.COORDINATOR}),
        Role.RELAY: frozenset({Role.COORDINATOR}),
        Role.BRIDGE: frozenset({Role.COORDINATOR}),
        Role.COORDINATOR: frozenset({Role.COORDINATOR}),
    }
)
#: Corroboration weight that makes a report "corroborated": two vouched neighbours, or four
#: unvouched ones (unvouched keys cost nothing to make).
CORROBORATION_THRESHOLD = 4
VOUCHED_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class Grant:
    """One reason a key holds a role."""

    role: Role
    #: Vouching steps from the founders: a founder 0, what the charter or a founder grants 1.
    depth: int
    by: bytes | None  # the voucher; None: the charter
    vouch: bytes | None  # the vouch's id; None: the charter


class RateClass(enum.StrEnum):
    UNVOUCHED = "unvouched"
    HOUSEHOLD = "household"
    RELAY = "relay"
    COORDINATOR = "coordinator"
    BRIDGE = "bridge"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Abuse-resistance parameters of one class of authors, for the per-author token buckets
    of protocol/ratelimit.py and the store's quotas."""

    burst: int  # messages accepted at once (the bucket's size)
    per_hour: int  # messages per hour in the long run (the refill)
    max_live: int  # live messages one author may have in a node's store
    max_live_bytes: int


#: Per class: stricter for keys nobody vouched for (SPEC.md 11a.6). A household's busy day is
#: a few dozen messages; a relay records visits for many.
RATE_LIMITS: Mapping[RateClass, RateLimit] = MappingProxyType(
    {
        RateClass.UNVOUCHED: RateLimit(10, 30, 100, 64 * 1024),
        RateClass.HOUSEHOLD: RateLimit(30, 120, 500, 256 * 1024),
        RateClass.RELAY: RateLimit(60, 600, 2000, 1024 * 1024),
        RateClass.COORDINATOR: RateLimit(60, 600, 5000, 2 * 1024 * 1024),
        RateClass.BRIDGE: RateLimit(60, 600, 2000, 2 * 1024 * 1024),
    }
)


@dataclass(frozen=True, slots=True)
class Roles:
    """Who holds which role in a zone, at one time (:func:`derive_roles`)."""

    charter: Charter | None
    #: The grants in force, per key.
    grants: Mapping[bytes, tuple[Grant, ...]]
    #: Revocations in force (by the key itself or by a coordinator), per revoked key.
    revocations: Mapping[bytes, tuple[Envelope, ...]]
    #: Configured bridges (config.toml), on top of the charter's.
    bridge_keys: frozenset[bytes] = frozenset()
    _by_key: Mapping[bytes, frozenset[Role]] = field(default_factory=dict, repr=False)

    @classmethod
    def without_charter(cls, bridge_keys: frozenset[bytes] = frozenset()) -> Roles:
        """A zone with no charter yet: only the configured bridges hold a role."""
        return cls(None, {}, {}, frozenset(bridge_keys))

    def roles_of(self, key: bytes) -> frozenset[Role]:
        roles = self._by_key.get(key, frozenset())
        return roles | {Role.BRIDGE} if key in self.bridge_keys else roles

    def has(self, key: bytes, *roles: Role) -> bool:
        """Whether ``key`` holds one of ``roles``."""
        return bool(self.roles_of(key) & set(roles))

    def vouched(self, key: bytes) -> bool:
        """Whether someone the zone trusts knows this key's household."""
        return self.has(key, Role.HOUSEHOLD, Role.RELAY, Role.COORDINATOR)

    def depth(self, key: bytes) -> int | None:
        """A coordinator's vouching steps from the founders (0 for a founder), else None."""
        depths = [g.depth for g in self.grants.get(key, ()) if g.role is Role.COORDINATOR]
        return min(depths, default=None)

    def holders(self, role: Role) -> frozenset[bytes]:
        found = {key for key, roles in self._by_key.items() if role in roles}
        return frozenset(found | self.bridge_keys if role is Role.BRIDGE else found)

    @property
    def coordinators(self) -> frozenset[bytes]:
        return self.holders(Role.COORDINATOR)

    @property
    def relays(self) -> frozenset[bytes]:
        return self.holders(Role.RELAY)

    @property
    def bridges(self) -> frozenset[bytes]:
        return self.holders(Role.BRIDGE)

    @property
    def households(self) -> frozenset[bytes]:
        """The keys vouched for as households (relays and coordinators are vouched too)."""
        return self.holders(Role.HOUSEHOLD)

    def granted_by(self, key: bytes) -> tuple[tuple[bytes, Grant], ...]:
        """The grants (subject, grant) that depend on ``key``'s vouches: what revoking it
        would undo, unless someone else vouches for them too."""
        return tuple(
            (subject, grant)
            for subject, grants in sorted(self.grants.items())
            for grant in grants
            if grant.by == key
        )

    def rate_class(self, key: bytes) -> RateClass:
        """The rate-limit class of an author (SPEC.md 11a.6)."""
        roles = self.roles_of(key)
        for role, cls in (
            (Role.COORDINATOR, RateClass.COORDINATOR),
            (Role.BRIDGE, RateClass.BRIDGE),
            (Role.RELAY, RateClass.RELAY),
            (Role.HOUSEHOLD, RateClass.HOUSEHOLD),
        ):
            if role in roles:
                return cls
        return RateClass.HOUSEHOLD if self.charter is None else RateClass.UNVOUCHED

    def rate_limit(self, key: bytes) -> RateLimit:
        return RATE_LIMITS[self.rate_class(key)]

    def policy(self, *, zone: bytes | None, max_skew: int | None = None) -> Policy:
        """The receiver policy of this zone: what :func:`protocol.envelope.accept` needs."""
        if max_skew is None:
            max_skew = DEFAULT_MAX_SKEW if self.charter is None else self.charter.max_skew
        return Policy(bridge_keys=self.bridge_keys, max_skew=max_skew, zone=zone, trust=self)


def derive_roles(
    charter: Charter | None,
    messages: Iterable[Envelope],
    *,
    now: int,
    bridge_keys: frozenset[bytes] = frozenset(),
) -> Roles:
    """Who holds which role at ``now``, from the charter and the vouches, revocations and
    retractions among ``messages`` (any order, duplicates and other kinds allowed)."""
    unique: dict[bytes, Envelope] = {}
    for env in messages:
        unique.setdefault(env.id, env)
    ordered = sorted(unique.values(), key=lambda e: (e.created, e.id))
    withdrawn = {
        r.refs[0]
        for r in ordered
        if r.kind is Kind.RETRACTION
        and (target := unique.get(r.refs[0])) is not None
        and target.kind is Kind.VOUCH
        and target.author == r.author
    }
    vouches: dict[Role, dict[bytes, list[tuple[bytes, Envelope]]]] = {
        role: defaultdict(list) for role in Role
    }
    for env in ordered:
        body = env.body
        if (
            isinstance(body, Vouch)
            and now < env.expires
            and env.id not in withdrawn
            and body.subject != env.author
        ):
            vouches[body.role][env.author].append((body.subject, env))
    revokes: dict[bytes, list[Envelope]] = defaultdict(list)
    for env in ordered:
        if isinstance(env.body, Revoke):
            revokes[env.body.subject].append(env)
    return _Derivation(charter, vouches, revokes, frozenset(bridge_keys)).run()


class _Derivation:
    """The three stages of SPEC.md 11a.2: coordinators by depth, then relays and bridges, then
    households."""

    def __init__(
        self,
        charter: Charter | None,
        vouches: dict[Role, dict[bytes, list[tuple[bytes, Envelope]]]],
        revokes: dict[bytes, list[Envelope]],
        bridge_keys: frozenset[bytes],
    ) -> None:
        self.charter = charter
        self.vouches = vouches
        self.revokes = revokes
        self.bridge_keys = bridge_keys
        self.depth: dict[bytes, int] = {}  # settled coordinators
        self.grants: dict[bytes, list[Grant]] = defaultdict(list)

    def revoked(self, subject: bytes, role: Role, depth: int) -> bool:
        """Whether a revocation in force removes ``role`` granted to ``subject`` at ``depth``.
        Coordinators with a depth below ``depth`` are all settled when this is asked."""
        for env in self.revokes.get(subject, ()):
            body = env.body
            assert isinstance(body, Revoke)
            if body.role is not None and body.role is not role:
                continue
            if env.author == subject:
                return True
            revoker = self.depth.get(env.author)
            if revoker is not None and (role is not Role.COORDINATOR or revoker < depth):
                return True
        return False

    def grant(self, subject: bytes, role: Role, depth: int, by: Envelope | None) -> bool:
        if self.revoked(subject, role, depth):
            return False
        self.grants[subject].append(
            Grant(role, depth, None if by is None else by.author, None if by is None else by.id)
        )
        return True

    def run(self) -> Roles:
        charter = self.charter
        level: list[bytes] = []
        for founder in () if charter is None else charter.founders:
            if self.grant(founder, Role.COORDINATOR, 0, None):
                self.depth[founder] = 0
                level.append(founder)
        # Coordinators, one depth at a time: a revocation of a coordinator role counts only if
        # its author is closer to the founders, and those are all known by then.
        depth = 0
        while level:
            depth += 1
            found: list[bytes] = []
            for author in level:
                for subject, vouch in self.vouches[Role.COORDINATOR].get(author, ()):
                    if self.depth.get(subject, depth) < depth:
                        continue
                    granted = self.grant(subject, Role.COORDINATOR, depth, vouch)
                    if granted and subject not in self.depth:
                        self.depth[subject] = depth
                        found.append(subject)
            level = found
        # Relays and bridges: from the charter and from coordinators.
        for role, listed in (
            (Role.RELAY, () if charter is None else charter.relays),
            (Role.BRIDGE, () if charter is None else charter.bridges),
        ):
            for key in listed:
                self.grant(key, role, 1, None)
            self._vouched(role)
        # Households: from relays and coordinators.
        self._vouched(Role.HOUSEHOLD)
        return self._roles()

    def _voucher_depth(self, author: bytes, role: Role) -> int | None:
        depths = [g.depth for g in self.grants.get(author, ()) if g.role in VOUCHERS[role]]
        return min(depths, default=None)

    def _vouched(self, role: Role) -> None:
        for author, vouched in self.vouches[role].items():
            depth = self._voucher_depth(author, role)
            if depth is None:
                continue
            for subject, vouch in vouched:
                self.grant(subject, role, depth + 1, vouch)

    def _roles(self) -> Roles:
        grants = {key: tuple(found) for key, found in sorted(self.grants.items()) if found}
        by_key = {key: frozenset(g.role for g in found) for key, found in grants.items()}
        revocations = {
            subject: in_force
            for subject, envs in sorted(self.revokes.items())
            if (in_force := tuple(e for e in envs if e.author == subject or e.author in self.depth))
        }
        return Roles(
            charter=self.charter,
            grants=MappingProxyType(grants),
            revocations=MappingProxyType(revocations),
            bridge_keys=self.bridge_keys,
            _by_key=MappingProxyType(by_key),
        )


# --- verification ------------------------------------------------------------------------


class VerificationState(enum.StrEnum):
    """How far a report or request is verified, lowest first (``false``: flagged)."""

    MARKED_FALSE = "false"
    UNVERIFIED = "unverified"
    CORROBORATED = "corroborated"
    CONFIRMED = "confirmed"
    OFFICIAL = "official"


@dataclass(frozen=True, slots=True)
class Verification:
    state: VerificationState
    #: The roles of the author (the witness, for a message typed on a handset).
    author_roles: frozenset[Role] = frozenset()
    #: Independent neighbours who corroborated it, first one first, and how many are vouched.
    corroborators: tuple[bytes, ...] = ()
    vouched_corroborators: int = 0
    #: Relays or coordinators whose verdict counts, by verdict.
    confirmed_by: tuple[bytes, ...] = ()
    marked_false_by: tuple[bytes, ...] = ()
    #: Whose verdicts decided: coordinators (they override relays), relays, or nobody.
    decided_by: Role | None = None
    #: The handset it was typed on: only as trustworthy as the witness and this spoofable id.
    via: Handset | None = None

    @property
    def weight(self) -> int:
        unvouched = len(self.corroborators) - self.vouched_corroborators
        return unvouched + VOUCHED_WEIGHT * self.vouched_corroborators

    @property
    def marked_false(self) -> bool:
        return self.state is VerificationState.MARKED_FALSE


UNVERIFIED = Verification(VerificationState.UNVERIFIED)


def verify(
    target: Envelope,
    marks: Iterable[Envelope],
    corroborations: Iterable[Envelope],
    roles: Roles,
) -> Verification:
    """The verification of ``target`` from the non-retracted marks and corroborations that
    cite it (any order), with the roles held now."""
    via = getattr(target.body, "via", None)
    base = Verification(
        VerificationState.UNVERIFIED,
        author_roles=roles.roles_of(target.author),
        via=via if isinstance(via, Handset) else None,
    )
    body = target.body
    if (
        isinstance(body, Alert)
        and body.origin is AlertOrigin.OFFICIAL
        and Role.BRIDGE in base.author_roles
    ):
        return replace(base, state=VerificationState.OFFICIAL)
    coordinators: dict[bytes, Verdict] = {}
    relays: dict[bytes, Verdict] = {}
    for mark in sorted(marks, key=lambda e: (e.created, e.id)):  # the latest one counts
        if not isinstance(mark.body, Mark) or mark.author == target.author:
            continue
        held = roles.roles_of(mark.author)
        if Role.COORDINATOR in held:
            coordinators[mark.author] = mark.body.verdict
        elif Role.RELAY in held:
            relays[mark.author] = mark.body.verdict
    verdicts = coordinators or relays
    false_by = tuple(sorted(k for k, v in verdicts.items() if v is Verdict.FALSE))
    confirmed_by = tuple(sorted(k for k, v in verdicts.items() if v is Verdict.CONFIRMED))
    seen: dict[bytes, bool] = {}
    for env in sorted(corroborations, key=lambda e: (e.created, e.id)):
        if env.kind is Kind.CORROBORATION and env.author != target.author:
            seen.setdefault(env.author, roles.vouched(env.author))
    result = replace(
        base,
        corroborators=tuple(seen),
        vouched_corroborators=sum(seen.values()),
        confirmed_by=confirmed_by,
        marked_false_by=false_by,
        decided_by=Role.COORDINATOR if coordinators else Role.RELAY if relays else None,
    )
    if false_by:
        return replace(result, state=VerificationState.MARKED_FALSE)
    if confirmed_by:
        return replace(result, state=VerificationState.CONFIRMED)
    if result.weight >= CORROBORATION_THRESHOLD:
        return replace(result, state=VerificationState.CORROBORATED)
    return result


def describe(v: Verification, lang: str, *, witness: str | None = None) -> str:
    """How far a report is verified, in a few words of ``lang`` for a board or a command
    line; for a message typed on a handset, with what that is worth. ``witness`` names the
    author (default: the start of its key, which the caller does not have here)."""
    if v.state is VerificationState.OFFICIAL:
        text = tr("official", lang)
    elif v.state is VerificationState.MARKED_FALSE:
        if v.decided_by is Role.COORDINATOR:
            text = tr("marked false by the coordination", lang)
        else:
            text = tr("marked false by a relay", lang)
    elif v.state is VerificationState.CONFIRMED:
        if v.decided_by is Role.COORDINATOR:
            text = tr("confirmed by the coordination", lang)
        else:
            text = tr("confirmed by a relay", lang)
    elif v.state is VerificationState.CORROBORATED:
        text = tr(
            "seen by {count} neighbours ({vouched} known)",
            lang,
            count=len(v.corroborators),
            vouched=v.vouched_corroborators,
        )
    else:
        text = tr("unverified", lang)
    if v.via is None:
        return text
    return tr(
        "{state}; typed on handset {handset}, an id anyone can claim, heard by {witness}",
        lang,
        state=text,
        handset=str(v.via),
        witness=witness or tr("its witness", lang),
    )
