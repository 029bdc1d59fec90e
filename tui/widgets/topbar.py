"""The top of every main screen: where you are, how the node is, and the most serious alert."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from protocol.i18n import label, tr

from ..link import LinkState
from ..model import Snapshot
from ..shared import shared
from ..text import BANNER_STYLE, ago

#: The main screens, in the order of their number keys.
SECTIONS = ("overview", "alerts", "help", "neighbours", "places", "identity")


def section_title(section: str, lang: str) -> str:
    return {
        "overview": tr("Overview", lang),
        "alerts": tr("Alerts", lang),
        "help": tr("Help", lang),
        "neighbours": tr("Neighbours", lang),
        "places": tr("Places", lang),
        "identity": tr("Identity", lang),
    }[section]


class TopBar(Static):
    """Section tabs (a number key or a click for each) and the node's state."""

    DEFAULT_CSS = """
    TopBar {
        height: 1;
        background: $panel;
        layout: horizontal;
    }
    TopBar #sections { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    TopBar #node-state { width: auto; padding: 0 1; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="sections")
        yield Static(id="node-state")

    def on_mount(self) -> None:
        for name in ("lang", "link_state", "snapshot"):
            self.watch(self.app, name, lambda _: self.refresh_bar(), init=False)
        self.refresh_bar()

    def refresh_bar(self) -> None:
        state = shared(self)
        lang = state.lang
        tabs = []
        for number, section in enumerate(SECTIONS, 1):
            title = escape(section_title(section, lang))
            style = "reverse bold" if section == self.current else ""
            tabs.append(
                f"[@click=app.show('{section}')][{style}] {number} {title} [/][/]"
                if style
                else f"[@click=app.show('{section}')] [bold]{number}[/] {title}[/]"
            )
        self.query_one("#sections", Static).update(Content.from_markup("".join(tabs)))
        self.query_one("#node-state", Static).update(
            node_state(state.link_state, state.snapshot, lang)
        )


def node_state(link: LinkState, snapshot: Snapshot | None, lang: str) -> Text:
    """A few words on the node: connected (with its peers), starting, or missing."""
    if link is LinkState.UP:
        facts = snapshot.facts if snapshot is not None else None
        if facts is None:
            return Text("● " + tr("node", lang), style="green")
        if not facts.wifi:
            return Text("● " + tr("no Wi-Fi", lang), style="green")
        return Text("● " + tr("{n} peers", lang, n=facts.peers or 0), style="green")
    if link is LinkState.STARTING:
        return Text("◌ " + tr("starting the node…", lang), style="yellow")
    if link is LinkState.CONNECTING:
        return Text("◌ " + tr("connecting…", lang), style="yellow")
    return Text("✕ " + tr("no node", lang), style="bold red")


class AlertBanner(Static):
    """The most serious active real alert, on one line; hidden when there is none."""

    DEFAULT_CSS = """
    AlertBanner {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        display: none;
    }
    AlertBanner.-shown { display: block; }
    """

    def on_mount(self) -> None:
        for name in ("lang", "snapshot"):
            self.watch(self.app, name, lambda _: self.refresh_banner(), init=False)
        self.refresh_banner()

    def refresh_banner(self) -> None:
        state = shared(self)
        snapshot, lang = state.snapshot, state.lang
        real = [] if snapshot is None else [a for a in snapshot.board.alerts if not a.exercise]
        self.set_class(bool(real), "-shown")
        if not real or snapshot is None:
            return
        view = real[0]
        alert = view.alert
        source = tr("OFFICIAL", lang) if view.official else tr("community", lang)
        words = [
            "⚠",
            label(alert.severity, lang).upper(),
            "·",
            source,
            "·",
            ago(view.envelope.created, snapshot.now, lang),
            "·",
        ]
        if len(real) > 1:
            words.append(tr("({n} alerts)", lang, n=len(real)))
        words.append(alert.headline)
        style = "bold black on green" if alert.all_clear else BANNER_STYLE[alert.severity]
        self.update(Text(" ".join(words), style=style, no_wrap=True, overflow="ellipsis"))
