"""The entraide terminal app: a client of the household's node.

The app alone talks to the node (through :mod:`tui.link`): it fetches the zone's live
messages once, then follows the node's pushed events, derives a :class:`~tui.model.Snapshot`
after each change and publishes it in its ``snapshot`` reactive, which the screens watch.
Screens ask the app to post a message with :class:`~tui.messages.ComposeRequested` or
:class:`~tui.messages.PostDraft`. When no node runs, the app starts one in the background and
says so.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer

from node.client import NodeError, NodeUnavailable
from protocol import kinds as k
from protocol import state
from protocol.envelope import Envelope
from protocol.i18n import label, normalise_language, tr
from protocol.jsonview import body_to_json

from .forms import Draft
from .link import ConnectionFactory, LinkState, NodeConnection, NodeLauncher, NodeStartFailed
from .messages import ComposeRequested, PostDraft
from .model import (
    MessageSet,
    NodeFacts,
    Snapshot,
    build_snapshot,
    earlier_checkins,
    outliving_lifetime,
)
from .screens.alerts import AlertsScreen
from .screens.compose import ComposeScreen, PickKindScreen
from .screens.help import HelpScreen
from .screens.identity import IdentityScreen
from .screens.neighbours import NeighboursScreen
from .screens.overview import OverviewScreen
from .screens.places import PlacesScreen
from .text import one_line

#: A theme for low vision and bright sunlight: pure black and white, yellow highlights.
HIGH_CONTRAST = Theme(
    name="entraide-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffff00",
    error="#ff4040",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#202020",
    boost="#303030",
    dark=True,
    variables={
        "footer-background": "#000000",
        "footer-foreground": "#ffffff",
        "footer-key-foreground": "#ffff00",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "input-selection-background": "#ffff00 40%",
    },
)
DEFAULT_THEME = "textual-dark"

#: After a change, wait this long for more before deriving the board again (seconds).
REBUILD_DELAY = 0.1
#: Ask the node how it is this often, and let time pass on the board (claims lapse).
REFRESH_INTERVAL = 15.0
#: Wait this long before trying the node again once it is gone.
RETRY_DELAY = 2.0

#: Kinds whose lifetime is made to outlive what they refer to, as the command line does.
_OUTLIVING = frozenset(
    {
        k.Kind.CLAIM,
        k.Kind.RESOLUTION,
        k.Kind.RETRACTION,
        k.Kind.ALERT,
        k.Kind.INCIDENT,
        k.Kind.RESOURCE_POINT,
    }
)


class EntraideApp(App[None]):
    TITLE = "entraide"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "overview": OverviewScreen,
        "alerts": AlertsScreen,
        "help": HelpScreen,
        "neighbours": NeighboursScreen,
        "places": PlacesScreen,
        "identity": IdentityScreen,
    }
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(str(number), f"show('{section}')", "Go to section", show=False)
            for number, section in enumerate(MODES, 1)
        ],
        Binding("s", "safe", "I'm safe"),
        Binding("p", "compose", "Post"),
        # One key, two bindings: each language's name is shown while the other is on.
        Binding("l", "language('fr')", "Français"),
        Binding("l", "language('en')", "English"),
        Binding("ctrl+t", "toggle_contrast", "Contrast"),
        Binding("q", "quit", "Quit"),
        # Textual only hints at ctrl+q (in English) on ctrl+c; a terminal user expects it to quit.
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True, init=False)
    lang: reactive[str] = reactive("en", init=False)
    link_state: reactive[LinkState] = reactive(LinkState.CONNECTING, init=False)

    def __init__(
        self,
        connect: ConnectionFactory,
        *,
        lang: str = "en",
        launcher: NodeLauncher | None = None,
        high_contrast: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``connect`` makes connections to the node; ``launcher`` starts one when none
        answers (None: only wait for one); ``monotonic`` measures time since the node last
        said what time it is (a fixed value in tests)."""
        super().__init__()
        self.set_reactive(EntraideApp.lang, normalise_language(lang))
        self._connect = connect
        self._launcher = launcher
        self._high_contrast = high_contrast
        self._monotonic = monotonic
        self._connection: NodeConnection | None = None
        self.messages = MessageSet()
        self.facts: NodeFacts | None = None
        self._node_now = 0
        self._node_now_at = 0.0
        self._rebuild_timer: Timer | None = None
        #: The node process this app started, if it did (it keeps running after the app).
        self.started_node: subprocess.Popen[bytes] | None = None

    # --- lifecycle --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        self.theme = HIGH_CONTRAST.name if self._high_contrast else DEFAULT_THEME
        self.set_interval(REFRESH_INTERVAL, self._refresh_status)
        self._follow_node()

    def now(self) -> int:
        """The node's time now (the node's clock is the one messages are dated by)."""
        return self._node_now + int(self._monotonic() - self._node_now_at)

    def _set_node_now(self, now: Any) -> None:
        if isinstance(now, int):
            self._node_now, self._node_now_at = now, self._monotonic()

    @work(exclusive=True, group="node-link")
    async def _follow_node(self) -> None:
        """Connect (starting the node if needed), load the board, follow the events;
        reconnect whenever the node goes away."""
        while True:
            connection = self._connect()
            try:
                await connection.connect()
            except NodeUnavailable:
                if await self._start_node():
                    continue
                self.link_state = LinkState.DOWN
                await asyncio.sleep(RETRY_DELAY)
                continue
            try:
                await self._serve(connection)
            except (NodeUnavailable, NodeError):
                pass  # gone, or refused to serve this app: try again shortly
            finally:
                self._connection = None
                await connection.close()
            if self.link_state is LinkState.UP:
                self.notify(tr("Lost the connection to the node; trying again…", self.lang))
            self.link_state = LinkState.DOWN
            await asyncio.sleep(RETRY_DELAY)

    async def _start_node(self) -> bool:
        """Start the node in the background, once; whether it now answers."""
        launcher = self._launcher
        if launcher is None or self.started_node is not None:
            return False
        self.link_state = LinkState.STARTING
        try:
            self.started_node = await launcher.start()
        except NodeStartFailed as exc:
            self._launcher = None  # do not try again: the log says why
            self.notify(
                tr("Could not start the node: {reason}", self.lang, reason=str(exc)),
                severity="error",
                timeout=30,
                markup=False,
            )
            return False
        self.notify(
            tr("Node started in the background (log: {log})", self.lang, log=launcher.log_path),
            timeout=10,
            markup=False,
        )
        return True

    async def _serve(self, connection: NodeConnection) -> None:
        await connection.call("subscribe")
        self._connection = connection
        await self._load(connection)
        self.link_state = LinkState.UP
        async for event in connection.events():
            kind = event.get("event")
            if kind == "message" and isinstance(event.get("raw"), str):
                if self.messages.add(event["raw"]) is not None:
                    self._schedule_rebuild()
            elif kind == "lagged":
                await self._load(connection)
            elif kind in ("peer", "sync"):
                self._refresh_status()

    async def _load(self, connection: NodeConnection) -> None:
        status = await connection.call("status")
        answer = await connection.call("messages")
        self.facts = NodeFacts.from_status(status)
        self._set_node_now(answer.get("now"))
        messages = MessageSet()
        # Decoding thousands of messages takes a while: the screen stays responsive.
        await asyncio.to_thread(messages.reset, answer.get("raws") or [])
        self.messages = messages
        self._rebuild()

    def _schedule_rebuild(self) -> None:
        if self._rebuild_timer is None:
            self._rebuild_timer = self.set_timer(REBUILD_DELAY, self._rebuild)

    @work(exclusive=True, group="rebuild")
    async def _rebuild(self) -> None:
        """Derive a new snapshot, in a thread (a board of 5,000 requests takes ~0.2 s): keys
        keep working meanwhile. A newer rebuild replaces one still running."""
        self._rebuild_timer = None
        if self.facts is None:
            return
        now = self.now()
        self.messages.drop_expired(now)
        messages, facts = self.messages.copy(), self.facts
        self.snapshot = await asyncio.to_thread(build_snapshot, messages, facts, now)

    @work(exclusive=True, group="status")
    async def _refresh_status(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            status = await connection.call("status")
        except (NodeUnavailable, NodeError):
            return
        self.facts = NodeFacts.from_status(status)
        self._set_node_now(status.get("now"))
        self._rebuild()

    # --- posting ----------------------------------------------------------------------

    @on(ComposeRequested)
    def _compose(self, request: ComposeRequested) -> None:
        lang = self.lang
        target = request.target
        refs = (target.id,) if target is not None else tuple(e.id for e in request.replaces)
        about = request.about
        if target is not None and not about:
            about = describe(target, lang)
        elif request.replaces and not about:
            about = tr("New version of {what}", lang, what=describe(request.replaces[0], lang))

        def posted(draft: Draft | None) -> None:
            if draft is not None:
                self.post_message(PostDraft(draft))

        self.push_screen(
            ComposeScreen(
                request.kind,
                lang,
                values=request.values,
                refs=refs,
                about=about,
                find_target=self.find_message,
            ),
            posted,
        )

    def find_message(self, text: str) -> Envelope | str:
        """The message whose id starts with ``text``, or why there is none."""
        prefix = text.strip().lower()
        matches = [e for e in self.messages if e.id.hex().startswith(prefix)] if prefix else []
        if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
            return tr(
                '"{text}" is not a message id: give at least its first 4 hex digits '
                "(0-9, a-f), as shown by `entraide board`",
                self.lang,
                text=text,
            )
        if not matches:
            return tr("no message with id {prefix} on this node", self.lang, prefix=prefix)
        if len(matches) > 1:
            return tr(
                "{count} messages start with {prefix}: give more digits",
                self.lang,
                count=len(matches),
                prefix=prefix,
            )
        return matches[0]

    @on(PostDraft)
    def _post_draft(self, message: PostDraft) -> None:
        self._post(message.draft, message.notice)

    @work(group="post")
    async def _post(self, draft: Draft, notice: str | None) -> None:
        lang = self.lang
        connection = self._connection
        if connection is None:
            self.notify(tr("Not connected to the node: nothing was sent.", lang), severity="error")
            return
        lifetime = draft.lifetime if draft.lifetime is not None else self._lifetime(draft)
        try:
            result = await connection.call(
                "post",
                kind=draft.kind.name.lower(),
                body=body_to_json(draft.body),
                refs=[r.hex() for r in draft.refs],
                lifetime=lifetime,
                lang=lang,
            )
        except NodeError as exc:
            self.notify(exc.text, severity="error", timeout=10, markup=False)
            return
        except NodeUnavailable:
            self.notify(tr("Not connected to the node: nothing was sent.", lang), severity="error")
            return
        if isinstance(result.get("raw"), str) and self.messages.add(result["raw"]) is not None:
            self._rebuild()
        self.notify(
            notice
            or tr(
                "Posted {kind} {id} ({size} bytes).",
                lang,
                kind=label(draft.kind, lang),
                id=str(result.get("id", ""))[:8],
                size=result.get("size", 0),
            )
        )

    def _lifetime(self, draft: Draft) -> int | None:
        """A lifetime that outlives what the message refers to or replaces."""
        now = self.now()
        if draft.kind is k.Kind.CHECKIN and self.facts is not None:
            assert isinstance(draft.body, k.CheckIn)
            household = state.household_key(draft.body, self.facts.household)
            return outliving_lifetime(draft.kind, earlier_checkins(self.messages, household), now)
        if draft.kind in _OUTLIVING:
            targets = [t for r in draft.refs if (t := self.messages.get(r)) is not None]
            return outliving_lifetime(draft.kind, targets, now)
        return None

    # --- actions ----------------------------------------------------------------------

    def action_show(self, section: str) -> None:
        if section in self.MODES and self.current_mode != section:
            self.switch_mode(section)

    def action_safe(self) -> None:
        """The one-key check-in: my household is safe."""
        self.post_message(
            PostDraft(
                Draft(k.CheckIn(status=k.CheckInStatus.SAFE)),
                notice=tr("Your neighbours will see that you are safe.", self.lang),
            )
        )

    def action_compose(self) -> None:
        def picked(kind: k.Kind | None) -> None:
            if kind is not None:
                self.post_message(ComposeRequested(kind))

        self.push_screen(PickKindScreen(self.lang), picked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "language":
            return parameters[0] != self.lang
        return True

    def action_language(self, lang: str) -> None:
        self.lang = normalise_language(lang)
        self.refresh_bindings()

    def action_toggle_contrast(self) -> None:
        self.theme = DEFAULT_THEME if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name


def describe(env: Envelope, lang: str) -> str:
    """A message in a few words, for the line above a form that refers to it."""
    body = env.body
    words = getattr(body, "headline", "") or getattr(body, "name", "") or getattr(body, "text", "")
    what = label(env.kind, lang)
    need = getattr(body, "need", None) or getattr(body, "what", None)
    if isinstance(need, k.Need):
        what += " · " + label(need, lang)
    return one_line(f"{what} {env.short_id}: {words}" if words else f"{what} {env.short_id}", 76)


def run(
    home: Path,
    *,
    lang: str,
    offline: bool = False,
    high_contrast: bool = False,
) -> None:
    """Open the app on the node of ``home`` (starting the node if none runs)."""
    from .link import control_connection

    app = EntraideApp(
        control_connection(home),
        lang=lang,
        launcher=NodeLauncher(home, offline=offline),
        high_contrast=high_contrast,
    )
    app.run()
