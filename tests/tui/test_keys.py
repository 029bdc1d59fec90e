"""Every key the app shows is described in French and in English, and keys do not clash."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from protocol.i18n_fr import FR
from tui.app import EntraideApp
from tui.screens.alerts import AlertsScreen
from tui.screens.compose import ComposeScreen, PickKindScreen
from tui.screens.details import MessageScreen
from tui.screens.help import HelpScreen
from tui.screens.identity import IdentityScreen
from tui.screens.neighbours import NeighboursScreen
from tui.screens.overview import OverviewScreen
from tui.screens.places import PlacesScreen
from tui.widgets.board_table import BoardTable
from tui.widgets.keybar import key_description

WITH_KEYS = [
    EntraideApp,
    OverviewScreen,
    AlertsScreen,
    HelpScreen,
    NeighboursScreen,
    PlacesScreen,
    IdentityScreen,
    ComposeScreen,
    PickKindScreen,
    MessageScreen,
    BoardTable,
]
LANGUAGE_NAMES = {"English", "Français"}  # each language is named in itself


def shown(cls: type) -> list[Binding]:
    return [b for b in getattr(cls, "BINDINGS", []) if isinstance(b, Binding) and b.show]


@pytest.mark.parametrize("cls", WITH_KEYS, ids=lambda c: c.__name__)
def test_every_shown_key_is_described_in_both_languages(cls: type) -> None:
    for binding in shown(cls):
        assert binding.description, binding
        if binding.description in LANGUAGE_NAMES:
            continue
        assert key_description(binding.description, "en") == binding.description
        french = key_description(binding.description, "fr")
        assert french in FR.values() and french != binding.description, binding.description


@pytest.mark.parametrize(
    "screen", [OverviewScreen, AlertsScreen, HelpScreen, NeighboursScreen, PlacesScreen]
)
def test_screen_keys_leave_the_app_keys_alone(screen: type) -> None:
    app_keys = {b.key for b in EntraideApp.BINDINGS if isinstance(b, Binding)}
    assert not {b.key for b in shown(screen)} & app_keys
