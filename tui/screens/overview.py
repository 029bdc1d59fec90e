"""Overview: active alerts, my household, what needs doing around me, the network."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from protocol.i18n import label, tr

from ..model import Snapshot
from ..text import CHECKIN_STYLE, NONE, ago, ago_or_none, alert_source, one_line, severity_cell, who
from ..widgets.board_table import BoardTable
from .base import MainScreen
from .details import MessageScreen


class OverviewScreen(MainScreen):
    SECTION = "overview"
    CSS_PATH = "overview.tcss"

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="overview"):
            with Vertical(id="alerts-box") as box:
                box.border_title = tr("Active alerts", lang)
                yield BoardTable(
                    tr("severity", lang),
                    tr("source", lang),
                    tr("when", lang),
                    tr("headline", lang),
                    id="overview-alerts",
                )
            with Horizontal(id="summary"):
                with Vertical(id="left"):
                    household = Static(id="my-household")
                    household.border_title = tr("My household", lang)
                    yield household
                    counts = Static(id="counts")
                    counts.border_title = tr("Around me", lang)
                    yield counts
                network = Static(id="network")
                network.border_title = tr("Network", lang)
                yield network

    def show(self, snapshot: Snapshot) -> None:
        lang, now = self.lang, snapshot.now
        alerts = snapshot.board.alerts
        box = self.query_one("#alerts-box")
        box.border_title = tr("Active alerts ({n})", lang, n=len(alerts))
        self.query_one("#overview-alerts", BoardTable).show_rows(
            [
                (
                    v.envelope.id.hex(),
                    (
                        severity_cell(v.alert.severity, lang),
                        alert_source(v, lang),
                        ago(v.envelope.created, now, lang),
                        one_line(v.alert.headline, 60),
                    ),
                )
                for v in alerts
            ]
        )
        self.query_one("#my-household", Static).update(household_panel(snapshot, lang))
        self.query_one("#counts", Static).update(counts_panel(snapshot, lang))
        self.query_one("#network", Static).update(network_panel(snapshot, lang))

    @on(DataTable.RowSelected, "#overview-alerts")
    def _alert_chosen(self, event: DataTable.RowSelected) -> None:
        self._read(event.row_key.value)

    def _read(self, key: str | None) -> None:
        env = self.envelope_of(key)
        snapshot = self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return
        self.app.push_screen(MessageScreen(env, snapshot, self.lang))


def _pairs(rows: list[tuple[str, str | Text]], lang: str) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for name, value in rows:
        table.add_row(tr("{label}:", lang, label=name), value)
    return table


def household_panel(snapshot: Snapshot, lang: str) -> Group:
    mine = snapshot.my_checkin
    if mine is None:
        status = Text(tr("No news given yet.", lang), style="bold yellow")
    else:
        status = Text(label(mine.status, lang), style=CHECKIN_STYLE.get(mine.status, "bold"))
        status.append(" — " + ago(mine.envelope.created, snapshot.now, lang), style="")
        if mine.on_behalf:
            status.append(" " + tr("(reported by {who})", lang, who=who(mine.reporter)))
        since = snapshot.overview.since
        if since is not None and mine.envelope.created < since:
            status.append("\n" + tr("Older than the latest alert.", lang), style="yellow")
    hint = Text.from_markup(tr("Press [b]s[/b] to tell your neighbours you are safe.", lang))
    return Group(status, hint)


def counts_panel(snapshot: Snapshot, lang: str) -> Table:
    summary = snapshot.overview
    rows: list[tuple[str, str | Text]] = [
        (tr("Open requests", lang), Text(str(summary.open_requests), style="bold")),
        (tr("Being handled", lang), str(summary.claimed_requests)),
    ]
    if summary.since is None:
        rows.append((tr("Not heard from", lang), Text(tr("no real alert", lang), style="dim")))
    else:
        silent = Text(
            str(summary.not_heard_from), style="bold red" if summary.not_heard_from else ""
        )
        rows.append((tr("Not heard from since the alert", lang), silent))
    return _pairs(rows, lang)


def network_panel(snapshot: Snapshot, lang: str) -> Table:
    facts, now = snapshot.facts, snapshot.now
    peers = str(facts.peers) if facts.peers is not None else NONE
    if not facts.wifi:
        peers = tr("Wi-Fi off", lang)
    airtime = NONE if facts.airtime_used is None else f"{facts.airtime_used:.0%}"
    radio = NONE
    if facts.radio_connected is not None:
        radio = tr("connected", lang) if facts.radio_connected else tr("disconnected", lang)
        if facts.radio_preset:
            radio += f" · {facts.radio_preset}"
    return _pairs(
        [
            (tr("Peers", lang), peers),
            (tr("Radio link", lang), radio),
            (tr("Airtime used", lang), airtime),
            (tr("Last sync", lang), ago_or_none(facts.last_sync, now, lang)),
            (tr("Bridge last seen", lang), ago_or_none(facts.bridge_last_seen, now, lang)),
            (tr("Messages", lang), str(len(snapshot.messages))),
        ],
        lang,
    )
