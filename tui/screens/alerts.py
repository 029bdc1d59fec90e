"""Alerts: every active alert, most serious first, with the selected one in full below."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from protocol import kinds as k
from protocol.envelope import Envelope
from protocol.i18n import tr

from ..forms import values_from_body
from ..messages import ComposeRequested
from ..model import Snapshot, verification_of
from ..text import ago, alert_source, one_line, severity_cell, verification_cell
from ..widgets.board_table import BoardTable
from ..widgets.details import message_details
from .base import MainScreen
from .details import MessageScreen


class AlertsScreen(MainScreen):
    SECTION = "alerts"
    CSS_PATH = "alerts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "new_alert", "New alert"),
        Binding("u", "update_alert", "Update mine"),
        Binding("plus", "corroborate", "I saw it too", key_display="+"),
        Binding("x", "mark", "Mark"),
    ]

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="alerts-box") as box:
            box.border_title = tr("Active alerts", self.lang)
            yield BoardTable(
                tr("severity", lang),
                tr("source", lang),
                tr("verification", lang),
                tr("when", lang),
                tr("headline", lang),
                id="alerts-table",
            )
        with VerticalScroll(id="alert-preview-box"):
            yield Static(id="alert-preview")

    def show(self, snapshot: Snapshot) -> None:
        lang, now = self.lang, snapshot.now
        alerts = snapshot.board.alerts
        self.query_one("#alerts-box").border_title = tr("Active alerts ({n})", lang, n=len(alerts))
        table = self.query_one("#alerts-table", BoardTable)
        table.show_rows(
            [
                (
                    v.envelope.id.hex(),
                    (
                        severity_cell(v.alert.severity, lang),
                        alert_source(v, lang),
                        verification_cell(verification_of(v), lang),
                        ago(v.envelope.created, now, lang),
                        one_line(v.alert.headline, 50),
                    ),
                )
                for v in alerts
            ]
        )
        self._preview(table.selected_key)

    def _preview(self, key: str | None) -> None:
        env, snapshot = self.envelope_of(key), self.snapshot
        preview = self.query_one("#alert-preview", Static)
        if env is None or snapshot is None:
            preview.update(Text(tr("No active alert.", self.lang), style="dim"))
            return
        preview.update(message_details(env, snapshot, self.lang))

    @on(DataTable.RowHighlighted, "#alerts-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.row_key.value)

    @on(DataTable.RowSelected, "#alerts-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        env, snapshot = self.envelope_of(event.row_key.value), self.snapshot
        if env is not None and snapshot is not None:
            self.app.push_screen(MessageScreen(env, snapshot, self.lang))

    def selected(self) -> Envelope | None:
        return self.envelope_of(self.query_one("#alerts-table", BoardTable).selected_key)

    def action_new_alert(self) -> None:
        self.post_message(ComposeRequested(k.Kind.ALERT))

    def action_update_alert(self) -> None:
        """A new version of my selected alert, which supersedes it."""
        env = self.envelope_of(self.query_one("#alerts-table", BoardTable).selected_key)
        snapshot = self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return
        if env.author != snapshot.me:
            self.notify(
                tr("Only its author can update this message.", self.lang), severity="warning"
            )
            return
        self.post_message(
            ComposeRequested(k.Kind.ALERT, values=values_from_body(env.body), replaces=(env,))
        )
