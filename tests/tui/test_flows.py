"""The main flows, driven with Textual's Pilot: against a real node (``entraide node
--offline`` in a subprocess) for check-in, help requests, claims and alerts; against the
scripted node where only the app's own behaviour is tested."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea
from tui_scenario import (
    NEIGHBOURS,
    FakeNode,
    RealNode,
    make_home,
    node_pid,
    pub,
    sign,
    stop_pid,
)

from protocol import kinds as k
from protocol.state import RequestStatus
from tui.app import EntraideApp
from tui.link import LinkState, NodeLauncher, control_connection
from tui.screens.compose import ComposeScreen
from tui.screens.details import MessageScreen
from tui.widgets.board_table import BoardTable

SIZE = (80, 24)


async def until(
    pilot: Pilot[Any], predicate: Callable[[], object], what: str, timeout: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    content = widget.content
    if isinstance(content, (Content, Text)):
        text = content.plain
    elif isinstance(content, str):
        text = content
    else:
        console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
        console.print(content)
        text = console.export_text()
    return text.replace("\u00a0", " ")


def app_on(node: RealNode, lang: str = "en") -> EntraideApp:
    return EntraideApp(control_connection(node.home), lang=lang)


def envelopes_of(node: RealNode, kind: k.Kind) -> list[Any]:
    return [e for e in node.envelopes() if e.kind is kind]


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, EntraideApp)
    await until(pilot, lambda: app.snapshot is not None, "the first board")
    await pilot.pause()


def select_row(table: BoardTable, key: str) -> None:
    table.focus()
    table.move_cursor(row=table.get_row_index(key))


# --- against a real node -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_check_in_with_one_key(real_node: RealNode) -> None:
    app = app_on(real_node)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "No news given yet" in text_of(app.screen.query_one("#my-household", Static))
        await pilot.press("s")
        await until(pilot, lambda: app.snapshot and app.snapshot.my_checkin, "my check-in")
        assert app.snapshot is not None and app.snapshot.my_checkin is not None
        assert app.snapshot.my_checkin.status is k.CheckInStatus.SAFE
        await pilot.pause()
        assert "safe" in text_of(app.screen.query_one("#my-household", Static))
    mine = [
        e
        for e in envelopes_of(real_node, k.Kind.CHECKIN)
        if e.author == app.snapshot.me and not e.body.on_behalf
    ]
    assert [e.body.status for e in mine] == [k.CheckInStatus.SAFE]


@pytest.mark.asyncio
async def test_post_a_help_request(real_node: RealNode) -> None:
    app = app_on(real_node)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3", "a")  # the help board, then "ask for help"
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the form")
        form = app.screen
        form.query_one("#field-need", Select).value = k.Need.SHELTER
        form.query_one("#field-urgency", Select).value = k.RequestUrgency.HIGH
        form.query_one("#field-people", Input).value = "2"
        form.query_one("#field-place", Input).value = "8 rue Haute"
        form.query_one("#field-text", TextArea).text = "Toit arraché, deux enfants"
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: any(
                v.request.text == "Toit arraché, deux enfants" for v in app.snapshot.board.requests
            ),
            "the new request on the board",
        )
        table = app.screen.query_one("#requests", BoardTable)
        assert any("8 rue Haute" in table.row_text(key.value) for key in table.rows)
    (request,) = [
        e
        for e in envelopes_of(real_node, k.Kind.HELP_REQUEST)
        if e.body.text == "Toit arraché, deux enfants"
    ]
    assert (request.body.need, request.body.urgency, request.body.people) == (
        k.Need.SHELTER,
        k.RequestUrgency.HIGH,
        2,
    )


@pytest.mark.asyncio
async def test_claim_and_resolve_a_request(real_node: RealNode) -> None:
    request = sign(
        k.HelpRequest(need=k.Need.TRANSPORT, text="Conduire Mme Roux à l'hôpital"),
        NEIGHBOURS[2],
        0,
        now=int(time.time()),
    )
    real_node.submit([request])
    key = request.id.hex()
    app = app_on(real_node)

    def status() -> RequestStatus | None:
        snapshot = app.snapshot
        views = [] if snapshot is None else snapshot.board.requests
        return next((v.status for v in views if v.envelope.id == request.id), None)

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause()
        select_row(app.screen.query_one("#requests", BoardTable), key)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the claim form")
        app.screen.query_one("#field-eta_minutes", Input).value = "30m"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: status() is RequestStatus.CLAIMED, "the claim")
        assert "claimed by you" in app.screen.query_one("#requests", BoardTable).row_text(key)

        select_row(app.screen.query_one("#requests", BoardTable), key)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the resolution form")
        app.screen.query_one("#field-text", Input).value = "Déposée à 15 h"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: status() is RequestStatus.RESOLVED, "the resolution")

    (claim,) = [e for e in envelopes_of(real_node, k.Kind.CLAIM) if request.id in e.refs]
    (resolution,) = [e for e in envelopes_of(real_node, k.Kind.RESOLUTION) if request.id in e.refs]
    assert claim.body.eta_minutes == 30
    # Both last as long as the request: the claimer's right to close it survives pruning.
    assert claim.expires >= request.expires and resolution.expires >= request.expires


@pytest.mark.asyncio
async def test_read_an_alert(real_node: RealNode) -> None:
    app = app_on(real_node, lang="fr")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        banner = text_of(app.screen.query_one("AlertBanner", Static))
        assert "GRAVE" in banner and "OFFICIELLE" in banner
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one("#alerts-table", BoardTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MessageScreen), "the alert in full")
        text = text_of(app.screen.query_one("#details", Static))
        assert "Quittez les rez-de-chaussée des quais avant 18 h." in text
        assert "consigne" in text  # field names in French
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MessageScreen), "the list again")


@pytest.mark.asyncio
async def test_live_updates_are_pushed_by_the_node(real_node: RealNode) -> None:
    app = app_on(real_node)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        incident = sign(
            k.Incident(type=k.IncidentType.GAS_LEAK, severity=k.Severity.SEVERE, place="rue Basse"),
            NEIGHBOURS[3],
            0,
            now=int(time.time()),
        )
        real_node.submit([incident])
        await until(
            pilot,
            lambda: any(v.envelope.id == incident.id for v in app.snapshot.board.incidents),
            "the incident a neighbour just reported",
            timeout=5,
        )


@pytest.mark.asyncio
async def test_the_app_starts_the_node_and_says_so() -> None:
    home = make_home()
    app = EntraideApp(control_connection(home), launcher=NodeLauncher(home, offline=True))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link_state is LinkState.UP, "the node", timeout=30)
            notices = [str(n.message) for n in app._notifications]
            assert any("Node started in the background" in n and "node.log" in n for n in notices)
            assert app.started_node is not None
            assert node_pid(home) == app.started_node.pid
        # The node keeps running once the app has quit.
        assert app.started_node.poll() is None
    finally:
        stop_pid(node_pid(home))
        if app.started_node is not None:
            app.started_node.wait(10)
        shutil.rmtree(home, ignore_errors=True)


# --- against the scripted node -------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_form_says_what_is_wrong_and_posts_nothing(fake_node: FakeNode) -> None:
    app = EntraideApp(fake_node.connect, lang="fr", monotonic=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("OptionList").highlighted = 1  # help request
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the form")
        app.screen.query_one("#field-people", Input).value = "beaucoup"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "choisissez une valeur" in text_of(app.screen.query_one("#error-need", Static))
        assert "« beaucoup » n'est pas un nombre entier" in text_of(
            app.screen.query_one("#error-people", Static)
        )
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen)
    assert fake_node.posted == []


@pytest.mark.asyncio
async def test_filters_of_the_help_board(fake_node: FakeNode) -> None:
    app = EntraideApp(fake_node.connect, monotonic=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#requests", BoardTable)
        assert table.row_count == 4
        app.screen.query_one("#need", Select).value = k.Need.WATER
        await pilot.pause()
        assert table.row_count == 1
        app.screen.query_one("#need", Select).clear()
        app.screen.query_one("#urgency", Select).value = k.RequestUrgency.CRITICAL
        await pilot.pause()
        assert table.row_count == 1
        app.screen.query_one("#urgency", Select).clear()
        await pilot.press("m")  # only mine: I neither asked nor claimed anything
        await pilot.pause()
        assert table.row_count == 0
        offers = app.screen.query_one("#offers", BoardTable)
        assert offers.row_count == 1  # my water offer


@pytest.mark.asyncio
async def test_switching_language_and_contrast(fake_node: FakeNode) -> None:
    app = EntraideApp(fake_node.connect, lang="en", monotonic=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "Overview" in text_of(app.screen.query_one("#sections", Static))
        assert "Français" in text_of(app.screen.query_one("KeyBar", Static))
        await pilot.press("l")
        await until(
            pilot,
            lambda: "Vue d'ensemble" in text_of(app.screen.query_one("#sections", Static)),
            "French",
        )
        keys = text_of(app.screen.query_one("KeyBar", Static))
        assert "Je suis en sécurité" in keys and "English" in keys
        await pilot.press("3")
        await pilot.pause()
        assert "Demandes d'aide" in app.screen.query_one("#requests-box").border_title
        await pilot.press("ctrl+t")
        assert app.theme == "entraide-contrast"


@pytest.mark.asyncio
async def test_the_app_tells_when_the_node_goes_away(fake_node: FakeNode) -> None:
    app = EntraideApp(fake_node.connect, monotonic=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        fake_node.stop()
        await until(pilot, lambda: app.link_state is LinkState.DOWN, "the link to go down")
        await pilot.pause()
        assert "no node" in text_of(app.screen.query_one("#node-state", Static))
        fake_node.running = True
        await until(
            pilot, lambda: app.link_state is LinkState.UP, "the link to come back", timeout=5
        )


@pytest.mark.asyncio
async def test_visiting_a_neighbour_prefills_the_check_in(fake_node: FakeNode) -> None:
    app = EntraideApp(fake_node.connect, monotonic=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#not-heard", BoardTable)
        select_row(table, pub(NEIGHBOURS[1]).hex())
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the check-in form")
        form = app.screen
        assert form.query_one("#field-subject_key", Input).value == pub(NEIGHBOURS[1]).hex()
        form.query_one("#field-status", Select).value = k.CheckInStatus.NOBODY_HOME
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake_node.posted, "the check-in")
    (posted,) = fake_node.posted
    assert posted["kind"] == "checkin" and posted["body"]["status"] == "nobody_home"
