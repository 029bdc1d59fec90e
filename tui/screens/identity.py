"""Identity: the fingerprint to compare in person, the zone, language and display settings."""

from __future__ import annotations

import shlex

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from protocol.i18n import tr

from ..model import Snapshot
from ..text import NONE
from .base import MainScreen


class IdentityScreen(MainScreen):
    SECTION = "identity"
    CSS_PATH = "identity.tcss"

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with VerticalScroll(id="identity"):
            fingerprint = Static(id="fingerprint")
            fingerprint.border_title = tr("Your fingerprint", lang)
            yield fingerprint
            zone = Static(id="zone")
            zone.border_title = tr("Aid zone", lang)
            yield zone
            settings = Static(id="settings")
            settings.border_title = tr("Settings", lang)
            yield settings

    def show(self, snapshot: Snapshot) -> None:
        lang, facts = self.lang, snapshot.facts
        self.query_one("#fingerprint", Static).update(
            Group(
                Text(facts.fingerprint or NONE, style="bold", justify="center"),
                Text(
                    tr(
                        "Read it aloud to a neighbour who runs `entraide whoami`: if the "
                        "digits match, the key you see is really theirs.",
                        lang,
                    ),
                    style="dim",
                ),
                Text(tr("Household key: {key}", lang, key=facts.household.hex()), style="dim"),
            )
        )
        zone = Table.grid(padding=(0, 1))
        zone.add_column(style="bold", no_wrap=True)
        zone.add_column()
        zone.add_row(tr("{label}:", lang, label=tr("name", lang)), facts.zone_name or NONE)
        zone.add_row(tr("{label}:", lang, label=tr("id", lang)), facts.zone_id or NONE)
        bridges = NONE if facts.bridge_keys is None else str(len(facts.bridge_keys))
        zone.add_row(tr("{label}:", lang, label=tr("trusted bridges", lang)), bridges)
        join = f"entraide init --zone-id {facts.zone_id} --zone-name {shlex.quote(facts.zone_name)}"
        self.query_one("#zone", Static).update(
            Group(
                zone,
                Text(tr("A neighbour joins this zone with:", lang)),
                Text("  " + join, style="bold"),
                Text(
                    tr(
                        "Zone settings are changed on the command line: entraide init --force", lang
                    ),
                    style="dim",
                ),
            )
        )
        settings = Table.grid(padding=(0, 1))
        settings.add_column(style="bold", no_wrap=True)
        settings.add_column()
        settings.add_row(
            tr("{label}:", lang, label=tr("language", lang)),
            tr("English (press l for French)", lang),
        )
        contrast = "entraide-contrast" in (self.app.theme or "")
        settings.add_row(
            tr("{label}:", lang, label=tr("high contrast", lang)),
            tr("on (press ctrl+t to turn off)", lang)
            if contrast
            else tr("off (press ctrl+t to turn on)", lang),
        )
        self.query_one("#settings", Static).update(settings)
