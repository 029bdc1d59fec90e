"""The trust commands of ``entraide`` (SPEC.md 11a): the zone's charter, who holds which
role, vouches and revocations, verification marks and corroborations, and the check-on-me
roster. Their grammar is in :mod:`node.cli_args`, the node's trust state in
:mod:`node.trust`.

Every message these commands sign is dated by the running node's clock (corrected by its
peers' if it was wrong), and checked against the zone's roles before it is signed: a command
the zone would refuse says so, and who may send it, instead of sending it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from protocol import kinds as k
from protocol import state
from protocol.charter import (
    TEXT_PREFIX,
    Charter,
    LoraSettings,
    SignedCharter,
    decode_charter,
)
from protocol.envelope import Envelope, authorised_roles, lifetime_to_outlive, seal
from protocol.errors import InvalidMessage, UsageError
from protocol.fingerprint import fingerprint
from protocol.i18n import label, tr
from protocol.roster import (
    Escalation,
    RosterDetails,
    RosterItem,
    escalations,
    read_roster,
    recipients,
    seal_entry,
    visit,
)
from protocol.trust import Roles

from . import render
from .cli import (
    EXIT_OK,
    Context,
    NotFound,
    _on_terminal,
    _resolve_id,
    _store_or_submit,
    shown_path,
)
from .config import Config
from .fsutil import atomic_write
from .identity import Identity
from .store import Store
from .trust import adopt_charter, load_charter

#: The largest charter input read (a charter is at most 2048 bytes; its text 3300 characters).
MAX_CHARTER_INPUT = 64 * 1024
#: What a mark or a corroboration may be about.
VERIFIABLE = (
    k.Kind.ALERT,
    k.Kind.HELP_REQUEST,
    k.Kind.HELP_OFFER,
    k.Kind.INCIDENT,
    k.Kind.RESOURCE_POINT,
)


# --- shared ------------------------------------------------------------------------------


def _roles_text(roles: frozenset[k.Role] | Sequence[k.Role], lang: str) -> str:
    return ", ".join(label(r, lang) for r in sorted(roles)) or tr("none (unvouched)", lang)


def _send(
    ctx: Context,
    config: Config,
    identity: Identity,
    store: Store,
    body: k.Body,
    *,
    refs: Sequence[bytes] = (),
    lifetime: int | None = None,
) -> Envelope:
    """Sign ``body`` as this household, check the zone lets it send it, and store it (the
    running node publishes it)."""
    rules = k.KIND_RULES[body.KIND]
    if lifetime is not None and lifetime > rules.max_lifetime:
        raise UsageError(
            tr(
                '--lifetime: a message of kind "{kind}" lasts at most {max}',
                ctx.lang,
                kind=label(body.KIND, ctx.lang),
                max=render.duration(rules.max_lifetime, ctx.lang),
            )
        )
    lifetime = None if lifetime is None else max(1, min(lifetime, rules.max_lifetime))
    env = seal(
        body,
        signing_key=identity.signing_key,
        created=ctx.now,
        zone=config.zone.zone_id,
        refs=list(refs),
        lifetime=lifetime,
    )
    needed = authorised_roles(env)
    mine = ctx.trust(config, store).roles.roles_of(identity.public_key)
    if needed is not None and not needed & mine:
        if not needed:
            raise UsageError(tr("nobody can vouch for their own key", ctx.lang))
        raise UsageError(
            tr(
                "only a {roles} of the zone can send this, and this household's roles are: "
                "{mine}. Ask a coordinator of the zone",
                ctx.lang,
                roles=f" {tr('or', ctx.lang)} ".join(label(r, ctx.lang) for r in sorted(needed)),
                mine=_roles_text(mine, ctx.lang),
            )
        )
    (result,) = _store_or_submit(ctx, store, [env.raw], config)
    if result.error is not None:
        raise UsageError(str(result.error))
    return env


def _resolve_key(ctx: Context, store: Store, config: Config, me: bytes, ref: str) -> bytes:
    """A key from "me", its 64 hex digits, or its first hex digits when the zone knows it
    (an author, or a key the charter or a vouch names)."""
    if ref == "me":
        return me
    if len(ref) == 64:
        return bytes.fromhex(ref)
    roles = ctx.trust(config, store).roles
    known = {env.author for env in store.live(ctx.now, zone=config.zone.zone_id)}
    known |= set(roles.grants) | set(roles.bridge_keys) | {me}
    if roles.charter is not None:
        known |= {*roles.charter.founders, *roles.charter.relays, *roles.charter.bridges}
    matches = sorted(key for key in known if key.hex().startswith(ref))
    if not matches:
        raise NotFound(
            tr(
                "no key of the zone starts with {prefix}: give its 64 hex digits",
                ctx.lang,
                prefix=ref,
            )
        )
    if len(matches) > 1:
        raise UsageError(
            tr(
                "{count} keys start with {prefix}: give more digits",
                ctx.lang,
                count=len(matches),
                prefix=ref,
            )
        )
    return matches[0]


def _outliving(ctx: Context, lifetime: int | None, kind: k.Kind, target: Envelope) -> int:
    """The lifetime asked for, else one that lasts as long as ``target``."""
    return lifetime if lifetime is not None else lifetime_to_outlive(target, kind, now=ctx.now)


# --- the charter ---------------------------------------------------------------------------


def read_charter(ctx: Context, value: str, *, complete: bool = True) -> SignedCharter:
    """A charter from a file, from its text (as typed, or ``-`` for standard input)."""
    data: bytes | str
    if value == "-":
        data = sys.stdin.read(MAX_CHARTER_INPUT)
    elif value.strip().upper().startswith(TEXT_PREFIX):
        data = value
    else:
        try:
            with open(value, "rb") as f:
                data = f.read(MAX_CHARTER_INPUT)
        except OSError as exc:
            raise UsageError(
                tr(
                    "cannot read {file}: {reason}",
                    ctx.lang,
                    file=shown_path(value),
                    reason=exc.strerror,
                )
            ) from None
    return decode_charter(data, complete=complete)


def confirm_fingerprint(ctx: Context, signed: SignedCharter, given: str | None, yes: bool) -> None:
    """Make sure the user compared the charter's fingerprint with the one read aloud:
    ``--fingerprint`` (checked here), ``--yes``, or a question on a terminal."""
    expected = signed.charter.fingerprint
    if given is not None:
        if re.sub(r"\D", "", given) != expected.replace(" ", ""):
            raise UsageError(
                tr(
                    "the fingerprint you were given ({given}) is not this charter's "
                    "({fingerprint}): do not use it, and ask your coordinator for the charter "
                    "again",
                    ctx.lang,
                    given=given,
                    fingerprint=expected,
                )
            )
        return
    if yes:
        return
    if _on_terminal(ctx.out):
        ctx.say("\n".join(charter_lines(signed, ctx.lang)))
        answer = input(tr("Does your coordinator read the same fingerprint? (yes/no) ", ctx.lang))
        if answer.strip().casefold() in ("yes", "y", "oui", "o"):
            return
        raise UsageError(tr("charter not used: its fingerprint must match", ctx.lang))
    raise UsageError(
        tr(
            "compare the charter's fingerprint, {fingerprint}, with the one your coordinator "
            'reads aloud, then run the command again with --fingerprint "{fingerprint}" (or '
            "--yes)",
            ctx.lang,
            fingerprint=expected,
        )
    )


def _key_line(key: bytes) -> str:
    return f"{key.hex()[:16]}…  ({fingerprint(key)})"


def charter_lines(signed: SignedCharter, lang: str) -> list[str]:
    """What a charter says, for people to read before they trust it."""
    c = signed.charter
    lines = [
        tr(
            "Zone charter: {name} (zone {zone}, version {serial})",
            lang,
            name=c.name,
            zone=c.zone.hex(),
            serial=c.serial,
        ),
        "  " + tr("fingerprint: {fingerprint}", lang, fingerprint=c.fingerprint),
    ]
    if c.area:
        lines.append("  " + tr("area: {area}", lang, area=c.area))
    lines.append(
        "  "
        + tr("issued: {date}", lang, date=datetime.fromtimestamp(c.issued).strftime("%Y-%m-%d"))
    )
    for title, keys in (
        (tr("founders (coordinators)", lang), c.founders),
        (tr("relays", lang), c.relays),
        (tr("official-alert bridges", lang), c.bridges),
    ):
        if keys:
            lines.append(f"  {title}:")
            lines.extend(f"    {_key_line(key)}" for key in keys)
    lines.extend("  " + tr("bootstrap peer: {peer}", lang, peer=peer) for peer in c.peers)
    if c.lora is not None:
        lora = ", ".join(v for v in (c.lora.region, c.lora.preset, c.lora.channel) if v)
        lines.append("  " + tr("LoRa: {settings}", lang, settings=lora))
    lines.append("  " + tr("max clock skew: {seconds} s", lang, seconds=c.max_skew))
    missing = [key for key in c.founders if key not in signed.signers]
    if missing:
        lines.append(
            "  "
            + tr(
                "not signed yet by: {keys}",
                lang,
                keys=", ".join(key.hex()[:8] for key in missing),
            )
        )
    return lines


def _charter_json(signed: SignedCharter) -> dict[str, Any]:
    c = signed.charter
    return {
        "zone": c.zone.hex(),
        "name": c.name,
        "area": c.area,
        "fingerprint": c.fingerprint,
        "serial": c.serial,
        "issued": c.issued,
        "founders": [key.hex() for key in c.founders],
        "relays": [key.hex() for key in c.relays],
        "bridges": [key.hex() for key in c.bridges],
        "peers": list(c.peers),
        "max_skew": c.max_skew,
        "signed_by": sorted(key.hex() for key in signed.signers),
        "complete": signed.complete,
        "text": signed.to_text(),
    }


def _write_charter(ctx: Context, path: str, signed: SignedCharter, *, force: bool) -> None:
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(
            tr(
                "{file} exists: choose another name, or add --force to replace it",
                ctx.lang,
                file=shown_path(path),
            )
        )
    try:
        atomic_write(target, signed.to_bytes(), 0o644)
    except OSError as exc:
        raise UsageError(
            tr(
                "cannot write {file}: {reason}",
                ctx.lang,
                file=shown_path(path),
                reason=exc.strerror,
            )
        ) from None


def _next_step(ctx: Context, signed: SignedCharter, path: str) -> None:
    if signed.complete:
        ctx.say(
            tr(
                "Every founder has signed. Each household joins it (this one too), after "
                "comparing the fingerprint: entraide charter join {file}",
                ctx.lang,
                file=shown_path(path),
            )
        )
    else:
        ctx.say(
            tr(
                "Each founder still to sign runs on their node: entraide charter sign {file}",
                ctx.lang,
                file=shown_path(path),
            )
        )


def cmd_charter(ctx: Context, args: argparse.Namespace) -> int:
    action: Callable[[Context, argparse.Namespace], int] = {
        "create": _charter_create,
        "sign": _charter_sign,
        "join": _charter_join,
        "show": _charter_show,
    }[args.action]
    return action(ctx, args)


def _charter_create(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    zone = config.zone.zone_id
    current = load_charter(ctx.home, zone)
    try:
        charter = Charter(
            zone=zone,
            name=args.name or config.zone.name,
            founders=tuple(args.founder) or (identity.public_key,),
            issued=ctx.now,
            area=args.area,
            bridges=tuple(args.bridge),
            relays=tuple(args.relay),
            lora=LoraSettings(
                region=args.lora_region, preset=args.lora_preset, channel=args.lora_channel
            ),
            peers=tuple(args.peer),
            serial=1 if current is None else current.charter.serial + 1,
            max_skew=args.max_skew,
        )
    except InvalidMessage as exc:
        raise UsageError(str(exc)) from None
    # Signed by its author whoever that is: a founder's signature counts, a former founder's
    # approves the replacement of the charter in use.
    signed = SignedCharter(charter, ()).with_signature(identity.signing_key)
    _write_charter(ctx, args.file, signed, force=args.force)
    if ctx.as_json:
        ctx.emit_json(_charter_json(signed) | {"file": args.file})
        return EXIT_OK
    ctx.say("\n".join(charter_lines(signed, ctx.lang)))
    _next_step(ctx, signed, args.file)
    return EXIT_OK


def _charter_sign(ctx: Context, args: argparse.Namespace) -> int:
    identity = ctx.identity()
    signed = read_charter(ctx, args.file, complete=False)
    signed = signed.with_signature(identity.signing_key)
    _write_charter(ctx, args.file, signed, force=True)
    if ctx.as_json:
        ctx.emit_json(_charter_json(signed) | {"file": args.file})
        return EXIT_OK
    ctx.say("\n".join(charter_lines(signed, ctx.lang)))
    ctx.say(
        tr("Signed by this household ({fingerprint}).", ctx.lang, fingerprint=identity.fingerprint)
    )
    _next_step(ctx, signed, args.file)
    return EXIT_OK


def _charter_join(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    signed = read_charter(ctx, args.charter)
    confirm_fingerprint(ctx, signed, args.fingerprint, args.yes)
    outcome = adopt_charter(ctx.home, config.zone.zone_id, signed)
    if ctx.node is None:
        from .cli import _connect_node

        ctx.node = _connect_node(ctx.home)
    if ctx.node:
        ctx.node.call("trust")  # the running node reads it now
    with ctx.open_store() as store:
        roles = ctx.trust(config, store).roles
    mine = roles.roles_of(identity.public_key)
    if ctx.as_json:
        ctx.emit_json(
            _charter_json(signed)
            | {"outcome": outcome, "roles": sorted(r.name.lower() for r in mine)}
        )
        return EXIT_OK
    ctx.say("\n".join(charter_lines(signed, ctx.lang)))
    ctx.say(
        {
            "new": tr("This node now uses the zone's charter.", ctx.lang),
            "same": tr("This node already used this charter.", ctx.lang),
            "replaced": tr("This charter replaces the one this node used.", ctx.lang),
        }[outcome]
    )
    ctx.say(tr("Roles of this household: {roles}", ctx.lang, roles=_roles_text(mine, ctx.lang)))
    return EXIT_OK


def _charter_show(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    signed = load_charter(ctx.home, config.zone.zone_id)
    if signed is None:
        if ctx.as_json:
            ctx.emit_json({"charter": None})
        else:
            ctx.say(
                tr(
                    "This zone has no charter yet: every key is trusted alike. A coordinator "
                    "writes one with `entraide charter create`; households join it with "
                    "`entraide charter join FILE`.",
                    ctx.lang,
                )
            )
        return EXIT_OK
    if args.text:
        ctx.say(signed.to_text())
    elif ctx.as_json:
        ctx.emit_json(_charter_json(signed))
    else:
        ctx.say("\n".join(charter_lines(signed, ctx.lang)))
        ctx.say("")
        ctx.say(
            tr(
                "The charter as text (show it as a QR code, or read it out; a neighbour joins "
                "with entraide charter join TEXT):",
                ctx.lang,
            )
        )
        ctx.say(signed.to_text())
    return EXIT_OK


# --- roles, vouches and revocations ---------------------------------------------------------


def cmd_roles(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    me = ctx.identity().public_key
    with ctx.open_store() as store:
        roles = ctx.trust(config, store).roles
    if ctx.as_json:
        ctx.emit_json(_roles_json(roles, me))
        return EXIT_OK
    if roles.charter is None:
        ctx.say(
            tr(
                "This zone has no charter: nobody holds a role, except the bridges of this "
                "node's settings.",
                ctx.lang,
            )
        )
    for role in (k.Role.COORDINATOR, k.Role.RELAY, k.Role.BRIDGE, k.Role.HOUSEHOLD):
        holders = sorted(roles.holders(role))
        ctx.say(f"== {label(role, ctx.lang)} ({len(holders)})")
        for key in holders:
            grants = [g for g in roles.grants.get(key, ()) if g.role is role]
            origin = ", ".join(
                tr("the charter", ctx.lang) if g.by is None else render.who(g.by) for g in grants
            ) or tr("this node's settings", ctx.lang)
            you = " " + tr("(you)", ctx.lang) if key == me else ""
            ctx.say(f"  {_key_line(key)}{you}  ← {origin}")
    if roles.revocations:
        ctx.say(f"== {tr('revoked', ctx.lang)} ({len(roles.revocations)})")
        for key in roles.revocations:
            ctx.say(f"  {_key_line(key)}")
    ctx.say(
        tr(
            "Roles of this household: {roles}",
            ctx.lang,
            roles=_roles_text(roles.roles_of(me), ctx.lang),
        )
    )
    return EXIT_OK


def _roles_json(roles: Roles, me: bytes) -> dict[str, Any]:
    return {
        "charter": None if roles.charter is None else roles.charter.fingerprint,
        "roles": {
            role.name.lower(): [
                {
                    "key": key.hex(),
                    "granted_by": [
                        None if g.by is None else g.by.hex()
                        for g in roles.grants.get(key, ())
                        if g.role is role
                    ],
                }
                for key in sorted(roles.holders(role))
            ]
            for role in k.Role
        },
        "revoked": sorted(key.hex() for key in roles.revocations),
        "mine": sorted(r.name.lower() for r in roles.roles_of(me)),
    }


def cmd_vouch(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        subject = _resolve_key(ctx, store, config, identity.public_key, args.key)
        body = k.Vouch(subject=subject, role=args.role, name=args.name)
        env = _send(ctx, config, identity, store, body)
    if ctx.as_json:
        ctx.emit_json(
            {"id": env.id.hex(), "subject": subject.hex(), "role": args.role.name.lower()}
        )
        return EXIT_OK
    ctx.say(
        tr(
            "Vouched for key {key} (fingerprint {fingerprint}) as {role}; vouch {id}, valid "
            "{lifetime}.",
            ctx.lang,
            key=subject.hex()[:16],
            fingerprint=fingerprint(subject),
            role=label(args.role, ctx.lang),
            id=env.short_id,
            lifetime=render.duration(env.lifetime, ctx.lang),
        )
    )
    return EXIT_OK


def cmd_revoke(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        subject = _resolve_key(ctx, store, config, identity.public_key, args.key)
        body = k.Revoke(subject=subject, role=args.role, reason=args.reason, text=args.text)
        env = _send(ctx, config, identity, store, body)
    if ctx.as_json:
        ctx.emit_json({"id": env.id.hex(), "subject": subject.hex()})
        return EXIT_OK
    ctx.say(
        tr(
            "Revoked {role} of key {key} (fingerprint {fingerprint}); revocation {id}. It cannot "
            "be undone.",
            ctx.lang,
            role=tr("every role", ctx.lang) if args.role is None else label(args.role, ctx.lang),
            key=subject.hex()[:16],
            fingerprint=fingerprint(subject),
            id=env.short_id,
        )
    )
    return EXIT_OK


# --- verification ---------------------------------------------------------------------------


def _verifiable(ctx: Context, store: Store, text: str, me: bytes) -> Envelope:
    target = _resolve_id(ctx, store, text)
    if target.kind not in VERIFIABLE:
        raise UsageError(
            tr(
                "only a request, an offer, an incident, a resource point or an alert can be "
                'verified; {id} is a message of kind "{kind}"',
                ctx.lang,
                id=target.short_id,
                kind=label(target.kind, ctx.lang),
            )
        )
    if target.author == me:
        raise UsageError(
            tr(
                "{id} is your own message: your word on it would count for nothing",
                ctx.lang,
                id=target.short_id,
            )
        )
    return target


def _say_verification(ctx: Context, config: Config, store: Store, target: Envelope) -> str:
    board = state.derive(
        store.live(ctx.now, zone=config.zone.zone_id),
        now=ctx.now,
        bridge_keys=frozenset(config.zone.bridge_keys),
        trust=ctx.trust(config, store).roles,
    )
    found = render.verification_of(board, target.id)
    return "" if found is None else render.verification_text(found, target, ctx.lang)


def cmd_mark(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        target = _verifiable(ctx, store, args.id, identity.public_key)
        body = k.Mark(verdict=args.verdict, text=args.text)
        lifetime = _outliving(ctx, args.lifetime, k.Kind.MARK, target)
        env = _send(ctx, config, identity, store, body, refs=[target.id], lifetime=lifetime)
        now_shown = _say_verification(ctx, config, store, target)
    if ctx.as_json:
        ctx.emit_json({"id": env.id.hex(), "target": target.id.hex(), "verification": now_shown})
        return EXIT_OK
    ctx.say(
        tr(
            "Marked {id} as {verdict} (mark {mark}). Boards now say: {shown}.",
            ctx.lang,
            id=target.short_id,
            verdict=label(args.verdict, ctx.lang),
            mark=env.short_id,
            shown=now_shown,
        )
    )
    return EXIT_OK


def cmd_corroborate(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        target = _verifiable(ctx, store, args.id, identity.public_key)
        body = k.Corroboration(text=args.text)
        lifetime = _outliving(ctx, args.lifetime, k.Kind.CORROBORATION, target)
        env = _send(ctx, config, identity, store, body, refs=[target.id], lifetime=lifetime)
        now_shown = _say_verification(ctx, config, store, target)
    if ctx.as_json:
        ctx.emit_json({"id": env.id.hex(), "target": target.id.hex(), "verification": now_shown})
        return EXIT_OK
    ctx.say(
        tr(
            "You saw {id} too (corroboration {mark}). Boards now say: {shown}.",
            ctx.lang,
            id=target.short_id,
            mark=env.short_id,
            shown=now_shown,
        )
    )
    return EXIT_OK


# --- the roster -----------------------------------------------------------------------------


def _readable(
    ctx: Context, config: Config, identity: Identity, store: Store
) -> tuple[tuple[RosterItem, ...], tuple[Escalation, ...], int | None]:
    """The roster entries this household can open, who needs a visit now, and since when."""
    messages = store.live(ctx.now, zone=config.zone.zone_id)
    roles = ctx.trust(config, store).roles
    items = read_roster(messages, identity.signing_key, now=ctx.now)
    board = state.derive(
        messages, now=ctx.now, bridge_keys=frozenset(config.zone.bridge_keys), trust=roles
    )
    alert = state.latest_alert(board)
    since = None if alert is None else alert.started
    return items, escalations(items, board, roles, since=since, now=ctx.now), since


def _household_text(item: RosterItem) -> str:
    return item.details.name or render.who(item.envelope.author)


def cmd_roster(ctx: Context, args: argparse.Namespace) -> int:
    action: Callable[[Context, argparse.Namespace], int] = {
        None: _roster_list,
        "list": _roster_list,
        "join": _roster_join,
        "add": _roster_join,
        "visit": _roster_visit,
        "leave": _roster_leave,
    }[args.action]
    return action(ctx, args)


def _roster_list(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        relay = ctx.trust(config, store).roles.has(identity.public_key, k.Role.RELAY)
        items, escalated, since = _readable(ctx, config, identity, store)
    me = identity.public_key
    if ctx.as_json:
        ctx.emit_json(
            {
                "relay": relay,
                "alert_since": since,
                "entries": [
                    {
                        "id": item.envelope.id.hex(),
                        "household": render.household_json(item.household),
                        "needs": item.details.needs,
                        "address": item.details.address,
                        "contact": item.details.contact,
                        "relay": None if item.details.relay is None else item.details.relay.hex(),
                        "check_after": item.details.check_after,
                    }
                    for item in items
                ],
                "escalations": [
                    {
                        "household": render.household_json(e.item.household),
                        "reason": e.reason.value,
                        "level": e.level,
                        "relays": [key.hex() for key in e.relays],
                        "due": e.due,
                        "mine": me in e.relays,
                    }
                    for e in escalated
                ],
            }
        )
        return EXIT_OK
    if not relay:
        ctx.say(
            tr(
                "Only the zone's relays can read the check-on-me roster, and this household is "
                "not one. To be on it yourself: entraide roster join --needs TEXT",
                ctx.lang,
            )
        )
        if not items:
            return EXIT_OK
    ctx.say(f"== {tr('Check-on-me roster', ctx.lang)} ({len(items)})")
    for item in items:
        d = item.details
        assigned = (
            tr("you", ctx.lang)
            if d.relay == me
            else render.who(d.relay)
            if d.relay is not None
            else "—"
        )
        ctx.say(f"  {_household_text(item)}  {d.needs}")
        ctx.say(
            "      "
            + " — ".join(
                part
                for part in (
                    d.address,
                    d.contact,
                    tr("assigned relay: {relay}", ctx.lang, relay=assigned),
                    tr(
                        "escalates after {delay}",
                        ctx.lang,
                        delay=render.duration(d.check_after, ctx.lang),
                    ),
                )
                if part
            )
        )
    if since is None:
        ctx.say(tr("No alert under way: nobody needs a visit.", ctx.lang))
        return EXIT_OK
    ctx.say(
        "== "
        + tr(
            "Needs a visit, since the alert of {time}",
            ctx.lang,
            time=render.when(since, ctx.now, ctx.lang),
        )
        + f" ({len(escalated)})"
    )
    reasons = {
        "silent": tr("not heard from", ctx.lang),
        "needs_help": tr("asked for help", ctx.lang),
        "nobody_home": tr("nobody home at the last visit", ctx.lang),
    }
    for e in escalated:
        who = tr("you", ctx.lang) if e.relays == (me,) else tr("every relay", ctx.lang)
        ctx.say(
            f"  {_household_text(e.item)}: {reasons[e.reason.value]} — "
            + tr(
                "for {who}, since {time}",
                ctx.lang,
                who=who,
                time=render.ago(e.due, ctx.now, ctx.lang),
            )
        )
    return EXIT_OK


def _roster_join(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    me = identity.public_key
    named = args.action == "add"
    ctx.use_network_time()
    with ctx.open_store() as store:
        roles = ctx.trust(config, store).roles
        preferred = (
            _resolve_key(ctx, store, config, me, args.relay)
            if args.relay
            else me
            if named and roles.has(me, k.Role.RELAY)
            else None
        )
        if preferred is not None and not roles.has(preferred, k.Role.RELAY):
            raise UsageError(
                tr("{key} is not a relay of the zone", ctx.lang, key=render.who(preferred))
            )
        household = state.name_household(args.name) if named else me
        relays = recipients(roles.relays, household, preferred=preferred)
        try:
            details = RosterDetails(
                needs=args.needs,
                address=args.address,
                contact=args.contact,
                name=args.name if named else "",
                check_after=args.check_after,
            )
        except InvalidMessage as exc:
            raise UsageError(str(exc)) from None
        body = seal_entry(
            details, relays=relays, author=me, zone=config.zone.zone_id, entropy=os.urandom(32)
        )
        refs = []
        if args.replaces:
            earlier = _resolve_id(ctx, store, args.replaces)
            if earlier.kind is not k.Kind.ROSTER_ENTRY or earlier.author != me:
                raise UsageError(
                    tr("{id} is not one of your roster entries", ctx.lang, id=earlier.short_id)
                )
            refs.append(earlier.id)
        env = _send(ctx, config, identity, store, body, refs=refs, lifetime=args.lifetime)
    if ctx.as_json:
        ctx.emit_json(
            {
                "id": env.id.hex(),
                "relays": [key.hex() for key in relays],
                "assigned": relays[0].hex(),
            }
        )
        return EXIT_OK
    ctx.say(
        tr(
            "On the roster (entry {id}, valid {lifetime}): the details are sealed to {count} "
            "relay(s) of the zone, and only they can read them; the assigned relay is {relay}.",
            ctx.lang,
            id=env.short_id,
            lifetime=render.duration(env.lifetime, ctx.lang),
            count=len(relays),
            relay=render.who(relays[0]),
        )
    )
    if not named:
        ctx.say(
            tr(
                "After an alert, say how you are (entraide post checkin): without news, a "
                "relay comes.",
                ctx.lang,
            )
        )
    return EXIT_OK


def _roster_visit(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    ctx.use_network_time()
    with ctx.open_store() as store:
        items, _, _ = _readable(ctx, config, identity, store)
        wanted = args.household.strip()
        name = state.normalise_name(wanted)
        matches = [
            item
            for item in items
            if (item.details.name and state.normalise_name(item.details.name) == name)
            or (not item.details.name and item.envelope.author.hex().startswith(wanted.lower()))
        ]
        if len(matches) != 1:
            raise NotFound(
                tr(
                    "{count} households of the roster you can read match {text}: give the name "
                    "or the key's first digits as entraide roster shows them",
                    ctx.lang,
                    count=len(matches),
                    text=wanted,
                )
            )
        body = visit(matches[0], args.status, text=args.text)
        env = _send(ctx, config, identity, store, body)
    if ctx.as_json:
        ctx.emit_json(
            {"id": env.id.hex(), "household": render.household_json(matches[0].household)}
        )
        return EXIT_OK
    ctx.say(
        tr(
            "Visit recorded: {household} is {status} (check-in {id}).",
            ctx.lang,
            household=_household_text(matches[0]),
            status=label(args.status, ctx.lang),
            id=env.short_id,
        )
    )
    return EXIT_OK


def _roster_leave(ctx: Context, args: argparse.Namespace) -> int:
    config, identity = ctx.config(), ctx.identity()
    me = identity.public_key
    ctx.use_network_time()
    with ctx.open_store() as store:
        mine = [
            env
            for env in store.live(ctx.now, [k.Kind.ROSTER_ENTRY], zone=config.zone.zone_id)
            if env.author == me
        ]
        for env in mine:
            lifetime = lifetime_to_outlive(env, k.Kind.RETRACTION, now=ctx.now)
            _send(ctx, config, identity, store, k.Retraction(), refs=[env.id], lifetime=lifetime)
    if ctx.as_json:
        ctx.emit_json({"withdrawn": [env.id.hex() for env in mine]})
    elif mine:
        ctx.say(tr("{count} roster entry(ies) withdrawn.", ctx.lang, count=len(mine)))
    else:
        ctx.say(tr("You have no entry in the roster.", ctx.lang))
    return EXIT_OK


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], int]] = {
    "charter": cmd_charter,
    "roles": cmd_roles,
    "vouch": cmd_vouch,
    "revoke": cmd_revoke,
    "mark": cmd_mark,
    "corroborate": cmd_corroborate,
    "roster": cmd_roster,
}
