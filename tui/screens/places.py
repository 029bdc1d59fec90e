"""Places: incidents reported around the zone and resource points (water, shelter, power)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from protocol import kinds as k
from protocol.envelope import Envelope
from protocol.i18n import label, tr

from ..forms import values_from_body
from ..messages import ComposeRequested
from ..model import Snapshot, verification_of
from ..text import ago, one_line, severity_cell, verification_mark
from ..widgets.board_table import BoardTable
from ..widgets.details import message_summary
from .base import MainScreen
from .details import MessageScreen


class PlacesScreen(MainScreen):
    SECTION = "places"
    CSS_PATH = "places.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "report", "Report incident"),
        Binding("w", "add_point", "Add resource point"),
        Binding("u", "update", "Update mine"),
        Binding("r", "close", "Close mine"),
        Binding("n", "comment", "Comment"),
        Binding("plus", "corroborate", "I saw it too", key_display="+"),
        Binding("x", "mark", "Mark"),
    ]

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="incidents-box") as box:
            box.border_title = tr("Incidents", self.lang)
            yield BoardTable(
                tr("type", lang),
                tr("severity", lang),
                tr("place", lang),
                tr("when", lang),
                tr("details", lang),
                id="incidents",
            )
        with Vertical(id="resources-box") as box:
            box.border_title = tr("Resource points", self.lang)
            yield BoardTable(
                tr("type", lang),
                tr("name", lang),
                tr("state", lang),
                tr("opening hours", lang),
                tr("details", lang),
                id="resources",
            )
        yield Static(id="places-preview")

    def show(self, snapshot: Snapshot) -> None:
        lang, now = self.lang, snapshot.now
        incidents = snapshot.board.incidents
        self.query_one("#incidents", BoardTable).show_rows(
            [
                (
                    v.envelope.id.hex(),
                    (
                        Text(label(v.incident.type, lang)).append_text(
                            verification_mark(verification_of(v))
                        ),
                        severity_cell(v.incident.severity, lang),
                        one_line(v.incident.place, 20),
                        ago(v.envelope.created, now, lang),
                        one_line(v.incident.text, 30)
                        + (f" [{len(v.comments)}]" if v.comments else ""),
                    ),
                )
                for v in incidents
            ]
        )
        self.query_one("#incidents-box").border_title = tr(
            "Incidents ({n})", lang, n=len(incidents)
        )
        resources = snapshot.board.resources
        self.query_one("#resources", BoardTable).show_rows(
            [
                (
                    v.envelope.id.hex(),
                    (
                        Text(label(v.resource.type, lang)).append_text(
                            verification_mark(verification_of(v))
                        ),
                        one_line(v.resource.name, 24),
                        Text(tr("open", lang), style="green")
                        if v.open
                        else Text(tr("closed", lang), style="dim"),
                        one_line(v.resource.hours, 16),
                        one_line(v.resource.text, 30),
                    ),
                )
                for v in resources
            ]
        )
        self.query_one("#resources-box").border_title = tr(
            "Resource points ({n})", lang, n=len(resources)
        )
        self._preview()

    def selected(self) -> Envelope | None:
        table = self.focused if isinstance(self.focused, BoardTable) else None
        if table is None:
            table = self.query_one("#incidents", BoardTable)
        return self.envelope_of(table.selected_key)

    def _preview(self) -> None:
        env, snapshot = self.selected(), self.snapshot
        preview = self.query_one("#places-preview", Static)
        preview.update(
            "" if env is None or snapshot is None else message_summary(env, snapshot, self.lang)
        )

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._preview()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        env, snapshot = self.envelope_of(event.row_key.value), self.snapshot
        if env is not None and snapshot is not None:
            self.app.push_screen(MessageScreen(env, snapshot, self.lang))

    def action_report(self) -> None:
        self.post_message(ComposeRequested(k.Kind.INCIDENT))

    def action_add_point(self) -> None:
        self.post_message(ComposeRequested(k.Kind.RESOURCE_POINT))

    def _mine(self) -> Envelope | None:
        env, snapshot = self.selected(), self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return None
        if env.author != snapshot.me:
            self.notify(
                tr("Only its author can update this message.", self.lang), severity="warning"
            )
            return None
        return env

    def action_update(self) -> None:
        env = self._mine()
        if env is not None:
            self.post_message(
                ComposeRequested(env.kind, values=values_from_body(env.body), replaces=(env,))
            )

    def action_close(self) -> None:
        env = self._mine()
        if env is None:
            return
        if env.kind is k.Kind.RESOURCE_POINT:  # a point is closed by a new version
            values = values_from_body(env.body) | {"open": False}
            self.post_message(ComposeRequested(env.kind, values=values, replaces=(env,)))
        else:
            self.post_message(ComposeRequested(k.Kind.RESOLUTION, target=env))

    def action_comment(self) -> None:
        env = self.selected()
        if env is None:
            self.nothing_selected()
            return
        self.post_message(ComposeRequested(k.Kind.COMMENT, target=env))
