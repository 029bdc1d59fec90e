"""What every main screen shares: the top bar, the alert banner and the key bar around its
own content, and showing each new snapshot while it is the screen in front."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen

from protocol import kinds as k
from protocol.envelope import Envelope
from protocol.i18n import tr

from ..messages import ComposeRequested
from ..model import Snapshot
from ..shared import shared
from ..widgets.keybar import KeyBar
from ..widgets.topbar import AlertBanner, TopBar


class MainScreen(Screen[None]):
    #: The section this screen is (see :data:`tui.widgets.topbar.SECTIONS`).
    SECTION: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._stale = True  # a snapshot came while another screen was in front
        self._recompose = False  # the language changed while another screen was in front
        self._recomposing = False

    @property
    def lang(self) -> str:
        return shared(self).lang

    @property
    def snapshot(self) -> Snapshot | None:
        return shared(self).snapshot

    def compose(self) -> ComposeResult:
        yield TopBar(self.SECTION)
        yield AlertBanner()
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed, init=False)
        self.watch(self.app, "lang", self._lang_changed, init=False)
        self.refresh_view()

    def _snapshot_changed(self, _: object) -> None:
        if self.is_current and not self._recomposing:
            self.refresh_view()
        else:
            self._stale = True

    async def _lang_changed(self, _: object) -> None:
        if self.is_current:
            await self._translate()
        else:
            self._recompose = True

    async def _translate(self) -> None:
        self._recompose = False
        focused = self.focused.id if self.focused is not None else None
        self._recomposing = True  # no snapshot is shown while the widgets are replaced
        try:
            await self.recompose()
        finally:
            self._recomposing = False
        if focused is not None:
            self.query_one(f"#{focused}").focus()
        else:
            self.focus_next()
        self._stale = True
        self.refresh_view()

    async def on_screen_resume(self) -> None:
        if self._recompose:
            await self._translate()
        elif self._stale:
            self.refresh_view()

    def refresh_view(self) -> None:
        snapshot = self.snapshot
        if snapshot is not None:
            self._stale = False
            self.show(snapshot)

    def show(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` (called while this screen is in front)."""

    # --- helpers for the screens' actions --------------------------------------------

    def envelope_of(self, key: str | None) -> Envelope | None:
        """The message of a table row (rows are keyed by message id in hex)."""
        snapshot = self.snapshot
        if key is None or snapshot is None:
            return None
        try:
            return snapshot.messages.get(bytes.fromhex(key))
        except ValueError:
            return None

    def nothing_selected(self) -> None:
        self.notify(tr("Select a line first.", self.lang), severity="warning")

    def selected(self) -> Envelope | None:
        """The message under the cursor (screens with a list of reports say which)."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark":  # only relays' and coordinators' verdicts count
            snapshot = self.snapshot
            return snapshot is not None and snapshot.i_mark
        return True

    def action_corroborate(self) -> None:
        """I saw it too: one more independent neighbour for the selected report."""
        env, snapshot = self.selected(), self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return
        if env.author == snapshot.me:
            self.notify(tr("Only another household can confirm what you reported.", self.lang))
            return
        self.post_message(ComposeRequested(k.Kind.CORROBORATION, target=env))

    def action_mark(self) -> None:
        """A relay's verdict on the selected report: confirmed, or false."""
        env = self.selected()
        if env is None:
            self.nothing_selected()
            return
        self.post_message(ComposeRequested(k.Kind.MARK, target=env))
