"""The key bar: the bindings that work here, in the user's language, wrapped over as many
lines as the terminal needs (Textual's Footer scrolls sideways at 80 columns instead).
Clicking a key runs its action: the mouse is optional, never required."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Static

from protocol.i18n import tr

from ..shared import shared


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        background: $footer-background;
        color: $footer-foreground;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        return []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.watch(self.app, "lang", lambda _: self.refresh_keys(), init=False)
        self.refresh_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh_keys()

    def refresh_keys(self) -> None:
        lang = shared(self).lang
        parts = []
        seen_actions = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            namespace = "app" if active.node is self.app else "screen"
            key = escape(self.app.get_key_display(binding))
            # No-break spaces: a line ends between keys, never inside a description.
            description = escape(key_description(binding.description, lang)).replace(" ", "\u00a0")
            style = "$footer-key-foreground" if active.enabled else "dim"
            parts.append(
                f"[@click={namespace}.{binding.action}][bold {style}]{key}[/] {description}[/]"
            )
        self.update(Content.from_markup("  ".join(parts)))


def key_description(description: str, lang: str) -> str:
    """A binding's description (English, as written in BINDINGS) in ``lang``."""
    descriptions = {
        "Add resource point": tr("Add resource point", lang),
        "Ask for help": tr("Ask for help", lang),
        "Cancel": tr("Cancel", lang),
        "Claim": tr("Claim", lang),
        "Close": tr("Close", lang),
        "Close mine": tr("Close mine", lang),
        "Comment": tr("Comment", lang),
        "Contrast": tr("Contrast", lang),
        "Filter": tr("Filter", lang),
        "I saw it too": tr("I saw it too", lang),
        "I visited them": tr("I visited them", lang),
        "I'm safe": tr("I'm safe", lang),
        "Mark": tr("Mark", lang),
        "My news": tr("My news", lang),
        "New alert": tr("New alert", lang),
        "Offer help": tr("Offer help", lang),
        "Only mine": tr("Only mine", lang),
        "Open": tr("Open", lang),
        "Post": tr("Post", lang),
        "Quit": tr("Quit", lang),
        "Report incident": tr("Report incident", lang),
        "Resolve": tr("Resolve", lang),
        "Update mine": tr("Update mine", lang),
        # Each language is named in itself.
        "English": "English",
        "Français": "Français",
    }
    return descriptions.get(description, description)
