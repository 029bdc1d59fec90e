"""A neighbourhood in a fixed state, and a scripted node that serves it: the same control
operations as the real node (status, messages, post, subscribe), in memory, on a fixed clock.
Snapshot tests use it so that every id, time and fingerprint is the same on every run."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nacl.signing

from node.client import ControlClient, NodeError, NodeUnavailable
from protocol import kinds as k
from protocol.envelope import Envelope, seal
from protocol.fingerprint import fingerprint
from protocol.jsonview import body_from_json, envelope_to_json

ZONE = bytes.fromhex("3f2a9c01")
#: 2026-11-22 14:00:00 UTC, well inside a minute: relative times never sit on a boundary.
NOW = 1_795_356_000 + 30
MIN = 60


def key(n: int) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(bytes([n]) * 32)


ME = key(1)
BRIDGE = key(2)
NEIGHBOURS = [key(n) for n in range(3, 9)]


def pub(signing_key: nacl.signing.SigningKey) -> bytes:
    return bytes(signing_key.verify_key)


def sign(
    body: k.Body,
    author: nacl.signing.SigningKey,
    ago_min: int,
    refs: tuple[Envelope, ...] = (),
    now: int = NOW,
) -> Envelope:
    return seal(
        body,
        signing_key=author,
        created=now - ago_min * MIN,
        zone=ZONE,
        refs=[r.id for r in refs],
    )


def neighbourhood(now: int = NOW) -> list[Envelope]:
    """Two alerts (official and community), requests in every state, offers, check-ins on
    two streets, an incident, resource points and a drill notice."""

    def at(
        body: k.Body, author: nacl.signing.SigningKey, ago_min: int, refs: tuple[Envelope, ...] = ()
    ) -> Envelope:
        return sign(body, author, ago_min, refs, now)

    a, b, c, d, e, f = NEIGHBOURS
    official = k.Alert(
        headline="Crue de la Seine : évacuation des quais",
        severity=k.Severity.SEVERE,
        urgency=k.Urgency.IMMEDIATE,
        certainty=k.Certainty.LIKELY,
        category=k.Category.MET,
        instruction="Quittez les rez-de-chaussée des quais avant 18 h.",
        area="Quais de Seine",
        origin=k.AlertOrigin.OFFICIAL,
        official=k.OfficialSource(
            source="prefecture",
            sender="pref-75@interieur.gouv.fr",
            identifier="FR-75-2026-0042",
            sent=now - 50 * MIN,
            digest=bytes(32),
        ),
    )
    envs = [
        at(official, BRIDGE, 45),
        at(k.Alert(headline="Coupure d'eau rue des Lilas", severity=k.Severity.MODERATE), a, 30),
    ]
    water = at(
        k.HelpRequest(
            need=k.Need.WATER,
            urgency=k.RequestUrgency.HIGH,
            people=3,
            place="12 rue des Lilas",
            text="Plus d'eau potable",
        ),
        b,
        40,
    )
    meds = at(
        k.HelpRequest(
            need=k.Need.MEDICATION,
            urgency=k.RequestUrgency.CRITICAL,
            vulnerable=True,
            place="rue des Lilas",
            text="Insuline pour Mme Martin",
        ),
        c,
        25,
    )
    charge = at(
        k.HelpRequest(need=k.Need.POWER, place="rue Haute", text="Recharger un fauteuil"), d, 20
    )
    done = at(k.HelpRequest(need=k.Need.FOOD, place="rue Haute"), e, 90)
    envs += [water, meds, charge, done]
    envs += [
        at(k.Claim(eta_minutes=20, text="J'apporte des bouteilles"), f, 10, (water,)),
        at(k.Resolution(text="Merci !"), e, 5, (done,)),
        at(k.Comment(text="La pharmacie de garde est fermée"), a, 15, (meds,)),
        at(k.HelpOffer(what=k.Need.GENERATOR, standing=True, place="Garage rue Haute"), a, 600),
        at(k.HelpOffer(what=k.Need.WATER, capacity=20, text="Réserve de 20 L"), ME, 35),
    ]
    envs += [
        at(k.CheckIn(status=k.CheckInStatus.SAFE, place="rue des Lilas"), a, 20),
        at(k.CheckIn(status=k.CheckInStatus.NEED_HELP, place="rue des Lilas"), b, 38),
        at(k.CheckIn(status=k.CheckInStatus.SAFE, place="rue Haute"), d, 15),
        at(
            k.CheckIn(
                status=k.CheckInStatus.SAFE, subject_name="Mme Martin", place="rue des Lilas"
            ),
            ME,
            12,
        ),
        at(k.CheckIn(status=k.CheckInStatus.SAFE, place="rue Haute"), e, 120),
    ]
    envs += [
        at(
            k.Incident(
                type=k.IncidentType.TREE_DOWN,
                severity=k.Severity.MINOR,
                place="rue Haute",
                text="Arbre en travers de la chaussée",
            ),
            d,
            50,
        ),
        at(
            k.ResourcePoint(
                type=k.ResourceType.WATER_DISTRIBUTION, name="Gymnase Jean-Moulin", hours="8h-20h"
            ),
            a,
            100,
        ),
        at(k.ResourcePoint(type=k.ResourceType.CHARGING, name="Mairie annexe", open=False), b, 300),
        at(k.Tip(title="Exercice d'évacuation samedi", type=k.TipType.DRILL), a, 700),
    ]
    return envs


def status(now: int = NOW, **extra: Any) -> dict[str, Any]:
    return {
        "household": pub(ME).hex(),
        "fingerprint": fingerprint(pub(ME)),
        "zone": {"id": ZONE.hex(), "name": "Rue des Lilas"},
        "now": now,
        "uptime_s": 12.0,
        "wifi": {
            "peer_id": "12D3KooWtest",
            "listen": [],
            "peers": [{"peer": "p1", "address": "a"}] * 3,
            "statistics": {},
        },
        "sync": {"last_done": now - 4 * MIN},
        "radio": None,
        "messages": {"received": {}, "duplicates": 0, "rejected": 0, "published": 0},
        "events": {"subscribers": 1, "published": 0},
    } | extra


class FakeNode:
    """In-memory node state shared by the connections made to it."""

    def __init__(self, envelopes: list[Envelope] | None = None, *, now: int = NOW) -> None:
        self.now = now
        self.envelopes = {e.id: e for e in (neighbourhood(now) if envelopes is None else envelopes)}
        self.status_extra: dict[str, Any] = {}
        self.running = True
        self.posted: list[dict[str, Any]] = []
        self.queues: list[asyncio.Queue[dict[str, Any] | None]] = []

    def connect(self) -> FakeConnection:
        return FakeConnection(self)

    def publish(self, env: Envelope) -> None:
        self.envelopes[env.id] = env
        event = {
            "event": "message",
            "id": env.id.hex(),
            "kind": env.kind.name.lower(),
            "source": "local",
            "peer": None,
            "raw": base64.b64encode(env.raw).decode(),
        }
        for queue in self.queues:
            queue.put_nowait(event)

    def stop(self) -> None:
        self.running = False
        for queue in self.queues:
            queue.put_nowait(None)


class FakeConnection:
    def __init__(self, node: FakeNode) -> None:
        self.node = node
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def connect(self) -> None:
        if not self.node.running:
            raise NodeUnavailable("no node is running")

    async def call(self, op: str, **arguments: Any) -> Any:
        node = self.node
        if not node.running:
            raise NodeUnavailable("not connected to the node")
        if op == "status":
            return status(node.now, **node.status_extra)
        if op == "messages":
            return {
                "now": node.now,
                "raws": [base64.b64encode(e.raw).decode() for e in node.envelopes.values()],
            }
        if op == "subscribe":
            node.queues.append(self.queue)
            return {"subscribed": True}
        if op == "post":
            node.posted.append(arguments)
            try:
                body = body_from_json(arguments["kind"], arguments.get("body") or {})
            except Exception as exc:
                raise NodeError({"code": "usage", "message": str(exc), "text": str(exc)}) from None
            env = seal(
                body,
                signing_key=ME,
                created=node.now,
                zone=ZONE,
                refs=[bytes.fromhex(r) for r in arguments.get("refs") or []],
                lifetime=arguments.get("lifetime"),
            )
            node.publish(env)
            return envelope_to_json(env) | {"raw": base64.b64encode(env.raw).decode()}
        raise NodeError({"code": "usage", "message": f"unknown operation {op!r}"})

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        while (event := await self.queue.get()) is not None:
            yield event

    async def close(self) -> None:
        if self.queue in self.node.queues:
            self.node.queues.remove(self.queue)


# --- real nodes ---------------------------------------------------------------------------


def make_home(root: str | None = None, *, language: str = "en") -> Path:
    """A node home with the scenario's household key (ME) and bridge, under /tmp (Unix
    socket paths are short)."""
    from node.config import Config, ZoneSettings, save_config
    from node.identity import create_identity

    home = Path(tempfile.mkdtemp(prefix="tui", dir=root or "/tmp"))
    home.chmod(0o700)
    zone = ZoneSettings(zone_id=ZONE, name="Rue des Lilas", bridge_keys=[pub(BRIDGE)])
    save_config(home, Config(zone=zone, language=language))
    create_identity(home, seed=bytes(ME))
    return home


class RealNode:
    """``entraide node --offline`` in a subprocess, on a home made by :func:`make_home`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> RealNode:
        log = (self.home / "node.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "node.cli", "--home", str(self.home), "node", "--offline"],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not ControlClient.running(self.home):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.home / "node.log").read_text())
            time.sleep(0.05)
        return self

    def call(self, op: str, **arguments: Any) -> Any:
        with ControlClient(self.home) as client:
            return client.call(op, **arguments)

    def submit(self, envelopes: list[Envelope]) -> None:
        answers = self.call("submit", raws=[base64.b64encode(e.raw).decode() for e in envelopes])
        assert all(a["status"] in ("new", "duplicate") for a in answers), answers

    def envelopes(self) -> list[Envelope]:
        from protocol.envelope import decode

        return [decode(base64.b64decode(r)) for r in self.call("messages")["raws"]]

    def stop(self) -> None:
        stop_pid(self.process.pid if self.process else None)
        if self.process is not None:
            self.process.wait(10)


def stop_pid(pid: int | None) -> None:
    """SIGTERM a node by pid (the one a test started, or the one an app started)."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def node_pid(home: Path) -> int | None:
    """The pid of the node running on ``home`` (it writes it in node.lock)."""
    try:
        return int((home / "node.lock").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_gone(pid: int | None, timeout: float = 10.0) -> None:
    """Wait until process ``pid`` has exited (a node the app started is not our child)."""
    deadline = time.monotonic() + timeout
    while pid is not None and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
