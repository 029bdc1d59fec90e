"""Snapshots of the main screens at 80×24, in French and in English, against the scripted
node (fixed clock, fixed keys: every id and time is the same on every run).

Update them after a deliberate change of the screens with
``pytest tests/tui/test_snapshots.py --snapshot-update``, and look at the report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_scenario import FakeNode

from tui.app import EntraideApp

SIZE = (80, 24)
SCREENS = ["overview", "alerts", "help", "neighbours", "places", "identity", "compose"]
KEYS = {
    "overview": "1",
    "alerts": "2",
    "help": "3",
    "neighbours": "4",
    "places": "5",
    "identity": "6",
}


def before(screen: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EntraideApp)
        while app.snapshot is None:
            await pilot.pause(0.02)
        await pilot.pause()
        if screen == "compose":
            await pilot.press("3", "a")  # ask for help, from the help board
        else:
            await pilot.press(KEYS[screen])
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare: Any, screen: str, lang: str) -> None:
    app = EntraideApp(FakeNode().connect, lang=lang, monotonic=lambda: 0.0)
    assert snap_compare(app, terminal_size=SIZE, run_before=before(screen))


def test_high_contrast_overview(snap_compare: Any) -> None:
    app = EntraideApp(FakeNode().connect, lang="fr", high_contrast=True, monotonic=lambda: 0.0)
    assert snap_compare(app, terminal_size=SIZE, run_before=before("overview"))
