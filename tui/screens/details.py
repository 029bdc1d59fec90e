"""A message in full, with the claims, resolutions and comments that refer to it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from protocol.envelope import Envelope
from protocol.i18n import tr

from ..model import Snapshot
from ..widgets.details import message_details
from ..widgets.keybar import KeyBar


class MessageScreen(ModalScreen[None]):
    CSS_PATH = "details.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, env: Envelope, snapshot: Snapshot, lang: str) -> None:
        super().__init__()
        self.env = env
        self.snapshot = snapshot
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="details-window") as window:
            window.border_title = tr("Message", self.lang)
            with VerticalScroll(id="details-scroll"):
                yield Static(message_details(self.env, self.snapshot, self.lang), id="details")
            yield KeyBar()
