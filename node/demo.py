"""``entraide demo``: a small simulated neighbourhood on this computer, in one command.

Everything runs on loopback, in a new folder (removed at the end unless ``--keep``)::

    demo (this process, one trio loop)
     ├─ radio emulator         4 emulated Meshtastic radios in one airspace (radio.emulator):
     │                         the two gateways' radios, a weak link between them, and the
     │                         two volunteers' handsets, each near one gateway
     ├─ feed server            the SEVESO exercise as CAP on http://127.0.0.1 (node.demo_feed)
     ├─ 8 household nodes      `entraide node` processes in two Wi-Fi islands, A "Rue des
     │                         Lilas" and B "Quartier de la Gare"; one gateway per island has
     │                         a radio: LoRa is the only link between the islands
     ├─ bridge process         the town hall's bridge on island A, reading the local feed
     ├─ 2 handsets             the meshtastic library's own client on the handsets' radios
     ├─ scenario               neighbours post through their nodes' control sockets, the
     │                         volunteers type on their handsets, the feed publishes the
     │                         exercise's Alert, Update and AllClear
     └─ observer               reads every node's messages: what crossed LoRa, who got what

Then the terminal app opens on a household of island B (the main thread runs the app, the
trio loop runs in a helper thread), or with ``--headless`` the demo runs for ``--duration``
seconds and prints a summary (text, or JSON with ``--json``). Quitting the app, Ctrl-C,
SIGTERM or SIGHUP stop everything: each child process (in its own process group) gets
SIGTERM, then SIGKILL after a grace period; the handsets are closed, the emulator and the
feed server stopped with the trio loop. Children also stop by themselves if this process dies
(``node.demo_child``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import trio

from protocol import kinds as k
from protocol.envelope import Envelope, decode
from protocol.errors import EntraideError, LocalError, UsageError
from protocol.i18n import label, tr

from .client import CONTROL_SOCKET, ControlClient, NodeError, NodeUnavailable, unb64
from .config import Config, ZoneSettings, new_zone_id, save_config
from .demo_child import PARENT_ENV
from .identity import create_identity

log = logging.getLogger("entraide.demo")

#: The emulated world runs this many times faster than real time (airtime, relays, limits).
TIME_SCALE = 10.0
#: Scenario length (seconds) when the app is open; ``--headless`` runs for ``--duration``.
APP_SCENARIO_S = 180.0
HEADLESS_DURATION_S = 60.0
START_TIMEOUT_S = 90.0
WIFI_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
OBSERVE_INTERVAL_S = 2.0
FEED_POLL_S = 3.0
HANDSET_TIMEOUT_S = 20
MAX_SOCKET_PATH = 107
#: In the environment of every process of one run (to find leftovers: /proc/*/environ).
RUN_ENV = "ENTRAIDE_DEMO_RUN"
LISTEN = "/ip4/127.0.0.1/tcp/0"


class DemoFailed(LocalError):
    """A part of the demo did not start; the message says which, with the end of its log."""

    code = "demo-failed"


# ---------------------------------------------------------------- the neighbourhood


@dataclass(frozen=True)
class Member:
    key: str  # its folder's name
    name: str
    island: str  # "A" or "B"
    radio: str | None = None  # the emulated radio of a gateway


ISLANDS = {"A": "Rue des Lilas", "B": "Quartier de la Gare"}
HOUSEHOLDS = (
    Member("a1", "Lilas 1", "A", "Passerelle Lilas"),
    Member("a2", "Lilas 2", "A"),
    Member("a3", "Lilas 3", "A"),
    Member("a4", "Lilas 4", "A"),
    Member("b1", "Gare 1", "B", "Passerelle Gare"),
    Member("b2", "Gare 2", "B"),
    Member("b3", "Gare 3", "B"),
    Member("b4", "Gare 4", "B"),
)
BRIDGE = Member("mairie", "Mairie", "A")
#: The household the app opens on: no radio, on the island the bridge is not on.
APP_HOUSEHOLD = "b2"
#: Volunteers' handsets: (radio name, the island they are near).
HANDSETS = (("Karim", "A"), ("Léa", "B"))

TOPOLOGY = """\
# Who hears whom in the demo (see `entraide radio-emulator --help`): the two gateways hear each
# other weakly (the islands' only link); each volunteer is near one gateway and hears the
# other one, and the other volunteer, faintly.
[[radio]]
name = "Passerelle Lilas"
[[radio]]
name = "Passerelle Gare"
[[radio]]
name = "Karim"
[[radio]]
name = "Léa"

[[link]]
a = "Passerelle Lilas"
b = "Passerelle Gare"
snr = -7.5
rssi = -118
[[link]]
a = "Karim"
b = "Passerelle Lilas"
snr = 6.0
rssi = -85
[[link]]
a = "Karim"
b = "Passerelle Gare"
snr = -9.0
rssi = -120
[[link]]
a = "Léa"
b = "Passerelle Gare"
snr = 4.5
rssi = -92
[[link]]
a = "Léa"
b = "Passerelle Lilas"
snr = -10.0
rssi = -121
[[link]]
a = "Karim"
b = "Léa"
snr = -12.0
rssi = -124
"""


def _island_name(member: Member) -> str:
    return ISLANDS[member.island]


# ---------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Post:
    """A neighbour posts through their node (``at``: a fraction of the scenario)."""

    at: float
    who: str
    kind: str
    body: dict[str, Any]
    label: str = ""
    refs: tuple[str, ...] = ()  # labels of earlier posts


@dataclass(frozen=True)
class Typed:
    """A volunteer sends a text from a handset: to the channel, or to the radio named ``to``
    (a direct message); ``{label}`` is the short id of that earlier post, once the node of
    the radio it goes to holds it."""

    at: float
    handset: str
    text: str
    to: str = ""
    needs: str = ""


@dataclass(frozen=True)
class Publish:
    """The prefecture publishes the exercise's next CAP document."""

    at: float


Action = Post | Typed | Publish


def scenario(lang: str) -> list[Action]:
    """What happens, in order, in ``lang`` (texts neighbours and volunteers type)."""

    def t(msgid: str) -> str:
        return tr(msgid, lang)

    fr = lang == "fr"
    return [
        Post(0.02, "a2", "checkin", {"status": "safe", "people": 2}),
        Post(0.05, "b3", "checkin", {"status": "safe", "people": 4}),
        Publish(0.08),
        Post(
            0.12,
            "b2",
            "help_request",
            {
                "need": "water",
                "urgency": "high",
                "people": 3,
                "text": t("No more water from the tap since this morning"),
            },
            label="water",
        ),
        Post(
            0.16,
            "a3",
            "help_offer",
            {"what": "water", "capacity": 20, "text": t("Water cans in my garage, bring a bag")},
        ),
        Typed(0.20, "Karim", "OK"),
        Post(
            0.25,
            "b4",
            "help_request",
            {
                "need": "medical",
                "urgency": "critical",
                "people": 1,
                "vulnerable": True,
                "text": t("Elderly neighbour fell down the stairs"),
            },
            label="fall",
        ),
        Post(
            0.30,
            "a4",
            "claim",
            {"eta_minutes": 20, "text": t("Bringing two water cans")},
            refs=("water",),
        ),
        Typed(0.35, "Léa", "SOS eau 2" if fr else "SOS water 2"),
        Publish(0.42),
        Typed(
            0.48,
            "Karim",
            "PRIS {fall} 15" if fr else "TAKE {fall} 15",
            to="Passerelle Lilas",  # answering the gateway next to him
            needs="fall",
        ),
        Post(
            0.52,
            "a1",
            "incident",
            {
                "type": "tree_down",
                "place": "rue des Lilas",
                "text": t("A tree blocks the road"),
            },
        ),
        Post(
            0.58,
            "b1",
            "resource_point",
            {
                "type": "water_distribution",
                "name": t("Station gym"),
                "hours": "8h-20h",
                "text": t("Bottled water, 6 litres per household"),
            },
        ),
        Post(
            0.64,
            "a2",
            "checkin",
            {"status": "safe", "subject_name": "Mme Martin, 12 rue des Lilas"},
        ),
        Post(0.70, "b3", "checkin", {"status": "sheltering", "people": 4}),
        Post(
            0.76,
            "a4",
            "resolution",
            {"outcome": "done", "text": t("Two water cans delivered")},
            refs=("water",),
        ),
        Publish(0.82),
        Post(0.88, "b2", "checkin", {"status": "safe", "people": 3}),
    ]


# ---------------------------------------------------------------- processes


@dataclass
class Child:
    """One process of the demo, in its own process group (its session)."""

    name: str
    home: Path
    argv: list[str]
    process: trio.Process | None = None
    address: str = ""  # its loopback multiaddr with /p2p/, once it answers

    @property
    def log_path(self) -> Path:
        return self.home / "node.log"

    async def start(self, env: dict[str, str], cwd: Path) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = await trio.lowlevel.open_process(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: signals from the terminal skip it
                env=env,
                cwd=cwd,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a reused id of another user's group
            return False
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def call(self, op: str, **arguments: Any) -> Any:
        with ControlClient(self.home, timeout=15) as client:
            return client.call(op, **arguments)


# ---------------------------------------------------------------- options and observations


@dataclass(frozen=True)
class DemoOptions:
    headless: bool = False
    #: Headless: how long to run once everything is up. With the app: the scenario's length.
    duration: float | None = None
    root: Path | None = None
    lang: str = "fr"
    keep: bool = False
    as_json: bool = False
    time_scale: float = TIME_SCALE

    @property
    def scenario_s(self) -> float:
        if self.duration is not None:
            return self.duration
        return HEADLESS_DURATION_S if self.headless else APP_SCENARIO_S


@dataclass
class Observations:
    """What the observer saw: which node holds which message since when (seconds since the
    scenario started), and the messages themselves."""

    held: dict[str, dict[bytes, float]] = field(default_factory=dict)
    envelopes: dict[bytes, Envelope] = field(default_factory=dict)

    def add(self, who: str, envs: list[Envelope], at: float) -> None:
        mine = self.held.setdefault(who, {})
        for env in envs:
            self.envelopes.setdefault(env.id, env)
            mine.setdefault(env.id, at)

    def holds(self, who: str, message_id: bytes) -> bool:
        return message_id in self.held.get(who, {})


# ---------------------------------------------------------------- the demo


class Demo:
    """The whole neighbourhood: :meth:`prepare` it, :meth:`serve` it in a trio loop, and
    :meth:`request_stop` it from that loop."""

    def __init__(self, root: Path, options: DemoOptions, progress: TextIO) -> None:
        self.root = root
        self.options = options
        self.lang = options.lang
        self.progress = progress
        self.run_id = uuid.uuid4().hex
        self.zone_id = new_zone_id()
        self.zone_name = tr("Rue des Lilas and the station (demo)", self.lang)
        self.keys: dict[str, bytes] = {}
        self.children: dict[str, Child] = {}
        self.handsets: dict[str, Any] = {}  # name -> radio.handset.Handset
        self.handset_nums: dict[str, int] = {}
        #: When (seconds into the scenario) each CAP document was published.
        self.published_at: dict[str, float] = {}
        self.observations = Observations()
        self.script: list[dict[str, Any]] = []
        self.posted: dict[str, bytes] = {}  # scenario label -> message id
        self.emulator: Any = None
        self.feed: Any = None
        self.t0 = 0.0
        self.started_at = time.monotonic()
        self.ready_after_s = 0.0
        self.summary: dict[str, Any] = {}
        self._started = False
        self._stop = trio.Event()
        self._done = trio.Event()
        self.ready = trio.Event()
        self.scope = trio.CancelScope()
        self.trio_token: trio.lowlevel.TrioToken | None = None

    # -------------------------------------------------------------- helpers

    def say(self, text: str) -> None:
        """A progress line (on the standard error)."""
        print(text, file=self.progress, flush=True)

    def elapsed(self) -> float:
        return trio.current_time() - self.t0

    def member(self, key: str) -> Member:
        return BRIDGE if key == BRIDGE.key else next(m for m in HOUSEHOLDS if m.key == key)

    def home(self, key: str) -> Path:
        return self.root / key

    def request_stop(self) -> None:
        """Stop the demo: at once while it starts, else after a last look at every node."""
        if self._started:
            self._stop.set()
        else:
            self.scope.cancel()

    # -------------------------------------------------------------- set-up (synchronous)

    def prepare(self) -> None:
        """Identities and configurations of every node, and the radios' topology."""
        for member in (BRIDGE, *HOUSEHOLDS):
            self.keys[member.key] = create_identity(self.home(member.key)).public_key
        zone = ZoneSettings(
            zone_id=self.zone_id, name=self.zone_name, bridge_keys=[self.keys[BRIDGE.key]]
        )
        for member in (BRIDGE, *HOUSEHOLDS):
            save_config(self.home(member.key), Config(zone=zone, language=self.lang))
        (self.root / "radios.toml").write_text(TOPOLOGY, encoding="utf-8")

    # -------------------------------------------------------------- running

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Start everything, call ``on_ready``, run the scenario until :meth:`request_stop`,
        then stop everything; :attr:`summary` holds what happened. Returns once every
        process is stopped; :class:`DemoFailed` if a part did not start."""
        from radio.emulator import EmulatorOptions

        from .demo_feed import FeedServer

        self.trio_token = trio.lowlevel.current_trio_token()
        try:
            with self.scope:
                options = EmulatorOptions(
                    topology=str(self.root / "radios.toml"), time_scale=self.options.time_scale
                )
                async with trio.open_nursery() as infra:
                    self.emulator = await infra.start(options.build().serve)
                    self.feed = await infra.start(FeedServer().serve)
                    self.say(
                        tr(
                            "radio emulator: {radios} (LoRa time ×{scale}); official feed: {url}",
                            self.lang,
                            radios=", ".join(e.long_name for e in self.emulator.endpoints()),
                            scale=f"{self.options.time_scale:g}",
                            url=self.feed.url,
                        )
                    )
                    try:
                        await self._run_neighbourhood(on_ready)
                    finally:
                        with trio.CancelScope(shield=True):
                            await self._close_handsets()
                            await self._stop_children()
                    infra.cancel_scope.cancel()
        finally:
            self._done.set()

    async def _run_neighbourhood(self, on_ready: Callable[[], None] | None) -> None:
        async with trio.open_nursery() as actors:
            await self._start_children()
            await self._connect_handsets()
            await self._wait_for_wifi()
            self.ready_after_s = time.monotonic() - self.started_at
            self.t0 = trio.current_time()
            self._started = True
            self.ready.set()
            actors.start_soon(self._observe_forever)
            actors.start_soon(self._play)
            if on_ready is not None:
                on_ready()
            await self._stop.wait()
            with contextlib.suppress(EntraideError, OSError):
                await self._observe_once()
            self.summary = self.build_summary()
            actors.cancel_scope.cancel()

    async def wait_stop_requested(self) -> None:
        await self._stop.wait()

    # -------------------------------------------------------------- children

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "PYTHONUNBUFFERED": "1",
            PARENT_ENV: str(os.getpid()),
            RUN_ENV: self.run_id,
        }

    def _node_child(self, member: Member, peers: list[str]) -> Child:
        home = self.home(member.key)
        argv = [sys.executable, "-m", "node.demo_child", "node", "--home", str(home), "node"]
        argv += ["--listen", LISTEN, "--no-mdns"]
        for peer in peers:
            argv += ["--peer", peer]
        if member.radio is not None:
            endpoint = next(e for e in self.emulator.endpoints() if e.long_name == member.radio)
            argv += ["--radio", f"tcp:{endpoint.host}:{endpoint.port}"]
            argv += ["--handset-lang", self.lang]
        return Child(member.name, home, argv)

    def _bridge_child(self, peers: list[str]) -> Child:
        home = self.home(BRIDGE.key)
        argv = [sys.executable, "-m", "node.demo_child", "bridge", "--home", str(home)]
        argv += ["--feed", self.feed.url, "--poll", f"{FEED_POLL_S:g}", "--listen", LISTEN]
        for peer in peers:
            argv += ["--peer", peer]
        return Child(BRIDGE.name, home, argv)

    async def _start_wave(self, children: dict[str, Child]) -> None:
        package_root = Path(__file__).resolve().parents[1]
        env = self._env()
        for key, child in children.items():
            self.children[key] = child
            await child.start(env, package_root)
        async with trio.open_nursery() as nursery:
            for child in children.values():
                nursery.start_soon(self._wait_ready, child)

    async def _wait_ready(self, child: Child) -> None:
        with trio.move_on_after(START_TIMEOUT_S):
            while True:
                if not child.running():
                    raise DemoFailed(
                        tr(
                            "{name} stopped while starting:\n{log}",
                            self.lang,
                            name=child.name,
                            log=child.log_tail(),
                        )
                    )
                try:
                    status = await trio.to_thread.run_sync(child.call, "status")
                except (NodeUnavailable, NodeError, OSError):
                    await trio.sleep(0.2)
                    continue
                wifi = status.get("wifi") or {}
                child.address = next(
                    (a for a in wifi.get("listen", []) if a.startswith("/ip4/127.0.0.1/")), ""
                )
                return
        raise DemoFailed(
            tr(
                "{name} did not answer within {seconds} s:\n{log}",
                self.lang,
                name=child.name,
                seconds=f"{START_TIMEOUT_S:.0f}",
                log=child.log_tail(),
            )
        )

    async def _start_children(self) -> None:
        gateways = [m for m in HOUSEHOLDS if m.radio is not None]
        self.say(
            tr(
                "starting {count} households in two Wi-Fi islands ({a} and {b})…",
                self.lang,
                count=len(HOUSEHOLDS),
                a=ISLANDS["A"],
                b=ISLANDS["B"],
            )
        )
        await self._start_wave({m.key: self._node_child(m, []) for m in gateways})
        gateway_of = {m.island: self.children[m.key].address for m in gateways}
        others = {
            m.key: self._node_child(m, [gateway_of[m.island]])
            for m in HOUSEHOLDS
            if m.radio is None
        }
        self.say(tr("town-hall bridge…", self.lang))
        others[BRIDGE.key] = self._bridge_child([gateway_of[BRIDGE.island]])
        await self._start_wave(others)

    async def _stop_children(self) -> None:
        """SIGTERM to every group, SIGKILL to those still there after the grace period."""
        children = [c for c in self.children.values() if c.process is not None]
        if not children:
            return
        self.say(tr("stopping {count} processes…", self.lang, count=len(children)))
        for child in children:
            if child.running():
                child.signal_group(signal.SIGTERM)
        with trio.move_on_after(STOP_GRACE_S):
            for child in children:
                assert child.process is not None
                await child.process.wait()
        for child in children:
            if child.running():
                log.warning("%s ignored SIGTERM: killing it", child.name)
            child.signal_group(signal.SIGKILL)  # and whatever it left in its group
        with trio.move_on_after(STOP_GRACE_S):
            for child in children:
                assert child.process is not None
                await child.process.wait()

    # -------------------------------------------------------------- handsets

    async def _connect_handsets(self) -> None:
        from radio.handset import Handset

        endpoints = {e.long_name: e for e in self.emulator.endpoints()}
        self.say(tr("handsets: {names}…", self.lang, names=", ".join(name for name, _ in HANDSETS)))
        for name, _ in HANDSETS:
            endpoint = endpoints[name]
            self.handset_nums[name] = endpoint.node_num
            try:
                self.handsets[name] = await trio.to_thread.run_sync(
                    lambda e=endpoint, n=name: Handset(n, e.host, e.port, timeout=HANDSET_TIMEOUT_S)
                )
            except (Exception, SystemExit) as exc:  # the library's own, even sys.exit()
                raise DemoFailed(
                    tr("handset {name} did not connect: {error}", self.lang, name=name, error=exc)
                ) from None

    async def _close_handsets(self) -> None:
        """Close every handset (what they received stays readable for the summary)."""
        for handset in self.handsets.values():
            with contextlib.suppress(Exception):  # the library may raise anything
                await trio.to_thread.run_sync(handset.close)

    # -------------------------------------------------------------- Wi-Fi

    async def _wait_for_wifi(self) -> None:
        """Until every node has a Wi-Fi peer (bounded: gossip catches up later anyway)."""
        with trio.move_on_after(WIFI_TIMEOUT_S):
            for child in self.children.values():
                while child.running():
                    try:
                        status = await trio.to_thread.run_sync(child.call, "status")
                    except (NodeUnavailable, NodeError, OSError):
                        break  # the summary will tell what it missed
                    if (status.get("wifi") or {}).get("peers"):
                        break
                    await trio.sleep(0.3)

    # -------------------------------------------------------------- the scenario

    async def _play(self) -> None:
        length = self.options.scenario_s
        for action in scenario(self.lang):
            await trio.sleep_until(self.t0 + action.at * length)
            entry: dict[str, Any] = {"at_s": round(self.elapsed(), 1), "ok": True}
            try:
                if isinstance(action, Publish):
                    identifier = self.feed.publish_next()
                    entry |= {"who": BRIDGE.name, "what": "cap", "id": identifier}
                    self.published_at[identifier] = self.elapsed()
                elif isinstance(action, Post):
                    entry |= {"who": self.member(action.who).name, "what": action.kind}
                    entry["id"] = await self._post(action, length)
                else:
                    entry |= {"who": action.handset, "what": "handset", "text": action.text}
                    entry["text"] = await self._type(action, length)
            except (EntraideError, OSError, KeyError, RuntimeError) as exc:
                entry |= {"ok": False, "error": str(exc)}
                log.warning("scenario: %s", entry)
            self.script.append(entry)

    async def _wait_held(self, who: str, message_id: bytes, timeout: float) -> None:
        """Until ``who`` holds the message (a neighbour acts on what they can see)."""
        with trio.move_on_after(timeout):
            while not self.observations.holds(who, message_id):
                await trio.sleep(0.5)
                await self._observe(who)

    async def _post(self, action: Post, length: float) -> str:
        refs = [self.posted[label] for label in action.refs]
        for ref in refs:
            await self._wait_held(action.who, ref, 0.1 * length)
        child = self.children[action.who]
        answer = await trio.to_thread.run_sync(
            lambda: child.call(
                "post", kind=action.kind, body=action.body, refs=[r.hex() for r in refs]
            )
        )
        message_id = bytes.fromhex(answer["id"])
        if action.label:
            self.posted[action.label] = message_id
        return message_id.hex()

    async def _type(self, action: Typed, length: float) -> str:
        handset = self.handsets[action.handset]
        text = action.text
        gateway = next((m for m in HOUSEHOLDS if action.to and m.radio == action.to), None)
        if action.needs:
            target = self.posted[action.needs]
            if gateway is not None:
                await self._wait_held(gateway.key, target, 0.1 * length)
            text = text.format(**{action.needs: target.hex()[:8]})
        to = None
        if gateway is not None:
            to = next(e.node_num for e in self.emulator.endpoints() if e.long_name == action.to)
        await trio.to_thread.run_sync(handset.send_text, text, to)
        return text

    # -------------------------------------------------------------- the observer

    async def _observe(self, key: str) -> None:
        child = self.children.get(key)
        if child is None or not child.running():
            return
        try:
            answer = await trio.to_thread.run_sync(child.call, "messages")
        except (NodeUnavailable, NodeError, OSError):
            return
        envs = []
        for raw in answer.get("raws", []):
            with contextlib.suppress(EntraideError, ValueError):
                envs.append(decode(unb64(raw), verify=False))  # the node verified them
        self.observations.add(key, envs, self.elapsed())

    async def _observe_once(self) -> None:
        for key in list(self.children):
            await self._observe(key)

    async def _observe_forever(self) -> None:
        while True:
            await self._observe_once()
            await trio.sleep(OBSERVE_INTERVAL_S)

    # -------------------------------------------------------------- the summary

    def _author_island(self, env: Envelope) -> str | None:
        for key, public in self.keys.items():
            if public == env.author:
                return self.member(key).island
        return None

    def _official(self, env: Envelope) -> str | None:
        body = env.body
        if (
            isinstance(body, k.Alert)
            and body.official is not None
            and env.author == self.keys[BRIDGE.key]
        ):
            return str(body.official.identifier)
        return None

    def build_summary(self) -> dict[str, Any]:
        obs = self.observations
        households = []
        for member in HOUSEHOLDS:
            held = obs.held.get(member.key, {})
            official = {
                i: at for mid, at in held.items() if (i := self._official(obs.envelopes[mid]))
            }
            delays = [at - self.published_at.get(i, 0.0) for i, at in official.items()]
            households.append(
                {
                    "name": member.name,
                    "home": member.key,
                    "island": member.island,
                    "gateway": member.radio is not None,
                    "messages": len(held),
                    "official_alerts": sorted(official),
                    # after the feed published it (the observer looks every 2 s)
                    "alert_after_s": _round(min(delays, default=None)),
                }
            )
        crossing: dict[str, Counter[str]] = {"a_to_b": Counter(), "b_to_a": Counter()}
        for mid, env in obs.envelopes.items():
            origin = self._author_island(env)
            if origin is None:
                continue
            other = "B" if origin == "A" else "A"
            if any(obs.holds(m.key, mid) for m in HOUSEHOLDS if m.island == other):
                crossing["a_to_b" if origin == "A" else "b_to_a"][env.kind.name.lower()] += 1
        from_handsets = []
        by_num = {num: name for name, num in self.handset_nums.items()}
        for mid, env in obs.envelopes.items():
            via = getattr(env.body, "via", None)
            if via is None or via.node not in by_num:
                continue
            islands = sorted({m.island for m in HOUSEHOLDS if obs.holds(m.key, mid)})
            witness = next(
                (self.member(key).name for key, pk in self.keys.items() if pk == env.author), "?"
            )
            from_handsets.append(
                {
                    "handset": by_num[via.node],
                    "kind": env.kind.name.lower(),
                    "critical": getattr(env.body, "urgency", None) is k.RequestUrgency.CRITICAL,
                    "id": env.id.hex(),
                    "witness": witness,
                    "islands": islands,
                }
            )
        handsets = []
        for name, island in HANDSETS:
            handset = self.handsets.get(name)
            received = [] if handset is None else handset.texts()
            handsets.append(
                {
                    "name": name,
                    "node_id": f"!{self.handset_nums.get(name, 0):08x}",
                    "near": island,
                    "sent": [] if handset is None else list(handset.sent),
                    "received": [
                        {"from": t.sender, "direct": t.direct, "text": t.text} for t in received
                    ],
                }
            )
        radios = []
        if self.emulator is not None:
            for radio in self.emulator.summary()["radios"]:
                radios.append(
                    {
                        "node_id": radio["node_id"],
                        "name": radio["name"],
                        **{
                            name: radio[name]
                            for name in (
                                "tx_frames",
                                "tx_relayed",
                                "rx_frames",
                                "rx_collisions",
                                "rx_missed_transmitting",
                            )
                        },
                    }
                )
        reached = [h["name"] for h in households if h["official_alerts"]]
        checks = {
            "lora_both_ways": bool(crossing["a_to_b"]) and bool(crossing["b_to_a"]),
            "official_alert_everywhere": len(reached) == len(HOUSEHOLDS),
            "handsets_received_text": all(h["received"] for h in handsets),
            "handset_sos_on_both_islands": any(
                m["critical"] and m["islands"] == ["A", "B"] for m in from_handsets
            ),
        }
        return {
            "zone": {"id": self.zone_id.hex(), "name": self.zone_name},
            "islands": ISLANDS,
            "scenario_s": self.options.scenario_s,
            "ready_after_s": round(self.ready_after_s, 1),
            "ran_s": round(self.elapsed(), 1),
            "time_scale": self.options.time_scale,
            "households": households,
            "bridge": {
                "name": BRIDGE.name,
                "key": self.keys[BRIDGE.key].hex(),
                "feed": None if self.feed is None else self.feed.url,
                "published": [] if self.feed is None else self.feed.published,
            },
            "official_alert": {
                "reached": reached,
                "missing": [h["name"] for h in households if not h["official_alerts"]],
            },
            "lora": {
                "a_to_b": {"messages": sum(crossing["a_to_b"].values()), **crossing["a_to_b"]},
                "b_to_a": {"messages": sum(crossing["b_to_a"].values()), **crossing["b_to_a"]},
                "frames_on_air": None
                if self.emulator is None
                else self.emulator.airspace.transmission_count,
                "radios": radios,
            },
            "handsets": handsets,
            "handset_messages": from_handsets,
            "script": self.script,
            "checks": checks,
        }

    def finish_summary(self) -> dict[str, Any]:
        """The summary, with what became of every process (after they were stopped)."""
        summary = dict(self.summary)
        processes = [
            {
                "name": c.name,
                "pid": None if c.process is None else c.process.pid,
                "exit_code": None if c.process is None else c.process.returncode,
            }
            for c in self.children.values()
        ]
        left = [c.name for c in self.children.values() if c.running() or c.group_alive()]
        summary["processes"] = processes
        summary["left_running"] = left
        checks = dict(summary.get("checks", {}))
        checks["nothing_left_running"] = not left
        summary["checks"] = checks
        summary["ok"] = bool(checks) and all(checks.values())
        return summary


# ---------------------------------------------------------------- the text summary


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def render_summary(summary: dict[str, Any], lang: str) -> str:
    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    lines = [
        t(
            "Demo summary: {seconds} s of scenario (everything was up after {ready} s; "
            "LoRa time ×{scale}).",
            seconds=f"{summary.get('ran_s', 0):.0f}",
            ready=f"{summary.get('ready_after_s', 0):.0f}",
            scale=f"{summary.get('time_scale', TIME_SCALE):g}",
        )
    ]
    lora = summary.get("lora", {})
    if lora:
        lines.append(
            t(
                "LoRa: {ab} message(s) from {a} reached {b}, {ba} the other way; {frames} "
                "frames on the air.",
                ab=lora["a_to_b"]["messages"],
                ba=lora["b_to_a"]["messages"],
                a=ISLANDS["A"],
                b=ISLANDS["B"],
                frames=lora["frames_on_air"],
            )
        )
    bridge = summary.get("bridge", {})
    official = summary.get("official_alert", {})
    if bridge:
        lines.append(
            t(
                "Official alert (SEVESO exercise, {published}): reached {count} of {total} "
                "households.",
                published=", ".join(bridge["published"]) or "-",
                count=len(official.get("reached", [])),
                total=len(HOUSEHOLDS),
            )
        )
        if official.get("missing"):
            lines.append("  " + t("not reached: {names}", names=", ".join(official["missing"])))
    for household in summary.get("households", []):
        after = household["alert_after_s"]
        lines.append(
            "  "
            + t(
                "{name} ({island}): {count} message(s), official alert {when}",
                name=household["name"],
                island=ISLANDS[household["island"]],
                count=household["messages"],
                when=t("{seconds} s after it was published", seconds=f"{after:.0f}")
                if after is not None
                else t("not received"),
            )
        )
    for handset in summary.get("handsets", []):
        received = handset["received"]
        lines.append(
            t(
                "Handset {name} ({node_id}): sent {sent}; received {count} text(s).",
                name=handset["name"],
                node_id=handset["node_id"],
                sent=", ".join(f'"{s}"' for s in handset["sent"]) or "-",
                count=len(received),
            )
        )
        lines.extend(f"  « {r['text'].lstrip(chr(7))} »" for r in received[-4:])
    for message in summary.get("handset_messages", []):
        lines.append(
            t(
                "From handset {name}: {kind} {id}, witnessed by {witness}, held in {islands}.",
                name=message["handset"],
                kind=label(k.Kind[message["kind"].upper()], lang),
                id=message["id"][:8],
                witness=message["witness"],
                islands=_islands(message["islands"], lang),
            )
        )
    if "processes" in summary:
        lines.append(
            t(
                "Processes: {count} started, {left} left running.",
                count=len(summary["processes"]),
                left=len(summary["left_running"]),
            )
        )
    texts = _check_texts(lang)
    for name, ok in summary.get("checks", {}).items():
        lines.append(f"  {'✓' if ok else '✗'} {texts.get(name, name)}")
    lines.append(t("Every part worked.") if summary.get("ok") else t("Some parts did not work."))
    return "\n".join(lines)


def _islands(islands: list[str], lang: str) -> str:
    names = [ISLANDS[i] for i in islands]
    if len(names) == 2:
        return tr("{a} and {b}", lang, a=names[0], b=names[1])
    return names[0] if names else "-"


def _check_texts(lang: str) -> dict[str, str]:
    return {
        "lora_both_ways": tr("messages crossed LoRa both ways", lang),
        "official_alert_everywhere": tr("the official alert reached every household", lang),
        "handsets_received_text": tr("every handset received texts", lang),
        "handset_sos_on_both_islands": tr("a handset's SOS reached both islands", lang),
        "nothing_left_running": tr("nothing is left running", lang),
    }


# ---------------------------------------------------------------- entry point


def _make_root(options: DemoOptions) -> tuple[Path, bool]:
    """The demo's folder, and whether this run created it."""
    if options.root is None:
        base = "/tmp" if os.path.isdir("/tmp") else None  # short: Unix socket paths
        return Path(tempfile.mkdtemp(prefix="entraide-demo-", dir=base)), True
    root = options.root.expanduser().absolute()
    longest = root / BRIDGE.key / CONTROL_SOCKET
    if len(os.fsencode(longest)) > MAX_SOCKET_PATH:
        raise UsageError(
            tr(
                "{dir} is too long a path for the nodes' control sockets: choose a shorter one "
                "(such as /tmp/demo)",
                options.lang,
                dir=str(root),
            )
        )
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(
            tr("{dir} is not an empty folder: give a new or empty one", options.lang, dir=str(root))
        )
    created = not root.exists()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root, created


def _remove(root: Path, created: bool) -> None:
    if created:
        shutil.rmtree(root, ignore_errors=True)
    else:
        for entry in list(root.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def run_demo(options: DemoOptions, *, out: TextIO, err: TextIO) -> int:
    """Run the demo (see the module's docstring); the exit code."""
    root, created = _make_root(options)
    handler = logging.FileHandler(root / "demo.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    root_logger = logging.getLogger()
    previous_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    demo = Demo(root, options, err)
    keep = options.keep
    try:
        print(tr("Starting the neighbourhood demo in {dir}", options.lang, dir=str(root)), file=err)
        demo.prepare()
        try:
            interrupted = trio.run(_headless, demo) if options.headless else _with_app(demo)
        except BaseExceptionGroup as group:  # trio's nurseries wrap what failed
            keep = True  # the nodes' logs say why
            raise _first_entraide_error(group) from None
        except EntraideError:
            keep = True
            raise
        summary = demo.finish_summary() | {"dir": str(root), "kept": options.keep}
        summary["interrupted"] = interrupted
        if options.headless or options.as_json:
            if options.as_json:
                out.write(json.dumps(summary, ensure_ascii=False) + "\n")
            else:
                out.write(render_summary(summary, options.lang) + "\n")
            out.flush()
        elif summary["left_running"]:
            print(render_summary(summary, options.lang), file=err)
        else:
            print(tr("Demo stopped: nothing is left running.", options.lang), file=err)
        if interrupted:
            return 130
        return 0 if summary["ok"] or not options.headless else 1
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(previous_level)
        handler.close()
        if keep:
            print(tr("The demo's folder is kept: {dir}", options.lang, dir=str(root)), file=err)
        else:
            _remove(root, created)


def _first_entraide_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first :class:`EntraideError` in a (nested) group, else the group itself."""
    found: BaseException | None = group.split(EntraideError)[0]
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return found if found is not None else group


async def _headless(demo: Demo) -> str | None:
    """Run for the duration (or until a signal); the signal's name if one stopped it."""
    stopped_by: str | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal stopped_by
                async for signum in signals:
                    stopped_by = signal.Signals(signum).name
                    demo.request_stop()

            async def run_for() -> None:
                await demo.ready.wait()
                demo.say(
                    tr(
                        "Ready after {seconds} s; running the scenario for {duration} s…",
                        demo.lang,
                        seconds=f"{demo.ready_after_s:.0f}",
                        duration=f"{demo.options.scenario_s:.0f}",
                    )
                )
                with trio.move_on_after(demo.options.scenario_s):
                    await demo.wait_stop_requested()
                demo.request_stop()

            nursery.start_soon(watch)
            nursery.start_soon(run_for)
            await demo.serve()
            nursery.cancel_scope.cancel()
    return stopped_by


def _with_app(demo: Demo) -> str | None:
    """The trio loop in a helper thread, the app in this (main) thread."""
    from tui.app import EntraideApp
    from tui.link import control_connection

    ready = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            trio.run(demo.serve, ready.set)
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)
        finally:
            ready.set()

    app: EntraideApp | None = None
    stopped_by: str | None = None

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopped_by
        stopped_by = signal.Signals(signum).name
        if app is not None:
            app.exit()
        else:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    thread = threading.Thread(target=target, name="entraide-demo")
    thread.start()
    try:
        while not ready.wait(0.2):
            pass
        if failure:
            raise failure[0]
        member = demo.member(APP_HOUSEHOLD)
        demo.say(
            tr(
                "Ready after {seconds} s. Opening the app on household {name} ({island}), which "
                "has no radio: what comes from {other} crossed LoRa. Quit with q.",
                demo.lang,
                seconds=f"{demo.ready_after_s:.0f}",
                name=member.name,
                island=_island_name(member),
                other=ISLANDS["A"],
            )
        )
        app = EntraideApp(control_connection(demo.home(APP_HOUSEHOLD)), lang=demo.lang)
        app.run()
    finally:
        while thread.is_alive():  # the loop may not have started yet: ask until it has
            token = demo.trio_token
            if token is not None:
                with contextlib.suppress(trio.RunFinishedError):
                    trio.from_thread.run_sync(demo.request_stop, trio_token=token)
                thread.join()
            else:
                thread.join(0.1)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure:
        raise failure[0]
    return stopped_by


def make_options(
    *,
    headless: bool,
    duration: float | None,
    folder: str | None,
    lang: str,
    keep: bool,
    as_json: bool,
) -> DemoOptions:
    return DemoOptions(
        headless=headless,
        duration=duration,
        root=None if folder is None else Path(folder),
        lang=lang,
        keep=keep,
        as_json=as_json,
    )


__all__ = ["Demo", "DemoFailed", "DemoOptions", "make_options", "render_summary", "run_demo"]
