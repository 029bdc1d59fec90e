"""Neighbours: check-ins rolled up by street, who has not been heard from since the latest
alert, and the households I check on (the relay roster when the node has one)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from protocol import kinds as k
from protocol.i18n import tr
from protocol.state import HouseholdKey

from ..messages import ComposeRequested
from ..model import Snapshot, checked_on, rollup_by_place, subject_name
from ..text import NONE, ago, checkin_cell, clock, household, who
from ..widgets.board_table import BoardTable
from .base import MainScreen
from .details import MessageScreen


def household_row_key(key: HouseholdKey) -> str:
    return key.hex() if isinstance(key, bytes) else "name:" + key[1]


def parse_row_key(text: str) -> HouseholdKey:
    return ("name", text[5:]) if text.startswith("name:") else bytes.fromhex(text)


class NeighboursScreen(MainScreen):
    SECTION = "neighbours"
    CSS_PATH = "neighbours.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "visited", "I visited them"),
        Binding("k", "check_in", "My news"),
    ]

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        yield Static(id="since")
        with TabbedContent(id="neighbour-tabs"):
            with TabPane(tr("Not heard from", lang), id="not-heard-tab"):
                yield BoardTable(
                    tr("household", lang), tr("latest news", lang), tr("when", lang), id="not-heard"
                )
            with TabPane(tr("By street", lang), id="streets-tab"):
                yield BoardTable(
                    tr("place", lang),
                    tr("safe", lang),
                    tr("need help", lang),
                    tr("other", lang),
                    tr("households", lang),
                    id="streets",
                )
            with TabPane(tr("I check on", lang), id="watched-tab"):
                yield BoardTable(
                    tr("household", lang), tr("latest news", lang), tr("when", lang), id="watched"
                )
            with TabPane(tr("Check-ins", lang), id="checkins-tab"):
                yield BoardTable(
                    tr("household", lang),
                    tr("status", lang),
                    tr("place", lang),
                    tr("reported by", lang),
                    tr("when", lang),
                    id="checkins",
                )

    def show(self, snapshot: Snapshot) -> None:
        lang, now, me, board = self.lang, snapshot.now, snapshot.me, snapshot.board
        since = snapshot.overview.since
        self.query_one("#since", Static).update(
            Text(tr("No real alert is active: everyone's latest news is below.", lang), style="dim")
            if since is None
            else Text(
                tr("Since the alert of {time}:", lang, time=clock(since))
                + " "
                + tr("{n} households not heard from", lang, n=len(snapshot.not_heard)),
                style="bold",
            )
        )
        tabs = self.query_one("#neighbour-tabs", TabbedContent)

        not_heard = [
            (
                household_row_key(item.household),
                (
                    household(board, item.household, me, lang),
                    NONE if item.latest is None else checkin_cell(item.latest.status, lang),
                    NONE if item.latest is None else ago(item.latest.envelope.created, now, lang),
                ),
            )
            for item in snapshot.not_heard
        ]
        self.query_one("#not-heard", BoardTable).show_rows(not_heard)
        tabs.get_tab("not-heard-tab").label = tr(
            "Not heard from ({n})", lang, n=len(snapshot.not_heard)
        )

        self.query_one("#streets", BoardTable).show_rows(
            [
                (
                    f"place:{i}",
                    (
                        r.place or Text(tr("(no place given)", lang), style="dim"),
                        Text(str(r.safe), style="green" if r.safe else ""),
                        Text(str(r.need_help), style="bold red" if r.need_help else ""),
                        str(r.other),
                        str(r.total),
                    ),
                )
                for i, r in enumerate(rollup_by_place(board))
            ]
        )

        watched = checked_on(board, me, snapshot.facts.roster)
        self.query_one("#watched", BoardTable).show_rows(
            [
                (
                    household_row_key(w.household),
                    (
                        w.name or household(board, w.household, me, lang),
                        NONE if w.latest is None else checkin_cell(w.latest.status, lang),
                        NONE if w.latest is None else ago(w.latest.envelope.created, now, lang),
                    ),
                )
                for w in watched
            ]
        )
        tabs.get_tab("watched-tab").label = tr("I check on ({n})", lang, n=len(watched))

        self.query_one("#checkins", BoardTable).show_rows(
            [
                (
                    v.envelope.id.hex(),
                    (
                        household(board, v.household, me, lang),
                        checkin_cell(v.status, lang),
                        v.checkin.place,
                        who(v.reporter) if v.on_behalf else "",
                        ago(v.envelope.created, now, lang),
                    ),
                )
                for v in board.checkins
            ]
        )
        tabs.get_tab("checkins-tab").label = tr("Check-ins ({n})", lang, n=len(board.checkins))

    @on(DataTable.RowSelected, "#checkins")
    def _checkin_selected(self, event: DataTable.RowSelected) -> None:
        env, snapshot = self.envelope_of(event.row_key.value), self.snapshot
        if env is not None and snapshot is not None:
            self.app.push_screen(MessageScreen(env, snapshot, self.lang))

    def _selected_household(self) -> HouseholdKey | None:
        table = self.focused if isinstance(self.focused, BoardTable) else None
        if table is None or table.id not in ("not-heard", "watched"):
            return None
        key = table.selected_key
        return None if key is None else parse_row_key(key)

    def action_visited(self) -> None:
        """Report on a household I visited (selected in "not heard from" or "I check on")."""
        snapshot = self.snapshot
        chosen = self._selected_household()
        values: dict[str, object] = {}
        if chosen is not None and snapshot is not None and chosen != snapshot.me:
            if isinstance(chosen, bytes):
                values["subject_key"] = chosen.hex()
            else:
                values["subject_name"] = subject_name(snapshot.board, chosen)
        about = "" if not values else tr("Your visit to {who}", self.lang, who=_who(values))
        self.post_message(ComposeRequested(k.Kind.CHECKIN, values=values, about=about))

    def action_check_in(self) -> None:
        self.post_message(ComposeRequested(k.Kind.CHECKIN))


def _who(values: dict[str, object]) -> str:
    name = values.get("subject_name")
    if isinstance(name, str):
        return name
    key = values.get("subject_key")
    return str(key)[:8]
