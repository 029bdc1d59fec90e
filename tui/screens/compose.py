"""Compose a message of any kind: a form built from the kind's fields, checked before it is
sent (field by field, then the kind's own rules); it returns the checked :class:`Draft`."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from protocol import kinds as k
from protocol.envelope import Envelope
from protocol.i18n import label, tr

from ..forms import (
    COMPOSABLE,
    TARGETED,
    Draft,
    FormField,
    field_hint,
    field_label,
    form_fields,
    parse_form,
)
from ..widgets.keybar import KeyBar

#: Finds the message a new one refers to from the id typed: the message, or why not.
TargetFinder = Callable[[str], Envelope | str]

TARGET = "target"


class ComposeScreen(ModalScreen[Draft | None]):
    CSS_PATH = "compose.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "post", "Post", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        kind: k.Kind,
        lang: str,
        *,
        values: Mapping[str, Any] | None = None,
        refs: tuple[bytes, ...] = (),
        about: str = "",
        find_target: TargetFinder | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.lang = lang
        self.values = dict(values or {})
        self.refs = refs
        self.about = about
        self.find_target = find_target
        self.fields = form_fields(kind)

    def on_mount(self) -> None:
        # Focusing the first field scrolls it to the top: show its label too.
        self.call_after_refresh(
            self.query_one("#fields", VerticalScroll).scroll_home, animate=False
        )

    @property
    def asks_target(self) -> bool:
        return self.kind in TARGETED and not self.refs

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="compose-window") as window:
            window.border_title = tr("New {kind}", lang, kind=label(self.kind, lang))
            if self.about:
                yield Static(Text(self.about), id="about")
            with VerticalScroll(id="fields", can_focus=False):
                if self.asks_target:
                    with Vertical(classes="field"):
                        yield Label(tr("message id", lang) + " *")
                        yield Input(
                            id=f"field-{TARGET}",
                            placeholder=tr("its first 4 hex digits or more", lang),
                            compact=True,
                        )
                        yield Static(id=f"error-{TARGET}", classes="error")
                for form_field in self.fields:
                    with Vertical(classes="field"):
                        yield from self._field_widgets(form_field)
            yield Static(id="form-error", classes="error")
            with Horizontal(id="buttons"):
                yield Button(tr("Post", lang), id="post", variant="primary", compact=True)
                yield Button(tr("Cancel", lang), id="cancel", compact=True)
            yield KeyBar()

    def _field_widgets(self, form_field: FormField) -> ComposeResult:
        lang, name = self.lang, form_field.name
        title = field_label(name, lang) + (" *" if form_field.required else "")
        value = self.values.get(name, form_field.default)
        widget_id = f"field-{name}"
        if form_field.type == "bool":
            yield Checkbox(title, value=bool(value), id=widget_id, compact=True)
        else:
            yield Label(title)
            if form_field.type == "enum":
                yield Select(
                    [(label(member, lang), member) for member in form_field.choices],
                    value=value if isinstance(value, enum.IntEnum) else Select.NULL,
                    prompt=tr("Choose…", lang),
                    allow_blank=value is None,
                    id=widget_id,
                    compact=True,
                )
            elif form_field.type == "multiline":
                yield TextArea(str(value or ""), id=widget_id, compact=True, classes="multiline")
            else:
                given = self.values.get(name)
                yield Input(
                    "" if given is None else str(given),
                    placeholder=field_hint(form_field, lang),
                    id=widget_id,
                    compact=True,
                )
        yield Static(id=f"error-{name}", classes="error")

    # --- reading the form --------------------------------------------------------------

    def form_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for form_field in self.fields:
            widget = self.query_one(f"#field-{form_field.name}", Widget)
            if isinstance(widget, Select):
                values[form_field.name] = None if widget.value is Select.NULL else widget.value
            elif isinstance(widget, Checkbox):
                values[form_field.name] = widget.value
            elif isinstance(widget, TextArea):
                values[form_field.name] = widget.text
            elif isinstance(widget, Input):
                values[form_field.name] = widget.value
        return values

    def _target(self, errors: dict[str, str]) -> tuple[bytes, ...]:
        if not self.asks_target:
            return self.refs
        text = self.query_one(f"#field-{TARGET}", Input).value.strip()
        if not text:
            errors[TARGET] = tr("must not be empty", self.lang)
            return ()
        found = self.find_target(text) if self.find_target is not None else text
        if isinstance(found, str):
            errors[TARGET] = found
            return ()
        return (found.id,)

    def action_post(self) -> None:
        errors: dict[str, str] = {}
        refs = self._target(errors)
        result = parse_form(self.kind, self.form_values(), self.lang, refs=refs)
        errors.update(result.errors)
        for error in self.query(".error").results(Static):
            error.update("")
            error.display = False
        if errors or result.draft is None:
            self._show_errors(errors)
            return
        self.dismiss(result.draft)

    def _show_errors(self, errors: Mapping[str, str]) -> None:
        first: Widget | None = None
        for name, text in errors.items():
            target = "#form-error" if name == "" else f"#error-{name}"
            error = self.query_one(target, Static)
            error.update(Text(text))
            error.display = True
            if first is None and name:
                first = self.query_one(f"#field-{name}", Widget)
        if first is not None:
            first.focus()
            if isinstance(first.parent, Widget):  # show the field's label and error too
                fields = self.query_one("#fields", VerticalScroll)
                fields.scroll_to_widget(first.parent, animate=False)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#post")
    def _post_pressed(self) -> None:
        self.action_post()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()


class PickKindScreen(ModalScreen[k.Kind | None]):
    """Which kind of message to write."""

    CSS_PATH = "compose.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-window") as window:
            window.border_title = tr("Post a message", self.lang)
            yield OptionList(
                *[Option(label(kind, self.lang).capitalize(), id=kind.name) for kind in COMPOSABLE],
                id="kinds",
            )
            yield KeyBar()

    @on(OptionList.OptionSelected, "#kinds")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(k.Kind[event.option.id])

    def action_cancel(self) -> None:
        self.dismiss(None)
